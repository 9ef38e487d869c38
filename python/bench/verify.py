"""`python -m bench verify`: `make verify` on a table of N rows loaded through the pipeline: the seconds of each run
(their median), rows per second, and the verifying process's peak memory. The table is kept for the next run
(`--drop` removes it)."""

from __future__ import annotations

import logging
import resource
import statistics
import time

import psycopg2
from psycopg2 import sql
from tqdm import tqdm

from lake import verify
from lake.catalog import local_catalog
from lake.summary import summarize
from stack.settings import app_dsn, setting

log = logging.getLogger(__name__)
CHUNK = 100_000  # rows per source transaction


def load(rows: int, timeout: float) -> str:
    """The table bench_verify_<rows> in the source with that many rows, and its mirror holding all of them."""
    name = f"bench_verify_{rows}"
    table = sql.Identifier(setting("PG_SCHEMA"), name)
    conn = psycopg2.connect(**app_dsn())
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE TABLE IF NOT EXISTS {} (id bigint PRIMARY KEY, amount numeric(12,2), "
                            "note text, placed_at timestamptz)").format(table))
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
        for start in range(cur.fetchone()[0], rows, CHUNK):
            cur.execute(sql.SQL("INSERT INTO {} SELECT i, i * 0.01, md5(i::text), now() - i * interval '1 second' "
                                "FROM generate_series(%s, %s) i").format(table), (start + 1, min(start + CHUNK, rows)))
    conn.close()
    deadline = time.monotonic() + timeout
    with tqdm(total=rows, desc=f"{name} into the lake", unit="row") as progress:
        while True:
            try:
                mirrored = summarize(local_catalog().load_table((setting("LAKE_DATABASE"), name))).rows
            except Exception:  # noqa: BLE001 - the mirror is created by the job's first batch of it
                mirrored = 0
            progress.update(mirrored - progress.n)
            if mirrored == rows:
                return name
            if time.monotonic() > deadline:
                raise SystemExit(f"bench verify: the mirror of {name} holds {mirrored} of {rows} rows after "
                                 f"{timeout:.0f} s; make status")
            time.sleep(5)


def measure(rows: int, repeat: int, timeout: float, drop: bool) -> dict:
    name = load(rows, timeout)
    seconds = []
    for run in range(repeat):
        verdict = verify.verify_table(name)
        if not verdict.equal:
            raise SystemExit(f"bench verify: {verdict.line()}")
        seconds.append(verdict.seconds)
        log.info("run %d: %s", run + 1, verdict.line())
    if drop:
        with psycopg2.connect(**app_dsn()) as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE {}").format(sql.Identifier(setting("PG_SCHEMA"), name)))
        conn.close()
    median = statistics.median(seconds)
    return {"table": name, "rows": rows, "runs_s": [round(s, 1) for s in seconds], "median_s": round(median, 1),
            "rows_per_s": round(rows / median), "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF)
                                                                        .ru_maxrss / 1024)}
