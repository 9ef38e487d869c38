"""The change events of a phase, read back from Kafka: where each one is, when it was committed and sent."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition


@dataclass(frozen=True)
class ChangeEvent:
    topic: str
    partition: int
    offset: int
    table: str
    op: str
    key: str          # the key's payload as canonical JSON, comparable with a journal entry's key
    txid: int         # source.txId: PostgreSQL's 32-bit transaction id
    commit_ms: int    # source.ts_ms: the transaction's commit time
    kafka_ms: int     # the record's timestamp: when Kafka Connect produced it
    size: int         # bytes of the record's value, as Debezium's JsonConverter wrote it


def canonical_key(key: dict) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


def parse(topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
          timestamp_ms: int) -> ChangeEvent | None:
    """A change event from a Kafka record of a Debezium table topic; None for a tombstone."""
    if value is None:
        return None
    envelope = json.loads(value)
    payload = envelope.get("payload", envelope)  # with or without embedded schemas
    key_payload = json.loads(key) if key else {}
    key_payload = key_payload.get("payload", key_payload) if "schema" in key_payload else key_payload
    source = payload["source"]
    return ChangeEvent(topic, partition, offset, source["table"], payload["op"], canonical_key(key_payload or {}),
                       int(source["txId"]), int(source["ts_ms"]), int(timestamp_ms), len(value))


class Topics:
    """The table topics of a Debezium topic prefix and schema: their end offsets, and reading ranges of them."""

    def __init__(self, bootstrap: str, prefix: str, schema: str):
        self.bootstrap = bootstrap
        self.pattern = f"{prefix}.{schema}."
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                      consumer_timeout_ms=1000, auto_offset_reset="earliest",
                                      # large fetches for speed; the frame limit must hold a whole fetch response
                                      fetch_max_bytes=32 * 1024 * 1024, max_partition_fetch_bytes=8 * 1024 * 1024,
                                      receive_message_max_bytes=64 * 1024 * 1024)

    def partitions(self) -> list[TopicPartition]:
        names = [t for t in self.consumer.topics() if t.startswith(self.pattern) and t.count(".") == 2]
        return sorted(TopicPartition(t, p) for t in names for p in (self.consumer.partitions_for_topic(t) or ()))

    def end_offsets(self) -> dict[TopicPartition, int]:
        partitions = self.partitions()
        return self.consumer.end_offsets(partitions) if partitions else {}

    def read(self, start: dict[TopicPartition, int], end: dict[TopicPartition, int],
             timeout: float = 600) -> tuple[list[ChangeEvent], int]:
        """Every record from `start` (0 for a partition new since) up to `end`: (change events, tombstones)."""
        wanted = {tp: (start.get(tp, 0), stop) for tp, stop in end.items() if stop > start.get(tp, 0)}
        if not wanted:
            return [], 0
        self.consumer.assign(sorted(wanted))
        for tp, (first, _) in wanted.items():
            self.consumer.seek(tp, first)
        events: list[ChangeEvent] = []
        tombstones = 0
        remaining = set(wanted)
        deadline = time.monotonic() + timeout
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading the phase's events from Kafka took over {timeout:.0f} s; "
                                   f"partitions not read to their end: {sorted(remaining)}")
            for tp, records in self.consumer.poll(timeout_ms=1000, max_records=20000).items():
                stop = wanted[tp][1]
                for r in records:
                    if r.offset >= stop:
                        break
                    event = parse(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp)
                    if event is None:
                        tombstones += 1
                    else:
                        events.append(event)
                if records and records[-1].offset >= stop - 1:
                    remaining.discard(tp)
                    self.consumer.pause(tp)
        self.consumer.unsubscribe()
        return events, tombstones

    def close(self) -> None:
        self.consumer.close()


def create_topic(bootstrap: str, name: str, partitions: int = 1) -> None:
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    finally:
        admin.close()


def delete_topic(bootstrap: str, name: str) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.delete_topics([name])
    finally:
        admin.close()
