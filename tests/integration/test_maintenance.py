"""The lake's maintenance beside the stream: a round (make maintain: another Spark process, committing to the same
tables) while a 300 changes/s producer (the only writer) writes compacts the mirrors; the stream goes on without
pausing any mirror, and the mirrors equal their sources row for row."""

import os
import re
import subprocess
import time
from datetime import datetime

from conftest import ROOT, app_dsn_of_stack, producer_command
from stack import repair
from stack.lakecheck import settle

PRODUCER_TABLES = {"customers": {"profile"}, "orders": {"details"}}


def last_compaction(spark, namespace: str, table: str) -> datetime | None:
    spark.sql(f"REFRESH TABLE {namespace}.{table}")  # the session's catalog caches what it loaded
    (row,) = spark.sql(f"SELECT max(committed_at) AS at FROM {namespace}.{table}.snapshots "
                       "WHERE operation = 'replace'").collect()
    return row.at


def test_a_round_beside_the_stream_compacts_and_the_mirrors_still_equal_their_sources(lake, quiet_source):
    spark, namespace = lake
    started = datetime.now()  # naive local time, as PySpark returns timestamps
    producer = subprocess.Popen(producer_command("--rate", "300", "--duration", "600", "--seed", "61"))
    try:
        time.sleep(15)  # changes in flight: the round's commits meet the stream's
        done = subprocess.run(["make", "--no-print-directory", "maintain"], cwd=ROOT, capture_output=True, text=True,
                              check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        assert producer.poll() is None, "the producer stopped before the round ended: nothing was flowing"
    finally:
        producer.kill()
        producer.wait()
    assert re.search(r"glue\.maintenance: maintenance round: \d+ tables", done.stdout + done.stderr)
    for table in PRODUCER_TABLES:
        compacted = last_compaction(spark, namespace, table)
        assert compacted is not None and compacted >= started, f"{table}: no compaction committed by the round"
    assert repair.paused_tables() == {}
    dsn = app_dsn_of_stack()
    for table, json_columns in PRODUCER_TABLES.items():
        assert settle(lake, dsn, os.environ["PG_SCHEMA"], table, ["id"], json_columns) == []
