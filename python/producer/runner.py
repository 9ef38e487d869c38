"""The producer's loop: plan a transaction, write it, commit, journal it, wait for the next one; reconnect if lost."""

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg2 import errors
from psycopg2.extensions import connection as Connection

from producer.data import make_faker, values_for
from producer.journal import Journal
from producer.pacing import Pacer
from producer.plan import DEFAULT_MIX, plan_transaction, transaction_size
from producer.progress import Progress
from producer.reconnect import LOST, ConnectionLost, Link, Verdict, lost, reason, settle
from producer.state import LiveRows
from producer.writer import Outcome, Writer

# Conflicts with another writer on the same tables (e.g. a second producer): the transaction is rolled
# back, so nothing of it is journaled, and a new one is planned from the rows as they now are.
CONFLICTS = (errors.DeadlockDetected, errors.SerializationFailure, errors.LockNotAvailable,
             errors.ForeignKeyViolation)
MAX_CONFLICTS_IN_A_ROW = 5


@dataclass(frozen=True)
class RunOptions:
    rate: float = 0.0                 # changes per second, 0 = as fast as possible
    duration: float | None = None     # seconds; with count None and duration None, run until stopped
    count: int | None = None          # committed changes
    mix: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MIX))
    max_txn_size: int = 10
    seed: int = 42
    quiet: bool = False
    reconnect_timeout: float = 300.0  # seconds to wait for a lost PostgreSQL to come back; 0: fail at once


def run(link: Link, schema: str, options: RunOptions, stop: threading.Event,
        journal: Journal | None = None) -> Progress:
    """Write changes until the count, the duration or `stop`; returns the counts. The journal is closed.

    A lost connection is made again (see Link.reconnect) for up to options.reconnect_timeout seconds; what
    was in flight is journaled only if PostgreSQL says it committed. ConnectionLost when it does not come back.
    """
    writer = Writer(schema)
    rng = random.Random(options.seed)
    fake = make_faker(options.seed)
    progress = Progress(enabled=not options.quiet)
    begun = time.monotonic()
    pacer = Pacer(options.rate, begun)
    deadline = None if options.duration is None else begun + options.duration
    done = 0
    conflicts_in_a_row = 0
    live: LiveRows | None = None  # None: (re)load from the tables before planning
    try:
        while not stop.is_set():
            committing: Outcome | None = None  # set while COMMIT is in flight
            try:
                if live is None:
                    live = _load(link.conn, writer)
                remaining = None if options.count is None else options.count - done
                if remaining == 0 or (deadline is not None and max(pacer.due(done), time.monotonic()) >= deadline):
                    break
                if stop.wait(pacer.delay(time.monotonic(), done)):
                    break
                ops = plan_transaction(rng, options.mix, live, transaction_size(rng, options.max_txn_size, remaining))
                now = datetime.now(UTC)
                planned = [(op, values_for(op, fake, rng, now)) for op in ops]
                try:
                    with link.conn.cursor() as cur:
                        outcome = writer.write(cur, planned)
                    committing = outcome
                    link.conn.commit()
                except CONFLICTS as error:
                    link.conn.rollback()
                    conflicts_in_a_row += 1
                    if conflicts_in_a_row > MAX_CONFLICTS_IN_A_ROW:
                        raise
                    progress.retries += 1
                    progress.note(f"producer: rolled back a transaction that conflicted with another writer"
                                  f" ({error.diag.message_primary}); planning again")
                    live = None
                    continue
                conflicts_in_a_row = 0
            except LOST as error:
                if options.reconnect_timeout <= 0 or not lost(link.conn, error):
                    raise
                try:
                    outcome = _recover(link, writer, committing, error, options, stop, deadline, progress)
                except ConnectionLost as gone:
                    if gone.stopped and committing is None:
                        break  # stopped during the outage with nothing in doubt: an ordinary end
                    raise
                # The outage is not made up for with a burst: the rate resumes from here.
                pacer = Pacer(options.rate, begun + progress.outage)
                live = None
                if outcome is None:
                    continue
            # Journaled only now, after COMMIT returned (or PostgreSQL said it committed): the journal never
            # holds an uncommitted change.
            if journal is not None:
                journal.write(outcome.txid, outcome.changes)
            if live is not None:
                live.apply(outcome.changes)
                if outcome.missed:
                    live = None  # another writer changed rows we planned on: start from the truth
            done += len(outcome.changes)
            progress.committed([change.op for change in outcome.changes])
    finally:
        if journal is not None:
            journal.close()
        progress.finish()
    return progress


def _recover(link: Link, writer: Writer, committing: Outcome | None, error: BaseException, options: RunOptions,
             stop: threading.Event, deadline: float | None, progress: Progress) -> Outcome | None:
    """Reconnect after `error`; returns `committing` if it committed, else None. Logs the loss and the return."""
    if committing is None:
        doubt = "nothing in flight had committed"
    else:
        doubt = f"COMMIT of transaction {committing.txid} was in flight, to be asked about once back"
    progress.note(f"producer: lost the connection to PostgreSQL ({reason(error)}); {doubt};"
                  f" reconnecting for up to {options.reconnect_timeout:g} s")
    backend = link.backend  # the session that ran the transaction, before a new connection replaces it

    def then(conn: Connection) -> Verdict | None:
        if committing is None:
            return None
        return settle(conn, committing.txid, backend, lambda cur: writer.shows(cur, committing))

    # A run that ends (its duration) during the outage just ends, unless a COMMIT is in doubt: then
    # the journal needs the answer, which is worth waiting for up to the timeout.
    try:
        back = link.reconnect(options.reconnect_timeout, stop, None if committing is not None else deadline, then)
    except ConnectionLost as gone:
        if committing is None:
            raise
        raise ConnectionLost(gone.reason, gone.timeout, gone.stopped, in_doubt=committing.txid) from None
    progress.reconnects += 1
    progress.outage += back.gone
    attempts = f"{back.attempts} attempt{'s' if back.attempts > 1 else ''}"
    line = f"producer: reconnected to PostgreSQL after {back.gone:.1f} s ({attempts})"
    if back.result is None:
        progress.note(line)
        return None
    taken = "journaled" if back.result.committed else "not journaled"
    progress.note(f"{line}; transaction {committing.txid}: {back.result.why}, {taken}")
    return committing if back.result.committed else None


def _load(conn: Connection, writer: Writer) -> LiveRows:
    with conn.cursor() as cur:
        live = writer.load_live(cur)
    conn.rollback()  # ends the read-only transaction; nothing to commit
    return live
