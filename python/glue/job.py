"""The streaming job: Kafka -> per micro-batch: quarantine, change log, each mirror table on its own."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from glue import markers
from glue.backlog import Backlog
from glue.changelog import SCHEMAS_TABLE, Changelog, write_quarantine
from glue.contents import Contents, Variant, contents
from glue.control import DROPPED, Control, controls_of, is_control
from glue.decode import events_of, parse, quarantine_of, schema_texts
from glue.failures import is_conflict, is_transient, one_line
from glue.history import History
from glue.markers import Markers
from glue.metrics import batch_record, write_record
from glue.options import JobOptions
from glue.session import start_session
from glue.sqlnames import q, table_ident
from glue.state import TableStates
from glue.tables import MirrorWriter, TableBatch, table_batches

log = logging.getLogger("glue.job")

# times a mirror's share of a batch is planned again after its commit was refused for another writer's (the
# maintenance job's), before the mirror is paused like for any other failure
CONFLICT_ATTEMPTS = 4


@dataclass(frozen=True)
class Lake:
    """Where a batch goes: the catalog's namespace, the change log's name, the quarantine and state prefixes, and
    which topics carry control events rather than rows."""

    catalog: str
    database: str
    changelog_table: str
    quarantine_uri: str
    state_uri: str
    ddl_topic: str | None = None
    heartbeat_topic: str | None = None
    delete_marker_retention_hours: int = 168

    @classmethod
    def of(cls, opts: JobOptions) -> Lake:
        return cls(opts.catalog_name, opts.database, opts.changelog_table, opts.quarantine_uri, opts.state_uri,
                   opts.ddl_topic, opts.heartbeat_topic, opts.delete_marker_retention_hours)

    def table(self, name: str) -> str:
        return table_ident(self.catalog, self.database, name)

    @property
    def reserved(self) -> set[str]:
        """Names of the lake's own tables, which no mirror may take."""
        return {self.changelog_table, SCHEMAS_TABLE, markers.TABLE}


@dataclass(frozen=True)
class BatchReport:
    batch_id: int
    mirrored: int
    appended: int
    quarantined: int
    tables: dict[str, int]
    skipped: dict[str, str]
    paused: dict[str, str]
    seconds: float

    def __str__(self) -> str:
        tables = ", ".join(f"{t} {n}" for t, n in sorted(self.tables.items())) or "none"
        text = (f"batch {self.batch_id}: {self.appended} events appended to the change log, "
                f"{self.quarantined} quarantined; merged: {tables} ({self.seconds:.1f}s)")
        for t, why in sorted(self.skipped.items()):
            text += f"; {t} not mirrored: {why}"
        for t, why in sorted(self.paused.items()):
            text += f"; {t} PAUSED: {why}"
        return text


@dataclass(frozen=True)
class Pace:
    """When the next micro-batch starts. A busy stream's batches run back to back, so a change waits at most for the
    batch running when it arrives and its own; a quiet one's start `interval` apart, so a trickle of changes costs a
    batch's fixed work every `interval` rather than all the time. The backlog, polled every `probe_seconds`, ends a
    quiet wait early: once `busy_messages` have arrived (the stream is busy again), or once messages have arrived and
    no more for `settle_seconds` (a burst, a transaction, that has ended: its changes need not wait for the pace). A
    steady trickle keeps arriving, and an idle source sends nothing, so neither ends it."""

    interval: float
    busy_messages: int
    backlog: Backlog | None = None
    probe_seconds: float = 0.25
    settle_seconds: float = 1.0

    def wait(self, started: float, consumed: dict[tuple[str, int], tuple[int, int]]) -> None:
        """After a batch that began at `started` (time.monotonic) and read, per topic partition, (messages, end offset
        exclusive): what arrived while it ran counts as arrived."""
        if sum(count for count, _ in consumed.values()) >= self.busy_messages:
            return
        deadline = started + self.interval
        if self.backlog is None:
            time.sleep(max(0.0, deadline - time.monotonic()))
            return
        try:
            arrived = self.backlog.watch({p: end for p, (_, end) in consumed.items()})
            count, counted_at = 0, time.monotonic()
            while (left := deadline - time.monotonic()) > 0:
                time.sleep(min(self.probe_seconds, left))
                now, latest = time.monotonic(), arrived()
                if latest >= self.busy_messages:
                    return
                if latest != count:
                    count, counted_at = latest, now
                elif count and now - counted_at >= self.settle_seconds:
                    return
        except Exception as error:  # the batch itself will find out what is wrong with Kafka
            log.warning("could not look at Kafka's backlog (%s): waiting the quiet pace", one_line(error))
            time.sleep(max(0.0, deadline - time.monotonic()))


