"""What `make status` shows: each component's health, connectors and tasks, replication slots (their lag, and
whether PostgreSQL still keeps their WAL), the job's last batch, paused mirrors."""

import json
import time
from datetime import datetime

import psycopg2
import requests
from botocore.exceptions import BotoCoreError, ClientError

from stack import health, repair
from stack.connect import connector_status, failure_trace, is_unassigned, list_connectors
from stack.settings import app_dsn, log_file, setting, verify_results
from stack.waiting import tail

SLOT_LAG_SQL = """
SELECT slot_name, plugin, active, wal_status,
       pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint AS lag_bytes
FROM pg_replication_slots ORDER BY slot_name
"""
# a job that has not reported a micro-batch for this long (and longer than ten triggers) is worth a look
QUIET_BATCH_SECONDS = 120


def replication_slots() -> list[tuple[str, str, bool, str, int | None]]:
    with psycopg2.connect(**app_dsn(connect_timeout=3)) as conn, conn.cursor() as cur:
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
        elif is_unassigned(status):
            line += (": lost in a rebalance and not given back, nothing streams -- make restart C=connect "
                     "(scheduled.rebalance.max.delay.ms in the worker's configuration says how long it waits)")
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


def _logged_seconds_ago(line: str, now: datetime | None) -> tuple[str, float]:
    """A component's log line's time (`2026-12-02 05:00:01,000 INFO ...`) and its age in seconds."""
    when = line.split(",", 1)[0]
    return when, ((now or datetime.now()) - datetime.strptime(when, "%Y-%m-%d %H:%M:%S")).total_seconds()


def job_lines(now: datetime | None = None) -> list[str]:
    """The Glue job's last micro-batch, as its log reports it, and how long ago."""
    last = [line for line in tail(log_file("glue"), 400).splitlines() if "glue.job: batch " in line]
    if not last:
        return ["  (no micro-batch reported yet)"]
    _, age = _logged_seconds_ago(last[-1], now)
    line = f"  {last[-1].split('glue.job: ', 1)[1]} ({age:.0f} s ago)"
    if age > max(QUIET_BATCH_SECONDS, 10 * float(setting("JOB_TRIGGER_SECONDS"))):
        line += " -- no micro-batch since: a long one, or stuck; make logs C=glue"
    return [line]


def maintenance_lines(now: datetime | None = None) -> list[str]:
    """The maintenance job's last round (python/glue/maintenance.py), and each table it had to skip in it."""
    lines = tail(log_file("maintenance"), 400).splitlines()
    rounds = [i for i, line in enumerate(lines) if "glue.maintenance: maintenance round: " in line]
    if not rounds:
        return ["  (no maintenance round yet: the first comes one MAINTENANCE_INTERVAL_SECONDS after the start)"]
    last = lines[rounds[-1]]
    when, age = _logged_seconds_ago(last, now)
    out = [f"  last round {when[11:]} ({age / 60:.0f} min ago): {last.split('maintenance round: ', 1)[1]}"]
    if age > 3 * float(setting("MAINTENANCE_INTERVAL_SECONDS")) + QUIET_BATCH_SECONDS:
        out[0] += " -- no round since: make logs C=maintenance"
    for line in lines[(rounds[-2] + 1 if len(rounds) > 1 else 0):rounds[-1]]:
        if " skipped this round: " in line:
            table, why = line.split("maintenance of ", 1)[1].split(" skipped this round: ", 1)
            out.append(f"  {table} not maintained: {why[:200]} -- tried again next round; the stream is not "
                       f"affected (make logs C=maintenance)")
    return out


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


def verify_lines(now: datetime | None = None) -> list[str]:
    """The last make verify: when, and each mirror that drifted (all equal in one line)."""
    try:
        with open(verify_results(), encoding="utf-8") as handle:
            last = json.load(handle)
    except FileNotFoundError:
        return ["  (never run: make verify compares every mirror with its source)"]
    finished = datetime.fromisoformat(last["finished_at"])
    age = ((now or datetime.now(finished.tzinfo)) - finished).total_seconds()
    when = f"last make verify {finished.astimezone():%Y-%m-%d %H:%M:%S} ({age / 60:.0f} min ago)"
    drifted = [t for t in last["tables"] if not t["equal"]]
    if not drifted:
        return [f"  {when}: all {len(last['tables'])} mirrors equal their sources"]
    return [f"  {when}: {len(drifted)} of {len(last['tables'])} mirrors differ from their sources",
            *(f"  {t['line']}" for t in drifted)]


def report() -> str:
    return "\n".join(["components:", *health.program_lines(health.programs()), "connectors:", *connector_lines(),
                      "replication slots:", *slot_lines(), "glue job:", *job_lines(), *paused_lines(),
                      "maintenance:", *maintenance_lines(), "verification:", *verify_lines()])
