"""What a micro-batch holds, from one aggregate over its parsed messages (glue.decode.parse): per topic partition the
offsets it read and the places of its change events (the batch record, the change log's positions); how many messages
are poison; per source table and schema version what the mirrors need before typing a row (its key, schema,
TRUNCATEs, TOAST placeholders, numeric NaN or Infinity)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from glue import columns
from glue.decode import TRUNCATE, position

# Debezium's names of a numeric's NaN and infinities, as a row image's JSON holds them
SPECIALS = tuple(f'"{name}"' for name in columns.NUMERIC_SPECIALS)
Position = tuple[int, int]
EVENT, POISON = "event", "poison"


@dataclass(frozen=True)
class Partition:
    """One topic partition's share of a batch: its offsets, and the places of its change events (None: none)."""

    topic: str
    partition: int
    first_offset: int
    last_offset: int
    count: int
    first: Position | None
    last: Position | None


@dataclass(frozen=True)
class Variant:
    """The change events of one source table with one schema version: its id (None: no embedded schema; in a batch
    known by its hash, glue.decode.schema_hash, until the job looked the id up)."""

    source_schema: str
    source_table: str
    schema_id: str | None
    schema_hash: int | None
    key_schema: str | None
    key: str | None
    first: Position
    last: Position
    specials: bool
    placeholders: bool
    truncates: int
    events: int
    topics: frozenset[str]


def _holds_any(text: F.Column, literals: tuple[str, ...]) -> F.Column:
    """`text` holds one of `literals` (string searches: a regular expression costs several times more per row)."""
    found = F.lit(False)
    for literal in literals:
        found = found | text.contains(literal)
    return F.coalesce(found, F.lit(False))


def variant_aggregates() -> list:
    """A Variant's aggregates over change events (glue.decode.EVENT_COLUMNS)."""
    after = F.col("after")
    return [
        F.first("key_schema", ignorenulls=True).alias("key_schema"),
        F.first("key", ignorenulls=True).alias("key"),
        F.min(F.struct("commit_lsn", "lsn")).alias("first"),
        F.max(F.struct("commit_lsn", "lsn")).alias("last"),
        F.max(_holds_any(after, SPECIALS)).alias("specials"),
        F.max(_holds_any(after, columns.PLACEHOLDER_TEXTS)).alias("placeholders"),
        F.count_if(F.col("op") == TRUNCATE).alias("truncates"),
        F.collect_set("topic").alias("topics"),
        F.count("*").alias("events"),
    ]


def _place(struct) -> Position | None:
    return None if struct is None else (struct.commit_lsn, struct.lsn)


def variant_of(row, schema_id: str | None = None, schema_hash: int | None = None) -> Variant:
    """A Variant from a row of variant_aggregates (and the group's source_schema, source_table)."""
    return Variant(row.source_schema, row.source_table, schema_id, schema_hash, row.key_schema, row.key,
                   _place(row.first), _place(row["last"]), row.specials, row.placeholders, row.truncates,
                   row.events, frozenset(row.topics))


def merged(variants: Iterable[Variant]) -> Variant:
    """One Variant of several of the same table and schema (from several topic partitions)."""
    vs = list(variants)
    return replace(vs[0], key_schema=next((v.key_schema for v in vs if v.key_schema), None),
                   key=next((v.key for v in vs if v.key), None), first=min(v.first for v in vs),
                   last=max(v.last for v in vs), specials=any(v.specials for v in vs),
                   placeholders=any(v.placeholders for v in vs), truncates=sum(v.truncates for v in vs),
                   events=sum(v.events for v in vs), topics=frozenset().union(*(v.topics for v in vs)))


@dataclass(frozen=True)
class Contents:
    partitions: list[Partition]
    poison: int
    variants: list[Variant]  # by schema hash; glue.job gives them their schema ids

    def ranges(self) -> list[dict[str, Any]]:
        """First and last offset and the message count per topic partition (glue.metrics)."""
        return [{"topic": p.topic, "partition": p.partition, "first": p.first_offset, "last": p.last_offset,
                 "count": p.count} for p in self.partitions]

    def news(self) -> bool:
        """Anything for the change log, a mirror or the quarantine (not only tombstones and heartbeats)."""
        return bool(self.variants) or self.poison > 0


def contents(parsed: DataFrame) -> Contents:
    """The contents of a parsed batch: one aggregate (a row per topic partition, kind of message, source table and
    schema version), collected to the driver."""
    kind = F.when(~F.col("skip"), F.when(F.col("reason").isNotNull(), F.lit(POISON)).otherwise(F.lit(EVENT)))
    event = kind == EVENT
    commit_lsn, lsn = position(F.col("env.source"))
    on_events = {
        "source_schema": F.col("env.source.schema"), "source_table": F.col("env.source.table"),
        "schema_hash": F.col("schema_hash"), "key_schema": F.col("key_schema"), "key": F.col("key"),
        "op": F.col("env.op"), "commit_lsn": commit_lsn, "lsn": lsn,
        "after": F.when(F.col("env.after") != "null", F.col("env.after")),
    }
    rows = (parsed.select("topic", "partition", "offset", kind.alias("kind"),
                          *[F.when(event, value).alias(name) for name, value in on_events.items()])
            .groupBy("topic", "partition", "kind", "source_schema", "source_table", "schema_hash")
            .agg(F.min("offset").alias("first_offset"), F.max("offset").alias("last_offset"),
                 F.count("*").alias("messages"), *variant_aggregates())
            .collect())
    partitions: dict[tuple[str, int], list] = {}
    for r in rows:
        partitions.setdefault((r.topic, r.partition), []).append(r)
    by_table: dict[tuple[str, str, int | None], list[Variant]] = {}
    for r in rows:
        if r.kind == EVENT:
            by_table.setdefault((r.source_schema, r.source_table, r.schema_hash), []).append(
                variant_of(r, schema_hash=r.schema_hash))
    return Contents(
        [Partition(topic, partition, min(r.first_offset for r in rs), max(r.last_offset for r in rs),
                   sum(r.messages for r in rs),
                   min((_place(r.first) for r in rs if r.kind == EVENT), default=None),
                   max((_place(r["last"]) for r in rs if r.kind == EVENT), default=None))
         for (topic, partition), rs in sorted(partitions.items())],
        sum(r.messages for r in rows if r.kind == POISON),
        sorted((merged(vs) for vs in by_table.values()), key=lambda v: v.last))
