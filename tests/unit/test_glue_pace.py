"""When the next micro-batch starts (glue.job.Pace): at once after a busy one, a quiet interval after a quiet one,
sooner if the stream gets busy meanwhile or a burst of changes ends."""

import time

from glue.job import Pace


class Backlog:
    """Past what the batch read, `waiting` messages arrived while it ran, then more at `rate` per second from the
    first look at the end offsets on, for `lasting` seconds."""

    def __init__(self, rate: float, lasting: float = float("inf"), waiting: int = 0, fails: bool = False):
        self.rate, self.lasting, self.waiting, self.fails = rate, lasting, waiting, fails

    def watch(self, consumed):
        assert consumed == {("shop.shop.orders", 0): 1000}
        if self.fails:
            raise ConnectionError("kafka is not answering")
        since = time.monotonic()
        return lambda: self.waiting + int(min(time.monotonic() - since, self.lasting) * self.rate)


def waited(pace: Pace, messages: int) -> float:
    started = time.monotonic()
    pace.wait(started, {("shop.shop.orders", 0): (messages, 1000)})
    return time.monotonic() - started


def test_a_busy_batch_is_followed_at_once():
    assert waited(Pace(1.0, busy_messages=100), messages=100) < 0.05


def test_a_quiet_batch_is_followed_an_interval_after_it_began():
    assert 0.95 <= waited(Pace(1.0, busy_messages=100, backlog=Backlog(rate=10)), messages=5) < 1.2


def test_an_idle_source_keeps_the_quiet_interval():
    assert 0.95 <= waited(Pace(1.0, busy_messages=100, backlog=Backlog(rate=0), settle_seconds=0.2), messages=0) < 1.2


def test_a_quiet_wait_ends_once_enough_messages_arrived():
    assert waited(Pace(2.0, busy_messages=100, backlog=Backlog(rate=1000), probe_seconds=0.05), messages=5) < 0.5


def test_a_quiet_wait_ends_once_a_burst_has_ended():
    # 30 messages in the first 0.2 s, then none: applied after 0.3 s of quiet, not after the 3 s interval
    pace = Pace(3.0, busy_messages=100, backlog=Backlog(rate=150, lasting=0.2), probe_seconds=0.05,
                settle_seconds=0.3)
    assert 0.45 <= waited(pace, messages=5) < 1.0


def test_messages_that_arrived_while_the_batch_ran_end_the_wait_once_no_more_come():
    pace = Pace(3.0, busy_messages=100, backlog=Backlog(rate=0, waiting=30), probe_seconds=0.05, settle_seconds=0.3)
    assert 0.25 <= waited(pace, messages=5) < 0.8


def test_without_an_answer_from_kafka_the_quiet_interval_is_kept():
    assert 0.95 <= waited(Pace(1.0, busy_messages=100, backlog=Backlog(rate=1000, fails=True)), messages=5) < 1.2
