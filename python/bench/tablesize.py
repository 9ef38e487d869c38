"""The table-size phase: the steady workload again after the orders mirror has grown to each size, so that what a
change costs as a mirror lives on is measured. The rows are loaded through the pipeline (bulk INSERTs into the source,
Debezium, the job), so the mirror equals the source all along; the loads share one time budget, and a size the budget
does not reach is run at the size reached, and the report says so. The producer's updates and deletes pick their rows
uniformly from all live rows: a batch touches rows all over the mirror, the worst case for a MERGE that prunes files."""

from __future__ import annotations

import logging
import time

import psycopg2
from psycopg2 import sql
from tqdm import tqdm

from bench import phases
from bench.workload import Workload
from lake.catalog import local_catalog
from lake.summary import summarize

log = logging.getLogger("bench")

PHASE = "table-size"
CHUNK = 50_000  # rows per source transaction: Debezium's memory holds none of it (it streams), the WAL is small
# How far the load may run ahead of the pipeline. PostgreSQL writes the rows faster than Debezium decodes them, and
# a slot that holds back more WAL than max_slot_wal_keep_size is invalidated (10 million rows unthrottled wrote 4 GB
# ahead of Debezium and lost the slot): the load waits while the slot holds back more than this share of the limit,
# and while Kafka holds more than LAKE_LEAD messages the job has not applied, so that the budget bounds the lake's
# load too, not only the source's.
SLOT_SHARE = 0.25
LAKE_LEAD = 300_000
POLL_S = 2.0

# Orders like the producer's (python/producer/data.py), from the row's number alone so that a load is repeatable;
# their customers are the existing ones, round robin.
LOAD = """
INSERT INTO {orders} (customer_id, amount, currency, status, is_gift, details, ordered_at, delivery_date)
SELECT c.ids[1 + mod(g, c.n)::int], (mod(g * 7919, 5000000) + 1) / 100.0,
       (ARRAY['EUR', 'USD', 'GBP', 'JPY'])[1 + mod(g, 4)], 'pending', mod(g, 10) = 0,
       jsonb_build_object('items', jsonb_build_array(jsonb_build_object(
           'sku', 'SKU-' || g, 'qty', 1 + mod(g, 5), 'unit_price', (mod(g * 31, 25000) + 99) / 100.0)),
           'channel', 'web', 'note', NULL),
       now() - mod(g, 3600) * interval '1 second', current_date + 1 + mod(g, 10)::int
FROM generate_series(1, %s) AS g, (SELECT array_agg(id) AS ids, count(*) AS n FROM {customers}) AS c
"""


def source_rows(cur, table: sql.Composable) -> int:
    cur.execute(sql.SQL("SELECT count(*) FROM {}").format(table))
    return cur.fetchone()[0]


def slot_allowance(keep_size_mb: int) -> int | None:
    """Bytes of WAL the load may hold the slot back by, from max_slot_wal_keep_size (MB; -1: no limit)."""
    return None if keep_size_mb < 0 else int(keep_size_mb * 1024 * 1024 * SLOT_SHARE)


def slot_lag(cur, slot: str) -> int:
    """Bytes of WAL the replication slot holds back."""
    cur.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn) FROM pg_replication_slots "
                "WHERE slot_name = %s", (slot,))
    row = cur.fetchone()
    if row is None:
        raise RuntimeError(f"replication slot {slot} not found: is Debezium's connector registered? (make status)")
    return row[0] or 0


def lake_lag(ctx: phases.Context) -> int:
    """Messages in Kafka's table topics the job has not applied yet."""
    applied = ctx.job.committed_offsets()
    return sum(max(0, end - applied.get((tp.topic, tp.partition), 0)) for tp, end in ctx.topics.end_offsets().items())


def wait_for_pipeline(ctx: phases.Context, cur, allowance: int | None, deadline: float) -> float:
    """Until the slot holds back at most `allowance` bytes and the job is at most LAKE_LEAD messages behind Kafka
    (or the deadline); the seconds waited."""
    started = time.monotonic()
    while time.monotonic() < deadline:
        if (allowance is None or slot_lag(cur, ctx.stack["PG_SLOT"]) <= allowance) and lake_lag(ctx) <= LAKE_LEAD:
            break
        time.sleep(POLL_S)
    return time.monotonic() - started


def grow(ctx: phases.Context, size: int, deadline: float) -> dict:
    """Orders in the source up to `size` rows, or as many as the time to `deadline` allows; then until Kafka and
    the lake hold them. What was loaded, and how fast."""
    schema = ctx.stack["PG_SCHEMA"]
    orders, customers = sql.Identifier(schema, "orders"), sql.Identifier(schema, "customers")
    start_total = sum(ctx.topics.end_offsets().values())
    started = time.monotonic()
    conn = psycopg2.connect(ctx.stack.app_dsn)
    conn.autocommit = True
    throttled = 0.0
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT setting::bigint FROM pg_settings WHERE name = 'max_slot_wal_keep_size'")
            allowance = slot_allowance(cur.fetchone()[0])
            before = rows = source_rows(cur, orders)
            with tqdm(total=size, initial=rows, desc=f"orders to {size:,} rows", unit="row") as progress:
                while rows < size:
                    throttled += wait_for_pipeline(ctx, cur, allowance, deadline)
                    if time.monotonic() >= deadline:  # the budget is spent, waiting or loading
                        break
                    cur.execute(sql.SQL(LOAD).format(orders=orders, customers=customers), (min(CHUNK, size - rows),))
                    rows += cur.rowcount
                    progress.update(cur.rowcount)
    finally:
        conn.close()
    committed_s = time.monotonic() - started
    ends = phases.wait_kafka_stable(ctx.topics, rows - before, start_total, max(ctx.catch_up_timeout,
                                                                                 deadline - time.monotonic()))
    phases.wait_lake(ctx, "ours", ends, None, timeout=max(ctx.catch_up_timeout, deadline - time.monotonic()))
    loaded_s = time.monotonic() - started
    mirrored = summarize(local_catalog().load_table((ctx.stack["LAKE_DATABASE"], "orders"))).rows  # deletes counted
    log.info("orders: %d rows in the source (%d loaded in %.0f s, %.0f s of it waiting for the pipeline), %d in "
             "the mirror", rows, rows - before, loaded_s, throttled, mirrored)
    return {"target_rows": size, "source_rows": rows, "mirror_rows": mirrored, "loaded_rows": rows - before,
            "commit_s": round(committed_s, 1), "throttled_s": round(throttled, 1), "load_s": round(loaded_s, 1),
            "load_rate": round((rows - before) / loaded_s) if rows > before else None,
            "reached": rows >= size}


def runs(ctx: phases.Context, steady: Workload, sizes: tuple[int, ...], budget_s: float) -> list[dict]:
    """The steady workload once at each size, smallest first (a load only adds rows)."""
    deadline = time.monotonic() + budget_s
    out = []
    for size in sorted(sizes):
        load = grow(ctx, size, deadline)
        workload = Workload(PHASE, steady.rate, steady.txn_size, steady.seed, seconds=steady.seconds)
        run = phases.run_phase(ctx, "ours", workload, len(out))
        run["table_size"] = load
        out.append(run)
        if not load["reached"]:
            ctx.notes.append(f"The table-size phase stopped growing orders at {load['source_rows']:,} rows (asked "
                             f"{size:,}): the {budget_s:.0f} s loading budget was spent.")
            break
    return out
