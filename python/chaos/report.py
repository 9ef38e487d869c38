"""The suite's report: a table of the faults (time to recover, catch-up time, what was checked), results.json, and a
PNG timeline of the producer's commit rate with the faults marked."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report import table
from chaos.suite import Outcome, outcome_dicts


def rows(outcomes: list[Outcome]) -> list[list[str]]:
    return [[o.fault, f"{o.at_s:.0f}", f"{o.recovered_s:.1f}", f"{o.catch_up_s:.1f}",
             f"{o.committed / o.window_s:.0f}" if o.window_s else "-", "yes" if o.passed else "; ".join(o.problems)]
            for o in outcomes]


def markdown(outcomes: list[Outcome], seed: int, rate: float) -> str:
    header = ["fault", "at (s)", "recovered after (s)", "lake caught up after (s)", "committed/s meanwhile",
              "mirrors = source, change log exactly once, no re-snapshot, no quarantine"]
    passed = sum(o.passed for o in outcomes)
    return "\n".join([
        f"Fault suite: {len(outcomes)} faults, {passed} passed; seed {seed}, producer at {rate:g} changes/s.",
        "", "Recovered: from the fault until what it hit works again (the component answers, a micro-batch is "
        "committed, the connector and its task run). Caught up: from the producer's pause after the fault until "
        "every mirror equals its source.", "",
        table(header, rows(outcomes)), ""])


def timeline_png(path: Path, timeline: list[tuple[float, int]], outcomes: list[Outcome]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 4))
    rates = [(t1, (n1 - n0) / (t1 - t0)) for (t0, n0), (t1, n1) in zip(timeline, timeline[1:], strict=False)
             if t1 > t0]
    ax.plot([t for t, _ in rates], [r for _, r in rates], linewidth=0.8, label="producer commits/s")
    for o in outcomes:
        ax.axvspan(o.at_s, o.at_s + o.recovered_s, color="red" if not o.passed else "orange", alpha=0.3)
        ax.annotate(o.fault, (o.at_s, 0), rotation=90, fontsize=6, va="bottom")
    ax.set_xlabel("seconds from the start of the run")
    ax.set_ylabel("changes/s")
    ax.set_title("Producer commit rate; shaded: from each fault until recovered (red: a check failed)")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write(out: Path, outcomes: list[Outcome], timeline: list[tuple[float, int]], seed: int, rate: float) -> str:
    text = markdown(outcomes, seed, rate)
    (out / "report.md").write_text(text)
    (out / "results.json").write_text(json.dumps({"seed": seed, "rate": rate, "faults": outcome_dicts(outcomes),
                                                  "timeline": timeline}, indent=1))
    timeline_png(out / "timeline.png", timeline, outcomes)
    return text
