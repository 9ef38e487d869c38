"""The report: medians over repeated runs, ratios to the ceilings and to the peer, the targets, where the time goes;
written as report.md and printed as a short table."""

from __future__ import annotations

import json
from pathlib import Path

from bench.stats import median, ratio
from bench.tablesize import CHUNK
from bench.tablesize import PHASE as SIZE_PHASE

PIPELINES = ("ours", "peer")
PHASES = ("idle", "steady", "max")
LATENCY = ("p50", "p95", "p99", "max")
TARGETS = {"debezium": 5000.0, "steady_p95": 5.0, "lake_vs_raw": 0.6, "drain": 10000.0, "size_growth": 1.5}
DRAIN_FIELDS = ("drain_rate", "drain_rate_with_start", "first_in_kafka_s", "start_seconds")


def _runs(results: dict, pipeline: str) -> list[dict]:
    return results["runs"] if pipeline == "ours" else results.get("peer", {}).get("runs", [])


def _median_of(runs: list[dict], *path: str) -> float | None:
    values = []
    for r in runs:
        v = r
        for p in path:
            v = v.get(p) if isinstance(v, dict) else None
        values.append(v)
    return median(values)


def summarize(results: dict) -> dict:
    """Medians per pipeline and phase, the ratios and the targets."""
    out: dict = {"pipelines": {}}
    for pipeline in PIPELINES:
        for phase in PHASES:
            runs = [r for r in _runs(results, pipeline) if r["phase"] == phase]
            if not runs:
                continue
            s = {"runs": len(runs)}
            for name in ("source_commit", "debezium", "debezium_peak_1s", "lake"):
                s[name] = _median_of(runs, "throughput", name)
            for q in LATENCY:
                s[f"latency_{q}"] = _median_of(runs, "latency", "commit_to_lake", q)
                s[f"to_kafka_{q}"] = _median_of(runs, "latency", "commit_to_kafka", q)
            s["catch_up_kafka"] = _median_of(runs, "catch_up", "kafka")
            s["catch_up_lake"] = _median_of(runs, "catch_up", "lake")
            components = sorted({c for r in runs for c in r.get("memory_peak_mb", {})})
            s["memory_peak_mb"] = {c: max(r["memory_peak_mb"].get(c, 0) for r in runs) for c in components}
            cpu_names = sorted({c for r in runs for c in r.get("cpu_cores", {})})
            s["cpu_cores"] = {c: median(r.get("cpu_cores", {}).get(c) for r in runs) for c in cpu_names}
            s["every_change_once"] = all(r["counts"]["missing"] == 0 and r["counts"]["not_visible"] == 0
                                         and r["counts"]["duplicates"] == 0 for r in runs)
            out["pipelines"][f"{pipeline}.{phase}"] = s
    for pipeline in PIPELINES:
        drains = results.get("drains", []) if pipeline == "ours" else results.get("peer", {}).get("drains", [])
        for phase in ("debezium-drain", "job-drain"):
            runs = [r for r in drains if r["phase"] == phase]
            if runs:
                out["pipelines"][f"{pipeline}.{phase}"] = {
                    "runs": len(runs), **{f: _median_of(runs, f) for f in DRAIN_FIELDS},
                    "every_change_once": all(r["counts"]["missing"] == 0 and r["counts"]["duplicates"] == 0
                                             and r["counts"].get("not_visible", 0) == 0 for r in runs)}
    p = out["pipelines"]
    ours_max, ours_steady = p.get("ours.max", {}), p.get("ours.steady", {})
    peer_max, peer_steady = p.get("peer.max", {}), p.get("peer.steady", {})
    raw = results.get("ceilings", {}).get("postgres_raw", {}).get("rate")
    kafka = results.get("ceilings", {}).get("kafka_produce", {}).get("rate")
    out["ratios"] = {
        "source_with_cdc_vs_raw": ratio(ours_max.get("source_commit"), raw),
        "debezium_vs_kafka": ratio(ours_max.get("debezium"), kafka),
        "lake_vs_raw": ratio(ours_max.get("lake"), raw),
        "peer_lake_vs_raw": ratio(peer_max.get("lake"), raw),
        "ours_vs_peer_lake_max": ratio(ours_max.get("lake"), peer_max.get("lake")),
        "ours_vs_peer_lake_steady": ratio(ours_steady.get("lake"), peer_steady.get("lake")),
        "ours_vs_peer_p50_steady": ratio(ours_steady.get("latency_p50"), peer_steady.get("latency_p50")),
        "ours_vs_peer_p95_steady": ratio(ours_steady.get("latency_p95"), peer_steady.get("latency_p95")),
        "ours_vs_peer_p95_max": ratio(ours_max.get("latency_p95"), peer_max.get("latency_p95")),
    }
    debezium = ours_max.get("debezium")
    steady_p95, peer_p95 = ours_steady.get("latency_p95"), peer_steady.get("latency_p95")
    lake_vs_raw, peer_lake = out["ratios"]["lake_vs_raw"], peer_max.get("lake")
    out["targets"] = [
        {"name": "Debezium carries at least 5,000 changes/s (maximum-rate phase)", "value": debezium,
         "met": None if debezium is None else debezium >= TARGETS["debezium"]},
        {"name": "steady 1,000 changes/s: commit-to-lake p95 at most 5 s, and not above the peer's",
         "value": steady_p95,
         "met": None if steady_p95 is None else steady_p95 <= TARGETS["steady_p95"]
         and (peer_p95 is None or steady_p95 <= peer_p95)},
        {"name": "the lake keeps up with at least 60 % of the raw PostgreSQL commit rate, and the peer's",
         "value": lake_vs_raw,
         "met": None if lake_vs_raw is None else lake_vs_raw >= TARGETS["lake_vs_raw"]
         and (peer_lake is None or ours_max.get("lake") >= peer_lake)},
    ]
    for phase, what in (("debezium-drain", "Debezium empties a filled slot"), ("job-drain", "the job empties filled "
                                                                                             "topics")):
        value = p.get(f"ours.{phase}", {}).get("drain_rate")
        out["targets"].append({"name": f"drain: {what} at 10,000 changes/s or more", "value": value,
                               "met": None if value is None else value >= TARGETS["drain"]})
    out["table_sizes"] = table_sizes(results)
    growth = ratio(out["table_sizes"][-1]["p95"], out["table_sizes"][0]["p95"]) if len(out["table_sizes"]) > 1 \
        else None
    out["targets"].append({"name": "table size: the p95 with the largest mirror within 1.5× of the p95 with the "
                                   "smallest", "value": growth,
                           "met": None if growth is None else growth <= TARGETS["size_growth"]})
    return out


