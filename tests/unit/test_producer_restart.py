"""The producer against a real PostgreSQL that crashes, restarts and drops connections: its journal stays exact.

The module starts a PostgreSQL 15 of its own (initdb in /var/tmp, a free port, run as the postgres OS user when
the tests run as root), so it never touches the stack's server. Between the producer and that server, a small
TCP relay can cut a connection at a chosen query, before the server gets it or after the server answered it:
that makes "the connection broke during COMMIT" happen on purpose rather than by luck. Missing server
binaries fail the module; they are part of the test environment (apt package postgresql-15).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from producer.journal import Change, Journal, json_value
from producer.reconnect import MAX_BACKOFF, Backend, InDoubt, Link, backend_of, settle
from producer.runner import RunOptions, run
from producer.writer import Outcome, Writer

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
ROOT = Path(__file__).resolve().parents[2]
TABLES = ("customers", "orders")
WRITES = (b"WITH", b"INSERT", b"UPDATE", b"DELETE")  # the writer's statements, never BEGIN/COMMIT/SELECT


# ---------------------------------------------------------------- a PostgreSQL of the module's own

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    def __init__(self) -> None:
        missing = [name for name in ("initdb", "pg_ctl", "postgres") if not (PG_BIN / name).exists()]
        if missing:
            pytest.fail(f"PostgreSQL server binaries missing in {PG_BIN}: {', '.join(missing)} "
                        "(install postgresql-15, or set PG_BIN)")
        self.as_root = os.geteuid() == 0
        # /var/tmp, not pytest's tmp_path: the postgres user must be able to reach the folder.
        self.root = Path(tempfile.mkdtemp(prefix="producer-pg-", dir="/var/tmp"))
        if self.as_root:
            shutil.chown(self.root, "postgres")
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self.dsn = f"host=127.0.0.1 port={self.port} dbname=postgres user=postgres"

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self.as_root else []
        result = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=60, check=False)
        if result.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
                        f"\n--- {self.log} ---\n{self.log.read_text() if self.log.exists() else ''}")

    def pg_ctl(self, *args: str) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "30", *args)

    def init(self) -> None:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--no-sync")

    def start(self) -> None:
        self.pg_ctl("-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}",
                    "start")

    def crash(self) -> float:
        """Kill the server as a crash would (no checkpoint, clients cut off) and start it again; the seconds it took."""
        started = time.monotonic()
        self.pg_ctl("-m", "immediate", "restart")
        return time.monotonic() - started

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="module")
def server():
    server = Server()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


def producer(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "python"),
                                                                      os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-m", "producer", *args], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"producer {args[0]} failed ({result.returncode}):\n{result.stderr}")
    return result


@pytest.fixture
def schema(server):
    """A fresh schema with the producer's tables, so each test's journal is the whole story of its tables."""
    name = f"restart_{uuid.uuid4().hex[:8]}"
    producer("create-schema", "--dsn", server.dsn, "--schema", name)
    return name


# ---------------------------------------------------------------- a relay that cuts connections

class Relay:
    """TCP relay to the server that cuts a connection at the nth query matching a rule: before forwarding it
    (the server never sees it) or after the server has answered it (the client never hears back)."""

    def __init__(self, port: int):
        self.upstream = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.dsn = f"host=127.0.0.1 port={self.port} dbname=postgres user=postgres sslmode=disable gssencmode=disable"
        self.refusing = False  # new connections are closed at once, as by a server that is down
        self.cut_at: list[bytes] = []  # the queries connections were cut at
        self._rule: tuple[Callable[[bytes], bool], int, bool] | None = None
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def cut(self, matches: Callable[[bytes], bool], nth: int = 1, after: bool = False) -> None:
        with self._lock:
            self._rule = (matches, nth, after)

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream))
            except OSError:
                client.close()  # the server is down: so is the relay
                continue
            for sock in (client, upstream):  # no Nagle: each query and answer goes at once, as without a relay
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = {"swallow": False}
            threading.Thread(target=self._client_to_server, args=(client, upstream, pair), daemon=True).start()
            threading.Thread(target=self._server_to_client, args=(upstream, client, pair), daemon=True).start()

    def _decide(self, query: bytes) -> bool | None:
        """None: forward; False: cut before; True: cut after the answer."""
        with self._lock:
            if self._rule is None or not self._rule[0](query):
                return None
            matches, nth, after = self._rule
            if nth > 1:
                self._rule = (matches, nth - 1, after)
                return None
            self._rule = None
            self.cut_at.append(query)
            return after

    @staticmethod
    def _shut(*sockets: socket.socket) -> None:
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _client_to_server(self, client: socket.socket, upstream: socket.socket, pair: dict) -> None:
        buffer = b""
        started = False  # the startup packet has no type byte; every later message has one
        try:
            while True:
                data = client.recv(65536)
                if not data:
                    break
                buffer += data
                while True:
                    head = 4 if not started else 5
                    if len(buffer) < head:
                        break
                    size = int.from_bytes(buffer[head - 4:head], "big") + head - 4
                    if len(buffer) < size:
                        break
                    message, buffer = buffer[:size], buffer[size:]
                    started = True
                    decision = self._decide(message[5:-1]) if message[:1] == b"Q" else None
                    if decision is False:
                        self._shut(client, upstream)
                        return
                    if decision is True:
                        pair["swallow"] = True
                    upstream.sendall(message)
        except OSError:
            pass
        self._shut(client, upstream)

    def _server_to_client(self, upstream: socket.socket, client: socket.socket, pair: dict) -> None:
        buffer = b""
        try:
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                buffer += data
                while len(buffer) >= 5:
                    size = int.from_bytes(buffer[1:5], "big") + 1
                    if len(buffer) < size:
                        break
                    message, buffer = buffer[:size], buffer[size:]
                    if not pair["swallow"]:
                        client.sendall(message)
                    elif message[:1] == b"Z":  # ReadyForQuery: the server has finished the query
                        self._shut(client, upstream)
                        return
        except OSError:
            pass
        self._shut(client, upstream)


@pytest.fixture
def relay(server):
    relay = Relay(server.port)
    yield relay
    relay.close()


# ---------------------------------------------------------------- the journal against the tables

def read_journal(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def tables_of(dsn: str, schema: str) -> tuple[dict, dict]:
    """Each table's rows as the journal writes them, and the id of the transaction that last wrote each (xmin)."""
    rows: dict[str, dict[int, dict]] = {}
    writers: dict[tuple[str, int], int] = {}
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        for table in TABLES:
            cur.execute(sql.SQL("SELECT xmin::text, * FROM {}").format(sql.Identifier(schema, table)))
            names = [column.name for column in cur.description][1:]
            rows[table] = {}
            for xmin, *values in cur.fetchall():
                row = {n: json_value(v) for n, v in zip(names, values, strict=True)}
                rows[table][row["id"]] = row
                writers[(table, row["id"])] = int(xmin)
    conn.close()
    return rows, writers


