"""Change events of one table -> typed rows: key columns, data columns, and what each event says about them.

Each data column `c` comes with a flag `__keep__c`, true when the event carries no value for it: Debezium's
placeholder for an unchanged TOASTed value, or a column the event's schema version does not have. The merge keeps
the stored value for such a column instead of overwriting it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from glue import columns
from glue.columns import ColumnSpec

UNAVAILABLE = "__debezium_unavailable_value"
KEEP_PREFIX = "__keep__"

# Bookkeeping columns of a mirror table, after the source's columns.
LSN, OP, OP_TS = "_lsn", "_op", "_op_ts"
# Order of the events of one key: the WAL position, then the position in Kafka (same LSN: a re-sent event).
ORDER = ("_lsn", "_partition", "_offset")


def keep_flag(column: str) -> str:
    return KEEP_PREFIX + column


def convert_expr(raw: Column, spec: ColumnSpec) -> Column:
    """A column's JSON text (as from_json into map<string,string> leaves it) as the spec's Spark type."""
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
    return raw.cast(spec.sql_type)


def typed_changes(events: DataFrame, key_cols: Sequence[str], specs: Sequence[ColumnSpec]) -> DataFrame:
    """One row per event of a table: typed key and data columns, keep flags, _op, _lsn, _op_ts and Kafka position.

    Key values come from the message key, else from the row image (`before` for a delete).
    """
    by_name = {s.name: s for s in specs}
    missing = [k for k in key_cols if k not in by_name]
    if missing:
        raise ValueError(f"key columns {missing} are not in the row schema ({sorted(by_name)})")
    after = F.from_json("after", "map<string,string>")
    before = F.from_json("before", "map<string,string>")
    key = F.from_json("key", "map<string,string>")
    is_delete = F.col("op") == "d"
    out = [convert_expr(F.coalesce(key[k], after[k], before[k]), by_name[k]).alias(k) for k in key_cols]
    for spec in specs:
        if spec.name in key_cols:
            continue
        raw = after[spec.name]
        absent = ~F.coalesce(F.map_contains_key(after, spec.name), F.lit(False))
        keep = ~is_delete & (absent | F.coalesce(raw == UNAVAILABLE, F.lit(False)))
        out.append(F.when(~keep, convert_expr(raw, spec)).alias(spec.name))
        out.append(keep.alias(keep_flag(spec.name)))
    out += [
        F.col("op").alias(OP),
        F.col("lsn").alias(LSN),
        F.timestamp_millis(F.col("source_ts_ms")).alias(OP_TS),
        F.col("partition").alias("_partition"),
        F.col("offset").alias("_offset"),
    ]
    return events.select(*out)


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

