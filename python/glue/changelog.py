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

import json
import logging

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

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


def schema_id(value_schema: F.Column) -> F.Column:
    return F.sha2(value_schema, 256)


def changelog_rows(events: DataFrame) -> DataFrame:
    """The change log's columns from decoded events (glue.decode)."""
    source_ts = F.timestamp_millis("source_ts_ms")
    return events.select(
        "source_db", "source_schema", "source_table", "op", "commit_lsn", "lsn", "tx_id", "snapshot",
        source_ts.alias("source_ts"),
        F.timestamp_millis("ts_ms").alias("event_ts"),
        # the commit's date in UTC (the session's time zone)
        F.to_date(source_ts).alias("event_date"),
        "key", "old_key", "before", "after", schema_id(F.col("value_schema")).alias("schema_id"),
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


def _advance(positions: dict[str, dict[str, list[int]]], rows: list) -> dict[str, dict[str, list[int]]]:
    merged = {topic: dict(parts) for topic, parts in positions.items()}
    for row in rows:
        parts = merged.setdefault(row.topic, {})
        latest = [row.last.commit_lsn, row.last.lsn]
        parts[str(row.partition)] = max(parts.get(str(row.partition), latest), latest)
    return merged


class Changelog:
    """Appends to the change log table and its schema registry. What is logged is read from the tables once, then
    kept in step with this process's own commits (the job is their only writer)."""

    def __init__(self, table: str, schemas_table: str):
        self.table = table
        self.schemas_table = schemas_table
        self._positions: dict[str, dict[str, list[int]]] | None = None
        self._schemas: set[str] | None = None

    def _load(self, spark: SparkSession) -> None:
        if self._positions is None:
            ensure_changelog(spark, self.table)
            spark.sql(f"CREATE TABLE IF NOT EXISTS {self.schemas_table} (schema_id string, value_schema string, "
                      "first_seen timestamp) USING iceberg " + tblproperties(COMMON_PROPERTIES))
            self._schemas = {r.schema_id for r in spark.table(self.schemas_table).select("schema_id").collect()}
            self._positions = logged_positions(spark, self.table)

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

    def append(self, spark: SparkSession, events: DataFrame, schemas: dict[str, str]) -> int:
        """Append the events not yet in the change log; the number appended. schemas: {schema_id: Connect schema}
        of the events (glue.job.table_batches found them)."""
        self._load(spark)
        rows = self._placed_after_logged(spark, first_copies(changelog_rows(events))).persist()
        try:
            stats = (rows.groupBy("topic", "partition", "_after")
                     .agg(F.max(F.struct("commit_lsn", "lsn")).alias("last"), F.count("*").alias("n"),
                          F.collect_set("source_table").alias("tables")).collect())
            earlier = [s for s in stats if not s._after]
            if earlier:
                fresh = self._not_logged(spark, rows, sorted({t for s in earlier for t in s.tables}))
                new = rows.where(F.col("_after")).unionByName(fresh).drop("_after").persist()
                appended = new.count()
            else:
                new, appended = rows.drop("_after"), sum(s.n for s in stats)
            if appended:
                self._register_schemas(spark, schemas)
                positions = _advance(self._positions, stats)
                (new.writeTo(self.table)
                 .option(f"snapshot-property.{POSITIONS_PROPERTY}", json.dumps(positions, sort_keys=True))
                 .append())
                self._positions = positions
            if earlier:
                new.unpersist()
            return appended
        finally:
            rows.unpersist()

    def _register_schemas(self, spark: SparkSession, schemas: dict[str, str]) -> None:
        """Record the Connect schemas not seen before (a handful per schema change), before the rows naming them."""
        new = [(sid, schema) for sid, schema in schemas.items() if sid not in self._schemas]
        if new:
            (spark.createDataFrame(new, "schema_id string, value_schema string")
             .withColumn("first_seen", F.current_timestamp())
             .writeTo(self.schemas_table).append())
            self._schemas.update(sid for sid, _ in new)


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
