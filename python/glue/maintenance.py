"""Table upkeep, as a job of its own beside the stream: a commit every few seconds leaves many small data and delete
files, and every MERGE and reader reads them all. Each round folds them into files of the target size, forgets old
snapshots and files no snapshot refers to, and drops delete markers older than Kafka keeps events.

It never runs inside a micro-batch, so a batch never waits for it and its failure never stops the stream. It commits
to the same tables as the stream, optimistically: when the two touch the same files, one commit is refused; the
stream retries its MERGE (glue.job), a refused compaction is left to the next round.

On AWS a scheduled Glue job runs one round (maintain_lake.py); locally a supervised program runs a round every
--maintenance-interval-seconds (python -m glue.run_local --maintenance).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from pyspark.sql import SparkSession

from glue.bookkeeping import MARKERS_TABLE
from glue.failures import one_line
from glue.options import JobOptions
from glue.session import start_session
from glue.sqlnames import q, table_ident

log = logging.getLogger("glue.maintenance")

# Snapshots stay readable this long after they are replaced (time travel, slow readers), and the last few always:
# the change log's newest append records the Kafka offsets already logged (glue.changelog).
KEEP_SNAPSHOTS_FOR = timedelta(hours=1)
KEEP_LAST_SNAPSHOTS = 10
# Orphan-file removal lists every file under the table and reads every manifest: a long-running loop (the local
# program) does it once an hour, a scheduled run (AWS) every time.
ORPHANS_EVERY = timedelta(hours=1)
# A data file is rewritten once this share of its rows is deleted (Iceberg's default, 0.3), or when it is small and
# has company; each file group commits on its own, so one refused by a concurrent MERGE loses only itself.
REWRITE_OPTIONS = {"min-input-files": "2", "delete-ratio-threshold": "0.3", "partial-progress.enabled": "true",
                   "remove-dangling-deletes": "true"}


def _timestamp(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.astimezone(UTC).strftime('%Y-%m-%d %H:%M:%S')}'"


def table_sql(catalog: str, database: str, table: str, now: datetime, orphans: bool = True) -> list[str]:
    """Compact the data files, then the delete files; expire old snapshots; with `orphans`, remove files nothing
    refers to (those older than Iceberg's default 3 days, so a commit still being written is never taken for one)."""
    ident, options = f"'{q(database)}.{q(table)}'", ", ".join(f"'{k}', '{v}'" for k, v in REWRITE_OPTIONS.items())
    call = f"CALL {q(catalog)}.system"
    steps = [
        f"{call}.rewrite_data_files(table => {ident}, options => map({options}))",
        f"{call}.rewrite_position_delete_files(table => {ident}, options => map('rewrite-all', 'true'))",
        f"{call}.expire_snapshots(table => {ident}, older_than => {_timestamp(now - KEEP_SNAPSHOTS_FOR)}, "
        f"retain_last => {KEEP_LAST_SNAPSHOTS})",
    ]
    return steps + ([f"{call}.remove_orphan_files(table => {ident})"] if orphans else [])


def tables_of(spark: SparkSession, catalog: str, database: str) -> list[str]:
    """Every table of the lake's namespace: the mirrors and the lake's own (the change log, the markers)."""
    return sorted(r.tableName for r in spark.sql(f"SHOW TABLES IN {q(catalog)}.{q(database)}").collect())


def maintain(spark: SparkSession, catalog: str, database: str, tables: Sequence[str],
             marker_retention_hours: int, orphans: bool = True) -> dict[str, str]:
    """One round over `tables`. Returns {table: why skipped} of those whose upkeep failed (a table dropped
    meanwhile, a commit refused): each is logged and tried again next round."""
    now = datetime.now(UTC)
    skipped = {}
    for table in tables:
        steps = table_sql(catalog, database, table, now, orphans)
        if table == MARKERS_TABLE:
            expired = _timestamp(now - timedelta(hours=marker_retention_hours))
            steps.append(f"DELETE FROM {table_ident(catalog, database, table)} "
                         f"WHERE key IS NOT NULL AND deleted_at < {expired}")
        started = time.monotonic()
        try:
            results = [spark.sql(sql).collect() for sql in steps]
        except Exception as error:  # upkeep only: the next round tries again
            skipped[table] = one_line(error)
            log.warning("maintenance of %s skipped this round: %s", table, skipped[table])
            continue
        data = results[0][0]  # rewrite_data_files's counts
        removed = f", {len(results[3])} orphan files removed" if orphans else ""
        log.info("maintenance of %s: %s data files rewritten into %s%s (%.1fs)", table,
                 data.rewritten_data_files_count, data.added_data_files_count, removed, time.monotonic() - started)
    return skipped


def run(spark: SparkSession, opts: JobOptions) -> None:
    """Rounds over every table of the namespace: one, or one every opts.maintenance_interval_seconds, the first an
    interval after the start (the stack starts the stream at the same time: its first batches, a cold JVM's, have
    the machine to themselves)."""
    orphans_done: datetime | None = None
    if opts.maintenance_interval_seconds:
        log.info("maintenance: a round every %d s, the first one interval from now", opts.maintenance_interval_seconds)
        time.sleep(opts.maintenance_interval_seconds)
    while True:
        started = time.monotonic()
        tables = tables_of(spark, opts.catalog_name, opts.database)
        orphans = orphans_done is None or datetime.now(UTC) - orphans_done >= ORPHANS_EVERY
        skipped = maintain(spark, opts.catalog_name, opts.database, tables, opts.delete_marker_retention_hours,
                           orphans)
        orphans_done = datetime.now(UTC) if orphans else orphans_done
        log.info("maintenance round: %d tables, %d skipped (%.1fs)", len(tables), len(skipped),
                 time.monotonic() - started)
        if not opts.maintenance_interval_seconds:
            return
        time.sleep(max(0.0, opts.maintenance_interval_seconds - (time.monotonic() - started)))


def main(argv: Sequence[str]) -> None:
    opts, spark = start_session(argv, "maintain_lake")
    run(spark, opts)
