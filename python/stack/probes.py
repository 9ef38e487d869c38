"""Readiness probes: each asks its component a real question and raises if it cannot answer."""

import os
import socket
import subprocess

import requests
from botocore.config import Config
from kafka import KafkaAdminClient

from stack.settings import Component, connect_url, lake_s3, local_client, setting


def port_in_use(component: Component) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex((component.host, component.port)) == 0


def probe_postgres(component: Component) -> None:
    pg_isready = os.path.join(setting("PG_BIN"), "pg_isready")
    result = subprocess.run(
        [pg_isready, "-h", component.host, "-p", str(component.port), "-t", "2"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise ConnectionError(result.stdout.strip() or f"pg_isready exited {result.returncode}")


def probe_kafka(component: Component) -> None:
    # A metadata request: the broker is up and has joined its own KRaft quorum.
    admin = KafkaAdminClient(bootstrap_servers=component.address, request_timeout_ms=5000,
                             api_version_auto_timeout_ms=5000)
    try:
        admin.list_topics()
    finally:
        admin.close()


def probe_connect(component: Component) -> None:
    response = requests.get(f"{connect_url()}/connectors", timeout=5)
    response.raise_for_status()


QUICK = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5)


def probe_aws(component: Component) -> None:
    local_client("sts", QUICK).get_caller_identity()


def probe_objectstore(component: Component) -> None:
    lake_s3(QUICK).list_buckets()


PROBES = {
    "postgres": probe_postgres,
    "kafka": probe_kafka,
    "connect": probe_connect,
    "aws": probe_aws,
    "objectstore": probe_objectstore,
}
