"""The job's arguments: the same `--name value` options on AWS Glue and locally.

On Glue they are read with `awsglue.utils.getResolvedOptions` (which also accepts Glue's own arguments, such as
--JOB_NAME), elsewhere with argparse. Both only collect strings; `JobOptions.from_mapping` applies defaults and
types, so nothing past `parse_args` knows where the job runs.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

CATALOGS = ("glue", "jdbc", "hadoop")
KAFKA_AUTHS = ("none", "iam")

# name -> help; every option is `--name value`
OPTIONS: dict[str, str] = {
    "kafka-bootstrap": "Kafka bootstrap servers, host:port[,host:port]",
    "kafka-auth": "none (plaintext, the local broker) or iam (MSK: TLS + IAM, needs the aws-msk-iam-auth jar) "
                  "(default: none)",
    "topic-pattern": "regex of the topics to read (default: ^<topic-prefix>.<schema>.<table>, every table topic)",
    "topic-prefix": "Debezium topic.prefix, used for the default --topic-pattern, --ddl-topic and --heartbeat-topic",
    "ddl-topic": "topic of cdc.ddl_events, the DDL PostgreSQL's event trigger records: read as control events, "
                 "not mirrored (default: <topic-prefix>.cdc.ddl_events; none: no DDL events)",
    "heartbeat-topic": "Debezium's heartbeat topic: read so that the job runs a micro-batch (paused tables, rebuild "
                       "requests) when no table changes, otherwise ignored "
                       "(default: __debezium-heartbeat.<topic-prefix>)",
    "lake-uri": "root of the lake, s3://bucket/prefix (file:// for tests)",
    "warehouse": "Iceberg warehouse (default: <lake-uri>/warehouse)",
    "checkpoint-uri": "streaming checkpoint (default: <lake-uri>/checkpoints/cdc-to-lake)",
    "quarantine-uri": "where poison messages go, as JSON lines (default: <lake-uri>/quarantine)",
    "state-uri": "paused tables and rebuild requests, as JSON objects (default: <lake-uri>/state)",
    "metrics-uri": "where each micro-batch writes a JSON record: its Kafka offsets, when its changes became visible "
                   "(default: <lake-uri>/metrics/batches; none: no records)",
    "catalog": "Iceberg catalog: glue (AWS Glue Data Catalog), jdbc (a database), hadoop (files; tests)",
    "catalog-name": "the catalog's name in Spark SQL (default: lake)",
    "catalog-uri": "JDBC URL of the jdbc catalog; its password comes from $ICEBERG_JDBC_PASSWORD",
    "catalog-user": "user of the jdbc catalog",
    "database": "namespace of the mirror tables and the change log (a Glue database on AWS)",
    "changelog-table": "name of the change log table (default: cdc_changelog)",
    "trigger-seconds": "how often a micro-batch starts while the stream is quiet (default: 5)",
    "busy-messages": "a micro-batch that found at least this many messages is followed at once by the next, a "
                     "smaller one waits until --trigger-seconds after it began (default: 500)",
    "starting-offsets": "where a new checkpoint starts: earliest or latest (default: earliest)",
    "max-offsets-per-trigger": "cap on the messages of one micro-batch (default: 50000)",
    "maintenance-interval-seconds": "the maintenance job (maintain_lake.py): a round every N seconds, 0: one round "
                                    "and exit, as a scheduled Glue job does (default: 0)",
    "delete-marker-retention-hours": "how long a delete's marker is kept: as long as Kafka may still hold an older "
                                     "event of its key (default: 168, Kafka's default retention)",
    "s3-endpoint": "S3 endpoint URL, path-style (local only; unset on AWS)",
    "glue-endpoint": "Glue endpoint URL of the glue catalog (local only: the local AWS endpoint; unset on AWS)",
    "region": "AWS region of S3 and Glue (default: the SDK's default chain)",
}
REQUIRED = ("kafka-bootstrap", "lake-uri", "catalog", "database")
PASSWORD_ENV = "ICEBERG_JDBC_PASSWORD"


@dataclass(frozen=True)
class JobOptions:
    kafka_bootstrap: str
    topic_pattern: str
    lake_uri: str
    warehouse: str
    checkpoint_uri: str
    quarantine_uri: str
    state_uri: str
    catalog: str
    database: str
    catalog_name: str = "lake"
    catalog_uri: str | None = None
    catalog_user: str | None = None
    catalog_password: str | None = None
    changelog_table: str = "cdc_changelog"
    trigger_seconds: int = 5
    busy_messages: int = 500
    starting_offsets: str = "earliest"
    max_offsets_per_trigger: int = 50000
    maintenance_interval_seconds: int = 0
    s3_endpoint: str | None = None
    glue_endpoint: str | None = None
    region: str | None = None
    metrics_uri: str | None = None
    kafka_auth: str = "none"
    ddl_topic: str | None = None
    heartbeat_topic: str | None = None
    delete_marker_retention_hours: int = 168

    @classmethod
    def from_mapping(cls, raw: Mapping[str, str | None], env: Mapping[str, str] | None = None) -> JobOptions:
        """Options from `{option-name: string}` (either spelling: kafka-bootstrap or kafka_bootstrap)."""
        env = os.environ if env is None else env
        values = {k.replace("_", "-"): v for k, v in raw.items() if v not in (None, "")}
        missing = [name for name in REQUIRED if name not in values]
        if missing:
            raise ValueError("missing options: " + ", ".join("--" + m for m in missing))
        catalog = values["catalog"]
        if catalog not in CATALOGS:
            raise ValueError(f"--catalog must be one of {', '.join(CATALOGS)}, not {catalog!r}")
        if catalog == "jdbc" and "catalog-uri" not in values:
            raise ValueError("--catalog jdbc needs --catalog-uri")
        kafka_auth = values.get("kafka-auth", "none")
        if kafka_auth not in KAFKA_AUTHS:
            raise ValueError(f"--kafka-auth must be one of {', '.join(KAFKA_AUTHS)}, not {kafka_auth!r}")
        if "topic-pattern" in values:
            topic_pattern = values["topic-pattern"]
        elif "topic-prefix" in values:
            topic_pattern = default_topic_pattern(values["topic-prefix"])
        else:
            raise ValueError("give --topic-pattern or --topic-prefix")
        re.compile(topic_pattern)  # a bad pattern fails here, not inside the Kafka consumer
        prefix = values.get("topic-prefix")
        ddl_topic = _none_is_off(values.get("ddl-topic", f"{prefix}.cdc.ddl_events" if prefix else "none"))
        heartbeat_topic = values.get("heartbeat-topic", f"__debezium-heartbeat.{prefix}" if prefix else None)
        lake = values["lake-uri"].rstrip("/")
        return cls(
            kafka_bootstrap=values["kafka-bootstrap"],
            topic_pattern=topic_pattern,
            lake_uri=lake,
            warehouse=values.get("warehouse", f"{lake}/warehouse"),
            checkpoint_uri=values.get("checkpoint-uri", f"{lake}/checkpoints/cdc-to-lake"),
            quarantine_uri=values.get("quarantine-uri", f"{lake}/quarantine"),
            state_uri=values.get("state-uri", f"{lake}/state"),
            catalog=catalog,
            database=values["database"],
            catalog_name=values.get("catalog-name", "lake"),
            catalog_uri=values.get("catalog-uri"),
            catalog_user=values.get("catalog-user"),
            catalog_password=env.get(PASSWORD_ENV),
            changelog_table=values.get("changelog-table", "cdc_changelog"),
            trigger_seconds=int(values.get("trigger-seconds", 5)),
            busy_messages=int(values.get("busy-messages", 500)),
            starting_offsets=values.get("starting-offsets", "earliest"),
            max_offsets_per_trigger=int(values.get("max-offsets-per-trigger", 50000)),
            maintenance_interval_seconds=int(values.get("maintenance-interval-seconds", 0)),
            s3_endpoint=values.get("s3-endpoint"),
            glue_endpoint=values.get("glue-endpoint"),
            region=values.get("region"),
            metrics_uri=_none_is_off(values.get("metrics-uri", f"{lake}/metrics/batches")),
            kafka_auth=kafka_auth,
            ddl_topic=ddl_topic,
            heartbeat_topic=heartbeat_topic,
            delete_marker_retention_hours=int(values.get("delete-marker-retention-hours", 168)),
        )

    @property
    def subscribe_pattern(self) -> str:
        """The table topics, and the DDL and heartbeat topics (control, not mirrored)."""
        extra = [f"^{re.escape(t)}$" for t in (self.ddl_topic, self.heartbeat_topic) if t]
        return "|".join([f"(?:{self.topic_pattern})", *extra])

    def kafka_client_options(self) -> dict[str, str]:
        """The Kafka consumer's connection settings, as the Spark source's `kafka.*` options."""
        options = {"kafka.bootstrap.servers": self.kafka_bootstrap}
        if self.kafka_auth == "iam":
            # MSK's IAM listener (port 9098): TLS, and SASL signed with the job role's credentials
            options.update({
                "kafka.security.protocol": "SASL_SSL",
                "kafka.sasl.mechanism": "AWS_MSK_IAM",
                "kafka.sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
                "kafka.sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
            })
        return options


def _none_is_off(value: str) -> str | None:
    return None if value.lower() == "none" else value


def default_topic_pattern(topic_prefix: str, schema: str | None = None) -> str:
    """Every table topic `<prefix>.<schema>.<table>`: not the heartbeat, transaction or Connect topics, nor those of
    the pipeline's own tables in schema `cdc` (DDL events, Debezium's signals)."""
    schema_part = re.escape(schema) if schema else r"(?!cdc\.)[^.]+"
    return rf"^{re.escape(topic_prefix)}\.{schema_part}\.[^.]+$"


def _argparse(argv: Sequence[str]) -> dict[str, str | None]:
    parser = argparse.ArgumentParser(prog="cdc_to_lake", description="Debezium topics -> Iceberg lake on S3")
    for name, help_text in OPTIONS.items():
        parser.add_argument("--" + name, help=help_text)
    return vars(parser.parse_args(list(argv[1:])))


def _glue(argv: Sequence[str], get_resolved_options) -> dict[str, str | None]:
    # getResolvedOptions makes every option it is given required: pass the ones present.
    present = [name for name in OPTIONS if "--" + name in argv]
    resolved = get_resolved_options(list(argv), present)
    return {name: resolved.get(name.replace("-", "_"), resolved.get(name)) for name in present}


def parse_args(argv: Sequence[str]) -> JobOptions:
    """The options of `argv` (sys.argv: the program name first)."""
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        raw = _argparse(argv)
    else:
        raw = _glue(argv, getResolvedOptions)
    return JobOptions.from_mapping(raw)
