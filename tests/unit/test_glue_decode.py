"""Decoding Debezium JSON from Kafka: envelopes with and without embedded schemas, tombstones, poison messages."""

import json
from datetime import date, datetime
from decimal import Decimal

import pytest

import glue_spark
from glue import decode as d
from glue.columns import specs_from_envelope_schema
from glue.rows import typed_changes
from glue_events import ORDERS, SNAPSHOT, envelope_schema, kafka_rows, message, tombstone, truncate

ROW = {"id": 1, "amount": "12.50", "created_at": "2026-11-27T02:10:21.277747Z", "day": 20419,
       "doc": '{"a": [1, 2]}', "paid": True, "qty": 3, "note": "first"}
ORDERS_SPECS = specs_from_envelope_schema(json.dumps(envelope_schema("orders", ORDERS)))


@pytest.fixture(scope="session")
def spark():
    return glue_spark.session()


def decoded(spark, messages):
    events, quarantine = d.decode(kafka_rows(spark, messages))
    return events.orderBy("offset").collect(), quarantine.orderBy("offset").collect()


def test_envelope_with_embedded_schema_is_decoded(spark):
    (event,), quarantine = decoded(spark, [message("c", 100, after=ROW, tx_id=7)])
    assert quarantine == []
    assert (event.op, event.lsn, event.tx_id) == ("c", 100, 7)
    assert (event.source_schema, event.source_table) == ("shop", "orders")
    assert event.source_ts_ms and event.ts_ms == event.source_ts_ms + 150
    assert json.loads(event.key) == {"id": 1}
    assert json.loads(event.after) == ROW and event.before is None


def test_a_parsed_batch_keeps_a_hash_of_each_schema_and_finds_its_text_again(spark):
    batch = kafka_rows(spark, [message("c", 100, after=ROW), message("c", 101, after={**ROW, "id": 2})])
    hashes = {r.schema_hash for r in d.parse(batch).collect()}
    assert len(hashes) == 1  # one schema, however many messages
    (text,) = d.schema_texts(batch, list(hashes)).values()
    assert specs_from_envelope_schema(text)[1].sql_type == "decimal(12,2)"


def test_envelope_without_schema_is_decoded(spark):
    (event,), quarantine = decoded(spark, [message("u", 101, before=ROW, after=ROW, schemas=False)])
    assert quarantine == []
    assert (event.op, event.lsn, event.schema_id, event.key_schema) == ("u", 101, None, None)
    assert json.loads(event.key) == {"id": 1} and json.loads(event.before) == ROW


def test_tombstones_are_skipped(spark):
    events, quarantine = decoded(spark, [message("d", 102, before=ROW), tombstone({"id": 1})])
    assert [e.op for e in events] == ["d"] and quarantine == []


def test_text_that_is_not_json_is_quarantined(spark):
    events, (bad,) = decoded(spark, [(None, "not json at all"), message("c", 100, after=ROW)])
    assert len(events) == 1
    assert (bad.reason, bad.value, bad.topic, bad.partition, bad.offset) == (
        d.NOT_JSON, "not json at all", "shop.shop.orders", 0, 0)


def test_json_without_an_envelope_is_quarantined(spark):
    _, (bad,) = decoded(spark, [('{"id": 1}', '{"id": 1, "amount": "3.10"}')])
    assert bad.reason == d.NO_ENVELOPE and bad.key == '{"id": 1}'


def test_an_unknown_op_is_quarantined(spark):
    key, value = message("c", 100, after=ROW)
    _, (bad,) = decoded(spark, [(key, value.replace('"op": "c"', '"op": "x"'))])
    assert bad.reason == f"{d.UNKNOWN_OP}: x"


def test_typed_changes_are_exact_decimals_utc_timestamps_and_dates(spark):
    events, _ = d.decode(kafka_rows(spark, [message("c", 100, after=ROW)]))
    typed = typed_changes(events, ["id"], ORDERS_SPECS)
    (row,) = typed.collect()
    assert row.amount == Decimal("12.50")
    # collected timestamps are in the driver's local time: compare in UTC through Spark instead
    utc = typed.selectExpr("date_format(created_at, 'yyyy-MM-dd HH:mm:ss.SSSSSS')").first()[0]
    assert utc == "2026-11-27 02:10:21.277747"
    assert row.day == date(2025, 11, 27) and row.doc == '{"a": [1, 2]}' and row.paid is True and row.qty == 3
    assert (row._op, row._commit_lsn, row._lsn, row["__keep__note"]) == ("c", 100, 100, False)
    assert isinstance(row._op_ts, datetime)


def test_typed_changes_flag_the_toast_placeholder_to_keep(spark):
    after = {**ROW, "note": "__debezium_unavailable_value"}
    events, _ = d.decode(kafka_rows(spark, [message("u", 100, after=after, fields=ORDERS)]))
    (row,) = typed_changes(events, ["id"], ORDERS_SPECS).collect()
    assert row["__keep__note"] is True and row.note is None and row["__keep__amount"] is False


def test_each_event_is_placed_by_debeziums_sequence_last_commit_then_lsn(spark):
    events, _ = d.decode(kafka_rows(spark, [message("u", 90, after=ROW, commit=120),
                                            message("r", 100, after=ROW, commit=SNAPSHOT),
                                            message("r", None, after=ROW, commit=200, snapshot="incremental"),
                                            message("c", 7, after=ROW, sequence=False)]))
    placed = [(e.commit_lsn, e.lsn) for e in events.orderBy("offset").collect()]
    # a change of a long transaction; a snapshot read; an incremental snapshot read; no sequence: its LSN
    assert placed == [(120, 90), (100, 100), (200, 200), (7, 7)]


def test_a_truncate_is_an_event_and_heartbeats_are_ignored(spark):
    heartbeat = kafka_rows(spark, [('{"serverName": "shop"}', '{"ts_ms": 1}')], topic="__debezium-heartbeat.shop")
    rows = kafka_rows(spark, [truncate(50)]).union(heartbeat)
    events, quarantine = d.decode(rows, ignored_topics=("__debezium-heartbeat.shop",))
    assert [(e.op, e.key) for e in events.collect()] == [("t", None)] and quarantine.count() == 0


def test_the_old_key_of_a_primary_key_update_comes_from_debeziums_header(spark):
    key, value = message("c", 20, after={**ROW, "id": 2})
    (event,) = d.decode(kafka_rows(spark, [(key, value, {"__debezium.oldkey": '{"id":1}'})]))[0].collect()
    assert json.loads(event.old_key) == {"id": 1}
