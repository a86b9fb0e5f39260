"""A Camunda-style job executor running SO's "create service instance" flow.

The process has an async continuation after every building block, so each
building block ends in a *save point*: one transaction of the Camunda
database that deletes the job just executed, moves the execution to the
activity completed, updates the process variables, writes history and
inserts the next job. What a worker did since the last save point is lost
with it; what was saved is where the next worker starts.

Job acquisition is Camunda's: read due, unlocked (or expired) jobs, then
lock one with ``UPDATE ... SET LOCK_OWNER_, LOCK_EXP_TIME_, REV_ = REV_ + 1
WHERE ID_ = ? AND REV_ = ?``; zero rows means another worker won it (an
optimistic-locking conflict, not an error). Every later write of the job
carries the same ``REV_`` check, so a worker whose lock expired and was
taken over cannot save over the new owner's work.

When a site is lost, the workers there die with their locks held; once
those locks expire, workers at the other sites acquire the jobs and resume
the flows from their last save point. That is SO's resumption story.

A building block's external effect, the request DB progress written
through SO's request DB adapter, happens before its save point and is
idempotent (progress only grows), since a resumed flow may repeat it.
"""

from __future__ import annotations

import datetime
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mdbc_py.config import Config
from mdbc_py.workload.model import (
    BUILDING_BLOCKS,
    COMPLETE,
    FAILED,
    IN_PROGRESS,
    PROCESS_KEY,
    derived_id,
    now,
    q,
)
from mdbc_py.workload.schema import process_definition_id
from mdbc_py.workload.session import CommitHook, Crashed, DbSession
from mdbc_py.workload.stats import Stats

log = logging.getLogger(__name__)

__all__ = ["PROCESS_KEY", "Crashed", "JobExecutor", "Started", "start_process"]

START_EVENT = "StartEvent_1"
END_EVENT = "EndEvent_1"
JOB_RETRIES = 3
RETRY_DELAY = datetime.timedelta(milliseconds=500)
"""Camunda's default is R3/PT5M; a demo cannot wait five minutes."""


class LockLostError(Exception):
    """The job's ``REV_`` moved on: another worker holds it now (optimistic locking)."""


@dataclass(frozen=True)
class Started:
    """A process instance the API handler started."""

    process_instance_id: str
    site: str
    at: float


@dataclass
class Job:
    """A job this worker has locked."""

    id: str
    rev: int
    process_instance_id: str
    execution_id: str
    retries: int
    exception_stack_id: str | None = None


def _ids(request_id: str) -> tuple[str, str, str]:
    """(process instance, scope execution, first job) ids of a request's process."""
    return (derived_id("pi", request_id), derived_id("exec", request_id),
            derived_id("job", request_id))  # fmt: skip


def _insert_actinst(cur: Any, db: str, pi: str, execution: str, act: str, kind: str) -> None:
    t = now()
    cur.execute(
        f"INSERT INTO {q(db, 'ACT_HI_ACTINST')} (`ID_`, `PROC_DEF_KEY_`, `PROC_DEF_ID_`, "
        "`ROOT_PROC_INST_ID_`, `PROC_INST_ID_`, `EXECUTION_ID_`, `ACT_ID_`, `ACT_NAME_`, "
        "`ACT_TYPE_`, `START_TIME_`, `END_TIME_`, `DURATION_`, `ACT_INST_STATE_`, "
        "`SEQUENCE_COUNTER_`) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, 1, 1)",
        (str(uuid.uuid4()), PROCESS_KEY, process_definition_id(), pi, pi, execution, act, act,
         kind, t, t),
    )  # fmt: skip


