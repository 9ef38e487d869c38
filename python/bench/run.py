"""The whole bench: the phases through the Glue job, the ceilings, the same phases through the peer; then the report.
Whatever it stopped (the stack's producer, the job during the peer's runs) it starts again, whatever happens."""

from __future__ import annotations

import json
import logging
import os
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench import ceilings, control, drain, machine, peer, phases, plots, report, tablesize
from bench.config import Options, Stack
from bench.events import Topics
from bench.lake import JobRecords
from bench.workload import Workload
from glue import run_local
from glue.lake import local_options
from stack import supervisor
from stack.settings import lake_s3

log = logging.getLogger("bench")


def workloads(options: Options) -> dict[str, Workload]:
    return {
        "idle": Workload("idle", options.idle_rate, options.steady_txn_size, options.seed,
                         seconds=options.idle_seconds),
        "steady": Workload("steady", options.steady_rate, options.steady_txn_size, options.seed,
                           seconds=options.steady_seconds),
        "max": Workload("max", 0, options.max_txn_size, options.seed, count=options.max_count),
        "drain": Workload("drain", 0, options.max_txn_size, options.seed, count=options.drain_count),
    }


def repeats(options: Options) -> dict[str, int]:
    return {"idle": 1, "steady": options.repeat, "max": options.max_repeat}


def flow_phases(options: Options) -> list[str]:
    """The phases that run the producer through a working pipeline (steady, max), not the drains or the table sizes."""
    return [p for p in options.phases if p not in (*drain.STAGES, tablesize.PHASE)]


def run_drains(ctx: phases.Context, options: Options, pipeline: str) -> list[dict]:
    """The drain phases chosen, once each: Debezium's for ours only (the peer reads the same Debezium topics)."""
    runs = []
    if pipeline == "ours" and "debezium-drain" in options.phases:
        runs.append(drain.debezium_drain(ctx, workloads(options)["drain"], 0))
    if "job-drain" in options.phases:
        runs.append(drain.job_drain(ctx, pipeline, workloads(options)["drain"], 0))
    return runs


def spark_reader():
    os.environ["TZ"] = "UTC"  # Spark hands timestamps to Python in the process's time zone
    time.tzset()
    from glue.lake import local_reader

    spark, _ = local_reader()
    return spark


def ensure_job(stack: Stack, notes: list[str]) -> None:
    """The job runs, and runs the code in the tree (it writes the batch records the latencies come from)."""
    pid = supervisor.pid("glue")
    if pid is None:
        raise SystemExit("bench: the Glue job is not running; start the stack with `make local-up`")
    if control.job_is_stale(pid):
        log.info("python/glue changed since the job started: restarting it")
        control.restart_job()
        notes.append("The Glue job was restarted first: python/glue had changed since it started.")


def load_peer_plugin(stack: Stack, connect: peer.Connect, notes: list[str]) -> None:
    """A worker started before the plugin directory existed does not know the plugin: restart it once."""
    if peer.CONNECTOR_CLASS in connect.plugins():
        return
    from stack.connect import wait_running

    log.info("restarting Kafka Connect to load the Iceberg sink plugin")
    supervisor.restart("connect")
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            connect.plugins()
            break
        except Exception:  # noqa: BLE001 - the worker is still starting
            time.sleep(2)
    wait_running(stack["CONNECTOR_NAME"], 180)
    notes.append("Kafka Connect was restarted to load the Iceberg sink plugin; the Debezium connector was RUNNING "
                 "again before the peer's runs.")
    if peer.CONNECTOR_CLASS not in connect.plugins():
        raise RuntimeError(f"Kafka Connect does not list {peer.CONNECTOR_CLASS} after a restart "
                           f"(plugin.path holds {peer.plugin_dir(stack)})")


def run_peer(ctx: phases.Context, options: Options, restorer: control.Restorer) -> dict:
    stack = ctx.stack
    connect = peer.Connect(stack.connect_url)
    topics = [f"{stack['TOPIC_PREFIX']}.{stack['PG_SCHEMA']}.{t}" for t in phases.WORKLOAD_TABLES]
    secret = peer.write_secret(stack)
    config = peer.connector_config(stack, topics, secret)
    info: dict = {"connector": peer.CONNECTOR, "plugin_dir": str(peer.plugin_dir(stack)),
                  "commit_interval_ms": stack.trigger_ms, "config": peer.shown(config), "runs": []}
    if not peer.plugin_dir(stack).is_dir():
        return {**info, "status": "unavailable",
                "why": f"no plugin directory {peer.plugin_dir(stack)}: run `make install` (jvm/iceberg-kafka-connect)"}
    try:
        load_peer_plugin(stack, connect, ctx.notes)
        restorer.stop("glue")  # the peer has the machine to itself, as the job had
        connect.delete(peer.CONNECTOR)
        # the peer starts from empty tables each bench (the previous bench's are kept until then, to look at)
        for table in phases.CatalogTables(stack, peer.NAMESPACE).locations():
            ctx.spark.sql(f"DROP TABLE IF EXISTS lake.{peer.NAMESPACE}.{table} PURGE")
        ends = phases.wait_kafka_stable(ctx.topics, None, 0, ctx.catch_up_timeout, notes=ctx.notes)
        connect.create_stopped(peer.CONNECTOR, config)
        connect.wait_state(peer.CONNECTOR, "STOPPED", 60)
        connect.set_sink_offsets(peer.CONNECTOR, {tp: o for tp, o in ends.items() if tp.topic in topics})
        connect.resume(peer.CONNECTOR)
        connect.wait_state(peer.CONNECTOR, "RUNNING", 120)
        for phase in flow_phases(options):
            for i in range(repeats(options)[phase]):
                info["runs"].append(phases.run_phase(ctx, "peer", workloads(options)[phase], i))
        info["drains"] = run_drains(ctx, options, "peer")
        info["status"] = "ok"
    except Exception as error:  # noqa: BLE001 - the report says exactly why the peer failed
        info["status"] = "failed"
        info["why"] = f"{type(error).__name__}: {error}"
        info["traceback"] = traceback.format_exc()[-4000:]
        log.error("peer failed: %s", info["why"])
    finally:
        try:
            connect.delete(peer.CONNECTOR)
        except Exception as error:  # noqa: BLE001 - reported, the rest of the clean-up goes on
            ctx.notes.append(f"Deleting connector {peer.CONNECTOR} failed: {error}")
    return info


