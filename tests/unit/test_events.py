"""Decoding Debezium's JSON envelopes (schemas enabled) into comparable rows."""

import json
from datetime import UTC, date, datetime
from types import SimpleNamespace

from stack.events import parse, summary


def message(value: dict | None, key: dict, offset: int = 5):
    return SimpleNamespace(topic="shop.shop.orders", partition=0, offset=offset,
                           key=json.dumps({"schema": {}, "payload": key}).encode(),
                           value=None if value is None else json.dumps(value).encode())


ENVELOPE = {
    "schema": {"type": "struct", "fields": [
        {"field": "before", "type": "struct", "fields": []},
        {"field": "after", "type": "struct", "fields": [
            {"field": "id", "type": "int64"},
            {"field": "amount", "type": "string", "parameters": {"__debezium.source.column.scale": "2"}},
            {"field": "ordered_at", "type": "string", "name": "io.debezium.time.ZonedTimestamp"},
            {"field": "delivery_date", "type": "int32", "name": "io.debezium.time.Date"},
            {"field": "details", "type": "string", "name": "io.debezium.data.Json"},
        ]},
    ]},
    "payload": {
        "op": "c", "before": None, "ts_ms": 1700000000100,
        "after": {"id": 7, "amount": "12.50", "ordered_at": "2026-11-27T01:02:03.456789Z",
                  "delivery_date": 20419, "details": "{\"gift\": true}"},
        "source": {"lsn": 123, "txId": 9, "table": "orders", "ts_ms": 1700000000000},
    },
}


def test_after_row_decodes_timestamps_dates_and_json_and_keeps_decimals_exact():
    row = parse(message(ENVELOPE, {"id": 7})).row("after")
    assert row == {"id": 7, "amount": "12.50",
                   "ordered_at": datetime(2026, 11, 27, 1, 2, 3, 456789, tzinfo=UTC),
                   "delivery_date": date(2025, 11, 27), "details": {"gift": True}}


def test_event_exposes_op_transaction_and_lsn():
    event = parse(message(ENVELOPE, {"id": 7}))
    assert (event.op, event.txid, event.lsn, event.key) == ("c", 9, 123, {"id": 7})
    assert not event.tombstone


def test_null_value_is_a_tombstone_with_its_key():
    event = parse(message(None, {"id": 7}))
    assert event.tombstone and event.key == {"id": 7}
    assert "tombstone" in summary(event)


def test_summary_names_op_key_and_lsn():
    line = summary(parse(message(ENVELOPE, {"id": 7})))
    assert "op=c" in line and 'key={"id":7}' in line and "lsn=123" in line
