"""Reading Debezium change events back from Kafka, and matching them against the producer's journal."""

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from kafka import KafkaConsumer, TopicPartition

from stack.events import Event, parse


class TopicReader:
    """Reads topics from remembered offsets, so a test sees only what happened after it began."""

    def __init__(self, bootstrap: str):
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                      consumer_timeout_ms=1000, auto_offset_reset="earliest")

    def end_offsets(self, topics: Iterable[str]) -> dict[TopicPartition, int]:
        existing = self.consumer.topics()
        partitions = [TopicPartition(t, p) for t in topics if t in existing
                      for p in self.consumer.partitions_for_topic(t)]
        return self.consumer.end_offsets(partitions) if partitions else {}

    def read_until(self, topics: list[str], start: dict[TopicPartition, int],
                   done: Callable[[list[Event]], bool], timeout: float) -> list[Event]:
        """Read `topics` from `start` (0 where a partition is new) until done(events) or the timeout."""
        events: list[Event] = []
        deadline = time.monotonic() + timeout
        assigned: set[TopicPartition] = set()
        while time.monotonic() < deadline:
            self._assign_new(topics, start, assigned)
            for message in self.consumer.poll(timeout_ms=1000, max_records=5000).values():
                events.extend(parse(m) for m in message)
            if done(events):
                return events
        return events

    def _assign_new(self, topics: list[str], start: dict[TopicPartition, int], assigned: set) -> None:
        self.consumer.topics()  # refreshes metadata, so topics created meanwhile are seen
        current = {TopicPartition(t, p) for t in topics
                   for p in (self.consumer.partitions_for_topic(t) or ())}
        if current - assigned:
            assigned |= current
            self.consumer.assign(sorted(assigned))
            for tp in current:
                self.consumer.seek(tp, start.get(tp, 0))

    def close(self) -> None:
        self.consumer.close()


def key_of(entry: dict) -> str:
    return json.dumps(entry["key"], sort_keys=True)


def journal_row(row: dict | None) -> dict | None:
    """A journal row with its ISO timestamps parsed, comparable with Event.row()."""
    if row is None:
        return None
    parsed = {}
    for column, value in row.items():
        if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
            value = datetime.fromisoformat(value)
        elif isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
            value = date.fromisoformat(value)
        parsed[column] = value
    return parsed


@dataclass
class Match:
    missing: list[dict]            # journal changes with no event
    mismatched: list[str]          # per-key differences between journal and events
    duplicates: int                # events delivered more than once (same LSN and transaction)
    delivered: int


def match_journal(journal: list[dict], events: list[Event]) -> Match:
    """Every journaled change must arrive once, in order per key, with the journaled row."""
    txids = {entry["txid"] for entry in journal}
    per_key: dict[tuple[str, str], list[Event]] = defaultdict(list)
    seen: set[tuple[str, int, int, str]] = set()
    duplicates = 0
    for event in events:
        if event.tombstone or event.txid not in txids:
            continue
        identity = (event.topic, event.lsn, event.txid, json.dumps(event.key, sort_keys=True))
        if identity in seen:
            duplicates += 1
            continue
        seen.add(identity)
        per_key[(event.value["source"]["table"], json.dumps(event.key, sort_keys=True))].append(event)

    expected: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for entry in sorted(journal, key=lambda e: e["seq"]):
        expected[(entry["table"], key_of(entry))].append(entry)

    missing, mismatched = [], []
    for key, entries in expected.items():
        got = per_key.get(key, [])
        if len(got) < len(entries):
            missing.extend(entries[len(got):])
        for entry, event in zip(entries, got, strict=False):
            want_after = journal_row(entry["row"])
            if event.op != entry["op"] or event.txid != entry["txid"]:
                mismatched.append(f"{key}: journal {entry['op']}@{entry['txid']} vs event {event.op}@{event.txid}")
            elif want_after is not None and event.row("after") != want_after:
                mismatched.append(f"{key}: after {event.row('after')} != journal {want_after}")
    return Match(missing, mismatched, duplicates, len(seen))
