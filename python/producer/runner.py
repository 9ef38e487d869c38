"""The producer's loop: plan a transaction, write it, commit, journal it, wait for the next one."""

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
from producer.state import LiveRows
from producer.writer import Writer

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


def run(conn: Connection, schema: str, options: RunOptions, stop: threading.Event,
        journal: Journal | None = None) -> Progress:
    """Write changes until the count, the duration or `stop`; returns the counts. The journal is closed."""
    writer = Writer(schema)
    live = _load(conn, writer)
    rng = random.Random(options.seed)
    fake = make_faker(options.seed)
    progress = Progress(enabled=not options.quiet)
    pacer = Pacer(options.rate, time.monotonic())
    deadline = None if options.duration is None else pacer.start + options.duration
    done = 0
    conflicts_in_a_row = 0
    try:
        while not stop.is_set():
            remaining = None if options.count is None else options.count - done
            if remaining == 0 or (deadline is not None and max(pacer.due(done), time.monotonic()) >= deadline):
                break
            if stop.wait(pacer.delay(time.monotonic(), done)):
                break
            ops = plan_transaction(rng, options.mix, live, transaction_size(rng, options.max_txn_size, remaining))
            now = datetime.now(UTC)
            planned = [(op, values_for(op, fake, rng, now)) for op in ops]
            try:
                with conn.cursor() as cur:
                    outcome = writer.write(cur, planned)
                conn.commit()
            except CONFLICTS as error:
                conn.rollback()
                conflicts_in_a_row += 1
                if conflicts_in_a_row > MAX_CONFLICTS_IN_A_ROW:
                    raise
                progress.retries += 1
                progress.note(f"producer: rolled back a transaction that conflicted with another writer"
                              f" ({error.diag.message_primary}); planning again")
                live = _load(conn, writer)
                continue
            conflicts_in_a_row = 0
            # Journaled only now, after COMMIT returned: the journal never holds an uncommitted change.
            if journal is not None:
                journal.write(outcome.txid, outcome.changes)
            live.apply(outcome.changes)
            if outcome.missed:
                live = _load(conn, writer)  # another writer changed rows we planned on: start from the truth
            done += len(outcome.changes)
            progress.committed([change.op for change in outcome.changes])
    finally:
        if journal is not None:
            journal.close()
        progress.finish()
    return progress


def _load(conn: Connection, writer: Writer) -> LiveRows:
    with conn.cursor() as cur:
        live = writer.load_live(cur)
    conn.rollback()  # ends the read-only transaction; nothing to commit
    return live
