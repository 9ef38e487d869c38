"""One run of a workload phase through one pipeline (the Glue job, or the peer Iceberg sink): wait until the pipeline
is idle, sample while the producer writes, wait until the lake holds every change, then work out the figures."""

from __future__ import annotations

import csv
import gzip
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from bench import control, measure, peer, stats
from bench.config import Stack
from bench.events import ChangeEvent, Topics
from bench.lake import JobRecords, Visibility, peer_positions
from bench.samplers import OffsetSampler, ProcessSampler, Sampler
from bench.workload import Workload, read_journal, run_producer
from stack import supervisor
from stack.settings import lake_s3

log = logging.getLogger("bench")

COMPONENTS = ("postgres", "kafka", "connect", "aws", "glue")
# how often a wait for the lake looks: the job's batch records are a listing, the peer's tables a catalog query each
LAKE_POLL_S = {"ours": 0.25, "peer": 1.0}
STABLE_SECONDS = 2.0  # Kafka end offsets unchanged this long: Debezium (polling its queue every 0.1 s) has sent all


@dataclass
class Context:
    stack: Stack
    topics: Topics
    job: JobRecords
    run_dir: Path
    catch_up_timeout: float
    spark_factory: Callable[[], object]
    restorer: control.Restorer | None = None
    _spark: object | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def spark(self):
        if self._spark is None:
            self._spark = self.spark_factory()
        return self._spark


def wait_kafka_stable(topics: Topics, expected: int | None, start_total: int, timeout: float,
                      settle: float = 30.0, notes: list[str] | None = None) -> dict:
    """Until the table topics hold `expected` more messages than start_total; with `expected` None, until they stop
    growing. Another writer (a test of someone else's on the same stack) may never let them stand still: after
    `settle` seconds the wait ends anyway, and says so in `notes`."""
    deadline = time.monotonic() + timeout
    last, since, began = None, time.monotonic(), time.monotonic()
    while time.monotonic() < deadline:
        ends = topics.end_offsets()
        total = sum(ends.values())
        now = time.monotonic()
        if expected is not None and total - start_total >= expected:
            return ends  # every change the journal expects is in Kafka
        if total != last:
            last, since = total, now
        if expected is None and now - since >= STABLE_SECONDS:
            return ends
        if expected is None and now - began >= settle:
            if notes is not None:
                notes.append(f"Kafka's table topics kept growing ({total - start_total} new messages in {settle:.0f} "
                             "s while none was expected): another writer was active.")
            return ends
        time.sleep(0.5)
    raise TimeoutError(f"Kafka's table topics short of {expected} new messages after {timeout:.0f} s")


def wait_journal_in_kafka(ctx: Context, journal: list[dict], changes: int, start: dict) -> dict:
    """Until the table topics hold the journal's `changes` past `start`: every change is one message, and a delete's
    tombstone another. Their end offsets."""
    deletes = sum(1 for e in journal if e["op"] == "d")
    return wait_kafka_stable(ctx.topics, changes + deletes, sum(start.values()), ctx.catch_up_timeout, notes=ctx.notes)


WORKLOAD_TABLES = ("customers", "orders")  # the producer's: the only topics a phase writes to


