"""Change events of one table -> typed rows: key columns, data columns, and what each event says about them.

Each data column `c` comes with a flag `__keep__c`, true when the event carries no value for it: Debezium's
placeholder for an unchanged TOASTed value (in whichever form the column's type gives it, glue.columns), or a column
the event's schema version does not have. The merge keeps the stored value for such a column instead of overwriting
it. A non-null value that would not survive the conversion to the mirror's type is named in `_lossy`, so the batch
stops the table (glue.tables) rather than storing NULL or another value.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue import columns
from glue.bookkeeping import COMMIT_LSN, LSN, OP, OP_TS
from glue.columns import ColumnSpec

KEEP_PREFIX = "__keep__"

# Order of the events of one key: their place in commit order; the Kafka position only tells apart copies of one
# event (the same change re-sent), so which copy wins does not matter.
ORDER = (COMMIT_LSN, LSN, "_partition", "_offset")
# the key before a primary-key update, on the event that inserts the new key (glue.decode.OLD_KEY_HEADER)
OLD_KEY = "_old_key"
LOSSY = "_lossy"
# the columns an event sent as unchanged TOAST placeholders (a column its schema version lacks is not one: a row
# inserted before the column existed has NULL there, as in the source)
TOASTED = "_toasted"


def keep_flag(column: str) -> str:
    return KEEP_PREFIX + column


def _numeric_text(raw: Column) -> Column:
    """A numeric's Debezium text as PostgreSQL writes it: the digits as sent (scale included), or NaN, Infinity."""
    special = F.create_map(*[F.lit(x) for pair in columns.NUMERIC_SPECIALS.items() for x in pair])
    return F.coalesce(special[raw], raw)


def convert_expr(raw: Column, spec: ColumnSpec, target: str | None = None) -> Column:
    """A column's JSON text (as from_json into map<string,string> leaves it) as `target` (default: the spec's type).

    A target other than the spec's type is the mirror's (glue.schema chose it to hold every value of the spec's).
    """
    target = target or spec.sql_type
    if spec.convert in (columns.NUMERIC, columns.NUMERIC_TEXT) and target == "string":
        return _numeric_text(raw)
    value = _as_spec_type(raw, spec)
    return value if target == spec.sql_type else value.cast(target)


def _as_spec_type(raw: Column, spec: ColumnSpec) -> Column:
    if spec.convert == columns.DATE_DAYS:
        return F.date_from_unix_date(raw.cast("int"))
    # Wall-clock timestamps without zone: micros since epoch read as UTC, which the session's UTC time zone
    # turns into the same wall-clock value.
    if spec.convert == columns.TIMESTAMP_MILLIS:
        return F.timestamp_millis(raw.cast("bigint")).cast("timestamp_ntz")
    if spec.convert == columns.TIMESTAMP_MICROS:
        return F.timestamp_micros(raw.cast("bigint")).cast("timestamp_ntz")
    if spec.convert == columns.TIMESTAMP_NANOS:
        return F.timestamp_micros(F.floor(raw.cast("decimal(38,0)") / 1000).cast("bigint")).cast("timestamp_ntz")
    if spec.convert == columns.ZONED_TIMESTAMP:
        return raw.cast("timestamp")
    if spec.convert == columns.BASE64:
        return F.unbase64(raw)
    if spec.convert == columns.NUMERIC_TEXT:
        return _numeric_text(raw)
    return raw.cast(spec.sql_type)


def _is_unavailable(raw: Column, spec: ColumnSpec) -> Column:
    if not spec.unavailable:
        return F.lit(False)
    return F.coalesce(raw.isin(*spec.unavailable), F.lit(False))


def typed_changes(events: DataFrame, key_cols: Sequence[str], specs: Sequence[ColumnSpec],
                  targets: Mapping[str, str] | None = None) -> DataFrame:
    """One row per event of a table: typed key and data columns, keep flags, the event's place in commit order,
    _op, _op_ts, the Kafka position, the key before a primary-key change and the first column a value was lost in.

    targets: the mirror's type per column where it is not the spec's. Key values come from the message key, else
    from the row image (`before` for a delete).
    """
    missing = [k for k in key_cols if k not in {s.name for s in specs}]
    if missing:
        raise ValueError(f"key columns {missing} are not in the row schema ({sorted(s.name for s in specs)})")
    return events.select(*_typed_columns(tuple(key_cols), tuple(specs), tuple(sorted((targets or {}).items()))))


# Building a table's expressions is hundreds of calls into the JVM: they are built once per shape of the table and
# reused by every batch (a column expression names columns, whatever DataFrame it is applied to).
@functools.lru_cache(maxsize=256)
def _typed_columns(key_cols: tuple[str, ...], specs: tuple[ColumnSpec, ...],
                   target_items: tuple[tuple[str, str], ...]) -> tuple[Column, ...]:
    targets = dict(target_items)
    by_name = {s.name: s for s in specs}
    after = F.from_json("after", "map<string,string>")
    before = F.from_json("before", "map<string,string>")
    key = F.from_json("key", "map<string,string>")
    is_delete = F.col("op") == "d"
    out, lost, toasted = [], [], []
    for k in key_cols:
        raw = F.coalesce(key[k], after[k], before[k])
        value = convert_expr(raw, by_name[k], targets.get(k))
        out.append(value.alias(k))
        lost.append(F.when(raw.isNotNull() & value.isNull(), F.lit(k)))
    for spec in specs:
        if spec.name in key_cols:
            continue
        raw = after[spec.name]
        absent = ~F.coalesce(F.map_contains_key(after, spec.name), F.lit(False))
        unavailable = ~is_delete & _is_unavailable(raw, spec)
        keep = unavailable | (~is_delete & absent)
        toasted.append(F.when(unavailable, F.lit(spec.name)))
        value = F.when(~keep, convert_expr(raw, spec, targets.get(spec.name)))
        out.append(value.alias(spec.name))
        out.append(keep.alias(keep_flag(spec.name)))
        lost.append(F.when(~keep & raw.isNotNull() & value.isNull(), F.lit(spec.name)))
    out += [
        F.col("op").alias(OP),
        F.col("commit_lsn").alias(COMMIT_LSN),
        F.col("lsn").alias(LSN),
        F.timestamp_millis(F.col("source_ts_ms")).alias(OP_TS),
        F.col("partition").alias("_partition"),
        F.col("offset").alias("_offset"),
        F.col("old_key").alias(OLD_KEY),
        F.coalesce(*lost, F.lit(None).cast("string")).alias(LOSSY),
        F.array_compact(F.array(*toasted, F.lit(None).cast("string"))).alias(TOASTED),
    ]
    return tuple(out)


def inferred_specs(json_rows: DataFrame) -> list[ColumnSpec]:
    """Column specs inferred from row images without an embedded schema (a one-column DataFrame of JSON text).

    Without a schema the JSON says less: numbers are bigint or double, decimals sent as strings stay strings,
    dates and timestamps stay numbers or strings. Where the mirror table already has the column, glue.merge casts
    to the table's type.
    """
    texts = json_rows.where(F.col(json_rows.columns[0]).isNotNull())
    # DataFrameReader.json infers one schema over every row (an RDD of strings is its Python entry point)
    inferred = texts.sparkSession.read.json(texts.rdd.map(lambda row: row[0])).schema
    simple = {T.LongType: "bigint", T.DoubleType: "double", T.BooleanType: "boolean"}
    specs = []
    for field in inferred.fields:
        if field.name == "_corrupt_record":
            continue
        specs.append(ColumnSpec(field.name, simple.get(type(field.dataType), "string")))
    return specs
