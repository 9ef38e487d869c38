"""The mirrors stay exact under the change streams real databases produce (one test per way they went wrong), and one
table that cannot be applied never stops the others. Whole micro-batches through glue.job.BatchWriter."""

import json
from decimal import Decimal

import pytest

import glue_spark
from glue import objects
from glue.columns import UNAVAILABLE
from glue.job import BatchWriter
from glue_events import ORDERS, SNAPSHOT, Topic, kafka_rows, message, own, tombstone, truncate, unique

DDL_TOPIC = "shop.cdc.ddl_events"


def row(id_: int, **values) -> dict:
    base = {"id": id_, "amount": "12.50", "created_at": "2026-11-27T02:10:21.277747Z", "day": 20419,
            "doc": "{}", "paid": False, "qty": 1, "note": f"note {id_}"}
    return {**base, **values}


@pytest.fixture(scope="session")
def spark():
    return glue_spark.session()


@pytest.fixture
def orders():
    return Topic(unique("orders"))


@pytest.fixture
def writer():
    return BatchWriter(glue_spark.lake(ddl_topic=DDL_TOPIC))


def ev(op, lsn, topic, **kw):
    return message(op, lsn, table=topic.table, **kw)


def mirror(spark, topic, columns="id, note") -> list[tuple]:
    table = glue_spark.lake().table(topic.table)
    return [tuple(r) for r in spark.sql(f"SELECT {columns} FROM {table} ORDER BY id").collect()]


def ddl_event(topic: Topic, offset: int, command: str, lsn: int, columns=None, key=None):
    """The insert into cdc.ddl_events PostgreSQL's event trigger makes for a DDL command on topic's table."""
    fields = [{"type": "int64", "optional": False, "field": "id"}] + [
        {"type": "string", "optional": True, "field": f} for f in ("command", "schema_name", "table_name")] + [
        {"type": "string", "optional": True, "name": "io.debezium.data.Json", "field": f}
        for f in ("columns", "key_columns")]
    after = {"id": lsn, "command": command, "schema_name": "shop", "table_name": topic.table,
             "columns": None if columns is None else json.dumps([{"name": c} for c in columns]),
             "key_columns": None if key is None else json.dumps(key)}
    key_json, value = message("c", lsn, after=after, table="ddl_events", schema="cdc", fields=fields)
    return kafka_rows(glue_spark.session(), [(key_json, value)], topic=DDL_TOPIC, first_offset=offset)


# ---- 1. commit order, not change LSN order ------------------------------------------------------------------------

def test_a_transaction_open_across_the_snapshot_wins_over_the_snapshot_row(spark, orders, writer):
    # the snapshot read at LSN 100; a transaction that changed the row at LSN 90 commits after it
    writer(orders.batch(spark, [ev("r", 100, orders, after=row(1), commit=SNAPSHOT, snapshot="true"),
                                ev("r", 100, orders, after=row(2), commit=SNAPSHOT, snapshot="last")]), 0)
    writer(orders.batch(spark, [ev("u", 90, orders, after=row(1, note="committed later"), commit=120),
                                ev("d", 95, orders, before={"id": 2}, commit=120)]), 1)
    assert mirror(spark, orders) == [(1, "committed later")]


def test_an_incremental_snapshot_read_orders_by_where_it_was_read(spark, orders, writer):
    writer(orders.batch(spark, [ev("u", 150, orders, after=row(1, note="streamed"), commit=140)]), 0)
    # read by the incremental snapshot (no LSN of its own) after that change...
    writer(orders.batch(spark, [ev("r", None, orders, after=row(1, note="resync"), commit=200,
                                   snapshot="incremental")]), 1)
    assert mirror(spark, orders) == [(1, "resync")]
    # ... then a long transaction whose change has a lower LSN commits
    writer(orders.batch(spark, [ev("u", 180, orders, after=row(1, note="later commit"), commit=210)]), 2)
    assert mirror(spark, orders) == [(1, "later commit")]


# ---- 2. a delete leaves a marker ----------------------------------------------------------------------------------

