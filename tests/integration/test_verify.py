"""make verify: no false alarm while changes flow; each kind of drift made behind the pipeline's back in the lake is
found, named by its key, shown by make status, and gone after a rebuild."""

import json
import os
import subprocess

import psycopg2
import pytest
from psycopg2 import sql

from conftest import ROOT, app_dsn_of_stack, producer_command
from glue.sqlnames import q
from lake import verify
from stack.lakecheck import settle
from stack.settings import verify_results


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)


def test_no_drift_is_reported_while_the_producer_writes(capsys):
    producer = subprocess.Popen(producer_command("--rate", "300", "--duration", "600", "--seed", "51"))
    try:
        assert verify.run(["customers", "orders"]) == 0, capsys.readouterr().out
        assert producer.poll() is None, "the producer stopped before verification ended: nothing was flowing"
    finally:
        producer.kill()
        producer.wait()


@pytest.fixture(scope="module")
def tampered(lake):
    """A table of the test's own, mirrored, then its mirror changed in the lake four ways behind the pipeline."""
    table = f"verify_{os.urandom(4).hex()}"
    dsn = app_dsn_of_stack()
    source = sql.Identifier(os.environ["PG_SCHEMA"], table)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE TABLE {} (id int PRIMARY KEY, amount numeric(10,2), note text)").format(source))
        cur.execute(sql.SQL("INSERT INTO {} SELECT i, i * 1.25, 'row ' || i FROM generate_series(1, 50) i")
                    .format(source))
    assert settle(lake, dsn, os.environ["PG_SCHEMA"], table, ["id"]) == []
    spark, namespace = lake
    mirror = f"{namespace}.{q(table)}"
    spark.sql(f"UPDATE {mirror} SET amount = amount + 0.01 WHERE id = 1")
    spark.sql(f"UPDATE {mirror} SET note = 'changed behind its back' WHERE id = 2")
    spark.sql(f"DELETE FROM {mirror} WHERE id = 3")
    spark.sql(f"INSERT INTO {mirror} SELECT 999, 1.00, 'never in the source', _commit_lsn, _lsn, _op, _op_ts "
              f"FROM {mirror} WHERE id = 4")
    yield table
    with conn.cursor() as cur:
        cur.execute(sql.SQL("DROP TABLE {}").format(source))
    conn.close()


def test_each_kind_of_drift_is_found_by_its_key_and_shown_by_status(tampered):
    result = make("verify", f"TABLE={tampered}")
    assert result.returncode != 0, result.stdout + result.stderr
    assert f"{tampered}" in result.stdout and "DRIFT     4 of 50 keys differ" in result.stdout, result.stdout
    with open(verify_results(), encoding="utf-8") as handle:
        [found] = json.load(handle)["tables"]
    what = {d["key"]: d["what"] for d in found["differing"]}
    assert what == {
        "id=1": "amount: source '1.25', lake '1.26'",
        "id=2": "note: source 'row 2', lake 'changed behind its back'",
        "id=3": "missing in the lake",
        "id=999": "in the lake, not in the source",
    }
    status = make("status")
    assert "1 of 1 mirrors differ from their sources" in status.stdout, status.stdout
    assert f"{tampered}" in status.stdout.split("verification:")[1]


def test_a_rebuilt_mirror_verifies_equal(tampered):
    assert make("rebuild", f"TABLE={tampered}").returncode == 0
    result = make("verify", f"TABLE={tampered}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "equal     50 rows" in result.stdout
