"""SO's API handler: accept "create service instance" requests.

What SO's API handler does for ``POST /onap/so/infra/serviceInstantiation/
v7/serviceInstances`` (a-la-carte), in three transactions, one per database
(each database is its own range, and a transaction stays in one range):

1. read the ``createInstance`` recipe of the service from the catalog;
2. record the request in the request DB: ``infra_active_requests``
   (``IN_PROGRESS``) with its ``request_processing_data``;
3. start the recipe's BPMN process (``bpmn.start_process``), which creates
   the process instance and its first async-continuation job.

Only then does the client get its request id back: the request is
*acknowledged*. Each step is wrapped in the retry helper (``DbSession``),
the API-handler pattern of retrying the request after a failover. Steps 2
and 3 write rows with ids fixed before the first try and look for them
first, so a retry after a commit whose answer was lost does not write them
twice.
"""

from __future__ import annotations

import contextlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mdbc_py.config import Config
from mdbc_py.workload import bpmn
from mdbc_py.workload.model import (
    FAILED,
    IN_PROGRESS,
    SERVICE_MODEL_NAME,
    SoDatabases,
    now,
    q,
)
from mdbc_py.workload.session import CommitHook, DbSession


@dataclass(frozen=True)
class Acknowledged:
    """A request the API handler answered with its id: it must never be lost."""

    request_id: str
    service_instance_id: str
    process_instance_id: str
    site: str
    at: float


class RecipeNotFoundError(LookupError):
    """The catalog has no ``createInstance`` recipe for the requested service."""


def request_body(request_id: str, instance_name: str) -> str:
    """A serviceInstantiation request body shaped like VID's."""
    return json.dumps(
        {
            "requestDetails": {
                "modelInfo": {"modelType": "service", "modelName": SERVICE_MODEL_NAME,
                              "modelVersion": "1.0"},
                "requestInfo": {"instanceName": instance_name, "source": "VID",
                                "suppressRollback": False, "requestorId": "demo"},
                "subscriberInfo": {"globalSubscriberId": "demo-customer"},
                "requestParameters": {"subscriptionServiceType": "demo", "aLaCarte": True,
                                      "userParams": [{"name": "note", "value": "ünïcode→latin1?"}]},
                "cloudConfiguration": {"lcpCloudRegionId": "RegionOne", "tenantId": "t1"},
            },
            "requestId": request_id,
        }
    )  # fmt: skip


