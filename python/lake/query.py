"""SQL over the lake with DuckDB: each lake table a query names is scanned by pyiceberg (its deletes applied) into
Arrow and handed to DuckDB under its own name, so a query reads only the tables it uses."""

from __future__ import annotations

import re

import duckdb
from pyiceberg.table import Table


def referenced(query: str, names: list[str]) -> list[str]:
    """The table names that appear in the query as whole words (a name inside a longer word does not count)."""
    return [n for n in names if re.search(rf'(?<![\w"]){re.escape(n)}(?![\w"])|"{re.escape(n)}"', query, re.I)]


def connect(tables: dict[str, Table], query: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the tables `query` names registered as views of their current snapshot."""
    con = duckdb.connect()
    for name in referenced(query, sorted(tables)):
        con.register(name, tables[name].scan().to_arrow())
    return con


def run(tables: dict[str, Table], query: str) -> duckdb.DuckDBPyRelation | None:
    """The query's result (None for a statement that returns nothing)."""
    return connect(tables, query).sql(query)


def first_rows(tables: dict[str, Table], name: str, limit: int) -> duckdb.DuckDBPyRelation:
    """The table's first rows by its first column (the key, for a mirror)."""
    first = tables[name].schema().fields[0].name.replace('"', '""')
    return run(tables, f'SELECT * FROM "{name}" ORDER BY "{first}" LIMIT {int(limit)}')