def test_a_resent_insert_after_its_delete_does_not_bring_the_row_back(spark, orders, writer):
    insert = ev("c", 10, orders, after=row(1))
    writer(orders.batch(spark, [insert, ev("c", 11, orders, after=row(2))]), 0)
    writer(orders.batch(spark, [ev("d", 20, orders, before={"id": 1}), tombstone({"id": 1})]), 1)
    writer(orders.batch(spark, [insert]), 2)  # Connect restarted: the insert is sent again, at a new offset
    assert mirror(spark, orders) == [(2, "note 2")]


def test_an_older_event_from_another_partition_does_not_bring_a_deleted_row_back(spark, orders, writer):
    moved = Topic(orders.table, partition=1)  # the key's JSON changed (int -> bigint), so did its partition
    writer(moved.batch(spark, [ev("c", 10, orders, after=row(1)), ev("d", 30, orders, before={"id": 1})]), 0)
    writer(orders.batch(spark, [ev("u", 20, orders, after=row(1, note="older"))]), 1)
    assert mirror(spark, orders) == []


def test_a_deleted_key_can_be_inserted_again_by_a_later_change(spark, orders, writer):
    writer(orders.batch(spark, [ev("c", 10, orders, after=row(1)), ev("d", 20, orders, before={"id": 1})]), 0)
    writer(orders.batch(spark, [ev("c", 30, orders, after=row(1, note="again"))]), 1)
    assert mirror(spark, orders) == [(1, "again")]


# ---- 3. one table's failure stops only that table -----------------------------------------------------------------

def test_a_table_that_cannot_be_applied_is_paused_and_the_others_go_on(spark, writer):
    good, bad = Topic(unique("orders")), Topic(unique("orders"))
    writer(bad.batch(spark, [message("c", 10, table=bad.table, after=row(1))]), 0)
    # the table was dropped and created again with a uuid key; its DROP has not reached the job yet
    uuid_key = [{"type": "string", "optional": False, "name": "io.debezium.data.Uuid", "field": "id"}, *ORDERS[1:]]
    batch = (good.batch(spark, [message("c", 20, table=good.table, after=row(7))])
             .union(bad.batch(spark, [message("c", 30, table=bad.table, fields=uuid_key,
                                              after=row("5f0c3c4e-0000-4000-8000-000000000001"))])))
    report = writer(batch, 1)
    assert mirror(spark, good) == [(7, "note 7")]
    paused = own(report, good.table, bad.table)[1]
    assert list(paused) == [bad.table] and "key column id" in paused[bad.table]
    state = objects.read_json(spark, f"{glue_spark.lake().state_uri}/tables/{bad.table}.json")
    assert state["status"] == "paused" and "make rebuild" in state["reason"]
    # the DROP TABLE arrives: the mirror is rebuilt from the change log after it, and the table flows again
    report = writer(ddl_event(bad, 0, "DROP TABLE", 25), 2)
    assert own(report, bad.table) == ({bad.table: 1}, {})
    assert mirror(spark, bad) == [("5f0c3c4e-0000-4000-8000-000000000001", "note 5f0c3c4e-0000-4000-8000-000000000001")]
    assert objects.read_json(spark, f"{glue_spark.lake().state_uri}/tables/{bad.table}.json") is None


def test_a_paused_table_catches_up_from_the_change_log_when_asked_to_rebuild(spark, writer, orders):
    writer(orders.batch(spark, [ev("c", 10, orders, after=row(1))]), 0)
    writer.states.pause(spark, orders.table, "stopped by the test", 1)
    writer(orders.batch(spark, [ev("u", 20, orders, after=row(1, note="while paused")),
                                ev("c", 21, orders, after=row(2))]), 2)
    assert mirror(spark, orders) == [(1, "note 1")]  # events wait in the change log
    objects.write_json(spark, f"{writer.states.requests_uri}/rebuild-{orders.table}.json",
                       {"kind": "rebuild", "mirror": orders.table})
    writer(orders.batch(spark, [ev("c", 30, orders, after=row(3))]), 3)
    assert mirror(spark, orders) == [(1, "while paused"), (2, "note 2"), (3, "note 3")]
    assert writer.states.requests(spark) == ({}, {})