def _insert_job(cur: Any, db: str, job_id: str, pi: str, execution: str, act: str,
                owner: str | None, lock_until: datetime.datetime | None) -> None:  # fmt: skip
    cur.execute(
        f"INSERT INTO {q(db, 'ACT_RU_JOB')} (`ID_`, `REV_`, `TYPE_`, `LOCK_EXP_TIME_`, "
        "`LOCK_OWNER_`, `EXCLUSIVE_`, `EXECUTION_ID_`, `PROCESS_INSTANCE_ID_`, "
        "`PROCESS_DEF_ID_`, `PROCESS_DEF_KEY_`, `RETRIES_`, `HANDLER_TYPE_`, `HANDLER_CFG_`, "
        "`SUSPENSION_STATE_`, `JOB_DEF_ID_`, `PRIORITY_`, `SEQUENCE_COUNTER_`, `CREATE_TIME_`) "
        "VALUES (%s, 1, 'message', %s, %s, 1, %s, %s, %s, %s, %s, 'async-continuation', %s, 1, "
        "%s, 0, 1, %s)",
        (job_id, lock_until, owner, execution, pi, process_definition_id(), PROCESS_KEY,
         JOB_RETRIES, f"transition-notify-listener-end${act}", derived_id("jobdef", act), now()),
    )  # fmt: skip


def _job_log(cur: Any, db: str, job: Job, act: str, state: int, msg: str | None = None) -> None:
    """A row of ACT_HI_JOB_LOG (Camunda's job states: 0 created, 1 failed, 2 successful)."""
    cur.execute(
        f"INSERT INTO {q(db, 'ACT_HI_JOB_LOG')} (`ID_`, `TIMESTAMP_`, `JOB_ID_`, `JOB_RETRIES_`, "
        "`JOB_EXCEPTION_MSG_`, `JOB_STATE_`, `JOB_DEF_ID_`, `JOB_DEF_TYPE_`, `ACT_ID_`, "
        "`ROOT_PROC_INST_ID_`, `EXECUTION_ID_`, `PROCESS_INSTANCE_ID_`, `PROCESS_DEF_ID_`, "
        "`PROCESS_DEF_KEY_`) VALUES (%s, %s, %s, %s, %s, %s, %s, 'async-continuation', %s, %s, "
        "%s, %s, %s, %s)",
        (str(uuid.uuid4()), now(), job.id, job.retries, msg, state, derived_id("jobdef", act),
         act, job.process_instance_id, job.execution_id, job.process_instance_id,
         process_definition_id(), PROCESS_KEY),
    )  # fmt: skip


