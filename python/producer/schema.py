"""Creating the producer's tables (schema.sql) in the captured schema."""

from pathlib import Path

from psycopg2 import sql
from psycopg2.extensions import connection as Connection

SCHEMA_SQL = Path(__file__).with_name("schema.sql")


def create_schema(conn: Connection, schema: str) -> None:
    """Create the schema if missing and the tables in it; idempotent, one transaction."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,))
        # Checked first because CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database,
        # which the app user may lack where an administrator made its schema.
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        cur.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        cur.execute(SCHEMA_SQL.read_text(encoding="utf-8"))
    conn.commit()


def tables_exist(conn: Connection, schema: str) -> bool:
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(format('%%I.customers', %s)) IS NOT NULL"
                    " AND to_regclass(format('%%I.orders', %s)) IS NOT NULL", (schema, schema))
        exists = cur.fetchone()[0]
    conn.rollback()  # ends the read-only transaction the check opened
    return exists
