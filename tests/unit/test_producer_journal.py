"""The journal's lines: exact, JSON-serialisable values, appended with a continuing seq."""

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from producer.journal import Change, Journal, entry, json_value, last_seq


def test_numeric_keeps_its_two_decimal_places():
    assert json_value(Decimal("12.50")) == "12.50" and json_value(Decimal("0.00")) == "0.00"


def test_large_numeric_is_written_without_exponent():
    assert json_value(Decimal("1E+3").quantize(Decimal("0.01"))) == "1000.00"


def test_timestamptz_is_written_in_utc():
    paris = timezone(timedelta(hours=2))
    assert json_value(datetime(2024, 5, 1, 14, 0, 0, 120, tzinfo=paris)) == "2024-05-01T12:00:00.000120Z"


def test_utc_timestamp_round_trips_through_fromisoformat():
    moment = datetime(2024, 5, 1, 12, 0, 0, 5, tzinfo=UTC)
    assert datetime.fromisoformat(json_value(moment)) == moment


def test_date_is_iso():
    assert json_value(date(2024, 2, 29)) == "2024-02-29"


def test_jsonb_booleans_and_nulls_pass_through():
    assert json_value({"a": [1, None]}) == {"a": [1, None]} and json_value(True) is True and json_value(None) is None


def test_entry_of_an_update_carries_the_whole_row():
    row = {"id": 17, "amount": Decimal("3.10"), "is_gift": False, "details": {"k": "v"}}
    assert entry(Change("orders", "u", {"id": 17}, row), txid=900, seq=5) == {
        "table": "orders", "op": "u", "key": {"id": 17},
        "row": {"id": 17, "amount": "3.10", "is_gift": False, "details": {"k": "v"}}, "txid": 900, "seq": 5}


def test_entry_of_a_delete_has_a_null_row():
    assert entry(Change("orders", "d", {"id": 3}, None), txid=1, seq=1)["row"] is None


def test_written_lines_are_flushed_with_consecutive_seq(tmp_path):
    path = tmp_path / "j.jsonl"
    journal = Journal(path)
    journal.write(700, [Change("customers", "c", {"id": 1}, {"id": 1}), Change("customers", "d", {"id": 1}, None)])
    lines = [json.loads(line) for line in path.read_text().splitlines()]  # read before close: flushed
    journal.close()
    assert [(e["seq"], e["txid"], e["op"]) for e in lines] == [(1, 700, "c"), (2, 700, "d")]


def test_appending_to_a_journal_continues_its_seq(tmp_path):
    path = tmp_path / "j.jsonl"
    with Journal(path) as journal:
        journal.write(1, [Change("orders", "d", {"id": i}, None) for i in range(3)])
    with Journal(path) as journal:
        journal.write(2, [Change("orders", "d", {"id": 9}, None)])
    assert [json.loads(line)["seq"] for line in path.read_text().splitlines()] == [1, 2, 3, 4]


def test_last_seq_of_a_missing_or_empty_journal_is_zero(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    assert last_seq(tmp_path / "missing.jsonl") == 0 and last_seq(tmp_path / "empty.jsonl") == 0


def test_last_seq_reads_a_last_line_longer_than_one_block(tmp_path):
    path = tmp_path / "j.jsonl"
    path.write_text(json.dumps({"seq": 1}) + "\n" + json.dumps({"seq": 2, "pad": "x" * 200_000}) + "\n")
    assert last_seq(path) == 2


def test_file_that_is_not_a_journal_is_refused(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(ValueError, match="not a journal entry"):
        last_seq(path)
