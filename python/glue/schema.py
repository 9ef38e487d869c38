"""The mirror tables' own schema: created from the first batch, then kept able to hold every value the source sends.

A column's type follows the source's newest type: widened in place where Iceberg can (int -> bigint, float -> double,
a wider decimal), rewritten otherwise (bigint -> decimal(10,3) after an ALTER COLUMN ... TYPE: a new column filled
from the old one, which then takes its name and place). A numeric(p,s) column that receives NaN or Infinity, which
no decimal holds, becomes text, and stays text (PostgreSQL's own spelling of every value). A value is never cast to a
type that cannot hold it; glue.rows flags one that would not survive anyway, and the table stops with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from pyspark.sql import SparkSession

from glue import columns
from glue.bookkeeping import BOOKKEEPING, BOOKKEEPING_NAMES, KEY_PROPERTY, RETYPE_PREFIX
from glue.columns import ColumnSpec, can_widen
from glue.sqlnames import COMMON_PROPERTIES, q, tblproperties

log = logging.getLogger(__name__)

# Many small MERGEs: write delete files instead of rewriting data files on every micro-batch
# (glue.maintenance folds them back into the data files now and then).
TABLE_PROPERTIES = {
    **COMMON_PROPERTIES,
    "write.delete.mode": "merge-on-read",
    "write.update.mode": "merge-on-read",
    "write.merge.mode": "merge-on-read",
}


class KeyChanged(ValueError):
    """The source's key no longer fits the mirror's: the table was re-created or re-keyed."""


@dataclass(frozen=True)
class Mirror:
    types: dict[str, str]  # every column (bookkeeping included) -> Spark SQL type, in table order
    key: tuple[str, ...] | None  # None for a table created before the job recorded keys

    @property
    def source_columns(self) -> list[str]:
        return [c for c in self.types if c not in BOOKKEEPING_NAMES and not c.startswith(RETYPE_PREFIX)]


def describe(spark: SparkSession, table: str) -> Mirror | None:
    if not spark.catalog.tableExists(table):
        return None
    types = {f.name: f.dataType.simpleString() for f in spark.table(table).schema.fields}
    props = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {table}").collect()}
    key = props.get(KEY_PROPERTY)
    return Mirror(types, tuple(key.split(",")) if key else None)


def create(spark: SparkSession, table: str, key_specs: Sequence[ColumnSpec], data_specs: Sequence[ColumnSpec],
           text_columns: Collection[str] = ()) -> Mirror:
    cols = [f"{q(s.name)} {s.sql_type} NOT NULL" for s in key_specs]
    cols += [f"{q(s.name)} {'string' if s.name in text_columns else s.sql_type}" for s in data_specs]
    cols += [f"{c} {t}" for c, t in BOOKKEEPING]
    key = ",".join(s.name for s in key_specs)
    spark.sql(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)}) USING iceberg "
              + tblproperties({**TABLE_PROPERTIES, KEY_PROPERTY: key}))
    # readers (Athena, Flink, Trino) learn the key from the table itself
    spark.sql(f"ALTER TABLE {table} SET IDENTIFIER FIELDS {', '.join(q(s.name) for s in key_specs)}")
    log.info("created %s (key %s)", table, key)
    return describe(spark, table)


def wanted_type(spec: ColumnSpec, current: str | None, text_columns: Collection[str]) -> str:
    """The type a mirror column should have for values of `spec` (current: its type now, if it exists)."""
    numeric = spec.convert in (columns.NUMERIC, columns.NUMERIC_TEXT)
    if spec.name in text_columns or (numeric and current == "string"):
        return "string"  # NaN or Infinity seen: text from then on
    return spec.sql_type


def align(spark: SparkSession, table: str, mirror: Mirror, key_specs: Sequence[ColumnSpec],
          data_specs: Sequence[ColumnSpec], text_columns: Collection[str] = ()) -> Mirror:
    """Add the columns the mirror lacks and give every column a type that holds the specs' values."""
    if mirror.key is not None and tuple(s.name for s in key_specs) != mirror.key:
        raise KeyChanged(f"the source's key is ({', '.join(s.name for s in key_specs)}), the mirror's "
                         f"({', '.join(mirror.key)}): the table was re-keyed or re-created")
    for spec in key_specs:
        current = mirror.types.get(spec.name)
        if current != spec.sql_type and not (current and can_widen(current, spec.sql_type)):
            raise KeyChanged(f"key column {spec.name} is {spec.sql_type} in the source, {current} in the mirror: "
                             "the table was re-created with another key type")
    changed = False
    added = [s for s in data_specs if s.name not in mirror.types]
    if added:
        spark.sql(f"ALTER TABLE {table} ADD COLUMNS ("
                  + ", ".join(f"{q(s.name)} {wanted_type(s, None, text_columns)}" for s in added) + ")")
        log.info("%s: added columns %s", table, ", ".join(s.name for s in added))
        changed = True
    for spec in [*key_specs, *data_specs]:
        current = mirror.types.get(spec.name)
        wanted = wanted_type(spec, current, text_columns)
        if current is None or current == wanted:
            continue
        if can_widen(current, wanted):
            spark.sql(f"ALTER TABLE {table} ALTER COLUMN {q(spec.name)} TYPE {wanted}")
            log.info("%s: widened %s from %s to %s", table, spec.name, current, wanted)
        else:
            retype(spark, table, spec.name, wanted)
        changed = True
    if any(c.startswith(RETYPE_PREFIX) for c in mirror.types):  # a rewrite a crash interrupted
        for column in [c for c in mirror.types if c.startswith(RETYPE_PREFIX)]:
            retype(spark, table, column.removeprefix(RETYPE_PREFIX), mirror.types[column])
        changed = True
    return describe(spark, table) if changed else mirror


def retype(spark: SparkSession, table: str, column: str, new_type: str) -> None:
    """Give `column` a type Iceberg cannot widen to: a new column filled from it takes its name and place.

    Each step can be repeated, so a job killed midway finishes the rewrite when it runs it again.
    """
    temp = RETYPE_PREFIX + column
    order = [f.name for f in spark.table(table).schema.fields]
    if temp not in order:
        spark.sql(f"ALTER TABLE {table} ADD COLUMNS ({q(temp)} {new_type})")
    if column in order:
        spark.sql(f"UPDATE {table} SET {q(temp)} = CAST({q(column)} AS {new_type})")
        spark.sql(f"ALTER TABLE {table} DROP COLUMN {q(column)}")
    spark.sql(f"ALTER TABLE {table} RENAME COLUMN {q(temp)} TO {q(column)}")
    if column in order:
        position = order.index(column)
        spark.sql(f"ALTER TABLE {table} ALTER COLUMN {q(column)} "
                  + (f"AFTER {q(order[position - 1])}" if position else "FIRST"))
    log.warning("%s: rewrote column %s as %s (a type Iceberg cannot widen to in place)", table, column, new_type)


def drop_columns(spark: SparkSession, table: str, mirror: Mirror, source_columns: Collection[str]) -> Mirror:
    """Drop the mirror's columns the source no longer has (a DROP COLUMN or a rename's old name)."""
    gone = [c for c in mirror.source_columns if c not in source_columns and c not in (mirror.key or ())]
    if not gone:
        return mirror
    spark.sql(f"ALTER TABLE {table} DROP COLUMNS ({', '.join(q(c) for c in gone)})")
    log.info("%s: dropped columns %s (no longer in the source)", table, ", ".join(gone))
    return describe(spark, table)


def drop(spark: SparkSession, table: str) -> None:
    spark.sql(f"DROP TABLE IF EXISTS {table} PURGE")
    log.info("dropped %s", table)
