"""The change log read back as change events: what a mirror is rebuilt or caught up from (the change log is the lake's
record; the mirrors derive from it), and where a value no event of a batch carries is looked up."""

from __future__ import annotations

from collections.abc import Callable

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue.changelog import SchemaRegistry
from glue.decode import EVENT_COLUMNS


class History:
    def __init__(self, changelog_table: str, registry: SchemaRegistry, ddl_topic: str | None):
        self.changelog_table = changelog_table
        self.registry = registry
        self.ddl_topic = ddl_topic
        # called before the change log is read: the job appends a batch's own events then, if not done yet
        self.before_read: Callable[[], object] = lambda: None

    def schemas(self, spark: SparkSession) -> dict[str, str]:
        """The Connect schema of each schema id the change log's rows name."""
        return self.registry.load(spark)

    def events(self, spark: SparkSession, mirror: str) -> DataFrame:
        """Every logged event of the source tables `mirror` mirrors, and the DDL events naming them, as
        glue.decode.events_of gives a micro-batch's (the batch's own events among them)."""
        self.before_read()
        log = spark.table(self.changelog_table)
        own = F.lower(F.col("source_table")) == mirror
        if self.ddl_topic:
            ddl_table = F.lower(F.get_json_object("after", "$.table_name")) == mirror
            own = (own & (F.col("topic") != self.ddl_topic)) | ((F.col("topic") == self.ddl_topic) & ddl_table)
        return log.where(own).select(
            "topic", "partition", "offset", "kafka_timestamp", "op", "commit_lsn", "lsn", "tx_id",
            F.unix_millis("source_ts").alias("source_ts_ms"), F.unix_millis("event_ts").alias("ts_ms"),
            "source_db", "source_schema", "source_table", "snapshot", "key",
            F.lit(None).cast("string").alias("key_schema"), "old_key", "before", "after", "schema_id",
        ).select(*EVENT_COLUMNS)