def assert_journal_is_exact(dsn: str, schema: str, journal: list[dict]) -> None:
    """Replaying the journal gives the tables, row for row, and the last journaled change of every row is the
    transaction that wrote it: no journaled change uncommitted, no committed change missing."""
    assert [entry["seq"] for entry in journal] == list(range(1, len(journal) + 1))
    txids = [entry["txid"] for i, entry in enumerate(journal) if i == 0 or journal[i - 1]["txid"] != entry["txid"]]
    assert len(txids) == len(set(txids)), "a transaction's changes are not contiguous, or one is journaled twice"
    replayed: dict[str, dict[int, dict]] = {table: {} for table in TABLES}
    last_writer: dict[tuple[str, int], int] = {}
    for entry in journal:
        key = (entry["table"], entry["key"]["id"])
        if entry["op"] == "d":
            assert key[1] in replayed[key[0]], f"journaled delete of {key}, never journaled as inserted"
            del replayed[key[0]][key[1]]
            last_writer.pop(key)
        else:
            replayed[key[0]][key[1]] = entry["row"]
            last_writer[key] = entry["txid"] % 2**32
    rows, writers = tables_of(dsn, schema)
    for table in TABLES:
        assert set(replayed[table]) - set(rows[table]) == set(), f"journaled {table} rows missing from the table"
        assert set(rows[table]) - set(replayed[table]) == set(), f"{table} rows the journal does not hold"
        assert replayed[table] == rows[table]
    assert last_writer == writers