def table_sizes(results: dict) -> list[dict]:
    """The table-size phase's runs, smallest mirror first: its size and the figures that depend on it."""
    sizes = []
    for r in sorted((r for r in results["runs"] if r["phase"] == SIZE_PHASE),
                    key=lambda r: r["table_size"]["mirror_rows"]):
        lat, job = r["latency"]["commit_to_lake"], r.get("job", {})
        sizes.append({"label": r["label"], **r["table_size"], "p50": lat["p50"], "p95": lat["p95"],
                      "source_commit": r["throughput"]["source_commit"],
                      "batch_p50_s": job.get("duration_s", {}).get("p50"),
                      "merge_share": job.get("step_share", {}).get("merge"),
                      "glue_cores": r.get("cpu_cores", {}).get("glue")})
    return sizes


def fmt(value, digits: int = 0, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float | int):
        text = f"{value:,.{digits}f}"
    else:
        text = str(value)
    return f"{text}{unit}"


def pct(value) -> str:
    return "–" if value is None else f"{value * 100:.0f} %"


def summary_rows(results: dict) -> list[list[str]]:
    """[measure, ours, peer, ours/peer, ceiling, ours/ceiling] rows of the summary table."""
    p = results["summary"]["pipelines"]
    ceil = results.get("ceilings", {})
    raw = ceil.get("postgres_raw", {}).get("rate")
    kafka = ceil.get("kafka_produce", {}).get("rate")
    rows = []

    def row(label, key, field, digits=0, ceiling=None, ceiling_label="", invert=False):
        ours = p.get(f"ours.{key}", {}).get(field)
        peer_value = p.get(f"peer.{key}", {}).get(field)
        rows.append([label, fmt(ours, digits), fmt(peer_value, digits), fmt(ratio(ours, peer_value), 2),
                     f"{fmt(ceiling, digits)} {ceiling_label}".strip() if ceiling else "",
                     pct(ratio(ours, ceiling)) if ceiling else ""])

    if "ours.idle" in p:
        rows.append(["idle: cores the job used (the peer: Connect's)",
                     fmt(p["ours.idle"].get("cpu_cores", {}).get("glue"), 2),
                     fmt(p.get("peer.idle", {}).get("cpu_cores", {}).get("connect"), 2), "", "", ""])
        row("idle: commit-to-lake p95, s", "idle", "latency_p95", 2)
    if "ours.steady" in p:
        row("steady: source commits/s", "steady", "source_commit")
        row("steady: Debezium → Kafka, changes/s", "steady", "debezium")
        row("steady: lake, changes/s", "steady", "lake")
        for q in LATENCY:
            row(f"steady: commit-to-lake {q}, s", "steady", f"latency_{q}", 2)
        row("steady: lake catch-up after the producer stops, s", "steady", "catch_up_lake", 1)
    if "ours.max" in p:
        row("max: source commits/s (CDC attached)", "max", "source_commit", ceiling=raw, ceiling_label="raw PG")
        row("max: Debezium → Kafka, changes/s", "max", "debezium", ceiling=kafka, ceiling_label="Kafka produce")
        row("max: Debezium → Kafka, best second, changes/s", "max", "debezium_peak_1s", ceiling=kafka,
            ceiling_label="Kafka produce")
        row("max: lake, changes/s", "max", "lake", ceiling=raw, ceiling_label="raw PG")
        for q in LATENCY:
            row(f"max: commit-to-lake {q}, s", "max", f"latency_{q}", 2)
        row("max: Kafka catch-up after the producer stops, s", "max", "catch_up_kafka", 1)
        row("max: lake catch-up after the producer stops, s", "max", "catch_up_lake", 1)
    if "ours.debezium-drain" in p:
        row("drain: Debezium, a filled slot → Kafka, changes/s", "debezium-drain", "drain_rate", ceiling=kafka,
            ceiling_label="Kafka produce")
        row("drain: Debezium's first change in Kafka after the resume, s", "debezium-drain", "first_in_kafka_s", 1)
    if "ours.job-drain" in p or "peer.job-drain" in p:
        row("drain: filled topics → lake, changes/s", "job-drain", "drain_rate", ceiling=kafka,
            ceiling_label="Kafka produce")
        row("drain: the same from the start command, changes/s", "job-drain", "drain_rate_with_start")
        row("drain: the job's start until it streams, s", "job-drain", "start_seconds", 1)
    return rows


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


