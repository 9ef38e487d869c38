"""Against the running stack: what real databases do to tables, each case done in PostgreSQL, and after each the mirror
equals its source row for row. Then a table created afterwards still reaches the lake, and a table the job cannot
apply is paused, shown by `make status`, and rebuilt without the other tables stopping."""

import os
import subprocess
import time

import psycopg2
import pytest

from conftest import ROOT, admin_sql, app_dsn_of_stack
from stack import repair
from stack.lakecheck import settle

SCHEMA = os.environ.get("PG_SCHEMA", "shop")


@pytest.fixture
def db():
    conn = psycopg2.connect(app_dsn_of_stack())
    conn.autocommit = True
    tables: list[str] = []

    def run(*statements: str, table: str | None = None) -> None:
        if table and table not in tables:
            tables.append(table)
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement.format(s=SCHEMA))

    yield run
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{table}")
    conn.close()


@pytest.fixture
def name(unique_name) -> str:
    return f"x_{unique_name}"


def equal(lake, table, key=("id",), json_columns=frozenset(), select="*"):
    return settle(lake, app_dsn_of_stack(), SCHEMA, table, list(key), set(json_columns), select)


TOAST = "(SELECT string_agg(md5(i::text), '') FROM generate_series(1, 400) i)"  # 12.8 kB, stored out of line


def test_toasted_text_bytea_and_arrays_survive_updates_and_a_key_change(lake, db, name):
    db(f"CREATE TABLE {{s}}.{name} (id int PRIMARY KEY, n int, t text, b bytea, ta text[], ia int[], ua uuid[])",
       f"INSERT INTO {{s}}.{name} SELECT 1, 0, {TOAST}, decode({TOAST}, 'hex'), ARRAY[{TOAST}, 'x'], "
       "(SELECT array_agg(g) FROM generate_series(1, 4000) g), "
       "(SELECT array_agg(md5(g::text)::uuid) FROM generate_series(1, 600) g)", table=name)
    db(f"UPDATE {{s}}.{name} SET n = 1")            # REPLICA IDENTITY DEFAULT: unchanged TOAST values are not sent
    db(f"UPDATE {{s}}.{name} SET id = 2, n = 2")    # a key change: a delete and an insert carrying placeholders
    db(f"UPDATE {{s}}.{name} SET n = 3")
    assert equal(lake, name, json_columns={"ta", "ia", "ua"}, select="id, n, t, b, ta, ia, ua::text[] AS ua") == []


def test_truncate_empties_the_mirror_and_later_rows_arrive(lake, db, name):
    db(f"CREATE TABLE {{s}}.{name} (id int PRIMARY KEY, v text)",
       f"INSERT INTO {{s}}.{name} SELECT g, 'before' FROM generate_series(1, 50) g", table=name)
    assert equal(lake, name) == []
    db(f"TRUNCATE {{s}}.{name}", f"INSERT INTO {{s}}.{name} VALUES (7, 'after')")
    assert equal(lake, name) == []


def test_rename_drop_add_with_default_and_type_change_leave_the_mirror_equal(lake, db, name):
    db(f"CREATE TABLE {{s}}.{name} (id int PRIMARY KEY, a text, gone text, qty bigint)",
       f"INSERT INTO {{s}}.{name} SELECT g, 'a' || g, 'g', g FROM generate_series(1, 30) g", table=name)
    assert equal(lake, name) == []
    db(f"ALTER TABLE {{s}}.{name} RENAME COLUMN a TO b")
    assert equal(lake, name) == []
    db(f"ALTER TABLE {{s}}.{name} DROP COLUMN gone")
    db(f"UPDATE {{s}}.{name} SET b = 'touched' WHERE id = 1")
    assert equal(lake, name) == []
    db(f"ALTER TABLE {{s}}.{name} ADD COLUMN d int DEFAULT 5")
    assert equal(lake, name) == []
    db(f"ALTER TABLE {{s}}.{name} ALTER COLUMN qty TYPE numeric(10,3)",
       f"INSERT INTO {{s}}.{name} VALUES (100, 'new', 1.625, 6)")
    assert equal(lake, name) == []


def test_numeric_nan_and_infinity_arrive_exactly(lake, db, name):
    db(f"CREATE TABLE {{s}}.{name} (id int PRIMARY KEY, amount numeric(12,2), score numeric)",
       f"INSERT INTO {{s}}.{name} VALUES (1, 12.50, 2.25), (2, 3.10, 1)", table=name)
    assert equal(lake, name) == []
    db(f"INSERT INTO {{s}}.{name} VALUES (3, 'NaN', 'Infinity'), (4, 0.01, '-Infinity'), (5, 1.00, 'NaN')")
    assert equal(lake, name) == []


