"""The SO workload: ONAP SO's request flow over the mdbc_py driver, to prove resiliency.

SO keeps its state in three databases and expects a replacement container to
resume from them after a loss. This package plays both SO components that
write them, through ``mdbc_py`` connections in mode ``route``:

- ``api``: the API handler. A "create service instance" request reads its
  recipe from the catalog, records the request in the request DB and starts
  a process instance in the Camunda database; each step one transaction,
  retried as a whole on a retryable error, as SO's handler retries a request.
- ``bpmn``: the Camunda job executor. Workers acquire jobs with Camunda's
  optimistic lock on ``REV_``, run the flow's building blocks and commit a
  save point after each; a job interrupted by the loss of its worker is
  acquired again by another worker once its lock expires.

``schema`` loads the SO schemas through the driver, ``run`` drives threads
of both for a while, and ``check`` proves afterwards that nothing
acknowledged was lost and that every site holds the same data.
"""

from __future__ import annotations

from mdbc_py.workload.check import CheckReport, check, wait_caught_up
from mdbc_py.workload.model import SO_DATABASES, SoDatabases
from mdbc_py.workload.run import Workload, WorkloadSettings
from mdbc_py.workload.schema import load_schema, load_so_schemas, seed_so_data

__all__ = [
    "SO_DATABASES",
    "CheckReport",
    "SoDatabases",
    "Workload",
    "WorkloadSettings",
    "check",
    "load_schema",
    "load_so_schemas",
    "seed_so_data",
    "wait_caught_up",
]
