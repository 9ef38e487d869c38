"""The producer's committed changes, read back from the Debezium topics: all of them, exact, in order."""

import os
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from cdc import TopicReader, key_of, match_journal
from conftest import producer_command
from stack.lakecheck import read_journal

CHANGES = 3000


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    """One producer run (a mix of inserts, updates and deletes) and the events it caused."""
    prefix, schema = os.environ["TOPIC_PREFIX"], os.environ["PG_SCHEMA"]
    topics = [f"{prefix}.{schema}.customers", f"{prefix}.{schema}.orders"]
    reader = TopicReader(f"{os.environ['KAFKA_HOST']}:{os.environ['KAFKA_PORT']}")
    start = reader.end_offsets(topics)
    journal_path: Path = tmp_path_factory.mktemp("stream") / "journal.jsonl"
    subprocess.run(producer_command("--count", str(CHANGES), "--rate", "0", "--seed", "7",
                                    "--journal", str(journal_path)), check=True)
    journal = read_journal(journal_path)
    events = reader.read_until(topics, start, lambda got: not match_journal(journal, got).missing, timeout=180)
    reader.close()
    return journal, events


def test_producer_commits_a_mix_of_operations(streamed):
    journal, _ = streamed
    ops = Counter(entry["op"] for entry in journal)
    assert len(journal) >= CHANGES
    assert ops["c"] and ops["u"] and ops["d"], ops


def test_every_committed_change_arrives_once_in_key_order(streamed):
    journal, events = streamed
    result = match_journal(journal, events)
    assert not result.missing, f"{len(result.missing)} of {len(journal)} changes missing, e.g. {result.missing[:3]}"
    assert not result.mismatched, result.mismatched[:5]
    assert result.duplicates == 0
    assert result.delivered == len(journal)


def test_updates_and_deletes_carry_the_row_before_the_change(streamed):
    journal, events = streamed
    txids = {entry["txid"] for entry in journal}
    # Any writer may touch a row (the stack's own producer runs too), so each change's `before` is
    # checked against the `after` of the event just before it for the same key.
    last_after: dict[tuple[str, str], dict | None] = {}
    checked = 0
    for event in sorted(events, key=lambda e: (e.topic, e.partition, e.offset)):
        if event.tombstone:
            continue
        ident = (event.topic, key_of({"key": event.key}))
        if event.txid in txids:
            if event.op == "c":
                assert event.value["before"] is None
            if event.op in ("u", "d"):
                assert event.row("before") is not None, f"{event.op} without before at offset {event.offset}"
                if last_after.get(ident) is not None:
                    assert event.row("before") == last_after[ident], f"{ident} at offset {event.offset}"
                    checked += 1
            if event.op == "d":
                assert event.value["after"] is None
        last_after[ident] = event.row("after")
    assert checked > 0, "no update or delete of a row seen earlier in this run was checked"


def test_every_delete_is_followed_by_a_tombstone(streamed):
    journal, events = streamed
    txids = {entry["txid"] for entry in journal}
    by_partition = {}
    for event in events:
        by_partition.setdefault((event.topic, event.partition), []).append(event)
    deletes = 0
    for stream in by_partition.values():
        stream.sort(key=lambda e: e.offset)
        for i, event in enumerate(stream):
            if event.tombstone or event.op != "d" or event.txid not in txids:
                continue
            deletes += 1
            later = [e for e in stream[i + 1:] if e.key == event.key]
            assert later and later[0].tombstone, f"delete at {event.topic}@{event.offset} has no tombstone after it"
    assert deletes == sum(1 for entry in journal if entry["op"] == "d")


def test_events_carry_source_lsn_and_timestamps(streamed):
    journal, events = streamed
    txids = {entry["txid"] for entry in journal}
    last_lsn = {}
    for event in events:
        if event.tombstone or event.txid not in txids:
            continue
        source = event.value["source"]
        assert isinstance(source["lsn"], int) and source["lsn"] > 0
        assert event.value["ts_ms"] >= source["ts_ms"] > 0  # processed no earlier than committed
        ident = (event.topic, key_of({"key": event.key}))
        assert source["lsn"] >= last_lsn.get(ident, 0), f"LSN went back for {ident}"
        last_lsn[ident] = source["lsn"]


def test_amounts_arrive_as_exact_decimals_with_their_scale(streamed):
    journal, events = streamed
    amounts = {(e["key"]["id"], e["txid"]): e["row"]["amount"]
               for e in journal if e["table"] == "orders" and e["row"] is not None}
    compared = 0
    for event in events:
        if event.tombstone or not event.topic.endswith(".orders") or event.op == "d":
            continue
        got = event.value["after"]["amount"]
        params = event.columns["amount"]["parameters"]
        assert (params["__debezium.source.column.length"], params["__debezium.source.column.scale"]) == ("12", "2")
        assert isinstance(got, str) and len(got.split(".")[1]) == 2, got
        want = amounts.get((event.key["id"], event.txid))
        if want is not None:
            assert got == want
            compared += 1
    assert compared > 0
