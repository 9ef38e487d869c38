"""Per micro-batch records (glue.metrics): the Kafka offsets a batch held and when its changes became visible."""

import json
from pathlib import Path

import pytest

import glue_spark
from glue.contents import contents
from glue.decode import parse
from glue.job import BatchWriter
from glue.metrics import batch_record, record_uri
from glue.options import JobOptions
from glue_events import Topic, kafka_rows, message, own, tombstone, unique

ROW = {"id": 1, "amount": "12.50", "created_at": "2026-11-27T02:10:21.277747Z", "day": 20419, "doc": "{}",
       "paid": False, "qty": 1, "note": "n"}


@pytest.fixture(scope="session")
def spark():
    return glue_spark.session()


def test_a_record_counts_the_messages_of_every_partition():
    ranges = [{"topic": "a", "partition": 0, "first": 5, "last": 9, "count": 5},
              {"topic": "b", "partition": 1, "first": 0, "last": 1, "count": 2}]
    record = batch_record(7, 1000, 4500, ranges, appended=6, mirrored=6, steps={"merge": 1.23456})
    assert (record["batch_id"], record["messages"], record["visible_at_ms"], record["steps"]) == (
        7, 7, 4500, {"merge": 1.235})


def test_records_are_named_by_batch_id_so_a_replayed_batch_overwrites_its_own():
    assert record_uri("s3://lake/metrics/batches/", 42) == "s3://lake/metrics/batches/batch-000000000042.json"


def test_offset_ranges_are_per_topic_partition(spark):
    a, b = Topic(unique("orders")), Topic(unique("customers"), partition=2)
    a.batch(spark, [message("c", 1, after=ROW)] * 3)  # offsets 0..2 of an earlier batch
    batch = a.batch(spark, [message("c", 2, after=ROW)] * 2).union(b.batch(spark, [message("c", 3, after=ROW)]))
    assert contents(parse(batch)).ranges() == [  # sorted by topic: shop.shop.customers_* first
        {"topic": b.name, "partition": 2, "first": 0, "last": 0, "count": 1},
        {"topic": a.name, "partition": 0, "first": 3, "last": 4, "count": 2},
    ]


def test_each_batch_writes_its_record_once_its_merges_are_committed(spark, tmp_path: Path):
    orders = Topic(unique("orders"))
    writer = BatchWriter(glue_spark.lake(), metrics_uri=tmp_path.as_uri())
    report = writer(orders.batch(spark, [message("c", 10, table=orders.table, after=ROW),
                                         message("d", 11, table=orders.table, before=ROW), tombstone({"id": 1})]), 3)
    record = json.loads((tmp_path / "batch-000000000003.json").read_text())
    assert record["offsets"] == [{"topic": orders.name, "partition": 0, "first": 0, "last": 2, "count": 3}]
    assert (record["messages"], record["appended"], record["mirrored"]) == (3, 2, report.mirrored)
    assert record["started_at_ms"] <= record["visible_at_ms"]
    assert set(record["steps"]) == {"read", "quarantine", "changelog", "merge"}


def test_the_records_go_under_the_lake_unless_turned_off():
    raw = {"kafka-bootstrap": "k:1", "topic-prefix": "shop", "lake-uri": "s3://b/", "catalog": "glue",
           "database": "shop"}
    assert JobOptions.from_mapping(raw, env={}).metrics_uri == "s3://b/metrics/batches"
    assert JobOptions.from_mapping({**raw, "metrics-uri": "none"}, env={}).metrics_uri is None


def test_a_batch_of_heartbeats_alone_writes_nothing_to_the_lake(spark, tmp_path: Path):
    lake, orders = glue_spark.lake(), Topic(unique("orders"))
    writer = BatchWriter(lake, metrics_uri=tmp_path.as_uri())
    writer(orders.batch(spark, [message("c", 10, table=orders.table, after=ROW)]), 1)
    changelog_snapshots = f"SELECT snapshot_id FROM {lake.table(lake.changelog_table)}.snapshots"
    before = spark.sql(changelog_snapshots).collect()
    heartbeats = kafka_rows(spark, [('{"serverName":"shop"}', '{"ts_ms":1764209422000}')] * 2,
                            topic=lake.heartbeat_topic)
    report = writer(heartbeats, 2)
    assert (report.appended, report.quarantined, own(report, orders.table)) == (0, 0, ({}, {}))
    assert spark.sql(changelog_snapshots).collect() == before
    assert sorted(p.name for p in tmp_path.glob("batch-*")) == ["batch-000000000001.json"]
