"""Surviving a PostgreSQL restart: reconnecting with backoff, and learning whether a COMMIT in flight committed."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

import psycopg2
from psycopg2 import errors
from psycopg2.extensions import connection as Connection
from psycopg2.extensions import cursor as Cursor
from tenacity import RetryError, Retrying, retry_if_exception, stop_any, stop_before_delay, wait_exponential

LOST = (psycopg2.OperationalError, psycopg2.InterfaceError)
# First retry at once, then 0.1 s doubling to this: a crashed server is usually back within a second or two.
MAX_BACKOFF = 2.0
T = TypeVar("T")


def lost(conn: Connection | None, error: BaseException) -> bool:
    """Whether `error` means the connection is gone (psycopg2 marks it closed), not that a statement failed."""
    return isinstance(error, LOST) and (conn is None or conn.closed != 0)


def reason(error: BaseException) -> str:
    """An error's message on one line."""
    return " ".join(str(error).split())


class InDoubt(Exception):
    """The transaction is still in progress in the session that lost its client: ask again shortly."""


class ConnectionLost(Exception):
    """PostgreSQL did not come back (or the run was stopped before it did)."""

    def __init__(self, reason: str, timeout: float, stopped: bool, in_doubt: int | None = None):
        why = "stopped before it came back" if stopped else f"not back within {timeout:g} s"
        if in_doubt is not None:
            why += f"; whether transaction {in_doubt} committed is unknown, it is not in the journal"
        super().__init__(f"{reason}; {why}")
        self.reason = reason
        self.timeout = timeout
        self.stopped = stopped
        self.in_doubt = in_doubt


@dataclass(frozen=True)
class Backend:
    """The server process behind a connection, told apart from a later one with the same pid by its start."""

    pid: int
    start: datetime


@dataclass(frozen=True)
class Back(Generic[T]):
    result: T       # what `then` returned on the new connection
    gone: float     # seconds from the loss to the connection answering again
    attempts: int


def backend_of(conn: Connection) -> Backend:
    with conn.cursor() as cur:
        cur.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        pid, start = cur.fetchone()
    conn.rollback()
    return Backend(pid, start)


class Link:
    """The producer's connection, and how to make it again after PostgreSQL went away."""

    def __init__(self, open_connection: Callable[[], Connection], conn: Connection | None = None):
        self._open = open_connection
        self.conn: Connection | None = conn if conn is not None else open_connection()
        self.backend = backend_of(self.conn)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()

    def reconnect(self, timeout: float, stop: threading.Event, until: float | None,
                  then: Callable[[Connection], T]) -> Back[T]:
        """Connect again, then run `then` on the new connection; both retried with backoff, together, when
        the connection is lost again or `then` raises InDoubt. Gives up (ConnectionLost) after `timeout`
        seconds, when `stop` is set, or at the monotonic time `until` (None: no such limit)."""
        started = time.monotonic()
        attempts = 0
        self.close()
        self.conn = None

        def attempt() -> T:
            nonlocal attempts
            attempts += 1
            if self.conn is None or self.conn.closed:
                self.conn = None
                conn = self._open()
                self.backend = backend_of(conn)
                self.conn = conn
            return then(self.conn)

        def retryable(error: BaseException) -> bool:
            return isinstance(error, InDoubt) or lost(self.conn, error)

        def ended(retry_state: object) -> bool:
            return stop.is_set() or (until is not None and time.monotonic() >= until)

        retrying = Retrying(stop=stop_any(stop_before_delay(timeout), ended),
                            wait=wait_exponential(multiplier=0.1, max=MAX_BACKOFF),
                            retry=retry_if_exception(retryable), sleep=stop.wait)
        try:
            result = retrying(attempt)
        except RetryError as gave_up:
            last = gave_up.last_attempt.exception()
            raise ConnectionLost(reason(last), timeout, stopped=ended(None)) from None
        return Back(result, time.monotonic() - started, attempts)


@dataclass(frozen=True)
class Verdict:
    committed: bool
    why: str  # for the log: what PostgreSQL said


def txid_status(cur: Cursor, txid: int) -> str | None:
    """'committed', 'aborted', 'in progress', None (too old to know) or 'in the future'."""
    try:
        cur.execute("SELECT txid_status(%s)", (txid,))
    except errors.InvalidParameterValue:
        # PostgreSQL restarted without any of the transaction's WAL on disk, so its commit record was not
        # either; the id is handed out again from there.
        cur.connection.rollback()
        return "in the future"
    return cur.fetchone()[0]


def verdict(status: str | None, session_alive: bool, rows_show_it: bool | None) -> Verdict:
    """Whether a transaction whose COMMIT lost its reply committed.

    `status` is txid_status() asked after reconnecting, `session_alive` whether the server process that ran
    the transaction still exists, `rows_show_it` whether the tables hold what it wrote (None: nothing to look
    at). After a crash the ids of transactions whose WAL never reached disk are handed out again, so
    'committed' or 'in progress' may be another session's transaction under the same id: 'committed' counts
    only if the rows agree, and 'in progress' is ours only while our session lives (it is then still
    committing, and InDoubt says ask again).
    """
    if status == "committed":
        if rows_show_it is False:
            return Verdict(False, "its id was reused after a restart by a transaction that committed")
        return Verdict(True, "committed")
    if status == "in progress":
        if session_alive:
            raise InDoubt("the session that ran it is still finishing it")
        return Verdict(False, "its id was reused after a restart by a transaction still in progress")
    if status is None:
        return Verdict(False, "too old for PostgreSQL to know; taken as not committed")
    if status == "in the future":
        return Verdict(False, "PostgreSQL restarted before any of it reached disk")
    return Verdict(False, status)


def session_alive(cur: Cursor, backend: Backend) -> bool:
    cur.execute("SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = %s AND backend_start = %s)",
                (backend.pid, backend.start))
    return cur.fetchone()[0]


def settle(conn: Connection, txid: int, backend: Backend, rows_show_it: Callable[[Cursor], bool | None]) -> Verdict:
    """Ask PostgreSQL whether transaction `txid`, run by `backend`, committed (see verdict)."""
    with conn.cursor() as cur:
        status = txid_status(cur, txid)
        alive = status == "in progress" and session_alive(cur, backend)
        shows = rows_show_it(cur) if status == "committed" else None
    conn.rollback()
    return verdict(status, alive, shows)
