"""The faults the suite injects into the running stack, and how each is over: the component answers again."""

from __future__ import annotations

import random
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from stack import connect, job, probes, supervisor
from stack.settings import components, setting

ROOT = Path(__file__).resolve().parents[2]

# what the stack runs that a fault may hit (the producer is the suite's own load, not a fault's target)
KILLABLE = ("postgres", "kafka", "connect", "glue", "objectstore", "aws")
RECOVERY_TIMEOUT = 600.0


@dataclass(frozen=True)
class Fault:
    """kind: kill (SIGKILL, supervisord restarts it), stop (stopped `seconds`, then started), down-up (make local-down
    then make local-up)."""

    kind: str
    component: str = ""
    seconds: float = 0.0

    @property
    def name(self) -> str:
        if self.kind == "kill":
            return f"SIGKILL {self.component}"
        if self.kind == "stop":
            return f"{self.component} stopped {self.seconds:.0f} s"
        return "make local-down, make local-up"

    @classmethod
    def parse(cls, text: str) -> Fault:
        """kill:COMPONENT, stop:COMPONENT:SECONDS or down-up."""
        kind, _, rest = text.partition(":")
        if kind == "kill" and rest in KILLABLE:
            return cls("kill", rest)
        if kind == "stop" and rest.count(":") == 1 and rest.split(":")[0] in KILLABLE:
            component, seconds = rest.split(":")
            return cls("stop", component, float(seconds))
        if text == "down-up":
            return cls("down-up")
        raise ValueError(f"not a fault: {text!r} (kill:COMPONENT, stop:COMPONENT:SECONDS or down-up; components: "
                         f"{', '.join(KILLABLE)})")


def short_schedule(rng: random.Random) -> list[Fault]:
    """One SIGKILL of each component, in a seeded order."""
    faults = [Fault("kill", c) for c in KILLABLE]
    rng.shuffle(faults)
    return faults


def full_schedule(rng: random.Random) -> list[Fault]:
    """Three SIGKILLs of each component, Kafka stopped 2 minutes, the job stopped 10 minutes, a local-down and
    local-up: in a seeded order."""
    faults = [Fault("kill", c) for c in KILLABLE for _ in range(3)]
    faults += [Fault("stop", "kafka", 120), Fault("stop", "glue", 600), Fault("down-up")]
    rng.shuffle(faults)
    return faults


def inject(fault: Fault) -> None:
    """The fault itself; returns once it is over (a stopped component started again, the stack back up)."""
    if fault.kind == "kill":
        supervisor.kill(fault.component)
    elif fault.kind == "stop":
        supervisor.stop(fault.component)
        time.sleep(fault.seconds)
        supervisor.start(fault.component)
    else:
        for script in ("local-down.sh", "local-up.sh"):
            result = subprocess.run(["bash", str(ROOT / "scripts" / script)], capture_output=True, text=True,
                                    check=False)
            if result.returncode != 0:
                raise RuntimeError(f"scripts/{script} failed ({result.returncode}): {result.stderr[-2000:]}")


def wait_recovered(fault: Fault, batch_before: int | None, timeout: float = RECOVERY_TIMEOUT) -> None:
    """Until what the fault hit works again: the component answers (a new micro-batch committed, for the job), and
    the connector and its task run."""
    deadline = time.monotonic() + timeout
    hit = [fault.component] if fault.kind != "down-up" else list(components())
    while True:
        try:
            for name in hit:
                if name in probes.PROBES:
                    probes.PROBES[name](components()[name])
            if fault.component == "glue" and (job.last_committed_batch() or -1) <= (batch_before or -1):
                raise RuntimeError("no micro-batch committed since the job restarted")
            status = connect.connector_status(setting("CONNECTOR_NAME"))
            if not connect.is_running(status):
                raise RuntimeError(f"connector not running: {connect.failure_trace(status) or status}")
            return
        except Exception as error:  # any failure here means: not back yet
            if time.monotonic() > deadline:
                raise TimeoutError(f"{fault.name}: not recovered after {timeout:.0f} s: {error}") from None
            time.sleep(1)
