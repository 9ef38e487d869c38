"""`make resync` and `make rebuild`: a mirror brought back to its source without stopping anything.

- resync: Debezium re-reads one table (an incremental snapshot, asked for through the signalling table
  cdc.debezium_signal); its rows reach the lake as `op=r` events placed after every change before them. For what the
  stream cannot carry: DDL (the event trigger asks for it itself), a slot lost and recreated, a mirror a user changed.
- rebuild: the running job drops one mirror and applies its whole history again from the change log (the lake's
  record). For a mirror that went wrong while its events were logged right: a paused table whose cause is fixed.
- recover-slot: after PostgreSQL removed WAL the replication slot still needed (max_slot_wal_keep_size, with Connect
  down too long), the changes in that WAL are gone for good: a new slot, a request that the job forget every mirror's
  rows from before the new slot (rows deleted meanwhile included), and the connector's offsets reset so that Debezium
  snapshots every table again; whatever it sends is placed after the new slot's start, so the order of the two does
  not matter.
"""

from __future__ import annotations

import json
import sys
import time
from urllib.parse import urlparse

import psycopg2
import requests
from tqdm import tqdm

from stack.connect import connector_status
from stack.probes import probe_connect
from stack.settings import app_dsn, components, connect_url, lake_s3, setting
from stack.waiting import wait_until


class RepairFailed(RuntimeError):
    pass


def request_resync(table: str) -> str:
    """Ask Debezium for an incremental snapshot of PG_SCHEMA.table; the signal's id."""
    schema = setting("PG_SCHEMA")
    with psycopg2.connect(**app_dsn()) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass(format('%%I.%%I', %s, %s)) IS NOT NULL", (schema, table))
        if not cur.fetchone()[0]:
            raise RepairFailed(f"no table {schema}.{table} in the source: name a table of schema {schema}")
        cur.execute("SELECT cdc.request_resync(%s, %s)", (schema, table))
        signal = cur.fetchone()[0]
    conn.close()
    return signal


def _offsets() -> list[dict]:
    """The connector's committed source offsets (Debezium's position, and what it is snapshotting)."""
    response = requests.get(f"{connect_url()}/connectors/{setting('CONNECTOR_NAME')}/offsets", timeout=10)
    response.raise_for_status()
    return [entry.get("offset", {}) for entry in response.json().get("offsets", [])]


def _snapshot_running() -> str | None:
    """The correlation id of the incremental snapshot the connector's committed offsets say is running, if any."""
    return next((o["incremental_snapshot_correlation_id"] for o in _offsets()
                 if o.get("incremental_snapshot_correlation_id")), None)


def resync(table: str, timeout: float, wait: bool = True) -> None:
    signal = request_resync(table)
    print(f"==> resync of {setting('PG_SCHEMA')}.{table} requested ({signal}); Debezium re-reads it in chunks, "
          "its rows reach the lake as op=r events", file=sys.stderr)
    if wait:
        _wait_snapshot_done(signal, timeout, f"the resync of {table}")


def _wait_snapshot_done(signal: str, timeout: float, what: str) -> None:
    """Wait until the connector's offsets no longer show the incremental snapshot `signal` running."""
    deadline, seen, started = time.monotonic() + timeout, False, time.monotonic()
    # Connect commits offsets every few seconds: a snapshot shorter than that may never show; give it two rounds
    while time.monotonic() < deadline:
        running = _snapshot_running() == signal
        seen |= running
        if (seen and not running) or (not seen and time.monotonic() - started > 30):
            print(f"==> {what}: Debezium has sent every row ({time.monotonic() - started:.0f} s)", file=sys.stderr)
            return
        time.sleep(1)
    raise RepairFailed(f"{what} was still running after {timeout:.0f} s; see make logs C=connect")


def _connector_call(method: str, path: str) -> None:
    response = requests.request(method, f"{connect_url()}/connectors/{setting('CONNECTOR_NAME')}{path}", timeout=30)
    if response.status_code >= 400:
        raise RepairFailed(f"Kafka Connect {method} {path}: {response.status_code} {response.text[:500]}")


