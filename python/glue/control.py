"""Control events: what changes a mirror other than a row does, each at its place in commit order.

- a TRUNCATE (Debezium's op `t`, captured with skipped.operations=none): the rows before it are gone;
- the DDL events PostgreSQL's event trigger writes into cdc.ddl_events (scripts/sql/ddl_capture.sql), whose inserts
  reach the job as change events of that table's topic: a DROP TABLE (or a rename's old name), an ALTER TABLE with its
  columns and key after the change, a CREATE TABLE.

Rows of the DDL topic are not mirrored. The snapshot reads of cdc.ddl_events (op `r`) are history a new connector
reads again, not new DDL, so only its inserts count.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from glue.decode import TRUNCATE

TRUNCATED, DROPPED, ALTERED, CREATED = "truncate", "drop", "alter", "create"
_COMMANDS = {"DROP TABLE": DROPPED, "ALTER TABLE": ALTERED, "CREATE TABLE": CREATED}


@dataclass(frozen=True)
class Control:
    mirror: str
    kind: str
    position: tuple[int, int]
    columns: tuple[str, ...] | None = None  # the source's columns after an ALTER or CREATE
    key: tuple[str, ...] | None = None  # the source's primary key after an ALTER or CREATE


def mirror_table_name(source_schema: str, source_table: str) -> str:
    # Glue Data Catalog names are lower case
    return source_table.lower()


def is_control(ddl_topic: str | None) -> Column:
    control = F.col("op") == TRUNCATE
    return control | (F.col("topic") == ddl_topic) if ddl_topic else control


def controls_of(events: DataFrame, ddl_topic: str | None) -> list[Control]:
    """The control events of a batch (a few rows, collected), in commit order."""
    ddl = F.lit(False) if not ddl_topic else (F.col("topic") == ddl_topic) & (F.col("op") == "c")
    rows = events.where((F.col("op") == TRUNCATE) | ddl).select(
        "op", "source_schema", "source_table", "commit_lsn", "lsn", "after").collect()
    found = []
    for r in rows:
        position = (r.commit_lsn, r.lsn)
        if r.op == TRUNCATE:
            found.append(Control(mirror_table_name(r.source_schema, r.source_table), TRUNCATED, position))
            continue
        after = json.loads(r.after)
        kind = _COMMANDS.get(after.get("command"))
        if kind is None:  # BASELINE: a table's shape when the trigger was installed
            continue
        columns = json.loads(after["columns"]) if after.get("columns") else None
        key = json.loads(after["key_columns"]) if after.get("key_columns") else None
        found.append(Control(
            mirror_table_name(after["schema_name"], after["table_name"]), kind, position,
            tuple(c["name"] for c in columns) if columns is not None else None,
            tuple(key) if key is not None else None))
    return sorted(found, key=lambda c: c.position)
