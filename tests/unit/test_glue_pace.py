"""When the next micro-batch starts (glue.job.Pace): at once after a busy one, a quiet interval after a quiet one,
sooner if the stream gets busy meanwhile."""

import time

from glue.job import Pace


class Backlog:
    """Messages arrive at `rate` per second from the first look at the end offsets on."""

    def __init__(self, rate: float, fails: bool = False):
        self.rate, self.fails, self.since = rate, fails, None

    def ends(self):
        if self.fails:
            raise ConnectionError("kafka is not answering")
        self.since = time.monotonic()
        return {("shop.shop.orders", 0): 0}

    def arrived_since(self, ends):
        return int((time.monotonic() - self.since) * self.rate)


def waited(pace: Pace, messages: int) -> float:
    started = time.monotonic()
    pace.wait(started, messages)
    return time.monotonic() - started


def test_a_busy_batch_is_followed_at_once():
    assert waited(Pace(1.0, busy_messages=100), messages=100) < 0.05


def test_a_quiet_batch_is_followed_an_interval_after_it_began():
    assert 0.95 <= waited(Pace(1.0, busy_messages=100, backlog=Backlog(rate=10)), messages=5) < 1.2


def test_a_quiet_wait_ends_once_enough_messages_arrived():
    assert waited(Pace(2.0, busy_messages=100, backlog=Backlog(rate=1000), probe_seconds=0.05), messages=5) < 0.5


def test_without_an_answer_from_kafka_the_quiet_interval_is_kept():
    assert 0.95 <= waited(Pace(1.0, busy_messages=100, backlog=Backlog(rate=1000, fails=True)), messages=5) < 1.2
