"""The lake's verification on AWS (verify_lake.py, a scheduled Glue job): every mirror reconciled with its source at a
consistent point, in Spark, and the number of keys that differ published as <namespace>/LakeDrift, the metric the
drift alarm watches. The method of `make verify` (python/lake/verify.py), with Spark's readers:

- a point: a REPEATABLE READ transaction on the source, held open by the driver: its WAL position, and its snapshot
  exported so that each JDBC read of the round sees exactly that snapshot (SET TRANSACTION SNAPSHOT);
- applied: the replication slot has confirmed the point, then the CDC job's checkpoint has passed the end of Kafka's
  table topics at that moment (as python/lake/applied.py);
- each row of both sides as the JSON of its values (the source's cast to the mirror's types), joined by key; rows the
  lake changed or deleted after the point are left out and looked at again;
- a key is drift when it differs the same way in two rounds in a row; a key that keeps changing is not settled.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from glue.bookkeeping import BOOKKEEPING_NAMES, COMMIT_LSN, KEY_PROPERTY, LSN, MARKERS_TABLE, RETYPE_PREFIX
from glue.markers import key_json
from glue.objects import list_names, read_text
from glue.options import JobOptions
from glue.sqlnames import q

log = logging.getLogger("verify_lake")

ROUNDS = 4  # the first pass, then at most this many minus one of comparisons of the keys that differed
EXAMPLES = 3
APPLY_TIMEOUT_SECONDS = 900
KEY, ROW, AT = "__key", "__row", "__at"
Observed = tuple[str | None, str | None]  # (the source's row, the lake's row) as JSON; None: absent on that side


@dataclass(frozen=True)
class Source:
    url: str  # jdbc:postgresql://host:port/database
    user: str
    password: str
    schema: str
    slot: str


@dataclass
class Verdict:
    table: str
    rows: int = 0  # the source's rows at the first point
    differing: list[tuple[str, Observed]] = field(default_factory=list)
    unsettled: int = 0
    problem: str | None = None

    @property
    def drift(self) -> int:
        """What LakeDrift counts for this table: its differing keys, or 1 when it could not be compared."""
        return 1 if self.problem else len(self.differing)

    def line(self) -> str:
        if self.problem:
            return f"{self.table}: DRIFT {self.problem}"
        if self.differing:
            examples = "; ".join(f"{key} {describe(seen)}" for key, seen in self.differing[:EXAMPLES])
            return f"{self.table}: DRIFT {len(self.differing)} of {self.rows} keys differ: {examples}"
        settled = f", {self.unsettled} keys changing too fast to compare" if self.unsettled else ""
        return f"{self.table}: equal, {self.rows} rows{settled}"


def describe(seen: Observed) -> str:
    source, lake = seen
    if lake is None:
        return "missing in the lake"
    if source is None:
        return "in the lake, not in the source"
    s, v = json.loads(source), json.loads(lake)
    return "; ".join(f"{c}: source {s.get(c)!r}, lake {v.get(c)!r}" for c in s.keys() | v.keys()
                     if s.get(c) != v.get(c))


def judge(pending: dict[str, Observed | None], observed: dict[str, Observed], later: Iterable[str]) -> tuple[
        list[tuple[str, Observed]], dict[str, Observed | None]]:
    """One round's differences against the last round's: (the drifted keys, the keys to look at again)."""
    still: dict[str, Observed | None] = {k: None for k in later}  # changed after the point: look again
    drifted = []
    for key, seen in observed.items():
        if key in still:
            continue
        if pending.get(key) == seen:  # the same difference, neither side changed in between
            drifted.append((key, seen))
        else:
            still[key] = seen
    return drifted, still


# ---- the source: JDBC through the driver's JVM ---------------------------------------------------------------------


def _connect(spark: SparkSession, source: Source):
    return spark.sparkContext._jvm.java.sql.DriverManager.getConnection(source.url, source.user, source.password)


def _rows(conn, sql: str, *parameters: str) -> list[tuple[str | None, ...]]:
    statement = conn.prepareStatement(sql)
    try:
        for i, value in enumerate(parameters, 1):
            statement.setString(i, value)
        result = statement.executeQuery()
        width = result.getMetaData().getColumnCount()
        found = []
        while result.next():
            found.append(tuple(result.getString(i) for i in range(1, width + 1)))
        return found
    finally:
        statement.close()


class Point:
    """A REPEATABLE READ transaction on the source held by the driver: its WAL position, and its snapshot exported
    for the JDBC reads of the round. Close it when the round is done."""

    def __init__(self, spark: SparkSession, source: Source):
        self.spark, self.source = spark, source
        self.conn = _connect(spark, source)
        self.conn.setAutoCommit(False)
        self.conn.createStatement().execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        ((lsn, self.snapshot),) = _rows(self.conn, "SELECT (pg_current_wal_lsn() - '0/0')::text, pg_export_snapshot()")
        self.lsn = int(lsn)

    def __enter__(self) -> Point:
        return self

    def __exit__(self, *_) -> None:
        self.conn.rollback()
        self.conn.close()

    def columns(self, table: str) -> list[str]:
        return [c for (c,) in _rows(self.conn, "SELECT column_name FROM information_schema.columns WHERE "
                                               "table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                                    self.source.schema, table)]

    def count(self, table: str) -> int:
        return int(_rows(self.conn, f"SELECT count(*) FROM {pg_name(self.source.schema)}.{pg_name(table)}")[0][0])

    def read(self, table: str, columns: Sequence[str]) -> DataFrame:
        """The table's rows in the point's snapshot."""
        return (self.spark.read.format("jdbc")
                .option("url", self.source.url).option("user", self.source.user)
                .option("password", self.source.password)
                .option("query", f"SELECT {', '.join(map(pg_name, columns))} FROM {pg_name(self.source.schema)}."
                                 f"{pg_name(table)}")
                # PostgreSQL's dialect runs a read with a fetch size in a transaction: the snapshot is imported first
                .option("fetchsize", "5000")
                .option("sessionInitStatement", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY; "
                                                f"SET TRANSACTION SNAPSHOT '{self.snapshot}'")
                .load())


def pg_name(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---- applied: the slot, Kafka's ends, the job's checkpoint -------------------------------------------------------


def slot_confirmed(spark: SparkSession, source: Source) -> int | None:
    conn = _connect(spark, source)
    try:
        found = _rows(conn, "SELECT (confirmed_flush_lsn - '0/0')::text FROM pg_replication_slots WHERE slot_name = ?",
                      source.slot)
    finally:
        conn.close()
    return int(found[0][0]) if found and found[0][0] is not None else None


def kafka_ends(spark: SparkSession, opts: JobOptions) -> dict[tuple[str, int], int]:
    """The end offset of each partition of the table topics, through a Kafka consumer in the driver's JVM (the
    job's connection settings, MSK's IAM among them)."""
    jvm = spark.sparkContext._jvm
    properties = jvm.java.util.Properties()
    for name, value in opts.kafka_client_options().items():
        properties.setProperty(name.removeprefix("kafka."), value)
    for name in ("key.deserializer", "value.deserializer"):
        properties.setProperty(name, "org.apache.kafka.common.serialization.ByteArrayDeserializer")
    consumer = jvm.org.apache.kafka.clients.consumer.KafkaConsumer(properties)
    try:
        topics, wanted = consumer.listTopics(), jvm.java.util.ArrayList()
        for topic in topics.keySet():
            if re.search(opts.topic_pattern, topic):
                for info in topics.get(topic):
                    wanted.add(jvm.org.apache.kafka.common.TopicPartition(topic, info.partition()))
        ends = consumer.endOffsets(wanted)
        return {(tp.topic(), tp.partition()): int(ends.get(tp)) for tp in ends.keySet()}
    finally:
        consumer.close()


def job_offsets(spark: SparkSession, checkpoint_uri: str) -> dict[tuple[str, int], int]:
    """The next offset per topic partition after the CDC job's last committed micro-batch (its Spark checkpoint)."""
    done = [int(n) for n in list_names(spark, f"{checkpoint_uri}/commits") if n.isdigit()]
    if not done:
        return {}
    # "v1", the batch's metadata, then the Kafka source's offsets: {"topic": {"partition": next offset}}
    offsets = json.loads(read_text(spark, f"{checkpoint_uri}/offsets/{max(done)}").splitlines()[2])
    return {(topic, int(p)): offset for topic, parts in offsets.items() for p, offset in parts.items()}


