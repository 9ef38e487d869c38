"""When changes became visible in the lake: the Glue job's batch records and checkpoint (read from S3), and the
Iceberg sink's table snapshots (read with Spark, after a phase)."""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse


@dataclass(frozen=True)
class BatchRecord:
    """One micro-batch of the Glue job, as glue.metrics wrote it."""

    batch_id: int
    started_at_ms: int
    visible_at_ms: int
    messages: int
    steps: dict[str, float]
    offsets: tuple[tuple[str, int, int, int], ...]  # (topic, partition, first, last)

    @classmethod
    def of(cls, raw: dict[str, Any]) -> BatchRecord:
        return cls(raw["batch_id"], raw["started_at_ms"], raw["visible_at_ms"], raw["messages"], raw.get("steps", {}),
                   tuple((o["topic"], o["partition"], o["first"], o["last"]) for o in raw["offsets"]))


@dataclass
class Visibility:
    """When each Kafka position became visible: ranges of offsets per topic partition with their time."""

    ranges: dict[tuple[str, int], list[tuple[int, int, int]]] = field(default_factory=dict)  # (first, last, ms)

    @classmethod
    def of_batches(cls, batches: Iterable[BatchRecord]) -> Visibility:
        v = cls()
        for b in batches:
            for topic, partition, first, last in b.offsets:
                v.ranges.setdefault((topic, partition), []).append((first, last, b.visible_at_ms))
        for spans in v.ranges.values():
            spans.sort()
        return v

    @classmethod
    def of_positions(cls, positions: Iterable[tuple[str, int, int, int]]) -> Visibility:
        """From (topic, partition, offset, visible ms) of single records (the Iceberg sink's rows)."""
        return cls.of_batches(BatchRecord(0, ms, ms, 1, {}, ((t, p, o, o),)) for t, p, o, ms in positions)

    def visible_at(self, topic: str, partition: int, offset: int) -> int | None:
        """The earliest time the offset was visible, None if no range covers it."""
        spans = self.ranges.get((topic, partition), [])
        i = bisect.bisect_right(spans, (offset, float("inf"), float("inf")))
        found = [ms for first, last, ms in spans[max(0, i - 4):i] if first <= offset <= last]
        return min(found) if found else None


def covered(committed: dict[tuple[str, int], int], batches: Iterable[BatchRecord]) -> dict[tuple[str, int], int]:
    """End offsets (exclusive) per topic partition: the committed ones, raised to the last offset of each batch."""
    ends = dict(committed)
    for b in batches:
        for topic, partition, _, last in b.offsets:
            ends[(topic, partition)] = max(ends.get((topic, partition), 0), last + 1)
    return ends


class JobRecords:
    """The Glue job's batch records and streaming checkpoint in the local S3; records already read are kept."""

    def __init__(self, s3, metrics_uri: str, checkpoint_uri: str):
        """metrics_uri, checkpoint_uri: the job's --metrics-uri and --checkpoint-uri, in one bucket."""
        metrics, checkpoint = urlparse(metrics_uri), urlparse(checkpoint_uri)
        if metrics.netloc != checkpoint.netloc:
            raise ValueError(f"the job's metrics ({metrics_uri}) and checkpoint ({checkpoint_uri}) are in two buckets")
        self.s3, self.bucket = s3, metrics.netloc
        self.prefix, self.checkpoint = metrics.path.strip("/") + "/", checkpoint.path.strip("/") + "/"
        self.cache: dict[str, BatchRecord] = {}

    def _keys(self, prefix: str, since_ms: int = 0) -> list[str]:
        """Keys of the objects under prefix (not folder markers), those last written before since_ms left out."""
        keys = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            keys += [o["Key"] for o in page.get("Contents", [])
                     if not o["Key"].endswith("/") and o["LastModified"].timestamp() * 1000 >= since_ms]
        return keys

    def batches(self, since_ms: int = 0) -> list[BatchRecord]:
        """Records of batches that became visible at or after since_ms, by batch id."""
        # a record is written after its batch became visible: older objects cannot hold a later batch
        for key in self._keys(self.prefix, since_ms - 1000):
            if key not in self.cache:
                body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()
                self.cache[key] = BatchRecord.of(json.loads(body))
        return sorted((b for b in self.cache.values() if b.visible_at_ms >= since_ms), key=lambda b: b.batch_id)

    def applied_offsets(self, since_ms: int) -> dict[tuple[str, int], int]:
        """The end offsets (exclusive) of what the job has applied: its checkpoint's, or further those of its batch
        records since since_ms. A batch's record is written once its changes are visible, its checkpoint's commit
        only after the batch returns, which a quiet stream's batch does after the pace's wait (glue.job.Pace)."""
        return covered(self.committed_offsets(), self.batches(since_ms))

    def committed_offsets(self) -> dict[tuple[str, int], int]:
        """The end offsets (exclusive) of the job's last committed micro-batch, from its checkpoint."""
        commits = [int(k.rsplit("/", 1)[1]) for k in self._keys(self.checkpoint + "commits/") if k[-1].isdigit()]
        if not commits:
            return {}
        text = self.s3.get_object(Bucket=self.bucket, Key=f"{self.checkpoint}offsets/{max(commits)}")["Body"].read()
        # v1, then the batch's metadata, then one JSON line per source: {"topic": {"partition": offset}}
        offsets: dict[tuple[str, int], int] = {}
        for line in text.decode().splitlines()[2:]:
            for topic, parts in json.loads(line).items():
                offsets.update({(topic, int(p)): int(o) for p, o in parts.items()})
        return offsets


def peer_positions(spark, table: str, first_offset: int = 0) -> list[tuple[str, int, int, int]]:
    """(topic, partition, offset, visible ms) of the rows of an Iceberg sink table from first_offset on: the commit
    time of the snapshot that added the row's data file (the sink only appends; a file's entry keeps the snapshot
    that added it)."""
    rows = spark.sql(f"""
        SELECT d._kafka_metadata_topic AS topic, d._kafka_metadata_partition AS partition,
               d._kafka_metadata_offset AS offset, unix_millis(s.committed_at) AS visible_ms
        FROM {table} d
        JOIN {table}.entries e ON d._file = e.data_file.file_path
        JOIN {table}.snapshots s ON e.snapshot_id = s.snapshot_id
        WHERE d._kafka_metadata_offset >= {int(first_offset)}
    """).collect()
    return [(r.topic, int(r.partition), int(r.offset), int(r.visible_ms)) for r in rows]
