"""The plots: commit-to-lake latency over time, and changes per second at each stage, per phase and pipeline."""

from __future__ import annotations

from itertools import accumulate
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend

COLORS = {"ours": "tab:blue", "peer": "tab:orange"}
# the phases drawn as curves; the others (the drains, table-size) are tables in the report only
PLOTTED_PHASES = ("steady", "max")


def _first_runs(results: dict) -> list[dict]:
    """The first run of each pipeline and phase: one curve each, the runs of a phase look alike."""
    runs = [*results["runs"], *results.get("peer", {}).get("runs", [])]
    return [r for r in runs if r["index"] == 0 and r.get("series")]


def draw(results: dict, run_dir: Path) -> list[Path]:
    runs = [r for r in _first_runs(results) if r["phase"] in PLOTTED_PHASES]
    if not runs:
        return []
    phases = [p for p in PLOTTED_PHASES if any(r["phase"] == p for r in runs)]
    paths = [run_dir / "latency.png", run_dir / "throughput.png"]

    fig, axes = plt.subplots(len(phases), 1, figsize=(10, 4 * len(phases)), squeeze=False)
    for ax, phase in zip(axes[:, 0], phases, strict=True):
        for r in (r for r in runs if r["phase"] == phase):
            points = r["series"]["latency"]
            p95 = r["latency"]["commit_to_lake"]["p95"]
            ax.scatter([p[0] for p in points], [p[1] for p in points], s=3, alpha=0.5, color=COLORS[r["pipeline"]],
                       label=f"{r['pipeline']} (p95 {p95} s)")
        ax.set_title(f"{phase}: commit-to-lake latency of each change, by commit time")
        ax.set_xlabel("seconds since the producer started")
        ax.set_ylabel("latency, s")
        ax.grid(alpha=0.3)
        ax.legend(markerscale=4)
    fig.tight_layout()
    fig.savefig(paths[0], dpi=110)
    plt.close(fig)

    # cumulative counts: the slope is each stage's throughput, the gap between curves its backlog
    fig, axes = plt.subplots(len(phases), 1, figsize=(10, 4 * len(phases)), squeeze=False)
    for ax, phase in zip(axes[:, 0], phases, strict=True):
        for r in (r for r in runs if r["phase"] == phase):
            s, color = r["series"], COLORS[r["pipeline"]]
            stages = [("lake_per_s", f"visible in the lake ({r['pipeline']})", color)]
            if r["pipeline"] == "ours":  # the peer's runs replay the same workload: one source curve is enough
                stages = [("committed_per_s", "committed in PostgreSQL", "tab:gray"),
                          ("kafka_per_s", "Debezium → Kafka", "tab:green"), *stages]
            for key, label, line_color in stages:
                counts = list(accumulate(s[key]))
                ax.plot([0, *range(1, len(counts) + 1)], [0, *counts], color=line_color,
                        label=label)
        ax.set_title(f"{phase}: changes through each stage (slope = throughput)")
        ax.set_xlabel("seconds since the producer started")
        ax.set_ylabel("changes, cumulative")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(paths[1], dpi=110)
    plt.close(fig)
    return paths