def test_a_rebuild_lifts_the_pause_before_it_answers_the_request(spark, writer, orders, monkeypatch):
    # `make rebuild` waits for the request to go, then reads the pause: the other order reports a stale pause
    writer(orders.batch(spark, [ev("c", 10, orders, after=row(1))]), 0)
    writer.states.pause(spark, orders.table, "stopped by the test", 1)
    objects.write_json(spark, f"{writer.states.requests_uri}/rebuild-{orders.table}.json",
                       {"kind": "rebuild", "mirror": orders.table})
    deleted = []
    delete = objects.delete
    monkeypatch.setattr(objects, "delete", lambda spark, uri: (deleted.append(uri), delete(spark, uri)))
    writer(orders.batch(spark, [ev("c", 20, orders, after=row(2))]), 2)
    assert [uri.rsplit("/state/", 1)[1] for uri in deleted] == [f"tables/{orders.table}.json",
                                                               f"requests/rebuild-{orders.table}.json"]


# ---- 4. TOAST placeholders of every type --------------------------------------------------------------------------

TOASTED = [
    {"type": "int32", "optional": False, "field": "id"},
    {"type": "int32", "optional": True, "field": "n"},
    {"type": "string", "optional": True, "field": "t"},
    {"type": "bytes", "optional": True, "field": "b"},
    {"type": "array", "optional": True, "items": {"type": "string", "optional": True}, "field": "ta"},
    {"type": "array", "optional": True, "items": {"type": "int32", "optional": True}, "field": "ia"},
    {"type": "array", "optional": True, "field": "ua",
     "items": {"type": "string", "optional": True, "name": "io.debezium.data.Uuid", "version": 1}},
    {"type": "string", "optional": True, "name": "io.debezium.data.Json", "version": 1, "field": "j"},
]
# as Debezium 3.6 sends an unchanged TOASTed value of each column (seen on PostgreSQL 15)
PLACEHOLDERS = {"t": UNAVAILABLE, "b": "X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==", "ta": [UNAVAILABLE],
                "ia": list(UNAVAILABLE.encode()), "ua": ["b68a35a7-17ad-35b3-af2a-ae46edb4545a"], "j": UNAVAILABLE}
VALUES = {"t": "long text", "b": "AAEC", "ta": ["x", "y"], "ia": [1, 2, 3],
          "ua": ["5f0c3c4e-0000-4000-8000-000000000001"], "j": '{"k": 1}'}


def toast_rows(spark, topic):
    table = glue_spark.lake().table(topic.table)
    return [tuple(r) for r in spark.sql(f"SELECT id, n, t, hex(b), ta, ia, ua, j FROM {table} ORDER BY id").collect()]


def test_unchanged_toast_values_of_every_type_keep_the_stored_value(spark, writer):
    topic = Topic(unique("toasted"))
    writer(topic.batch(spark, [message("c", 10, table=topic.table, fields=TOASTED,
                                       after={"id": 1, "n": 0, **VALUES})]), 0)
    writer(topic.batch(spark, [message("u", 20, table=topic.table, fields=TOASTED,
                                       after={"id": 1, "n": 1, **PLACEHOLDERS})]), 1)
    assert toast_rows(spark, topic) == [(1, 1, "long text", "000102", '["x","y"]', "[1,2,3]",
                                         '["5f0c3c4e-0000-4000-8000-000000000001"]', '{"k": 1}')]


@pytest.mark.parametrize("split", [False, True], ids=["one batch", "delete and insert in two batches"])
def test_a_primary_key_update_keeps_the_unchanged_toast_values_of_the_old_key(spark, writer, split):
    topic = Topic(unique("toasted"))
    writer(topic.batch(spark, [message("c", 10, table=topic.table, fields=TOASTED,
                                       after={"id": 1, "n": 0, **VALUES})]), 0)
    # UPDATE ... SET id = 2: Debezium sends a delete of the old key and a create carrying placeholders
    delete = message("d", 20, table=topic.table, fields=TOASTED, before={"id": 1}, commit=19)
    create = message("c", 20, table=topic.table, fields=TOASTED, after={"id": 2, "n": 2, **PLACEHOLDERS}, commit=19)
    halves = [[delete, tombstone({"id": 1}), (*create, {"__debezium.oldkey": '{"id":1}'})]]
    if split:
        halves = [halves[0][:2], halves[0][2:]]
    for i, messages in enumerate(halves):
        writer(topic.batch(spark, messages), 1 + i)
    assert toast_rows(spark, topic) == [(2, 2, "long text", "000102", '["x","y"]', "[1,2,3]",
                                         '["5f0c3c4e-0000-4000-8000-000000000001"]', '{"k": 1}')]