SUMMARY_HEADER = ["measure (median of runs)", "ours (Glue job)", "peer (Iceberg sink)", "ours/peer", "ceiling",
                  "ours/ceiling"]


def run_rows(results: dict) -> list[list[str]]:
    rows = []
    for pipeline in PIPELINES:
        for r in _runs(results, pipeline):
            c, t, lat = r["counts"], r["throughput"], r["latency"]["commit_to_lake"]
            rows.append([r["label"], fmt(c["journal"]), fmt(c["delivered"]), fmt(c["visible"]),
                         f"{c['missing']}/{c['duplicates']}/{c['not_visible']}", fmt(c["foreign"]),
                         fmt(t["source_commit"]), fmt(t["debezium"]), fmt(t["lake"]),
                         fmt(lat["p50"], 2), fmt(lat["p95"], 2), fmt(lat["p99"], 2), fmt(lat["max"], 2),
                         fmt(r["latency"]["commit_to_kafka"]["p95"], 2), fmt(r["catch_up"]["lake"], 1)])
    return rows


def drain_rows(results: dict) -> list[list[str]]:
    rows = []
    for r in [*results.get("drains", []), *results.get("peer", {}).get("drains", [])]:
        c = r["counts"]
        rows.append([r["label"], fmt(c["journal"]), f"{c['missing']}/{c['duplicates']}/{c.get('not_visible', 0)}",
                     fmt(r["producer"]["rate"]), fmt(r.get("drain_rate")), fmt(r.get("drain_rate_with_start")),
                     fmt(r.get("first_in_kafka_s"), 1), fmt(r.get("start_seconds"), 1)])
    return rows


