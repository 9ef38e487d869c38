"""The workload: the project's producer (python -m producer) run for a phase, with a journal of what it committed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SUMMARY = re.compile(r"producer: (\d+) changes in (\d+) transactions, ([\d.]+) changes/s")


@dataclass(frozen=True)
class Workload:
    """One producer run: a rate (0: as fast as PostgreSQL commits) for a duration or a count of changes."""

    name: str
    rate: float
    txn_size: int
    seed: int
    seconds: float | None = None
    count: int | None = None

    def args(self) -> list[str]:
        limit = ["--duration", str(self.seconds)] if self.seconds is not None else ["--count", str(self.count)]
        return ["--rate", f"{self.rate:g}", *limit, "--max-txn-size", str(self.txn_size), "--seed", str(self.seed)]

    def describe(self) -> str:
        limit = f"{self.seconds:g} s" if self.seconds is not None else f"{self.count} changes"
        pace = f"{self.rate:g} changes/s" if self.rate else "as fast as PostgreSQL commits"
        return f"{pace}, {limit}, transactions of 1..{self.txn_size} changes, seed {self.seed}"


@dataclass(frozen=True)
class ProducerRun:
    started_ms: int        # when the producer process was started
    ended_ms: int          # when it exited (its last commit is journaled before)
    changes: int
    transactions: int
    rate: float            # the producer's own figure: changes committed per second of its writing loop
    journal: Path


def parse_summary(text: str) -> tuple[int, int, float]:
    """(changes, transactions, changes/s) from the producer's summary line."""
    found = SUMMARY.findall(text)
    if not found:
        raise ValueError(f"no producer summary line in its output: {text[-500:]!r}")
    changes, transactions, per_second = found[-1]
    return int(changes), int(transactions), float(per_second)


def run_producer(workload: Workload, journal: Path, schema: str | None = None,
                 on_start: Callable[[int], None] | None = None) -> ProducerRun:
    """Run the producer to the end of its workload; on_start gets its pid (for the process sampler)."""
    cmd = [sys.executable, "-m", "producer", "run", "--quiet", *workload.args(), "--journal", str(journal)]
    if schema:
        cmd += ["--schema", schema]
    started_ms = time.time_ns() // 1_000_000
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if on_start:
        on_start(process.pid)
    output, _ = process.communicate()
    ended_ms = time.time_ns() // 1_000_000
    if process.returncode != 0:
        raise RuntimeError(f"producer failed ({process.returncode}): {output.strip()[-2000:]}")
    changes, transactions, per_second = parse_summary(output)
    return ProducerRun(started_ms, ended_ms, changes, transactions, per_second, journal)


def create_schema(schema: str) -> None:
    subprocess.run([sys.executable, "-m", "producer", "create-schema", "--schema", schema], check=True,
                   capture_output=True, text=True)


def read_journal(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
