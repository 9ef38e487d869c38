"""The producer's journal is exactly what it committed: replaying it gives the tables' contents.

Runs in a schema of its own, so the stack's own producer (writing to PG_SCHEMA) cannot interleave
changes that this journal does not hold; the schema is outside the publication, so nothing reaches Kafka.
"""

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from producer.journal import json_value
from producer.schema import create_schema

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("customers", "orders")


def producer(dsn: str, schema: str, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "python"),
                                                                      os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-m", "producer", *args, "--dsn", dsn, "--schema", schema],
                            env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"producer {args[0]} failed ({result.returncode}):\n{result.stderr}")


def replay(journal: list[dict]) -> dict[str, dict[int, dict]]:
    """Each key's last change wins; deleted keys are absent."""
    tables: dict[str, dict[int, dict]] = {table: {} for table in TABLES}
    for entry in sorted(journal, key=lambda e: e["seq"]):
        if entry["op"] == "d":
            del tables[entry["table"]][entry["key"]["id"]]
        else:
            tables[entry["table"]][entry["key"]["id"]] = entry["row"]
    return tables


@pytest.fixture
def written(app_dsn, tmp_path):
    """Two runs into a fresh schema, the second continuing on the first's rows, one journal for both."""
    schema = f"producer_{uuid.uuid4().hex[:8]}"
    path = tmp_path / "journal.jsonl"
    try:
        producer(app_dsn, schema, "create-schema")
        producer(app_dsn, schema, "run", "--count", "500", "--rate", "0", "--seed", "3", "--journal", str(path),
                 "--quiet")
        producer(app_dsn, schema, "run", "--count", "300", "--rate", "0", "--seed", "3", "--max-txn-size", "25",
                 "--journal", str(path), "--quiet")
        journal = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        tables = {}
        with psycopg2.connect(app_dsn) as conn, conn.cursor() as cur:
            for table in TABLES:
                cur.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(schema, table)))
                names = [column.name for column in cur.description]
                tables[table] = {row[0]: {n: json_value(v) for n, v in zip(names, row, strict=True)}
                                 for row in cur.fetchall()}
        yield journal, tables
    finally:
        with psycopg2.connect(app_dsn) as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def test_tables_equal_the_replayed_journal(written):
    journal, tables = written
    assert replay(journal) == tables


def test_journal_holds_exactly_the_requested_number_of_changes(written):
    journal, _ = written
    assert len(journal) == 800


def test_seq_counts_on_across_appended_runs(written):
    journal, _ = written
    assert [entry["seq"] for entry in journal] == list(range(1, 801))


def test_every_operation_reaches_both_tables(written):
    journal, _ = written
    assert set(Counter((e["table"], e["op"]) for e in journal)) == {(t, op) for t in TABLES for op in "cud"}


def test_changes_of_a_transaction_are_contiguous(written):
    journal, _ = written
    txids = [entry["txid"] for entry in journal]
    runs = [txid for i, txid in enumerate(txids) if i == 0 or txids[i - 1] != txid]
    assert len(runs) == len(set(runs))


def test_creating_the_schema_again_waits_for_no_writer(app_dsn):
    """A second `make local-up` while the producer writes: create-schema on existing tables takes no table lock
    that a writer's open transaction holds against it (ALTER TABLE and CREATE INDEX would, and deadlocked)."""
    schema = os.environ["PG_SCHEMA"]
    writer = psycopg2.connect(app_dsn)
    try:
        with writer.cursor() as cur:
            cur.execute(sql.SQL("LOCK TABLE {}, {} IN ROW EXCLUSIVE MODE")
                        .format(sql.Identifier(schema, "customers"), sql.Identifier(schema, "orders")))
        with psycopg2.connect(app_dsn) as conn:
            with conn.cursor() as cur:
                cur.execute("SET lock_timeout = '5s'")
            create_schema(conn, schema)
    finally:
        writer.rollback()
        writer.close()