def test_a_table_written_before_it_had_a_key_is_mirrored_once_keyed(lake, db, name):
    db(f"CREATE TABLE {{s}}.{name} (id int NOT NULL, v text)",
       f"INSERT INTO {{s}}.{name} SELECT g, 'v' || g FROM generate_series(1, 20) g", table=name)
    db(f"ALTER TABLE {{s}}.{name} ADD PRIMARY KEY (id)", f"UPDATE {{s}}.{name} SET v = 'keyed' WHERE id = 3")
    assert equal(lake, name) == []


def test_a_table_dropped_and_created_again_with_another_key_type_is_mirrored_anew(lake, db, name):
    db(f"CREATE TABLE {{s}}.{name} (id int PRIMARY KEY, v text)",
       f"INSERT INTO {{s}}.{name} SELECT g, 'old' FROM generate_series(1, 20) g", table=name)
    assert equal(lake, name) == []
    db(f"DROP TABLE {{s}}.{name}",
       f"CREATE TABLE {{s}}.{name} (id uuid PRIMARY KEY, v text)",
       f"INSERT INTO {{s}}.{name} SELECT md5(g::text)::uuid, 'new' FROM generate_series(1, 5) g")
    assert equal(lake, name) == []


def test_a_transaction_held_open_across_a_resync_wins(lake, db, name):
    db(f"CREATE TABLE {{s}}.{name} (id int PRIMARY KEY, v text)",
       f"INSERT INTO {{s}}.{name} SELECT g, 'v0' FROM generate_series(1, 2000) g", table=name)
    assert equal(lake, name) == []
    held = psycopg2.connect(app_dsn_of_stack())
    try:
        with held.cursor() as cur:
            cur.execute(f"UPDATE {SCHEMA}.{name} SET v = 'held open' WHERE id IN (1, 1500)")
        repair.resync(name, timeout=300)  # Debezium reads the rows as they were before the open transaction
        held.commit()
    finally:
        held.close()
    assert equal(lake, name) == []


def test_a_table_created_after_all_that_still_reaches_the_lake(lake, db, name):
    db(f"CREATE TABLE {{s}}.{name} (id bigint PRIMARY KEY, payload jsonb)",
       f"INSERT INTO {{s}}.{name} VALUES (1, '{{{{\"a\": 1}}}}'), (2, NULL)", table=name)
    assert equal(lake, name, json_columns={"payload"}) == []


def make_status() -> str:
    return subprocess.run(["make", "-s", "status"], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def test_a_table_the_job_cannot_apply_is_paused_shown_and_rebuilt_while_others_flow(lake, db, name):
    other = f"{name}_other"
    db(f"CREATE TABLE {{s}}.{name} (id int PRIMARY KEY, v text)",
       f"INSERT INTO {{s}}.{name} SELECT g, 'v' FROM generate_series(1, 10) g", table=name)
    db(f"CREATE TABLE {{s}}.{other} (id int PRIMARY KEY, v text)", table=other)
    assert equal(lake, name) == []
    # Without the event trigger the job never hears of the new key type: the mirror's int key cannot take it.
    admin_sql("ALTER EVENT TRIGGER cdc_capture_ddl DISABLE")
    try:
        db(f"ALTER TABLE {{s}}.{name} ALTER COLUMN id TYPE text", f"INSERT INTO {{s}}.{name} VALUES ('x-1', 'text')")
    finally:
        admin_sql("ALTER EVENT TRIGGER cdc_capture_ddl ENABLE")
    db(*[f"INSERT INTO {{s}}.{other} VALUES ({i}, 'flowing')" for i in range(1, 4)])
    assert equal(lake, other) == [], "another table stopped while one was paused"
    paused = wait_for(lambda: repair.paused_tables().get(name), 120)
    assert "key column id" in paused["reason"], paused
    status = make_status()
    line = next(line for line in status.splitlines() if name in line and "PAUSED" in line)
    assert "make rebuild TABLE=" in line and "key column id" in line
    subprocess.run(["python", "-m", "stack", "rebuild", name, "--timeout", "300"], cwd=ROOT, check=True)
    assert equal(lake, name) == []
    assert name not in repair.paused_tables()


def wait_for(probe, timeout: float):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(2)
    pytest.fail(f"not seen within {timeout:.0f} s")


def test_every_topic_deletes_rather_than_compacts(reader):
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=f"{os.environ['KAFKA_HOST']}:{os.environ['KAFKA_PORT']}")
    try:
        topics = [t for t in admin.list_topics() if t.startswith(f"{os.environ['TOPIC_PREFIX']}.{SCHEMA}.")]
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in topics])
    finally:
        admin.close()
    policies = {}
    for response in configs:
        for resource in response.resources:
            entries = {entry[0]: entry[1] for entry in resource[4]}
            policies[resource[3]] = entries.get("cleanup.policy")
    assert topics and set(policies.values()) == {"delete"}, policies