DRAIN_HEADER = ["run", "committed", "missing/dup/unseen", "filled at changes/s", "drained changes/s",
                "with start-up changes/s", "first in Kafka s", "start s"]
RUN_HEADER = ["run", "committed", "in Kafka", "in lake", "missing/dup/unseen", "foreign", "source/s", "Debezium/s",
              "lake/s", "p50 s", "p95 s", "p99 s", "max s", "to Kafka p95 s", "lake catch-up s"]


def size_rows(results: dict) -> list[list[str]]:
    sizes = results["summary"].get("table_sizes", [])
    first = sizes[0]["p95"] if sizes else None
    return [[t["label"], fmt(t["source_rows"]), fmt(t["mirror_rows"]), f"{fmt(t['load_s'], 0)} ({fmt(t['load_rate'])})",
             fmt(t["source_commit"]), fmt(t["p50"], 2), fmt(t["p95"], 2), fmt(ratio(t["p95"], first), 2),
             fmt(t["batch_p50_s"], 1), pct(t["merge_share"]), fmt(t["glue_cores"], 2)] for t in sizes]


SIZE_HEADER = ["run", "source orders", "mirror orders", "load s (rows/s)", "source/s", "p50 s", "p95 s",
               "p95 / smallest's", "batch p50 s", "MERGE share", "job cores"]


def resource_rows(results: dict) -> list[list[str]]:
    rows = []
    for key, s in results["summary"]["pipelines"].items():
        memory, cpu = s.get("memory_peak_mb", {}), s.get("cpu_cores", {})  # the drains sample none
        for c in sorted(set(memory) | set(cpu)):
            rows.append([key, c, fmt(memory.get(c)), fmt(cpu.get(c), 2)])
    return rows


def where_time_goes(results: dict) -> list[str]:
    """Per run (the first of each phase): latency split, the job's batches and their steps, CPU shares."""
    lines = []
    for r in [*results["runs"], *results.get("peer", {}).get("runs", [])]:
        if r["index"] != 0 and r["phase"] != SIZE_PHASE:  # each size is a setting of its own
            continue
        lat, job = r["latency"], r.get("job", {})
        lines.append(f"- **{r['label']}** — commit→Kafka p50 {fmt(lat['commit_to_kafka']['p50'], 2)} s / p95 "
                     f"{fmt(lat['commit_to_kafka']['p95'], 2)} s; Kafka→lake p50 {fmt(lat['kafka_to_lake']['p50'], 2)}"
                     f" s / p95 {fmt(lat['kafka_to_lake']['p95'], 2)} s.")
        if job:
            d = job["duration_s"]
            steps = ", ".join(f"{k} {pct(v)}" for k, v in job["step_share"].items())
            lines.append(f"  The job ran {job['batches']} micro-batches (median {fmt(job['messages_per_batch'])} "
                         f"messages); a batch took p50 {fmt(d['p50'], 1)} s, max {fmt(d['max'], 1)} s (a quiet "
                         f"stream's start {results['settings']['job_trigger_seconds']} s apart, a busy one's back to "
                         f"back). Its time by step: {steps}.")
        cpu = ", ".join(f"{k} {fmt(v, 2)}" for k, v in sorted(r["cpu_cores"].items(), key=lambda kv: -kv[1]))
        lines.append(f"  Cores in use over the run's {fmt(r['window_s'], 0)} s (of {results['machine']['cores']}): "
                     f"{cpu}.")
    return lines


