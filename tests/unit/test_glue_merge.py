"""Mirror tables: a micro-batch's events MERGEd into tables of a local Iceberg catalog (glue.job.mirror_tables)."""

from decimal import Decimal

import pytest

import glue_spark
from glue.job import BatchWriter
from glue_events import ORDERS, Topic, message, tombstone, unique

PLACEHOLDER = "__debezium_unavailable_value"


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


def run(spark, topic, messages):
    return BatchWriter(glue_spark.lake())(topic.batch(spark, messages), 0)


def mirror(spark, topic, columns="id, amount, note, _lsn") -> list[tuple]:
    table = glue_spark.lake().table(topic.table)
    return [tuple(r) for r in spark.sql(f"SELECT {columns} FROM {table} ORDER BY id").collect()]


def ev(op, lsn, topic, **kw):
    return message(op, lsn, table=topic.table, **kw)


def test_inserts_create_the_table_and_its_rows(spark, orders):
    run(spark, orders, [ev("r", 10, orders, after=row(1)), ev("c", 11, orders, after=row(2, amount="3.10"))])
    assert mirror(spark, orders) == [(1, Decimal("12.50"), "note 1", 10), (2, Decimal("3.10"), "note 2", 11)]


def test_an_update_replaces_the_row(spark, orders):
    run(spark, orders, [ev("c", 10, orders, after=row(1))])
    run(spark, orders, [ev("u", 20, orders, before=row(1), after=row(1, amount="99.99", note="changed"))])
    assert mirror(spark, orders) == [(1, Decimal("99.99"), "changed", 20)]


def test_a_delete_removes_the_row_by_its_message_key(spark, orders):
    run(spark, orders, [ev("c", 10, orders, after=row(1)), ev("c", 11, orders, after=row(2))])
    # REPLICA IDENTITY DEFAULT: the before image of a delete holds the key only
    run(spark, orders, [ev("d", 20, orders, before={"id": 1, "amount": None}), tombstone({"id": 1})])
    assert [r[0] for r in mirror(spark, orders)] == [2]


def test_a_delete_without_message_key_takes_its_key_from_before(spark, orders):
    key, value = ev("d", 20, orders, before=row(1))
    run(spark, orders, [ev("c", 10, orders, after=row(1)), ev("c", 11, orders, after=row(2)), (None, value)])
    assert [r[0] for r in mirror(spark, orders)] == [2]


def test_the_latest_lsn_of_a_key_wins_within_a_batch_whatever_the_arrival_order(spark, orders):
    run(spark, orders, [
        ev("u", 30, orders, after=row(1, note="third")),
        ev("c", 10, orders, after=row(1, note="first")),
        ev("u", 20, orders, after=row(1, note="second")),
    ])
    assert mirror(spark, orders) == [(1, Decimal("12.50"), "third", 30)]


def test_insert_update_delete_of_one_key_in_one_batch_leaves_no_row(spark, orders):
    run(spark, orders, [ev("c", 10, orders, after=row(1)), ev("u", 11, orders, after=row(1, note="x")),
                        ev("d", 12, orders, before=row(1)), ev("c", 13, orders, after=row(2))])
    assert [r[0] for r in mirror(spark, orders)] == [2]


def test_an_event_older_than_the_stored_row_is_ignored(spark, orders):
    run(spark, orders, [ev("u", 50, orders, after=row(1, note="new"))])
    run(spark, orders, [ev("u", 40, orders, after=row(1, note="old"))])
    assert mirror(spark, orders) == [(1, Decimal("12.50"), "new", 50)]


def test_a_replayed_batch_changes_nothing(spark, orders):
    batch = [ev("c", 10, orders, after=row(1)), ev("u", 11, orders, after=row(1, note="x")),
             ev("c", 12, orders, after=row(2))]
    run(spark, orders, batch)
    run(spark, orders, batch)
    assert mirror(spark, orders) == [(1, Decimal("12.50"), "x", 11), (2, Decimal("12.50"), "note 2", 12)]


def test_a_resent_duplicate_at_a_new_offset_is_idempotent(spark, orders):
    insert = ev("c", 10, orders, after=row(1))
    run(spark, orders, [insert, ev("u", 11, orders, after=row(1, note="x"))])
    run(spark, orders, [insert])
    assert mirror(spark, orders) == [(1, Decimal("12.50"), "x", 11)]


