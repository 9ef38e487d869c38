"""make verify's pieces that need no stack: the same row from either side has one digest, buckets do not depend on
order, verdicts and make status say what was found."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import stack.status
from lake import rows
from lake.verify import Verdict

LAYOUT = rows.Layout(("id", "amount", "placed_at", "details"), frozenset({"details"}), ("id",))


def test_a_row_read_from_either_side_has_one_digest():
    source = {"id": 7, "amount": Decimal("12.50"), "placed_at": datetime(2026, 1, 2, 3, 4, 5),
              "details": {"b": [1, 2], "a": "x"}}
    lake = {"id": 7, "amount": Decimal("12.50"), "placed_at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            "details": '{"a": "x", "b": [1, 2]}', "_op": "u"}
    (source_key, source_values), (lake_key, lake_values) = (rows.normalized(source, LAYOUT, "source"),
                                                            rows.normalized(lake, LAYOUT, "lake"))
    assert source_key == lake_key == (7,)
    assert rows.digest(source_values) == rows.digest(lake_values)


def test_a_cent_off_changes_the_digest():
    row = {"id": 7, "amount": Decimal("12.50"), "placed_at": None, "details": None}
    _, values = rows.normalized(row, LAYOUT, "source")
    _, off = rows.normalized({**row, "amount": Decimal("12.51")}, LAYOUT, "lake")
    assert rows.digest(values) != rows.digest(off)


def test_buckets_hold_the_same_sums_in_any_order_and_differ_where_a_row_does():
    digests = [((k,), rows.digest([k, k * 2])) for k in range(1000)]
    assert rows.aggregate(digests) == rows.aggregate(reversed(digests))
    changed = [*digests[:500], ((500,), rows.digest([500, 0])), *digests[501:]]
    one, other = rows.aggregate(digests), rows.aggregate(changed)
    assert [b for b in one if one[b] != other[b]] == [rows.bucket((500,))]


def test_verdict_lines_name_the_drifted_keys_and_what_to_do():
    drift = Verdict("orders", rows=10, differing=[{"key": "id=5", "what": "missing in the lake"}])
    assert not drift.equal
    assert drift.line().split()[:2] == ["orders", "DRIFT"] and "id=5 missing in the lake" in drift.line()
    assert "make rebuild TABLE=orders" in drift.line() and "make resync TABLE=orders" in drift.line()
    assert Verdict("orders", rows=10).equal


def test_status_shows_the_last_verification(tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    (tmp_path / "verify").mkdir()
    drift = Verdict("orders", rows=10, differing=[{"key": "id=5", "what": "missing in the lake"}])
    tables = [{"equal": True, "line": "customers equal"}, {"equal": False, "line": drift.line()}]
    (tmp_path / "verify" / "last.json").write_text(json.dumps({"finished_at": "2026-12-02T01:00:00+00:00",
                                                               "tables": tables}))
    lines = stack.status.verify_lines(datetime(2026, 12, 2, 1, 30, tzinfo=UTC))
    assert "(30 min ago): 1 of 2 mirrors differ" in lines[0]
    assert "id=5 missing in the lake" in lines[1]


def test_status_says_how_to_verify_when_it_never_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    assert "make verify" in stack.status.verify_lines()[0]
