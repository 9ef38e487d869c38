"""The streaming job: Kafka -> per micro-batch: quarantine, change log, one MERGE per mirror table."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from glue import columns, rows
from glue.changelog import Changelog, write_quarantine
from glue.columns import ColumnSpec
from glue.decode import events_of, parse, quarantine_of
from glue.maintenance import maintain
from glue.merge import merge_changes, q, table_ident
from glue.metrics import batch_record, offset_ranges, write_record
from glue.options import JobOptions, parse_args
from glue.session import build_session

log = logging.getLogger("glue.job")


@dataclass(frozen=True)
class Lake:
    """Where a batch goes: the catalog's namespace, the change log's name, the quarantine prefix."""

    catalog: str
    database: str
    changelog_table: str
    quarantine_uri: str

    @classmethod
    def of(cls, opts: JobOptions) -> Lake:
        return cls(opts.catalog_name, opts.database, opts.changelog_table, opts.quarantine_uri)

    def table(self, name: str) -> str:
        return table_ident(self.catalog, self.database, name)


@dataclass
class TableBatch:
    """What one batch holds for one source table: its key and every schema version seen, oldest first."""

    schema: str
    table: str
    key_cols: list[str] = field(default_factory=list)
    versions: list[list[ColumnSpec]] = field(default_factory=list)
    events: int = 0
    schemaless: bool = False


@dataclass(frozen=True)
class BatchReport:
    batch_id: int
    mirrored: int
    appended: int
    quarantined: int
    tables: dict[str, int]
    skipped: dict[str, str]
    seconds: float

    def __str__(self) -> str:
        tables = ", ".join(f"{t} {n}" for t, n in sorted(self.tables.items())) or "none"
        text = (f"batch {self.batch_id}: {self.appended} events appended to the change log, "
                f"{self.quarantined} quarantined; merged: {tables} ({self.seconds:.1f}s)")
        for t, why in sorted(self.skipped.items()):
            text += f"; {t} not mirrored: {why}"
        return text


def mirror_table_name(source_schema: str, source_table: str) -> str:
    # Glue Data Catalog names are lower case
    return source_table.lower()


def table_batches(events: DataFrame) -> list[TableBatch]:
    """The tables of a batch with their keys and schema versions (a small aggregate collected to the driver)."""
    variants = (
        events.groupBy("source_schema", "source_table", F.sha2(F.coalesce("value_schema", F.lit("")), 256))
        .agg(F.first("value_schema", ignorenulls=True).alias("value_schema"),
             F.first("key_schema", ignorenulls=True).alias("key_schema"),
             F.first("key", ignorenulls=True).alias("key"),
             F.min("lsn").alias("first_lsn"), F.count("*").alias("n"))
        .orderBy("first_lsn")
        .collect()
    )
    tables: dict[tuple[str, str], TableBatch] = {}
    for v in variants:
        tb = tables.setdefault((v.source_schema, v.source_table), TableBatch(v.source_schema, v.source_table))
        tb.events += v.n
        if not tb.key_cols:
            tb.key_cols = columns.key_columns(v.key_schema, v.key)
        if v.value_schema:
            tb.versions.append(columns.specs_from_envelope_schema(v.value_schema))
        else:
            tb.schemaless = True
    return list(tables.values())


def _table_events(events: DataFrame, tb: TableBatch) -> DataFrame:
    return events.where((F.col("source_schema") == tb.schema) & (F.col("source_table") == tb.table))


def table_specs(events: DataFrame, tb: TableBatch) -> list[ColumnSpec]:
    versions = list(tb.versions)
    if tb.schemaless:
        images = _table_events(events, tb).where(F.col("value_schema").isNull())
        images = images.select(F.col("after").alias("j")).union(images.select(F.col("before").alias("j")))
        # embedded schemas, when some events have them, say more than inference
        versions.insert(0, rows.inferred_specs(images))
    return columns.merge_specs(versions)


def mirror_tables(spark: SparkSession, events: DataFrame, lake: Lake, known: dict[str, dict[str, str]] | None = None
                  ) -> tuple[dict[str, int], dict[str, str]]:
    """MERGE each table's events into its mirror table: ({mirror table: events}, {source table: why skipped}).

    known: column types of mirror tables, kept from batch to batch (see glue.merge.merge_changes).
    """
    merged: dict[str, int] = {}
    skipped: dict[str, str] = {}
    for tb in table_batches(events):
        name = mirror_table_name(tb.schema, tb.table)
        label = f"{tb.schema}.{tb.table}"
        if name == lake.changelog_table:
            skipped[label] = f"its mirror would be the change log table {name}"
            continue
        if not tb.key_cols:
            skipped[label] = "no primary key (Kafka messages without key)"
            continue
        specs = table_specs(events, tb)
        typed = rows.typed_changes(_table_events(events, tb), tb.key_cols, specs)
        by_name = {s.name: s for s in specs}
        key_specs = [by_name[k] for k in tb.key_cols]
        data_specs = [s for s in specs if s.name not in tb.key_cols]
        merge_changes(spark, lake.table(name), typed, key_specs, data_specs, known)
        merged[name] = tb.events
    return merged, skipped


class BatchWriter:
    """What each micro-batch does to the lake: quarantine, change log, mirror tables (the foreachBatch function).

    metrics_uri: where each batch records its Kafka offsets and when its changes became visible (glue.metrics).
    """

    def __init__(self, lake: Lake, maintenance_every: int = 0, metrics_uri: str | None = None):
        self.lake = lake
        self.changelog = Changelog(lake.table(lake.changelog_table))
        self.known: dict[str, dict[str, str]] = {}
        self.maintenance_every = maintenance_every
        self.metrics_uri = metrics_uri
        self.touched: set[str] = set()

    def __call__(self, batch: DataFrame, batch_id: int) -> BatchReport:
        started, started_at_ms = time.monotonic(), time.time_ns() // 1_000_000
        spark = batch.sparkSession
        batch = batch.persist()
        parsed = parse(batch).persist()  # the JSON is parsed once, for the quarantine and every step after it
        events, quarantine = events_of(parsed), quarantine_of(parsed)
        try:
            ranges = offset_ranges(batch) if self.metrics_uri else []
            steps = {"read": time.monotonic() - started}
            quarantined = write_quarantine(quarantine, self.lake.quarantine_uri)
            steps["quarantine"] = time.monotonic() - started - sum(steps.values())
            appended = self.changelog.append(spark, events)
            steps["changelog"] = time.monotonic() - started - sum(steps.values())
            merged, skipped = mirror_tables(spark, events, self.lake, self.known)
            steps["merge"] = time.monotonic() - started - sum(steps.values())
            visible_at_ms = time.time_ns() // 1_000_000  # every MERGE of the batch is committed: readers see it
            report = BatchReport(batch_id, sum(merged.values()), appended, quarantined, merged, skipped,
                                 time.monotonic() - started)
        finally:
            parsed.unpersist()
            batch.unpersist()
        log.info("%s", report)
        if self.metrics_uri and ranges:
            write_record(spark, self.metrics_uri, batch_record(batch_id, started_at_ms, visible_at_ms, ranges,
                                                               appended, report.mirrored, steps))
        self.touched.update(merged)
        if self.maintenance_every and (batch_id + 1) % self.maintenance_every == 0:
            tables = sorted(self.touched) + ([self.lake.changelog_table] if appended or self.touched else [])
            maintain(spark, self.lake.catalog, self.lake.database, tables)
            self.touched.clear()
        return report


def read_kafka(spark: SparkSession, opts: JobOptions) -> DataFrame:
    return (
        spark.readStream.format("kafka")
        .options(**opts.kafka_client_options())
        # a pattern, not a list: a table created later is picked up without a restart
        .option("subscribePattern", opts.topic_pattern)
        .option("startingOffsets", opts.starting_offsets)
        .option("maxOffsetsPerTrigger", str(opts.max_offsets_per_trigger))
        .load()
    )


def start(spark: SparkSession, opts: JobOptions) -> StreamingQuery:
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {q(opts.catalog_name)}.{q(opts.database)}")
    return (
        read_kafka(spark, opts).writeStream
        .foreachBatch(BatchWriter(Lake.of(opts), opts.maintenance_every, opts.metrics_uri))
        .queryName("cdc-to-lake")
        .option("checkpointLocation", opts.checkpoint_uri)
        .trigger(processingTime=f"{opts.trigger_seconds} seconds")
        .start()
    )


def main(argv: Sequence[str]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        opts = parse_args(argv)
    except ValueError as e:
        raise SystemExit(f"cdc_to_lake: {e}") from None
    spark = build_session(opts)
    spark.sparkContext.setLogLevel("WARN")
    query = start(spark, opts)
    log.info("streaming %s from %s into %s.%s (checkpoint %s)", opts.topic_pattern, opts.kafka_bootstrap,
             opts.catalog_name, opts.database, opts.checkpoint_uri)
    query.awaitTermination()