def run_through(relay: Relay, schema: str, path: Path, **options) -> object:
    link = Link(lambda: psycopg2.connect(relay.dsn, application_name="producer", connect_timeout=10))
    try:
        return run(link, schema, RunOptions(quiet=True, **options), threading.Event(), Journal(path))
    finally:
        link.close()


# ---------------------------------------------------------------- a COMMIT whose outcome the client cannot know

def test_a_commit_whose_reply_is_lost_is_journaled_when_it_committed(server, relay, schema, tmp_path, capsys):
    relay.cut(lambda query: query == b"COMMIT", nth=5, after=True)
    progress = run_through(relay, schema, tmp_path / "j.jsonl", count=200, seed=1)
    err = capsys.readouterr().err
    txid = int(re.search(r"COMMIT of transaction (\d+) was in flight", err).group(1))
    assert f"transaction {txid}: committed, journaled" in err and progress.reconnects == 1
    journal = read_journal(tmp_path / "j.jsonl")
    assert txid in {entry["txid"] for entry in journal} and len(journal) == 200
    assert_journal_is_exact(server.dsn, schema, journal)


def test_a_commit_the_server_never_got_is_not_journaled(server, relay, schema, tmp_path, capsys):
    relay.cut(lambda query: query == b"COMMIT", nth=5, after=False)
    run_through(relay, schema, tmp_path / "j.jsonl", count=200, seed=2)
    err = capsys.readouterr().err
    txid = int(re.search(r"COMMIT of transaction (\d+) was in flight", err).group(1))
    assert f"transaction {txid}: aborted, not journaled" in err
    journal = read_journal(tmp_path / "j.jsonl")
    assert txid not in {entry["txid"] for entry in journal} and len(journal) == 200  # --count: committed only
    assert_journal_is_exact(server.dsn, schema, journal)


def test_a_connection_lost_before_commit_rolls_the_transaction_back(server, relay, schema, tmp_path, capsys):
    relay.cut(lambda query: query.startswith(WRITES), nth=20)
    run_through(relay, schema, tmp_path / "j.jsonl", count=200, seed=3)
    err = capsys.readouterr().err
    assert err.count("producer: lost the connection to PostgreSQL (server closed the connection unexpectedly") == 1
    assert "nothing in flight had committed" in err and err.count("producer: reconnected to PostgreSQL after") == 1
    journal = read_journal(tmp_path / "j.jsonl")
    assert len(journal) == 200
    assert_journal_is_exact(server.dsn, schema, journal)


def test_a_transaction_still_open_in_its_session_is_asked_about_again(server, schema):
    writer = Writer(schema)
    ours = psycopg2.connect(server.dsn)
    other = psycopg2.connect(server.dsn)
    try:
        with ours.cursor() as cur:
            cur.execute("SELECT txid_current()")
            txid = cur.fetchone()[0]
        outcome = Outcome(txid, [], 0)
        with pytest.raises(InDoubt):
            settle(other, txid, backend_of_open(ours), lambda cur: writer.shows(cur, outcome))
    finally:
        ours.close()
        other.close()


def backend_of_open(conn: psycopg2.extensions.connection) -> Backend:
    """backend_of for a connection inside a transaction (backend_of would roll it back)."""
    with conn.cursor() as cur:
        cur.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        return Backend(*cur.fetchone())


# ---------------------------------------------------------------- what a crash does to transaction ids

