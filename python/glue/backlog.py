"""How many change events have arrived in the job's topics since a moment: the end offsets of their partitions, asked
of Kafka by a consumer of the driver's (the Kafka client the job's Spark source uses, with the same connection and
authentication settings). A quiet stream's micro-batch waits before the next (glue.job.Pace); this says when to stop
waiting because the stream is busy again."""

from __future__ import annotations

import re

from pyspark.sql import SparkSession

from glue.jvm import java_class
from glue.options import JobOptions

TIMEOUT_SECONDS = 5


class Backlog:
    def __init__(self, spark: SparkSession, opts: JobOptions, ignored_topics: tuple[str, ...] = ()):
        self.spark = spark
        self.pattern = re.compile(opts.subscribe_pattern)
        self.ignored = set(ignored_topics)
        properties = java_class(spark, "java.util.Properties")()
        for key, value in opts.kafka_client_options().items():
            properties.setProperty(key.removeprefix("kafka."), value)
        deserializer = "org.apache.kafka.common.serialization.ByteArrayDeserializer"
        properties.setProperty("key.deserializer", deserializer)
        properties.setProperty("value.deserializer", deserializer)
        properties.setProperty("client.id", "cdc-to-lake-backlog")
        self.consumer = java_class(spark, "org.apache.kafka.clients.consumer.KafkaConsumer")(properties)
        self.timeout = java_class(spark, "java.time.Duration").ofSeconds(TIMEOUT_SECONDS)

    def ends(self) -> dict[tuple[str, int], int]:
        """The end offset of every partition of the job's topics (its ignored ones, the heartbeats, left out)."""
        partitions = java_class(self.spark, "java.util.ArrayList")()
        new_partition = java_class(self.spark, "org.apache.kafka.common.TopicPartition")
        for topic, infos in self.consumer.listTopics(self.timeout).items():
            if self.pattern.search(topic) and topic not in self.ignored:
                for info in infos:
                    partitions.add(new_partition(topic, info.partition()))
        return {(tp.topic(), tp.partition()): offset
                for tp, offset in self.consumer.endOffsets(partitions, self.timeout).items()}

    def arrived_since(self, ends: dict[tuple[str, int], int]) -> int:
        """Messages that arrived since `ends` (a partition new since then counts whole)."""
        return sum(offset - ends.get(partition, 0) for partition, offset in self.ends().items())
