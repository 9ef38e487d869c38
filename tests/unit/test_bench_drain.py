"""The drain phases' rate (bench.drain.rate): changes over the span from the stage's start to its last change."""

from bench.drain import rate


def test_the_rate_is_changes_over_the_span_in_seconds():
    assert rate(10_000, 1_000, 2_000) == 10_000.0
    assert rate(500, 0, 250) == 2_000.0


def test_an_unknown_or_empty_span_has_no_rate():
    assert rate(10, None, 2_000) is None
    assert rate(10, 1_000, None) is None
    assert rate(10, 2_000, 2_000) is None
