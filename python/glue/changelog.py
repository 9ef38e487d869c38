"""The change log (bronze): every change event, once, in one Iceberg table; the quarantine of poison messages.

Iceberg rather than plain Parquet files: an append is one atomic commit (a job killed mid-write leaves no partial
files for readers). Row images stay JSON text, exactly as Debezium sent them, with a reference to their Connect schema
in `cdc_schemas`, so the mirrors can be rebuilt from the change log alone (glue.history).

Each change is logged once, its first copy in a batch. A change is its table, its place in commit order, its op and
its key: a micro-batch replayed after a crash and a change Debezium re-sends after a restart (at new Kafka offsets)
carry the same ones. Each append records, per topic partition, the latest place it logged (`cdc.positions` in the
snapshot summary); an event placed after that is new, which is every event of a normal batch. Only events placed at or
before it (a replay, a re-send, more rows of one snapshot) are checked against the log itself, reading the files whose
commit_lsn bounds reach that far back. A topic deleted and re-created starts its offsets again but not its places: it
is appended.
"""

from __future__ import annotations

import hashlib
import json
import logging

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from glue.contents import Partition, Position
from glue.rowdelta import IcebergTable
from glue.sqlnames import COMMON_PROPERTIES, tblproperties

log = logging.getLogger(__name__)

POSITIONS_PROPERTY = "cdc.positions"  # snapshot summary: {"topic": {"partition": [commit_lsn, lsn]}}
SCHEMAS_TABLE = "cdc_schemas"

COLUMNS = {
    "source_db": "string", "source_schema": "string", "source_table": "string",
    "op": "string", "commit_lsn": "bigint", "lsn": "bigint", "tx_id": "bigint", "snapshot": "string",
    "source_ts": "timestamp", "event_ts": "timestamp", "event_date": "date",
    "key": "string", "old_key": "string", "before": "string", "after": "string", "schema_id": "string",
    "topic": "string", "partition": "int", "offset": "bigint", "kafka_timestamp": "timestamp",
}
IDENTITY = ("source_schema", "source_table", "commit_lsn", "lsn", "op", "key")


def schema_id(value_schema: str) -> str:
    """A Connect schema's id: the SHA-256 of its text (as Spark's sha2 gives it)."""
    return hashlib.sha256(value_schema.encode("utf-8")).hexdigest()


def changelog_rows(events: DataFrame) -> DataFrame:
    """The change log's columns from decoded events (glue.decode)."""
    source_ts = F.timestamp_millis("source_ts_ms")
    return events.select(
        "source_db", "source_schema", "source_table", "op", "commit_lsn", "lsn", "tx_id", "snapshot",
        source_ts.alias("source_ts"),
        F.timestamp_millis("ts_ms").alias("event_ts"),
        # the commit's date in UTC (the session's time zone)
        F.to_date(source_ts).alias("event_date"),
        "key", "old_key", "before", "after", "schema_id",
        "topic", "partition", "offset", "kafka_timestamp",
    )


def ensure_changelog(spark: SparkSession, table: str) -> None:
    """Create the change log, or add the columns an older version of the job did not write."""
    cols = ", ".join(f"`{name}` {kind}" for name, kind in COLUMNS.items())
    spark.sql(f"CREATE TABLE IF NOT EXISTS {table} ({cols}) USING iceberg "
              "PARTITIONED BY (source_table, event_date) " + tblproperties(COMMON_PROPERTIES))
    existing = set(spark.table(table).columns)
    missing = [f"`{name}` {kind}" for name, kind in COLUMNS.items() if name not in existing]
    if missing:
        spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({', '.join(missing)})")


def first_copies(rows: DataFrame) -> DataFrame:
    """One row per change: the copy at the lowest Kafka position. A batch can hold a change twice when Debezium sends
    again, from its last committed offset, changes still in the same micro-batch (PostgreSQL restarted)."""
    first = Window.partitionBy(*IDENTITY).orderBy("partition", "offset")
    return rows.withColumn("_copy", F.row_number().over(first)).where("_copy = 1").drop("_copy")


def logged_positions(spark: SparkSession, table: str) -> dict[str, dict[str, list[int]]]:
    """The latest place logged per topic and partition."""
    rows = spark.sql(
        f"SELECT summary['{POSITIONS_PROPERTY}'] AS positions FROM {table}.snapshots "
        f"WHERE summary['{POSITIONS_PROPERTY}'] IS NOT NULL ORDER BY committed_at DESC LIMIT 1"
    ).collect()
    return json.loads(rows[0].positions) if rows else {}


def _advance(positions: dict[str, dict[str, list[int]]], lasts: list[tuple[str, int, Position]]
             ) -> dict[str, dict[str, list[int]]]:
    merged = {topic: dict(parts) for topic, parts in positions.items()}
    for topic, partition, last in lasts:
        parts = merged.setdefault(topic, {})
        parts[str(partition)] = max(parts.get(str(partition), list(last)), list(last))
    return merged


