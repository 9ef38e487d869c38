"""A phase's figures from what it left behind: the producer's journal, the change events in Kafka, and when the lake
showed each of them. Pure functions: no service is needed to test them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bench import stats
from bench.events import ChangeEvent, canonical_key

TXID_MODULUS = 2**32  # the journal has txid_current() (64-bit, with epoch); Debezium's source.txId is the 32-bit xid


def journal_identity(entry: dict) -> tuple[str, str, int, str]:
    return (entry["table"], canonical_key(entry["key"]), entry["txid"] % TXID_MODULUS, entry["op"])


def event_identity(event: ChangeEvent) -> tuple[str, str, int, str]:
    return (event.table, event.key, event.txid, event.op)


@dataclass
class Matched:
    events: list[ChangeEvent]   # one per journaled change, the first delivery of each
    journal: int                # changes the producer committed
    missing: int                # journaled changes with no event
    duplicates: int             # extra deliveries of a journaled change
    foreign: int                # events of changes that another writer made


def match_journal(journal: Sequence[dict], events: Sequence[ChangeEvent]) -> Matched:
    """Pair every journaled change with its event (by table, key, transaction and operation; a key changed twice by
    one transaction pairs in offset order)."""
    wanted = Counter(journal_identity(e) for e in journal)
    seen: Counter = Counter()
    matched, duplicates, foreign = [], 0, 0
    for event in sorted(events, key=lambda e: (e.topic, e.partition, e.offset)):
        identity = event_identity(event)
        if identity not in wanted:
            foreign += 1
        elif seen[identity] < wanted[identity]:
            seen[identity] += 1
            matched.append(event)
        else:
            duplicates += 1
    missing = sum(wanted.values()) - sum(seen.values())
    return Matched(matched, len(journal), missing, duplicates, foreign)


def latencies(events: Sequence[ChangeEvent], visible_at: Callable[[ChangeEvent], int | None]
              ) -> tuple[list[tuple[ChangeEvent, int]], list[ChangeEvent]]:
    """Each event with the time it became visible; and the events that never did."""
    found, invisible = [], []
    for event in events:
        ms = visible_at(event)
        if ms is None:
            invisible.append(event)
        else:
            found.append((event, ms))
    return found, invisible


def phase_figures(producer_started_ms: int, producer_ended_ms: int, producer_rate: float, matched: Matched,
                  visible: list[tuple[ChangeEvent, int]], invisible: int) -> dict:
    """Throughput, latency and catch-up of one phase.

    Throughput of a component = changes / (its last change out - the first commit): what it sustained over the whole
    phase, its backlog drained. Catch-up = its last change out - the producer's exit.
    """
    events = matched.events
    n = len(events)
    first_commit = min((e.commit_ms for e in events), default=None)
    last_commit = max((e.commit_ms for e in events), default=None)
    last_kafka = max((e.kafka_ms for e in events), default=None)
    last_visible = max((ms for _, ms in visible), default=None)

    def span(end: int | None) -> float | None:
        return None if end is None or first_commit is None else (end - first_commit) / 1000

    def after_exit(end: int | None) -> float | None:
        return None if end is None else round(max(0, end - producer_ended_ms) / 1000, 3)

    total = [ms - e.commit_ms for e, ms in visible]
    to_kafka = [e.kafka_ms - e.commit_ms for e in events]
    kafka_to_lake = [ms - e.kafka_ms for e, ms in visible]
    sizes = sorted(e.size for e in events)
    return {
        "counts": {"journal": matched.journal, "delivered": n, "missing": matched.missing,
                   "duplicates": matched.duplicates, "foreign": matched.foreign, "visible": len(visible),
                   "not_visible": invisible},
        "throughput": {
            "source_commit": producer_rate,
            "source_commit_span": stats.rate(n, span(last_commit)),
            "debezium": stats.rate(n, span(last_kafka)),
            # the busiest whole second into Kafka: what Debezium can carry when the source outpaces it
            "debezium_peak_1s": max(stats.per_second([e.kafka_ms for e in events], first_commit)[1:-1], default=None)
            if first_commit is not None else None,
            "lake": stats.rate(len(visible), span(last_visible)) if not invisible else None,
        },
        "latency": {"commit_to_lake": stats.latency_summary(total),
                    "commit_to_kafka": stats.latency_summary(to_kafka),
                    "kafka_to_lake": stats.latency_summary(kafka_to_lake),
                    "min_ms": min(total, default=None)},
        "catch_up": {"producer_seconds": round((producer_ended_ms - producer_started_ms) / 1000, 3),
                     "kafka": after_exit(last_kafka), "lake": after_exit(last_visible) if not invisible else None},
        "event_bytes": {"median": stats.percentile(sizes, 50) if sizes else None,
                        "total": sum(sizes)},
    }


def series(origin_ms: int, events: Sequence[ChangeEvent], visible: list[tuple[ChangeEvent, int]],
           max_points: int = 4000) -> dict:
    """Per-second throughput of each stage and a sample of latencies over time, for the plots."""
    latency = sorted((e.commit_ms, ms - e.commit_ms) for e, ms in visible)
    step = max(1, len(latency) // max_points)
    return {
        "origin_ms": origin_ms,
        "committed_per_s": stats.per_second([e.commit_ms for e in events], origin_ms),
        "kafka_per_s": stats.per_second([e.kafka_ms for e in events], origin_ms),
        "lake_per_s": stats.per_second([ms for _, ms in visible], origin_ms),
        "latency": [[round((t - origin_ms) / 1000, 3), round(ms / 1000, 3)] for t, ms in latency[::step]],
    }


def job_batches(batches: Sequence, since_ms: int, until_ms: int) -> dict:
    """Where the Glue job's time went in a phase: its batches' durations and the share of each step."""
    inside = [b for b in batches if since_ms <= b.visible_at_ms <= until_ms]
    durations = [(b.visible_at_ms - b.started_at_ms) for b in inside]
    steps: Counter = Counter()
    for b in inside:
        steps.update(b.steps)
    busy = sum(steps.values())
    return {
        "batches": len(inside),
        "messages_per_batch": stats.median([b.messages for b in inside]),
        "duration_s": stats.latency_summary(durations),
        "step_share": {k: round(v / busy, 3) for k, v in sorted(steps.items())} if busy else {},
        "step_seconds": {k: round(v, 1) for k, v in sorted(steps.items())},
    }
