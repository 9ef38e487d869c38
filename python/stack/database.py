"""The pipeline's database objects as SQL statements, the same locally and on Aurora: scripts/sql/bootstrap.sql and
ddl_capture.sql with their names filled in, one statement at a time, so that any client runs them (psycopg2 as the
local cluster's superuser for `make local-up`, the RDS Data API as Aurora's master user for `make aws-apply`).

In the files, :'name' is a value as an SQL literal and :"name" as an identifier (psql's spelling, filled here even in
function bodies); statements end with a semicolon at the end of a line outside quotes and dollar-quoted bodies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

SQL_DIR = Path(__file__).resolve().parents[2] / "scripts" / "sql"
_NAME = re.compile(r""":'(\w+)'|:"(\w+)\"""")
_DOLLAR = re.compile(r"\$(\w*)\$")


@dataclass(frozen=True)
class Names:
    """What the statements create, and for whom."""

    database: str
    schema: str  # the captured schema
    schema_owner: str  # who owns it: the application's role locally, Aurora's master user on AWS
    cdc_user: str  # Debezium's role
    publication: str


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def identifier(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def fill(sql: str, names: Mapping[str, str]) -> str:
    def value(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in names:
            raise KeyError(f"the SQL names :{name}, which is not given")
        return literal(names[name]) if match.group(1) else identifier(names[name])

    return _NAME.sub(value, sql)


def split(sql: str) -> list[str]:
    """The statements of a script: a semicolon ends one at the end of a line, outside quotes and $tag$ bodies;
    comment lines between statements are left out."""
    statements, current, quote = [], [], None  # quote: the open $tag$, or "'"
    for line in sql.splitlines():
        if quote is None and not current and (not line.strip() or line.lstrip().startswith("--")):
            continue
        current.append(line)
        position = 0
        while position < len(line):
            if quote == "'":
                end = line.find("'", position)
                if end < 0:
                    break
                quote, position = None, end + 1
            elif quote is not None:
                end = line.find(quote, position)
                if end < 0:
                    break
                quote, position = None, end + len(quote)
            else:
                if line.startswith("--", position):
                    break
                char = line[position]
                dollar = _DOLLAR.match(line, position) if char == "$" else None
                if dollar:
                    quote, position = dollar.group(0), dollar.end()
                elif char == "'":
                    quote, position = "'", position + 1
                else:
                    position += 1
        if quote is None and re.search(r";\s*(--.*)?$", line):
            statements.append("\n".join(current).strip())
            current = []
    if current and "\n".join(current).strip():
        raise ValueError(f"the SQL ends inside a statement: {chr(10).join(current)[:200]}")
    return statements


# Debezium's role's password, as bound parameters (:role, :password), after pipeline_statements
SET_PASSWORD = "SELECT cdc.set_password(:role, :password)"


def pipeline_statements(names: Names) -> list[str]:
    """Roles, schema, grants, heartbeat table, publication, DDL capture and signalling table: idempotent."""
    values = asdict(names)
    return [fill(statement, values) for file in ("bootstrap.sql", "ddl_capture.sql")
            for statement in split((SQL_DIR / file).read_text())]


def teardown_statements(slot: str, publication: str, cdc_user: str) -> list[str]:
    """What a deployment leaves in a database it is removed from: its slot (which would hold WAL for ever), its
    publication, its role."""
    return [
        f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = {literal(slot)}",
        f"DROP PUBLICATION IF EXISTS {identifier(publication)}",
        f"DO $$ BEGIN IF EXISTS (SELECT FROM pg_roles WHERE rolname = {literal(cdc_user)}) THEN "
        f"DROP OWNED BY {identifier(cdc_user)}; DROP ROLE {identifier(cdc_user)}; END IF; END $$",
    ]


def bootstrap_local(admin_dsn: str, names: Names, app_password: str, cdc_password: str) -> None:
    """The local cluster, as its superuser: the application's role (the schema's owner) and the database, then the
    pipeline's statements and the replication role's password."""
    with _autocommit(admin_dsn, "postgres") as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (names.schema_owner,))
        if cur.fetchone() is None:
            cur.execute(f"CREATE ROLE {identifier(names.schema_owner)} LOGIN")
        # psycopg2 quotes the password into the statement on this side: a utility statement takes no parameters
        cur.execute(f"ALTER ROLE {identifier(names.schema_owner)} PASSWORD %s", (app_password,))
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (names.database,))
        if cur.fetchone() is None:
            cur.execute(f"CREATE DATABASE {identifier(names.database)} OWNER {identifier(names.schema_owner)}")
    with _autocommit(admin_dsn, names.database) as cur:
        for statement in pipeline_statements(names):
            cur.execute(statement)
        cur.execute(SET_PASSWORD.replace(":role", "%(role)s").replace(":password", "%(password)s"),
                    {"role": names.cdc_user, "password": cdc_password})


@contextmanager
def _autocommit(admin_dsn: str, database: str) -> Iterator[Any]:
    """A cursor of the superuser on `database`, each statement committed on its own (CREATE DATABASE must be)."""
    import psycopg2

    conn = psycopg2.connect(admin_dsn, dbname=database)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            yield cur
    finally:
        conn.close()
