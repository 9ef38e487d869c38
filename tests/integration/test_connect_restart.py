"""Kafka Connect stopped and started while the producer writes: nothing committed is lost."""

import os
import subprocess
import time

from cdc import match_journal
from conftest import producer_command, supervise
from stack.connect import wait_running
from stack.lakecheck import read_journal


def test_no_committed_change_is_lost_when_connect_restarts(reader, topic_for, tmp_path, record_property):
    topics = [topic_for("customers"), topic_for("orders")]
    start = reader.end_offsets(topics)
    journal_path = tmp_path / "journal.jsonl"
    producer = subprocess.Popen(producer_command("--rate", "200", "--duration", "30", "--seed", "13",
                                                 "--journal", str(journal_path)))
    try:
        time.sleep(6)
        supervise("stop", "connect")
        time.sleep(8)  # the producer keeps committing while nothing captures
        supervise("start", "connect")
        wait_running(os.environ["CONNECTOR_NAME"], timeout=120)
        assert producer.wait(timeout=120) == 0
    finally:
        producer.kill()
        supervise("start", "connect", check=False)  # leave the stack whole even if an assertion failed
        wait_running(os.environ["CONNECTOR_NAME"], timeout=120)

    journal = read_journal(journal_path)
    events = reader.read_until(topics, start, lambda got: not match_journal(journal, got).missing, timeout=180)
    result = match_journal(journal, events)
    record_property("changes", len(journal))
    record_property("duplicates", result.duplicates)
    print(f"connect restart: {len(journal)} committed changes, {result.delivered} delivered, "
          f"{result.duplicates} duplicates")
    assert not result.missing, f"{len(result.missing)} of {len(journal)} changes lost, e.g. {result.missing[:3]}"
    assert not result.mismatched, result.mismatched[:5]
