"""Debezium JSON messages from Kafka -> change events, or quarantine rows for what is not one.

Works on the Kafka source's columns (topic, partition, offset, timestamp, key, value, headers) and keeps the row
images (`before`, `after`) and the key as JSON text: their types are only known per table and per schema version,
which glue.rows resolves batch by batch.

Every event gets its place in commit order, (`commit_lsn`, `lsn`), from Debezium's `source.sequence`
[last commit LSN, LSN]: the first is the end of the transaction committed before the event's own, so it grows
with every commit even where a long transaction's changes have lower LSNs than changes committed before it. A
snapshot read has no last commit: its place is (snapshot LSN, snapshot LSN), before every change streamed after
the snapshot; an incremental snapshot's read has the stream's place where its chunk was read. The same change
re-sent after a restart has the same place, which is how it is recognised (glue.changelog, glue.merge).
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

VALID_OPS = ("c", "r", "u", "d", "t")

NOT_JSON = "not a JSON object"
NO_ENVELOPE = "no Debezium envelope (op or source missing)"
UNKNOWN_OP = "unknown op"
NO_LSN = "no source.lsn"
NO_ROW_IMAGE = "no after image"
NO_KEY = "delete without key or before image"
TRUNCATE = "t"
# the header Debezium puts on the create of a primary-key update: the row's key before the update
OLD_KEY_HEADER = "__debezium.oldkey"

_SOURCE = ("STRUCT<lsn: BIGINT, txId: BIGINT, ts_ms: BIGINT, db: STRING, schema: STRING, `table`: STRING, "
           "snapshot: STRING, sequence: STRING>")
_ENVELOPE_FIELDS = f"before STRING, after STRING, op STRING, ts_ms BIGINT, source {_SOURCE}"
_CORRUPT = "_corrupt"
# One parse per message, whichever way the JsonConverter wrote it: {"schema", "payload": envelope} with schemas
# enabled, the envelope itself without. A STRING field keeps a JSON object as its text (the row images, the
# schema), and malformed text lands in _corrupt.
_VALUE = f"schema STRING, payload STRUCT<{_ENVELOPE_FIELDS}>, {_ENVELOPE_FIELDS}, {_CORRUPT} STRING"
_KEY = f"schema STRING, payload STRING, {_CORRUPT} STRING"
_PERMISSIVE = {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT}
_ENVELOPE_NAMES = ("before", "after", "op", "ts_ms", "source")

EVENT_COLUMNS = (
    "topic", "partition", "offset", "kafka_timestamp", "op", "commit_lsn", "lsn", "tx_id", "source_ts_ms", "ts_ms",
    "source_db", "source_schema", "source_table", "snapshot", "key", "key_schema", "old_key", "before", "after",
    "schema_id",
)
QUARANTINE_COLUMNS = ("reason", "topic", "partition", "offset", "kafka_timestamp", "key", "value")


def _wrapped(parsed: Column) -> Column:
    return parsed["schema"].isNotNull() & parsed["payload"].isNotNull()


def _sequence(source: Column) -> Column:
    return F.from_json(source["sequence"], "array<string>")


def position(source: Column) -> tuple[Column, Column]:
    """(commit_lsn, lsn) of an event: its place in commit order (see the module's docstring)."""
    sequence = _sequence(source)
    lsn = F.coalesce(sequence[1].cast("bigint"), source["lsn"])
    return F.coalesce(sequence[0].cast("bigint"), lsn), lsn


def _reason(is_object: Column, env: Column, key: Column) -> Column:
    op = env["op"]
    return (
        F.when(~is_object, F.lit(NOT_JSON))
        .when(op.isNull() | env["source"].isNull(), F.lit(NO_ENVELOPE))
        .when(~op.isin(*VALID_OPS), F.concat(F.lit(UNKNOWN_OP + ": "), op))
        .when(position(env["source"])[1].isNull(), F.lit(NO_LSN))
        .when(~op.isin("d", TRUNCATE) & env["after"].isNull(), F.lit(NO_ROW_IMAGE))
        .when((op == "d") & key.isNull() & env["before"].isNull(), F.lit(NO_KEY))
    )


def _header(name: str) -> Column:
    """A Kafka header's value as text (the Kafka source's `headers` column, read with includeHeaders)."""
    return F.filter("headers", lambda h: h["key"] == name)[0]["value"].cast("string")


def schema_hash(value_schema: Column) -> Column:
    """A Connect schema's text as a number: what a parsed batch keeps of it (the texts are hundreds of times longer
    and few), its text kept once in the job (glue.changelog.SchemaRegistry)."""
    return F.xxhash64(value_schema)


def _message_texts(kafka: DataFrame, ignored_topics: tuple[str, ...]) -> DataFrame:
    value_text = F.col("value").cast("string")
    skip = F.col("value").isNull()  # a tombstone
    if ignored_topics:
        skip = skip | F.col("topic").isin(*ignored_topics)
    return kafka.select("topic", "partition", "offset", F.col("timestamp").alias("kafka_timestamp"),
                        skip.alias("skip"), F.col("key").cast("string").alias("key_text"),
                        F.when(~skip, value_text).alias("value_text"),
                        *([] if "headers" not in kafka.columns else [F.col("headers")]))


def parse(kafka: DataFrame, ignored_topics: tuple[str, ...] = ()) -> DataFrame:
    """Every message of a batch of Kafka rows, parsed once: `skip` for those that are no change event (tombstones,
    those of `ignored_topics`, Debezium's heartbeats), `reason` for poison. The job persists this: the batch's
    contents, events and quarantine are cheap selections of it. The raw texts are kept for poison only, and of the
    embedded Connect schema its hash (schema_texts finds the texts of new ones)."""
    texts = _message_texts(kafka, ignored_topics)
    old_key = _header(OLD_KEY_HEADER) if "headers" in kafka.columns else F.lit(None).cast("string")
    parsed = texts.select(
        "topic", "partition", "offset", "kafka_timestamp", "skip", "key_text", "value_text", old_key.alias("old_key"),
        F.from_json("value_text", _VALUE, _PERMISSIVE).alias("v"),
        F.from_json("key_text", _KEY, _PERMISSIVE).alias("k"),
    )
    v, k = F.col("v"), F.col("k")
    key_payload = F.when(_wrapped(k), k["payload"]).otherwise(F.col("key_text"))
    parsed = parsed.select(
        "topic", "partition", "offset", "kafka_timestamp", "skip", "key_text", "value_text", "old_key",
        (F.ltrim(F.col("value_text")).startswith("{") & v[_CORRUPT].isNull()).alias("is_object"),
        F.when(_wrapped(v), v["payload"]).otherwise(F.struct(*[v[n].alias(n) for n in _ENVELOPE_NAMES])).alias("env"),
        F.when(_wrapped(v), schema_hash(v["schema"])).alias("schema_hash"),
        # a JSON null key (keyless table with schemas disabled) is no key
        F.when(key_payload != "null", key_payload).alias("key"), F.when(_wrapped(k), k["schema"]).alias("key_schema"),
    )
    reason = F.when(~F.col("skip"), _reason(F.col("is_object"), F.col("env"), F.col("key")))
    return parsed.select(
        "topic", "partition", "offset", "kafka_timestamp", "skip", "old_key", "env", "schema_hash", "key",
        "key_schema", reason.alias("reason"),
        F.when(reason.isNotNull(), F.col("key_text")).alias("poison_key"),
        F.when(reason.isNotNull(), F.col("value_text")).alias("poison_value"),
    )


def schema_texts(kafka: DataFrame, hashes: list[int], ignored_topics: tuple[str, ...] = ()) -> dict[int, str]:
    """The Connect schema texts of the given hashes (glue.decode.schema_hash) in a batch of Kafka rows: the batch is
    read again, so only when a schema first appears. Two texts of one hash would be two schemas taken for one."""
    texts = _message_texts(kafka, ignored_topics).where(~F.col("skip"))
    schema = F.from_json("value_text", "schema STRING, payload STRING", _PERMISSIVE)["schema"]
    rows = (texts.select(schema_hash(schema).alias("h"), schema.alias("text"))
            .where(F.col("h").isin(*hashes))
            .groupBy("h").agg(F.first("text").alias("text"), F.count_distinct("text").alias("n")).collect())
    clash = [r.h for r in rows if r.n > 1]
    if clash:
        raise ValueError(f"Connect schemas of one hash {clash}: two schemas would be taken for one")
    return {r.h: r.text for r in rows}


def events_of(parsed: DataFrame, schema_ids: dict[int, str] | None = None) -> DataFrame:
    """The change events of parsed messages (glue.decode.parse), one column per EVENT_COLUMNS; schema_ids: the
    schema id (glue.changelog.schema_id) of each schema hash in them."""
    commit_lsn, lsn = position(F.col("env.source"))
    ids = F.lit(None).cast("string")
    if schema_ids:
        ids = F.create_map(*[F.lit(x) for pair in schema_ids.items() for x in pair])[F.col("schema_hash")]
    return parsed.where(~F.col("skip") & F.col("reason").isNull()).select(
        "topic", "partition", "offset", "kafka_timestamp",
        F.col("env.op").alias("op"),
        commit_lsn.alias("commit_lsn"),
        lsn.alias("lsn"),
        F.col("env.source.txId").alias("tx_id"),
        F.col("env.source.ts_ms").alias("source_ts_ms"),
        F.col("env.ts_ms").alias("ts_ms"),
        F.col("env.source.db").alias("source_db"),
        F.col("env.source.schema").alias("source_schema"),
        F.col("env.source.table").alias("source_table"),
        F.col("env.source.snapshot").alias("snapshot"),
        "key", "key_schema", "old_key",
        F.when(F.col("env.before") != "null", F.col("env.before")).alias("before"),
        F.when(F.col("env.after") != "null", F.col("env.after")).alias("after"),
        ids.alias("schema_id"),
    )


def quarantine_of(parsed: DataFrame) -> DataFrame:
    """The poison messages of parsed messages, as they came, with the reason (QUARANTINE_COLUMNS)."""
    return parsed.where(F.col("reason").isNotNull()).select(
        "reason", "topic", "partition", "offset", "kafka_timestamp",
        F.col("poison_key").alias("key"), F.col("poison_value").alias("value"),
    )


def decode(kafka: DataFrame, ignored_topics: tuple[str, ...] = ()) -> tuple[DataFrame, DataFrame]:
    """(events, quarantine) of a batch of Kafka rows. Tombstones (null value) are in neither."""
    parsed = parse(kafka, ignored_topics)
    return events_of(parsed), quarantine_of(parsed)