def _first(results: dict, pipeline: str, phase: str) -> dict | None:
    runs = [r for r in _runs(results, pipeline) if r["phase"] == phase]
    return runs[0] if runs else None


def diagnosis(results: dict) -> list[str]:
    """For each missed target, what the figures say about where the time or the throughput goes."""
    summary, lines = results["summary"], []
    p = summary["pipelines"]
    missed = {t["name"].split(" ")[0]: t for t in summary["targets"] if t["met"] is False}
    asked = results["settings"].get("steady_rate")
    steady = p.get("ours.steady", {}).get("source_commit")
    if asked and steady and steady < 0.95 * asked:
        run = _first(results, "ours", "steady")
        lines.append(f"- **The steady phase ran below its rate**: the producer committed {fmt(steady)} of the "
                     f"{fmt(asked)} changes/s asked; the machine was busy: "
                     + ", ".join(f"{k} {fmt(v, 2)}" for k, v in sorted(run["cpu_cores"].items(),
                                                                         key=lambda kv: -kv[1]))
                     + f" cores of {results['machine']['cores']}.")
    if "Debezium" in missed and "ours.max" in p:
        m, run = p["ours.max"], _first(results, "ours", "max")
        source, debezium = m.get("source_commit"), m.get("debezium")
        cpu = run["cpu_cores"] if run else {}
        lines.append(
            f"- **Debezium {fmt(debezium)} changes/s < 5,000**: PostgreSQL committed {fmt(source)} changes/s in this "
            f"phase (raw, with no CDC: {fmt(results.get('ceilings', {}).get('postgres_raw', {}).get('rate'))}); "
            f"Debezium reached Kafka {fmt(m.get('catch_up_kafka'), 1)} s after the producer stopped "
            f"(commit→Kafka p95 {fmt(m.get('to_kafka_p95'), 2)} s). "
            + ("Debezium kept up with the source: the source rate bounds it here, not Debezium. "
               if (m.get("catch_up_kafka") or 0) < 2 else "Debezium fell behind the source. ")
            + f"Cores in use: connect (Debezium) {fmt(cpu.get('connect'), 2)}, postgres (with the walsender) "
              f"{fmt(cpu.get('postgres'), 2)}, kafka {fmt(cpu.get('kafka'), 2)}, glue {fmt(cpu.get('glue'), 2)}, "
              f"producer {fmt(cpu.get('producer'), 2)} of {results['machine']['cores']}.")
    if "steady" in missed and "ours.steady" in p:
        run = _first(results, "ours", "steady")
        lat, job = run["latency"], run.get("job", {})
        d = job.get("duration_s", {})
        merge = job.get("step_share", {}).get("merge")
        lines.append(
            f"- **Steady p95 {fmt(p['ours.steady'].get('latency_p95'), 2)} s** (at most 5 s, and the peer's "
            f"{fmt(p.get('peer.steady', {}).get('latency_p95'), 2)} s): of it, commit→Kafka is p95 "
            f"{fmt(lat['commit_to_kafka']['p95'], 2)} s and Kafka→lake p95 {fmt(lat['kafka_to_lake']['p95'], 2)} s. "
            f"Batches run back to back under this load: a change waits for the batch running when it arrives, then "
            f"for its own; batches took p50 {fmt(d.get('p50'), 1)} s, max {fmt(d.get('max'), 1)} s. "
            + (f"Writing the mirrors takes {pct(merge)} of the job's time. " if merge is not None else "")
            + f"The job used {fmt(run['cpu_cores'].get('glue'), 2)} cores.")
    if "the" in missed and "ours.max" in p:
        run = _first(results, "ours", "max")
        job = run.get("job", {}) if run else {}
        lines.append(
            f"- **Lake {fmt(p['ours.max'].get('lake'))} changes/s** (at least 60 % of raw PostgreSQL's "
            f"{fmt(results.get('ceilings', {}).get('postgres_raw', {}).get('rate'))}, and the peer's "
            f"{fmt(p.get('peer.max', {}).get('lake'))}): the job drained the "
            f"phase {fmt(p['ours.max'].get('catch_up_lake'), 1)} s after the producer stopped, in "
            f"{job.get('batches', '–')} micro-batches of median {fmt(job.get('messages_per_batch'))} messages "
            f"(at most `--max-offsets-per-trigger` 50,000), each p50 {fmt(job.get('duration_s', {}).get('p50'), 1)} s; "
            f"time by step: " + ", ".join(f"{k} {pct(v)}" for k, v in job.get("step_share", {}).items())
            + f". Cores: glue {fmt(run['cpu_cores'].get('glue'), 2) if run else '–'} of "
              f"{results['machine']['cores']}.")
    drains = {r["phase"]: r for r in results.get("drains", [])}
    if "drain:" in missed and "job-drain" in drains and drains["job-drain"].get("job"):
        job = drains["job-drain"]["job"]
        lines.append(
            f"- **The job drained filled topics at {fmt(drains['job-drain']['drain_rate'])} changes/s**: "
            f"{job.get('batches', '–')} micro-batches of median {fmt(job.get('messages_per_batch'))} messages, each "
            f"p50 {fmt(job.get('duration_s', {}).get('p50'), 1)} s; time by step: "
            + ", ".join(f"{k} {pct(v)}" for k, v in job.get("step_share", {}).items()) + ".")
    sizes = summary.get("table_sizes", [])
    if "table" in missed:
        small, large = sizes[0], sizes[-1]
        lines.append(
            f"- **The p95 grew {fmt(missed['table']['value'], 2)}× from a {fmt(small['mirror_rows'])}-row mirror "
            f"({fmt(small['p95'], 2)} s) to a {fmt(large['mirror_rows'])}-row one ({fmt(large['p95'], 2)} s)**: "
            f"a batch took p50 {fmt(small['batch_p50_s'], 1)} s, then {fmt(large['batch_p50_s'], 1)} s, the MERGEs "
            f"{pct(small['merge_share'])}, then {pct(large['merge_share'])} of the job's time: the MERGE reads every "
            "file of the mirror its changes' keys may be in, and random keys may be in every file.")
    return lines