def restart_job(ctx: phases.Context, restorer: control.Restorer, stopped_at: dict) -> dict:
    """Start the job again and wait until it streams; what was written while it was stopped (the peer's runs) it
    drains in the background, after the bench."""
    if "glue" not in restorer.stopped:
        return {}
    ends = ctx.topics.end_offsets()
    backlog = sum(max(0, o - stopped_at.get(tp, 0)) for tp, o in ends.items())
    seconds = control.restart_job(restart=False)
    restorer.started("glue")
    return {"backlog_messages": backlog, "start_seconds": round(seconds, 1)}


def run(options: Options, stack: Stack) -> Path:
    started = datetime.now(UTC)
    run_dir = options.out / started.strftime("%Y-%m-%dT%H%M%SZ")
    (run_dir / "raw").mkdir(parents=True, exist_ok=True)
    results: dict = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine.machine(),
        "versions": {**machine.versions(), "postgresql_server": machine.postgres_version(stack.app_dsn)},
        "settings": {**options.as_dict(), "job_trigger_seconds": stack["JOB_TRIGGER_SECONDS"],
                     "job_driver_memory": stack["JOB_DRIVER_MEMORY"], "kafka_heap": stack["KAFKA_HEAP"],
                     "connect_heap": stack["CONNECT_HEAP"],
                     "workloads": {k: w.describe() for k, w in workloads(options).items()}},
        "runs": [], "drains": [], "ceilings": {}, "peer": {"status": "skipped", "why": "--no-peer"}, "notes": [],
    }
    restorer = control.Restorer()
    topics = Topics(stack.kafka, stack["TOPIC_PREFIX"], stack["PG_SCHEMA"])
    job_options = local_options(run_local.Settings(stack.env))
    job = JobRecords(lake_s3(), job_options.metrics_uri, job_options.checkpoint_uri)
    ctx = phases.Context(stack, topics, job, run_dir, options.catch_up_timeout, spark_reader, restorer)
    ctx.notes = results["notes"]
    try:
        restorer.stop("producer")  # the stack's own producer would mix its changes into the phases
        ensure_job(stack, ctx.notes)
        # a MERGE reads the mirror table: its size is part of the setting
        results["settings"]["lake_rows_at_start"] = phases.CatalogTables(stack, stack["LAKE_DATABASE"]).records()
        for phase in flow_phases(options):
            for i in range(repeats(options)[phase]):
                results["runs"].append(phases.run_phase(ctx, "ours", workloads(options)[phase], i))
        results["drains"] = run_drains(ctx, options, "ours")
        if tablesize.PHASE in options.phases:  # last: it only grows the tables the other phases run on
            results["runs"] += tablesize.runs(ctx, workloads(options)["steady"], options.table_sizes,
                                              options.table_load_seconds)
        stopped_at = topics.end_offsets()
        if options.peer:
            # the peer with the machine to itself, and the ceilings (before it) with no pipeline at all
            restorer.stop("glue")
            during = "the ceilings and the peer's runs" if options.ceilings else "the peer's runs"
            results["notes"].append(f"The Glue job was stopped during {during}, and started again after.")
        elif options.ceilings:
            phases.wait_lake(ctx, "ours", stopped_at, None)  # idle: Debezium's drain leaves the job changes to apply
            results["notes"].append("The Glue job ran, idle, during the ceilings (their writes are outside its "
                                    "topics).")
        if options.ceilings:
            results["ceilings"] = measure_ceilings(ctx, options, results["runs"])
        if options.peer:
            results["peer"] = run_peer(ctx, options, restorer)
        results["job_restart"] = restart_job(ctx, restorer, stopped_at)
    finally:
        restored = restorer.restore()
        if restored:
            results["notes"].append(f"Started again after the bench: {', '.join(restored)}.")
        if ctx._spark is not None:
            ctx._spark.stop()
        topics.close()
        results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        results["machine"]["load_average_end"] = machine.load_average()
        results["summary"] = report.summarize(results)
        (run_dir / "results.json").write_text(json.dumps(results, indent=1, default=str))
        plots.draw(results, run_dir)
        report.write(results, run_dir)
    return run_dir


def measure_ceilings(ctx: phases.Context, options: Options, runs: list[dict]) -> dict:
    out: dict = {}
    raw_workload = workloads(options)["max"]
    log.info("ceiling: raw PostgreSQL commit rate, %s", raw_workload.describe())
    out["postgres_raw"] = ceilings.raw_postgres(ctx.stack, raw_workload, ctx.run_dir / "raw" / "raw-pg.journal.jsonl")
    sizes = [r["event_bytes"]["median"] for r in runs if r["event_bytes"]["median"]]
    size = int(sorted(sizes)[len(sizes) // 2]) if sizes else 2000
    log.info("ceiling: Kafka produce rate, %d records of %d bytes", options.perf_records, size)
    out["kafka_produce"] = ceilings.kafka_produce(ctx.stack, options.perf_records, size)
    return out
