"""Mirror tables: the net effect of a batch's changes per key, and the Iceberg MERGE that applies it.

Rules (one per line of the MERGE below):
- the latest event of a key wins, by its place in commit order (glue.decode), never by arrival;
- a delete removes the row, anything else upserts it;
- an event whose place is not after the stored row's changes nothing, so replays and re-sent duplicates leave the
  same state (what a delete leaves behind is in glue.markers);
- a column the event does not carry (TOAST placeholder, older schema version) keeps its stored value.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from glue.bookkeeping import BOOKKEEPING
from glue.rows import COMMIT_LSN, LOSSY, LSN, OLD_KEY, OP, OP_TS, ORDER, TOASTED, keep_flag
from glue.sqlnames import q


def net_changes(typed: DataFrame, key_cols: Sequence[str], data_cols: Sequence[str]) -> DataFrame:
    """One row per key: the latest op and place, and per column the latest value an event carried (else keep).

    Also the key the row had before a primary-key update into this key (_old_key), the columns some event sent as
    TOAST placeholders (_toasted): where no event carried a value for them, the row they continue must have one; and
    the first column whose value would have been lost (_lossy).
    """
    order = "struct(" + ", ".join(ORDER) + ")"
    aggs = [F.expr(f"max_by({c}, {order})").alias(c) for c in (OP, COMMIT_LSN, LSN, OP_TS)]
    aggs.append(F.expr(f"max_by({OLD_KEY}, {order}) FILTER (WHERE {OLD_KEY} IS NOT NULL)").alias(OLD_KEY))
    aggs.append(F.max(LOSSY).alias(LOSSY))
    aggs.append(F.array_distinct(F.flatten(F.collect_list(TOASTED))).alias(TOASTED))
    for i, c in enumerate(data_cols):
        carried = f"_op <> 'd' AND NOT {q(keep_flag(c))}"
        aggs.append(F.expr(f"max_by(struct({q(c)} AS v), {order}) FILTER (WHERE {carried})").alias(f"__v{i}"))
    grouped = typed.groupBy(*[q(k) for k in key_cols]).agg(*aggs)
    out = [F.col(q(k)) for k in key_cols]
    for i, c in enumerate(data_cols):
        out += [F.col(f"__v{i}.v").alias(c), F.col(f"__v{i}").isNull().alias(keep_flag(c))]
    return grouped.select(*out, OP, COMMIT_LSN, LSN, OP_TS, OLD_KEY, LOSSY, TOASTED)


def latest_changes(typed: DataFrame, key_cols: Sequence[str]) -> DataFrame:
    """net_changes for events that all carry every column (no TOAST placeholder, one column set): the latest event of
    each key is its net change, whole, so one aggregate of whole rows replaces one per column (2 to 4 times faster on
    50,000 events). _lossy is the first column any event of the key would lose a value in."""
    keys, aggregates, out = _latest_columns(tuple(typed.columns), tuple(key_cols))
    return typed.groupBy(*keys).agg(*aggregates).select(*out)


@functools.lru_cache(maxsize=256)
def _latest_columns(typed_cols: tuple[str, ...], key_cols: tuple[str, ...]) -> tuple[tuple[Column, ...], ...]:
    """latest_changes' expressions, built once per shape of a table (glue.rows._typed_columns says why)."""
    cols = [c for c in typed_cols if c not in key_cols and c not in (LOSSY, TOASTED, "_partition", "_offset")]
    keys = tuple(F.col(q(k)) for k in key_cols)
    aggregates = (F.max_by(F.struct(*[F.col(q(c)) for c in cols]), F.struct(*ORDER)).alias("__latest"),
                  F.max(LOSSY).alias(LOSSY))
    return keys, aggregates, (*keys, F.col("__latest.*"), F.col(LOSSY), F.array().cast("array<string>").alias(TOASTED))


def newer_sql(s: str, t: str) -> str:
    """SQL: the event `s` comes after the row `t` in commit order (a row stored before places were kept: always)."""
    return (f"({t}.{COMMIT_LSN} IS NULL OR {s}.{COMMIT_LSN} > {t}.{COMMIT_LSN} "
            f"OR ({s}.{COMMIT_LSN} = {t}.{COMMIT_LSN} AND {s}.{LSN} > {t}.{LSN}))")


def merge_sql(table: str, source: str, key_cols: Sequence[str], data_cols: Sequence[str],
              table_cols: Sequence[str]) -> str:
    """MERGE of a net-changes view into a mirror table. table_cols: the table's source columns, in order."""
    newer = newer_sql("s", "t")
    on = " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in key_cols)
    updates = [f"t.{q(c)} = CASE WHEN s.{q(keep_flag(c))} THEN t.{q(c)} ELSE s.{q(c)} END" for c in data_cols]
    updates += [f"t.{c} = s.{c}" for c, _ in BOOKKEEPING]
    insert_cols = list(table_cols) + [c for c, _ in BOOKKEEPING]
    values = []
    for c in table_cols:
        if c in key_cols or c in data_cols:
            values.append(f"s.{q(c)}")
        else:
            values.append("NULL")
    values += [f"s.{c}" for c, _ in BOOKKEEPING]
    return (
        f"MERGE INTO {table} t USING {source} s ON {on}\n"
        f"WHEN MATCHED AND s.{OP} = 'd' AND {newer} THEN DELETE\n"
        f"WHEN MATCHED AND s.{OP} <> 'd' AND {newer} THEN UPDATE SET {', '.join(updates)}\n"
        f"WHEN NOT MATCHED AND s.{OP} <> 'd' THEN INSERT ({', '.join(q(c) for c in insert_cols)}) "
        f"VALUES ({', '.join(values)})"
    )