def target_lines(results: dict) -> list[str]:
    lines = []
    for t in results["summary"]["targets"]:
        mark = {True: "met", False: "**missed**", None: "not measured"}[t["met"]]
        value = t["value"]
        shown = pct(value) if "60 %" in t["name"] else fmt(value, 2 if "p95" in t["name"] else 0)
        lines.append(f"- {t['name']}: {shown} — {mark}")
    return lines


def peer_section(results: dict) -> list[str]:
    peer = results.get("peer", {})
    lines = [f"Status: **{peer.get('status')}**" + (f" — {peer['why']}" if peer.get("why") else "")]
    if peer.get("status") in ("ok", "failed") or peer.get("config"):
        lines += [
            "",
            f"Apache Iceberg's Kafka Connect sink (`org.apache.iceberg:iceberg-kafka-connect` "
            f"{results['versions'].get('ICEBERG_VERSION')}, the same Iceberg as the job) ran in the stack's Connect "
            f"worker, from `{peer.get('plugin_dir')}` (built by `jvm/iceberg-kafka-connect/pom.xml`), reading the "
            "same Debezium topics from where they ended when it started, into tables `iceberg_sink.<table>` of the "
            "same JDBC catalog and bucket. The Glue job was stopped during its runs, so each had the machine to "
            "itself.",
            f"- **Commit interval**: `iceberg.control.commit.interval-ms` = {peer.get('commit_interval_ms')} "
            "(its default is 300,000 = 5 min), the job's `--trigger-seconds`: the pace of the job's batches while the "
            "stream is quiet. Under load the job's batches run back to back and the sink still commits at this "
            "interval: a shorter one would lower the sink's latency, at more commits (and files) per minute.",
            "- **What it writes**: Iceberg 1.10's sink appends (no upsert or delete, no `cdc-field` option yet): "
            "DebeziumTransform turns each event into a row (the `after` image, or `before` for a delete) with a "
            "`_cdc` struct (op, source table); each change is one appended row. So its tables are change tables, "
            "not mirrors: it does less work per change than the job's MERGE. Its figures are an upper bound for an "
            "append-only sink, not a like-for-like mirror.",
            "- **Visibility**: a row is visible at the `committed_at` of the snapshot that added its data file "
            "(rows joined to `<table>.entries` and `<table>.snapshots`); Kafka positions come from "
            "KafkaMetadataTransform's `_kafka_metadata_*` columns. The snapshot timestamp is taken before the "
            "catalog swap, a few ms earlier than a reader could see it: a bias in the peer's favour.",
        ]
        backlog = (results.get("job_restart") or {}).get("backlog_messages")
        if backlog is not None:
            lines.append(f"- After the peer's runs the job was started again, with {fmt(backlog)} messages written "
                         "while it was stopped to drain (in the background, after the bench).")
        lines += ["", "Connector config:", "```json", json.dumps(peer.get("config", {}), indent=1), "```"]
    if peer.get("traceback"):
        lines += ["", "Error:", "```", peer["traceback"], "```"]
    return lines