class SchemaRegistry:
    """The Connect schemas the change log's rows refer to (`cdc_schemas`: id, text), held by the job: their texts by
    id (for a batch's tables and for the change log read back) and, as batches show them, their ids by hash
    (glue.decode.schema_hash). A schema is registered before the first row that names it is appended."""

    def __init__(self, table: str):
        self.table = table
        self.texts: dict[str, str] | None = None
        self.ids: dict[int, str] = {}  # schema hash -> id
        self._new: dict[str, str] = {}  # learnt, not registered yet

    def load(self, spark: SparkSession) -> dict[str, str]:
        if self.texts is None:
            spark.sql(f"CREATE TABLE IF NOT EXISTS {self.table} (schema_id string, value_schema string, "
                      "first_seen timestamp) USING iceberg " + tblproperties(COMMON_PROPERTIES))
            self.texts = {r.schema_id: r.value_schema for r in spark.table(self.table).collect()}
        return self.texts

    def learn(self, spark: SparkSession, texts: dict[int, str]) -> None:
        """Schemas a batch showed: {hash: text}."""
        known = self.load(spark)
        for h, text in texts.items():
            sid = schema_id(text)
            self.ids[h] = sid
            if sid not in known:
                known[sid] = text
                self._new[sid] = text

    def register(self, spark: SparkSession) -> None:
        """Record the schemas learnt since the last time (a handful per schema change)."""
        if self._new:
            (spark.createDataFrame(list(self._new.items()), "schema_id string, value_schema string")
             .withColumn("first_seen", F.current_timestamp())
             .writeTo(self.table).append())
            self._new.clear()


class Changelog:
    """Appends to the change log table and its schema registry. What is logged is read from the tables once, then
    kept in step with this process's own commits (the job is their only writer)."""

    def __init__(self, table: str, schemas_table: str):
        self.table = table
        self.registry = SchemaRegistry(schemas_table)
        self._positions: dict[str, dict[str, list[int]]] | None = None

    def _load(self, spark: SparkSession) -> None:
        if self._positions is None:
            ensure_changelog(spark, self.table)
            self.registry.load(spark)
            self._positions = logged_positions(spark, self.table)

    def _after_logged(self, partition: Partition) -> bool:
        logged = self._positions.get(partition.topic, {}).get(str(partition.partition))
        return logged is None or partition.first > tuple(logged)

    def _placed_after_logged(self, spark: SparkSession, rows: DataFrame) -> DataFrame:
        """rows with `_after`: placed after the latest place logged for their topic partition."""
        if not self._positions:
            return rows.withColumn("_after", F.lit(True))
        logged = spark.createDataFrame(
            [(t, int(p), c, lsn) for t, parts in self._positions.items() for p, (c, lsn) in parts.items()],
            "topic string, partition int, logged_commit_lsn bigint, logged_lsn bigint")
        rows = rows.join(F.broadcast(logged), ["topic", "partition"], "left")
        after = (F.col("logged_commit_lsn").isNull() | (F.col("commit_lsn") > F.col("logged_commit_lsn"))
                 | ((F.col("commit_lsn") == F.col("logged_commit_lsn")) & (F.col("lsn") > F.col("logged_lsn"))))
        return rows.withColumn("_after", after).drop("logged_commit_lsn", "logged_lsn")

    def _not_logged(self, spark: SparkSession, rows: DataFrame, tables: list[str]) -> DataFrame:
        """The rows of `rows` placed at or before what is logged (a replay, a re-send, more of one snapshot) that
        the log does not hold, compared from the earliest such place on."""
        earlier = rows.where(~F.col("_after"))
        since = earlier.agg(F.min("commit_lsn")).first()[0]
        logged = (spark.table(self.table)
                  .where(F.col("source_table").isin(*tables) & (F.col("commit_lsn") >= since))
                  .select(*IDENTITY).distinct())
        return earlier.join(logged, [earlier[c].eqNullSafe(logged[c]) for c in IDENTITY], "left_anti")

    def append(self, spark: SparkSession, events: DataFrame, partitions: list[Partition]) -> int:
        """Append the events not yet in the change log; the number appended. partitions: the batch's topic
        partitions (glue.contents), whose events' places say whether any can be logged already."""
        self._load(spark)
        placed = [p for p in partitions if p.first is not None]
        if not placed:
            return 0
        rows = first_copies(changelog_rows(events))
        if all(self._after_logged(p) for p in placed):  # a batch of new changes, the usual one
            return self._write(spark, rows, [(p.topic, p.partition, p.last) for p in placed])
        rows, new = self._placed_after_logged(spark, rows).persist(), None
        try:
            stats = (rows.groupBy("topic", "partition", "_after")
                     .agg(F.max(F.struct("commit_lsn", "lsn")).alias("last"), F.count("*").alias("n"),
                          F.collect_set("source_table").alias("tables")).collect())
            earlier = sorted({t for s in stats if not s._after for t in s.tables})
            new = (rows.where(F.col("_after")).unionByName(self._not_logged(spark, rows, earlier)).drop("_after")
                   .persist())
            if not new.count():
                return 0
            return self._write(spark, new, [(s.topic, s.partition, (s["last"].commit_lsn, s["last"].lsn))
                                            for s in stats])
        finally:
            if new is not None:
                new.unpersist()
            rows.unpersist()

    def _write(self, spark: SparkSession, rows: DataFrame, lasts: list[tuple[str, int, Position]]) -> int:
        """Append `rows`, recording the latest place logged per topic partition; how many were appended."""
        self.registry.register(spark)
        positions = _advance(self._positions, lasts)
        recorded = json.dumps(positions, sort_keys=True)
        rows.writeTo(self.table).option(f"snapshot-property.{POSITIONS_PROPERTY}", recorded).append()
        self._positions = positions
        return _added_records(spark, self.table, recorded)


def _added_records(spark: SparkSession, table: str, positions: str) -> int:
    """The rows the append that recorded `positions` added (its snapshot's summary): none when it added none."""
    iceberg = IcebergTable(spark, table).table
    snapshot = iceberg.currentSnapshot()
    while snapshot is not None:
        summary = snapshot.summary()
        if summary.get(POSITIONS_PROPERTY) == positions:
            return int(summary.get("added-records") or 0)
        parent = snapshot.parentId()
        snapshot = None if parent is None else iceberg.snapshot(parent)
    return 0


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
