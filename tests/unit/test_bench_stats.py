"""The bench's statistics (bench.stats): percentiles, latency summaries, rates, ratios, medians, per-second series."""

import pytest

from bench.stats import latency_summary, median, per_second, percentile, rate, rates_from_totals, ratio


@pytest.mark.parametrize(("q", "expected"), [(0, 1.0), (25, 2.25), (50, 3.5), (95, 8.75), (99, 9.75), (100, 10.0)])
def test_percentile_interpolates_linearly_between_closest_ranks(q, expected):
    assert percentile([5, 1, 4, 2, 3, 10], q) == pytest.approx(expected)


def test_percentile_of_one_value_is_that_value():
    assert percentile([7], 99) == 7


def test_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_percentile_outside_0_to_100_is_an_error():
    with pytest.raises(ValueError, match="0..100"):
        percentile([1, 2], 101)


def test_latency_summary_reports_milliseconds_as_seconds():
    assert latency_summary([100, 200, 300, 400]) == {
        "count": 4, "p50": 0.25, "p95": 0.385, "p99": 0.397, "max": 0.4, "mean": 0.25}


def test_latency_summary_of_no_latencies_has_no_figures():
    assert latency_summary([]) == {"count": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}


def test_rate_is_count_per_second():
    assert rate(5000, 2.5) == 2000


@pytest.mark.parametrize("seconds", [0, -1, None])
def test_rate_without_a_time_span_is_none(seconds):
    assert rate(10, seconds) is None


def test_ratio_divides():
    assert ratio(2500, 5000) == 0.5


@pytest.mark.parametrize(("a", "b"), [(None, 1), (1, None), (1, 0)])
def test_ratio_with_a_missing_or_zero_side_is_none(a, b):
    assert ratio(a, b) is None


def test_median_ignores_missing_values():
    assert median([3, None, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert median([None]) is None


def test_per_second_counts_timestamps_in_whole_seconds_from_the_origin():
    assert per_second([1000, 1999, 2000, 4500, 500], origin_ms=1000) == [3, 1, 0, 1]


def test_per_second_adds_weights():
    assert per_second([1000, 1500, 2100], origin_ms=1000, weights=[10, 5, 7]) == [15, 7]


def test_rates_from_running_totals_are_stamped_at_each_interval_end():
    assert rates_from_totals([(10.0, 100), (11.0, 1100), (13.0, 1100), (13.0, 1200)]) == [(11.0, 1000.0),
                                                                                       (13.0, 0.0)]
