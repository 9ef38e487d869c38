"""What runs behind the emulated APIs: the local stack's PostgreSQL, Kafka and Kafka Connect, and a folder for the
Glue job runs. Set once at start from the command line (`python -m localaws --postgres ... --kafka ... --connect ...`);
without it (the unit tests' in-memory endpoint) the APIs answer as resources only."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Runtime:
    postgres_admin: str  # libpq connection string of a superuser, without dbname: the Data API runs statements so
    postgres_address: str  # host:port the Kafka Connect worker reaches PostgreSQL at: an Aurora endpoint maps here
    kafka: str  # bootstrap servers of the local Kafka: every MSK cluster's brokers
    connect_url: str  # the Kafka Connect worker's REST API: MSK Connect connectors run there
    spark_jars: Path  # the jars a Glue 5.0 job has (Spark's Kafka source, Iceberg, hadoop-aws, ...)
    runs_dir: Path  # where Glue job runs keep their scripts, packages and exit codes
    logs_dir: Path  # where a job run's output goes: glue-<job>.log

    @property
    def postgres_host(self) -> str:
        return self.postgres_address.rsplit(":", 1)[0]

    @property
    def postgres_port(self) -> int:
        return int(self.postgres_address.rsplit(":", 1)[1])


def is_aurora_endpoint(account: str, region: str, host: str | None) -> bool:
    """Whether `host` is the writer or reader endpoint of an Aurora cluster of this endpoint (the local PostgreSQL
    behind it)."""
    from moto.rds.models import rds_backends

    clusters = rds_backends[account][region].clusters.values()
    return host in {e for c in clusters for e in (c.endpoint, c.reader_endpoint)}


_current: Runtime | None = None


def configure(runtime: Runtime | None) -> None:
    global _current
    _current = runtime


def current() -> Runtime | None:
    return _current
