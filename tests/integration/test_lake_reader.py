"""`make lake` and `make sql` (python/lake, pyiceberg and DuckDB): they read the merge-on-read mirrors as Spark does,
deletes applied, and their counts come from the metadata without a wrong row."""

import json
import os
import re
import subprocess

import psycopg2
import pytest

from conftest import ROOT, app_dsn_of_stack, producer_command
from glue.bookkeeping import BOOKKEEPING_NAMES
from lake.catalog import lake_tables, local_catalog
from lake.summary import summarize
from stack.lakecheck import comparable, differences, mirror_rows, settle, source_rows

TABLES = {"customers": {"profile"}, "orders": {"details"}}


def pyiceberg_rows(table, json_columns: set[str]) -> dict[tuple, dict]:
    rows = {}
    for row in table.scan().to_arrow().to_pylist():
        values = {k: v for k, v in row.items() if k not in BOOKKEEPING_NAMES}
        for column in json_columns & values.keys():
            values[column] = None if values[column] is None else json.dumps(json.loads(values[column]), sort_keys=True)
        rows[(values["id"],)] = {k: comparable(v) for k, v in values.items()}
    return rows


def has_delete_files(name: str) -> bool:
    return any(task.delete_files for task in lake_tables(local_catalog())[name].scan().plan_files())


@pytest.fixture(scope="module")
def settled(lake, quiet_source):
    """Updates and deletes through the pipeline, then the mirrors equal the source as Spark reads them, with delete
    files in both (the maintenance program folds them into the data files now and then: then more changes)."""
    dsn = app_dsn_of_stack()
    for seed in (41, 42, 43):
        subprocess.run(producer_command("--count", "1500", "--rate", "0", "--seed", str(seed)), check=True)
        for table, json_columns in TABLES.items():
            assert settle(lake, dsn, os.environ["PG_SCHEMA"], table, ["id"], json_columns) == []
        if all(has_delete_files(name) for name in TABLES):
            return dsn
    pytest.fail("the mirrors never had delete files: merge-on-read reading is not tested")


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                          check=False)


@pytest.mark.parametrize("name", sorted(TABLES))
def test_pyiceberg_reads_a_mirror_row_for_row_as_spark_and_the_source_have_it(lake, settled, name):
    table = lake_tables(local_catalog())[name]
    read = pyiceberg_rows(table, TABLES[name])
    assert differences(mirror_rows(lake, name, ["id"], TABLES[name]), read)[:5] == []
    source = source_rows(settled, os.environ["PG_SCHEMA"], name, ["id"])
    assert differences(source, read)[:5] == []
    assert summarize(table).rows == len(source)


def test_make_lake_lists_each_mirror_with_its_exact_row_count(settled):
    result = make("lake")
    assert result.returncode == 0, result.stderr
    counts = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[1:]}
    for name in TABLES:
        assert counts[name] == str(len(source_rows(settled, os.environ["PG_SCHEMA"], name, ["id"])))


def test_make_sql_answers_a_query_over_two_mirrors(settled):
    join = "from {s}orders o join {s}customers c on o.customer_id = c.id where c.is_active"
    result = make("sql", f"Q=select count(*) as n {join.format(s='')}")
    assert result.returncode == 0, result.stderr
    with psycopg2.connect(settled) as conn, conn.cursor() as cur:
        cur.execute(f"select count(*) {join.format(s=os.environ['PG_SCHEMA'] + '.')}")
        expected = cur.fetchone()[0]
    conn.close()
    assert re.findall(r"│\s+(\d+)\s+│", result.stdout) == [str(expected)], result.stdout


def test_a_table_not_in_the_lake_is_one_line_naming_it(settled):
    result = make("lake", "TABLE=no_such_table")
    assert result.returncode != 0
    assert result.stderr.splitlines()[0].startswith("error: no table no_such_table in the lake"), result.stderr
