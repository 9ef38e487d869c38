"""make status's component lines: a component that keeps dying is FAILING whatever it shows between two crashes, and
one that has run steadily since is not."""

from datetime import datetime, timedelta

from stack import health, status

NOW = datetime(2026, 12, 2, 12, 0, 0)
LOG = [
    "2026-12-02 11:00:00,000 INFO supervisord started with pid 1\n",
    "2026-12-02 11:55:00,000 WARN exited: glue (terminated by SIGKILL; not expected)\n",
    "2026-12-02 11:57:00,000 WARN exited: glue (exit status 1; not expected)\n",
]


def lines(monkeypatch, state: str, started: datetime) -> list[str]:
    monkeypatch.setattr(health, "supervisord_log", lambda: LOG)
    monkeypatch.setattr(health, "last_error", lambda name: "py4j.Py4JException: boom")
    return health.program_lines({"glue": (state, "pid 9, uptime", started)}, NOW)


def test_two_exits_in_ten_minutes_and_a_fresh_start_is_failing(monkeypatch):
    [line] = lines(monkeypatch, "RUNNING", NOW - timedelta(seconds=20))
    assert "FAILING" in line and "2 unexpected exits since 11:55:00" in line and "boom" in line


def test_running_steadily_since_the_last_exit_is_recovered(monkeypatch):
    [line] = lines(monkeypatch, "RUNNING", NOW - health.STABLE_AFTER)
    assert "FAILING" not in line and "restarted after 2 unexpected exits (last at 11:57:00" in line


def test_backoff_is_failing_however_long_ago_it_started(monkeypatch):
    [line] = lines(monkeypatch, "BACKOFF", NOW - timedelta(hours=1))
    assert "FAILING" in line


def test_exits_before_supervisord_restarted_do_not_count():
    restarted = [*LOG, "2026-12-02 11:58:00,000 INFO supervisord started with pid 2\n"]
    assert health.unexpected_exits(restarted) == {}


def test_status_shows_the_last_maintenance_round_and_the_tables_it_skipped(tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    monkeypatch.setenv("MAINTENANCE_INTERVAL_SECONDS", "300")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "maintenance.log").write_text(
        "2026-12-02 05:00:00,000 WARNING glue.maintenance: maintenance of orders skipped this round: older\n"
        "2026-12-02 05:00:01,000 INFO glue.maintenance: maintenance round: 5 tables, 1 skipped (40.0s)\n"
        "2026-12-02 05:05:00,000 INFO glue.maintenance: maintenance of customers: 3 data files rewritten into 1\n"
        "2026-12-02 05:05:02,000 WARNING glue.maintenance: maintenance of orders skipped this round: "
        "ValidationException: Cannot commit, found new position delete for replaced data file\n"
        "2026-12-02 05:05:03,000 INFO glue.maintenance: maintenance round: 5 tables, 1 skipped (41.0s)\n")
    lines = status.maintenance_lines(datetime(2026, 12, 2, 5, 10, 3))
    assert lines[0] == "  last round 05:05:03 (5 min ago): 5 tables, 1 skipped (41.0s)"
    assert len(lines) == 2 and lines[1].startswith("  orders not maintained: ValidationException: Cannot commit")
    assert "no round since" in status.maintenance_lines(datetime(2026, 12, 2, 6, 0))[0]


def test_status_says_when_maintenance_never_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIR", str(tmp_path))
    assert status.maintenance_lines() == [
        "  (no maintenance round yet: the first comes one MAINTENANCE_INTERVAL_SECONDS after the start)"]
