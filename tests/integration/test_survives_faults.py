"""The stack survives the death of each of its components, and a stop and start, without losing or repeating anything:
the fault suite (python/chaos) in its short form, and a `make local-down` / `make local-up` in the middle of a stream.
After each fault the suite pauses its journaled producer and checks every mirror against its source row for row,
the change log against the journal (each change once), that nothing was re-snapshotted and nothing quarantined."""

import json
import os
import subprocess
import sys

from chaos.faults import KILLABLE

from conftest import ROOT, admin_sql, env
from stack import job


def chaos(out, *args: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    result = subprocess.run([sys.executable, "-m", "chaos", "run", "--rate", "300", "--out", str(out), *args],
                            cwd=ROOT, env=env(), capture_output=True, text=True, check=False)
    results = out / "results.json"
    faults = json.loads(results.read_text())["faults"] if results.exists() else []
    return result, faults


def test_one_sigkill_of_each_component_loses_nothing(tmp_path):
    result, faults = chaos(tmp_path, "--short", "--seed", "11")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-4000:]}"
    assert sorted(f["fault"] for f in faults) == sorted(f"SIGKILL {c}" for c in KILLABLE)
    assert all(f["passed"] and f["committed"] > 0 for f in faults), faults
    assert (tmp_path / "timeline.png").stat().st_size > 0


def slot_position() -> int:
    """The replication slot's confirmed position (as a number), which a new slot would reset."""
    return int(admin_sql("SELECT confirmed_flush_lsn - '0/0' FROM pg_replication_slots "
                         f"WHERE slot_name = '{os.environ['PG_SLOT']}'").strip())


def test_local_down_and_up_mid_stream_resumes_where_it_stopped(tmp_path):
    batch, position = job.last_committed_batch(), slot_position()
    result, faults = chaos(tmp_path, "--faults", "down-up", "--seed", "12")
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr[-4000:]}"
    # equal mirrors, each change once, no new snapshot read, nothing quarantined: the suite's own checks
    assert [f["fault"] for f in faults] == ["make local-down, make local-up"] and faults[0]["passed"], faults
    # the same streaming checkpoint (a new one would count from batch 0) and the same slot, gone on from where it was
    assert job.last_committed_batch() > batch
    assert slot_position() > position
