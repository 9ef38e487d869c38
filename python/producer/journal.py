"""The journal: one JSON line per committed change, what the tests compare the change events with."""

import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO


@dataclass(frozen=True)
class Change:
    """One row changed by a transaction, with the row as the database returned it (None for a delete)."""

    table: str
    op: str                     # c, u or d, as in Debezium's envelope
    key: dict[str, Any]
    row: dict[str, Any] | None


def json_value(value: Any) -> Any:
    """A column value as JSON: numeric as an exact decimal string, timestamps as ISO-8601 in UTC."""
    if isinstance(value, Decimal):
        # format "f" keeps the stored scale ("12.50") and never switches to exponent notation.
        return format(value, "f")
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.isoformat(timespec="microseconds")
        return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value  # int, str, bool, None, and jsonb already decoded to dict/list by psycopg2


def entry(change: Change, txid: int, seq: int) -> dict[str, Any]:
    row = None if change.row is None else {column: json_value(v) for column, v in change.row.items()}
    return {"table": change.table, "op": change.op, "key": change.key, "row": row, "txid": txid, "seq": seq}


def last_seq(path: Path) -> int:
    """The seq of a journal's last line, so an appended run continues the count; 0 for a new journal."""
    if not path.exists():
        return 0
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        end = handle.tell()
        block = b""
        position = end
        # Read backwards until the block holds a whole last line.
        while position > 0 and block.rstrip(b"\n").count(b"\n") == 0:
            step = min(65536, position)
            position -= step
            handle.seek(position)
            block = handle.read(step) + block
    lines = [line for line in block.splitlines() if line.strip()]
    if not lines:
        return 0
    try:
        return int(json.loads(lines[-1])["seq"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: the last line is not a journal entry ({error}); use a new journal file") from error


class Journal:
    """Appends committed transactions to a JSON-lines file, flushed after each one."""

    def __init__(self, path: Path):
        self.path = path
        self.seq = last_seq(path)
        self._handle: TextIO = path.open("a", encoding="utf-8")

    def write(self, txid: int, changes: list[Change]) -> None:
        lines = []
        for change in changes:
            self.seq += 1
            lines.append(json.dumps(entry(change, txid, self.seq), ensure_ascii=False) + "\n")
        self._handle.write("".join(lines))
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> "Journal":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
