"""The lake: every mirror table equals its source table, and the change log holds every committed change."""

import os
import subprocess
import time

import psycopg2
import pytest
from psycopg2 import sql
from pyspark.sql.types import BooleanType, DateType, DecimalType, StringType, TimestampType

from conftest import app_dsn_of_stack, producer_command, supervise
from glue.sqlnames import q
from stack.lakecheck import SETTLE_SECONDS, changelog_gaps, read_journal, settle

PRODUCER_TABLES = {"customers": {"profile"}, "orders": {"details"}}


@pytest.fixture(scope="module")
def written(quiet_source, tmp_path_factory):
    """The producer's changes plus a table the test creates, changes, and widens with a new column."""
    e = os.environ
    dsn = app_dsn_of_stack()
    journal_path = tmp_path_factory.mktemp("lake") / "journal.jsonl"
    subprocess.run(producer_command("--count", "2000", "--rate", "0", "--seed", "21",
                                    "--journal", str(journal_path)), check=True)
    table = f"lake_{os.urandom(4).hex()}"
    statements = [
        "CREATE TABLE {t} (region text, id int, qty numeric(10,3), seen_at timestamptz, tags jsonb,"
        " active boolean, born date, PRIMARY KEY (region, id))",
        "INSERT INTO {t} VALUES ('eu', 1, 1.500, '2026-01-02 03:04:05.123456+01', '{{\"a\": [1, 2]}}', true,"
        " '1999-12-31'), ('us', 2, 0.001, now(), '{{}}', false, NULL), ('ap', 3, 7.000, NULL, NULL, NULL, NULL)",
        "UPDATE {t} SET qty = qty + 0.125, active = NOT active WHERE region = 'eu'",
        "DELETE FROM {t} WHERE region = 'ap'",
        "ALTER TABLE {t} ADD COLUMN note text",
        "UPDATE {t} SET note = 'added later' WHERE region = 'us'",
        "INSERT INTO {t} (region, id, qty, note) VALUES ('sa', 4, 3.330, 'after the new column')",
    ]
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for statement in statements:
            cur.execute(sql.SQL(statement).format(t=sql.Identifier(e["PG_SCHEMA"], table)))
    yield dsn, read_journal(journal_path), table
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(e["PG_SCHEMA"], table)))
    conn.close()


@pytest.mark.parametrize("table", sorted(PRODUCER_TABLES))
def test_mirror_of_each_producer_table_equals_its_source(lake, written, table):
    dsn, _, _ = written
    assert settle(lake, dsn, os.environ["PG_SCHEMA"], table, ["id"], PRODUCER_TABLES[table]) == []


def test_mirror_of_a_new_table_with_an_added_column_equals_its_source(lake, written):
    dsn, _, table = written
    assert settle(lake, dsn, os.environ["PG_SCHEMA"], table, ["region", "id"], {"tags"}) == []
    spark, namespace = lake
    assert "note" in spark.table(f"{namespace}.{q(table)}").columns


def test_mirror_columns_have_the_source_types(lake, written):
    dsn, _, table = written
    assert settle(lake, dsn, os.environ["PG_SCHEMA"], "orders", ["id"], {"details"}) == []
    spark, namespace = lake
    orders = spark.table(f"{namespace}.orders").schema
    assert orders["amount"].dataType == DecimalType(12, 2)
    assert orders["ordered_at"].dataType == TimestampType()
    assert orders["delivery_date"].dataType == DateType()
    assert orders["is_gift"].dataType == BooleanType()
    assert orders["details"].dataType == StringType()
    assert spark.table(f"{namespace}.{q(table)}").schema["qty"].dataType == DecimalType(10, 3)


def test_change_log_holds_every_committed_change(lake, written):
    _, journal, _ = written
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        missing, twice = changelog_gaps(lake, os.environ["PG_SCHEMA"], journal)
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(5)
    assert not missing, f"{len(missing)} of {len(journal)} changes not in the change log, e.g. {sorted(missing)[:3]}"
    assert twice == 0, f"{twice} changes are in the change log twice"


def test_mirror_stays_equal_to_the_source_when_the_job_is_killed(lake, quiet_source):
    dsn = app_dsn_of_stack()
    producer = subprocess.Popen(producer_command("--rate", "150", "--duration", "30", "--seed", "23"))
    try:
        time.sleep(10)
        # A crash, not a stop: supervisord restarts it (autorestart=unexpected), from its S3 checkpoint.
        supervise("signal", "KILL", "glue")
        assert producer.wait(timeout=120) == 0
    finally:
        producer.kill()
    for table, json_columns in PRODUCER_TABLES.items():
        assert settle(lake, dsn, os.environ["PG_SCHEMA"], table, ["id"], json_columns) == []
