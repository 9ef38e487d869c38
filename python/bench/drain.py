"""The drain phases: each stage measured apart from the one before it, so that the source's commit rate no longer
bounds it.

- debezium-drain: the Debezium connector stopped, the changes committed (the slot holds them), the connector resumed:
  the rate at which Debezium drains the slot into Kafka, changes / (the last change's Kafka timestamp - the resume).
  Debezium is the same for the peer, so this phase runs once.
- job-drain: the pipeline's consumer stopped (the Glue job; for the peer, the Iceberg sink connector), Kafka filled,
  the consumer started: the rate at which it drains Kafka into the lake, changes / (the last change visible - the first
  micro-batch's start), and the same from the start command (the job's Spark start-up included).
"""

from __future__ import annotations

import logging
import time

from bench import control, measure, peer
from bench.lake import Visibility
from bench.phases import CatalogTables, Context, peer_visibility, wait_journal_in_kafka, wait_kafka_stable, wait_lake
from bench.workload import Workload, read_journal, run_producer

log = logging.getLogger("bench")

STAGES = ("debezium-drain", "job-drain")


def rate(changes: int, since_ms: int | None, until_ms: int | None) -> float | None:
    """changes/s over (since, until]; None when the span is unknown or empty."""
    if since_ms is None or until_ms is None or until_ms <= since_ms:
        return None
    return changes / ((until_ms - since_ms) / 1000)


def _fill(ctx: Context, workload: Workload, label: str) -> tuple[dict, list[dict]]:
    """The producer's run while nothing consumes: its figures and its journal."""
    journal_path = ctx.run_dir / "raw" / f"{label}.journal.jsonl"
    journal_path.unlink(missing_ok=True)
    produced = run_producer(workload, journal_path)
    return {"changes": produced.changes, "rate": produced.rate}, read_journal(journal_path)


def debezium_drain(ctx: Context, workload: Workload, index: int) -> dict:
    label = f"ours-debezium-drain-{index}"
    log.info("%s: connector stopped, %s, then resumed", label, workload.describe())
    connect, name = peer.Connect(ctx.stack.connect_url), ctx.stack["CONNECTOR_NAME"]
    start = wait_kafka_stable(ctx.topics, None, 0, ctx.catch_up_timeout, notes=ctx.notes)
    connect.stop(name)
    try:
        connect.wait_state(name, "STOPPED", 120)
        producer, journal = _fill(ctx, workload, label)
    finally:
        resumed_ms = time.time_ns() // 1_000_000
        connect.resume(name)
    end = wait_journal_in_kafka(ctx, journal, producer["changes"], start)
    events, _ = ctx.topics.read(start, end)
    matched = measure.match_journal(journal, events)
    kafka_ms = [e.kafka_ms for e in matched.events]
    return {"label": label, "pipeline": "ours", "phase": "debezium-drain", "index": index,
            "workload": workload.describe(), "producer": producer,
            "counts": {"journal": len(journal), "missing": matched.missing, "duplicates": matched.duplicates},
            "first_in_kafka_s": None if not kafka_ms else round((min(kafka_ms) - resumed_ms) / 1000, 2),
            "drain_rate": rate(len(matched.events), resumed_ms, max(kafka_ms, default=None))}


def job_drain(ctx: Context, pipeline: str, workload: Workload, index: int) -> dict:
    """The Glue job ("ours") or the Iceberg sink ("peer") draining topics filled while it was stopped."""
    label = f"{pipeline}-job-drain-{index}"
    log.info("%s: %s stopped, %s, then started", label, "the job" if pipeline == "ours" else "the sink",
             workload.describe())
    connect = peer.Connect(ctx.stack.connect_url)
    start = wait_kafka_stable(ctx.topics, None, 0, ctx.catch_up_timeout, notes=ctx.notes)
    if pipeline == "ours":
        wait_lake(ctx, "ours", start, None)
        ctx.restorer.stop("glue")
    else:
        connect.stop(peer.CONNECTOR)
        connect.wait_state(peer.CONNECTOR, "STOPPED", 120)
    peer_before = CatalogTables(ctx.stack, peer.NAMESPACE).total_records() if pipeline == "peer" else 0
    producer, journal = _fill(ctx, workload, label)
    end = wait_journal_in_kafka(ctx, journal, producer["changes"], start)
    started_ms = time.time_ns() // 1_000_000
    if pipeline == "ours":
        start_seconds = control.restart_job(restart=False)
        ctx.restorer.started("glue")
    else:
        connect.resume(peer.CONNECTOR)
        start_seconds = None
    wait_lake(ctx, pipeline, end, peer_before + producer["changes"])
    events, _ = ctx.topics.read(start, end)
    matched = measure.match_journal(journal, events)
    if pipeline == "ours":
        batches = [b for b in ctx.job.batches(since_ms=started_ms) if b.started_at_ms >= started_ms]
        visibility, first_ms = Visibility.of_batches(batches), min((b.started_at_ms for b in batches), default=None)
    else:
        visibility, first_ms = peer_visibility(ctx, start), started_ms
    visible = [visibility.visible_at(e.topic, e.partition, e.offset) for e in matched.events]
    last_ms = max((ms for ms in visible if ms is not None), default=None)
    job = measure.job_batches(batches, started_ms, last_ms or started_ms) if pipeline == "ours" else None
    return {"label": label, "pipeline": pipeline, "phase": "job-drain", "index": index,
            "workload": workload.describe(), "producer": producer,
            "counts": {"journal": len(journal), "missing": matched.missing, "duplicates": matched.duplicates,
                       "not_visible": sum(1 for ms in visible if ms is None)},
            "start_seconds": None if start_seconds is None else round(start_seconds, 1),
            "drain_rate": rate(len(matched.events), first_ms, last_ms),
            "drain_rate_with_start": rate(len(matched.events), started_ms, last_ms),
            **({"job": job} if job else {})}
