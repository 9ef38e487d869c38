"""Rows of either side made comparable: each value in one spelling whichever side it came from, a row's digest, and
the bucket of its key (the same on both sides, so that buckets can be compared without the rows)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from hashlib import blake2b

from stack.lakecheck import comparable

BUCKETS = 256
# source types whose values the lake keeps as JSON text (glue.columns): compared as parsed JSON
JSON_TYPES = {"json", "jsonb", "ARRAY"}


@dataclass(frozen=True)
class Layout:
    """A mirror's columns as the source has them: their order, which hold JSON in the lake, and the key."""
    columns: tuple[str, ...]
    json_columns: frozenset[str]
    key: tuple[str, ...]


def source_value(value, is_json: bool):
    if is_json:
        return None if value is None else json.dumps(value, sort_keys=True, default=str)
    return comparable(value)


def lake_value(value, is_json: bool):
    if is_json:
        return None if value is None else json.dumps(json.loads(value), sort_keys=True, default=str)
    return comparable(value)


def normalized(row: dict, layout: Layout, side: str) -> tuple[tuple, list]:
    """(key, values in the layout's column order) of a row as read from `side` ("source" or "lake")."""
    convert = source_value if side == "source" else lake_value
    values = {c: convert(row.get(c), c in layout.json_columns) for c in layout.columns}
    return tuple(values[k] for k in layout.key), [values[c] for c in layout.columns]


def _hash(value) -> int:
    text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
    return int.from_bytes(blake2b(text.encode(), digest_size=8).digest(), "big")


def digest(values: list) -> int:
    return _hash(values)


def bucket(key: tuple) -> int:
    return _hash(list(key)) % BUCKETS


def aggregate(rows: Iterable[tuple[tuple, int]]) -> dict[int, tuple[int, int]]:
    """{bucket: (rows, sum of their digests mod 2**64)}: equal for two sides holding the same rows in any order."""
    found: dict[int, tuple[int, int]] = {}
    for key, row_digest in rows:
        count, total = found.get(bucket(key), (0, 0))
        found[bucket(key)] = (count + 1, (total + row_digest) % 2**64)
    return found