def job_caught_up(job: JobRecords, ends: dict) -> bool:
    """The job has applied the workload's topics up to `ends`, by its checkpoint or its batch records (another test's
    topic, created meanwhile, may wait minutes for the job to discover it: it is not waited for)."""
    # the records of the last few minutes: a batch still running the pace's wait is younger than that
    committed = job.applied_offsets(since_ms=time.time_ns() // 1_000_000 - 180_000)
    return all(committed.get((tp.topic, tp.partition), 0) >= end for tp, end in ends.items()
               if end > 0 and tp.topic.rsplit(".", 1)[-1] in WORKLOAD_TABLES)


class CatalogTables:
    """Row counts of a namespace's Iceberg tables, from their current snapshots (catalog row, then metadata in S3)."""

    def __init__(self, stack: Stack, namespace: str):
        self.stack, self.namespace = stack, namespace
        self.s3 = lake_s3()

    def locations(self) -> dict[str, str]:
        with psycopg2.connect(self.stack.app_dsn) as conn, conn.cursor() as cur:
            cur.execute(f"SELECT table_name, metadata_location FROM {self.stack['LAKE_CATALOG_SCHEMA']}.iceberg_tables"
                        " WHERE catalog_name = 'lake' AND table_namespace = %s", (self.namespace,))
            rows = dict(cur.fetchall())
        conn.close()
        return rows

    def records(self) -> dict[str, int]:
        counts = {}
        for table, location in self.locations().items():
            bucket, key = location.removeprefix("s3://").split("/", 1)
            meta = json.loads(self.s3.get_object(Bucket=bucket, Key=key)["Body"].read())
            current = meta.get("current-snapshot-id")
            counts[table] = next((int(s["summary"].get("total-records", 0)) for s in meta.get("snapshots", [])
                                  if s["snapshot-id"] == current), 0)
        return counts

    def total_records(self) -> int:
        return sum(self.records().values())


def wait_lake(ctx: Context, pipeline: str, ends: dict, peer_target: int | None, timeout: float | None = None) -> float:
    """Until the lake holds everything up to `ends` (for at most `timeout` s, by default the context's); the seconds
    waited."""
    timeout = ctx.catch_up_timeout if timeout is None else timeout
    started = time.monotonic()
    tables = CatalogTables(ctx.stack, peer.NAMESPACE) if pipeline == "peer" else None
    connect = peer.Connect(ctx.stack.connect_url)
    while time.monotonic() - started < timeout:
        if pipeline == "ours" and job_caught_up(ctx.job, ends):
            return time.monotonic() - started
        if pipeline == "peer":
            if tables.total_records() >= peer_target:
                return time.monotonic() - started
            connect.raise_if_failed(peer.CONNECTOR)  # a failed sink never catches up: say why at once
        time.sleep(LAKE_POLL_S[pipeline])
    raise TimeoutError(f"the lake ({pipeline}) did not catch up within {timeout:.0f} s")


def component_pids() -> dict[str, int]:
    pids = {}
    for name in COMPONENTS:
        pid = supervisor.pid(name)
        if pid:
            pids[name] = pid
    return pids


def write_raw(path: Path, visible: list[tuple[ChangeEvent, int]], invisible: list[ChangeEvent]) -> None:
    with gzip.open(path, "wt", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["topic", "partition", "offset", "table", "op", "txid", "commit_ms", "kafka_ms", "visible_ms",
                      "bytes"])
        for e, ms in visible:
            out.writerow([e.topic, e.partition, e.offset, e.table, e.op, e.txid, e.commit_ms, e.kafka_ms, ms, e.size])
        for e in invisible:
            out.writerow([e.topic, e.partition, e.offset, e.table, e.op, e.txid, e.commit_ms, e.kafka_ms, "", e.size])


def peer_visibility(ctx: Context, start: dict) -> Visibility:
    """When each change the peer's tables hold since `start` became visible: its rows' Kafka positions and
    snapshots (read with Spark)."""
    positions = []
    for table in WORKLOAD_TABLES:
        name = f"lake.{peer.NAMESPACE}.{table}"
        ctx.spark.sql(f"REFRESH TABLE {name}")
        first = min((o for tp, o in start.items() if tp.topic.endswith(f".{table}")), default=0)
        positions += peer_positions(ctx.spark, name, first)
    return Visibility.of_positions(positions)


def run_phase(ctx: Context, pipeline: str, workload: Workload, index: int) -> dict:
    """One run of `workload` through `pipeline` ("ours" or "peer"); its figures."""
    label = f"{pipeline}-{workload.name}-{index}"
    log.info("%s: %s", label, workload.describe())
    # idle first: nothing of an earlier run is still on its way
    if ctx.restorer is not None and supervisor.is_running("producer"):
        ctx.restorer.stop("producer")
        ctx.notes.append(f"Before {label}: the stack's producer had been started again by someone else; stopped.")
    ends = wait_kafka_stable(ctx.topics, None, 0, ctx.catch_up_timeout, notes=ctx.notes)
    peer_tables = CatalogTables(ctx.stack, peer.NAMESPACE) if pipeline == "peer" else None
    peer_before = peer_tables.total_records() if peer_tables else 0
    if pipeline == "ours":
        wait_lake(ctx, pipeline, ends, None)
    start = ends

    sampling_topics = Topics(ctx.topics.bootstrap, ctx.stack["TOPIC_PREFIX"], ctx.stack["PG_SCHEMA"])
    offsets = OffsetSampler(sampling_topics.end_offsets)
    pids = component_pids()
    processes = ProcessSampler(lambda: pids)
    samplers = [Sampler(offsets), Sampler(processes)]
    for s in samplers:
        s.start()
    journal_path = ctx.run_dir / "raw" / f"{label}.journal.jsonl"
    journal_path.unlink(missing_ok=True)
    try:
        run = run_producer(workload, journal_path, on_start=lambda pid: pids.__setitem__("producer", pid))
        journal = read_journal(journal_path)
        end = wait_journal_in_kafka(ctx, journal, run.changes, start)
        lake_wait = wait_lake(ctx, pipeline, end, peer_before + run.changes)
    finally:
        for s in samplers:
            s.stop()
        sampling_topics.close()
    caught_up_ms = time.time_ns() // 1_000_000
    log.info("%s: %d changes at %.0f/s, lake caught up %.1f s after Kafka", label, run.changes, run.rate, lake_wait)

    events, tombstones = ctx.topics.read(start, end)
    matched = measure.match_journal(journal, events)
    if pipeline == "ours":
        batches = ctx.job.batches(since_ms=run.started_ms - 600_000)
        visibility = Visibility.of_batches(batches)
    else:
        visibility = peer_visibility(ctx, start)
    visible, invisible = measure.latencies(matched.events, lambda e: visibility.visible_at(e.topic, e.partition,
                                                                                           e.offset))
    figures = measure.phase_figures(run.started_ms, run.ended_ms, run.rate, matched, visible, len(invisible))
    figures["counts"]["tombstones"] = tombstones
    write_raw(ctx.run_dir / "raw" / f"{label}.csv.gz", visible, invisible)

    kafka_rates = [r for _, r in stats.rates_from_totals(offsets.samples)]
    result = {
        "label": label, "pipeline": pipeline, "phase": workload.name, "index": index,
        "workload": workload.describe(), "producer": {"started_ms": run.started_ms, "ended_ms": run.ended_ms,
                                                     "changes": run.changes, "transactions": run.transactions,
                                                     "rate": run.rate},
        **figures,
        "kafka_peak_messages_per_s": max(kafka_rates, default=None),
        "memory_peak_mb": processes.peak_rss_mb(),
        "cpu_cores": processes.cpu_cores(),
        "window_s": round((caught_up_ms - run.started_ms) / 1000, 1),
        "series": measure.series(run.started_ms, matched.events, visible),
    }
    if pipeline == "ours":
        result["job"] = measure.job_batches(batches, run.started_ms, caught_up_ms)
    return result
