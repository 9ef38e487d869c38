"""Column types of a change event's row image, from the Kafka Connect schema Debezium embeds in each message.

Pure Python (no Spark): the schema is JSON, the result is a list of `ColumnSpec`s that say which Spark SQL type
a column gets and how its JSON text becomes that type (glue.rows applies them).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from dataclasses import dataclass

# How a column's JSON text becomes its Spark type (glue.rows.convert_expr implements each).
CAST = "cast"
DATE_DAYS = "date_days"  # int: days since 1970-01-01
TIMESTAMP_MILLIS = "timestamp_millis"  # int: ms since epoch, wall-clock time without zone
TIMESTAMP_MICROS = "timestamp_micros"
TIMESTAMP_NANOS = "timestamp_nanos"
ZONED_TIMESTAMP = "zoned_timestamp"  # ISO-8601 string with offset, e.g. 2026-11-27T02:10:21.277747Z
BASE64 = "base64"
# numeric(p,s) sent as a decimal string (decimal.handling.mode=string), which may also be NAN, POSITIVE_INFINITY or
# NEGATIVE_INFINITY: no decimal holds those, so they make the mirror's column text (glue.schema)
NUMERIC = "numeric"
# an unconstrained numeric, kept as PostgreSQL's own text ('NaN', 'Infinity' rather than Debezium's names)
NUMERIC_TEXT = "numeric_text"
NUMERIC_SPECIALS = {"NAN": "NaN", "POSITIVE_INFINITY": "Infinity", "NEGATIVE_INFINITY": "-Infinity"}

# Debezium's stand-in for a TOASTed value an UPDATE did not change (PostgreSQL does not log it), as the JSON
# converter writes it for each type: the text itself, its bytes (base64 in JSON), a one-element array of it, the
# array of its bytes for integer arrays, the name-based UUID of its bytes for uuid arrays, {it: it} for hstore.
UNAVAILABLE = "__debezium_unavailable_value"
_UNAVAILABLE_BYTES = UNAVAILABLE.encode("ascii")
_UNAVAILABLE_TEXT = json.dumps(UNAVAILABLE)
_UNAVAILABLE_MAP = json.dumps({UNAVAILABLE: UNAVAILABLE}, separators=(",", ":"))
_UNAVAILABLE_UUID = str(uuid.UUID(bytes=hashlib.md5(_UNAVAILABLE_BYTES).digest(), version=3))
# what the placeholder looks like, in any of those forms, inside a row image's JSON text
PLACEHOLDER_TEXTS = (UNAVAILABLE, base64.b64encode(_UNAVAILABLE_BYTES).decode("ascii"),
                     ",".join(str(b) for b in _UNAVAILABLE_BYTES), _UNAVAILABLE_UUID)

# Logical types (the Connect schema's "name") that decide the column type regardless of the physical type.
_LOGICAL: dict[str, tuple[str, str]] = {
    "io.debezium.time.Date": ("date", DATE_DAYS),
    "org.apache.kafka.connect.data.Date": ("date", DATE_DAYS),
    "io.debezium.time.Timestamp": ("timestamp_ntz", TIMESTAMP_MILLIS),
    "org.apache.kafka.connect.data.Timestamp": ("timestamp_ntz", TIMESTAMP_MILLIS),
    "io.debezium.time.MicroTimestamp": ("timestamp_ntz", TIMESTAMP_MICROS),
    "io.debezium.time.NanoTimestamp": ("timestamp_ntz", TIMESTAMP_NANOS),
    "io.debezium.time.ZonedTimestamp": ("timestamp", ZONED_TIMESTAMP),
    "io.debezium.data.Json": ("string", CAST),
    "io.debezium.data.Uuid": ("string", CAST),
    "io.debezium.data.Xml": ("string", CAST),
    "io.debezium.data.Enum": ("string", CAST),
    "io.debezium.data.EnumSet": ("string", CAST),
    "io.debezium.time.ZonedTime": ("string", CAST),
    # a struct {scale, value}: kept as its JSON text rather than guessing a scale
    "io.debezium.data.VariableScaleDecimal": ("string", CAST),
}

_PHYSICAL: dict[str, tuple[str, str]] = {
    "boolean": ("boolean", CAST),
    # Iceberg has no 8- or 16-bit integers
    "int8": ("int", CAST),
    "int16": ("int", CAST),
    "int32": ("int", CAST),
    "int64": ("bigint", CAST),
    "float32": ("float", CAST),
    "float64": ("double", CAST),
    "string": ("string", CAST),
    "bytes": ("binary", BASE64),
    # arrays, maps and nested structs stay JSON text: the mirror is flat, the change log keeps the original
    "array": ("string", CAST),
    "map": ("string", CAST),
    "struct": ("string", CAST),
}

# Spark (and Iceberg) decimals hold at most 38 digits; a wider or unconstrained numeric stays exact as text.
MAX_DECIMAL_PRECISION = 38
_NUMERIC_SOURCE_TYPES = {"NUMERIC", "DECIMAL"}


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    sql_type: str  # Spark SQL type, as in DDL: "int", "decimal(12,2)", "timestamp"
    convert: str = CAST
    # the column's JSON texts (as from_json into map<string,string> leaves them) that mean "unchanged TOAST value"
    unavailable: tuple[str, ...] = (UNAVAILABLE,)


def unavailable_texts(field: dict) -> tuple[str, ...]:
    """How Debezium writes the unchanged-TOAST placeholder for a field of this Connect schema, as JSON text.

    Arrays of other element types (double, numeric, int16, timestamps) arrive as null: indistinguishable from a
    NULL, which is why tables with such TOASTable columns need REPLICA IDENTITY FULL (python/glue/README.md).
    """
    kind = field.get("type")
    if kind == "bytes":
        return (base64.b64encode(_UNAVAILABLE_BYTES).decode("ascii"),)
    if kind == "map":
        return (_UNAVAILABLE_MAP,)
    if kind == "array":
        items = field.get("items") or {}
        if items.get("type") in ("int32", "int64"):
            return ("[" + ",".join(str(b) for b in _UNAVAILABLE_BYTES) + "]",)
        if items.get("name") == "io.debezium.data.Uuid":
            return (f'["{_UNAVAILABLE_UUID}"]',)
        if items.get("type") == "string":
            return (f"[{_UNAVAILABLE_TEXT}]",)
        return ()
    if kind == "string":
        return (UNAVAILABLE, _UNAVAILABLE_MAP) if field.get("name") == "io.debezium.data.Json" else (UNAVAILABLE,)
    return ()


def _is_numeric(parameters: dict[str, str]) -> bool:
    return parameters.get("__debezium.source.column.type", "").upper() in _NUMERIC_SOURCE_TYPES


def _decimal_type(parameters: dict[str, str]) -> str | None:
    """decimal(p,s) for a numeric sent as a string (decimal.handling.mode=string) whose source type is propagated."""
    if not _is_numeric(parameters):
        return None
    try:
        precision = int(parameters["__debezium.source.column.length"])
        scale = int(parameters.get("__debezium.source.column.scale") or 0)
    except (KeyError, ValueError):
        return None
    if not 0 < precision <= MAX_DECIMAL_PRECISION or not 0 <= scale <= precision:
        return None
    return f"decimal({precision},{scale})"


def field_spec(field: dict) -> ColumnSpec:
    """The spec of one field of a Connect struct schema."""
    name, unavailable = field["field"], unavailable_texts(field)
    parameters = field.get("parameters") or {}
    if field.get("type") == "string" and _is_numeric(parameters):
        decimal = _decimal_type(parameters)
        return ColumnSpec(name, decimal, NUMERIC, unavailable) if decimal else \
            ColumnSpec(name, "string", NUMERIC_TEXT, unavailable)
    logical = _LOGICAL.get(field.get("name") or "")
    if logical:
        return ColumnSpec(name, *logical, unavailable)
    sql_type, convert = _PHYSICAL.get(field.get("type") or "", ("string", CAST))
    return ColumnSpec(name, sql_type, convert, unavailable)


def row_fields(envelope_schema: dict) -> list[dict]:
    """The fields of the row image (`after`, else `before`) of a Debezium envelope's Connect schema."""
    by_name = {f.get("field"): f for f in envelope_schema.get("fields", [])}
    image = by_name.get("after") or by_name.get("before")
    if not image or image.get("type") != "struct":
        raise ValueError(f"not a Debezium envelope schema: no before/after struct in {envelope_schema.get('name')!r}")
    return image.get("fields", [])


