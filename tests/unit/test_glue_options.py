"""The job's arguments (Glue's getResolvedOptions or argparse, one set of names) and the Spark settings they give."""

import sys
import types

import pytest

from glue import run_local
from glue.options import JobOptions, default_topic_pattern, parse_args
from glue.session import spark_conf

ARGV = ["cdc_to_lake.py", "--kafka-bootstrap", "127.0.0.1:9092", "--topic-prefix", "shop",
        "--lake-uri", "s3://cdc-lake/", "--catalog", "glue", "--database", "shop"]


@pytest.fixture
def no_awsglue(monkeypatch):
    monkeypatch.setitem(sys.modules, "awsglue", None)  # makes `import awsglue...` raise ImportError


def test_argparse_applies_defaults_derived_from_the_lake(no_awsglue):
    opts = parse_args(ARGV)
    assert (opts.warehouse, opts.checkpoint_uri, opts.quarantine_uri) == (
        "s3://cdc-lake/warehouse", "s3://cdc-lake/checkpoints/cdc-to-lake", "s3://cdc-lake/quarantine")
    assert (opts.trigger_seconds, opts.starting_offsets, opts.s3_endpoint) == (5, "earliest", None)


def test_glue_arguments_come_from_get_resolved_options(monkeypatch):
    calls = []

    def get_resolved_options(argv, names):
        calls.append(names)
        # as awsglue does: argparse dests, plus Glue's own arguments
        values = dict(zip(argv[1::2], argv[2::2], strict=False))
        return {n.replace("-", "_"): values["--" + n] for n in names} | {"JOB_NAME": "cdc", "TempDir": None}

    utils = types.SimpleNamespace(getResolvedOptions=get_resolved_options)
    monkeypatch.setitem(sys.modules, "awsglue", types.SimpleNamespace(utils=utils))
    monkeypatch.setitem(sys.modules, "awsglue.utils", utils)
    opts = parse_args([*ARGV, "--JOB_NAME", "cdc", "--trigger-seconds", "10"])
    assert calls and "JOB_NAME" not in calls[0]
    assert (opts.kafka_bootstrap, opts.trigger_seconds, opts.catalog) == ("127.0.0.1:9092", 10, "glue")


def test_a_missing_required_option_is_an_error(no_awsglue):
    with pytest.raises(ValueError, match="--database"):
        parse_args(ARGV[:-2])


def test_jdbc_catalog_needs_its_uri(no_awsglue):
    with pytest.raises(ValueError, match="--catalog-uri"):
        parse_args([*ARGV[:-4], "--catalog", "jdbc", "--database", "shop"])


def test_default_topic_pattern_takes_table_topics_only():
    import re

    pattern = re.compile(default_topic_pattern("shop", "shop"))
    assert pattern.match("shop.shop.orders")
    assert not pattern.match("__debezium-heartbeat.shop")
    assert not pattern.match("shop.transaction")
    assert not pattern.match("_connect-offsets")
    assert not pattern.match("shopx.shop.orders")


def test_the_pipelines_own_tables_are_read_as_control_topics_not_mirrored():
    import re

    opts = _opts(catalog="glue")
    assert re.match(default_topic_pattern("shop"), "shop.app.orders")
    assert not re.match(default_topic_pattern("shop"), "shop.cdc.debezium_signal")
    subscribed = re.compile(opts.subscribe_pattern)
    assert all(subscribed.match(t) for t in ("shop.shop.orders", "shop.cdc.ddl_events", "__debezium-heartbeat.shop"))
    assert (opts.ddl_topic, opts.heartbeat_topic) == ("shop.cdc.ddl_events", "__debezium-heartbeat.shop")


def _opts(**extra) -> JobOptions:
    raw = {"kafka-bootstrap": "k:1", "topic-prefix": "shop", "lake-uri": "s3://b", "database": "shop", **extra}
    return JobOptions.from_mapping(raw, env={"ICEBERG_JDBC_PASSWORD": "pw"})


def test_glue_catalog_uses_glue_and_s3_file_io_without_endpoint_overrides():
    conf = spark_conf(_opts(catalog="glue"))
    assert conf["spark.sql.catalog.lake.catalog-impl"] == "org.apache.iceberg.aws.glue.GlueCatalog"
    assert conf["spark.sql.catalog.lake.io-impl"] == "org.apache.iceberg.aws.s3.S3FileIO"
    assert not any("s3.endpoint" in k or "fs.s3a" in k for k in conf)


def test_local_endpoint_configures_both_s3_file_io_and_s3a():
    conf = spark_conf(_opts(catalog="jdbc", **{"catalog-uri": "jdbc:postgresql://h/db", "catalog-user": "app",
                                               "s3-endpoint": "http://127.0.0.1:4566", "region": "us-east-1"}))
    assert conf["spark.sql.catalog.lake.jdbc.password"] == "pw"
    assert conf["spark.sql.catalog.lake.s3.endpoint"] == "http://127.0.0.1:4566"
    assert conf["spark.sql.catalog.lake.s3.path-style-access"] == "true"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:4566"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3.impl"] == "org.apache.hadoop.fs.s3a.S3AFileSystem"