class BatchWriter:
    """What each micro-batch does to the lake: quarantine, change log, mirror tables (the foreachBatch function).

    metrics_uri: where each batch records its Kafka offsets and when its changes became visible (glue.metrics).
    pace: when the next batch starts (none: as soon as Spark runs it).
    """

    def __init__(self, lake: Lake, metrics_uri: str | None = None, pace: Pace | None = None):
        self.lake = lake
        self.changelog = Changelog(lake.table(lake.changelog_table), lake.table(SCHEMAS_TABLE))
        self.markers = Markers(lake.table(markers.TABLE))
        self.history = History(lake.table(lake.changelog_table), self.changelog.registry, lake.ddl_topic)
        self.mirrors = MirrorWriter(lake.catalog, lake.database, self.markers, self.history)
        self.states = TableStates(lake.state_uri)
        self.metrics_uri = metrics_uri
        self.pace = pace

    def __call__(self, batch: DataFrame, batch_id: int) -> BatchReport:
        started, started_at_ms = time.monotonic(), time.time_ns() // 1_000_000
        spark = batch.sparkSession
        ignored = (self.lake.heartbeat_topic,) if self.lake.heartbeat_topic else ()
        parsed = parse(batch, ignored).persist()  # the JSON is parsed once, for every step after it
        try:
            found = contents(parsed)
            steps = {"read": time.monotonic() - started}
            # a batch of heartbeats alone (an idle source) has nothing for the change log or a mirror: it only gives
            # the operator's requests and the paused mirrors their turn, at a fraction of a batch's fixed cost
            news = found.news()
            quarantined = write_quarantine(quarantine_of(parsed), self.lake.quarantine_uri) if found.poison else 0
            steps["quarantine"] = time.monotonic() - started - sum(steps.values())
            variants = self._identified(spark, batch, found.variants, ignored)
            events = events_of(parsed, {v.schema_hash: v.schema_id for v in variants if v.schema_id})
            tables = table_batches(variants, self.changelog.registry.texts or {})
            # The change log is appended after the mirrors, so their changes are visible sooner, unless a mirror reads
            # it back (a rebuild, a catch-up), which then appends it first (glue.history).
            log_changes = functools.cache(lambda: self._log(spark, events, found, steps) if news else 0)
            self.history.before_read = log_changes
            mirroring = time.monotonic()
            merged, skipped, paused = self.mirror_tables(spark, events, tables, batch_id)
            steps["merge"] = time.monotonic() - mirroring
            visible_at_ms = time.time_ns() // 1_000_000  # every mirror's commit is done: readers see the batch
            appended = log_changes()
            self.markers.flush(spark)  # what protects later batches from older events, not what readers see
            report = BatchReport(batch_id, sum(merged.values()), appended, quarantined, merged, skipped, paused,
                                 time.monotonic() - started)
        finally:
            self.history.before_read = lambda: None
            self.mirrors.release()
            parsed.unpersist()
        log.info("%s", report)
        if self.metrics_uri and news:
            write_record(spark, self.metrics_uri, batch_record(batch_id, started_at_ms, visible_at_ms, found.ranges(),
                                                               appended, report.mirrored, steps, paused))
        if self.pace:
            self.pace.wait(started, {(p.topic, p.partition): (p.count, p.last_offset + 1) for p in found.partitions})
        return report

    def _log(self, spark: SparkSession, events: DataFrame, found: Contents, steps: dict[str, float]) -> int:
        started = time.monotonic()
        appended = self.changelog.append(spark, events, found.partitions)
        steps["changelog"] = time.monotonic() - started
        return appended

    def _identified(self, spark: SparkSession, batch: DataFrame, variants: list[Variant],
                    ignored: tuple[str, ...]) -> list[Variant]:
        """The variants with their schema ids: a schema the job has not seen yet is read from the batch again."""
        registry = self.changelog.registry
        registry.load(spark)
        new = sorted({v.schema_hash for v in variants if v.schema_hash is not None} - set(registry.ids))
        if new:
            registry.learn(spark, schema_texts(batch, new, ignored))
        return [replace(v, schema_id=registry.ids[v.schema_hash]) if v.schema_hash is not None else v
                for v in variants]

    def mirror_tables(self, spark: SparkSession, events: DataFrame, tables: list[TableBatch], batch_id: int
                      ) -> tuple[dict[str, int], dict[str, str], dict[str, str]]:
        """Each mirror on its own.

        Returns ({mirror: events applied}, {source table: why not mirrored}, {mirror: why paused}).
        """
        ddl = self.lake.ddl_topic
        has_controls = any(tb.truncates for tb in tables) or any(self._is_ddl(tb) for tb in tables)
        controls = controls_of(events, ddl) if has_controls else []
        data = events.where(~is_control(ddl)) if has_controls else events
        by_mirror: dict[str, list[TableBatch]] = {}
        skipped: dict[str, str] = {}
        for tb in tables:
            label = f"{tb.schema}.{tb.table}"
            if self._is_ddl(tb) or tb.events == tb.truncates:
                continue
            if tb.mirror in self.lake.reserved:
                skipped[label] = f"its mirror would be the lake's own table {tb.mirror}"
            elif not tb.key_cols:
                skipped[label] = "no primary key (Kafka messages without key)"
            else:
                by_mirror.setdefault(tb.mirror, []).append(tb)
        requests, floors = self.states.requests(spark)
        for uri, (position, cause) in floors.items():
            for mirror in self._mirror_names(spark):
                self.mirrors.forget_before(spark, mirror, position, cause)
            self.states.done(spark, uri)
        paused_before = self.states.load(spark)
        names = (set(by_mirror) | {c.mirror for c in controls if c.mirror not in self.lake.reserved} | set(requests)
                 | {m for m in paused_before if self.states.due(spark, m)})
        merged: dict[str, int] = {}
        paused: dict[str, str] = {}
        for mirror in sorted(names):
            own = [c for c in controls if c.mirror == mirror]
            try:
                applied = self._retried(spark, mirror, data, by_mirror.get(mirror, []), own, requests)
            except Exception as error:
                if is_transient(error):
                    raise
                self.mirrors.forget(mirror)  # its shape and rows may have changed halfway
                paused[mirror] = self.states.pause(spark, mirror, one_line(error), batch_id).reason
                continue
            if applied is None:
                paused[mirror] = self.states.paused[mirror].reason
            else:
                merged[mirror] = applied
        return merged, skipped, paused

    def _retried(self, spark: SparkSession, mirror: str, data: DataFrame, tbs: Sequence[TableBatch],
                 controls: Sequence[Control], requests: dict[str, str]) -> int | None:
        """_one_mirror, planned again on the newest snapshot when its commit conflicted with another writer's.
        Applying events a second time leaves the same rows (glue.merge), so a retry after a part committed is
        harmless."""
        attempt = 1
        while True:
            try:
                return self._one_mirror(spark, mirror, data, tbs, controls, requests)
            except Exception as error:
                if attempt == CONFLICT_ATTEMPTS or not is_conflict(error):
                    raise
                log.info("%s: commit refused (%s); planning it again", mirror, one_line(error))
                attempt += 1

    def _mirror_names(self, spark: SparkSession) -> list[str]:
        """Every mirror in the lake's namespace (not the lake's own tables)."""
        rows = spark.sql(f"SHOW TABLES IN {q(self.lake.catalog)}.{q(self.lake.database)}").collect()
        return sorted(r.tableName for r in rows if r.tableName not in self.lake.reserved)

    def _is_ddl(self, tb: TableBatch) -> bool:
        return self.lake.ddl_topic is not None and tb.topics == {self.lake.ddl_topic}

    def _one_mirror(self, spark: SparkSession, mirror: str, data: DataFrame, tbs: Sequence[TableBatch],
                    controls: Sequence[Control], requests: dict[str, str]) -> int | None:
        """Apply one mirror's share of the batch; None when it stays paused (its events wait in the change log)."""
        if mirror in requests:
            applied = self.mirrors.rebuild(spark, mirror)
            # the pause goes before the request: `make rebuild` reads the pause as soon as the request is gone
            self.states.resume(spark, mirror)
            self.states.done(spark, requests[mirror])
            log.info("%s rebuilt from the change log on request", mirror)
            return applied
        if mirror in self.states.load(spark):
            dropped = [c for c in controls if c.kind == DROPPED]
            if not (self.states.due(spark, mirror) or controls):
                return None
            if dropped:
                self.markers.raise_floor(spark, mirror, dropped[-1].position, DROPPED)
                applied = self.mirrors.rebuild(spark, mirror)
            else:
                applied = self.mirrors.catch_up(spark, mirror)
            self.states.resume(spark, mirror)
            return applied
        applied = 0
        for i, tb in enumerate(tbs or [None]):
            applied += self.mirrors.apply(spark, mirror, data, tb, controls if i == 0 else [])
        return applied


