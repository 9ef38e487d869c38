"""How many change events have arrived in the job's topics since a moment: the end offsets of their partitions, asked
of Kafka by a consumer of the driver's (the Kafka client the job's Spark source uses, with the same connection and
authentication settings). A quiet stream's micro-batch waits before the next (glue.job.Pace); this says when to stop
waiting: the stream is busy again, or a burst of changes has ended."""

from __future__ import annotations

import re
from collections.abc import Callable

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

    def watch(self, consumed: dict[tuple[str, int], int]) -> Callable[[], int]:
        """A count of the messages past what a batch read (`consumed`: its end offset, exclusive, per topic partition;
        a partition it had none of counts from now), to ask as often as needed. The partitions are listed once, now
        (one created later is the next batch's to find)."""
        partitions = java_class(self.spark, "java.util.ArrayList")()
        new_partition = java_class(self.spark, "org.apache.kafka.common.TopicPartition")
        for topic, infos in self.consumer.listTopics(self.timeout).items():
            if self.pattern.search(topic) and topic not in self.ignored:
                for info in infos:
                    partitions.add(new_partition(topic, info.partition()))

        def ends() -> dict[tuple[str, int], int]:
            return {(tp.topic(), tp.partition()): offset
                    for tp, offset in self.consumer.endOffsets(partitions, self.timeout).items()}

        since = {**ends(), **consumed}
        return lambda: sum(max(0, offset - since[p]) for p, offset in ends().items())
