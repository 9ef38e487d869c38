"""A mirror table compared with its source table, row for row, all columns, exact values."""

import json
import time
from datetime import UTC, datetime
from decimal import Decimal

import psycopg2
from psycopg2 import sql

from glue.schema import BOOKKEEPING
from glue.sqlnames import q

SETTLE_SECONDS = 300  # bound on the lake catching up with a quiet source


def comparable(value):
    if isinstance(value, datetime):
        return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exact, scale included: 12.50 is not 12.5; NaN and Infinity as PostgreSQL spells them
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, memoryview | bytes | bytearray):
        return bytes(value).hex()
    return value


def source_rows(dsn: str, schema: str, table: str, key: list[str], select: str = "*") -> dict[tuple, dict]:
    """The source's rows by key; select: the columns, as SQL (e.g. to cast a uuid[] to text[])."""
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT {} FROM {}").format(sql.SQL(select), sql.Identifier(schema, table)))
        names = [c.name for c in cur.description]
        rows = [dict(zip(names, map(comparable, r), strict=True)) for r in cur.fetchall()]
    conn.close()
    return {tuple(r[k] for k in key): r for r in rows}


def mirror_rows(lake, table: str, key: list[str], json_columns: set[str]) -> dict[tuple, dict]:
    """The mirror's rows by key, without bookkeeping; json_columns: text columns holding JSON (jsonb, arrays)."""
    spark, namespace = lake
    name = f"{namespace}.{q(table)}"
    spark.sql(f"REFRESH TABLE {name}")  # the catalog caches table metadata; the job keeps committing
    frame = spark.table(name).drop(*(column for column, _ in BOOKKEEPING))
    rows = []
    for row in frame.collect():
        values = row.asDict()
        for column in json_columns & values.keys():
            values[column] = None if values[column] is None else json.dumps(json.loads(values[column]), sort_keys=True)
        rows.append({k: comparable(v) for k, v in values.items()})
    keys = [tuple(r[k] for k in key) for r in rows]
    assert len(keys) == len(set(keys)), f"{table}: duplicate keys in the mirror"
    return dict(zip(keys, rows, strict=True))


def differences(source: dict, mirror: dict) -> list[str]:
    found = [f"missing in mirror: {k}" for k in source.keys() - mirror.keys()]
    found += [f"not in source: {k}" for k in mirror.keys() - source.keys()]
    found += [f"{k}: source {source[k]} != mirror {mirror[k]}" for k in source.keys() & mirror.keys()
              if source[k] != mirror[k]]
    return found


def settle(lake, dsn: str, schema: str, table: str, key: list[str], json_columns: set[str] = frozenset(),
           select: str = "*", timeout: float = SETTLE_SECONDS) -> list[str]:
    """Wait until the mirror equals the source; the remaining differences if it did not in time."""
    deadline = time.monotonic() + timeout
    while True:
        source = source_rows(dsn, schema, table, key, select)
        try:
            found = differences(source, mirror_rows(lake, table, key, json_columns))
        except Exception as error:  # the table may not exist in the catalog yet
            found = [f"cannot read the mirror yet: {str(error).splitlines()[0]}"]
        if not found or time.monotonic() > deadline:
            return found[:5]
        time.sleep(3)