def test_a_placeholder_with_no_value_anywhere_pauses_the_table_instead_of_storing_null(spark, writer):
    topic = Topic(unique("toasted"))
    report = writer(topic.batch(spark, [message("u", 20, table=topic.table, fields=TOASTED,
                                                after={"id": 9, "n": 1, **PLACEHOLDERS})]), 0)
    assert "make resync" in report.paused[topic.table]


def test_a_row_inserted_before_a_column_existed_has_null_there_not_a_pause(spark, orders, writer):
    wider = [*ORDERS, {"type": "string", "optional": True, "field": "coupon"}]
    report = writer(orders.batch(spark, [ev("c", 10, orders, after=row(1)),
                                         ev("c", 20, orders, fields=wider, after=row(2, coupon="WELCOME"))]), 0)
    assert own(report, orders.table)[1] == {}
    assert mirror(spark, orders, "id, coupon") == [(1, None), (2, "WELCOME")]


# ---- 5. no value lost to a cast -----------------------------------------------------------------------------------

def test_numeric_nan_and_infinity_turn_the_column_into_exact_text(spark, orders, writer):
    unconstrained = {"__debezium.source.column.type": "NUMERIC", "__debezium.source.column.length": "131089",
                     "__debezium.source.column.scale": "0"}
    fields = [*ORDERS, {"type": "string", "optional": True, "parameters": unconstrained, "field": "score"}]
    writer(orders.batch(spark, [ev("c", 10, orders, fields=fields, after=row(1, amount="12.50", score="2.25"))]), 0)
    writer(orders.batch(spark, [ev("c", 11, orders, fields=fields, after=row(2, amount="NAN", score="NAN")),
                                ev("c", 12, orders, fields=fields, after=row(3, amount="3.10",
                                                                            score="POSITIVE_INFINITY"))]), 1)
    assert mirror(spark, orders, "id, amount, score") == [
        (1, "12.50", "2.25"), (2, "NaN", "NaN"), (3, "3.10", "Infinity")]


def test_a_column_retyped_in_the_source_is_retyped_in_the_mirror_without_losing_digits(spark, orders, writer):
    qty_decimal = [*ORDERS[:6], {"type": "string", "optional": True, "field": "qty", "parameters": {
        "__debezium.source.column.type": "NUMERIC", "__debezium.source.column.length": "10",
        "__debezium.source.column.scale": "3"}}, ORDERS[7]]
    writer(orders.batch(spark, [ev("c", 10, orders, after=row(1, qty=7))]), 0)
    # ALTER TABLE ... ALTER COLUMN qty TYPE numeric(10,3)
    writer(orders.batch(spark, [ev("c", 20, orders, fields=qty_decimal, after=row(2, qty="1.625"))]), 1)
    assert mirror(spark, orders, "id, qty") == [(1, Decimal("7.000")), (2, Decimal("1.625"))]
    table = glue_spark.lake().table(orders.table)
    assert [c for c in spark.table(table).columns if not c.startswith("_")] == [
        "id", "amount", "created_at", "day", "doc", "paid", "qty", "note"]


# ---- 6. DDL the stream does not carry -----------------------------------------------------------------------------

def test_a_truncate_removes_the_rows_before_it_and_keeps_those_after(spark, orders, writer):
    writer(orders.batch(spark, [ev("c", 10, orders, after=row(1)), ev("c", 11, orders, after=row(2))]), 0)
    writer(orders.batch(spark, [truncate(20, orders.table), ev("c", 21, orders, after=row(3))]), 1)
    writer(orders.batch(spark, [ev("u", 15, orders, after=row(1, note="older than the truncate"))]), 2)
    assert mirror(spark, orders) == [(3, "note 3")]


