"""Reading Kafka Connect's status answers."""

import stack.status
from stack.connect import failure_trace, is_running, is_unassigned


def status(connector: str, *tasks: str) -> dict:
    return {"connector": {"state": connector},
            "tasks": [{"id": i, "state": s, "trace": f"trace {i}"} for i, s in enumerate(tasks)]}


def test_running_needs_the_connector_and_every_task_running():
    assert is_running(status("RUNNING", "RUNNING"))
    assert not is_running(status("RUNNING", "RUNNING", "PAUSED"))
    assert not is_running(status("UNASSIGNED", "RUNNING"))


def test_connector_without_tasks_is_not_running_yet():
    assert not is_running(status("RUNNING"))


def test_failed_task_trace_is_reported():
    assert failure_trace(status("RUNNING", "RUNNING", "FAILED")) == "trace 1"
    assert failure_trace(status("RUNNING", "RUNNING")) is None


def test_an_unassigned_connector_with_running_tasks_was_lost_in_a_rebalance():
    assert is_unassigned(status("UNASSIGNED", "RUNNING"))
    assert not is_unassigned(status("UNASSIGNED"))
    assert not is_unassigned(status("RUNNING", "RUNNING"))


def test_status_says_what_brings_a_lost_connector_back(monkeypatch):
    monkeypatch.setattr(stack.status, "list_connectors", lambda: ["shop"])
    monkeypatch.setattr(stack.status, "connector_status", lambda name: status("UNASSIGNED", "RUNNING"))
    [line] = stack.status.connector_lines()
    assert "nothing streams" in line and "make restart C=connect" in line
