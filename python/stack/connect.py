"""Kafka Connect REST: connector state, and waiting until a connector and its tasks run."""

import time

import requests

from stack.settings import connect_url


class ConnectorFailed(RuntimeError):
    pass


def connector_status(name: str) -> dict:
    response = requests.get(f"{connect_url()}/connectors/{name}/status", timeout=10)
    if response.status_code == 404:
        return {"name": name, "connector": {"state": "ABSENT"}, "tasks": []}
    response.raise_for_status()
    return response.json()


def is_running(status: dict) -> bool:
    tasks = status.get("tasks", [])
    return status["connector"]["state"] == "RUNNING" and bool(tasks) and all(
        task["state"] == "RUNNING" for task in tasks)


def is_unassigned(status: dict) -> bool:
    """The connector UNASSIGNED while its tasks' last records say RUNNING: the worker lost them in a rebalance and
    has not been given them back, so nothing streams (the tasks' records are stale)."""
    tasks = status.get("tasks", [])
    return status["connector"]["state"] == "UNASSIGNED" and bool(tasks) and all(
        task["state"] == "RUNNING" for task in tasks)


def failure_trace(status: dict) -> str | None:
    """The trace of the connector or of its first failed task, if any failed."""
    for part in [status["connector"], *status.get("tasks", [])]:
        if part.get("state") == "FAILED":
            return part.get("trace", "(no trace reported)")
    return None


def wait_running(name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    status: dict = {}
    while time.monotonic() < deadline:
        try:
            status = connector_status(name)
        except requests.ConnectionError:  # the worker is still starting
            time.sleep(1)
            continue
        trace = failure_trace(status)
        if trace:
            raise ConnectorFailed(f"connector {name} FAILED:\n{trace}")
        if is_running(status):
            return
        time.sleep(1)
    raise ConnectorFailed(f"connector {name} not RUNNING after {timeout:.0f} s; last status: {status}")


def list_connectors() -> list[str]:
    response = requests.get(f"{connect_url()}/connectors", timeout=10)
    response.raise_for_status()
    return sorted(response.json())