def markdown(results: dict) -> str:
    s, m, v = results["settings"], results["machine"], results["versions"]
    ceil = results.get("ceilings", {})
    raw, kp = ceil.get("postgres_raw", {}), ceil.get("kafka_produce", {})
    lines = [
        f"# cdc-lake bench, {results['started_at']}",
        "",
        f"Machine: {m['cores']} cores, {m['memory_gib']} GiB, {m['cpu_model']}; Linux {m['kernel']}, "
        f"Python {m['python']}, {m['java']}. Started {results['started_at']}, finished {results.get('finished_at')}. "
        f"Load average (1, 5, 15 min) at the start {m.get('load_average_start')}, at the end "
        f"{m.get('load_average_end')}: on {m['cores']} cores, more than the stack's own work means something else "
        "ran too (the `(whole machine)` line below says how much).",
        "",
        "## Summary",
        "",
        table(SUMMARY_HEADER, summary_rows(results)),
        "",
        "Medians over the runs of each phase "
        f"(steady: {s['repeat']} run(s), maximum rate: {s['max_repeat']} run(s)); latencies are medians of each run's "
        "percentile. Ratios to the ceilings: source and lake rates against the raw PostgreSQL commit rate, Debezium "
        "against Kafka's own produce rate. ours/peer above 1 means more throughput, or more latency, for ours.",
        "",
        "### Targets",
        "",
        *target_lines(results),
        "",
        "Every committed change counted once in Kafka and in the lake: " + ", ".join(
            f"{k} {'yes' if v['every_change_once'] else '**no**'}"
            for k, v in results["summary"]["pipelines"].items()) + ".",
        "",
        "## Ceilings (same machine, same run)",
        "",
        f"- Raw PostgreSQL commit rate: **{fmt(raw.get('rate'))} changes/s** — the maximum-rate workload "
        f"({raw.get('workload', '–')}) into a throwaway schema outside the publication, dropped after. Debezium "
        "publishes nothing of it, the job is idle; the walsender still decodes its WAL, as it would for any write.",
        f"- Kafka produce rate: **{fmt(kp.get('rate'))} records/s** ({fmt(kp.get('mb_per_s'), 1)} MB/s) — "
        f"`kafka-producer-perf-test` ({fmt(kp.get('records'))} records of {fmt(kp.get('record_size'))} bytes, the "
        f"median Debezium event measured in this run, {kp.get('producer_props', '')}) into a new one-partition "
        "topic, deleted after.",
        "",
        "## Runs",
        "",
        table(RUN_HEADER, run_rows(results)),
        "",
        "committed = changes in the producer's journal; in Kafka = their change events found in the table topics "
        "(matched by table, key, transaction and operation); in lake = those with a visibility time; "
        "missing/dup/unseen must be 0/0/0; foreign = events of other writers in the same topics.",
        "",
        "## Drains",
        "",
        table(DRAIN_HEADER, drain_rows(results)),
        "",
        "Each stage apart from the one before it: Debezium's connector stopped while the changes were committed, "
        "then resumed (drained = changes / time from the resume to the last change's Kafka timestamp); the job (the "
        "peer: its sink connector) stopped while Kafka filled, then started (drained = changes / time from its "
        "first micro-batch to the last change visible; with start-up: from the start command).",
        "",
        "## Table size",
        "",
        table(SIZE_HEADER, size_rows(results)) if results["summary"].get("table_sizes") else "Not run.",
        "",
        "The steady workload again after the orders table grew to each size through the pipeline (bulk INSERTs of "
        f"{CHUNK:,} rows, Debezium, the job); its updates and deletes pick rows uniformly from all live rows, so a "
        "batch's keys are spread over the whole mirror. The peer only appends: what it costs does not depend on a "
        "table's size, and its steady p95 above is the comparison.",
        "",
        "## Memory and CPU per component",
        "",
        table(["pipeline.phase", "component", "peak RSS MB", "cores (median)"], resource_rows(results)),
        "",
        "Peak VmRSS of each supervised program with its children, sampled every second (`supervisorctl pid`, "
        "/proc); cores = CPU time over the run's window. `producer` is the bench's own workload process; "
        "`postgres` includes the backends and Debezium's walsender.",
        "",
        "## Where the time goes",
        "",
        *diagnosis(results),
        "",
        "Per run:",
        "",
        *where_time_goes(results),
        "",
        "## The peer",
        "",
        *peer_section(results),
        "",
        "## How the figures are measured",
        "",
        "- **Source commit rate**: the producer's own summary (changes committed per second of its writing loop).",
        "- **Debezium → Kafka**: changes / (last change's Kafka record timestamp − first change's commit time); "
        "the per-second curve in `throughput.png` counts events by Kafka timestamp; the table topics' end offsets, "
        "sampled every second, give the peak messages/s (tombstones included) in `results.json`.",
        "- **Lake**: changes / (last change visible − first commit). Ours: the job records, after a micro-batch's "
        "last MERGE, the Kafka offsets it held and the time (`glue.metrics`, `s3://<lake>/metrics/batches/`).",
        "- **Commit-to-lake latency** of a change: its visibility time − Debezium's `source.ts_ms` (the "
        "transaction's commit time in PostgreSQL).",
        "- **Catch-up**: from the producer's exit to the last change in Kafka, or visible in the lake.",
        "",
        "## Settings",
        "",
        "```json",
        json.dumps(s, indent=1),
        "```",
        "",
        "## Versions (versions.env)",
        "",
        table(["component", "version"], [[k, val] for k, val in v.items()]),
    ]
    if results.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in results["notes"]]]
    lines += ["", "Raw data beside this report: `results.json`, `raw/<run>.csv.gz` (one line per change), "
              "`raw/<run>.journal.jsonl`; plots `latency.png`, `throughput.png`.", ""]
    return "\n".join(lines)


def terminal_table(results: dict) -> str:
    rows = summary_rows(results)
    widths = [max(len(str(r[i])) for r in [SUMMARY_HEADER, *rows]) for i in range(len(SUMMARY_HEADER))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(SUMMARY_HEADER, widths, strict=True))]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    out += [""] + target_lines(results)
    return "\n".join(out)


def write(results: dict, run_dir: Path) -> None:
    (run_dir / "report.md").write_text(markdown(results), encoding="utf-8")
