"""Pacing: transactions start at absolute due times, so the average rate holds without drift."""

from producer.pacing import Pacer


def test_due_time_is_counted_from_the_start_by_changes_done():
    pacer = Pacer(rate=100, start=1000.0)
    assert pacer.due(0) == 1000.0 and pacer.due(250) == 1002.5


def test_late_transaction_starts_at_once_and_the_schedule_catches_up():
    pacer = Pacer(rate=10, start=0.0)
    assert pacer.delay(now=5.0, changes_done=20) == 0.0  # due at 2.0, already late
    assert pacer.delay(now=5.0, changes_done=60) == 1.0  # the schedule is unchanged by the lateness


def test_many_small_sleeps_do_not_accumulate_drift():
    pacer, now, done = Pacer(rate=7, start=0.0), 0.0, 0
    for _ in range(10_000):
        now += pacer.delay(now, done) + 0.0001  # each transaction takes a little time
        done += 3
    assert abs(pacer.due(done) - done / 7) < 1e-6
    assert now <= pacer.due(done)  # never behind the schedule by more than one transaction


def test_rate_zero_never_waits():
    assert Pacer(rate=0, start=0.0).delay(now=0.0, changes_done=10**9) == 0.0
