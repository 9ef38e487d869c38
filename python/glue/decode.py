"""Debezium JSON messages from Kafka -> change events, or quarantine rows for what is not one.

Works on the Kafka source's columns (topic, partition, offset, timestamp, key, value) and keeps the row images
(`before`, `after`) and the key as JSON text: their types are only known per table and per schema version,
which glue.rows resolves batch by batch.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

VALID_OPS = ("c", "r", "u", "d")

NOT_JSON = "not a JSON object"
NO_ENVELOPE = "no Debezium envelope (op or source missing)"
UNKNOWN_OP = "unknown op"
NO_LSN = "no source.lsn"
NO_ROW_IMAGE = "no after image"
NO_KEY = "delete without key or before image"

_WRAPPER = "schema STRING, payload STRING"
_ENVELOPE = (
    "before STRING, after STRING, op STRING, ts_ms BIGINT, "
    "source STRUCT<lsn: BIGINT, txId: BIGINT, ts_ms: BIGINT, db: STRING, schema: STRING, `table`: STRING, "
    "snapshot: STRING>"
)

EVENT_COLUMNS = (
    "topic", "partition", "offset", "kafka_timestamp", "op", "lsn", "tx_id", "source_ts_ms", "ts_ms", "source_db",
    "source_schema", "source_table", "snapshot", "key", "key_schema", "before", "after", "value_schema",
)
QUARANTINE_COLUMNS = ("reason", "topic", "partition", "offset", "kafka_timestamp", "key", "value")


def _unwrap(text: Column) -> tuple[Column, Column]:
    """(payload, schema) of a JsonConverter message: {"schema", "payload"} with schemas enabled, else itself."""
    wrapper = F.from_json(text, _WRAPPER)
    keys = F.json_object_keys(text)
    wrapped = (F.size(keys) == 2) & F.array_contains(keys, "schema") & F.array_contains(keys, "payload")
    wrapped = F.coalesce(wrapped, F.lit(False))
    return F.when(wrapped, wrapper["payload"]).otherwise(text), F.when(wrapped, wrapper["schema"])


def _reason(is_object: Column, env: Column, key: Column) -> Column:
    op = env["op"]
    return (
        F.when(~is_object, F.lit(NOT_JSON))
        .when(op.isNull() | env["source"].isNull(), F.lit(NO_ENVELOPE))
        .when(~op.isin(*VALID_OPS), F.concat(F.lit(UNKNOWN_OP + ": "), op))
        .when(env["source"]["lsn"].isNull(), F.lit(NO_LSN))
        .when((op != "d") & env["after"].isNull(), F.lit(NO_ROW_IMAGE))
        .when((op == "d") & key.isNull() & env["before"].isNull(), F.lit(NO_KEY))
    )


def decode(kafka: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(events, quarantine) of a batch of Kafka rows. Tombstones (null value) are in neither."""
    value_text = F.col("value").cast("string")
    key_text = F.col("key").cast("string")
    envelope_text, value_schema = _unwrap(value_text)
    key_payload, key_schema = _unwrap(key_text)
    parsed = (
        kafka.where(F.col("value").isNotNull())
        .select(
            "topic", "partition", "offset", F.col("timestamp").alias("kafka_timestamp"),
            key_text.alias("key_text"), value_text.alias("value_text"),
            F.coalesce(F.json_object_keys(value_text).isNotNull(), F.lit(False)).alias("is_object"),
            F.from_json(envelope_text, _ENVELOPE).alias("env"), value_schema.alias("value_schema"),
            # a JSON null key (keyless table with schemas disabled) is no key
            F.when(key_payload != "null", key_payload).alias("key"), key_schema.alias("key_schema"),
        )
    )
    parsed = parsed.withColumn("reason", _reason(F.col("is_object"), F.col("env"), F.col("key")))
    events = parsed.where(F.col("reason").isNull()).select(
        "topic", "partition", "offset", "kafka_timestamp",
        F.col("env.op").alias("op"),
        F.col("env.source.lsn").alias("lsn"),
        F.col("env.source.txId").alias("tx_id"),
        F.col("env.source.ts_ms").alias("source_ts_ms"),
        F.col("env.ts_ms").alias("ts_ms"),
        F.col("env.source.db").alias("source_db"),
        F.col("env.source.schema").alias("source_schema"),
        F.col("env.source.table").alias("source_table"),
        F.col("env.source.snapshot").alias("snapshot"),
        "key", "key_schema",
        F.when(F.col("env.before") != "null", F.col("env.before")).alias("before"),
        F.when(F.col("env.after") != "null", F.col("env.after")).alias("after"),
        "value_schema",
    )
    quarantine = parsed.where(F.col("reason").isNotNull()).select(
        "reason", "topic", "partition", "offset", "kafka_timestamp",
        F.col("key_text").alias("key"), F.col("value_text").alias("value"),
    )
    return events, quarantine