def crashed_transaction(server: Server, schema: str) -> tuple[int, Backend, Outcome]:
    """A transaction that took an id and inserted customer 10**12, then the server crashed before any of its
    WAL reached disk (only txid_current() ran, which writes none: so the id is handed out again)."""
    conn = psycopg2.connect(server.dsn)
    backend = backend_of(conn)
    with conn.cursor() as cur:
        cur.execute("SELECT txid_current()")
        txid = cur.fetchone()[0]
    server.crash()
    conn.close()
    row = {"id": 10**12, "email": "x", "full_name": "x", "is_active": True, "profile": {}, "credit_limit": "1.00"}
    return txid, backend, Outcome(txid, [Change("customers", "c", {"id": 10**12}, row)], 0)


def test_an_id_in_the_future_after_a_crash_did_not_commit(server, schema):
    txid, backend, outcome = crashed_transaction(server, schema)
    with psycopg2.connect(server.dsn) as conn:
        result = settle(conn, txid, backend, lambda cur: Writer(schema).shows(cur, outcome))
    conn.close()
    assert not result.committed and result.why == "PostgreSQL restarted before any of it reached disk"


def test_an_id_reused_after_a_crash_is_not_taken_for_ours(server, schema):
    txid, backend, outcome = crashed_transaction(server, schema)
    with psycopg2.connect(server.dsn) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("INSERT INTO {} (email, full_name, is_active, profile, credit_limit)"
                            " VALUES ('reuse@example.com', 'R', true, '{{}}', 1) RETURNING txid_current()")
                    .format(sql.Identifier(schema, "customers")))
        reused = cur.fetchone()[0]
    conn.close()
    assert reused == txid, "precondition: the next transaction after the crash gets the lost transaction's id"
    with psycopg2.connect(server.dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT txid_status(%s)", (txid,))
        assert cur.fetchone()[0] == "committed"  # txid_status alone would say ours committed
        result = settle(conn, txid, backend, lambda cur: Writer(schema).shows(cur, outcome))
    conn.close()
    assert not result.committed and "reused" in result.why


# ---------------------------------------------------------------- the producer through PostgreSQL crashes

def wait_for_lines(path: Path, count: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_bytes().count(b"\n") >= count:
            return
        if process.poll() is not None:
            pytest.fail(f"producer ended early ({process.returncode}):\n{process.stderr.read()}")
        time.sleep(0.05)
    pytest.fail(f"journal did not reach {count} lines within {timeout:.0f} s")


def start_producer(dsn: str, schema: str, path: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "python"),
                                                                      os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", "producer", "run", "--dsn", dsn, "--schema", schema,
                             "--journal", str(path), *args], env=env, stderr=subprocess.PIPE, text=True)


def test_producer_survives_postgresql_crashes_with_an_exact_journal(server, schema, tmp_path):
    path = tmp_path / "j.jsonl"
    process = start_producer(server.dsn, schema, path, "--rate", "3000", "--count", "6000", "--seed", "7")
    restarts = []
    for lines in (1000, 2500, 4000):
        wait_for_lines(path, lines, process)
        restarts.append(server.crash())
    try:
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    lost = re.findall(r"^producer: lost the connection to PostgreSQL \((.+?)\); (.+?); reconnecting", err, re.M)
    back = re.findall(r"^producer: reconnected to PostgreSQL after ([\d.]+) s \(\d+ attempts?\)(.*)$", err, re.M)
    assert len(lost) == len(back) == 3, err
    assert re.search(r"^producer: 6000 changes in \d+ transactions, .*, 3 reconnects$", err, re.M), err
    journal = read_journal(path)
    assert len(journal) == 6000
    assert_journal_is_exact(server.dsn, schema, journal)
    # Which case each crash hit depends on timing (about one in four catches a COMMIT in flight); the relay
    # tests above make each case happen on purpose.
    verdicts = [what.lstrip("; ") or "none needed" for _, what in back]
    print(f"\nrestart -m immediate took {', '.join(f'{s:.2f}' for s in restarts)} s; the producer was back after "
          f"{', '.join(gone for gone, _ in back)} s; verdicts: {verdicts}")


