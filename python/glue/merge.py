"""Mirror tables: the net effect of a batch's changes per key, and the Iceberg MERGE that applies it.

Rules (one per line of the MERGE below):
- the latest event of a key wins, ordered by LSN then Kafka position, never by arrival;
- a delete removes the row, anything else upserts it;
- an event whose LSN is not newer than the stored row's `_lsn` changes nothing, so replays and duplicates
  leave the same state;
- a column the event does not carry (TOAST placeholder, older schema version) keeps its stored value.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue.columns import ColumnSpec, can_widen
from glue.rows import LSN, OP, OP_TS, ORDER, keep_flag

log = logging.getLogger(__name__)

BOOKKEEPING = ((LSN, "bigint"), (OP, "string"), (OP_TS, "timestamp"))
# A commit every few seconds: old metadata files are removed as new ones are written, and the manifests each
# commit adds are merged every few commits (Iceberg's default, 100, means every scan, MERGE and append reads up to
# 100 small manifests: most of the job's requests to S3).
COMMON_PROPERTIES = {
    "format-version": "2",
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "20",
    "commit.manifest.min-count-to-merge": "5",
}
# Many small MERGEs: write delete files instead of rewriting data files on every micro-batch
# (glue.maintenance folds them back into the data files now and then).
TABLE_PROPERTIES = {
    **COMMON_PROPERTIES,
    "write.delete.mode": "merge-on-read",
    "write.update.mode": "merge-on-read",
    "write.merge.mode": "merge-on-read",
}


def tblproperties(properties: dict[str, str]) -> str:
    return "TBLPROPERTIES (" + ", ".join(f"'{k}'='{v}'" for k, v in properties.items()) + ")"


def q(name: str) -> str:
    """A Spark SQL identifier, quoted."""
    return "`" + name.replace("`", "``") + "`"


def table_ident(*parts: str) -> str:
    return ".".join(q(p) for p in parts)


def net_changes(typed: DataFrame, key_cols: Sequence[str], data_cols: Sequence[str]) -> DataFrame:
    """One row per key: the latest op and LSN, and per column the latest value an event carried (else keep)."""
    order = "struct(" + ", ".join(ORDER) + ")"
    aggs = [F.expr(f"max_by({c}, {order})").alias(c) for c in (OP, LSN, OP_TS)]
    for i, c in enumerate(data_cols):
        carried = f"_op <> 'd' AND NOT {q(keep_flag(c))}"
        aggs.append(F.expr(f"max_by(struct({q(c)} AS v), {order}) FILTER (WHERE {carried})").alias(f"__v{i}"))
    grouped = typed.groupBy(*key_cols).agg(*aggs)
    out = [F.col(q(k)) for k in key_cols]
    for i, c in enumerate(data_cols):
        out += [F.col(f"__v{i}.v").alias(c), F.col(f"__v{i}").isNull().alias(keep_flag(c))]
    return grouped.select(*out, OP, LSN, OP_TS)


def merge_sql(table: str, source: str, key_cols: Sequence[str], data_cols: Sequence[str],
              table_cols: Sequence[str]) -> str:
    """MERGE of a net-changes view into a mirror table. table_cols: the table's source columns, in order."""
    newer = f"(t.{LSN} IS NULL OR s.{LSN} > t.{LSN})"
    on = " AND ".join(f"t.{q(k)} = s.{q(k)}" for k in key_cols)
    updates = [f"t.{q(c)} = CASE WHEN s.{q(keep_flag(c))} THEN t.{q(c)} ELSE s.{q(c)} END" for c in data_cols]
    updates += [f"t.{c} = s.{c}" for c, _ in BOOKKEEPING]
    insert_cols = list(table_cols) + [c for c, _ in BOOKKEEPING]
    values = []
    for c in table_cols:
        if c in key_cols:
            values.append(f"s.{q(c)}")
        elif c in data_cols:
            values.append(f"CASE WHEN s.{q(keep_flag(c))} THEN NULL ELSE s.{q(c)} END")
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


def table_types(spark: SparkSession, table: str) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in spark.table(table).schema.fields}


def ensure_table(spark: SparkSession, table: str, key_specs: Sequence[ColumnSpec],
                 data_specs: Sequence[ColumnSpec]) -> dict[str, str]:
    """Create the mirror table, or add the columns it lacks and widen the types it can; its column types."""
    if not spark.catalog.tableExists(table):
        cols = [f"{q(s.name)} {s.sql_type} NOT NULL" for s in key_specs]
        cols += [f"{q(s.name)} {s.sql_type}" for s in data_specs]
        cols += [f"{c} {t}" for c, t in BOOKKEEPING]
        spark.sql(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)}) USING iceberg "
                  + tblproperties(TABLE_PROPERTIES))
        # readers (Athena, Flink, Trino) learn the key from the table itself
        spark.sql(f"ALTER TABLE {table} SET IDENTIFIER FIELDS {', '.join(q(s.name) for s in key_specs)}")
        log.info("created %s", table)
    existing = table_types(spark, table)
    added = [s for s in data_specs if s.name not in existing]
    if added:
        spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({', '.join(f'{q(s.name)} {s.sql_type}' for s in added)})")
        log.info("%s: added columns %s", table, ", ".join(s.name for s in added))
    for spec in [*key_specs, *data_specs]:
        old = existing.get(spec.name)
        if old and old != spec.sql_type and can_widen(old, spec.sql_type):
            spark.sql(f"ALTER TABLE {table} ALTER COLUMN {q(spec.name)} TYPE {spec.sql_type}")
            log.info("%s: widened %s from %s to %s", table, spec.name, old, spec.sql_type)
    return table_types(spark, table)


def _up_to_date(types: dict[str, str] | None, specs: Sequence[ColumnSpec]) -> bool:
    """True when a table with these column types needs no DDL for these specs."""
    if types is None:
        return False
    return all(s.name in types and (types[s.name] == s.sql_type or not can_widen(types[s.name], s.sql_type))
               for s in specs)


def merge_changes(spark: SparkSession, table: str, typed: DataFrame, key_specs: Sequence[ColumnSpec],
                  data_specs: Sequence[ColumnSpec], known: dict[str, dict[str, str]] | None = None) -> None:
    """Apply a table's typed changes (glue.rows.typed_changes) to its mirror table.

    known: the column types of the tables this process created or altered, so an unchanged table costs no
    catalog round trip per batch (the job is the mirror tables' only writer).
    """
    key_cols = [s.name for s in key_specs]
    data_cols = [s.name for s in data_specs]
    known = {} if known is None else known
    types = known.get(table)
    if not _up_to_date(types, [*key_specs, *data_specs]):
        types = known[table] = ensure_table(spark, table, key_specs, data_specs)
    net = net_changes(typed, key_cols, data_cols)
    # A type the table could not widen to (e.g. text -> int) is cast to the table's type.
    net = net.select(*[
        F.col(q(c)).cast(types[c]).alias(c) if c in types and c in key_cols + data_cols else F.col(q(c))
        for c in net.columns
    ])
    view = "cdc_net_changes"
    net.createOrReplaceTempView(view)
    table_cols = [c for c in types if c not in dict(BOOKKEEPING)]
    spark.sql(merge_sql(table, view, key_cols, data_cols, table_cols))
