"""What `make status` shows beyond supervisord: connectors and tasks, replication slot lag, the job's last batch."""

import time

import psycopg2
import requests
from botocore.exceptions import BotoCoreError, ClientError

from stack import repair
from stack.connect import connector_status, list_connectors
from stack.settings import log_file, setting
from stack.waiting import tail

SLOT_LAG_SQL = """
SELECT slot_name, plugin, active,
       pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag_bytes
FROM pg_replication_slots ORDER BY slot_name
"""


def replication_slots() -> list[tuple[str, str, bool, int | None]]:
    dsn = dict(host=setting("PG_HOST"), port=setting("PG_PORT"), dbname=setting("PG_DATABASE"),
               user=setting("PG_APP_USER"), password=setting("PG_APP_PASSWORD"), connect_timeout=3)
    with psycopg2.connect(**dsn) as conn, conn.cursor() as cur:
        cur.execute(SLOT_LAG_SQL)
        return cur.fetchall()


def connector_lines() -> list[str]:
    try:
        names = list_connectors()
    except requests.RequestException as error:
        return [f"  (Kafka Connect not answering: {error.__class__.__name__})"]
    if not names:
        return ["  (no connectors registered)"]
    lines = []
    for name in names:
        status = connector_status(name)
        tasks = ", ".join(f"task {t['id']} {t['state']}" for t in status.get("tasks", [])) or "no tasks"
        lines.append(f"  {name:<24} {status['connector']['state']:<10} {tasks}")
    return lines


def slot_lines() -> list[str]:
    try:
        slots = replication_slots()
    except psycopg2.Error as error:
        return [f"  (PostgreSQL not answering: {str(error).strip().splitlines()[0]})"]
    if not slots:
        return ["  (no replication slots)"]
    return [f"  {name:<24} {plugin:<10} {'active' if active else 'inactive':<9} lag {'?' if lag is None else lag} bytes"
            for name, plugin, active, lag in slots]


def job_lines() -> list[str]:
    """The Glue job's last micro-batch, as its log reports it."""
    last = [line for line in tail(log_file("glue"), 400).splitlines() if "glue.job: batch " in line]
    return [f"  {last[-1].split('glue.job: ', 1)[1]}"] if last else ["  (no micro-batch reported yet)"]


def paused_lines() -> list[str]:
    """One line per mirror the job paused: why, since when, and what to do."""
    try:
        paused = repair.paused_tables()
    except (BotoCoreError, ClientError) as error:
        return [f"  (cannot read the job's table state from the lake: {error.__class__.__name__})"]
    lines = []
    for mirror, state in sorted(paused.items()):
        since = time.strftime("%H:%M:%S", time.localtime(state["since_ms"] / 1000))
        retry = max(0, round(state["next_attempt_ms"] / 1000 - time.time()))
        lines.append(f"  {mirror:<24} PAUSED since {since} ({state['attempts']} attempts, next in {retry} s): "
                     f"{state['reason']} -- its changes wait in the change log; once the cause is fixed it catches "
                     f"up by itself, or run make rebuild TABLE={mirror}")
    return lines


def report() -> str:
    return "\n".join(["connectors:", *connector_lines(), "replication slots:", *slot_lines(),
                      "glue job:", *job_lines(), *paused_lines()])