def read_kafka(spark: SparkSession, opts: JobOptions) -> DataFrame:
    return (
        spark.readStream.format("kafka")
        .options(**opts.kafka_client_options())
        # a pattern, not a list: a table created later is picked up without a restart
        .option("subscribePattern", opts.subscribe_pattern)
        .option("startingOffsets", opts.starting_offsets)
        .option("maxOffsetsPerTrigger", str(opts.max_offsets_per_trigger))
        # Debezium's old-key header on the insert half of a primary-key update (glue.tables fills its unchanged
        # TOAST values from the old key's row)
        .option("includeHeaders", "true")
        # a topic deleted and re-created restarts its offsets: go on rather than stop every table (glue.changelog)
        .option("failOnDataLoss", "false")
        # a topic partition's share of a batch is read and parsed by every core, not one
        .option("minPartitions", str(spark.sparkContext.defaultParallelism))
        .load()
    )


def start(spark: SparkSession, opts: JobOptions) -> StreamingQuery:
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {q(opts.catalog_name)}.{q(opts.database)}")
    lake = Lake.of(opts)
    ignored = (lake.heartbeat_topic,) if lake.heartbeat_topic else ()
    return (
        read_kafka(spark, opts).writeStream
        .foreachBatch(BatchWriter(lake, opts.metrics_uri,
                                  Pace(opts.trigger_seconds, opts.busy_messages, Backlog(spark, opts, ignored))))
        .queryName("cdc-to-lake")
        .option("checkpointLocation", opts.checkpoint_uri)
        .trigger(processingTime="0 seconds")  # each batch decides when the next starts (Pace)
        .start()
    )


def main(argv: Sequence[str]) -> None:
    opts, spark = start_session(argv, "cdc_to_lake")
    query = start(spark, opts)
    log.info("streaming %s from %s into %s.%s (checkpoint %s)", opts.subscribe_pattern, opts.kafka_bootstrap,
             opts.catalog_name, opts.database, opts.checkpoint_uri)
    query.awaitTermination()

