"""Fixtures for the end-to-end suites: they run against the local stack that `make e2e-test` starts."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg2
import pytest

from cdc import TopicReader
from glue.sqlnames import q
from stack import probes
from stack.settings import components

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session", autouse=True)
def running_stack() -> None:
    """Fail at once, naming the component, when the stack is not up."""
    if "STATE_DIR" not in os.environ:
        pytest.exit("run the integration tests with `make e2e-test`: it loads the settings and starts the stack",
                    returncode=2)
    for name, component in components().items():
        try:
            probes.PROBES[name](component)
        except Exception as error:  # any failure means the same thing here: not answering
            pytest.exit(f"{name} is not answering at {component.address} ({error}); start it with `make local-up`",
                        returncode=2)


def env(**overrides: str) -> dict[str, str]:
    return {**os.environ, **overrides}


def run_script(name: str, **overrides: str) -> subprocess.CompletedProcess:
    """Run one of scripts/ with settings overridden through the environment; fail with its output."""
    result = subprocess.run(["bash", str(ROOT / "scripts" / name)], env=env(**overrides),
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"scripts/{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def admin_sql(sql: str, database: str | None = None) -> str:
    """SQL as the private cluster's superuser (over its socket), for what the app user may not do."""
    database = database or os.environ["PG_DATABASE"]
    script = f'. scripts/lib.sh && psql_admin -d "{database}" -At -c "$SQL"'
    result = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env(SQL=sql),
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"superuser SQL failed: {sql}\n{result.stderr}")
    return result.stdout


def drop_slot(slot: str) -> None:
    """Drop a replication slot once its connector has let go of it."""
    deadline = time.monotonic() + 60
    while admin_sql(f"SELECT active FROM pg_replication_slots WHERE slot_name = '{slot}'").strip() == "t":
        if time.monotonic() > deadline:
            pytest.fail(f"replication slot {slot} still active 60 s after its connector was deleted")
        time.sleep(1)
    admin_sql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '{slot}'")


def supervise(*args: str, check: bool = True) -> None:
    """supervisorctl of the local stack, e.g. supervise("stop", "connect")."""
    subprocess.run(["bash", "-c", '. scripts/lib.sh && supervisorctl "$@"', "supervise", *args],
                   cwd=ROOT, check=check, capture_output=True)


def app_dsn_of_stack() -> str:
    """The stack's database, as the application user."""
    e = os.environ
    return (f"host={e['PG_HOST']} port={e['PG_PORT']} dbname={e['PG_DATABASE']} "
            f"user={e['PG_APP_USER']} password={e['PG_APP_PASSWORD']}")


@pytest.fixture
def app_dsn() -> str:
    return app_dsn_of_stack()


@pytest.fixture
def app_conn(app_dsn):
    conn = psycopg2.connect(app_dsn)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture
def reader():
    topic_reader = TopicReader(f"{os.environ['KAFKA_HOST']}:{os.environ['KAFKA_PORT']}")
    yield topic_reader
    topic_reader.close()


@pytest.fixture
def unique_name() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def producer_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "producer", "run", "--quiet", *args]


@pytest.fixture
def topic_for():
    def topic(table: str, schema: str | None = None, prefix: str | None = None) -> str:
        return f"{prefix or os.environ['TOPIC_PREFIX']}.{schema or os.environ['PG_SCHEMA']}.{table}"
    return topic


@pytest.fixture(scope="session")
def lake():
    """A Spark session reading the local lake, and the lake's namespace."""
    from glue.lake import local_reader

    os.environ["TZ"] = "UTC"  # PySpark turns timestamps into naive datetimes in the process's time zone
    time.tzset()
    spark, opts = local_reader()
    yield spark, f"{q(opts.catalog_name)}.{q(opts.database)}"
    spark.stop()


@pytest.fixture(scope="module")
def quiet_source():
    """The stack's own producer paused, so the source stands still and the mirror can catch up with it."""
    supervise("stop", "producer")
    yield
    supervise("start", "producer", check=False)
