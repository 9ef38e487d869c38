"""What `make status` shows: each component's health, connectors and tasks, replication slots (their lag, and
whether PostgreSQL still keeps their WAL), the job's last batch, paused mirrors."""

import time
from datetime import datetime

import psycopg2
import requests
from botocore.exceptions import BotoCoreError, ClientError

from stack import health, repair
from stack.connect import connector_status, failure_trace, list_connectors
from stack.settings import log_file, setting
from stack.waiting import tail

SLOT_LAG_SQL = """
SELECT slot_name, plugin, active, wal_status,
       pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag_bytes
FROM pg_replication_slots ORDER BY slot_name
"""
# a job that has not reported a micro-batch for this long (and longer than ten triggers) is worth a look
QUIET_BATCH_SECONDS = 120


def replication_slots() -> list[tuple[str, str, bool, str, int | None]]:
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
        line = f"  {name:<24} {status['connector']['state']:<10} {tasks}"
        trace = failure_trace(status)
        if trace:
            line += f": {trace.strip().splitlines()[0][:200]} -- make logs C=connect; make restart C=connect"
        lines.append(line)
    return lines


def slot_lines() -> list[str]:
    try:
        slots = replication_slots()
    except psycopg2.Error as error:
        return [f"  (PostgreSQL not answering: {str(error).strip().splitlines()[0]})"]
    if not slots:
        return ["  (no replication slots)"]
    lines = []
    for name, plugin, active, wal_status, lag in slots:
        state = "active" if active else "inactive"
        line = f"  {name:<24} {plugin:<10} {state:<9} lag {'?' if lag is None else lag} bytes"
        if wal_status == "lost":
            line += (" LOST: PostgreSQL removed WAL this slot still needed (more than max_slot_wal_keep_size while "
                     "nothing read it); those changes cannot be streamed -- run make recover-slot (a new slot, then "
                     "every table re-read into the lake)")
        elif wal_status == "unreserved":
            line += (" AT RISK: beyond max_slot_wal_keep_size, its WAL goes at the next checkpoint -- start Connect "
                     "now (make restart C=connect)")
        lines.append(line)
    return lines


def job_lines(now: datetime | None = None) -> list[str]:
    """The Glue job's last micro-batch, as its log reports it, and how long ago."""
    last = [line for line in tail(log_file("glue"), 400).splitlines() if "glue.job: batch " in line]
    if not last:
        return ["  (no micro-batch reported yet)"]
    when, report = last[-1].split(",", 1)[0], last[-1].split("glue.job: ", 1)[1]
    age = ((now or datetime.now()) - datetime.strptime(when, "%Y-%m-%d %H:%M:%S")).total_seconds()
    line = f"  {report} ({age:.0f} s ago)"
    if age > max(QUIET_BATCH_SECONDS, 10 * float(setting("JOB_TRIGGER_SECONDS"))):
        line += " -- no micro-batch since: a long one, or stuck; make logs C=glue"
    return [line]


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
    return "\n".join(["components:", *health.program_lines(health.programs()), "connectors:", *connector_lines(),
                      "replication slots:", *slot_lines(), "glue job:", *job_lines(), *paused_lines()])