def test_producer_waits_for_a_postgresql_that_is_down_for_a_while(server, schema, tmp_path):
    path = tmp_path / "j.jsonl"
    process = start_producer(server.dsn, schema, path, "--rate", "3000", "--count", "2000", "--seed", "8")
    wait_for_lines(path, 500, process)
    stopped = time.monotonic()
    server.pg_ctl("-m", "fast", "stop")
    time.sleep(2.0)
    server.start()
    down = time.monotonic() - stopped
    try:
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 0, err
    gone = [float(s) for s in re.findall(r"^producer: reconnected to PostgreSQL after ([\d.]+) s", err, re.M)]
    # Gone at least as long as the server was, and back within one capped backoff step (2 s) of its return.
    assert len(gone) == 1 and 2.0 <= gone[0] <= down + MAX_BACKOFF + 1.5, (gone, down)
    assert_journal_is_exact(server.dsn, schema, read_journal(path))


def test_giving_up_after_the_reconnect_timeout_is_the_one_line_failure(server, relay, schema, tmp_path):
    path = tmp_path / "j.jsonl"
    process = start_producer(relay.dsn, schema, path, "--rate", "200", "--reconnect-timeout", "1", "--quiet")
    wait_for_lines(path, 50, process)
    relay.refusing = True
    relay.cut(lambda query: query.startswith(WRITES))
    started = time.monotonic()
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1 and time.monotonic() - started < 10  # --reconnect-timeout 1, not 300
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"producer: lost the connection to PostgreSQL at 127.0.0.1:{relay.port}/postgres as "
                           "postgres: connection to server at ") and "server closed the connection unexpectedly" in last
    assert last.endswith("; not back within 1 s") and "Traceback" not in err
    assert_journal_is_exact(server.dsn, schema, read_journal(path))


def test_giving_up_with_a_commit_in_doubt_names_the_transaction(server, relay, schema, tmp_path):
    path = tmp_path / "j.jsonl"
    process = start_producer(relay.dsn, schema, path, "--rate", "200", "--reconnect-timeout", "1", "--quiet")
    wait_for_lines(path, 50, process)
    relay.refusing = True
    relay.cut(lambda query: query == b"COMMIT", after=True)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 1
    txid = int(re.search(r"whether transaction (\d+) committed is unknown, it is not in the journal$", err).group(1))
    journal = read_journal(path)
    assert txid not in {entry["txid"] for entry in journal}
    # It did commit (the relay cut after the server answered): the journal misses exactly that transaction.
    _, writers = tables_of(server.dsn, schema)
    assert txid % 2**32 in writers.values()


def test_sigterm_during_an_outage_ends_the_run_as_usual(server, relay, schema, tmp_path):
    path = tmp_path / "j.jsonl"
    process = start_producer(relay.dsn, schema, path, "--rate", "200", "--quiet")
    wait_for_lines(path, 50, process)
    relay.refusing = True
    relay.cut(lambda query: query.startswith(WRITES))
    time.sleep(1.0)  # reconnecting, with a 300 s timeout
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=10)
    assert process.returncode == 0 and time.monotonic() - started < 5, err  # not the 300 s of reconnecting
    assert re.search(r"^producer: \d+ changes in \d+ transactions", err, re.M)
    assert_journal_is_exact(server.dsn, schema, read_journal(path))


def test_startup_failures_stay_immediate(server, tmp_path):
    started = time.monotonic()
    result = producer("run", "--dsn", f"host=127.0.0.1 port={free_port()} dbname=postgres user=postgres",
                      "--count", "1", check=False)
    assert result.returncode == 2 and "cannot connect to PostgreSQL" in result.stderr
    result = producer("run", "--dsn", server.dsn, "--schema", "no_such_schema", "--count", "1", check=False)
    assert result.returncode == 2 and "tables customers and orders not found" in result.stderr
    assert time.monotonic() - started < 10
