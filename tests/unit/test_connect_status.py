"""Reading Kafka Connect's status answers."""

from stack.connect import failure_trace, is_running


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
