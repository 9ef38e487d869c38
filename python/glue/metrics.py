"""One record per micro-batch: which Kafka offsets it held and when its changes became visible in the lake.

Written after the batch's last MERGE, so `visible_at_ms` is when a reader could first see every change of the batch;
a change's commit-to-lake latency is that minus its commit time (Debezium's source.ts_ms). `make bench` reads these.
The record is named after the batch id: a batch replayed after a crash overwrites its own record.
"""

from __future__ import annotations

from typing import Any

from pyspark.sql import SparkSession

from glue.objects import write_json


def batch_record(batch_id: int, started_at_ms: int, visible_at_ms: int, ranges: list[dict[str, Any]],
                 appended: int, mirrored: int, steps: dict[str, float],
                 paused: dict[str, str] | None = None) -> dict[str, Any]:
    """The record of one batch; `steps` are seconds spent per step (quarantine, changelog, merge); `paused`: the
    mirrors that did not take this batch's events, and why."""
    return {
        "batch_id": batch_id,
        "started_at_ms": started_at_ms,
        "visible_at_ms": visible_at_ms,
        "messages": sum(r["count"] for r in ranges),
        "appended": appended,
        "mirrored": mirrored,
        "steps": {name: round(seconds, 3) for name, seconds in steps.items()},
        "offsets": ranges,
        "paused": dict(paused or {}),
    }


def record_uri(metrics_uri: str, batch_id: int) -> str:
    return f"{metrics_uri.rstrip('/')}/batch-{batch_id:012d}.json"


def write_record(spark: SparkSession, metrics_uri: str, record: dict[str, Any]) -> None:
    write_json(spark, record_uri(metrics_uri, record["batch_id"]), record)
