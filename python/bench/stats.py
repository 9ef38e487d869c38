"""The statistics of the bench: percentiles, rates, ratios, medians, per-second series. Pure functions, no I/O."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

PERCENTILES = (50, 95, 99)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks (numpy's default method)."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def latency_summary(values_ms: Sequence[float]) -> dict[str, float | int | None]:
    """count, p50, p95, p99, max and mean of latencies in milliseconds, reported in seconds."""
    if not values_ms:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    summary: dict[str, float | int | None] = {"count": len(values_ms)}
    for q in PERCENTILES:
        summary[f"p{q}"] = round(percentile(values_ms, q) / 1000, 3)
    summary["max"] = round(max(values_ms) / 1000, 3)
    summary["mean"] = round(sum(values_ms) / len(values_ms) / 1000, 3)
    return summary


def rate(count: float, seconds: float | None) -> float | None:
    """count per second; None when there is no time span to divide by."""
    if seconds is None or seconds <= 0:
        return None
    return count / seconds


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator; None when either is missing or the denominator is 0."""
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def median(values: Iterable[float | None]) -> float | None:
    """The median of the values present (None ignored); None when none is present."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    return percentile(present, 50)


def per_second(timestamps_ms: Sequence[int], origin_ms: int, weights: Sequence[int] | None = None) -> list[int]:
    """How many timestamps (or how much weight) fall in each whole second after origin_ms; earlier ones in bin 0."""
    bins: list[int] = []
    for i, ts in enumerate(timestamps_ms):
        index = max(0, int((ts - origin_ms) // 1000))
        if index >= len(bins):
            bins.extend([0] * (index + 1 - len(bins)))
        bins[index] += 1 if weights is None else weights[i]
    return bins


def rates_from_totals(samples: Sequence[tuple[float, int]]) -> list[tuple[float, float]]:
    """From (time s, running total) samples, the rate over each interval, stamped at the interval's end."""
    out = []
    for (t0, n0), (t1, n1) in zip(samples, samples[1:], strict=False):
        if t1 > t0:
            out.append((t1, (n1 - n0) / (t1 - t0)))
    return out