def _wait_connector(state: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = connector_status(setting("CONNECTOR_NAME"))
        if status["connector"]["state"] == state and all(t["state"] == state for t in status.get("tasks", [])):
            return
        time.sleep(1)
    raise RepairFailed(f"connector {setting('CONNECTOR_NAME')} not {state} after {timeout:.0f} s: {status}")


def _superuser() -> psycopg2.extensions.connection:
    """The private cluster's superuser, over its socket (local connections are trusted)."""
    conn = psycopg2.connect(host=f"{setting('STATE_DIR')}/postgres/run", port=setting("PG_PORT"),
                            dbname=setting("PG_DATABASE"), user="postgres")
    conn.autocommit = True
    return conn


def slot_status(cur, slot: str) -> str | None:
    cur.execute("SELECT wal_status FROM pg_replication_slots WHERE slot_name = %s", (slot,))
    row = cur.fetchone()
    return row[0] if row else None


def recover_slot(timeout: float, force: bool = False) -> None:
    """A new replication slot in place of a lost one, then every captured table re-read into the lake."""
    slot = setting("PG_SLOT")
    connect = components()["connect"]
    wait_until(f"connect at {connect.address}", lambda: probe_connect(connect), float(setting("READY_TIMEOUT")),
               log_component="connect")
    conn = _superuser()
    try:
        with conn.cursor() as cur:
            status = slot_status(cur, slot)
            if status != "lost" and not force:
                raise RepairFailed(f"replication slot {slot} is not lost (wal_status {status}); nothing to recover "
                                   f"(--force to re-read every table anyway)")
            print(f"==> stopping connector {setting('CONNECTOR_NAME')} to replace slot {slot}", file=sys.stderr)
            _connector_call("PUT", "/stop")
            _wait_connector("STOPPED")
            cur.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                        (slot,))
            cur.execute("SELECT lsn, lsn - '0/0' FROM pg_create_logical_replication_slot(%s, 'pgoutput')", (slot,))
            lsn, start = cur.fetchone()
    finally:
        conn.close()
    print(f"==> new slot {slot} from {lsn}", file=sys.stderr)
    # every event of the new slot and of the snapshot is placed at or after its start
    before = int(start) - 1
    bucket, prefix = _state_location()
    lake_s3().put_object(Bucket=bucket, Key=f"{prefix}/requests/floor.json", Body=json.dumps(
        {"kind": "floor", "commit_lsn": before, "lsn": before, "cause": f"slot {slot} lost"}).encode())
    print("==> asked the job to forget every mirror's rows from before the new slot", file=sys.stderr)
    # without offsets, Debezium (snapshot.mode=initial) snapshots every table, then streams the new slot
    _connector_call("DELETE", "/offsets")
    _connector_call("PUT", "/resume")
    _wait_connector("RUNNING")
    print("==> connector resumed: Debezium snapshots every table again", file=sys.stderr)
    _wait_initial_snapshot(timeout)


def _wait_initial_snapshot(timeout: float) -> None:
    """Until the connector's committed offsets are a streaming position (they say snapshot_completed=false while it
    snapshots, and are absent before its first commit)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        offsets = _offsets()
        if offsets and not any(o.get("snapshot_completed") is False for o in offsets):
            print(f"==> snapshot done, streaming ({time.monotonic() - started:.0f} s)", file=sys.stderr)
            return
        time.sleep(2)
    raise RepairFailed(f"Debezium's snapshot still running after {timeout:.0f} s; see make logs C=connect")


def _state_location() -> tuple[str, str]:
    lake = urlparse(f"s3://{setting('LAKE_BUCKET')}/state")
    return lake.netloc, lake.path.strip("/")


def rebuild(table: str, timeout: float) -> None:
    """Ask the running job to rebuild `table`'s mirror from the change log and wait until it has."""
    bucket, prefix = _state_location()
    key = f"{prefix}/requests/rebuild-{table}.json"
    s3 = lake_s3()
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps({"kind": "rebuild", "mirror": table}).encode())
    print(f"==> rebuild of mirror {table} requested (s3://{bucket}/{key}); the job does it at its next micro-batch",
          file=sys.stderr)
    started = time.monotonic()
    with tqdm(total=None, desc=f"rebuilding {table}", unit="s", bar_format="{desc}: {elapsed}",
              file=sys.stderr) as progress:
        while time.monotonic() - started < timeout:
            if s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 0:
                break
            time.sleep(1)
            progress.update(1)
        else:
            raise RepairFailed(f"the job has not rebuilt {table} after {timeout:.0f} s (is it running? make status); "
                               f"the request stays in s3://{bucket}/{key}")
    paused = paused_tables().get(table)
    if paused:
        raise RepairFailed(f"{table} was rebuilt but is paused again: {paused['reason']}")
    print(f"==> mirror {table} rebuilt from the change log ({time.monotonic() - started:.0f} s)", file=sys.stderr)


def paused_tables() -> dict[str, dict]:
    """{mirror: state} of the mirrors the job has paused (its state objects in the lake)."""
    bucket, prefix = _state_location()
    s3 = lake_s3()
    found = {}
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/tables/")
    for item in listing.get("Contents", []):
        if not item["Key"].endswith(".json"):  # s3a's directory markers
            continue
        state = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        if state.get("status") == "paused":
            found[state["mirror"]] = state
    return found
