"""`make resync` and `make rebuild`: a mirror brought back to its source without stopping anything.

- resync: Debezium re-reads one table (an incremental snapshot, asked for through the signalling table
  cdc.debezium_signal); its rows reach the lake as `op=r` events placed after every change before them. For what the
  stream cannot carry: DDL (the event trigger asks for it itself), a slot lost and recreated, a mirror a user changed.
- rebuild: the running job drops one mirror and applies its whole history again from the change log (the lake's
  record). For a mirror that went wrong while its events were logged right: a paused table whose cause is fixed.
"""

from __future__ import annotations

import json
import sys
import time
from urllib.parse import urlparse

import psycopg2
import requests
from tqdm import tqdm

from stack.settings import connect_url, local_client, setting


class RepairFailed(RuntimeError):
    pass


def _dsn() -> dict:
    return dict(host=setting("PG_HOST"), port=setting("PG_PORT"), dbname=setting("PG_DATABASE"),
                user=setting("PG_APP_USER"), password=setting("PG_APP_PASSWORD"), connect_timeout=5)


def request_resync(table: str) -> str:
    """Ask Debezium for an incremental snapshot of PG_SCHEMA.table; the signal's id."""
    schema = setting("PG_SCHEMA")
    with psycopg2.connect(**_dsn()) as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass(format('%%I.%%I', %s, %s)) IS NOT NULL", (schema, table))
        if not cur.fetchone()[0]:
            raise RepairFailed(f"no table {schema}.{table} in the source: name a table of schema {schema}")
        cur.execute("SELECT cdc.request_resync(%s, %s)", (schema, table))
        signal = cur.fetchone()[0]
    conn.close()
    return signal


def _snapshot_running(connector: str) -> str | None:
    """The correlation id of the incremental snapshot the connector's committed offsets say is running, if any."""
    response = requests.get(f"{connect_url()}/connectors/{connector}/offsets", timeout=10)
    response.raise_for_status()
    for entry in response.json().get("offsets", []):
        running = entry.get("offset", {}).get("incremental_snapshot_correlation_id")
        if running:
            return running
    return None


def resync(table: str, timeout: float, wait: bool = True) -> None:
    signal = request_resync(table)
    print(f"==> resync of {setting('PG_SCHEMA')}.{table} requested ({signal}); Debezium re-reads it in chunks, "
          "its rows reach the lake as op=r events", file=sys.stderr)
    if not wait:
        return
    connector = setting("CONNECTOR_NAME")
    deadline, seen, started = time.monotonic() + timeout, False, time.monotonic()
    # Connect commits offsets every few seconds: a snapshot shorter than that may never show; give it two rounds
    while time.monotonic() < deadline:
        running = _snapshot_running(connector) == signal
        seen |= running
        if (seen and not running) or (not seen and time.monotonic() - started > 30):
            print(f"==> resync of {table}: Debezium has sent every row ({time.monotonic() - started:.0f} s)",
                  file=sys.stderr)
            return
        time.sleep(1)
    raise RepairFailed(f"the resync of {table} was still running after {timeout:.0f} s; "
                       f"see make logs C=connect")


def _state_location() -> tuple[str, str]:
    lake = urlparse(f"s3://{setting('LAKE_BUCKET')}/state")
    return lake.netloc, lake.path.strip("/")


def rebuild(table: str, timeout: float) -> None:
    """Ask the running job to rebuild `table`'s mirror from the change log and wait until it has."""
    bucket, prefix = _state_location()
    key = f"{prefix}/requests/rebuild-{table}.json"
    s3 = local_client("s3")
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
    s3 = local_client("s3")
    found = {}
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/tables/")
    for item in listing.get("Contents", []):
        if not item["Key"].endswith(".json"):  # s3a's directory markers
            continue
        state = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        if state.get("status") == "paused":
            found[state["mirror"]] = state
    return found
