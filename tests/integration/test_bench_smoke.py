"""`make bench` in miniature: a few hundred changes through both phases, Debezium's drain, the table-size phase
(the orders table grown by a few hundred rows) and the ceilings, one run each, against the running stack (the job's
drain, which restarts the job, is left to `make bench`), in under a minute. Checks that the report files are written
and that the numbers hold together: every committed change counted once in Kafka and in the lake, latencies
non-negative and ordered, counts equal to the producer's journal.

The peer (Apache Iceberg's Kafka Connect sink) is left out by default: measured here it costs over 60 s on top
(a Spark session to read its tables' snapshots, the Glue job stopped for its runs and restarted after, draining what
they left). BENCH_SMOKE_PEER=1 includes it.
"""

import csv
import gzip
import json
import os
import subprocess
import sys
import time

import psycopg2
import pytest

from conftest import ROOT, app_dsn_of_stack

PEER = os.environ.get("BENCH_SMOKE_PEER") == "1"
GROWN_BY = 400  # orders rows the table-size phase loads
BUDGET_S = 60  # the whole bench run, end to end


def program_running(name: str) -> bool:
    result = subprocess.run(["bash", "-c", f". scripts/lib.sh && supervisorctl status {name}"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    return " RUNNING " in result.stdout


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    producer_was_running = program_running("producer")
    with psycopg2.connect(app_dsn_of_stack()) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {os.environ['PG_SCHEMA']}.orders")
        size = cur.fetchone()[0] + GROWN_BY
    conn.close()
    cmd = [sys.executable, "-m", "bench", "run", "--steady-rate", "50", "--steady-seconds", "3", "--max-count", "300",
           "--repeat", "1", "--catch-up-timeout", "150", "--out", str(out), "--peer" if PEER else "--no-peer",
           "--phases", "steady,max,debezium-drain,table-size", "--drain-count", "300", "--perf-records", "2000",
           "--table-sizes", str(size)]
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, f"bench failed:\n{result.stdout[-3000:]}\n{result.stderr[-5000:]}"
    (run_dir,) = out.iterdir()
    return (run_dir, json.loads((run_dir / "results.json").read_text()), result.stdout, producer_was_running, size,
            (elapsed, result.stderr))


def all_runs(results: dict) -> list[dict]:
    return [*results["runs"], *results["peer"].get("runs", [])]


def test_the_bench_runs_end_to_end_in_under_a_minute(bench_run):
    *_, (elapsed, log) = bench_run
    assert elapsed < BUDGET_S, f"the smoke bench took {elapsed:.0f} s (budget {BUDGET_S} s); its phases:\n{log[-3000:]}"


def test_the_report_files_are_written(bench_run):
    run_dir, _, printed, *_ = bench_run
    for name in ("report.md", "results.json", "latency.png", "throughput.png"):
        assert (run_dir / name).stat().st_size > 0, name
    assert "commit-to-lake p95" in printed and "commit-to-lake p95" in (run_dir / "report.md").read_text()


def test_both_phases_ran_through_each_pipeline(bench_run):
    _, results, *_ = bench_run
    assert sorted(r["label"] for r in all_runs(results)) == sorted(
        ["ours-steady-0", "ours-max-0", "ours-table-size-0"] + (["peer-steady-0", "peer-max-0"] if PEER else []))
    if PEER:
        assert results["peer"]["status"] == "ok", results["peer"].get("why")


def test_every_committed_change_is_counted_once_in_kafka_and_in_the_lake(bench_run):
    run_dir, results, *_ = bench_run
    for r in all_runs(results):
        c = r["counts"]
        journal = (run_dir / "raw" / f"{r['label']}.journal.jsonl").read_text().splitlines()
        assert c["journal"] == len(journal) == r["producer"]["changes"], r["label"]
        assert (c["delivered"], c["visible"]) == (c["journal"], c["journal"]), r["label"]
        assert (c["missing"], c["duplicates"], c["not_visible"]) == (0, 0, 0), r["label"]
        with gzip.open(run_dir / "raw" / f"{r['label']}.csv.gz", "rt") as handle:
            rows = list(csv.DictReader(handle))
        positions = {(row["topic"], row["partition"], row["offset"]) for row in rows}
        assert len(rows) == len(positions) == c["journal"], r["label"]


def test_debezium_drains_the_changes_committed_while_it_was_stopped_each_once(bench_run):
    run_dir, results, *_ = bench_run
    (run,) = results["drains"]
    journal = (run_dir / "raw" / f"{run['label']}.journal.jsonl").read_text().splitlines()
    assert run["counts"]["journal"] == len(journal) == run["producer"]["changes"] > 0
    assert (run["counts"]["missing"], run["counts"]["duplicates"]) == (0, 0)
    assert run["first_in_kafka_s"] >= 0 and run["drain_rate"] > 0
    assert "| ours-debezium-drain-0 |" in (run_dir / "report.md").read_text()


def test_the_table_size_phase_grows_the_source_through_the_pipeline_to_an_equal_mirror(bench_run):
    run_dir, results, _, _, size, _ = bench_run
    (run,) = [r for r in results["runs"] if r["phase"] == "table-size"]
    load = run["table_size"]
    # the stack's producer, stopped by the bench, may have added orders after the size was read: fewer to load
    assert load["reached"] and load["source_rows"] == size and 0 < load["loaded_rows"] <= GROWN_BY
    assert load["mirror_rows"] == load["source_rows"]  # the steady run after it had not begun
    assert f"| ours-table-size-0 | {size:,} | {size:,} |" in (run_dir / "report.md").read_text()


def test_latencies_are_non_negative_and_ordered(bench_run):
    run_dir, results, *_ = bench_run
    for r in all_runs(results):
        lat = r["latency"]["commit_to_lake"]
        assert r["latency"]["min_ms"] >= 0, r["label"]
        assert 0 <= lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"], r["label"]
        assert r["latency"]["commit_to_kafka"]["p50"] >= 0, r["label"]
        with gzip.open(run_dir / "raw" / f"{r['label']}.csv.gz", "rt") as handle:
            assert all(int(row["visible_ms"]) >= int(row["kafka_ms"]) >= int(row["commit_ms"])
                       for row in csv.DictReader(handle)), r["label"]


def test_throughputs_and_ceilings_are_measured(bench_run):
    _, results, *_ = bench_run
    for r in all_runs(results):
        t = r["throughput"]
        assert t["source_commit"] > 0 and t["debezium"] > 0 and t["lake"] > 0, r["label"]
    assert results["ceilings"]["postgres_raw"]["rate"] > 0
    assert results["ceilings"]["kafka_produce"]["rate"] > 0
    assert results["summary"]["ratios"]["lake_vs_raw"] > 0


def test_the_stack_is_left_as_it_was_found(bench_run):
    _, _, _, producer_was_running, *_ = bench_run
    assert program_running("producer") == producer_was_running
    assert program_running("glue")