def start_process(session: DbSession, db: str, request_id: str, instance_id: str) -> Started:
    """Create the process instance of a request and its first job, in one transaction.

    Idempotent: the ids derive from the request id, and a process already
    in the history is not started twice.
    """
    pi, execution, job = _ids(request_id)
    procdef = process_definition_id()
    blob = json.dumps({"requestId": request_id, "serviceInstanceId": instance_id,
                       "flow": list(BUILDING_BLOCKS)}).encode()  # fmt: skip

    def work(cur: Any) -> None:
        cur.execute(f"SELECT 1 FROM {q(db, 'ACT_HI_PROCINST')} WHERE `ID_` = %s", (pi,))
        if cur.fetchone():
            return
        t = now()
        rows = [(pi, None, None, 0), (execution, pi, START_EVENT, 1)]
        for ident, parent, act, active in rows:
            cur.execute(
                f"INSERT INTO {q(db, 'ACT_RU_EXECUTION')} (`ID_`, `REV_`, `ROOT_PROC_INST_ID_`, "
                "`PROC_INST_ID_`, `BUSINESS_KEY_`, `PARENT_ID_`, `PROC_DEF_ID_`, `ACT_ID_`, "
                "`IS_ACTIVE_`, `IS_CONCURRENT_`, `IS_SCOPE_`, `IS_EVENT_SCOPE_`, "
                "`SUSPENSION_STATE_`, `CACHED_ENT_STATE_`, `SEQUENCE_COUNTER_`) "
                "VALUES (%s, 1, %s, %s, %s, %s, %s, %s, %s, 0, 1, 0, 1, 0, 1)",
                (ident, pi, pi, request_id, parent, procdef, act, active),
            )
        array = derived_id("bytes", request_id)
        cur.execute(
            f"INSERT INTO {q(db, 'ACT_GE_BYTEARRAY')} (`ID_`, `REV_`, `NAME_`, `BYTES_`, "
            "`GENERATED_`, `TYPE_`, `CREATE_TIME_`, `ROOT_PROC_INST_ID_`) "
            "VALUES (%s, 1, 'bpmnRequest', %s, 0, 2, %s, %s)",
            (array, blob, t, pi),
        )
        variables = [
            ("mso-request-id", "string", pi, None, None, request_id, None),
            ("serviceInstanceId", "string", pi, None, None, instance_id, None),
            ("bpmnRequest", "bytes", pi, None, None, None, array),
            ("completedBuildingBlocks", "long", pi, 0, None, None, None),
            ("progressRatio", "double", pi, None, 0.0, None, None),
            ("currentBuildingBlock", "string", execution, None, None, START_EVENT, None),
        ]
        cur.executemany(
            f"INSERT INTO {q(db, 'ACT_RU_VARIABLE')} (`ID_`, `REV_`, `TYPE_`, `NAME_`, "
            "`EXECUTION_ID_`, `PROC_INST_ID_`, `PROC_DEF_ID_`, `LONG_`, `DOUBLE_`, `TEXT_`, "
            "`BYTEARRAY_ID_`, `VAR_SCOPE_`, `SEQUENCE_COUNTER_`, `IS_CONCURRENT_LOCAL_`) "
            "VALUES (%s, 1, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 1, 0)",
            [(derived_id(scope, name), kind, name, scope, pi, procdef, lng, dbl, text, barr, scope)
             for name, kind, scope, lng, dbl, text, barr in variables],
        )  # fmt: skip
        cur.execute(
            f"INSERT INTO {q(db, 'ACT_HI_PROCINST')} (`ID_`, `PROC_INST_ID_`, `BUSINESS_KEY_`, "
            "`PROC_DEF_KEY_`, `PROC_DEF_ID_`, `START_TIME_`, `START_ACT_ID_`, "
            "`ROOT_PROC_INST_ID_`, `STATE_`) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, 'ACTIVE')",
            (pi, pi, request_id, PROCESS_KEY, procdef, t, START_EVENT, pi),
        )
        _insert_actinst(cur, db, pi, execution, START_EVENT, "startEvent")
        _insert_job(cur, db, job, pi, execution, START_EVENT, None, None)

    session.transaction(work)
    return Started(pi, session.last_site or session.home, time.monotonic())


