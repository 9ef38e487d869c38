"""Operating the local stack: a second local-up is harmless, a taken port is named, teardown is contained."""

import os
import subprocess
from pathlib import Path

from conftest import ROOT, env, supervise
from stack import probes
from stack.settings import components


def supervised_pids() -> str:
    return subprocess.run(["bash", "-c", ". scripts/lib.sh && supervisorctl pid all"], cwd=ROOT,
                          capture_output=True, text=True, check=True).stdout


def script(name: str, **overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(ROOT / "scripts" / name)], env=env(**overrides),
                          capture_output=True, text=True, check=False)


def test_second_local_up_changes_nothing_and_says_so():
    before = supervised_pids()
    result = script("local-up.sh")
    assert result.returncode == 0, result.stderr
    for component in ("postgres", "kafka", "aws", "connect"):
        assert f"{component}: already running" in result.stderr
    assert f"connector {os.environ['CONNECTOR_NAME']}: already registered" in result.stderr
    assert supervised_pids() == before


def test_a_changed_setting_that_shapes_no_data_is_noted_with_the_restart_that_applies_it():
    before = supervised_pids()
    result = script("local-up.sh", PRODUCER_RATE=str(float(os.environ["PRODUCER_RATE"]) + 1))
    assert result.returncode == 0, result.stderr
    assert "note: settings changed since the stack started (PRODUCER_RATE)" in result.stderr
    assert "make local-down && make local-up applies them" in result.stderr
    assert supervised_pids() == before


def test_a_changed_setting_that_shapes_data_is_refused_before_anything_is_touched():
    conf = Path(os.environ["STATE_DIR"]) / "conf" / "kafka.properties"
    rendered, before = conf.read_text(), supervised_pids()
    result = script("local-up.sh", PRODUCER_RATE="1", KAFKA_PORT=str(int(os.environ["KAFKA_PORT"]) + 1))
    assert result.returncode != 0
    assert "settings changed since the stack's data was made (KAFKA_PORT); to apply them: make teardown" \
        in result.stderr
    assert conf.read_text() == rendered
    assert supervised_pids() == before


def test_taken_port_is_named_with_the_setting_that_moves_it_and_teardown_stays_contained():
    # A second stack in a state folder of its own, told to use the running PostgreSQL's port.
    other_state = Path(os.environ["STATE_DIR"]) / "second-stack"
    taken = os.environ["PG_PORT"]
    result = script("local-up.sh", STATE_DIR=str(other_state))
    assert result.returncode != 0
    assert f"port {taken} (PG_PORT) is already in use" in result.stderr
    assert "set PG_PORT in .env" in result.stderr

    for _ in range(2):  # safe twice
        result = script("teardown.sh", STATE_DIR=str(other_state))
        assert result.returncode == 0, result.stderr
    assert not other_state.exists()
    # The running stack was not touched.
    for name, component in components().items():
        probes.PROBES[name](component)
    supervise("status", "connect")