def specs_from_envelope_schema(schema_json: str) -> list[ColumnSpec]:
    """Column specs of the row image described by an envelope's embedded schema (the message's `schema`)."""
    return [field_spec(f) for f in row_fields(json.loads(schema_json))]


def key_columns(key_schema_json: str | None, key_payload_json: str | None) -> list[str]:
    """The key's column names, in key order: from the key's schema when embedded, else from its payload."""
    if key_schema_json:
        schema = json.loads(key_schema_json)
        if schema.get("type") == "struct":
            return [f["field"] for f in schema.get("fields", [])]
    if key_payload_json:
        payload = json.loads(key_payload_json)
        if isinstance(payload, dict):
            return list(payload)
    return []


def merge_specs(versions: list[list[ColumnSpec]]) -> list[ColumnSpec]:
    """One spec list from several schema versions of a table (oldest first): every column, the newest type."""
    merged: dict[str, ColumnSpec] = {}
    for specs in versions:
        for spec in specs:
            merged[spec.name] = spec
    return list(merged.values())


# Type changes an Iceberg table accepts in place (ALTER COLUMN ... TYPE); any other change is cast to the table's type.
_WIDENING = {("int", "bigint"), ("float", "double")}


def can_widen(old: str, new: str) -> bool:
    if (old, new) in _WIDENING:
        return True
    if old.startswith("decimal(") and new.startswith("decimal("):
        (p1, s1), (p2, s2) = (tuple(int(x) for x in t[8:-1].split(",")) for t in (old, new))
        return s1 == s2 and p2 > p1
    return False
