"""A replication slot PostgreSQL gave up on: with Kafka Connect down, WAL beyond max_slot_wal_keep_size is removed
and the slot is lost, with changes in that WAL nobody streamed (inserts, updates, deletes). `make status` says so in
one line with what to do, and `make recover-slot` (a new slot, every table re-read) brings each mirror back to equal
its source row for row, the rows deleted meanwhile gone from it too. The limit is set small for the test."""

import os
import subprocess
import sys
import time

from conftest import ROOT, admin_sql, app_dsn_of_stack, env, producer_command, supervise
from stack.lakecheck import settle

PRODUCER_TABLES = {"customers": {"profile"}, "orders": {"details"}}


def wal_status() -> str:
    return admin_sql(f"SELECT wal_status FROM pg_replication_slots WHERE slot_name = '{os.environ['PG_SLOT']}'").strip()


def lose_the_slot() -> None:
    """WAL past a 1 MB limit, then checkpoints, until PostgreSQL invalidates the slot."""
    admin_sql("ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'")
    admin_sql("SELECT pg_reload_conf()")
    try:
        deadline = time.monotonic() + 120
        while wal_status() != "lost":
            assert time.monotonic() < deadline, f"slot still {wal_status()} after 120 s of WAL past the limit"
            for _ in range(3):
                admin_sql("SELECT pg_logical_emit_message(false, 'test', repeat('x', 2000000))")
                admin_sql("SELECT pg_switch_wal()")
            admin_sql("CHECKPOINT")
    finally:
        admin_sql("ALTER SYSTEM RESET max_slot_wal_keep_size")
        admin_sql("SELECT pg_reload_conf()")


def stack(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "stack", *args], cwd=ROOT, env=env(), capture_output=True,
                          text=True, check=False)


def test_a_lost_slot_is_reported_in_one_line_and_recovered_until_the_lake_equals_the_source(lake, quiet_source):
    supervise("stop", "connect")
    try:
        # changes made while nothing streams, that the lost WAL held
        subprocess.run(producer_command("--count", "3000", "--rate", "0", "--seed", "31"), check=True)
        lose_the_slot()
    finally:
        supervise("start", "connect")

    status = stack("status").stdout
    slot_line = next(line for line in status.splitlines() if line.strip().startswith(os.environ["PG_SLOT"]))
    assert "LOST" in slot_line and "make recover-slot" in slot_line, status

    recovered = stack("recover-slot", "--timeout", "900")
    assert recovered.returncode == 0, recovered.stderr
    assert wal_status() == "reserved"
    for table, json_columns in PRODUCER_TABLES.items():
        assert settle(lake, app_dsn_of_stack(), os.environ["PG_SCHEMA"], table, ["id"], json_columns) == []
