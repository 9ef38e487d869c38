"""A consistent point of the source, and waiting until the lake has applied everything before it.

The point is a REPEATABLE READ snapshot of the source and the WAL position when it was taken: every transaction the
snapshot sees committed before that position. The lake has applied it once
1. the replication slot's confirmed position has passed it: Debezium has handed Kafka everything before it (it
   confirms only what Kafka acknowledged; its heartbeats move the slot when the source is quiet), and then
2. the job's streaming checkpoint has committed a micro-batch that read those topics up to their end at that moment
   (Spark commits a batch after its MERGEs).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from urllib.parse import urlparse

import psycopg2
from kafka import KafkaConsumer, TopicPartition

from glue.lake import local_options
from glue.run_local import Settings
from stack.settings import app_dsn, lake_s3, setting

APPLY_TIMEOUT_SECONDS = 600


class NotApplied(RuntimeError):
    pass


@dataclass
class SourcePoint:
    conn: psycopg2.extensions.connection  # its transaction holds the snapshot; close it when done
    lsn: int


def take_point() -> SourcePoint:
    conn = psycopg2.connect(**app_dsn())
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    with conn.cursor() as cur:  # the snapshot is taken by this first statement
        cur.execute("SELECT pg_current_wal_lsn() - '0/0'")
        lsn = int(cur.fetchone()[0])
    return SourcePoint(conn, lsn)


def _slot_confirmed(slot: str) -> int | None:
    with psycopg2.connect(**app_dsn()) as conn, conn.cursor() as cur:
        cur.execute("SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots WHERE slot_name = %s", (slot,))
        row = cur.fetchone()
    conn.close()
    return None if row is None or row[0] is None else int(row[0])


def _end_offsets(topics: list[str]) -> dict[tuple[str, int], int]:
    consumer = KafkaConsumer(bootstrap_servers=f"{setting('KAFKA_HOST')}:{setting('KAFKA_PORT')}")
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        return {(tp.topic, tp.partition): end for tp, end in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def _job_offsets(s3, bucket: str, prefix: str) -> dict[tuple[str, int], int]:
    """The next offset per topic partition after the job's last committed micro-batch (its Spark checkpoint at
    s3://bucket/prefix)."""
    commits = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/commits/").get("Contents", [])
    done = [int(name) for name in (c["Key"].rsplit("/", 1)[1] for c in commits) if name.isdigit()]
    if not done:
        return {}
    body = s3.get_object(Bucket=bucket, Key=f"{prefix}/offsets/{max(done)}")["Body"].read().decode()
    # "v1", the batch's metadata, then the Kafka source's offsets: {"topic": {"partition": next offset}}
    offsets = json.loads(body.splitlines()[2])
    return {(topic, int(p)): offset for topic, parts in offsets.items() for p, offset in parts.items()}


def wait_applied(lsn: int, topics: list[str], timeout: float = APPLY_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    slot = setting("PG_SLOT")
    while (confirmed := _slot_confirmed(slot)) is None or confirmed < lsn:
        if time.monotonic() > deadline:
            raise NotApplied(f"replication slot {slot} has not confirmed the source's position in {timeout:.0f} s "
                             f"(is Connect streaming? make status)")
        time.sleep(1)
    wanted, s3 = _end_offsets(topics), lake_s3()
    checkpoint = urlparse(local_options(Settings(os.environ)).checkpoint_uri)
    bucket, prefix = checkpoint.netloc, checkpoint.path.strip("/")
    while any(_job_offsets(s3, bucket, prefix).get(tp, 0) < end for tp, end in wanted.items() if end > 0):
        if time.monotonic() > deadline:
            raise NotApplied(f"the job has not applied Kafka's changes in {timeout:.0f} s (is it running? make status)")
        time.sleep(1)
