"""A mirror's share of a batch as one Iceberg commit of new rows and position deletes (a RowDelta), written without
reading the table.

The rows are in the driver already (glue.keyed decided them), so this writes them itself: pyarrow turns each into a
Parquet file carrying the table's field ids, the table's own FileIO stores it (S3FileIO on S3 and the local object
store, Hadoop's for the tests' local files), Iceberg reads its footer for the file's metrics, and one RowDelta
commits both files. The commit is refused when a data file it deletes from is gone (a compaction replaced it since
the batch looked); the batch then plans again (glue.job).
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import SparkSession

from glue.jvm import java_class

# Iceberg's reserved field ids of a position delete file's columns
FILE_PATH_ID, POS_ID = 2147483546, 2147483545
PRIMITIVES = {
    "boolean": pa.bool_(), "int": pa.int32(), "long": pa.int64(), "float": pa.float32(), "double": pa.float64(),
    "date": pa.date32(), "time": pa.time64("us"), "timestamp": pa.timestamp("us"),
    "timestamptz": pa.timestamp("us", tz="UTC"), "string": pa.string(), "binary": pa.binary(),
}
DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")


def _field_id(field_id: int) -> dict[bytes, bytes]:
    return {b"PARQUET:field_id": str(field_id).encode()}


def arrow_type(iceberg_type: object) -> pa.DataType:
    """The Arrow type of a column of an Iceberg type (as Iceberg's schema JSON spells it)."""
    if isinstance(iceberg_type, str):
        if iceberg_type in PRIMITIVES:
            return PRIMITIVES[iceberg_type]
        decimal = DECIMAL.fullmatch(iceberg_type)
        if decimal:
            return pa.decimal128(int(decimal[1]), int(decimal[2]))
    raise ValueError(f"column type {iceberg_type} is not one the job writes")


def arrow_schema(schema_json: str) -> pa.Schema:
    """An Iceberg schema (its JSON) as an Arrow schema whose fields carry the Iceberg field ids."""
    fields = json.loads(schema_json)["fields"]
    return pa.schema([pa.field(f["name"], arrow_type(f["type"]), nullable=not f["required"],
                               metadata=_field_id(f["id"])) for f in fields])


POSITION_DELETES = pa.schema([
    pa.field("file_path", pa.string(), nullable=False, metadata=_field_id(FILE_PATH_ID)),
    pa.field("pos", pa.int64(), nullable=False, metadata=_field_id(POS_ID)),
])


def parquet_bytes(rows: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(rows, buffer, compression="zstd")
    return buffer.getvalue()


@dataclass(frozen=True)
class Replaced:
    """A snapshot another writer committed: its operation and, for a compaction, the data files it replaced."""

    snapshot_id: int
    operation: str
    removed: list[str]
    added: list[str]


class IcebergTable:
    """One table through Iceberg's Java API (the Spark catalog's own instance of it, so Spark sees every commit)."""

    def __init__(self, spark: SparkSession, name: str):
        self.spark, self.name = spark, name
        self.table = self._java("spark.Spark3Util").loadIcebergTable(spark._jsparkSession, name)

    def _java(self, name: str):
        """A class of Iceberg's (org.apache.iceberg.<name>)."""
        return java_class(self.spark, f"org.apache.iceberg.{name}")

    def refresh(self) -> IcebergTable:
        self.table.refresh()
        return self

    @property
    def uuid(self) -> str:
        return self.table.uuid().toString()

    def snapshot_id(self) -> int | None:
        current = self.table.currentSnapshot()
        return None if current is None else current.snapshotId()

    def arrow_schema(self) -> pa.Schema:
        return arrow_schema(self._java("SchemaParser").toJson(self.table.schema()))

    def snapshots_after(self, snapshot_id: int | None) -> list[Replaced] | None:
        """The snapshots committed after `snapshot_id`, oldest first; None when it is no longer an ancestor of the
        current one (expired, or the table is another one now)."""
        chain, current = [], self.snapshot_id()
        while current != snapshot_id:
            snapshot = None if current is None else self.table.snapshot(current)
            if snapshot is None:
                return None
            chain.append(self._replaced(snapshot))
            current = snapshot.parentId()
        return chain[::-1]

    def _replaced(self, snapshot) -> Replaced:
        removed, added = [], []
        if snapshot.operation() == "replace":
            io_ = self.table.io()
            removed = [f.location() for f in _each(snapshot.removedDataFiles(io_))]
            added = [f.location() for f in _each(snapshot.addedDataFiles(io_))]
        return Replaced(snapshot.snapshotId(), snapshot.operation(), removed, added)

    def _store(self, rows: pa.Table, kind: str) -> tuple[str, int]:
        """Write `rows` as a new Parquet file in the table's data location; its path and size."""
        path = self.table.locationProvider().newDataLocation(f"{kind}-{uuid.uuid4()}.parquet")
        data = parquet_bytes(rows)
        out = self.table.io().newOutputFile(path).createOrOverwrite()
        try:
            out.write(bytearray(data))
        finally:
            out.close()
        return path, len(data)

    def _metrics(self, path: str, size: int, config):
        """The file's metrics (row count, column sizes and bounds), from its footer."""
        return self._java("parquet.ParquetUtil").fileMetrics(self.table.io().newInputFile(path, size), config)

    def commit(self, rows: pa.Table | None, deletes: pa.Table | None, base: int | None,
               properties: dict[str, str]) -> tuple[int, str | None]:
        """Commit new rows (in the table's schema) and position deletes (file_path, pos) in one snapshot, refused if
        a data file the deletes name is gone; (the new snapshot's id, the new data file's path)."""
        spec, parquet = self.table.spec(), self._java("FileFormat").PARQUET
        delta = self.table.newRowDelta()
        data_path = None
        if rows is not None and rows.num_rows:
            data_path, size = self._store(rows, "rows")
            delta.addRows(self._java("DataFiles").builder(spec).withPath(data_path).withFormat(parquet)
                          .withFileSizeInBytes(size)
                          .withMetrics(self._metrics(data_path, size, self._java("MetricsConfig").forTable(self.table)))
                          .build())
        if deletes is not None and deletes.num_rows:
            deletes = deletes.sort_by([("file_path", "ascending"), ("pos", "ascending")]).cast(POSITION_DELETES)
            path, size = self._store(deletes, "deletes")
            delta.addDeletes(self._java("FileMetadata").deleteFileBuilder(spec).ofPositionDeletes().withPath(path)
                             .withFormat(parquet).withFileSizeInBytes(size)
                             .withMetrics(self._metrics(path, size,
                                                        self._java("MetricsConfig").forPositionDelete(self.table)))
                             .build())
            referenced = java_class(self.spark, "java.util.ArrayList")()
            for file_path in deletes.column("file_path").unique().to_pylist():
                referenced.add(file_path)
            delta.validateDataFilesExist(referenced)
        if base is not None:
            delta.validateFromSnapshot(base)
        for key, value in properties.items():
            delta.set(key, value)
        delta.commit()
        return self.snapshot_id(), data_path


def _each(iterable) -> Iterator:
    """The items of a Java Iterable."""
    it = iterable.iterator()
    while it.hasNext():
        yield it.next()
