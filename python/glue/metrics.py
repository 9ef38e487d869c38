"""One record per micro-batch: which Kafka offsets it held and when its changes became visible in the lake.

Written after the batch's last MERGE, so `visible_at_ms` is when a reader could first see every change of the batch;
a change's commit-to-lake latency is that minus its commit time (Debezium's source.ts_ms). `make bench` reads these.
The record is named after the batch id: a batch replayed after a crash overwrites its own record.
"""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F


def offset_ranges(batch: DataFrame) -> list[dict[str, Any]]:
    """First and last offset and the message count per topic partition of a batch of Kafka rows."""
    rows = (batch.groupBy("topic", "partition")
            .agg(F.min("offset").alias("first"), F.max("offset").alias("last"), F.count("*").alias("count"))
            .collect())
    return sorted(({"topic": r.topic, "partition": r.partition, "first": r.first, "last": r["last"],
                    "count": r["count"]} for r in rows), key=lambda r: (r["topic"], r["partition"]))


def batch_record(batch_id: int, started_at_ms: int, visible_at_ms: int, ranges: list[dict[str, Any]],
                 appended: int, mirrored: int, steps: dict[str, float]) -> dict[str, Any]:
    """The record of one batch; `steps` are seconds spent per step (quarantine, changelog, merge)."""
    return {
        "batch_id": batch_id,
        "started_at_ms": started_at_ms,
        "visible_at_ms": visible_at_ms,
        "messages": sum(r["count"] for r in ranges),
        "appended": appended,
        "mirrored": mirrored,
        "steps": {name: round(seconds, 3) for name, seconds in steps.items()},
        "offsets": ranges,
    }


def record_uri(metrics_uri: str, batch_id: int) -> str:
    return f"{metrics_uri.rstrip('/')}/batch-{batch_id:012d}.json"


def write_record(spark: SparkSession, metrics_uri: str, record: dict[str, Any]) -> None:
    """One small object through Hadoop's file system (s3a locally, S3 on Glue): no Spark job for a few bytes."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(record_uri(metrics_uri, record["batch_id"]))
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    out = fs.create(path, True)
    try:
        out.write(bytearray((json.dumps(record, sort_keys=True) + "\n").encode("utf-8")))
    finally:
        out.close()
