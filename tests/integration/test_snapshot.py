"""Rows that exist before a connector is registered arrive first, as snapshot reads (op=r)."""

import subprocess
from decimal import Decimal

import psycopg2
import requests

from conftest import admin_sql, drop_slot, env, producer_command, run_script
from stack.settings import connect_url


def db_rows(dsn: str, schema: str, table: str) -> dict[int, dict]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"SELECT * FROM {schema}.{table}")
        names = [column.name for column in cur.description]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    # Debezium sends numeric as exact decimal strings (decimal.handling.mode=string).
    return {row["id"]: {k: str(v) if isinstance(v, Decimal) else v for k, v in row.items()} for row in rows}


def test_rows_written_before_registration_arrive_as_snapshot_reads(app_dsn, reader, unique_name, tmp_path):
    schema = f"snap_{unique_name}"
    settings = dict(PG_SCHEMA=schema, PG_PUBLICATION=f"{schema}_pub", PG_SLOT=schema,
                    TOPIC_PREFIX=schema, CONNECTOR_NAME=schema)
    run_script("bootstrap-db.sh", **settings)
    try:
        subprocess.run(producer_command("--count", "400", "--rate", "0", "--seed", "11"),
                       env=env(**settings), check=True)
        expected = {table: db_rows(app_dsn, schema, table) for table in ("customers", "orders")}
        assert expected["customers"] and expected["orders"]
        topics = [f"{schema}.{schema}.{table}" for table in expected]

        run_script("register-connector.sh", **settings)

        def complete(events) -> bool:
            return sum(1 for e in events if not e.tombstone) >= sum(map(len, expected.values()))

        events = reader.read_until(topics, {}, complete, timeout=120)
        assert all(e.op == "r" for e in events), {e.op for e in events}
        got = {table: {} for table in expected}
        for event in events:
            assert event.value["source"]["snapshot"] in ("first", "true", "last", "first_in_data_collection",
                                                        "last_in_data_collection")
            got[event.value["source"]["table"]][event.key["id"]] = event.row("after")
        assert got == expected
    finally:
        requests.delete(f"{connect_url()}/connectors/{schema}", timeout=30)
        drop_slot(schema)
        admin_sql(f"DROP PUBLICATION IF EXISTS {schema}_pub; DROP SCHEMA IF EXISTS {schema} CASCADE")
