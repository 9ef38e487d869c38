"""The table-size phase's load keeps behind the pipeline (bench.tablesize): never further ahead of Debezium than a
share of max_slot_wal_keep_size, never more than LAKE_LEAD messages ahead of the job."""

import time
from types import SimpleNamespace

from kafka import TopicPartition

from bench import tablesize


class FakeCursor:
    """pg_replication_slots' answer: the bytes the slot holds back, one per query."""

    def __init__(self, lags):
        self.lags = list(lags)

    def execute(self, query, params=None):
        self.current = self.lags.pop(0) if len(self.lags) > 1 else self.lags[0]

    def fetchone(self):
        return (self.current,)


def context(ends, applied):
    return SimpleNamespace(stack={"PG_SLOT": "dbz_shop"},
                           topics=SimpleNamespace(end_offsets=lambda: ends),
                           job=SimpleNamespace(committed_offsets=lambda: applied))


def test_the_slot_allowance_is_a_share_of_the_limit_and_none_without_limit():
    assert tablesize.slot_allowance(4096) == 1024 * 1024 * 1024
    assert tablesize.slot_allowance(-1) is None


def test_the_lake_lag_counts_what_the_job_has_not_applied_per_partition():
    ends = {TopicPartition("shop.shop.orders", 0): 1_000, TopicPartition("shop.shop.customers", 0): 50}
    applied = {("shop.shop.orders", 0): 400}  # customers not applied at all
    assert tablesize.lake_lag(context(ends, applied)) == 650
    assert tablesize.lake_lag(context(ends, {("shop.shop.orders", 0): 1_200, ("shop.shop.customers", 0): 50})) == 0


def test_the_load_waits_until_the_slot_is_back_under_its_allowance(monkeypatch):
    monkeypatch.setattr(tablesize, "POLL_S", 0.01)
    cur = FakeCursor([5_000, 5_000, 100])
    waited = tablesize.wait_for_pipeline(context({}, {}), cur, 1_000, time.monotonic() + 10)
    assert cur.lags == [100] and waited < 5


def test_the_load_waits_while_the_job_lags_until_the_deadline(monkeypatch):
    monkeypatch.setattr(tablesize, "POLL_S", 0.01)
    behind = context({TopicPartition("shop.shop.orders", 0): tablesize.LAKE_LEAD + 1}, {})
    waited = tablesize.wait_for_pipeline(behind, FakeCursor([0]), None, time.monotonic() + 0.2)
    assert 0.2 <= waited < 5
    caught_up = context({TopicPartition("shop.shop.orders", 0): tablesize.LAKE_LEAD}, {})
    assert tablesize.wait_for_pipeline(caught_up, FakeCursor([0]), None, time.monotonic() + 10) < 0.2