class ApiHandler:
    """One API handler thread's state: its sessions to the three databases."""

    def __init__(
        self,
        cfg: Config,
        dbs: SoDatabases,
        home: str,
        crashed: threading.Event,
        on_commit: CommitHook,
        on_retry: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.dbs = dbs
        self.home = home

        def session(db: str) -> DbSession:
            return DbSession(cfg, home, db, crashed, on_commit, on_retry)

        self.catalog = session(dbs.catalog)
        self.requests = session(dbs.request)
        self.camunda = session(dbs.camunda)

    def close(self) -> None:
        """Close the three sessions."""
        for s in (self.catalog, self.requests, self.camunda):
            s.close()

    def find_recipe(self) -> tuple[str, int]:
        """(orchestration URI, timeout) of the default service's createInstance recipe."""
        db = self.dbs.catalog

        def work(cur: Any) -> tuple[str, int]:
            cur.execute(
                "SELECT r.`ORCHESTRATION_URI`, r.`RECIPE_TIMEOUT` "
                f"FROM {q(db, 'service_recipe')} r JOIN {q(db, 'service')} s "
                "ON s.`MODEL_UUID` = r.`SERVICE_MODEL_UUID` "
                "WHERE s.`MODEL_NAME` = %s AND r.`ACTION` = %s",
                (SERVICE_MODEL_NAME, "createInstance"),
            )
            row = cur.fetchone()
            if row is None:
                raise RecipeNotFoundError(
                    f"no createInstance recipe for service {SERVICE_MODEL_NAME!r} in {db}"
                )
            return str(row[0]), int(row[1] or 180)

        return self.catalog.read(work)

    def record_request(self, request_id: str, instance_id: str, instance_name: str) -> None:
        """Step 2: the request and its processing data, one transaction."""
        db = self.dbs.request
        body = request_body(request_id, instance_name)

        def work(cur: Any) -> None:
            cur.execute(
                f"SELECT 1 FROM {q(db, 'infra_active_requests')} WHERE `REQUEST_ID` = %s",
                (request_id,),
            )
            if cur.fetchone():
                return  # an earlier try committed; its answer was lost
            t = now()
            cur.execute(
                f"INSERT INTO {q(db, 'infra_active_requests')} (`REQUEST_ID`, `REQUEST_STATUS`, "
                "`STATUS_MESSAGE`, `PROGRESS`, `START_TIME`, `SOURCE`, `SERVICE_TYPE`, "
                "`TENANT_ID`, `REQUEST_BODY`, `LAST_MODIFIED_BY`, `MODIFY_TIME`, `CLOUD_REGION`, "
                "`REQUEST_SCOPE`, `REQUEST_ACTION`, `SERVICE_INSTANCE_ID`, "
                "`SERVICE_INSTANCE_NAME`, `REQUESTOR_ID`, `REQUEST_URL`, `WORKFLOW_NAME`) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s)",
                (request_id, IN_PROGRESS, "Request accepted, processing", 0, t, "VID", "demo",
                 "t1", body, "APIH", t, "RegionOne", "service", "createInstance", instance_id,
                 instance_name, "demo",
                 "http://so-api-handler/onap/so/infra/serviceInstantiation/v7/serviceInstances",
                 bpmn.PROCESS_KEY),
            )  # fmt: skip
            cur.executemany(
                f"INSERT INTO {q(db, 'request_processing_data')} (`SO_REQUEST_ID`, "
                "`GROUPING_ID`, `NAME`, `VALUE`, `TAG`, `IS_DATA_INTERNAL`) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [(request_id, instance_id, "requestAction", "createInstance",
                  "BPMNExecutionData", b"\x01"),
                 (request_id, instance_id, "aLaCarte", "true", "BPMNExecutionData", b"\x01")],
            )  # fmt: skip
            cur.execute(
                f"INSERT INTO {q(db, 'operation_status')} (`SERVICE_ID`, `OPERATION_ID`, "
                "`SERVICE_NAME`, `OPERATION_TYPE`, `USER_ID`, `RESULT`, `PROGRESS`, `REASON`, "
                "`OPERATE_AT`) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (instance_id, request_id, instance_name, "CREATE", "demo", "processing", "0",
                 "", t),
            )  # fmt: skip

        self.requests.transaction(work)

    def mark_failed(self, request_id: str, why: str) -> None:
        """The process could not be started: say so in the request DB (best effort)."""
        db = self.dbs.request

        def work(cur: Any) -> None:
            cur.execute(
                f"UPDATE {q(db, 'infra_active_requests')} SET `REQUEST_STATUS` = %s, "
                "`STATUS_MESSAGE` = %s, `END_TIME` = %s, `MODIFY_TIME` = %s "
                "WHERE `REQUEST_ID` = %s",
                (FAILED, why[:2000], now(), now(), request_id),
            )

        self.requests.transaction(work, attempts=5)

    def create_service_instance(self) -> Acknowledged:
        """Handle one request end to end; return its acknowledgement.

        Raises if a step failed after all its retries: the client got an
        error, not a request id, so nothing was promised.
        """
        request_id = str(uuid.uuid4())
        instance_id = str(uuid.uuid4())
        name = f"demo-si-{request_id[:8]}"
        self.find_recipe()
        self.record_request(request_id, instance_id, name)
        try:
            started = bpmn.start_process(self.camunda, self.dbs.camunda, request_id, instance_id)
        except bpmn.Crashed:
            raise
        except Exception as exc:
            with contextlib.suppress(Exception):  # the original error is the one to report
                self.mark_failed(request_id, f"could not start the BPMN process: {exc}")
            raise
        return Acknowledged(request_id, instance_id, started.process_instance_id,
                            started.site, started.at)  # fmt: skip
