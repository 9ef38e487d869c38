"""Command line: `python -m chaos run [--short] [--seed N] [--rate R] [--faults F,...]`, the fault suite against the
running local stack (`make chaos`, or after `. scripts/lib.sh`). --short: one SIGKILL of each component."""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import time
from pathlib import Path

from chaos import report
from chaos.faults import Fault, full_schedule, short_schedule
from chaos.suite import Suite
from producer.settings import dsn_from_env

ROOT = Path(__file__).resolve().parents[2]


def fault_list(text: str) -> list[Fault]:
    try:
        return [Fault.parse(part.strip()) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="inject the faults, check the lake after each, write the report")
    run.add_argument("--short", action="store_true", help="one SIGKILL of each component (default: 3 SIGKILLs of each, "
                     "Kafka stopped 2 min, the job stopped 10 min, a local-down and local-up)")
    run.add_argument("--faults", type=fault_list, help="these instead: kill:COMPONENT, stop:COMPONENT:SECONDS, "
                     "down-up, comma-separated")
    run.add_argument("--seed", type=int, help="seed of the order and the moments (default: random, printed)")
    run.add_argument("--rate", type=float, default=300.0, help="the producer's changes/s (default 300)")
    run.add_argument("--out", type=Path, help="report folder (default bench/results/chaos-<UTC time>)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("kafka").setLevel(logging.WARNING)  # the probes' clients, while Kafka is down

    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(10**6)
    rng = random.Random(seed)
    faults = args.faults or (short_schedule(rng) if args.short else full_schedule(rng))
    out = args.out or ROOT / "bench" / "results" / f"chaos-{time.strftime('%Y-%m-%dT%H%M%SZ', time.gmtime())}"
    out.mkdir(parents=True, exist_ok=True)
    print(f"==> chaos: seed {seed}, {len(faults)} faults: {', '.join(f.name for f in faults)}; report in {out}",
          file=sys.stderr)

    from glue.lake import local_reader
    from glue.sqlnames import q

    os.environ["TZ"] = "UTC"  # PySpark turns timestamps into naive datetimes in the process's time zone
    time.tzset()
    spark, opts = local_reader()
    lake = (spark, f"{q(opts.catalog_name)}.{q(opts.database)}")
    quick = args.short or args.faults
    suite = Suite(lake, faults, seed, args.rate, out, dsn_from_env(os.environ), (3.0, 10.0) if quick else (20.0, 60.0),
                  5.0 if quick else 10.0)
    try:
        outcomes = suite.run()
    finally:
        text = report.write(out, suite.outcomes, suite.timeline, seed, args.rate)
        print(text)
        spark.stop()
    return 0 if outcomes and all(o.passed for o in outcomes) and len(outcomes) == len(faults) else 1


if __name__ == "__main__":
    sys.exit(main())
