"""Debezium change events as the JSON converter writes them (schemas enabled), decoded for reading."""

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any


@dataclass
class Event:
    topic: str
    partition: int
    offset: int
    key: dict | None
    value: dict | None  # the envelope's payload; None for a tombstone
    columns: dict[str, dict] = field(default_factory=dict)  # column -> its field schema in the envelope

    @property
    def tombstone(self) -> bool:
        return self.value is None

    @property
    def op(self) -> str:
        return self.value["op"]

    @property
    def txid(self) -> int:
        return self.value["source"]["txId"]

    @property
    def lsn(self) -> int:
        return self.value["source"]["lsn"]

    def row(self, which: str) -> dict | None:
        """`before` or `after`, with timestamps and JSON decoded so they compare by value."""
        raw = self.value[which]
        return None if raw is None else {k: decode(v, self.columns[k].get("name")) for k, v in raw.items()}


def decode(value: Any, semantic: str | None) -> Any:
    if value is None:
        return None
    if semantic == "io.debezium.time.ZonedTimestamp":
        return datetime.fromisoformat(value)
    if semantic == "io.debezium.time.Date":
        return date(1970, 1, 1) + timedelta(days=value)
    if semantic == "io.debezium.data.Json":
        return json.loads(value)
    return value


def parse(message) -> Event:
    key = json.loads(message.key)["payload"] if message.key else None
    if message.value is None:
        return Event(message.topic, message.partition, message.offset, key, None)
    envelope = json.loads(message.value)
    after = next(part for part in envelope["schema"]["fields"] if part["field"] == "after")
    columns = {column["field"]: column for column in after["fields"]}
    return Event(message.topic, message.partition, message.offset, key, envelope["payload"], columns)


def summary(event: Event) -> str:
    """One line for a person watching the stream."""
    key = json.dumps(event.key, separators=(",", ":"))
    if event.tombstone:
        return f"{event.topic}@{event.offset}  tombstone  key={key}"
    source = event.value["source"]
    row = event.value["after"] if event.value["after"] is not None else event.value["before"]
    return (f"{event.topic}@{event.offset}  op={event.op}  key={key}  lsn={source['lsn']}  txId={source['txId']}  "
            f"{json.dumps(row, separators=(',', ':'), ensure_ascii=False)}")
