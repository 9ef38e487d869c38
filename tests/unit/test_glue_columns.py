"""Connect schemas -> column types: exact types from Debezium's embedded schema (no Spark needed)."""

import json

from glue import columns
from glue.columns import ColumnSpec, can_widen, field_spec, key_columns, merge_specs, specs_from_envelope_schema
from glue_events import NUMERIC_12_2, ORDERS, envelope_schema


def test_numeric_with_length_and_scale_is_an_exact_decimal():
    spec = field_spec({"type": "string", "parameters": NUMERIC_12_2, "field": "amount"})
    assert (spec.name, spec.sql_type, spec.convert) == ("amount", "decimal(12,2)", columns.NUMERIC)


def test_unconstrained_numeric_stays_text_rather_than_losing_digits():
    params = {"__debezium.source.column.type": "NUMERIC", "__debezium.source.column.length": "131089",
              "__debezium.source.column.scale": "0"}
    assert field_spec({"type": "string", "parameters": params, "field": "n"}).sql_type == "string"


def test_zoned_timestamp_is_a_utc_timestamp():
    spec = field_spec({"type": "string", "name": "io.debezium.time.ZonedTimestamp", "field": "ts"})
    assert (spec.sql_type, spec.convert) == ("timestamp", columns.ZONED_TIMESTAMP)


def test_debezium_date_is_a_date_from_epoch_days():
    spec = field_spec({"type": "int32", "name": "io.debezium.time.Date", "field": "d"})
    assert (spec.sql_type, spec.convert) == ("date", columns.DATE_DAYS)


def test_timestamp_without_zone_is_timestamp_ntz():
    spec = field_spec({"type": "int64", "name": "io.debezium.time.MicroTimestamp", "field": "t"})
    assert (spec.sql_type, spec.convert) == ("timestamp_ntz", columns.TIMESTAMP_MICROS)


def test_json_is_a_string():
    assert field_spec({"type": "string", "name": "io.debezium.data.Json", "field": "j"}).sql_type == "string"


def test_physical_types_map_to_spark_types():
    types = {t: field_spec({"type": t, "field": "x"}).sql_type
             for t in ("boolean", "int16", "int32", "int64", "float64", "bytes")}
    assert types == {"boolean": "boolean", "int16": "int", "int32": "int", "int64": "bigint", "float64": "double",
                     "bytes": "binary"}


def test_specs_come_from_the_after_image_of_the_envelope_schema():
    specs = specs_from_envelope_schema(json.dumps(envelope_schema("orders", ORDERS)))
    assert [(s.name, s.sql_type) for s in specs] == [
        ("id", "int"), ("amount", "decimal(12,2)"), ("created_at", "timestamp"), ("day", "date"),
        ("doc", "string"), ("paid", "boolean"), ("qty", "bigint"), ("note", "string")]


def test_key_columns_come_from_the_key_schema_else_its_payload():
    fields = [{"type": "int32", "field": "a"}, {"type": "int32", "field": "b"}]
    schema = json.dumps({"type": "struct", "fields": fields})
    assert key_columns(schema, '{"a": 1, "b": 2}') == ["a", "b"]
    assert key_columns(None, '{"b": 2, "a": 1}') == ["b", "a"]
    assert key_columns(None, None) == []


def test_a_newer_schema_version_adds_columns_and_its_types_win():
    old = [ColumnSpec("id", "int"), ColumnSpec("n", "int")]
    new = [ColumnSpec("id", "int"), ColumnSpec("n", "bigint"), ColumnSpec("extra", "string")]
    assert merge_specs([old, new]) == new


def test_only_lossless_type_changes_widen_the_table():
    assert can_widen("int", "bigint") and can_widen("decimal(10,2)", "decimal(12,2)")
    assert not can_widen("bigint", "int") and not can_widen("decimal(10,2)", "decimal(12,3)")
    assert not can_widen("string", "int")


def test_each_type_knows_how_debezium_writes_its_unchanged_toast_placeholder():
    def placeholders(field):
        return field_spec({"field": "c", **field}).unavailable

    assert placeholders({"type": "string"}) == (columns.UNAVAILABLE,)
    assert placeholders({"type": "bytes"}) == ("X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==",)
    assert placeholders({"type": "array", "items": {"type": "string"}}) == ('["__debezium_unavailable_value"]',)
    assert placeholders({"type": "array", "items": {"type": "int64"}}) == (
        "[" + ",".join(str(b) for b in b"__debezium_unavailable_value") + "]",)
    assert placeholders({"type": "array", "items": {"type": "string", "name": "io.debezium.data.Uuid"}}) == (
        '["b68a35a7-17ad-35b3-af2a-ae46edb4545a"]',)
    # Debezium sends these as null: nothing to recognise (the README asks for REPLICA IDENTITY FULL)
    assert placeholders({"type": "array", "items": {"type": "double"}}) == ()
    assert placeholders({"type": "int32"}) == ()


def test_an_unconstrained_numeric_is_text_in_postgresqls_spelling():
    params = {"__debezium.source.column.type": "NUMERIC", "__debezium.source.column.length": "131089",
              "__debezium.source.column.scale": "0"}
    assert field_spec({"type": "string", "parameters": params, "field": "n"}).convert == columns.NUMERIC_TEXT
