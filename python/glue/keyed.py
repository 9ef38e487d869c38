"""A micro-batch's net changes applied to a mirror through its key index, without reading the mirror.

For each net change (one per key, glue.merge.net_changes) the index (glue.keyindex) says whether a live row has the
key, where it is, and its place in commit order. The rules are the MERGE's (glue.merge):
- an event not after the stored row's place changes nothing (a replay, a re-send);
- a newer delete, and a newer upsert of a stored key, delete the stored row by its position;
- a newer upsert writes the row; a column it carries no value for (a TOAST placeholder, an older schema version), and
  a column of the mirror the events do not have, keep the stored row's value, read from the mirror for those keys
  only; a new key has NULL there, as the MERGE's INSERT.
The new rows and the position deletes are one commit (glue.rowdelta), and the index follows it. So a batch costs
about its own size, whatever the mirror's.

The index describes one snapshot of the mirror. Before each batch it catches up with what others committed since: a
compaction moved the rows of the files it removed into those it added, which are read (only they); anything else (a
TRUNCATE's DELETE, a bulk MERGE, a column rewrite, the table created again) rebuilds it from the mirror, as at start.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from glue.bookkeeping import COMMIT_LSN, LSN, OP
from glue.keyindex import FIELDS, KeyIndex
from glue.markers import Markers, Position
from glue.rowdelta import IcebergTable, Replaced
from glue.rows import keep_flag
from glue.sqlnames import q

log = logging.getLogger(__name__)

H1, H2 = "__h1", "__h2"
NO_PLACE = -1  # a row stored before places were kept: any event is newer


def hashes(key_cols: Sequence[str]) -> tuple[Column, Column]:
    """The two hashes a key is known by in the index, of its typed columns."""
    return _hashes(tuple(key_cols))


@functools.lru_cache(maxsize=256)
def _hashes(key_cols: tuple[str, ...]) -> tuple[Column, Column]:
    cols = [F.col(q(k)) for k in key_cols]
    return F.xxhash64(*cols).alias(H1), F.hash(*cols).alias(H2)


def collect_arrow(frame: DataFrame) -> pa.Table:
    from pyspark.sql.pandas.types import to_arrow_schema

    batches = frame._collect_as_arrow()
    return pa.Table.from_batches(batches) if batches else to_arrow_schema(frame.schema).empty_table()


def tuples(rows: pa.Table) -> list[tuple]:
    return list(zip(*[c.to_pylist() for c in rows.columns], strict=True))


def to_frame(spark: SparkSession, rows: pa.Table, schema: str) -> DataFrame:
    """A few rows from the driver as a DataFrame (`schema`: its DDL, in the order of `rows`' columns)."""
    return spark.createDataFrame(tuples(rows), schema)


def _index_columns(rows: pa.Table, file_ids: np.ndarray, positions: np.ndarray) -> dict[str, np.ndarray]:
    place = {name: pc.fill_null(rows.column(name), NO_PLACE).to_numpy() for name in (COMMIT_LSN, LSN)}
    return {"h1": rows.column(H1).to_numpy(), "h2": rows.column(H2).to_numpy(), "file": file_ids, "pos": positions,
            "commit_lsn": place[COMMIT_LSN], "lsn": place[LSN]}


def newer(commit_lsn: np.ndarray, lsn: np.ndarray, than_commit: np.ndarray, than_lsn: np.ndarray) -> np.ndarray:
    return (commit_lsn > than_commit) | ((commit_lsn == than_commit) & (lsn > than_lsn))


def latest_place(commit_lsn: np.ndarray, lsn: np.ndarray) -> Position | None:
    if not len(commit_lsn):
        return None
    last = commit_lsn.max()
    return int(last), int(lsn[commit_lsn == last].max())


class KeyedMirrors:
    """The key indexes of the mirrors this job writes (it is their only writer), and batches applied through them.

    markers: the delete markers, which an event of a key the mirror does not hold is checked against when it is
    not after everything applied already (a re-send, another partition's older event).
    """

    def __init__(self, markers: Markers):
        self.markers = markers
        self.indexes: dict[str, tuple[str, KeyIndex]] = {}  # mirror -> (the table's uuid, its index)

    def forget(self, mirror: str) -> None:
        """Drop a mirror's index (after a failure, when its state is unknown): the next batch builds it again."""
        self.indexes.pop(mirror, None)

    @staticmethod
    def collect(source: DataFrame, key_cols: Sequence[str]) -> pa.Table:
        """A table's net changes (glue.merge.net_changes' columns) in the driver, with their keys' hashes."""
        return collect_arrow(source.select(*[q(c) for c in source.columns], *hashes(key_cols)))

    def write(self, spark: SparkSession, table_name: str, mirror: str, batch: pa.Table, key_cols: Sequence[str],
              data_cols: Sequence[str]) -> None:
        """Apply collected net changes to the mirror table `table_name`, in one commit."""
        table = IcebergTable(spark, table_name).refresh()
        index = self._index(spark, table, mirror, key_cols)
        found = index.lookup(batch.column(H1).to_numpy(), batch.column(H2).to_numpy())
        commit_lsn, lsn = batch.column(COMMIT_LSN).to_numpy(), batch.column(LSN).to_numpy()
        applies = ~found.hit | newer(commit_lsn, lsn, found.commit_lsn, found.lsn)
        applies &= ~self._deleted_later(spark, mirror, index, batch, found.hit)
        index.high_water = max(filter(None, [index.high_water, latest_place(commit_lsn, lsn)]), default=None)
        upserts = applies & pc.not_equal(batch.column(OP), "d").to_numpy()
        replaced = applies & found.hit
        if not (upserts.any() or replaced.any()):
            return
        rows = self._rows(spark, table_name, key_cols, data_cols, table.arrow_schema(), batch, upserts, found.hit)
        deletes = pa.table({"file_path": pa.array(index.paths(found.file[replaced]), pa.string()),
                            "pos": pa.array(found.pos[replaced], pa.int64())})
        try:
            snapshot, data_path = table.commit(rows, deletes, index.snapshot_id, {})
        except Exception:
            self.forget(mirror)  # committed or not: the next batch finds out from the table
            raise
        index.remove(found, replaced)
        if data_path:
            written = batch.filter(pa.array(upserts))
            index.add(_index_columns(written, np.full(written.num_rows, index.file_id(data_path), np.int32),
                                     np.arange(written.num_rows, dtype=np.int32)))
        self._catch_up(spark, table, mirror, key_cols, index, own=snapshot)

    def _deleted_later(self, spark: SparkSession, mirror: str, index: KeyIndex, batch: pa.Table,
                       stored: np.ndarray) -> np.ndarray:
        """Which events of keys the mirror does not hold come before the key's latest delete marker (a re-sent
        insert after its delete). Only events not after the high water can; they alone are looked up."""
        commit_lsn, lsn = batch.column(COMMIT_LSN).to_numpy(), batch.column(LSN).to_numpy()
        maybe = ~stored
        if index.high_water is not None:
            maybe &= ~newer(commit_lsn, lsn, *index.high_water)
        if not maybe.any():
            return maybe
        keys = batch.column("__key").to_numpy()
        marked = self.markers.latest(spark, mirror, sorted(set(keys[maybe])))
        return maybe & np.array([k in marked and not newer(c, ln, *marked[k])
                                 for k, c, ln in zip(keys, commit_lsn, lsn, strict=True)], dtype=bool)

    # ---- the index --------------------------------------------------------------------------------------------

    def _index(self, spark: SparkSession, table: IcebergTable, mirror: str, key_cols: Sequence[str]) -> KeyIndex:
        uuid, index = self.indexes.get(mirror, (None, None))
        if index is None or uuid != table.uuid:
            return self._build(spark, table, mirror, key_cols)
        return self._catch_up(spark, table, mirror, key_cols, index)

    def _catch_up(self, spark: SparkSession, table: IcebergTable, mirror: str, key_cols: Sequence[str],
                  index: KeyIndex, own: int | None = None) -> KeyIndex:
        """The index after the snapshots committed since it was made (`own`: the one it already holds)."""
        chain = table.snapshots_after(index.snapshot_id)
        if chain is None:
            return self._build(spark, table, mirror, key_cols)
        for snapshot in chain:
            if snapshot.snapshot_id == own:
                continue
            if snapshot.operation != "replace":
                log.info("%s: a %s committed by another writer: building the key index again", mirror,
                         snapshot.operation)
                return self._build(spark, table, mirror, key_cols)
            self._moved(spark, table, key_cols, index, snapshot)
        index.snapshot_id = table.snapshot_id()
        return index

    def _build(self, spark: SparkSession, table: IcebergTable, mirror: str, key_cols: Sequence[str]) -> KeyIndex:
        """The index of every live row of the mirror's current snapshot."""
        started = time.monotonic()
        snapshot = table.snapshot_id()
        files, rows = [], None
        if snapshot is not None:
            at = f"{table.name} VERSION AS OF {snapshot}"
            files = [r.file_path for r in spark.sql(f"SELECT file_path FROM {table.name}.data_files "
                                                    f"VERSION AS OF {snapshot}").collect()]
            ids = spark.createDataFrame(list(enumerate(files)), "__file_id int, _file string")
            rows = collect_arrow(
                spark.sql(f"SELECT *, _file, _pos FROM {at}")
                .select(*hashes(key_cols), COMMIT_LSN, LSN, "_file", F.col("_pos").cast("int").alias("_pos"))
                .join(F.broadcast(ids), "_file").drop("_file"))
        columns = (_index_columns(rows, rows.column("__file_id").to_numpy(), rows.column("_pos").to_numpy())
                   if rows is not None else {name: np.zeros(0, dtype) for name, dtype in FIELDS})
        high_water = max(filter(None, [latest_place(columns["commit_lsn"], columns["lsn"]),
                                       self.markers.last_delete(spark, mirror)]), default=None)
        index = KeyIndex(files, columns, snapshot, high_water)
        self.indexes[mirror] = (table.uuid, index)
        log.info("%s: key index of %d rows in %d files built (%.1fs)", mirror, index.size, len(files),
                 time.monotonic() - started)
        return index

    def _moved(self, spark: SparkSession, table: IcebergTable, key_cols: Sequence[str], index: KeyIndex,
               snapshot: Replaced) -> None:
        """A compaction's replaced files: their rows are now at their positions in the files it added."""
        index.forget_files(snapshot.removed)
        if not snapshot.added:
            return
        frames = [spark.read.parquet(path).select(*hashes(key_cols), COMMIT_LSN, LSN,
                                                  F.col("_metadata.row_index").cast("int").alias("_pos"),
                                                  F.lit(index.file_id(path)).alias("__file_id"))
                  for path in snapshot.added]
        moved = frames[0]
        for frame in frames[1:]:
            moved = moved.unionByName(frame)
        rows = collect_arrow(moved)
        index.add(_index_columns(rows, rows.column("__file_id").to_numpy(), rows.column("_pos").to_numpy()))

    # ---- the rows to write ------------------------------------------------------------------------------------

    def _rows(self, spark: SparkSession, table_name: str, key_cols: Sequence[str], data_cols: Sequence[str],
              schema: pa.Schema, batch: pa.Table, upserts: np.ndarray, stored_key: np.ndarray) -> pa.Table | None:
        """The rows the batch writes, in the table's schema: the upserts, with the values they keep."""
        if not upserts.any():
            return None
        rows = batch.filter(pa.array(upserts))
        stored_key = pa.array(stored_key[upserts])
        kept = {c: pc.and_(rows.column(keep_flag(c)), stored_key) for c in data_cols}
        absent = [f.name for f in schema if f.name not in rows.column_names]
        keeps = any(pc.any(k).as_py() for k in kept.values()) or (absent and pc.any(stored_key).as_py())
        stored = self._stored(spark, table_name, key_cols, rows, stored_key) if keeps else None
        columns = []
        for field in schema:
            if field.name in rows.column_names:
                value = rows.column(field.name).cast(field.type)
                if stored is not None and field.name in kept:
                    value = pc.if_else(kept[field.name], stored.column(field.name).cast(field.type), value)
            elif stored is not None:
                value = pc.if_else(stored_key, stored.column(field.name).cast(field.type),
                                   pa.nulls(rows.num_rows, field.type))
            else:
                value = pa.nulls(rows.num_rows, field.type)
            columns.append(value)
        return pa.Table.from_arrays(columns, schema=schema)

    def _stored(self, spark: SparkSession, table_name: str, key_cols: Sequence[str], rows: pa.Table,
                stored_key: pa.Array) -> pa.Table:
        """The stored row of each of `rows` whose key the index holds (NULLs for the others), in their order. Reads
        the mirror: only for the values a batch keeps, which few batches have."""
        wanted = rows.select([H1, H2]).filter(stored_key)
        stored = collect_arrow(spark.table(table_name).select("*", *hashes(key_cols))
                               .join(F.broadcast(to_frame(spark, wanted, f"{H1} bigint, {H2} int")), [H1, H2],
                                     "left_semi"))
        if stored.num_rows != len(wanted):
            raise RuntimeError(f"{table_name}: the key index holds {len(wanted)} of these keys, the table "
                               f"{stored.num_rows}: the index is out of step with the table")
        order = rows.select([H1, H2]).append_column("__row", pa.array(np.arange(rows.num_rows)))
        return order.join(stored, [H1, H2], join_type="left outer").sort_by("__row")
