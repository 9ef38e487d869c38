"""A micro-batch's events, table by table, into the mirror tables.

For each mirror, in this order: its control events (glue.control: a TRUNCATE raises the mirror's floor; a DROP TABLE
or a new key rebuilds it from the change log after that point; an ALTER drops the columns the source no longer has),
then its rows: the events after the floor, typed to the mirror's columns (glue.schema keeps them able to hold every
value), reduced to one net change per key, columns no event carried filled from the stored row (or the row's key
before a primary-key update, or the change log), anything at or before a delete marker dropped, MERGEd; the batch's
deletes become markers (glue.markers).

Whatever stops one mirror (a value that would be lost, a key that no longer fits, a failing MERGE) is raised as that
mirror's error: glue.job pauses that mirror alone and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyarrow.compute as pc
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue import columns, rows, schema
from glue.columns import ColumnSpec
from glue.contents import Variant, variant_aggregates, variant_of
from glue.control import ALTERED, CREATED, DROPPED, TRUNCATED, Control, controls_of, is_control, mirror_table_name
from glue.history import History
from glue.keyed import KeyedMirrors, tuples
from glue.markers import Markers, Position, key_json, newer
from glue.merge import latest_changes, merge_sql, net_changes
from glue.rows import COMMIT_LSN, LOSSY, LSN, OLD_KEY, OP, OP_TS, TOASTED, keep_flag
from glue.schema import Mirror
from glue.sqlnames import q

log = logging.getLogger(__name__)

# A table's share of a batch larger than this is applied with Spark's MERGE (which reads the mirror but works in
# parallel) rather than through the key index (which holds the batch's net changes in the driver): a catch-up from
# the change log, a rebuild. A micro-batch is at most --max-offsets-per-trigger (50,000) messages.
BULK_EVENTS = 200_000


class TableError(Exception):
    """A reason one mirror cannot take its events now; the job pauses it and goes on with the others."""


@dataclass
class TableBatch:
    """What events hold for one source table: its key and every schema version seen, oldest place first."""

    schema: str
    table: str
    key_cols: list[str] = field(default_factory=list)
    versions: list[list[ColumnSpec]] = field(default_factory=list)
    events: int = 0
    schemaless: bool = False
    specials: bool = False  # a numeric NaN or Infinity somewhere in the row images
    truncates: int = 0
    topics: set[str] = field(default_factory=set)
    placeholders: bool = False  # an unchanged-TOAST placeholder somewhere in the row images
    first: Position | None = None  # the earliest place of its events

    @property
    def mirror(self) -> str:
        return mirror_table_name(self.schema, self.table)

    def carries_every_column(self, data_cols: Sequence[str]) -> bool:
        """Every event carries a value for each of `data_cols`: no TOAST placeholder, no schema version without one."""
        return not (self.placeholders or self.schemaless) and all(
            set(data_cols) <= {s.name for s in version} for version in self.versions)


def table_batches(variants: list[Variant], schemas: Mapping[str, str]) -> list[TableBatch]:
    """The tables of a batch's variants (glue.contents) with their keys and schema versions, oldest first.
    schemas: the Connect schema of each schema id (glue.changelog.SchemaRegistry)."""
    tables: dict[tuple[str, str], TableBatch] = {}
    for v in sorted(variants, key=lambda v: v.last):
        tb = tables.setdefault((v.source_schema, v.source_table), TableBatch(v.source_schema, v.source_table))
        tb.events += v.events
        tb.truncates += v.truncates
        tb.topics.update(v.topics)
        tb.specials |= v.specials
        tb.placeholders |= v.placeholders
        tb.first = min(tb.first or v.first, v.first)
        if v.truncates == v.events:  # a TRUNCATE's schema describes no row
            continue
        if not tb.key_cols:
            tb.key_cols = columns.key_columns(v.key_schema, v.key)
        if v.schema_id:
            tb.versions.append(columns.specs_from_envelope_schema(schemas[v.schema_id]))
        else:
            tb.schemaless = True
    return list(tables.values())


def event_variants(events: DataFrame) -> list[Variant]:
    """The variants of change events read back from the change log (glue.history): one aggregate."""
    rows = events.groupBy("source_schema", "source_table", "schema_id").agg(*variant_aggregates()).collect()
    return [variant_of(r, r.schema_id) for r in rows]


def _events_of(events: DataFrame, tb: TableBatch) -> DataFrame:
    return events.where((F.col("source_schema") == tb.schema) & (F.col("source_table") == tb.table))


def table_specs(events: DataFrame, tb: TableBatch, mirror: Mirror | None) -> list[ColumnSpec]:
    """The columns to write: the newest schema version's, and older ones' only where the mirror still has them (a
    column older events carry but the newest does not was dropped or renamed)."""
    versions = list(tb.versions)
    if tb.schemaless:
        images = _events_of(events, tb).where(F.col("schema_id").isNull())
        images = images.select(F.col("after").alias("j")).union(images.select(F.col("before").alias("j")))
        # embedded schemas, when some events have them, say more than inference
        versions.insert(0, rows.inferred_specs(images))
    newest = {s.name for s in versions[-1]} if versions else set()
    existing = set(mirror.types) if mirror else set()
    return [s for s in columns.merge_specs(versions) if s.name in newest or s.name in existing]


def text_columns(events: DataFrame, specs: Sequence[ColumnSpec]) -> set[str]:
    """The numeric(p,s) columns some event sends NaN or Infinity in (looked at only when the batch has any)."""
    numeric = [s.name for s in specs if s.convert == columns.NUMERIC]
    if not numeric:
        return set()
    after = F.from_json("after", "map<string,string>")
    found = events.agg(*[F.max(F.coalesce(after[c].isin(*columns.NUMERIC_SPECIALS), F.lit(False))).alias(c)
                         for c in numeric]).first()
    return {c for c in numeric if found[c]}


def after(position: Position | None) -> F.Column:
    return F.lit(True) if position is None else newer(F.col("commit_lsn"), F.col("lsn"), position)


def history_floor(controls: Sequence[Control]) -> Position | None:
    """The place before which a mirror's history no longer counts: its last TRUNCATE, DROP TABLE or change of key."""
    floor, key = None, None
    for c in controls:
        rekeyed = c.kind in (ALTERED, CREATED) and key is not None and c.key != key
        if c.kind in (TRUNCATED, DROPPED) or rekeyed:
            floor = c.position
        if c.kind in (ALTERED, CREATED):
            key = c.key
        elif c.kind == DROPPED:
            key = None
    return floor


