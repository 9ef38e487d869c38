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

import functools
from collections.abc import Sequence
from datetime import UTC, datetime

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from glue.bookkeeping import MARKERS_TABLE
from glue.sqlnames import COMMON_PROPERTIES, q, tblproperties

TABLE = MARKERS_TABLE
COLUMNS = "mirror string, key string, commit_lsn bigint, lsn bigint, deleted_at timestamp, cause string"
Position = tuple[int, int]


def key_json(key_cols: Sequence[str]) -> Column:
    """A typed key as the text markers store it (the same text for the same key whatever the batch)."""
    return _key_json(tuple(key_cols))


@functools.lru_cache(maxsize=256)
def _key_json(key_cols: tuple[str, ...]) -> Column:
    return F.to_json(F.struct(*[F.col(q(k)).alias(k) for k in key_cols]))


def newer(commit_lsn: Column, lsn: Column, than: tuple[int | Column, int | Column]) -> Column:
    """The place (commit_lsn, lsn) comes after `than` in commit order."""
    than_commit, than_lsn = (F.lit(x) if not isinstance(x, Column) else x for x in than)
    return (commit_lsn > than_commit) | ((commit_lsn == than_commit) & (lsn > than_lsn))


class Markers:
    """The markers table, what this process knows of it (floors, each mirror's latest delete), and the markers of the
    batch being written, appended in one commit at its end (flush)."""

    def __init__(self, table: str):
        self.table = table
        self._floors: dict[str, Position] | None = None
        self._last: dict[str, Position] = {}  # the place of each mirror's latest key marker
        self._rows: list[tuple] = []  # this batch's markers, from the driver (COLUMNS)
        self._frames: list[DataFrame] = []  # and from a bulk MERGE's deletes

    def _load(self, spark: SparkSession) -> dict[str, Position]:
        return self._floors if self._floors is not None else self._read(spark)

    def _read(self, spark: SparkSession) -> dict[str, Position]:
        spark.sql(f"CREATE TABLE IF NOT EXISTS {self.table} ({COLUMNS}) USING iceberg PARTITIONED BY (mirror) "
                  + tblproperties(COMMON_PROPERTIES))
        rows = spark.sql(
            f"SELECT mirror, max(struct(commit_lsn, lsn)) FILTER (WHERE key IS NULL) AS floor, "
            f"max(struct(commit_lsn, lsn)) FILTER (WHERE key IS NOT NULL) AS last "
            f"FROM {self.table} GROUP BY mirror").collect()
        self._floors = {r.mirror: (r.floor.commit_lsn, r.floor.lsn) for r in rows if r.floor}
        self._last = {r.mirror: (r["last"].commit_lsn, r["last"].lsn) for r in rows if r["last"]}
        return self._floors

    def floor(self, spark: SparkSession, mirror: str) -> Position | None:
        return self._load(spark).get(mirror)

    def last_delete(self, spark: SparkSession, mirror: str) -> Position | None:
        """The place of the latest delete marker of `mirror`: no event after it can be older than a marker."""
        self._load(spark)
        return self._last.get(mirror)

    def raise_floor(self, spark: SparkSession, mirror: str, position: Position, cause: str) -> None:
        """Nothing at or before `position` counts for `mirror` any more (appended with the batch's markers)."""
        floors = self._load(spark)
        if mirror in floors and floors[mirror] >= position:
            return
        floors[mirror] = position
        self._rows.append((mirror, None, position[0], position[1], datetime.now(UTC), cause))

    def _deleted(self, mirror: str, last: Position | None) -> None:
        if last is not None:
            self._last[mirror] = max(self._last.get(mirror, last), last)

    def add_deletes(self, spark: SparkSession, mirror: str, deletes: DataFrame) -> None:
        """Key markers for `deletes` (columns key, commit_lsn, lsn, deleted_at: a bulk MERGE's)."""
        self._load(spark)
        last = deletes.agg(F.max(F.struct("commit_lsn", "lsn"))).first()[0]
        self._deleted(mirror, last and (last.commit_lsn, last.lsn))
        self._frames.append(deletes.select(F.lit(mirror).alias("mirror"), "key", "commit_lsn", "lsn", "deleted_at",
                                           F.lit("delete").alias("cause")))

    def add_delete_rows(self, spark: SparkSession, mirror: str, deletes: list[tuple]) -> None:
        """Key markers for `deletes`, (key, commit_lsn, lsn, deleted_at) each."""
        self._load(spark)
        self._deleted(mirror, max(((c, lsn) for _, c, lsn, _ in deletes), default=None))
        self._rows.extend((mirror, key, c, lsn, at, "delete") for key, c, lsn, at in deletes)

    def latest(self, spark: SparkSession, mirror: str, keys: list[str]) -> dict[str, Position]:
        """The place of the latest marker of each of `keys` (key_json texts) that has one."""
        self._load(spark)
        if mirror not in self._last or not keys:
            return {}
        rows = (spark.table(self.table)
                .where((F.col("mirror") == mirror) & F.col("key").isin(keys))
                .groupBy("key").agg(F.max(F.struct("commit_lsn", "lsn")).alias("m")).collect())
        found = {r.key: (r.m.commit_lsn, r.m.lsn) for r in rows}
        wanted = set(keys)
        for m, key, c, lsn, _, _ in self._rows:
            if m == mirror and key in wanted:
                found[key] = max(found.get(key, (c, lsn)), (c, lsn))
        return found

    def blocking(self, spark: SparkSession, mirror: str, since: Position) -> DataFrame | None:
        """The latest marker per key of `mirror` at or after `since` (key, m_commit_lsn, m_lsn); None if none can be.

        Files of older markers are pruned by their commit_lsn bounds, so this reads recent markers only.
        """
        self._load(spark)
        if mirror not in self._last:
            return None
        latest = (spark.table(self.table)
                  .where((F.col("mirror") == mirror) & F.col("key").isNotNull() & (F.col("commit_lsn") >= since[0]))
                  .groupBy("key").agg(F.max(F.struct("commit_lsn", "lsn")).alias("m")))
        return latest.select("key", F.col("m.commit_lsn").alias("m_commit_lsn"), F.col("m.lsn").alias("m_lsn"))

    def flush(self, spark: SparkSession) -> int:
        """Append the batch's markers in one commit; how many."""
        frames = self._frames + ([spark.createDataFrame(self._rows, COLUMNS)] if self._rows else [])
        if not frames:
            return 0
        rows = frames[0]
        for more in frames[1:]:
            rows = rows.unionByName(more)
        try:
            if self._frames:  # counted before the append reads them again
                rows = rows.persist()
            count = rows.count() if self._frames else len(self._rows)
            if count:
                rows.writeTo(self.table).append()
            return count
        finally:
            rows.unpersist()
            self._rows.clear()
            self._frames.clear()

    def forget(self, spark: SparkSession, mirror: str) -> None:
        """Remove every marker of `mirror` (before rebuilding it from the change log, which recreates them)."""
        self._load(spark)
        spark.sql(f"DELETE FROM {self.table} WHERE mirror = '{mirror}'")
        self._floors.pop(mirror, None)
        self._last.pop(mirror, None)
