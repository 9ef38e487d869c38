"""A table's row count, last commit and freshness from its metadata: the manifests' per-file record counts and column
bounds, and its position-delete files (small) read in full. No data file is read, so a table of millions of rows is
summarised as fast as a small one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow.parquet as pq
from pyiceberg.conversions import from_bytes
from pyiceberg.manifest import DataFileContent
from pyiceberg.table import Table

from glue.bookkeeping import OP_TS  # each row's source commit time of its last change


@dataclass(frozen=True)
class Summary:
    rows: int
    committed_at: datetime | None  # the current snapshot's time; None for a table never written
    newest_change: datetime | None  # the newest source commit time among the rows, when the table records one


def summarize(table: Table) -> Summary:
    snapshot = table.current_snapshot()
    if snapshot is None:
        return Summary(0, None, None)
    tasks = list(table.scan().plan_files())
    deletes = {d.file_path: d for task in tasks for d in task.delete_files}
    if any(d.content == DataFileContent.EQUALITY_DELETES for d in deletes.values()):
        rows = table.scan().to_arrow().num_rows  # which rows an equality delete removes takes the data to tell
    else:
        rows = sum(task.file.record_count for task in tasks) - _deleted_positions(table, tasks, deletes)
    return Summary(rows, _time(snapshot.timestamp_ms * 1000), _newest_change(table, tasks))


def _deleted_positions(table: Table, tasks, deletes) -> int:
    """How many rows of the live data files the position deletes remove (a delete naming a file that compaction has
    replaced removes nothing; the same position named twice counts once)."""
    live = {task.file.file_path for task in tasks}
    removed: set[tuple[str, int]] = set()
    for path in deletes:
        with table.io.new_input(path).open() as handle:
            named = pq.read_table(handle, columns=["file_path", "pos"]).to_pydict()
        removed.update((f, p) for f, p in zip(named["file_path"], named["pos"], strict=True) if f in live)
    return len(removed)


def _newest_change(table: Table, tasks) -> datetime | None:
    field = next((f for f in table.schema().fields if f.name == OP_TS), None)
    if field is None:
        return None
    bounds = [task.file.upper_bounds.get(field.field_id) for task in tasks]
    micros = [from_bytes(field.field_type, b) for b in bounds if b is not None]
    return _time(max(micros)) if micros else None


def _time(micros: int) -> datetime:
    return datetime.fromtimestamp(micros / 1_000_000, UTC)
