"""Wait for components to answer, with a deadline and the component's log tail on failure."""

import sys
import time
from collections import deque
from collections.abc import Callable

from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

from stack.settings import log_file


def tail(path: str, lines: int = 30) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines))
    except FileNotFoundError:
        return f"(no log at {path})\n"


class NotReady(RuntimeError):
    pass


def wait_until(what: str, check: Callable[[], None], timeout: float, log_component: str) -> float:
    """Retry `check` until it returns without raising; return the seconds it took."""
    print(f"==> waiting for {what} (up to {timeout:.0f} s)", file=sys.stderr)
    started = time.monotonic()
    try:
        for attempt in Retrying(stop=stop_after_delay(timeout), wait=wait_fixed(1),
                                retry=retry_if_exception_type(Exception)):
            with attempt:
                check()
    except RetryError as gave_up:
        last = gave_up.last_attempt.exception()
        log = log_file(log_component)
        raise NotReady(
            f"{what} did not answer within {timeout:.0f} s: {last}\n"
            f"--- last lines of {log} ---\n{tail(log)}"
        ) from None
    took = time.monotonic() - started
    print(f"==> {what}: ready after {took:.1f} s", file=sys.stderr)
    return took