def test_a_new_column_appears_in_the_mirror(spark, orders):
    run(spark, orders, [ev("c", 10, orders, after=row(1))])
    wider = [*ORDERS, {"type": "string", "optional": True, "field": "coupon"}]
    run(spark, orders, [ev("c", 20, orders, after=row(2, coupon="WELCOME"), fields=wider),
                        ev("u", 21, orders, after=row(1, coupon=None), fields=wider)])
    assert mirror(spark, orders, "id, coupon, note") == [(1, None, "note 1"), (2, "WELCOME", "note 2")]


def test_an_update_of_an_older_schema_version_keeps_the_value_of_a_column_added_since(spark, orders):
    wider = [*ORDERS, {"type": "string", "optional": True, "field": "coupon"}]
    run(spark, orders, [ev("c", 10, orders, after=row(1, coupon="WELCOME"), fields=wider),
                        ev("c", 11, orders, after=row(2, coupon="SPRING"), fields=wider)])
    # a later change of row 1 whose event still has the old column set (sent before Debezium saw the new column),
    # in a batch that also carries the new set
    run(spark, orders, [ev("u", 20, orders, after=row(1, note="changed")),
                        ev("u", 21, orders, after=row(2, coupon=None, note="also"), fields=wider)])
    assert mirror(spark, orders, "id, coupon, note, _lsn") == [(1, "WELCOME", "changed", 20), (2, None, "also", 21)]


def test_an_update_keeps_the_value_of_a_mirror_column_no_event_has(spark, orders):
    wider = [*ORDERS, {"type": "string", "optional": True, "field": "coupon"}]
    run(spark, orders, [ev("c", 10, orders, after=row(1, coupon="WELCOME"), fields=wider)])
    # the source dropped the column, and no DDL event told the job: the mirror keeps what it had
    run(spark, orders, [ev("u", 20, orders, after=row(1, note="changed")), ev("c", 21, orders, after=row(2))])
    assert mirror(spark, orders, "id, coupon, note") == [(1, "WELCOME", "changed"), (2, None, "note 2")]


def test_a_toast_placeholder_keeps_the_stored_value(spark, orders):
    run(spark, orders, [ev("c", 10, orders, after=row(1, note="a long text"))])
    run(spark, orders, [ev("u", 20, orders, after=row(1, amount="1.00", note=PLACEHOLDER))])
    assert mirror(spark, orders) == [(1, Decimal("1.00"), "a long text", 20)]


def test_a_toast_placeholder_takes_the_value_of_an_earlier_event_in_the_batch(spark, orders):
    run(spark, orders, [ev("c", 10, orders, after=row(1, note="v1"))])
    run(spark, orders, [ev("u", 20, orders, after=row(1, note="v2")),
                        ev("u", 21, orders, after=row(1, amount="2.00", note=PLACEHOLDER))])
    assert mirror(spark, orders) == [(1, Decimal("2.00"), "v2", 21)]


def test_decimals_are_exact_and_timestamps_utc(spark, orders):
    run(spark, orders, [ev("c", 10, orders, after=row(1, amount="1234567890.12",
                                                       created_at="2026-03-29T01:30:00.000001Z"))])
    table = glue_spark.lake().table(orders.table)
    types = {f.name: f.dataType.simpleString() for f in spark.table(table).schema.fields}
    assert (types["amount"], types["created_at"], types["day"]) == ("decimal(12,2)", "timestamp", "date")
    (amount, created) = spark.sql(
        f"SELECT amount, date_format(created_at, 'yyyy-MM-dd HH:mm:ss.SSSSSS') FROM {table}").first()
    assert (amount, created) == (Decimal("1234567890.12"), "2026-03-29 01:30:00.000001")


def test_events_without_embedded_schema_are_mirrored_with_inferred_types(spark, orders):
    run(spark, orders, [ev("c", 10, orders, after=row(1), schemas=False),
                        ev("c", 11, orders, after=row(2, qty=5), schemas=False)])
    assert mirror(spark, orders, "id, qty, note") == [(1, 1, "note 1"), (2, 5, "note 2")]