def test_local_run_is_spark_submit_of_the_glue_script_with_bounded_resources(tmp_path):
    (tmp_path / "jvm" / "spark").mkdir(parents=True)
    (tmp_path / "jvm" / "spark" / "iceberg.jar").touch()
    env = {"KAFKA_HOST": "127.0.0.1", "KAFKA_PORT": "9092", "TOPIC_PREFIX": "shop", "PG_SCHEMA": "shop",
           "PG_HOST": "127.0.0.1", "PG_PORT": "15432", "PG_DATABASE": "shop", "PG_APP_USER": "app",
           "PG_APP_PASSWORD": "secret", "OBJECT_STORE_HOST": "127.0.0.1", "OBJECT_STORE_PORT": "7070",
           "OBJECT_STORE_ACCESS_KEY": "lake", "OBJECT_STORE_SECRET_KEY": "lake-secret",
           "AWS_REGION": "us-east-1", "STATE_DIR": str(tmp_path / "state"), "BUILD_DIR": str(tmp_path),
           "LAKE_BUCKET": "cdc-lake", "LAKE_DATABASE": "shop", "LAKE_CATALOG_SCHEMA": "iceberg_catalog",
           "JOB_TRIGGER_SECONDS": "5", "JOB_DRIVER_MEMORY": "2g", "JOB_STARTING_OFFSETS": "earliest"}
    settings = run_local.Settings(env)
    cmd = run_local.command(settings)
    assert cmd[0].endswith("spark-submit")
    assert cmd[cmd.index("--master") + 1] == "local[2]"
    assert cmd[cmd.index("--driver-memory") + 1] == "2g"
    assert cmd[cmd.index("--driver-class-path") + 1] == str(tmp_path / "jvm" / "spark" / "iceberg.jar")
    script = cmd.index(str(run_local.ENTRY_SCRIPT))
    args = {k.removeprefix("--"): v for k, v in zip(cmd[script + 1::2], cmd[script + 2::2], strict=True)}
    opts = JobOptions.from_mapping(args, env=run_local.environment(settings))
    # the lake is in the object store, with the store's credentials
    assert (opts.catalog, opts.s3_endpoint, opts.catalog_password) == ("jdbc", "http://127.0.0.1:7070", "secret")
    assert run_local.environment(settings)["AWS_SECRET_ACCESS_KEY"] == "lake-secret"
    assert "secret" not in " ".join(cmd)


def test_kafka_is_plaintext_unless_iam_is_asked_for(no_awsglue):
    assert parse_args(ARGV).kafka_client_options() == {"kafka.bootstrap.servers": "127.0.0.1:9092"}


def test_iam_auth_signs_sasl_over_tls(no_awsglue):
    options = parse_args([*ARGV, "--kafka-auth", "iam"]).kafka_client_options()
    assert options["kafka.security.protocol"] == "SASL_SSL"
    assert options["kafka.sasl.mechanism"] == "AWS_MSK_IAM"
    assert options["kafka.sasl.jaas.config"].startswith("software.amazon.msk.auth.iam.IAMLoginModule required")
    assert options["kafka.sasl.client.callback.handler.class"].endswith(".IAMClientCallbackHandler")


def test_an_unknown_kafka_auth_is_an_error(no_awsglue):
    with pytest.raises(ValueError, match="--kafka-auth must be one of none, iam, not 'scram'"):
        parse_args([*ARGV, "--kafka-auth", "scram"])


def test_the_iam_auth_classes_are_in_the_jar_the_job_is_given(no_awsglue):
    import zipfile

    from glue_spark import build_dir

    jars = sorted((build_dir() / "jvm" / "glue-jars").glob("aws-msk-iam-auth-*-all.jar"))
    assert jars, "no aws-msk-iam-auth jar in .build/jvm/glue-jars: run make install"
    options = parse_args([*ARGV, "--kafka-auth", "iam"]).kafka_client_options()
    classes = [options["kafka.sasl.jaas.config"].split()[0], options["kafka.sasl.client.callback.handler.class"]]
    names = set(zipfile.ZipFile(jars[-1]).namelist())
    assert {c.replace(".", "/") + ".class" for c in classes} <= names


def test_a_glue_catalog_on_the_local_endpoint_is_reached_there():
    conf = spark_conf(_opts(catalog="glue", **{"glue-endpoint": "http://127.0.0.1:4566"}))
    assert conf["spark.sql.catalog.lake.catalog-impl"] == "org.apache.iceberg.aws.glue.GlueCatalog"
    assert conf["spark.sql.catalog.lake.glue.endpoint"] == "http://127.0.0.1:4566"
    assert "spark.sql.catalog.lake.glue.endpoint" not in spark_conf(_opts(catalog="glue"))
