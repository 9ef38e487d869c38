"""Command line: `python -m bench [run] [options]` runs the bench; `python -m bench report DIR` redraws a run's report
and plots from its results.json. Run it through `make bench` (or after `. scripts/lib.sh`): it needs the stack's
settings and the running stack."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.config import Options


def positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text}")
        return value
    return parse


def phase_list(text: str) -> tuple[str, ...]:
    phases = tuple(p.strip() for p in text.split(",") if p.strip())
    known = Options().phases
    unknown = [p for p in phases if p not in known]
    if unknown or not phases:
        raise argparse.ArgumentTypeError(f"phases are {', '.join(known)}, got {text!r}")
    return phases


def size_list(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(s.replace("_", "")) for s in text.split(",") if s.strip())
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) <= 0:
        raise argparse.ArgumentTypeError(f"row counts separated by commas, e.g. 100000,1000000, got {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    d = Options()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the bench against the local stack (default)")
    run.add_argument("--idle-rate", type=positive(float), default=d.idle_rate, metavar="R",
                     help=f"changes/s of the idle phase (default {d.idle_rate:g}, the stack's producer)")
    run.add_argument("--idle-seconds", type=positive(float), default=d.idle_seconds, metavar="S",
                     help=f"length of the idle phase (default {d.idle_seconds:g})")
    run.add_argument("--steady-rate", type=positive(float), default=d.steady_rate, metavar="R",
                     help=f"changes/s of the steady phase (default {d.steady_rate:g})")
    run.add_argument("--steady-seconds", type=positive(float), default=d.steady_seconds, metavar="S",
                     help=f"length of the steady phase (default {d.steady_seconds:g})")
    run.add_argument("--steady-txn-size", type=positive(int), default=d.steady_txn_size, metavar="K",
                     help=f"steady phase: transactions of 1..K changes (default {d.steady_txn_size})")
    run.add_argument("--max-count", type=positive(int), default=d.max_count, metavar="N",
                     help=f"changes of the maximum-rate phase and of the ceilings (default {d.max_count})")
    run.add_argument("--max-txn-size", type=positive(int), default=d.max_txn_size, metavar="K",
                     help=f"maximum-rate phase: transactions of 1..K changes (default {d.max_txn_size})")
    run.add_argument("--repeat", type=positive(int), default=d.repeat,
                     help=f"runs of the steady phase, reported as medians (default {d.repeat})")
    run.add_argument("--max-repeat", type=positive(int), default=d.max_repeat,
                     help=f"runs of the maximum-rate phase (default {d.max_repeat})")
    run.add_argument("--seed", type=int, default=d.seed, help=f"the producer's seed (default {d.seed})")
    run.add_argument("--phases", type=phase_list, default=d.phases,
                     help=f"some of {','.join(d.phases)} (default all)")
    run.add_argument("--drain-count", type=positive(int), default=d.drain_count, metavar="N",
                     help=f"changes a drain phase lets pile up (default {d.drain_count})")
    run.add_argument("--table-sizes", type=size_list, default=d.table_sizes, metavar="N,N,...",
                     help="orders rows of the table-size phase's runs (default "
                          f"{','.join(str(n) for n in d.table_sizes)})")
    run.add_argument("--table-load-seconds", type=positive(float), default=d.table_load_seconds, metavar="S",
                     help=f"time for all the table-size loads; a size not reached is run as reached and stated "
                          f"(default {d.table_load_seconds:g})")
    run.add_argument("--peer", action=argparse.BooleanOptionalAction, default=d.peer,
                     help="also run the phases through Apache Iceberg's Kafka Connect sink (default: yes)")
    run.add_argument("--ceilings", action=argparse.BooleanOptionalAction, default=d.ceilings,
                     help="measure raw PostgreSQL's commit rate and Kafka's produce rate (default: yes)")
    run.add_argument("--perf-records", type=positive(int), default=d.perf_records, metavar="N",
                     help=f"records of the Kafka produce ceiling (default {d.perf_records})")
    run.add_argument("--catch-up-timeout", type=positive(float), default=d.catch_up_timeout, metavar="S",
                     help=f"seconds to wait for the lake to hold a phase's changes (default {d.catch_up_timeout:g})")
    run.add_argument("--out", type=Path, default=d.out, help="results folder (default bench/results)")
    redraw = sub.add_parser("report", help="write report.md and the plots again from a run's results.json")
    redraw.add_argument("run_dir", type=Path)
    store = sub.add_parser("object-store", help="the lake's object store alone: S3 request latency, and its memory "
                                                "before and after it holds more objects")
    store.add_argument("--objects", type=positive(int), default=10000, help="objects to add (default 10000)")
    store.add_argument("--times", type=positive(int), default=200, help="requests per measure (default 200)")
    check = sub.add_parser("verify", help="make verify on a table of N rows loaded through the pipeline: seconds "
                                          "(median of runs), rows/s, peak memory")
    check.add_argument("--rows", type=positive(int), default=1_000_000, help="rows of the table (default 1000000)")
    check.add_argument("--repeat", type=positive(int), default=3, help="verifications (default 3)")
    check.add_argument("--timeout", type=positive(float), default=3600, help="seconds to wait for the load")
    check.add_argument("--drop", action="store_true", help="drop the table afterwards")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("run", "report", "object-store", "verify", "-h", "--help"):
        argv = ["run", *argv]
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s bench: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("kafka").setLevel(logging.WARNING)
    from bench import plots, report

    if args.command == "report":
        results = json.loads((args.run_dir / "results.json").read_text())
        results["summary"] = report.summarize(results)
        plots.draw(results, args.run_dir)
        report.write(results, args.run_dir)
        print(report.terminal_table(results))
        return 0

    if args.command == "object-store":
        from bench import objectstore

        print(json.dumps(objectstore.measure(*objectstore.lake_store(), args.objects, args.times), indent=1))
        return 0

    if args.command == "verify":
        from bench import verify

        print(json.dumps(verify.measure(args.rows, args.repeat, args.timeout, args.drop), indent=1))
        return 0

    from bench.config import Stack
    from bench.run import run

    options = Options(idle_rate=args.idle_rate, idle_seconds=args.idle_seconds,
                      steady_rate=args.steady_rate, steady_seconds=args.steady_seconds,
                      steady_txn_size=args.steady_txn_size, max_count=args.max_count, max_txn_size=args.max_txn_size,
                      drain_count=args.drain_count, repeat=args.repeat, max_repeat=args.max_repeat, seed=args.seed,
                      phases=args.phases, table_sizes=args.table_sizes, table_load_seconds=args.table_load_seconds,
                      peer=args.peer, ceilings=args.ceilings, perf_records=args.perf_records,
                      catch_up_timeout=args.catch_up_timeout,
                      out=args.out.resolve())
    run_dir = run(options, Stack.from_environ())
    results = json.loads((run_dir / "results.json").read_text())
    print()
    print(report.terminal_table(results))
    print(f"\nreport: {run_dir / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
