"""Driving the local stack for a bench run: the Glue job's freshness and restarts; everything stopped for a run is
started again by `Restorer`, whatever happens. Programs are started and stopped through stack.supervisor."""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.config import ROOT
from stack import supervisor
from stack.settings import log_file as stack_log_file


def process_started_at(process_id: int) -> float:
    """A process's start time (epoch s), from /proc."""
    with open(f"/proc/{process_id}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    with open("/proc/uptime") as handle:
        uptime = float(handle.read().split()[0])
    return time.time() - uptime + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def job_is_stale(job_pid: int) -> bool:
    """True when python/glue changed after the running job started: the bench measures the code in the tree."""
    newest = max(p.stat().st_mtime for p in (ROOT / "python" / "glue").glob("*.py"))
    return newest > process_started_at(job_pid)


def restart_job(timeout: float = 300, restart: bool = True) -> float:
    """(Re)start the Glue job and wait until its streaming query runs (its log says so); the seconds it took."""
    log_file = Path(stack_log_file("glue"))
    offset = log_file.stat().st_size if log_file.exists() else 0
    started = time.monotonic()
    (supervisor.restart if restart else supervisor.start)("glue")
    while time.monotonic() - started < timeout:
        with log_file.open("rb") as handle:
            handle.seek(offset)
            if b"INFO glue.job: streaming " in handle.read():
                return time.monotonic() - started
        time.sleep(1)
    raise TimeoutError(f"the Glue job did not start streaming within {timeout:.0f} s; see {log_file}")


class Restorer:
    """Remembers what a run changed in the stack and puts it back: programs stopped are started again."""

    def __init__(self) -> None:
        self.stopped: list[str] = []

    def stop(self, program: str) -> None:
        if supervisor.is_running(program):
            supervisor.stop(program)
            if program not in self.stopped:
                self.stopped.append(program)

    def started(self, program: str) -> None:
        """The run started `program` again itself: nothing to restore for it."""
        self.stopped.remove(program)

    def restore(self) -> list[str]:
        restored = []
        for program in reversed(self.stopped):
            supervisor.start(program)
            restored.append(program)
        self.stopped.clear()
        return restored
