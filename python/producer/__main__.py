"""Command line: `python -m producer [run] [options]` and `python -m producer create-schema`.

Connects as the application user from PG_HOST, PG_PORT, PG_DATABASE, PG_APP_USER and PG_APP_PASSWORD
(or --dsn) and writes into the schema PG_SCHEMA (or --schema).
"""

import argparse
import os
import signal
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import psycopg2
from psycopg2.extensions import connection as Connection
from psycopg2.extensions import parse_dsn

from producer.journal import Journal
from producer.plan import DEFAULT_MIX, parse_mix
from producer.reconnect import ConnectionLost, Link
from producer.runner import RunOptions, run
from producer.schema import create_schema, tables_exist
from producer.settings import describe, dsn_from_env, setting

COMMANDS = ("run", "create-schema")


class Failure(Exception):
    """An error the user can fix, reported as one line on stderr (no traceback) with an exit status."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def mix_arg(text: str) -> dict[str, float]:
    try:
        return parse_mix(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def number(text: str, allow_zero: bool) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not (value >= 0 if allow_zero else value > 0) or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a {'non-negative' if allow_zero else 'positive'} number, "
                                         f"got {text}")
    return value


def dsn_arg(text: str) -> str:
    try:
        parse_dsn(text)
    except psycopg2.ProgrammingError as error:
        raise argparse.ArgumentTypeError(f"not a libpq connection string: {str(error).strip()}") from None
    return text


def build_parser(env: Mapping[str, str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m producer", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="{run,create-schema}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--dsn", type=dsn_arg, help="libpq connection string; default: from the PG_* settings")
    common.add_argument("--schema", default=setting(env, "PG_SCHEMA"),
                        help="schema of the tables (default: PG_SCHEMA, else shop)")

    sub.add_parser("create-schema", parents=[common], help="create the schema and tables (idempotent)")

    run_parser = sub.add_parser("run", parents=[common], help="write a mix of inserts, updates and deletes (default)",
                                description="Write a mix of inserts, updates and deletes until --count or "
                                            "--duration, or until SIGINT/SIGTERM.")
    run_parser.add_argument("--rate", type=lambda t: number(t, allow_zero=True), default=0.0, metavar="R",
                            help="changes per second, 0 = as fast as possible (default 0)")
    limit = run_parser.add_mutually_exclusive_group()
    limit.add_argument("--duration", type=lambda t: number(t, allow_zero=False), metavar="S",
                       help="stop after S seconds")
    limit.add_argument("--count", type=positive_int, metavar="N", help="stop after N committed changes")
    run_parser.add_argument("--mix", type=mix_arg, default=dict(DEFAULT_MIX),
                            help="weights of the operations (default insert=0.5,update=0.35,delete=0.15)")
    run_parser.add_argument("--max-txn-size", type=positive_int, default=10, metavar="K",
                            help="each transaction holds 1..K changes (default 10)")
    run_parser.add_argument("--seed", type=int, default=42, help="seed of Faker and the random choices (default 42)")
    run_parser.add_argument("--journal", type=Path, metavar="PATH",
                            help="append every committed change to this JSON-lines file")
    run_parser.add_argument("--reconnect-timeout", type=lambda t: number(t, allow_zero=True), default=300.0,
                            metavar="S", help="when the connection to PostgreSQL is lost mid-run, reconnect for up "
                                              "to S seconds before giving up; 0 = give up at once (default 300)")
    run_parser.add_argument("--quiet", action="store_true", help="no progress line, only the summary")
    return parser


def with_default_command(argv: Sequence[str]) -> list[str]:
    """`run` is the default command: `python -m producer --rate 5` means `python -m producer run --rate 5`."""
    argv = list(argv)
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help")):
        return ["run", *argv]
    return argv


def open_connection(dsn: str) -> Connection:
    return psycopg2.connect(dsn, application_name="producer", connect_timeout=10)


def connect(dsn: str) -> Connection:
    try:
        return open_connection(dsn)
    except psycopg2.OperationalError as error:
        reason = " ".join(str(error).split())
        raise Failure(f"cannot connect to PostgreSQL at {describe(dsn)}: {reason}; "
                      "start it with 'make local-up' or set PG_HOST/PG_PORT") from None


def stop_on_signals() -> threading.Event:
    """SIGINT/SIGTERM end the run after the open transaction commits; a second one interrupts at once."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


def cmd_create_schema(args: argparse.Namespace, dsn: str) -> None:
    conn = connect(dsn)
    try:
        create_schema(conn, args.schema)
    finally:
        conn.close()
    print(f"producer: tables customers and orders ready in schema {args.schema} at {describe(dsn)}", file=sys.stderr)


def cmd_run(args: argparse.Namespace, dsn: str) -> None:
    options = RunOptions(rate=args.rate, duration=args.duration, count=args.count, mix=args.mix,
                         max_txn_size=args.max_txn_size, seed=args.seed, quiet=args.quiet,
                         reconnect_timeout=args.reconnect_timeout)
    journal = None
    if args.journal is not None:
        try:
            journal = Journal(args.journal)  # opened first: a bad path fails before anything is written
        except (OSError, ValueError) as error:
            raise Failure(f"cannot use journal {args.journal}: {error}") from None
    try:
        conn = connect(dsn)
    except Failure:
        if journal is not None:
            journal.close()
        raise
    link = None
    try:
        if not tables_exist(conn, args.schema):
            raise Failure(f"tables customers and orders not found in schema {args.schema} at {describe(dsn)}; "
                          "create them with 'python -m producer create-schema'")
        link = Link(lambda: open_connection(dsn), conn)
        run(link, args.schema, options, stop_on_signals(), journal)
    except ConnectionLost as gone:
        raise Failure(f"lost the connection to PostgreSQL at {describe(dsn)}: {gone}", status=1) from None
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as error:
        reason = " ".join(str(error).split())
        # Whatever was in flight was not journaled; everything journaled was committed.
        raise Failure(f"lost the connection to PostgreSQL at {describe(dsn)}: {reason}", status=1) from None
    finally:
        if journal is not None:
            journal.close()
        if link is not None:
            link.close()  # the connection it holds now, which may be a later one than conn
        else:
            conn.close()


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    env = os.environ if env is None else env
    args = build_parser(env).parse_args(with_default_command(sys.argv[1:] if argv is None else argv))
    dsn = args.dsn or dsn_from_env(env)
    try:
        {"run": cmd_run, "create-schema": cmd_create_schema}[args.command](args, dsn)
    except Failure as failure:
        print(f"producer: {failure}", file=sys.stderr)
        return failure.status
    except KeyboardInterrupt:
        print("producer: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
