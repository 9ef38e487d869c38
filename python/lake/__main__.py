"""The local lake, read without Spark: `python -m lake` lists its tables (rows, last commit, freshness),
`python -m lake TABLE` shows rows of one, `python -m lake --sql "SELECT ..."` runs a query over its tables (DuckDB),
`python -m lake --verify [TABLE]` reconciles the mirrors with their sources (lake.verify).
Run through make (make lake, make sql), which loads the stack's settings."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

import duckdb
from pyiceberg.exceptions import NoSuchTableError
from sqlalchemy.exc import OperationalError

from lake import query
from lake.applied import NotApplied
from lake.catalog import CATALOG_NAME, lake_tables, local_catalog
from lake.summary import summarize
from stack.settings import setting


def ago(when: datetime | None, now: datetime) -> str:
    return "-" if when is None else f"{max(0.0, (now - when).total_seconds()):.0f} s ago"


def list_tables(tables: dict) -> None:
    where = f"{CATALOG_NAME}.{setting('LAKE_DATABASE')}, s3://{setting('LAKE_BUCKET')}"
    if not tables:
        print(f"no tables in {where} yet (is the job running? make status)")
        return
    now = datetime.now(UTC)
    width = max(5, *(len(n) for n in tables))
    print(f"{'table':<{width}}  {'rows':>9}  {'last commit':<22}  newest change   ({where})")
    for name, table in sorted(tables.items()):
        summary = summarize(table)
        committed = "-" if summary.committed_at is None else \
            f"{summary.committed_at.astimezone():%H:%M:%S} ({ago(summary.committed_at, now)})"
        print(f"{name:<{width}}  {summary.rows:>9}  {committed:<22}  {ago(summary.newest_change, now)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lake", description=__doc__.split("\n")[0])
    parser.add_argument("table", nargs="?", help="show rows of this table (default: list the tables)")
    parser.add_argument("--rows", type=int, default=10, help="how many rows to show (default: 10)")
    parser.add_argument("--sql", metavar="QUERY", help="run this query over the lake's tables, named as in the list")
    parser.add_argument("--verify", action="store_true",
                        help="reconcile every mirror (or TABLE) with its source; exit 1 on drift")
    args = parser.parse_args(argv)
    try:
        if args.verify:
            from lake import verify  # its readers (Kafka, the checkpoint) only when verifying

            sys.exit(verify.run([args.table] if args.table else None))
        tables = lake_tables(local_catalog())
        if args.sql:
            result = query.run(tables, args.sql)
            if result is not None:
                result.show(max_rows=1000, max_width=200)
        elif args.table:
            if args.table not in tables:
                raise NoSuchTableError(args.table)
            query.first_rows(tables, args.table, args.rows).show(max_width=200)
        else:
            list_tables(tables)
    except OperationalError as error:
        sys.exit(f"error: cannot read the lake's catalog in PostgreSQL ({str(error.orig).strip().splitlines()[0]}); "
                 "is the stack up? make status")
    except NoSuchTableError:
        sys.exit(f"error: no table {args.table} in the lake; make lake lists them")
    except NotApplied as error:
        sys.exit(f"error: {error}")
    except duckdb.Error as error:
        sys.exit(f"error: {str(error).splitlines()[0]} (tables: {', '.join(sorted(tables))})")


if __name__ == "__main__":
    main()
