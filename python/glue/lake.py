"""Look at the local lake without writing code: `python -m glue.lake [TABLE] [--rows N]` (after `. scripts/lib.sh`).

Lists the lake's tables with their row counts, or shows a few rows of one table, read back from the local S3
endpoint through the same catalog settings the job uses (glue.run_local).
"""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from glue import run_local
from glue.options import JobOptions
from glue.sqlnames import q

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def local_options(settings: run_local.Settings) -> JobOptions:
    args = run_local.job_args(settings)
    return JobOptions.from_mapping(dict(zip((a.removeprefix("--") for a in args[::2]), args[1::2], strict=True)),
                                   env=run_local.environment(settings))


def local_reader() -> tuple[SparkSession, JobOptions]:
    """A small Spark session on the local lake, with the job's catalog settings (for reading)."""
    settings = run_local.Settings(os.environ)
    os.environ.update(run_local.environment(settings))  # S3 credentials for the JVM, started below
    opts = local_options(settings)
    from glue.session import build_session

    spark = build_session(opts, extra={
        "spark.master": "local[1]",
        "spark.driver.memory": "1g",
        "spark.driver.extraClassPath": run_local.class_path(settings),
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(settings.path("STATE_DIR") / "spark" / "warehouse"),
    })
    spark.sparkContext.setLogLevel("ERROR")
    return spark, opts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m glue.lake", description=__doc__.split("\n\n")[0])
    parser.add_argument("table", nargs="?", help="show rows of this table (default: list the tables)")
    parser.add_argument("--rows", type=int, default=10, help="how many rows to show (default: 10)")
    args = parser.parse_args(argv)

    spark, opts = local_reader()
    namespace = f"{q(opts.catalog_name)}.{q(opts.database)}"
    if args.table:
        table = f"{namespace}.{q(args.table)}"
        spark.table(table).orderBy(*spark.table(table).columns[:1]).show(args.rows, truncate=40)
        return
    tables = [r.tableName for r in spark.sql(f"SHOW TABLES IN {namespace}").collect()]
    if not tables:
        print(f"no tables in {opts.catalog_name}.{opts.database} yet (is the job running? make status)")
        return
    width = max(len(t) for t in tables)
    print(f"{'table'.ljust(width)}  rows   ({opts.catalog_name}.{opts.database}, warehouse {opts.warehouse})")
    for name in sorted(tables):
        count = spark.table(f"{namespace}.{q(name)}").count()
        print(f"{name.ljust(width)}  {count}")


if __name__ == "__main__":
    main()
