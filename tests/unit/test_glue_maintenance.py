"""The lake's maintenance job (glue.maintenance) beside the stream: what a round does, a round that fails, a micro-batch
after a compaction another process committed, and one whose commit conflicts with it."""

import logging

import pytest

import glue_spark
from glue.job import BatchWriter
from glue.maintenance import maintain
from glue.rowdelta import IcebergTable
from glue_events import Topic, message, own, unique

ROW = {"id": 1, "amount": "12.50", "created_at": "2026-11-27T02:10:21.277747Z", "day": 20419, "doc": "{}",
       "paid": False, "qty": 1, "note": "n"}
OTHER = "other_writer"  # a second catalog on the same warehouse: another process's view of the tables


@pytest.fixture(scope="session")
def spark():
    spark = glue_spark.session()
    prefix = f"spark.sql.catalog.{glue_spark.CATALOG}"
    spark.conf.set(f"spark.sql.catalog.{OTHER}", spark.conf.get(prefix))
    spark.conf.set(f"spark.sql.catalog.{OTHER}.type", "hadoop")
    spark.conf.set(f"spark.sql.catalog.{OTHER}.warehouse", spark.conf.get(f"{prefix}.warehouse"))
    return spark


@pytest.fixture
def orders():
    return Topic(unique("orders"))


def rows(spark, table):
    return [tuple(r) for r in spark.sql(f"SELECT id, note FROM {table} ORDER BY id").collect()]


def file_contents(spark, table):
    """content of each live file: 0 data, 1 position deletes."""
    return sorted(r.content for r in spark.sql(f"SELECT content FROM {table}.files").collect())


def three_rows_then_an_update_and_a_delete(spark, writer, orders):
    writer(orders.batch(spark, [message("c", 10 + i, table=orders.table, after={**ROW, "id": i})
                                for i in range(1, 4)]), 0)
    writer(orders.batch(spark, [message("u", 20, table=orders.table, after={**ROW, "id": 2, "note": "u"}),
                                message("d", 21, table=orders.table, before={"id": 3})]), 1)


def test_a_round_folds_delete_files_into_data_files_and_keeps_the_rows(spark, orders):
    lake = glue_spark.lake()
    three_rows_then_an_update_and_a_delete(spark, BatchWriter(lake), orders)
    table = lake.table(orders.table)
    assert 1 in file_contents(spark, table)  # merge-on-read: the update and delete left a delete file
    assert maintain(spark, lake.catalog, lake.database, [orders.table], 168) == {}
    assert rows(spark, table) == [(1, "n"), (2, "u")]
    assert file_contents(spark, table) == [0]  # one data file, no delete files


def test_a_table_whose_upkeep_fails_is_reported_and_the_others_are_kept(spark, orders):
    lake = glue_spark.lake()
    three_rows_then_an_update_and_a_delete(spark, BatchWriter(lake), orders)
    skipped = maintain(spark, lake.catalog, lake.database, ["gone", orders.table], 168)
    assert list(skipped) == ["gone"]  # a table dropped since the round listed it
    assert file_contents(spark, lake.table(orders.table)) == [0]


def test_a_batch_after_a_compaction_by_another_process_finds_the_rows_where_it_moved_them(spark, orders, caplog):
    caplog.set_level(logging.INFO, logger="glue.keyed")
    lake = glue_spark.lake()
    writer = BatchWriter(lake)
    three_rows_then_an_update_and_a_delete(spark, writer, orders)
    # another process compacts: the rows the stream's key index knows are in other files, at other positions now
    assert maintain(spark, OTHER, lake.database, [orders.table], 168) == {}
    report = writer(orders.batch(spark, [message("u", 30, table=orders.table, after={**ROW, "id": 1, "note": "x"}),
                                         message("c", 31, table=orders.table, after={**ROW, "id": 4})]), 2)
    assert own(report, orders.table) == ({orders.table: 2}, {})
    assert rows(spark, lake.table(orders.table)) == [(1, "x"), (2, "u"), (4, "n")]
    assert "building the key index again" not in caplog.text  # it followed the compaction, reading only its files


def test_a_commit_refused_for_a_compaction_committed_meanwhile_is_planned_again(spark, orders, caplog, monkeypatch):
    caplog.set_level(logging.INFO, logger="glue.job")
    lake = glue_spark.lake()
    writer = BatchWriter(lake)
    three_rows_then_an_update_and_a_delete(spark, writer, orders)
    commit = IcebergTable.commit

    def compacted_first(table, *args, **kwargs):
        # another process compacts after the batch looked up its rows and before it commits: it deletes from data
        # files that are gone, and Iceberg refuses the commit
        monkeypatch.setattr(IcebergTable, "commit", commit)
        assert maintain(spark, OTHER, lake.database, [orders.table], 168) == {}
        return commit(table, *args, **kwargs)

    monkeypatch.setattr(IcebergTable, "commit", compacted_first)
    report = writer(orders.batch(spark, [message("u", 30, table=orders.table, after={**ROW, "id": 1, "note": "x"}),
                                         message("c", 31, table=orders.table, after={**ROW, "id": 4})]), 2)
    assert "commit refused (org.apache.iceberg.exceptions.ValidationException" in caplog.text
    assert own(report, orders.table) == ({orders.table: 2}, {})
    assert rows(spark, lake.table(orders.table)) == [(1, "x"), (2, "u"), (4, "n")]
