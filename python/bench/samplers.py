"""Background samplers, once a second during a phase: table topic end offsets (Debezium's output) and each
component's memory (VmRSS) and CPU time, its children included (Spark's Python workers, PostgreSQL's backends)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Sampler(threading.Thread):
    """Calls `sample()` every `interval` seconds until stopped; errors end the thread and are raised by stop()."""

    def __init__(self, sample: Callable[[], None], interval: float = 1.0):
        super().__init__(daemon=True)
        self.sample, self.interval = sample, interval
        self._stop_event = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self._stop_event.is_set():
                started = time.monotonic()
                self.sample()
                self._stop_event.wait(max(0.0, self.interval - (time.monotonic() - started)))
        except BaseException as error:  # noqa: BLE001 - re-raised in stop(), on the caller's thread
            self.error = error

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=30)
        if self.error is not None:
            raise RuntimeError(f"sampler failed: {self.error}") from self.error


class OffsetSampler:
    """Sum of the table topics' end offsets over time: [(epoch s, total messages)]."""

    def __init__(self, end_offsets: Callable[[], dict]):
        self.end_offsets = end_offsets
        self.samples: list[tuple[float, int]] = []

    def __call__(self) -> None:
        self.samples.append((time.time(), sum(self.end_offsets().values())))


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, user+system clock ticks) of a process, None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # the command name may hold spaces and parentheses
    return int(fields[1]), int(fields[11]) + int(fields[12])


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0  # gone, or a kernel thread


def process_trees(roots: dict[str, int]) -> dict[str, list[int]]:
    """Each root pid with its descendants, from one scan of /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat:
                children.setdefault(stat[0], []).append(int(entry.name))
    trees = {}
    for name, root in roots.items():
        tree, todo = [], [root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        trees[name] = tree
    return trees


def busy_seconds() -> float:
    """CPU time the whole machine spent busy since boot, every core and process (/proc/stat)."""
    with open("/proc/stat") as handle:
        fields = [int(x) for x in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


MACHINE = "(whole machine)"


class ProcessSampler:
    """RSS (MB) and CPU time (s) of named process trees over time: {name: [(epoch s, rss MB, cpu s)]}; and the whole
    machine's busy CPU time under MACHINE, so work outside the stack (another test run) shows."""

    def __init__(self, roots: Callable[[], dict[str, int]]):
        self.roots = roots
        self.samples: dict[str, list[tuple[float, float, float]]] = {}

    def __call__(self) -> None:
        now = time.time()
        for name, pids in process_trees(self.roots()).items():
            rss = sum(_rss_kb(p) for p in pids) / 1024
            ticks = sum((_stat(p) or (0, 0))[1] for p in pids)
            self.samples.setdefault(name, []).append((now, round(rss, 1), ticks / CLOCK_TICKS))
        self.samples.setdefault(MACHINE, []).append((now, 0.0, busy_seconds()))

    def peak_rss_mb(self) -> dict[str, float]:
        return {name: max(s[1] for s in series) for name, series in self.samples.items() if series and name != MACHINE}

    def cpu_cores(self) -> dict[str, float]:
        """Average cores each tree kept busy over the sampled span. CPU time only grows, so the highest total seen
        counts: a process that exited meanwhile (the producer) takes its time out of later samples."""
        out = {}
        for name, series in self.samples.items():
            span = series[-1][0] - series[0][0] if series else 0
            if span > 0:
                out[name] = round(max(0.0, max(s[2] for s in series) - series[0][2]) / span, 3)
        return out
