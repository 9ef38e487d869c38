"""What a bench run does (its options, recorded in the report) and where the stack is (the settings scripts/lib.sh
exports: versions.env, .env.example, .env)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from glue import run_local
from producer.settings import dsn_from_env

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Options:
    idle_rate: float = 50.0          # changes/s of the idle phase: the stack's own producer's rate
    idle_seconds: float = 60.0
    steady_rate: float = 1000.0      # changes/s of the steady phase
    steady_seconds: float = 60.0
    steady_txn_size: int = 10        # producer --max-txn-size: each transaction holds 1..K changes
    max_count: int = 200_000         # changes of the maximum-rate phase (producer --rate 0)
    max_txn_size: int = 100
    drain_count: int = 100_000       # changes each drain phase lets pile up before the stage drains them
    repeat: int = 3                  # runs of the steady phase; the report gives medians
    max_repeat: int = 1              # runs of the maximum-rate phase
    seed: int = 42
    phases: tuple[str, ...] = ("idle", "steady", "max", "debezium-drain", "job-drain", "table-size")
    table_sizes: tuple[int, ...] = (100_000, 1_000_000, 10_000_000)  # orders rows of the table-size phase's runs
    table_load_seconds: float = 3600.0  # all the table-size phase's loads together: a size not reached is stated
    peer: bool = True                # also run the phases through Apache Iceberg's Kafka Connect sink
    ceilings: bool = True            # raw PostgreSQL commit rate and Kafka's produce rate
    # records of the Kafka produce ceiling: enough that the tool's JVM start is a small part of its time
    perf_records: int = 50_000
    catch_up_timeout: float = 900.0  # seconds to wait for the lake to hold every change of a phase
    out: Path = ROOT / "bench" / "results"

    def as_dict(self) -> dict:
        d = asdict(self)
        d["phases"] = list(self.phases)
        d["table_sizes"] = list(self.table_sizes)
        d["out"] = str(self.out)
        return d


@dataclass(frozen=True)
class Stack:
    """Where the local stack's components listen, from the settings."""

    env: Mapping[str, str]

    def __getitem__(self, name: str) -> str:
        try:
            return self.env[name]
        except KeyError:
            raise SystemExit(f"bench: setting {name} is not set; run `make bench` or source scripts/lib.sh") from None

    @classmethod
    def from_environ(cls) -> Stack:
        return cls(dict(os.environ))

    @property
    def kafka(self) -> str:
        return f"{self['KAFKA_HOST']}:{self['KAFKA_PORT']}"

    @property
    def connect_url(self) -> str:
        return f"http://{self['CONNECT_HOST']}:{self['CONNECT_PORT']}"

    @property
    def s3_endpoint(self) -> str:
        return run_local.s3_endpoint(run_local.Settings(self.env))

    @property
    def catalog_jdbc_url(self) -> str:
        """The job's own JDBC catalog: the peer writes into the same one."""
        return run_local.catalog_uri(run_local.Settings(self.env))

    @property
    def app_dsn(self) -> str:
        return dsn_from_env(self.env)

    def path(self, name: str) -> Path:
        p = Path(self[name])
        return p if p.is_absolute() else ROOT / p

    @property
    def trigger_ms(self) -> int:
        return int(float(self["JOB_TRIGGER_SECONDS"]) * 1000)
