"""The lake checked against the source: a mirror table compared with its source table, row for row, all columns,
exact values; the change log against a producer's journal (every committed change there, once). Used by the end-to-end
tests and by the fault suite (python/chaos)."""

import json
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg2
from psycopg2 import sql

from glue.bookkeeping import BOOKKEEPING
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


def mirror_frame(lake, table: str):
    """The mirror as a DataFrame, as last committed."""
    spark, namespace = lake
    name = f"{namespace}.{q(table)}"
    spark.sql(f"REFRESH TABLE {name}")  # the catalog caches table metadata; the job keeps committing
    return spark.table(name)


def mirror_rows(lake, table: str, key: list[str], json_columns: set[str]) -> dict[tuple, dict]:
    """The mirror's rows by key, without bookkeeping; json_columns: text columns holding JSON (jsonb, arrays)."""
    frame = mirror_frame(lake, table).drop(*(column for column, _ in BOOKKEEPING))
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
        try:
            # While the lake catches up the counts mostly differ: counting is far cheaper than collecting every row
            # into Python, and the job catching up shares the cores with this loop. Equal counts, or the deadline,
            # decide nothing: the row-for-row comparison does.
            if time.monotonic() < deadline and mirror_frame(lake, table).count() != source_count(dsn, schema, table):
                time.sleep(3)
                continue
            found = differences(source_rows(dsn, schema, table, key, select),
                                mirror_rows(lake, table, key, json_columns))
        except Exception as error:  # the table may not exist in the catalog yet
            found = [f"cannot read the mirror yet: {str(error).splitlines()[0]}"]
        if not found or time.monotonic() > deadline:
            return found[:5]
        time.sleep(3)


def source_count(dsn: str, schema: str, table: str) -> int:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table)))
        (count,) = cur.fetchone()
    conn.close()
    return count


def read_journal(path: Path) -> list[dict]:
    """A producer's journal (python/producer/journal.py), its txids as Debezium gives them."""
    with path.open(encoding="utf-8") as handle:
        entries = [json.loads(line) for line in handle if line.strip()]
    for entry in entries:
        # The journal has txid_current() (64-bit, with epoch); Debezium's source.txId is the 32-bit xid.
        entry["txid"] %= 2**32
    return entries


def changelog_gaps(lake, schema: str, journal: list[dict]) -> tuple[set[tuple], int]:
    """The journaled changes the change log lacks, and how many it holds more than once, each change being its
    table, key, transaction and op."""
    spark, namespace = lake
    wanted = {(e["table"], json.dumps(e["key"], sort_keys=True), e["txid"], e["op"]) for e in journal}
    if not wanted:
        return set(), 0
    txids = spark.createDataFrame([(t,) for t in {e["txid"] for e in journal}], "tx_id bigint")
    spark.sql(f"REFRESH TABLE {namespace}.cdc_changelog")
    rows = (spark.table(f"{namespace}.cdc_changelog").where(f"source_schema = '{schema}'")
            .join(txids, "tx_id", "left_semi").select("source_table", "key", "tx_id", "op").collect())
    logged = [(r.source_table, json.dumps(json.loads(r.key), sort_keys=True), r.tx_id, r.op) for r in rows]
    return wanted - set(logged), len(logged) - len(set(logged))
