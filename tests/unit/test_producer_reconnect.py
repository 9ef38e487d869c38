"""Reconnecting and the verdict on a COMMIT whose reply was lost, without a server.

The fakes stand for psycopg2's connection only as far as Link uses it (closed, cursor, rollback, close);
the SQL itself is exercised against a real PostgreSQL in test_producer_restart.py.
"""

import threading
import time
from datetime import UTC, datetime

import psycopg2
import pytest

from producer.reconnect import ConnectionLost, InDoubt, Link, lost, reason, verdict

START = datetime(2024, 5, 1, tzinfo=UTC)


class FakeCursor:
    def __init__(self, conn: "FakeConnection"):
        self.conn = conn

    def __enter__(self) -> "FakeCursor":
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def execute(self, query: str, params: object = None) -> None:
        if self.conn.closed:
            raise psycopg2.InterfaceError("connection already closed")

    def fetchone(self) -> tuple:
        return (self.conn.pid, START)  # what backend_of asks: pid, backend_start


class FakeConnection:
    opened = 0

    def __init__(self) -> None:
        FakeConnection.opened += 1
        self.pid = FakeConnection.opened
        self.closed = 0

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        self.closed = 1

    def break_(self) -> psycopg2.OperationalError:
        self.closed = 2  # what psycopg2 does when the server goes away
        return psycopg2.OperationalError("server closed the connection unexpectedly")


def opener(failures: int):
    """open_connection failing `failures` times as a server still down does, then succeeding."""
    calls = {"n": 0}

    def open_connection() -> FakeConnection:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise psycopg2.OperationalError('connection to server at "127.0.0.1", port 5 failed: Connection refused')
        return FakeConnection()

    return open_connection, calls


def test_committed_is_journaled():
    assert verdict("committed", session_alive=False, rows_show_it=True).committed


def test_committed_without_rows_to_look_at_is_journaled():
    assert verdict("committed", session_alive=False, rows_show_it=None).committed


def test_committed_whose_rows_disagree_is_another_transaction_under_a_reused_id():
    result = verdict("committed", session_alive=False, rows_show_it=False)
    assert not result.committed and "reused" in result.why


def test_aborted_is_not_journaled():
    assert verdict("aborted", session_alive=False, rows_show_it=None) == verdict("aborted", False, None)
    assert not verdict("aborted", session_alive=False, rows_show_it=None).committed


def test_unknown_status_is_taken_as_not_committed():
    assert not verdict(None, session_alive=False, rows_show_it=None).committed


def test_an_id_in_the_future_after_a_restart_never_committed():
    assert not verdict("in the future", session_alive=False, rows_show_it=None).committed


def test_in_progress_after_our_session_died_is_not_ours():
    result = verdict("in progress", session_alive=False, rows_show_it=None)
    assert not result.committed and "reused" in result.why


def test_in_progress_while_our_session_lives_is_asked_again():
    with pytest.raises(InDoubt):
        verdict("in progress", session_alive=True, rows_show_it=None)


def test_an_error_on_a_closed_connection_is_a_lost_connection():
    conn = FakeConnection()
    assert lost(conn, conn.break_())
    assert lost(None, psycopg2.OperationalError("could not connect"))


def test_a_failed_statement_on_an_open_connection_is_not_a_lost_connection():
    assert not lost(FakeConnection(), psycopg2.OperationalError("canceling statement due to lock timeout"))
    assert not lost(None, ValueError("x"))


def test_reason_is_one_line():
    assert reason(psycopg2.OperationalError("server closed\n\tthe connection\n")) == "server closed the connection"


def test_reconnect_retries_until_the_server_answers_then_runs_then():
    open_connection, calls = opener(failures=2)
    link = Link(open_connection, FakeConnection())
    old = link.backend
    back = link.reconnect(5.0, threading.Event(), None, then=lambda conn: ("asked", conn.pid))
    assert back.result == ("asked", link.conn.pid) and back.attempts == 3 and calls["n"] == 3
    assert link.backend != old and link.backend.pid == link.conn.pid
    # Backoff starts at 0.1 s and doubles: two failures wait 0.1 + 0.2 s.
    assert 0.25 < back.gone < 2.0


def test_in_doubt_is_asked_again_on_the_same_connection():
    open_connection, calls = opener(failures=0)
    link = Link(open_connection, FakeConnection())
    answers = iter([InDoubt("still committing"), InDoubt("still committing"), "committed"])

    def then(conn: FakeConnection) -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    back = link.reconnect(5.0, threading.Event(), None, then)
    assert back.result == "committed" and back.attempts == 3 and calls["n"] == 1


def test_losing_the_new_connection_while_asking_connects_again():
    open_connection, calls = opener(failures=0)
    link = Link(open_connection, FakeConnection())
    first = {"done": False}

    def then(conn: FakeConnection) -> str:
        if not first["done"]:
            first["done"] = True
            raise conn.break_()
        return "answered"

    assert link.reconnect(5.0, threading.Event(), None, then).result == "answered" and calls["n"] == 2


def test_an_error_that_is_not_a_lost_connection_is_raised_at_once():
    link = Link(opener(failures=0)[0], FakeConnection())

    def then(conn: FakeConnection) -> None:
        raise psycopg2.ProgrammingError('relation "shop.customers" does not exist')

    with pytest.raises(psycopg2.ProgrammingError):
        link.reconnect(5.0, threading.Event(), None, then)


def test_a_server_that_stays_away_ends_in_connection_lost_within_the_timeout():
    link = Link(opener(failures=10**6)[0], FakeConnection())
    started = time.monotonic()
    with pytest.raises(ConnectionLost) as gone:
        link.reconnect(0.8, threading.Event(), None, then=lambda conn: None)
    assert time.monotonic() - started < 0.8 + 0.2
    assert not gone.value.stopped and str(gone.value) == (
        'connection to server at "127.0.0.1", port 5 failed: Connection refused; not back within 0.8 s')


def test_the_stop_event_ends_the_waiting_at_once():
    link = Link(opener(failures=10**6)[0], FakeConnection())
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(ConnectionLost) as gone:
        link.reconnect(60.0, stop, None, then=lambda conn: None)
    assert gone.value.stopped and time.monotonic() - started < 1.0


def test_the_end_of_the_run_ends_the_waiting():
    link = Link(opener(failures=10**6)[0], FakeConnection())
    with pytest.raises(ConnectionLost) as gone:
        link.reconnect(60.0, threading.Event(), time.monotonic() + 0.3, then=lambda conn: None)
    assert gone.value.stopped


def test_giving_up_with_a_commit_in_doubt_names_it():
    gone = ConnectionLost("Connection refused", 300.0, stopped=False, in_doubt=812)
    assert str(gone) == ("Connection refused; not back within 300 s; whether transaction 812 committed is unknown,"
                         " it is not in the journal")