class JobExecutor:
    """One job executor thread: acquire, execute to completion or failure, repeat."""

    def __init__(
        self,
        cfg: Config,
        camunda_db: str,
        request_db: str,
        home: str,
        name: str,
        stats: Stats,
        crashed: threading.Event,
        stop: threading.Event,
        on_commit: CommitHook,
        lock_seconds: float = 5.0,
        step_seconds: float = 0.05,
        fail_rate: float = 0.02,
        idle_seconds: float = 0.1,
        on_retry: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.db = camunda_db
        self.request_db = request_db
        self.owner = f"{name}-{uuid.uuid4().hex[:6]}"
        self.stats = stats
        self.stop = stop
        self.lock = datetime.timedelta(seconds=lock_seconds)
        self.step_seconds = step_seconds
        self.fail_rate = fail_rate
        self.idle_seconds = idle_seconds
        self.rng = random.Random()
        self.camunda = DbSession(cfg, home, camunda_db, crashed, on_commit, on_retry)
        self.requests = DbSession(cfg, home, request_db, crashed, on_commit, on_retry)

    # -- the loop ---------------------------------------------------------------

    def run(self) -> None:
        """Work until ``stop`` is set; a crash ends the thread where it stands."""
        try:
            while not self.stop.is_set():
                try:
                    job = self.acquire()
                    if job is None:
                        self.stop.wait(self.idle_seconds)
                        continue
                    self.execute(job)
                except LockLostError:
                    self.stats.add("locks_lost")
                except Crashed:
                    raise
                except Exception:
                    # Retries exhausted or a bug: a job this worker held stays locked
                    # until it expires, then the flow resumes, as after a Camunda crash.
                    log.exception("%s: job execution failed", self.owner)
                    self.stats.add("errors")
                    self.stop.wait(self.idle_seconds)
        except Crashed:
            self.stats.add("crashed")
            return
        finally:
            if not self.camunda.crashed.is_set():
                self.camunda.close()
                self.requests.close()

    # -- acquisition --------------------------------------------------------------

    def acquire(self) -> Job | None:
        """Lock one due job (Camunda's acquisition, see the module docstring)."""
        db = self.db

        conflicts = 0

        def work(cur: Any) -> tuple[Job, bool] | None:
            nonlocal conflicts
            conflicts = 0
            t = now()
            cur.execute(
                f"SELECT `ID_`, `REV_`, `PROCESS_INSTANCE_ID_`, `EXECUTION_ID_`, `RETRIES_`, "
                f"`LOCK_OWNER_`, `EXCEPTION_STACK_ID_` FROM {q(db, 'ACT_RU_JOB')} "
                "WHERE `RETRIES_` > 0 AND `SUSPENSION_STATE_` = 1 "
                "AND (`DUEDATE_` IS NULL OR `DUEDATE_` <= %s) "
                "AND (`LOCK_OWNER_` IS NULL OR `LOCK_EXP_TIME_` < %s) "
                "ORDER BY `PRIORITY_` DESC, `CREATE_TIME_` LIMIT 8",
                (t, t),
            )
            rows = list(cur.fetchall())
            self.rng.shuffle(rows)
            for ident, rev, pi, execution, retries, previous, stack in rows:
                locked = cur.execute(
                    f"UPDATE {q(db, 'ACT_RU_JOB')} SET `LOCK_OWNER_` = %s, `LOCK_EXP_TIME_` = %s, "
                    "`REV_` = `REV_` + 1 WHERE `ID_` = %s AND `REV_` = %s",
                    (self.owner, t + self.lock, ident, rev),
                )
                if locked == 1:
                    job = Job(ident, int(rev) + 1, pi, execution, int(retries), stack)
                    return job, previous is not None
                conflicts += 1
            return None

        found = self.camunda.transaction(work, wrote=lambda found: found is not None)
        self.stats.add("acquire_conflicts", conflicts)
        if found is None:
            return None
        job, resumed = found
        self.stats.add("jobs_acquired")
        if resumed:  # its lock had expired: the worker that held it died or stalled
            self.stats.add("jobs_resumed")
        return job

    # -- execution ----------------------------------------------------------------

    def _position(self, job: Job) -> tuple[int, str]:
        """(index of the next building block, request id) from the saved execution."""
        db = self.db

        def work(cur: Any) -> tuple[str | None, str]:
            cur.execute(
                f"SELECT `ACT_ID_` FROM {q(db, 'ACT_RU_EXECUTION')} WHERE `ID_` = %s",
                (job.execution_id,),
            )
            row = cur.fetchone()
            cur.execute(
                f"SELECT `TEXT_` FROM {q(db, 'ACT_RU_VARIABLE')} "
                "WHERE `VAR_SCOPE_` = %s AND `NAME_` = 'mso-request-id'",
                (job.process_instance_id,),
            )
            var = cur.fetchone()
            if row is None or var is None:
                raise LockLostError(f"job {job.id}: its process instance is gone")
            return row[0], str(var[0])

        act, request_id = self.camunda.read(work)
        done = (START_EVENT, *BUILDING_BLOCKS)
        return done.index(act) if act in done else 0, request_id

    def execute(self, job: Job) -> None:
        """Run the flow from the job's save point to its end (or to a failure)."""
        index, request_id = self._position(job)
        while index < len(BUILDING_BLOCKS):
            step = BUILDING_BLOCKS[index]
            if self.stop.wait(self.step_seconds * (0.5 + self.rng.random())):
                return  # shutting down: the lock expires and someone resumes the flow
            if self.rng.random() < self.fail_rate:
                self.fail(job, step, request_id, f"{step}: simulated error from a southbound call")
                return
            last = index == len(BUILDING_BLOCKS) - 1
            self.report_progress(request_id, index, last)
            if last:
                self.complete(job, step)
                return
            job = self.save_point(job, step, index)
            index += 1

    def report_progress(self, request_id: str, index: int, last: bool) -> None:
        """The building block's request DB update (idempotent: may run twice on resume)."""
        db = self.request_db
        progress = 100 if last else int(100 * (index + 1) / (len(BUILDING_BLOCKS) + 1))
        step = BUILDING_BLOCKS[index]

        def work(cur: Any) -> None:
            t = now()
            if last:
                cur.execute(
                    f"UPDATE {q(db, 'infra_active_requests')} SET `REQUEST_STATUS` = %s, "
                    "`PROGRESS` = 100, `STATUS_MESSAGE` = %s, `FLOW_STATUS` = %s, "
                    "`END_TIME` = %s, `MODIFY_TIME` = %s, `LAST_MODIFIED_BY` = 'BPMN' "
                    "WHERE `REQUEST_ID` = %s",
                    (COMPLETE, "Service Instance was created successfully.",
                     "Successfully completed all Building Blocks", t, t, request_id),
                )  # fmt: skip
                cur.execute(
                    f"UPDATE {q(db, 'operation_status')} SET `RESULT` = 'finished', "
                    "`PROGRESS` = '100', `FINISHED_AT` = %s WHERE `OPERATION_ID` = %s",
                    (t, request_id),
                )
                return
            cur.execute(
                f"UPDATE {q(db, 'infra_active_requests')} SET "
                "`PROGRESS` = GREATEST(COALESCE(`PROGRESS`, 0), %s), `FLOW_STATUS` = %s, "
                "`MODIFY_TIME` = %s, `LAST_MODIFIED_BY` = 'BPMN' "
                "WHERE `REQUEST_ID` = %s AND `REQUEST_STATUS` = %s",
                (progress, f"Execution of {step} has completed successfully", t, request_id,
                 IN_PROGRESS),
            )  # fmt: skip

        self.requests.transaction(work)

    def _take_job(self, cur: Any, job: Job) -> None:
        """Delete the job being finished, if it is still ours (else LockLostError)."""
        gone = cur.execute(
            f"DELETE FROM {q(self.db, 'ACT_RU_JOB')} "
            "WHERE `ID_` = %s AND `REV_` = %s AND `LOCK_OWNER_` = %s",
            (job.id, job.rev, self.owner),
        )
        if gone != 1:
            raise LockLostError(f"job {job.id} was taken over by another worker")

    def _update_scope(self, cur: Any, job: Job, step: str, done: int) -> None:
        db, pi = self.db, job.process_instance_id
        cur.execute(
            f"UPDATE {q(db, 'ACT_RU_EXECUTION')} SET `ACT_ID_` = %s, `ACT_INST_ID_` = %s, "
            "`REV_` = `REV_` + 1, `SEQUENCE_COUNTER_` = `SEQUENCE_COUNTER_` + 1 WHERE `ID_` = %s",
            (step, f"{step}:{uuid.uuid4()}", job.execution_id),
        )
        cur.execute(
            f"UPDATE {q(db, 'ACT_RU_VARIABLE')} SET `LONG_` = %s, `REV_` = `REV_` + 1 "
            "WHERE `VAR_SCOPE_` = %s AND `NAME_` = 'completedBuildingBlocks'",
            (done, pi),
        )
        cur.execute(
            f"UPDATE {q(db, 'ACT_RU_VARIABLE')} SET `DOUBLE_` = %s, `REV_` = `REV_` + 1 "
            "WHERE `VAR_SCOPE_` = %s AND `NAME_` = 'progressRatio'",
            (done / len(BUILDING_BLOCKS), pi),
        )
        cur.execute(
            f"UPDATE {q(db, 'ACT_RU_VARIABLE')} SET `TEXT_` = %s, `REV_` = `REV_` + 1 "
            "WHERE `VAR_SCOPE_` = %s AND `NAME_` = 'currentBuildingBlock'",
            (step, job.execution_id),
        )
        _insert_actinst(cur, db, pi, job.execution_id, step, "serviceTask")

    def save_point(self, job: Job, step: str, index: int) -> Job:
        """Commit the step: next job (kept locked by this worker, as Camunda's exclusive
        continuation does) replaces the finished one."""
        db = self.db
        next_id = str(uuid.uuid4())

        def work(cur: Any) -> None:
            self._take_job(cur, job)
            self._update_scope(cur, job, step, index + 1)
            _job_log(cur, db, job, step, 2)
            _insert_job(cur, db, next_id, job.process_instance_id, job.execution_id, step,
                        self.owner, now() + self.lock)  # fmt: skip
            if job.exception_stack_id:
                cur.execute(f"DELETE FROM {q(db, 'ACT_GE_BYTEARRAY')} WHERE `ID_` = %s",
                            (job.exception_stack_id,))  # fmt: skip

        self.camunda.transaction(work)
        self.stats.add("save_points")
        return Job(next_id, 1, job.process_instance_id, job.execution_id, JOB_RETRIES)

    def complete(self, job: Job, step: str) -> None:
        """The last save point: the process instance ends and its runtime rows go.

        Children go before the root execution, as Camunda flushes them: InnoDB
        checks ``ACT_FK_EXE_PARENT`` (no action) before it would cascade
        ``ACT_FK_EXE_PROCINST``, so deleting the root first is refused.
        """
        db, pi = self.db, job.process_instance_id

        def work(cur: Any) -> None:
            self._take_job(cur, job)
            _insert_actinst(cur, db, pi, job.execution_id, step, "serviceTask")
            _insert_actinst(cur, db, pi, job.execution_id, END_EVENT, "noneEndEvent")
            _job_log(cur, db, job, step, 2)
            cur.execute(
                f"SELECT `BYTEARRAY_ID_` FROM {q(db, 'ACT_RU_VARIABLE')} "
                "WHERE `PROC_INST_ID_` = %s AND `BYTEARRAY_ID_` IS NOT NULL",
                (pi,),
            )
            arrays = [r[0] for r in cur.fetchall()]
            if job.exception_stack_id:
                arrays.append(job.exception_stack_id)
            cur.execute(f"DELETE FROM {q(db, 'ACT_RU_VARIABLE')} WHERE `PROC_INST_ID_` = %s", (pi,))
            for array in arrays:
                cur.execute(f"DELETE FROM {q(db, 'ACT_GE_BYTEARRAY')} WHERE `ID_` = %s", (array,))
            cur.execute(
                f"DELETE FROM {q(db, 'ACT_RU_EXECUTION')} WHERE `PROC_INST_ID_` = %s "
                "AND `ID_` <> %s",
                (pi, pi),
            )
            cur.execute(f"DELETE FROM {q(db, 'ACT_RU_EXECUTION')} WHERE `ID_` = %s", (pi,))
            t = now()
            cur.execute(
                f"UPDATE {q(db, 'ACT_HI_PROCINST')} SET `END_TIME_` = %s, "
                "`DURATION_` = TIMESTAMPDIFF(MICROSECOND, `START_TIME_`, %s) DIV 1000, "
                "`END_ACT_ID_` = %s, `STATE_` = 'COMPLETED' WHERE `ID_` = %s",
                (t, t, END_EVENT, pi),
            )

        self.camunda.transaction(work)
        self.stats.add("save_points")
        self.stats.add("completed")

    def fail(self, job: Job, step: str, request_id: str, message: str) -> None:
        """The step threw: one retry fewer, or an incident and a FAILED request when none is left.

        With retries exhausted the request DB is told first: if this worker
        dies before the job is updated, the job's lock expires and the flow
        runs again, and its end overwrites the FAILED status.
        """
        db, pi = self.db, job.process_instance_id
        exhausted = job.retries <= 1
        if exhausted:
            self._request_failed(request_id, message)
        stack = str(uuid.uuid4())
        trace = (f"org.onap.so.bpmn.core.WorkflowException: {message}\n"
                 f"\tat {step}.execute(BuildingBlock.java:42)\n").encode()  # fmt: skip

        def work(cur: Any) -> None:
            t = now()
            cur.execute(
                f"INSERT INTO {q(db, 'ACT_GE_BYTEARRAY')} (`ID_`, `REV_`, `NAME_`, `BYTES_`, "
                "`GENERATED_`, `TYPE_`, `CREATE_TIME_`, `ROOT_PROC_INST_ID_`) "
                "VALUES (%s, 1, 'job.exceptionByteArray', %s, 1, 3, %s, %s)",
                (stack, trace, t, pi),
            )
            changed = cur.execute(
                f"UPDATE {q(db, 'ACT_RU_JOB')} SET `RETRIES_` = `RETRIES_` - 1, "
                "`LOCK_OWNER_` = NULL, `LOCK_EXP_TIME_` = NULL, `REV_` = `REV_` + 1, "
                "`EXCEPTION_MSG_` = %s, `EXCEPTION_STACK_ID_` = %s, `FAILED_ACT_ID_` = %s, "
                "`DUEDATE_` = %s WHERE `ID_` = %s AND `REV_` = %s AND `LOCK_OWNER_` = %s",
                (message, stack, step, t + RETRY_DELAY, job.id, job.rev, self.owner),
            )
            if changed != 1:
                raise LockLostError(f"job {job.id} was taken over by another worker")
            if job.exception_stack_id:
                cur.execute(f"DELETE FROM {q(db, 'ACT_GE_BYTEARRAY')} WHERE `ID_` = %s",
                            (job.exception_stack_id,))  # fmt: skip
            _job_log(cur, db, job, step, 1, message)
            if exhausted:
                self._incident(cur, job, step, message, t)

        self.camunda.transaction(work)
        self.stats.add("job_failures")
        if exhausted:
            self.stats.add("incidents")

    def _incident(self, cur: Any, job: Job, step: str, message: str,
                  t: datetime.datetime) -> None:  # fmt: skip
        incident = str(uuid.uuid4())
        for table, time_column in (("ACT_RU_INCIDENT", "INCIDENT_TIMESTAMP_"),
                                   ("ACT_HI_INCIDENT", "CREATE_TIME_")):  # fmt: skip
            extra = ", `REV_`" if table == "ACT_RU_INCIDENT" else ", `INCIDENT_STATE_`"
            cur.execute(
                f"INSERT INTO {q(self.db, table)} (`ID_`, `{time_column}`, `INCIDENT_MSG_`, "
                "`INCIDENT_TYPE_`, `EXECUTION_ID_`, `ACTIVITY_ID_`, `PROC_INST_ID_`, "
                "`PROC_DEF_ID_`, `ROOT_CAUSE_INCIDENT_ID_`, `CONFIGURATION_`, `JOB_DEF_ID_`"
                f"{extra}) VALUES (%s, %s, %s, 'failedJob', %s, %s, %s, %s, %s, %s, %s, 1)",
                (incident, t, message, job.execution_id, step, job.process_instance_id,
                 process_definition_id(), incident, job.id, derived_id("jobdef", step)),
            )  # fmt: skip

    def _request_failed(self, request_id: str, message: str) -> None:
        db = self.request_db

        def work(cur: Any) -> None:
            t = now()
            cur.execute(
                f"UPDATE {q(db, 'infra_active_requests')} SET `REQUEST_STATUS` = %s, "
                "`STATUS_MESSAGE` = %s, `END_TIME` = %s, `MODIFY_TIME` = %s, "
                "`LAST_MODIFIED_BY` = 'BPMN' WHERE `REQUEST_ID` = %s",
                (FAILED, message, t, t, request_id),
            )
            cur.execute(
                f"UPDATE {q(db, 'operation_status')} SET `RESULT` = 'error', `REASON` = %s, "
                "`FINISHED_AT` = %s WHERE `OPERATION_ID` = %s",
                (message[:255], t, request_id),
            )

        self.requests.transaction(work)