class MirrorWriter:
    """Applies events to mirror tables. One per job: it keeps each mirror's shape between batches (the job is the
    mirrors' only writer) and their key indexes, and holds a batch's net changes until its delete markers are appended.
    """

    def __init__(self, catalog: str, database: str, markers: Markers, history: History):
        self.catalog, self.database = catalog, database
        self.markers = markers
        self.history = history
        self.mirrors: dict[str, Mirror | None] = {}
        self.keyed = KeyedMirrors(markers)
        self._held: list[DataFrame] = []

    def table(self, mirror: str) -> str:
        return ".".join(q(p) for p in (self.catalog, self.database, mirror))

    def _mirror(self, spark: SparkSession, mirror: str) -> Mirror | None:
        if mirror not in self.mirrors:
            self.mirrors[mirror] = schema.describe(spark, self.table(mirror))
        return self.mirrors[mirror]

    # ---- entry points ------------------------------------------------------------------------------------------

    def apply(self, spark: SparkSession, mirror: str, events: DataFrame, tb: TableBatch | None,
              controls: Sequence[Control]) -> int:
        """A micro-batch's events of one mirror: its controls, then its rows. The number of row events applied."""
        for c in controls:
            current = self._mirror(spark, mirror)
            rekeyed = (c.kind in (ALTERED, CREATED) and current is not None and current.key is not None
                       and c.key is not None and tuple(c.key) != current.key)
            if c.kind == DROPPED or rekeyed:
                # rows of the new table may have reached the job before this event: take them from the change log
                log.warning("%s: %s at %s: rebuilding it from the change log after that point", mirror,
                            "DROP TABLE" if c.kind == DROPPED else f"new key {c.key}", c.position)
                self.markers.raise_floor(spark, mirror, c.position, c.kind)
                return self.rebuild(spark, mirror)
            if c.kind == TRUNCATED:
                self.forget_before(spark, mirror, c.position, TRUNCATED)
            elif c.kind == ALTERED and current is not None and c.columns is not None:
                self.mirrors[mirror] = schema.drop_columns(spark, self.table(mirror), current, c.columns)
        if tb is None or not tb.key_cols:
            return 0
        return self._merge(spark, mirror, _events_of(events, tb), tb)

    def forget(self, mirror: str) -> None:
        """Forget what is known of a mirror's shape and rows (after a failure halfway through it)."""
        self.mirrors.pop(mirror, None)
        self.keyed.forget(mirror)

    def rebuild(self, spark: SparkSession, mirror: str) -> int:
        """Drop the mirror and its key markers and rebuild it from the change log."""
        schema.drop(spark, self.table(mirror))
        self.forget(mirror)
        floor = self.markers.floor(spark, mirror)
        self.markers.forget(spark, mirror)
        if floor:
            self.markers.raise_floor(spark, mirror, floor, "rebuild")
        return self.catch_up(spark, mirror)

    def catch_up(self, spark: SparkSession, mirror: str) -> int:
        """Apply the mirror's whole history from the change log (idempotent: what is applied already stays)."""
        events = self.history.events(spark, mirror).persist()
        self._held.append(events)
        ddl_topic = self.history.ddl_topic
        controls = controls_of(events, ddl_topic)
        floor = history_floor(controls)
        if floor:
            self.markers.raise_floor(spark, mirror, floor, "history")
            if self._mirror(spark, mirror) is not None:
                self._delete_before(spark, mirror, floor)
        data = events.where(~is_control(ddl_topic) & after(floor))
        applied = 0
        for tb in table_batches(event_variants(data), self.history.schemas(spark)):
            if tb.key_cols:
                applied += self._merge(spark, mirror, _events_of(data, tb), tb, bulk=True)
        log.info("%s: %d events applied from the change log", mirror, applied)
        return applied

    def release(self) -> None:
        """Unpersist what the batch held (after its delete markers are appended)."""
        for frame in self._held:
            frame.unpersist()
        self._held.clear()

    # ---- steps -------------------------------------------------------------------------------------------------

    def forget_before(self, spark: SparkSession, mirror: str, position: Position, cause: str) -> None:
        """Nothing at or before `position` counts for the mirror any more (a TRUNCATE, a slot recovered)."""
        self.markers.raise_floor(spark, mirror, position, cause)
        if self._mirror(spark, mirror) is not None:
            self._delete_before(spark, mirror, position)
        log.info("%s: %s at %s: every row before it removed", mirror, cause, position)

    def _delete_before(self, spark: SparkSession, mirror: str, position: Position) -> None:
        c, lsn = position
        spark.sql(f"DELETE FROM {self.table(mirror)} WHERE {COMMIT_LSN} IS NULL OR {COMMIT_LSN} < {c} "
                  f"OR ({COMMIT_LSN} = {c} AND {LSN} <= {lsn})")

    def _merge(self, spark: SparkSession, mirror: str, events: DataFrame, tb: TableBatch, bulk: bool = False) -> int:
        """Apply a table's events to its mirror: through the key index, or with a MERGE when `bulk`."""
        table = self.table(mirror)
        floor = self.markers.floor(spark, mirror)
        if floor:
            events = events.where(after(floor))
        current = self._mirror(spark, mirror)
        specs = table_specs(events, tb, current)
        by_name = {s.name: s for s in specs}
        missing = [k for k in tb.key_cols if k not in by_name]
        if missing:
            raise TableError(f"key columns {missing} are not in the row schema ({sorted(by_name)})")
        key_specs = [by_name[k] for k in tb.key_cols]
        data_specs = [s for s in specs if s.name not in tb.key_cols]
        texts = text_columns(events, specs) if tb.specials else set()
        try:
            if current is None:
                current = schema.create(spark, table, key_specs, data_specs, texts)
            else:
                current = schema.align(spark, table, current, key_specs, data_specs, texts)
        except schema.KeyChanged as changed:
            raise TableError(f"{changed}; it is rebuilt when the DROP TABLE or ALTER TABLE reaches the job, "
                             f"or run make rebuild TABLE={mirror}") from None
        self.mirrors[mirror] = current
        targets = {c: t for c, t in current.types.items() if c in by_name}
        typed = rows.typed_changes(events, tb.key_cols, specs, targets)
        data_cols = [s.name for s in data_specs]
        bulk = bulk or tb.events > BULK_EVENTS
        every_column = tb.carries_every_column(data_cols)
        net = latest_changes(typed, tb.key_cols) if every_column else net_changes(typed, tb.key_cols, data_cols)
        if bulk or not every_column:  # read more than once; the keyed write of a plain batch reads it once
            net = net.persist()
            self._held.append(net)
            lossy, unchanged = net.agg(F.max(LOSSY), F.count_if(_needs_value(data_cols))).first()
            self._stop_if_lossy(mirror, current, lossy)
            if unchanged:
                net = self._fill_unchanged(spark, mirror, net, key_specs, specs, data_cols).persist()
                self._held.append(net)
        source = net.withColumn("__key", key_json(tb.key_cols))
        if bulk:
            self._merge_bulk(spark, mirror, source, tb, data_cols, current)
        else:
            batch = self.keyed.collect(source, tb.key_cols)
            lost = pc.drop_null(batch.column(LOSSY))
            self._stop_if_lossy(mirror, current, lost[0].as_py() if len(lost) else None)
            self.keyed.write(spark, table, mirror, batch, tb.key_cols, data_cols)
            deletes = batch.filter(pc.equal(batch.column(OP), "d")).select(["__key", COMMIT_LSN, LSN, OP_TS])
            self.markers.add_delete_rows(spark, mirror, tuples(deletes))
        return tb.events - tb.truncates

    def _merge_bulk(self, spark: SparkSession, mirror: str, source: DataFrame, tb: TableBatch,
                    data_cols: Sequence[str], current: Mirror) -> None:
        """A MERGE of net changes (with their __key) into the mirror, events before a delete marker left out."""
        blocking = self.markers.blocking(spark, mirror, tb.first) if tb.first else None
        if blocking is not None:
            source = (source.join(blocking, source["__key"] == blocking["key"], "left")
                      .where(F.col("m_commit_lsn").isNull()
                             | newer(F.col(COMMIT_LSN), F.col(LSN), (F.col("m_commit_lsn"), F.col("m_lsn"))))
                      .drop("key", "m_commit_lsn", "m_lsn"))
        view = f"cdc_net_{mirror}"
        source.createOrReplaceTempView(view)
        spark.sql(merge_sql(self.table(mirror), view, tb.key_cols, data_cols, current.source_columns))
        self.markers.add_deletes(spark, mirror, source.where(F.col(OP) == "d").select(
            F.col("__key").alias("key"), F.col(COMMIT_LSN).alias("commit_lsn"), F.col(LSN).alias("lsn"),
            F.col(OP_TS).alias("deleted_at")))

    @staticmethod
    def _stop_if_lossy(mirror: str, current: Mirror, lossy: str | None) -> None:
        if lossy:
            raise TableError(f"a value of column {lossy} would be lost in the mirror's type "
                             f"{current.types.get(lossy)}; nothing of {mirror} was applied")

    def _fill_unchanged(self, spark: SparkSession, mirror: str, net: DataFrame, key_specs: Sequence[ColumnSpec],
                        specs: Sequence[ColumnSpec], data_cols: Sequence[str]) -> DataFrame:
        """Net rows whose columns no event carried (unchanged TOAST values), filled from the row they continue: the
        same key's stored row, or the key's row before a primary-key update (Debezium's old-key header), else that
        row's latest values in the change log. A value found nowhere stops the table rather than becoming NULL."""
        key_cols = [s.name for s in key_specs]
        kept = _needs_value(data_cols)
        old = F.from_json(F.col(OLD_KEY), "map<string,string>")
        lookup = [F.coalesce(rows.convert_expr(old[s.name], s), F.col(q(s.name))).alias(f"__lk_{i}")
                  for i, s in enumerate(key_specs)]
        need = net.where(kept).select("*", *lookup)
        stored = spark.table(self.table(mirror)).select(
            *[F.col(q(k)).alias(f"__lk_{i}") for i, k in enumerate(key_cols)],
            *[F.col(q(c)).alias(f"__s_{i}") for i, c in enumerate(data_cols)], F.lit(True).alias("__found"))
        filled = _fill(need.join(stored, [f"__lk_{i}" for i in range(len(key_cols))], "left"), data_cols)
        left = filled.where(_needs_value(data_cols)).count()
        if left:
            filled = self._fill_from_history(spark, mirror, filled, key_specs, specs, data_cols)
            left_rows = filled.where(_needs_value(data_cols)).select(*[q(k) for k in key_cols]).limit(3).collect()
            if left_rows:
                raise TableError(
                    f"unchanged (TOASTed) values of keys {[tuple(r) for r in left_rows]} are neither in the mirror "
                    f"nor in the change log; run make resync TABLE={mirror}")
        return net.where(~kept).unionByName(filled.select(*net.columns))

    def _fill_from_history(self, spark: SparkSession, mirror: str, filled: DataFrame,
                           key_specs: Sequence[ColumnSpec], specs: Sequence[ColumnSpec],
                           data_cols: Sequence[str]) -> DataFrame:
        key_cols = [s.name for s in key_specs]
        lk = [f"__lk_{i}" for i in range(len(key_cols))]
        wanted = filled.where(_needs_value(data_cols)).select(*lk).distinct()
        past = self.history.events(spark, mirror).where(~is_control(self.history.ddl_topic))
        typed = rows.typed_changes(past, key_cols, specs).select(
            *[F.col(q(k)).alias(lk[i]) for i, k in enumerate(key_cols)], *rows_columns(data_cols),
            *rows.ORDER, OP, OLD_KEY, LOSSY, OP_TS, TOASTED)
        typed = typed.join(F.broadcast(wanted), lk, "left_semi")
        latest = net_changes(typed, lk, data_cols).select(
            *lk, *[F.col(q(c)).alias(f"__hv_{i}") for i, c in enumerate(data_cols)],
            *[F.col(q(keep_flag(c))).alias(f"__hk_{i}") for i, c in enumerate(data_cols)])
        joined = filled.join(latest, lk, "left")
        for i, c in enumerate(data_cols):
            have = F.coalesce(~F.col(f"__hk_{i}"), F.lit(False))
            joined = (joined.withColumn(c, F.when(F.col(keep_flag(c)) & have, F.col(f"__hv_{i}")).otherwise(F.col(c)))
                      .withColumn(keep_flag(c), F.col(keep_flag(c)) & ~have))
        return joined


def rows_columns(data_cols: Sequence[str]) -> list[str]:
    out = []
    for c in data_cols:
        out += [q(c), q(keep_flag(c))]
    return out


def _needs_value(data_cols: Sequence[str]) -> F.Column:
    """An upsert with a column that some event sent as a TOAST placeholder and none carried a value for: its value is
    the row's before this batch (a stored row updates in place; one to insert must find it elsewhere)."""
    needs = F.lit(False)
    for c in data_cols:
        needs = needs | (F.col(q(keep_flag(c))) & F.array_contains(F.col(TOASTED), c))
    return (F.col(OP) != "d") & needs


def _fill(joined: DataFrame, data_cols: Sequence[str]) -> DataFrame:
    """Columns flagged kept take the stored value where a stored row was found."""
    found = F.coalesce(F.col("__found"), F.lit(False))
    for i, c in enumerate(data_cols):
        kept = F.col(q(keep_flag(c)))
        joined = (joined.withColumn(c, F.when(kept & found, F.col(f"__s_{i}")).otherwise(F.col(q(c))))
                  .withColumn(keep_flag(c), kept & ~found))
    return joined
