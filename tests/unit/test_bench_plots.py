"""The bench's plots: curves of the steady and maximum-rate phases only."""

from bench import plots


def run(phase: str) -> dict:
    return {"pipeline": "ours", "phase": phase, "index": 0,
            "series": {"latency": [[0.0, 1.0]], "throughput": [[0.0, 9.0]]},
            "latency": {"commit_to_lake": {"p95": 1.0}}}


def test_a_run_of_the_table_size_phase_alone_draws_nothing(tmp_path):
    assert plots.draw({"runs": [run("table-size")]}, tmp_path) == []
    assert list(tmp_path.iterdir()) == []
