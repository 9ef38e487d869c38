"""Table upkeep between micro-batches: a commit every few seconds leaves many small data and delete files, and
every MERGE reads them all. Now and then the job folds them into fewer files and forgets old snapshots."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from pyspark.sql import SparkSession

from glue.markers import Markers
from glue.sqlnames import q

log = logging.getLogger(__name__)

# Snapshots stay readable this long after they are replaced (time travel, slow readers), and the last few always:
# the change log's newest append records the Kafka offsets already logged (glue.changelog).
KEEP_SNAPSHOTS_FOR = timedelta(hours=1)
KEEP_LAST_SNAPSHOTS = 10


def compact_sql(catalog: str, database: str, table: str) -> list[str]:
    """Rewrite small data files and those with deleted rows; then drop the delete files nothing refers to."""
    ident = f"'{q(database)}.{q(table)}'"
    return [
        f"CALL {q(catalog)}.system.rewrite_data_files(table => {ident}, "
        "options => map('min-input-files', '2', 'delete-file-threshold', '1'))",
        f"CALL {q(catalog)}.system.rewrite_position_delete_files(table => {ident}, "
        "options => map('rewrite-all', 'true'))",
    ]


def expire_sql(catalog: str, database: str, table: str, now: datetime) -> str:
    older_than = (now - KEEP_SNAPSHOTS_FOR).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return (f"CALL {q(catalog)}.system.expire_snapshots(table => '{q(database)}.{q(table)}', "
            f"older_than => TIMESTAMP '{older_than}', retain_last => {KEEP_LAST_SNAPSHOTS})")


def maintain(spark: SparkSession, catalog: str, database: str, tables: list[str], markers: Markers,
             marker_retention_hours: int) -> None:
    """Compact each table and expire its old snapshots; forget delete markers older than Kafka keeps events. Upkeep
    that fails (a table dropped meanwhile, a commit conflict) is logged and left for the next round: it must never stop
    the stream."""
    now = datetime.now(UTC)
    expired_before = (now - timedelta(hours=marker_retention_hours)).strftime("%Y-%m-%d %H:%M:%S")
    for name, steps in [(markers.table, [markers.expire_sql(f"TIMESTAMP '{expired_before}'")])] + [
            (f"{database}.{table}", [*compact_sql(catalog, database, table), expire_sql(catalog, database, table, now)])
            for table in tables]:
        try:
            results = [spark.sql(sql).collect() for sql in steps]
        except Exception as error:  # upkeep only: the next round tries again
            log.warning("maintenance of %s skipped this round: %s", name, " ".join(str(error).split())[:300])
            continue
        if len(results) > 1:
            data = results[0][0]
            log.info("maintenance of %s: %s data files rewritten into %s", name, data.rewritten_data_files_count,
                     data.added_data_files_count)
