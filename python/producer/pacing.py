"""Spacing transactions so the average rate matches --rate, from absolute due times so it never drifts."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Pacer:
    rate: float    # changes per second; 0 means as fast as possible
    start: float   # monotonic time of the run's start

    def due(self, changes_done: int) -> float:
        """When the transaction after `changes_done` committed changes may start.

        Counted from the start, not from the previous transaction, so time spent writing or
        oversleeping is absorbed instead of accumulating as drift.
        """
        if self.rate <= 0:
            return self.start
        return self.start + changes_done / self.rate

    def delay(self, now: float, changes_done: int) -> float:
        """Seconds to wait before the next transaction; 0 when it is already due (or late)."""
        return max(0.0, self.due(changes_done) - now)
