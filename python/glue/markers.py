"""Delete markers: what a delete leaves behind so that no older event can bring the row back.

A mirror holds live rows only; the marker of a deleted key stays in `<database>.cdc_deletes` with the delete's place
in commit order. An event for that key at or before that place (a re-sent insert after a Connect restart, an event
that took another partition or topic) changes nothing. A marker without key is a floor for the whole mirror: a
TRUNCATE, a DROP TABLE or a new primary key at that place, before which no event counts any more.

Markers are only ever appended (a key may have several; the latest counts), in one commit per micro-batch. Key
markers are needed for as long as Kafka may still hold an older event of the key, so glue.maintenance removes those
older than `--delete-marker-retention-hours` (Kafka's retention, 7 days by default); floors are kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from glue.bookkeeping import MARKERS_TABLE
from glue.sqlnames import COMMON_PROPERTIES, q, tblproperties

TABLE = MARKERS_TABLE
COLUMNS = "mirror string, key string, commit_lsn bigint, lsn bigint, deleted_at timestamp, cause string"
Position = tuple[int, int]


def key_json(key_cols: Sequence[str]) -> Column:
    """A typed key as the text markers store it (the same text for the same key whatever the batch)."""
    return F.to_json(F.struct(*[F.col(q(k)).alias(k) for k in key_cols]))


def newer(commit_lsn: Column, lsn: Column, than: tuple[int | Column, int | Column]) -> Column:
    """The place (commit_lsn, lsn) comes after `than` in commit order."""
    than_commit, than_lsn = (F.lit(x) if not isinstance(x, Column) else x for x in than)
    return (commit_lsn > than_commit) | ((commit_lsn == than_commit) & (lsn > than_lsn))


class Markers:
    def __init__(self, table: str):
        self.table = table
        self._floors: dict[str, Position] | None = None
        self._keyed: set[str] = set()
        self._pending: list[DataFrame] = []

    def _load(self, spark: SparkSession) -> dict[str, Position]:
        if self._floors is None:
            spark.sql(f"CREATE TABLE IF NOT EXISTS {self.table} ({COLUMNS}) USING iceberg PARTITIONED BY (mirror) "
                      + tblproperties(COMMON_PROPERTIES))
            rows = spark.sql(
                f"SELECT mirror, max(struct(commit_lsn, lsn)) FILTER (WHERE key IS NULL) AS floor, "
                f"count_if(key IS NOT NULL) > 0 AS keyed FROM {self.table} GROUP BY mirror").collect()
            self._floors = {r.mirror: (r.floor.commit_lsn, r.floor.lsn) for r in rows if r.floor}
            self._keyed = {r.mirror for r in rows if r.keyed}
        return self._floors

    def floor(self, spark: SparkSession, mirror: str) -> Position | None:
        return self._load(spark).get(mirror)

    def raise_floor(self, spark: SparkSession, mirror: str, position: Position, cause: str) -> None:
        """Nothing at or before `position` counts for `mirror` any more (appended with the batch's markers)."""
        floors = self._load(spark)
        if mirror in floors and floors[mirror] >= position:
            return
        floors[mirror] = position
        self._pending.append(spark.createDataFrame(
            [(mirror, None, position[0], position[1], cause)],
            "mirror string, key string, commit_lsn bigint, lsn bigint, cause string",
        ).select("mirror", "key", "commit_lsn", "lsn", F.current_timestamp().alias("deleted_at"), "cause"))

    def add_deletes(self, spark: SparkSession, mirror: str, deletes: DataFrame) -> None:
        """Key markers for `deletes` (columns key, commit_lsn, lsn, deleted_at), appended with the batch's markers."""
        self._load(spark)
        self._keyed.add(mirror)
        self._pending.append(deletes.select(F.lit(mirror).alias("mirror"), "key", "commit_lsn", "lsn", "deleted_at",
                                            F.lit("delete").alias("cause")))

    def blocking(self, spark: SparkSession, mirror: str, since: Position) -> DataFrame | None:
        """The latest marker per key of `mirror` at or after `since` (key, m_commit_lsn, m_lsn); None if none can be.

        Files of older markers are pruned by their commit_lsn bounds, so this reads recent markers only.
        """
        self._load(spark)
        if mirror not in self._keyed:
            return None
        latest = (spark.table(self.table)
                  .where((F.col("mirror") == mirror) & F.col("key").isNotNull() & (F.col("commit_lsn") >= since[0]))
                  .groupBy("key").agg(F.max(F.struct("commit_lsn", "lsn")).alias("m")))
        return latest.select("key", F.col("m.commit_lsn").alias("m_commit_lsn"), F.col("m.lsn").alias("m_lsn"))

    def flush(self, spark: SparkSession) -> int:
        """Append the batch's markers in one commit; how many."""
        if not self._pending:
            return 0
        rows = self._pending[0]
        for more in self._pending[1:]:
            rows = rows.unionByName(more)
        rows = rows.persist()
        try:
            count = rows.count()
            if count:
                rows.writeTo(self.table).append()
            return count
        finally:
            rows.unpersist()
            self._pending.clear()

    def discard_pending(self) -> None:
        self._pending.clear()

    def forget(self, spark: SparkSession, mirror: str) -> None:
        """Remove every marker of `mirror` (before rebuilding it from the change log, which recreates them)."""
        self._load(spark)
        spark.sql(f"DELETE FROM {self.table} WHERE mirror = '{mirror}'")
        self._floors.pop(mirror, None)
        self._keyed.discard(mirror)
