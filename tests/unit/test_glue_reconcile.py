"""The scheduled verification's comparison (glue.reconcile): rows of a source and a mirror as JSON in the mirror's
types, their differences, what is left for the next round, and when a difference is drift."""

from datetime import date, datetime
from decimal import Decimal

import pytest

import glue_spark
from glue.reconcile import KEY, Mirror, Verdict, differences, fresh, judge, rows_as_json, split_arguments

POINT = 1000
MIRROR = Mirror(("id",), {"id": "bigint", "amount": "decimal(12,2)", "status": "string", "delivery_date": "date",
                          "ordered_at": "timestamp"})
ORDERED = datetime(2026, 12, 1, 10, 30, 0, 123456)


@pytest.fixture(scope="session")
def spark():
    return glue_spark.session()


def source(spark, *rows):
    """Rows as the JDBC reader gives them: PostgreSQL's integer is an int, its numeric a wider decimal."""
    return spark.createDataFrame(list(rows), "id int, amount decimal(38,18), status string, delivery_date date, "
                                             "ordered_at timestamp")


def lake(spark, *rows):
    return spark.createDataFrame(list(rows), "id bigint, amount decimal(12,2), status string, delivery_date date, "
                                             "ordered_at timestamp, _commit_lsn bigint, _lsn bigint, _op string")


def order(id_, amount="12.50", status="paid"):
    return id_, Decimal(amount), status, date(2026, 12, 3), ORDERED


def compared(spark, src, lk, deleted_later=()):
    later = spark.createDataFrame([(f'{{"id":{k}}}',) for k in deleted_later], f"{KEY} string")
    return differences(rows_as_json(src, MIRROR), rows_as_json(lk, MIRROR), later, POINT)


def test_equal_rows_of_different_types_do_not_differ(spark):
    observed, later = compared(spark, source(spark, order(1), order(2)),
                               lake(spark, (*order(1), 10, 10, "c"), (*order(2), 20, 20, "u")))
    assert (observed, later) == ({}, set())


def test_a_missing_an_extra_and_a_cent_off_row_differ(spark):
    observed, later = compared(spark, source(spark, order(1), order(2, "12.50")),
                               lake(spark, (*order(2, "12.51"), 10, 10, "u"), (*order(3), 20, 20, "c")))
    assert later == set()
    assert set(observed) == {'{"id":1}', '{"id":2}', '{"id":3}'}
    assert observed['{"id":1}'][1] is None and observed['{"id":3}'][0] is None
    verdict = Verdict("orders", rows=2, differing=list(observed.items()))
    assert "amount: source 12.5, lake 12.51" in verdict.line() and verdict.drift == 3


def test_rows_the_lake_changed_or_deleted_after_the_point_are_left_for_the_next_round(spark):
    observed, later = compared(spark, source(spark, order(1), order(2), order(3, status="new")),
                               lake(spark, (*order(1, status="shipped"), POINT + 5, POINT + 5, "u"),
                                    (*order(3), 10, 10, "c")),
                               deleted_later=[2])
    assert later == {'{"id":1}', '{"id":2}'}
    assert set(observed) == {'{"id":3}'}


def test_a_key_is_drift_only_when_it_differs_the_same_way_twice():
    first, pending = judge({}, {"a": ("1", None), "b": ("1", "2")}, later=["c"])
    assert first == [] and pending == {"a": ("1", None), "b": ("1", "2"), "c": None}
    drifted, pending = judge(pending, {"a": ("1", None), "b": ("3", "2"), "c": ("1", "0")}, later=[])
    assert drifted == [("a", ("1", None))]  # b changed on the source, c was changing: both looked at again
    assert pending == {"b": ("3", "2"), "c": ("1", "0")}


def test_the_verification_options_are_taken_out_of_the_job_arguments():
    rest, values = split_arguments(["verify_lake.py", "--lake-uri", "s3://l", "--source-jdbc-url", "jdbc:x",
                                    "--deployment", "cdc", "--catalog", "glue"])
    assert rest == ["verify_lake.py", "--lake-uri", "s3://l", "--catalog", "glue"]
    assert values == {"source-jdbc-url": "jdbc:x", "deployment": "cdc"}


def test_a_mirror_is_read_at_the_snapshot_another_writer_committed_after_it_was_first_loaded(spark):
    # a second catalog over the same warehouse stands for the CDC job, a writer in another process
    for key, value in spark.sparkContext.getConf().getAll():
        if key.startswith(f"spark.sql.catalog.{glue_spark.CATALOG}"):
            spark.conf.set(key.replace(f".{glue_spark.CATALOG}", ".job", 1), value)
    table = f"{glue_spark.CATALOG}.{glue_spark.DATABASE}.verified"
    spark.sql(f"CREATE TABLE {table} (id bigint) USING iceberg")
    spark.sql(f"INSERT INTO {table} VALUES (1)")
    assert spark.table(table).count() == 1  # loaded: Iceberg's catalog caches it while it is used
    spark.sql(f"INSERT INTO job.{glue_spark.DATABASE}.verified VALUES (2)")
    assert spark.table(table).count() == 1
    assert fresh(spark, table).count() == 2
