"""The local stack's supervisord, over its socket (its XML-RPC interface): programs, their states and pids, start,
stop, restart and signals. What `supervisorctl` does, without a process per call."""

from __future__ import annotations

import os
from typing import Any
from xmlrpc.client import Fault, ServerProxy

from supervisor.xmlrpc import Faults, SupervisorTransport

from stack.settings import setting


def _rpc() -> Any:
    socket = os.path.join(setting("STATE_DIR"), "supervisor.sock")
    return ServerProxy("http://localhost", transport=SupervisorTransport(None, None, f"unix://{socket}")).supervisor


def programs() -> dict[str, dict]:
    """{program: supervisord's process info (statename, pid, description, ...)}."""
    return {info["name"]: info for info in _rpc().getAllProcessInfo()}


def is_running(program: str) -> bool:
    return _rpc().getProcessInfo(program)["statename"] == "RUNNING"


def pid(program: str) -> int | None:
    info = _rpc().getProcessInfo(program)
    return info["pid"] if info["statename"] == "RUNNING" and info["pid"] else None


def start(program: str) -> None:
    """Start the program unless it runs; returns once supervisord counts it started (startsecs)."""
    try:
        _rpc().startProcess(program, True)
    except Fault as fault:
        if fault.faultCode != Faults.ALREADY_STARTED:
            raise


def stop(program: str) -> None:
    try:
        _rpc().stopProcess(program, True)
    except Fault as fault:
        if fault.faultCode != Faults.NOT_RUNNING:
            raise


def restart(program: str) -> None:
    stop(program)
    start(program)


def kill(program: str, signal: str = "KILL") -> None:
    """Send the program a signal (as a crash would end it: supervisord restarts what exits unexpectedly)."""
    _rpc().signalProcess(program, signal)
