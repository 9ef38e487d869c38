"""python/lake on a catalog of its own (SQLite and a local folder): what `make lake` lists, what `make sql` reads."""

from datetime import UTC, datetime

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from lake import query
from lake.summary import Summary, summarize


@pytest.fixture
def catalog(tmp_path):
    catalog = SqlCatalog("t", uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=f"file://{tmp_path}")
    catalog.create_namespace("shop")
    return catalog


def rows(ids: list[int], seconds: list[int]) -> pa.Table:
    times = [datetime.fromtimestamp(1_800_000_000 + s, UTC) for s in seconds]
    return pa.table({"id": pa.array(ids, pa.int64()), "_op_ts": pa.array(times, pa.timestamp("us", tz="UTC"))})


def test_rows_and_the_newest_change_come_from_every_live_file(catalog):
    table = catalog.create_table("shop.orders", schema=rows([], []).schema)
    table.append(rows([1, 2], [10, 30]))
    table.append(rows([3], [20]))
    table.delete("id = 2")  # pyiceberg rewrites the file: the dropped row's time goes with it
    summary = summarize(catalog.load_table("shop.orders"))
    assert summary.rows == 2
    assert summary.newest_change == datetime.fromtimestamp(1_800_000_020, UTC)
    assert summary.committed_at is not None


def test_a_table_never_written_has_no_rows_and_no_times(catalog):
    assert summarize(catalog.create_table("shop.empty", schema=rows([], []).schema)) == Summary(0, None, None)


def test_sql_reads_only_the_tables_it_names(catalog):
    for name in ("orders", "order_lines"):
        catalog.create_table(f"shop.{name}", schema=rows([], []).schema).append(rows([1, 2, 3], [0, 0, 0]))
    tables = {name: catalog.load_table(f"shop.{name}") for name in ("orders", "order_lines")}
    assert query.referenced("select * from order_lines", sorted(tables)) == ["order_lines"]
    assert query.referenced('select * from "orders" join order_lines using (id)', sorted(tables)) == \
        ["order_lines", "orders"]
    assert query.run(tables, "select count(*), max(id) from orders").fetchall() == [(3, 3)]


def test_first_rows_are_in_key_order(catalog):
    table = catalog.create_table("shop.orders", schema=rows([], []).schema)
    table.append(rows([3, 1, 2], [0, 0, 0]))
    assert [r[0] for r in query.first_rows({"orders": table}, "orders", 2).fetchall()] == [1, 2]