def wait_applied(spark: SparkSession, opts: JobOptions, source: Source, lsn: int,
                 timeout: float = APPLY_TIMEOUT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while (confirmed := slot_confirmed(spark, source)) is None or confirmed < lsn:
        if time.monotonic() > deadline:
            raise RuntimeError(f"replication slot {source.slot} has not confirmed the source's position in "
                               f"{timeout:.0f} s: is the connector running?")
        time.sleep(2)
    wanted = {tp: end for tp, end in kafka_ends(spark, opts).items() if end > 0}
    while any(job_offsets(spark, opts.checkpoint_uri).get(tp, 0) < end for tp, end in wanted.items()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the CDC job has not applied Kafka's changes in {timeout:.0f} s: is it running?")
        time.sleep(2)


# ---- one table, one round ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mirror:
    key: tuple[str, ...]
    types: dict[str, str]  # the source's columns the mirror has: their Spark types in the mirror


@dataclass(frozen=True)
class Lake:
    namespace: str  # its Spark name
    keys: dict[str, tuple[str, ...]]  # each mirror's key columns, by name
    has_markers: bool  # whether the job has recorded deletes (MARKERS_TABLE)


def lake_of(spark: SparkSession, opts: JobOptions) -> Lake:
    """The keyed tables of the lake's namespace (a mirror records its key; the change log and markers do not)."""
    namespace = f"{q(opts.catalog_name)}.{q(opts.database)}"
    names = sorted(r.tableName for r in spark.sql(f"SHOW TABLES IN {namespace}").collect())
    keys = {}
    for name in names:
        properties = {r.key: r.value for r in spark.sql(f"SHOW TBLPROPERTIES {namespace}.{q(name)}").collect()}
        if KEY_PROPERTY in properties:
            keys[name] = tuple(properties[KEY_PROPERTY].split(","))
    return Lake(namespace, keys, MARKERS_TABLE in names)


def fresh(spark: SparkSession, table: str) -> DataFrame:
    """The table at its newest snapshot: Iceberg's catalog caches a table it loaded (SHOW TBLPROPERTIES, an earlier
    round) for as long as it is used, and a read at that snapshot would miss what the job applied since."""
    spark.catalog.refreshTable(table)
    return spark.table(table)


def rows_as_json(frame: DataFrame, mirror: Mirror) -> DataFrame:
    """(key, row) of each row: both as JSON of the values in the mirror's types, so that both sides compare."""
    typed = frame.select(*[F.col(q(c)).cast(t).alias(c) for c, t in mirror.types.items()],
                         *[F.col(q(c)) for c in frame.columns if c in (COMMIT_LSN, LSN)])
    return typed.select(key_json(mirror.key).alias(KEY),
                        F.to_json(F.struct(*[F.col(q(c)) for c in mirror.types])).alias(ROW),
                        *([F.greatest(F.coalesce(COMMIT_LSN, F.lit(0)), F.coalesce(LSN, F.lit(0))).alias(AT)]
                          if LSN in frame.columns else []))


def differences(source: DataFrame, lake: DataFrame, deleted_later: DataFrame, lsn: int) -> tuple[
        dict[str, Observed], set[str]]:
    """The keys whose rows differ ({key: (source row, lake row)}), and the keys the lake changed or deleted after
    the point (left out)."""
    joined = (source.alias("s").join(lake.alias("l"), KEY, "full_outer")
              .where(~F.col(f"s.{ROW}").eqNullSafe(F.col(f"l.{ROW}")))
              .join(deleted_later.withColumn("deleted_later", F.lit(True)), KEY, "left"))
    observed, later = {}, set()
    for row in joined.select(KEY, F.col(f"s.{ROW}").alias("s"), F.col(f"l.{ROW}").alias("l"), AT,
                             "deleted_later").collect():
        if (row[AT] or 0) > lsn or row.deleted_later:
            later.add(row[KEY])
        else:
            observed[row[KEY]] = (row.s, row.l)
    return observed, later


def compare(spark: SparkSession, lake_tables: Lake, point: Point, name: str, wanted: set[str] | None,
            verdict: Verdict) -> tuple[dict[str, Observed], set[str]] | None:
    """One table at the point: its differences (of the `wanted` keys; None: every key), or None when the table
    cannot be compared (verdict.problem says why)."""
    lake = fresh(spark, f"{lake_tables.namespace}.{q(name)}")
    source_columns = point.columns(name)
    if not source_columns:
        verdict.problem = None if lake.limit(1).count() == 0 else "its source table is gone but the mirror has rows"
        return None
    lake_types = {f.name: f.dataType.simpleString() for f in lake.schema.fields
                  if f.name not in BOOKKEEPING_NAMES and not f.name.startswith(RETYPE_PREFIX)}
    missing = [c for c in source_columns if c not in lake_types]
    if missing:
        verdict.problem = f"the lake lacks the source's columns {', '.join(missing)}"
        return None
    mirror = Mirror(lake_tables.keys[name], {c: lake_types[c] for c in source_columns})
    markers = (fresh(spark, f"{lake_tables.namespace}.{q(MARKERS_TABLE)}")
               .where((F.col("mirror") == name) & ((F.col("commit_lsn") > point.lsn) | (F.col("lsn") > point.lsn)))
               .select(F.col("key").alias(KEY)).distinct()
               if lake_tables.has_markers else spark.createDataFrame([], f"{KEY} string"))
    source_rows, lake_rows = rows_as_json(point.read(name, source_columns), mirror), rows_as_json(lake, mirror)
    if wanted is None:
        verdict.rows = point.count(name)
    else:
        keys = spark.createDataFrame([(k,) for k in wanted], f"{KEY} string")
        source_rows, lake_rows = source_rows.join(keys, KEY, "left_semi"), lake_rows.join(keys, KEY, "left_semi")
    return differences(source_rows, lake_rows, markers, point.lsn)


def verify(spark: SparkSession, opts: JobOptions, source: Source, lake_tables: Lake) -> list[Verdict]:
    """Every mirror through rounds at new points until none has a key left to look at again."""
    names = list(lake_tables.keys)
    verdicts = {n: Verdict(n) for n in names}
    pending: dict[str, dict[str, Observed | None] | None] = {n: None for n in names}  # None: every key
    for round_number in range(1, ROUNDS + 1):
        with Point(spark, source) as point:
            started = time.monotonic()
            wait_applied(spark, opts, source, point.lsn)
            log.info("round %d: the lake has applied the source's position %d (waited %.1f s)", round_number,
                     point.lsn, time.monotonic() - started)
            for name in [n for n, p in pending.items() if p is None or p]:
                verdict = verdicts[name]
                found = compare(spark, lake_tables, point, name, None if pending[name] is None else set(pending[name]),
                                verdict)
                if found is None:
                    pending[name] = {}
                    continue
                drifted, pending[name] = judge(pending[name] or {}, *found)
                verdict.differing += drifted
                log.info("round %d: %s compared, %d keys drifted, %d to look at again (%.1f s)", round_number, name,
                         len(drifted), len(pending[name]), time.monotonic() - started)
        if not any(pending.values()):
            break
    for name, left in pending.items():
        verdicts[name].unsettled = len(left or {})
    return [verdicts[n] for n in names]


# ---- the job --------------------------------------------------------------------------------------------------------

# the verification's own options, besides the CDC job's (python/glue/options.py)
VERIFY_OPTIONS = {
    "source-jdbc-url": "JDBC URL of the source database: jdbc:postgresql://host:port/database",
    "source-secret-id": "Secrets Manager secret of a user that reads the source tables: JSON with username, password",
    "source-schema": "schema of the source tables (default: public)",
    "slot-name": "Debezium's replication slot (default: debezium)",
    "deployment": "the Deployment dimension of LakeDrift (default: the database)",
    "metric-namespace": "CloudWatch namespace of LakeDrift (default: CdcLake)",
}


def split_arguments(argv: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """argv without the `--name value` pairs of VERIFY_OPTIONS (the CDC job's parser takes the rest), and those."""
    rest, found, i = list(argv[:1]), {}, 1
    while i < len(argv):
        name = argv[i][2:] if argv[i].startswith("--") else ""
        if name in VERIFY_OPTIONS and i + 1 < len(argv):
            found[name], i = argv[i + 1], i + 2
        else:
            rest.append(argv[i])
            i += 1
    return rest, found


def source_of(values: dict[str, str], region: str | None) -> Source:
    import boto3

    for name in ("source-jdbc-url", "source-secret-id"):
        if name not in values:
            raise SystemExit(f"verify_lake: missing option --{name}")
    secret = json.loads(boto3.client("secretsmanager", region_name=region).get_secret_value(
        SecretId=values["source-secret-id"])["SecretString"])
    return Source(values["source-jdbc-url"], secret["username"], secret["password"],
                  values.get("source-schema", "public"), values.get("slot-name", "debezium"))


def publish(verdicts: Sequence[Verdict], namespace: str, deployment: str, region: str | None) -> int:
    import boto3

    drift = sum(v.drift for v in verdicts)
    boto3.client("cloudwatch", region_name=region).put_metric_data(Namespace=namespace, MetricData=[
        {"MetricName": "LakeDrift", "Dimensions": [{"Name": "Deployment", "Value": deployment}], "Value": drift,
         "Unit": "Count"}])
    return drift


def main(argv: Sequence[str]) -> None:
    from glue.session import start_session

    job_argv, values = split_arguments(argv)
    opts, spark = start_session(job_argv, "verify_lake")
    source = source_of(values, opts.region)
    verdicts = verify(spark, opts, source, lake_of(spark, opts))
    for verdict in verdicts:
        log.info("%s", verdict.line())
    namespace, deployment = values.get("metric-namespace", "CdcLake"), values.get("deployment", opts.database)
    drift = publish(verdicts, namespace, deployment, opts.region)
    log.info("verification: %d tables, LakeDrift %d published to %s (Deployment=%s)", len(verdicts), drift,
             namespace, deployment)
