"""The command line: argument errors and an unreachable database end with one clear line and exit 2."""

import pytest

from producer.__main__ import build_parser, main, with_default_command
from producer.settings import describe, dsn_from_env

# A DSN whose socket directory does not exist: connecting fails at once, no server needed.
NOWHERE = "host=/nonexistent-producer-test port=5 dbname=shop user=app"


def fails_with(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv, env={})
    assert exit_info.value.code == 2
    return capsys.readouterr().err


def test_unknown_mix_operation_is_an_argument_error(capsys):
    err = fails_with(capsys, ["run", "--mix", "insert=0.5,upsert=0.5"])
    assert "--mix: unknown operation 'upsert' (use insert, update, delete)" in err


def test_run_is_the_default_command(capsys):
    err = fails_with(capsys, ["--mix", "delete=-1"])
    assert "python -m producer run: error: argument --mix" in err


def test_count_and_duration_together_are_refused(capsys):
    err = fails_with(capsys, ["run", "--count", "5", "--duration", "5"])
    assert "not allowed with argument" in err


def test_zero_count_is_refused(capsys):
    assert "--count: must be at least 1, got 0" in fails_with(capsys, ["run", "--count", "0"])


def test_negative_rate_is_refused(capsys):
    assert "--rate: must be a non-negative number, got -3" in fails_with(capsys, ["run", "--rate", "-3"])


def test_malformed_dsn_is_refused(capsys):
    assert "--dsn: not a libpq connection string" in fails_with(capsys, ["run", "--dsn", "host"])


def test_unreachable_database_is_one_line_and_exit_2(capsys):
    assert main(["run", "--dsn", NOWHERE, "--count", "1"], env={}) == 2
    err = capsys.readouterr().err
    assert err.startswith("producer: cannot connect to PostgreSQL at /nonexistent-producer-test:5/shop as app: ")
    assert err.rstrip().endswith("start it with 'make local-up' or set PG_HOST/PG_PORT")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_journal_in_a_missing_directory_is_reported(capsys, tmp_path):
    assert main(["run", "--dsn", NOWHERE, "--journal", str(tmp_path / "no" / "j.jsonl")], env={}) == 2
    assert capsys.readouterr().err.startswith(f"producer: cannot use journal {tmp_path / 'no' / 'j.jsonl'}: ")


def test_options_parse_with_their_defaults():
    args = build_parser({}).parse_args(with_default_command([]))
    assert (args.command, args.rate, args.count, args.duration, args.max_txn_size, args.seed, args.schema) == (
        "run", 0.0, None, None, 10, 42, "shop")
    assert args.mix == {"insert": 0.5, "update": 0.35, "delete": 0.15}


def test_reconnect_timeout_defaults_to_five_minutes_and_zero_is_allowed():
    assert build_parser({}).parse_args(["run"]).reconnect_timeout == 300.0
    assert build_parser({}).parse_args(["run", "--reconnect-timeout", "0"]).reconnect_timeout == 0.0


def test_negative_reconnect_timeout_is_refused(capsys):
    assert "--reconnect-timeout: must be a non-negative number, got -1" in fails_with(
        capsys, ["run", "--reconnect-timeout", "-1"])


def test_schema_defaults_to_the_pg_schema_setting():
    assert build_parser({"PG_SCHEMA": "snap_x"}).parse_args(["create-schema"]).schema == "snap_x"


def test_dsn_comes_from_the_settings_with_their_defaults():
    dsn = dsn_from_env({"PG_APP_PASSWORD": "secret"})
    assert describe(dsn) == "127.0.0.1:15432/shop as app" and "password=secret" in dsn


def test_description_never_shows_the_password():
    assert "secret" not in describe("host=h port=1 dbname=d user=u password=secret")
