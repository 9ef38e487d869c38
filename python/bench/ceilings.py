"""The ceilings, measured on the same machine in the same run: PostgreSQL's commit rate for the same workload with no
CDC attached, and the Kafka broker's own produce rate for records of Debezium's size."""

from __future__ import annotations

import re
import secrets
import subprocess
from pathlib import Path

import psycopg2
from psycopg2 import sql

from bench.config import ROOT, Stack
from bench.events import create_topic, delete_topic
from bench.workload import Workload, create_schema, run_producer

PERF_TOOL = "org.apache.kafka.tools.ProducerPerformance"
# "200000 records sent, 95238.1 records/sec (31.00 MB/sec), 5.12 ms avg latency, 250.00 ms max latency, ..."
PERF_SUMMARY = re.compile(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency, "
                          r"([\d.]+) ms max latency")


def raw_postgres(stack: Stack, workload: Workload, journal: Path) -> dict:
    """The workload into a throwaway schema outside the publication: Debezium publishes none of it (its walsender
    still reads the WAL, as it would for any other write to the database), the job has nothing to do."""
    schema = f"bench_raw_{secrets.token_hex(4)}"
    create_schema(schema)
    try:
        run = run_producer(workload, journal, schema=schema)
    finally:
        with psycopg2.connect(stack.app_dsn) as conn, conn.cursor() as cur:
            cur.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.close()
        journal.unlink(missing_ok=True)
    return {"rate": run.rate, "changes": run.changes, "transactions": run.transactions, "schema": schema,
            "workload": workload.describe()}


def parse_perf(output: str) -> dict:
    found = PERF_SUMMARY.findall(output)
    if not found:
        raise ValueError(f"no summary line in {PERF_TOOL}'s output: {output[-1000:]!r}")
    records, per_s, mb_s, avg_ms, max_ms = found[-1]
    return {"records": int(records), "rate": float(per_s), "mb_per_s": float(mb_s), "avg_latency_ms": float(avg_ms),
            "max_latency_ms": float(max_ms)}


def kafka_produce(stack: Stack, records: int, record_size: int) -> dict:
    """kafka-producer-perf-test into a new one-partition topic (as Debezium's table topics), then deleted."""
    topic = f"bench-perf-{secrets.token_hex(4)}"
    create_topic(stack.kafka, topic)
    classpath = f"{stack.path('BUILD_DIR') / 'jvm' / 'kafka'}/*"
    cmd = ["java", f"-Dlog4j2.configurationFile={ROOT / 'config' / 'log4j2.properties'}", "-cp", classpath, PERF_TOOL,
           "--topic", topic, "--num-records", str(records), "--record-size", str(record_size), "--throughput", "-1",
           "--producer-props", f"bootstrap.servers={stack.kafka}"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
    finally:
        delete_topic(stack.kafka, topic)
    if result.returncode != 0:
        raise RuntimeError(f"{PERF_TOOL} failed ({result.returncode}): {result.stderr[-2000:]}")
    return {**parse_perf(result.stdout), "record_size": record_size, "topic": topic,
            "producer_props": "the tool's defaults (acks=all, no compression)"}
