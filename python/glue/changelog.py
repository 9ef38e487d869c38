"""The change log (bronze): every change event, appended to one Iceberg table, and the quarantine of poison messages.

Iceberg rather than plain Parquet files: an append is one atomic commit (a job killed mid-write leaves no partial
files for readers), and the commit records the Kafka offsets it covers, so a micro-batch replayed after a crash
(or a lost checkpoint) appends nothing twice. Row images stay JSON text, exactly as Debezium sent them: one
schema for every table and every schema version; the typed view is the mirror tables.
"""

from __future__ import annotations

import json
import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue.merge import COMMON_PROPERTIES, tblproperties

log = logging.getLogger(__name__)

OFFSETS_PROPERTY = "cdc.kafka-offsets"  # snapshot summary: {"topic": {"partition": last offset}}

COLUMNS = """
    source_db string, source_schema string, source_table string,
    op string, lsn bigint, tx_id bigint, snapshot string,
    source_ts timestamp, event_ts timestamp, event_date date,
    key string, before string, after string,
    topic string, `partition` int, `offset` bigint, kafka_timestamp timestamp
"""


def changelog_rows(events: DataFrame) -> DataFrame:
    """The change log's columns from decoded events (glue.decode)."""
    source_ts = F.timestamp_millis("source_ts_ms")
    return events.select(
        "source_db", "source_schema", "source_table", "op", "lsn", "tx_id", "snapshot",
        source_ts.alias("source_ts"),
        F.timestamp_millis("ts_ms").alias("event_ts"),
        # the commit's date in UTC (the session's time zone)
        F.to_date(source_ts).alias("event_date"),
        "key", "before", "after",
        "topic", "partition", "offset", "kafka_timestamp",
    )


def ensure_changelog(spark: SparkSession, table: str) -> None:
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {table} ({COLUMNS}) USING iceberg "
        "PARTITIONED BY (source_table, event_date) " + tblproperties(COMMON_PROPERTIES)
    )


def committed_offsets(spark: SparkSession, table: str) -> dict[str, dict[str, int]]:
    """The last Kafka offset per topic and partition already in the change log."""
    rows = spark.sql(
        f"SELECT summary['{OFFSETS_PROPERTY}'] AS offsets FROM {table}.snapshots "
        f"WHERE summary['{OFFSETS_PROPERTY}'] IS NOT NULL ORDER BY committed_at DESC LIMIT 1"
    ).collect()
    return json.loads(rows[0].offsets) if rows else {}


def _advance(offsets: dict[str, dict[str, int]], rows: list) -> dict[str, dict[str, int]]:
    merged = {topic: dict(parts) for topic, parts in offsets.items()}
    for row in rows:
        parts = merged.setdefault(row.topic, {})
        parts[str(row.partition)] = max(parts.get(str(row.partition), -1), row.last)
    return merged


class Changelog:
    """Appends to the change log table. The offsets it holds are read from the table once, then kept in step
    with this process's own commits (the job is the table's only writer)."""

    def __init__(self, table: str):
        self.table = table
        self._committed: dict[str, dict[str, int]] | None = None

    def append(self, spark: SparkSession, events: DataFrame) -> int:
        """Append the events not yet in the change log; the number appended."""
        if self._committed is None:
            ensure_changelog(spark, self.table)
            self._committed = committed_offsets(spark, self.table)
        committed = self._committed
        rows = changelog_rows(events)
        if committed:
            done = spark.createDataFrame(
                [(t, int(p), o) for t, parts in committed.items() for p, o in parts.items()],
                "topic string, partition int, committed bigint",
            )
            rows = (rows.join(F.broadcast(done), ["topic", "partition"], "left")
                    .where(F.col("committed").isNull() | (F.col("offset") > F.col("committed")))
                    .drop("committed"))
        rows = rows.persist()
        try:
            ranges = rows.groupBy("topic", "partition").agg(F.max("offset").alias("last"), F.count("*").alias("n"))
            ranges = ranges.collect()
            appended = sum(r.n for r in ranges)
            if appended:
                offsets = _advance(committed, ranges)
                (rows.writeTo(self.table)
                 .option(f"snapshot-property.{OFFSETS_PROPERTY}", json.dumps(offsets, sort_keys=True))
                 .append())
                self._committed = offsets
            return appended
        finally:
            rows.unpersist()


def write_quarantine(quarantine: DataFrame, uri: str) -> int:
    """Write poison messages as JSON lines under `uri`; the number written.

    The folder is named after the first message's Kafka position, so a replayed batch overwrites its own output.
    """
    count, first = quarantine.agg(F.count("*"), F.min(F.struct("topic", "partition", "offset"))).first()
    if not count:
        return 0
    path = f"{uri.rstrip('/')}/{first.topic}-{first.partition}-{first.offset}"
    quarantine.coalesce(1).write.mode("overwrite").json(path)
    log.warning("quarantined %d poison message(s) to %s", count, path)
    return count
