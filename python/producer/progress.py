"""The progress line on stderr: committed changes, rate and the count per operation."""

import sys
import time
from collections import Counter
from typing import TextIO

OP_NAMES = {"c": "insert", "u": "update", "d": "delete"}


def progress_line(changes: Counter, transactions: int, elapsed: float, retries: int = 0, reconnects: int = 0) -> str:
    total = sum(changes.values())
    rate = total / elapsed if elapsed > 0 else 0.0
    ops = " ".join(f"{name} {changes[code]}" for code, name in OP_NAMES.items())
    line = f"producer: {total} changes in {transactions} transactions, {rate:.1f} changes/s ({ops})"
    return line + (f", {retries} retried" if retries else "") + (f", {reconnects} reconnects" if reconnects else "")


class Progress:
    """Refreshes one line in a terminal each second; in a log file, appends a line every 30 seconds."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True):
        self.stream = sys.stderr if stream is None else stream  # the one at the time, as a test captures it
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.interval = 1.0 if self.tty else 30.0
        self.start = time.monotonic()
        self.last = self.start
        self.changes: Counter = Counter()
        self.transactions = 0
        self.retries = 0
        self.reconnects = 0
        self.outage = 0.0  # seconds without PostgreSQL, summed over the reconnects

    def committed(self, ops: list[str]) -> None:
        self.changes.update(ops)
        self.transactions += 1
        now = time.monotonic()
        if self.enabled and now - self.last >= self.interval:
            self.last = now
            self._show(now, end="\r" if self.tty else "\n")

    def note(self, message: str) -> None:
        """A message on a line of its own, clearing the progress line it would otherwise overwrite."""
        self.stream.write(("\r\033[K" if self.enabled and self.tty else "") + message + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """The summary line, printed even with --quiet."""
        if self.enabled and self.tty:
            self.stream.write("\r\033[K")
        self._show(time.monotonic(), end="\n")

    def _show(self, now: float, end: str) -> None:
        line = progress_line(self.changes, self.transactions, now - self.start, self.retries, self.reconnects)
        self.stream.write(("\033[K" if end == "\r" else "") + line + end)
        self.stream.flush()