def test_after_a_lost_slot_every_mirror_forgets_its_rows_before_the_new_slot_and_keeps_the_new_snapshot(
        spark, orders, writer):
    customers = Topic(unique("customers"))
    writer(orders.batch(spark, [ev("c", 10, orders, after=row(1)), ev("c", 11, orders, after=row(2))])
           .union(customers.batch(spark, [ev("c", 12, customers, after=row(7))])), 0)
    # make recover-slot: a new slot at 100, then Debezium snapshots again (row 2 was deleted while nothing streamed)
    objects.write_json(spark, f"{writer.states.requests_uri}/floor.json",
                       {"kind": "floor", "commit_lsn": 99, "lsn": 99, "cause": "slot lost"})
    writer(orders.batch(spark, [ev("r", 120, orders, after=row(1, note="snapshot again"), commit=SNAPSHOT),
                                ev("u", 50, orders, after=row(2, note="an old event, late"))]), 1)
    assert mirror(spark, orders) == [(1, "snapshot again")]
    assert mirror(spark, customers) == []  # every mirror, not only those of the batch
    assert writer.states.requests(spark) == ({}, {})


def test_a_dropped_column_leaves_the_mirror(spark, orders, writer):
    writer(orders.batch(spark, [ev("c", 10, orders, after=row(1))]), 0)
    without_note = [f for f in ORDERS if f["field"] != "note"]
    writer(ddl_event(orders, 0, "ALTER TABLE", 20, columns=[f["field"] for f in without_note], key=["id"])
           .union(orders.batch(spark, [ev("u", 21, orders, fields=without_note,
                                          after={k: v for k, v in row(1, qty=5).items() if k != "note"})])), 1)
    assert mirror(spark, orders, "id, qty") == [(1, 5)]
    assert "note" not in spark.table(glue_spark.lake().table(orders.table)).columns


def test_a_table_dropped_and_created_again_starts_from_its_new_rows(spark, orders, writer):
    writer(orders.batch(spark, [ev("c", 10, orders, after=row(1)), ev("c", 11, orders, after=row(2))]), 0)
    writer(ddl_event(orders, 0, "DROP TABLE", 20)
           .union(orders.batch(spark, [ev("c", 30, orders, after=row(5))])), 1)
    assert mirror(spark, orders) == [(5, "note 5")]


# ---- 7. a re-created topic ----------------------------------------------------------------------------------------

def test_a_topic_created_again_is_appended_although_its_offsets_start_again(spark, orders, writer):
    writer(orders.batch(spark, [ev("c", 10, orders, after=row(1)), ev("c", 11, orders, after=row(2))]), 0)
    again = Topic(orders.table)  # deleted and created again: offsets from 0
    report = writer(again.batch(spark, [ev("c", 50, orders, after=row(3))]), 1)
    assert report.appended == 1 and mirror(spark, orders) == [(1, "note 1"), (2, "note 2"), (3, "note 3")]


def test_a_change_resent_at_a_new_offset_is_logged_once(spark, orders, writer):
    batch = [ev("c", 10, orders, after=row(1)), ev("u", 11, orders, after=row(1, note="x"))]
    first = writer(orders.batch(spark, batch), 0)
    again = writer(orders.batch(spark, batch), 1)  # the same changes re-sent after a Connect restart
    assert (first.appended, again.appended) == (2, 0)


def test_a_change_sent_twice_in_one_batch_is_logged_once(spark, orders, writer):
    # PostgreSQL restarted: Debezium sends again, from its last committed offset, changes that are in the same batch
    batch = [ev("c", 10, orders, after=row(1)), ev("u", 11, orders, after=row(1, note="x"))]
    report = writer(orders.batch(spark, batch + batch), 0)
    assert report.appended == 2
    logged = spark.table(glue_spark.lake().table("cdc_changelog")).where(f"source_table = '{orders.table}'")
    assert sorted(r.offset for r in logged.select("offset").collect()) == [0, 1]  # the first copies


def test_rows_of_one_snapshot_in_several_batches_are_all_logged(spark, orders, writer):
    reports = [writer(orders.batch(spark, [ev("r", 100, orders, after=row(i), commit=SNAPSHOT)]), i)
               for i in range(3)]
    assert [r.appended for r in reports] == [1, 1, 1]
