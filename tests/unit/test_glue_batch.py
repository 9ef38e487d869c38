"""Whole micro-batches (glue.job.BatchWriter): the change log, its replay safety, and the quarantine."""

from datetime import date

import pytest

import glue_spark
from glue.job import BatchWriter
from glue_events import Topic, message, own, tombstone, unique

ROW = {"id": 1, "amount": "12.50", "created_at": "2026-11-27T02:10:21.277747Z", "day": 20419, "doc": "{}",
       "paid": False, "qty": 1, "note": "n"}


@pytest.fixture(scope="session")
def spark():
    return glue_spark.session()


@pytest.fixture(scope="module")
def writer():
    return BatchWriter(glue_spark.lake())


@pytest.fixture
def orders():
    return Topic(unique("orders"))


def changelog(spark, topic, columns="op, lsn, topic, partition, offset, event_date"):
    table = glue_spark.lake().table("cdc_changelog")
    return [tuple(r) for r in spark.sql(
        f"SELECT {columns} FROM {table} WHERE source_table = '{topic.table}' ORDER BY offset").collect()]


def test_the_change_log_keeps_every_event_with_its_kafka_position(spark, writer, orders):
    ev = [message("c", 10, table=orders.table, after=ROW), message("d", 11, table=orders.table, before=ROW),
          tombstone({"id": 1})]
    writer(orders.batch(spark, ev), 0)
    assert changelog(spark, orders) == [("c", 10, orders.name, 0, 0, date(2026, 11, 27)),
                                        ("d", 11, orders.name, 0, 1, date(2026, 11, 27))]


def test_the_change_log_is_partitioned_by_source_table_and_event_date(spark, writer, orders):
    writer(orders.batch(spark, [message("c", 10, table=orders.table, after=ROW)]), 0)
    table = glue_spark.lake().table("cdc_changelog")
    partition = spark.sql(f"SELECT partition FROM {table}.partitions").schema["partition"].dataType
    assert [f.name for f in partition.fields] == ["source_table", "event_date"]


def test_a_batch_replayed_after_a_restart_is_not_logged_twice(spark, writer, orders):
    ev = [message("c", 10, table=orders.table, after=ROW), message("u", 11, table=orders.table, after=ROW)]
    first = writer(orders.batch(spark, ev), 0)
    # a new process: what is already logged comes from the table's commits, not from memory
    again = BatchWriter(glue_spark.lake())(orders.replay(spark, ev, 0), 0)
    assert (first.appended, again.appended) == (2, 0)
    assert [r[:2] for r in changelog(spark, orders)] == [("c", 10), ("u", 11)]


def test_poison_messages_go_to_the_quarantine_and_the_batch_goes_on(spark, writer, orders):
    report = writer(orders.batch(spark, [(None, "garbage"), message("c", 10, table=orders.table, after=ROW)]), 0)
    assert (report.quarantined, report.appended, own(report, orders.table)) == (1, 1, ({orders.table: 1}, {}))
    quarantined = spark.read.json(f"{glue_spark.lake().quarantine_uri}/{orders.name}-0-0").collect()
    assert [(r.reason, r.value, r.topic, r.partition, r.offset) for r in quarantined] == [
        ("not a JSON object", "garbage", orders.name, 0, 0)]
