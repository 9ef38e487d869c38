"""Debezium messages as the JsonConverter writes them, built from small literal rows, and Kafka rows holding them."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

NUMERIC_12_2 = {"__debezium.source.column.type": "NUMERIC", "__debezium.source.column.length": "12",
                "__debezium.source.column.scale": "2"}

# shop.orders: one column of each type the mirror must carry exactly
ORDERS = [
    {"type": "int32", "optional": False, "field": "id"},
    {"type": "string", "optional": True, "parameters": NUMERIC_12_2, "field": "amount"},
    {"type": "string", "optional": True, "name": "io.debezium.time.ZonedTimestamp", "version": 1,
     "field": "created_at"},
    {"type": "int32", "optional": True, "name": "io.debezium.time.Date", "version": 1, "field": "day"},
    {"type": "string", "optional": True, "name": "io.debezium.data.Json", "version": 1, "field": "doc"},
    {"type": "boolean", "optional": True, "field": "paid"},
    {"type": "int64", "optional": True, "field": "qty"},
    {"type": "string", "optional": True, "field": "note"},
]

_names = itertools.count()


def unique(name: str) -> str:
    """A table name no other test uses, so tests share one catalog without seeing each other's tables."""
    return f"{name}_{next(_names)}"


def own(report, *tables: str) -> tuple[dict[str, int], dict[str, str]]:
    """A batch report's (applied, paused) for the test's own tables: the tests share one lake, and a batch also gives
    the mirrors other tests paused their retry once its backoff is over (glue.state)."""
    return ({t: n for t, n in report.tables.items() if t in tables},
            {t: why for t, why in report.paused.items() if t in tables})


def _struct(fields: list[dict], name: str, field: str | None = None) -> dict:
    schema = {"type": "struct", "fields": fields, "optional": field is not None, "name": name}
    if field:
        schema["field"] = field
    return schema


def envelope_schema(table: str, fields: list[dict], schema: str = "shop") -> dict:
    source = [{"type": "int64", "optional": True, "field": n} for n in ("lsn", "txId", "ts_ms")]
    source += [{"type": "string", "optional": False, "field": n} for n in ("db", "schema", "table")]
    value = f"shop.{schema}.{table}.Value"
    return _struct([
        _struct(fields, value, "before"), _struct(fields, value, "after"),
        _struct(source, "io.debezium.connector.postgresql.Source", "source"),
        {"type": "string", "optional": False, "field": "op"},
        {"type": "int64", "optional": True, "field": "ts_ms"},
    ], f"shop.{schema}.{table}.Envelope")


TS_MS = int(datetime(2026, 11, 27, 2, 10, 21, tzinfo=UTC).timestamp() * 1000)


SNAPSHOT = "snapshot"  # commit= for a snapshot read: Debezium's sequence is [null, snapshot LSN]


def message(op: str, lsn: int | None, *, after: dict | None = None, before: dict | None = None,
            table: str = "orders", fields: list[dict] = ORDERS, key: dict | None = None,
            key_fields: tuple[str, ...] = ("id",), schemas: bool = True, schema: str = "shop", tx_id: int = 747,
            ts_ms: int = TS_MS, commit: int | str | None = None, sequence: bool = True,
            snapshot: str = "false") -> tuple[str, str]:
    """(key, value) JSON text of one change event; the key defaults to the row image's key columns.

    commit: the last commit LSN of Debezium's source.sequence [last commit LSN, LSN] (default: the LSN itself;
    SNAPSHOT: none, as a snapshot read has). lsn None: an incremental snapshot read, placed by its sequence only.
    """
    image = after if after is not None else before
    if key is None and image is not None:
        key = {k: image[k] for k in key_fields}
    source = {"version": "3.6.1.Final", "connector": "postgresql", "name": "shop", "ts_ms": ts_ms,
              "snapshot": snapshot, "db": "shop", "schema": schema, "table": table, "txId": tx_id, "lsn": lsn}
    if sequence:
        last_commit = None if commit == SNAPSHOT else (commit if commit is not None else lsn)
        seq_lsn = lsn if lsn is not None else last_commit
        source["sequence"] = json.dumps([None if last_commit is None else str(last_commit), str(seq_lsn)])
    payload = {"before": before, "after": after, "op": op, "ts_ms": ts_ms + 150, "source": source}
    if not schemas:
        return json.dumps(key), json.dumps(payload)
    value = json.dumps({"schema": envelope_schema(table, fields, schema), "payload": payload})
    if key is None:  # a TRUNCATE, or a table without primary key
        return None, value
    key_schema = _struct([f for f in fields if f["field"] in key_fields], f"shop.{schema}.{table}.Key")
    key_schema["optional"] = False
    return json.dumps({"schema": key_schema, "payload": key}), value


def tombstone(key: dict, key_fields: list[dict] | None = None) -> tuple[str, None]:
    return json.dumps({"schema": _struct(key_fields or ORDERS[:1], "k"), "payload": key}), None


def truncate(lsn: int, table: str = "orders", commit: int | None = None) -> tuple[None, str]:
    """Debezium's TRUNCATE event (skipped.operations=none): no key, no row image."""
    return message("t", lsn, table=table, commit=commit)


def kafka_rows(spark, messages: list[tuple], topic: str = "shop.shop.orders", partition: int = 0,
               first_offset: int = 0):
    """A DataFrame shaped like the Kafka source's (with headers): messages at consecutive offsets of one partition.

    A message is (key, value) or (key, value, {header: text}).
    """
    ts = datetime(2026, 11, 27, 2, 10, 22)
    rows = []
    for i, (k, v, *rest) in enumerate(messages):
        headers = [(name, text.encode()) for name, text in (rest[0] if rest else {}).items()]
        rows.append((None if k is None else k.encode(), None if v is None else v.encode(), topic, partition,
                     first_offset + i, ts, 0, headers))
    schema = ("key binary, value binary, topic string, partition int, offset bigint, timestamp timestamp, "
              "timestampType int, headers array<struct<key: string, value: binary>>")
    return spark.createDataFrame(rows, schema)


class Topic:
    """A table's topic: hands out consecutive offsets across batches, as Kafka does."""

    def __init__(self, table: str, partition: int = 0):
        self.table = table
        self.name = f"shop.shop.{table}"
        self.partition = partition
        self.next_offset = 0

    def batch(self, spark, messages: list[tuple[str | None, str | None]]):
        rows = kafka_rows(spark, messages, self.name, self.partition, self.next_offset)
        self.next_offset += len(messages)
        return rows

    def replay(self, spark, messages: list[tuple[str | None, str | None]], first_offset: int):
        """The same messages at the offsets they had: a batch replayed after a crash, or re-sent ones."""
        return kafka_rows(spark, messages, self.name, self.partition, first_offset)
