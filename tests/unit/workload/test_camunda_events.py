"""What the Camunda demo makes of its engines' lines, and how its check counts a loss."""

from __future__ import annotations

import time

from mdbc_py.workload.camunda import CamundaReport, EngineEvents

LAST = "ActivateServiceInstanceBB"


def test_only_acknowledged_work_is_an_event() -> None:
    events = EngineEvents()
    assert events.record("dc1", "started dc1-1", LAST)
    assert events.record("dc1", "step dc1-1 AssignServiceInstanceBB", LAST)
    assert events.record("dc2", "retry dc2-1 ProcessEngineException", LAST)
    assert not events.record("dc1", "engine ok", LAST)
    assert not events.record("dc1", "stopped 4", LAST)
    assert events.acknowledged() == ["dc1-1"]
    p = events.progress()
    assert (p["started"], p["completed"], p["retries"], p["steps_dc1"]) == (1, 0, 1, 1)
    assert events.record("dc2", f"step dc1-1 {LAST}", LAST)
    assert events.progress()["completed"] == 1


def test_first_commit_after_skips_the_lost_site_and_retries() -> None:
    events = EngineEvents()
    events.record("dc2", "started dc2-1", LAST)
    t = time.monotonic()
    events.record("dc1", "started dc1-1", LAST)
    events.record("dc2", "retry dc2-2 SQLException", LAST)
    assert events.first_commit_after(t, not_at="dc1") is None
    events.record("dc2", "step dc1-1 AssignServiceInstanceBB", LAST)
    found = events.first_commit_after(t, not_at="dc1")
    assert found is not None and found[1] == "dc2" and found[0] > t


def test_in_flight_counts_started_unfinished_instances() -> None:
    events = EngineEvents()
    events.record("dc1", "started a", LAST)
    events.record("dc1", "started b", LAST)
    events.record("dc1", f"step a {LAST}", LAST)
    kill = time.monotonic()
    events.record("dc2", "started c", LAST)
    assert events.in_flight_at(kill) == (1, 0)
    events.record("dc2", f"step b {LAST}", LAST)
    assert events.in_flight_at(kill) == (1, 1)


def test_a_lost_step_or_a_missing_instance_is_a_loss_and_a_repeat_fails() -> None:
    report = CamundaReport(sites=["dc1", "dc2"], acknowledged=3, steps=("s1", "s2"))
    report.verify_ok = True
    assert report.ok and report.lost == 0
    report.missing = {"dc2": ["k1"]}
    report.unfinished = ["k1", "k2"]
    report.steps_lost = ["k3 s2"]
    assert report.lost == 3 and not report.ok
    clean = CamundaReport(sites=["dc1"], acknowledged=1, steps=("s1",), verify_ok=True)
    clean.twice = ["k1 s1: 2 times"]
    assert clean.lost == 0 and not clean.ok
    assert clean.lines()[0] == "RAN TWICE: 1, e.g. ['k1 s1: 2 times']"
    assert clean.summary()[-1].startswith("tables identical at 1 sites: ")
