"""The peer: Apache Iceberg's own Kafka Connect sink, in the stack's Connect worker, writing the same Debezium topics to
Iceberg tables in the same catalog and bucket (namespace `iceberg_sink`). Built from Maven Central by
jvm/iceberg-kafka-connect/pom.xml into the worker's plugin.path.

Iceberg 1.10's sink appends: each change event becomes one row (the row image plus `_cdc` with op, and Kafka's
position), there is no upsert or delete. Its rows are visible when the snapshot that added their file is committed.
"""

from __future__ import annotations

import time
from pathlib import Path

import requests
from kafka import TopicPartition

from bench.config import Stack
from stack.connect import failure_trace

CONNECTOR = "bench-iceberg-sink"
CONNECTOR_CLASS = "org.apache.iceberg.connect.IcebergSinkConnector"
NAMESPACE = "iceberg_sink"
CONTROL_TOPIC = "bench-iceberg-control"


def plugin_dir(stack: Stack) -> Path:
    return stack.path("BUILD_DIR") / "jvm" / "plugins" / "iceberg-kafka-connect"


def connector_config(stack: Stack, topics: list[str], secrets_file: Path) -> dict[str, str]:
    """The sink's settings: every table topic, routed by DebeziumTransform's target to `iceberg_sink.<table>`."""
    return {
        "connector.class": CONNECTOR_CLASS,
        "tasks.max": "1",
        "topics": ",".join(topics),
        # the row image of the envelope, plus _cdc (op, ts, source table, target); then the Kafka position
        "transforms": "debezium,kafka",
        "transforms.debezium.type": "org.apache.iceberg.connect.transforms.DebeziumTransform",
        "transforms.debezium.cdc.target.pattern": f"{NAMESPACE}.{{table}}",
        "transforms.kafka.type": "org.apache.iceberg.connect.transforms.KafkaMetadataTransform",
        "iceberg.tables.dynamic-enabled": "true",
        "iceberg.tables.route-field": "_cdc.target",
        "iceberg.tables.auto-create-enabled": "true",
        "iceberg.tables.evolve-schema-enabled": "true",
        "iceberg.control.topic": CONTROL_TOPIC,
        # the default is 5 minutes; the Glue job commits every trigger: the same interval, for a fair comparison
        "iceberg.control.commit.interval-ms": str(stack.trigger_ms),
        "iceberg.catalog": "lake",
        "iceberg.catalog.catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
        "iceberg.catalog.uri": stack.catalog_jdbc_url,
        "iceberg.catalog.jdbc.user": stack["PG_APP_USER"],
        "iceberg.catalog.jdbc.password": f"${{file:{secrets_file}:password}}",
        "iceberg.catalog.jdbc.schema-version": "V1",
        "iceberg.catalog.warehouse": f"s3://{stack['LAKE_BUCKET']}/warehouse",
        "iceberg.catalog.io-impl": "org.apache.iceberg.aws.s3.S3FileIO",
        "iceberg.catalog.s3.endpoint": stack.s3_endpoint,
        "iceberg.catalog.s3.path-style-access": "true",
        "iceberg.catalog.s3.access-key-id": stack["OBJECT_STORE_ACCESS_KEY"],
        "iceberg.catalog.s3.secret-access-key": f"${{file:{secrets_file}:s3_secret}}",
        "iceberg.catalog.client.region": stack["AWS_REGION"],
    }


def shown(config: dict[str, str]) -> dict[str, str]:
    """The config for the report, secrets left as the references they are."""
    return {k: v for k, v in config.items() if "secret" not in k}


class Connect:
    def __init__(self, url: str):
        self.url = url

    def _call(self, method: str, path: str, **kwargs) -> requests.Response:
        response = requests.request(method, f"{self.url}{path}", timeout=30, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"Kafka Connect {method} {path}: {response.status_code} {response.text[:2000]}")
        return response

    def plugins(self) -> list[str]:
        return [p["class"] for p in self._call("GET", "/connector-plugins").json()]

    def exists(self, name: str) -> bool:
        return name in self._call("GET", "/connectors").json()

    def status(self, name: str) -> dict:
        return self._call("GET", f"/connectors/{name}/status").json()

    def create_stopped(self, name: str, config: dict[str, str]) -> None:
        # created STOPPED so its consumer offsets can be set before it reads anything (KIP-875, KIP-980)
        self._call("POST", "/connectors", json={"name": name, "config": config, "initial_state": "STOPPED"})

    def set_sink_offsets(self, name: str, offsets: dict[TopicPartition, int]) -> None:
        body = {"offsets": [{"partition": {"kafka_topic": tp.topic, "kafka_partition": tp.partition},
                             "offset": {"kafka_offset": o}} for tp, o in offsets.items()]}
        self._call("PATCH", f"/connectors/{name}/offsets", json=body)

    def resume(self, name: str) -> None:
        self._call("PUT", f"/connectors/{name}/resume")

    def stop(self, name: str) -> None:
        self._call("PUT", f"/connectors/{name}/stop")

    def delete(self, name: str) -> None:
        if self.exists(name):
            self._call("DELETE", f"/connectors/{name}")

    def raise_if_failed(self, name: str, status: dict | None = None) -> None:
        trace = failure_trace(status or self.status(name))
        if trace:
            raise RuntimeError(f"connector {name} FAILED: {trace[:3000]}")

    def wait_state(self, name: str, state: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        status: dict = {}
        while time.monotonic() < deadline:
            try:
                status = self.status(name)
            except (RuntimeError, requests.ConnectionError):
                time.sleep(1)
                continue
            self.raise_if_failed(name, status)
            if status["connector"]["state"] == state and all(t["state"] == state for t in status.get("tasks", [])):
                if state != "RUNNING" or status.get("tasks"):
                    return
            time.sleep(1)
        raise TimeoutError(f"connector {name} not {state} after {timeout:.0f} s: {status}")


def write_secret(stack: Stack) -> Path:
    """The catalog user's password and the object store's secret key in a file only the worker reads, referenced from
    the connector config."""
    path = stack.path("STATE_DIR") / "secrets" / "bench-catalog.properties"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"password={stack['PG_APP_PASSWORD']}\ns3_secret={stack['OBJECT_STORE_SECRET_KEY']}\n")
    path.chmod(0o600)
    return path
