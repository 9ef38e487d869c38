"""The fault suite against the running stack: a journaled producer writes the whole time; each fault is injected at a
random (seeded) moment; after it, the producer is paused and the lake must come to equal the source: every mirror
row for row, every journaled change in the change log exactly once, nothing re-snapshotted, nothing in quarantine."""

from __future__ import annotations

import logging
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from chaos.faults import Fault, inject, wait_recovered
from stack import job, supervisor
from stack.lakecheck import changelog_gaps, read_journal, settle
from stack.settings import lake_s3, setting

log = logging.getLogger("chaos")

TABLES = {"customers": {"profile"}, "orders": {"details"}}  # the producer's, with their JSON columns
SETTLE_TIMEOUT = 900.0  # the job stopped 10 minutes has that much to catch up


@dataclass
class Outcome:
    fault: str
    at_s: float  # when it was injected, from the start of the run
    recovered_s: float  # from the injection until what it hit works again
    catch_up_s: float  # from the producer's pause until the lake equals the source
    committed: int  # changes the producer committed from the injection until the pause
    window_s: float  # from the injection until the pause
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


class Load:
    """The journaled producer, a process of the suite's own. Paused while the lake is compared by ending it (SIGTERM:
    after its open transaction) and starting a new one on the same journal, so that it does not rush to make up for
    the pause afterwards."""

    def __init__(self, journal: Path, rate: float, seed: int):
        self.journal, self.rate, self.seed, self.runs = journal, rate, seed, 0
        self.process: subprocess.Popen | None = None
        self.resume()

    def committed(self) -> int:
        """Changes journaled so far (whole lines only)."""
        if not self.journal.exists():
            return 0
        with self.journal.open("rb") as handle:
            return handle.read().count(b"\n")

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"the suite's producer exited ({self.process.returncode}); see its output above")

    def resume(self) -> None:
        self.runs += 1
        self.process = subprocess.Popen(
            [sys.executable, "-m", "producer", "run", "--quiet", "--rate", str(self.rate),
             "--seed", str(self.seed + self.runs), "--journal", str(self.journal), "--reconnect-timeout", "900"],
            stdout=subprocess.DEVNULL)

    def pause(self) -> None:
        self.check_alive()
        self.process.send_signal(signal.SIGTERM)
        # -SIGTERM: ended before it set its handler (it had just started); nothing of it is journaled but commits
        if self.process.wait(timeout=120) not in (0, -signal.SIGTERM):
            raise RuntimeError(f"the suite's producer ended with {self.process.returncode}; see its output above")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.pause()


def quarantined() -> int:
    """Objects in the lake's quarantine (poison messages): the suite's producer writes none."""
    bucket = setting("LAKE_BUCKET")
    return sum(1 for page in lake_s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="quarantine/")
               for item in page.get("Contents", []) if not item["Key"].endswith("/"))


def snapshot_reads(lake) -> int:
    """Snapshot reads (op r) of the producer's tables in the change log: a re-snapshot would add to them."""
    spark, namespace = lake
    spark.sql(f"REFRESH TABLE {namespace}.cdc_changelog")
    tables = ", ".join(f"'{t}'" for t in TABLES)
    return spark.sql(f"SELECT count(*) FROM {namespace}.cdc_changelog WHERE op = 'r' "
                     f"AND source_schema = '{setting('PG_SCHEMA')}' AND source_table IN ({tables})").first()[0]


class Suite:
    def __init__(self, lake, faults: list[Fault], seed: int, rate: float, out: Path, dsn: str,
                 pause_range: tuple[float, float], carry_seconds: float):
        self.lake, self.faults, self.seed, self.rate, self.out, self.dsn = lake, faults, seed, rate, out, dsn
        self.rng = random.Random(seed)
        self.pause_range = pause_range  # seconds of load before each fault, drawn from this range
        self.carry_seconds = carry_seconds  # seconds of load after a fault is over, before the lake is checked
        self.timeline: list[tuple[float, int]] = []  # (s from start, changes journaled)
        self.outcomes: list[Outcome] = []
        self.started = time.monotonic()
        self.started_wall = time.time()

    def now(self) -> float:
        return time.monotonic() - self.started

    def sample_while(self, load: Load, seconds: float) -> None:
        """Let the load run `seconds`, sampling the journal every second (for the timeline)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.timeline.append((self.now(), load.committed()))
            time.sleep(min(1.0, max(0.0, end - time.monotonic())))

    def verify(self, load: Load, baseline: dict) -> tuple[float, list[str]]:
        """Pause the producer, wait until every mirror equals its source, check the change log against the journal;
        the seconds the lake took to catch up, and what is wrong."""
        load.pause()
        paused = time.monotonic()
        problems = []
        try:
            for table, json_columns in TABLES.items():
                left = settle(self.lake, self.dsn, setting("PG_SCHEMA"), table, ["id"], json_columns,
                              timeout=SETTLE_TIMEOUT)
                problems += [f"{table}: {d}" for d in left]
            catch_up = time.monotonic() - paused
            missing, twice = changelog_gaps(self.lake, setting("PG_SCHEMA"), read_journal(load.journal))
            if missing:
                problems.append(f"{len(missing)} journaled changes not in the change log, e.g. {sorted(missing)[:2]}")
            if twice:
                problems.append(f"{twice} changes in the change log twice")
            if (reads := snapshot_reads(self.lake)) != baseline["snapshot_reads"]:
                problems.append(f"re-snapshotted: {reads - baseline['snapshot_reads']} new snapshot reads")
            if (count := quarantined()) != baseline["quarantined"]:
                problems.append(f"{count - baseline['quarantined']} new objects in quarantine")
        finally:
            load.resume()
        return catch_up, problems

    def run(self) -> list[Outcome]:
        supervised_producer = supervisor.is_running("producer")
        supervisor.stop("producer")  # the suite's producer is the only writer: the pauses stop all writes
        load = Load(self.out / "journal.jsonl", self.rate, self.seed)
        try:
            self.sample_while(load, 5)
            _, problems = self.verify(load, {"snapshot_reads": snapshot_reads(self.lake),
                                             "quarantined": quarantined()})
            if problems:
                raise RuntimeError(f"the lake does not equal the source before any fault: {problems}")
            baseline = {"snapshot_reads": snapshot_reads(self.lake), "quarantined": quarantined()}
            for fault in self.faults:
                self.sample_while(load, self.rng.uniform(*self.pause_range))
                self.outcomes.append(self.one(fault, load, baseline))
                log.info("%s", self.outcomes[-1])
        finally:
            load.stop()
            if supervised_producer:
                supervisor.start("producer")
        return self.outcomes

    def one(self, fault: Fault, load: Load, baseline: dict) -> Outcome:
        at, committed_before = self.now(), load.committed()
        log.info("%.0f s: %s", at, fault.name)
        batch_before = job.last_committed_batch()
        inject(fault)
        if fault.kind == "down-up":
            supervisor.stop("producer")  # local-up starts the stack's own producer again
        wait_recovered(fault, batch_before)
        recovered = self.now() - at
        self.sample_while(load, self.carry_seconds)  # the stack carries the load again before it is checked
        committed, window = load.committed() - committed_before, self.now() - at
        load.check_alive()
        catch_up, problems = self.verify(load, baseline)
        return Outcome(fault.name, round(at, 1), round(recovered, 1), round(catch_up, 1), committed, round(window, 1),
                       problems)


def outcome_dicts(outcomes: list[Outcome]) -> list[dict]:
    return [asdict(o) | {"passed": o.passed} for o in outcomes]

