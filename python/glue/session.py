"""The Spark session of the job: Iceberg catalog and S3 settings derived from the options."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from glue.options import JobOptions, parse_args

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

ICEBERG_EXTENSIONS = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
S3_FILE_IO = "org.apache.iceberg.aws.s3.S3FileIO"


def catalog_conf(opts: JobOptions) -> dict[str, str]:
    """spark.sql.catalog.<name>.* for the configured Iceberg catalog (settable on a running session too)."""
    prefix = f"spark.sql.catalog.{opts.catalog_name}"
    conf = {prefix: "org.apache.iceberg.spark.SparkCatalog", f"{prefix}.warehouse": opts.warehouse}
    if opts.catalog == "glue":
        conf[f"{prefix}.catalog-impl"] = "org.apache.iceberg.aws.glue.GlueCatalog"
        conf[f"{prefix}.io-impl"] = S3_FILE_IO
        if opts.glue_endpoint:
            conf[f"{prefix}.glue.endpoint"] = opts.glue_endpoint
    elif opts.catalog == "jdbc":
        conf[f"{prefix}.catalog-impl"] = "org.apache.iceberg.jdbc.JdbcCatalog"
        conf[f"{prefix}.uri"] = opts.catalog_uri or ""
        conf[f"{prefix}.io-impl"] = S3_FILE_IO
        # V1 also stores views; it is what a new catalog database gets anyway
        conf[f"{prefix}.jdbc.schema-version"] = "V1"
        if opts.catalog_user:
            conf[f"{prefix}.jdbc.user"] = opts.catalog_user
        if opts.catalog_password:
            conf[f"{prefix}.jdbc.password"] = opts.catalog_password
    else:  # hadoop: metadata and data as files under the warehouse (unit tests, no S3)
        conf[f"{prefix}.type"] = "hadoop"
    if opts.region and opts.catalog != "hadoop":
        conf[f"{prefix}.client.region"] = opts.region
    if opts.s3_endpoint and opts.catalog != "hadoop":
        conf[f"{prefix}.s3.endpoint"] = opts.s3_endpoint
        conf[f"{prefix}.s3.path-style-access"] = "true"
    return conf


def hadoop_conf(opts: JobOptions) -> dict[str, str]:
    """s3a settings for a local S3 endpoint (checkpoints, quarantine). Empty on AWS, where Glue's s3:// is used."""
    if not opts.s3_endpoint:
        return {}
    conf = {
        # the same s3:// URIs as on Glue, served by s3a
        "fs.s3.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "fs.s3a.endpoint": opts.s3_endpoint,
        "fs.s3a.path.style.access": "true",
        "fs.s3a.connection.ssl.enabled": str(opts.s3_endpoint.startswith("https://")).lower(),
        "fs.s3a.aws.credentials.provider": "com.amazonaws.auth.EnvironmentVariableCredentialsProvider",
        # no bucket probe at start-up: the local endpoint's bucket is created by run_local
        "fs.s3a.bucket.probe": "0",
        # A filesystem-backed store (the local object store) keeps a "directory/" marker as the folder itself and
        # will not delete it while it holds files; s3a would try after every write, and retry for minutes.
        "fs.s3a.directory.marker.retention": "keep",
    }
    if opts.region:
        conf["fs.s3a.endpoint.region"] = opts.region
    return conf


def spark_conf(opts: JobOptions) -> dict[str, str]:
    """Every Spark setting the job needs, whatever launched it."""
    conf = {
        "spark.sql.extensions": ICEBERG_EXTENSIONS,
        # timestamps are UTC end to end: event dates, timestamp_ntz conversion, what readers see
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.shuffle.partitions": "2",
        # A micro-batch is small: adaptive execution only splits each query into a job per shuffle (19 Spark jobs
        # per batch instead of 8), and the fixed cost of a batch is most of its cost.
        "spark.sql.adaptive.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    conf.update(catalog_conf(opts))
    conf.update({f"spark.hadoop.{k}": v for k, v in hadoop_conf(opts).items()})
    return conf


def start_session(argv: Sequence[str], program: str) -> tuple[JobOptions, SparkSession]:
    """A job's start: logging, its options from `argv` (a bad one ends the program with one line), its session."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)  # a line per call from the JVM (each micro-batch) otherwise
    try:
        opts = parse_args(argv)
    except ValueError as e:
        raise SystemExit(f"{program}: {e}") from None
    spark = build_session(opts)
    spark.sparkContext.setLogLevel("WARN")
    return opts, spark


def build_session(opts: JobOptions, extra: dict[str, str] | None = None) -> SparkSession:
    """The session: created with the settings, or (on Glue, where one exists) given its runtime settings."""
    from pyspark.sql import SparkSession

    conf = {**spark_conf(opts), **(extra or {})}
    builder = SparkSession.builder.appName("cdc-to-lake")
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    # A session that existed before (Glue's) ignored the builder: catalogs and s3a settings apply at run time.
    for key, value in catalog_conf(opts).items():
        spark.conf.set(key, value)
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    for key, value in hadoop_conf(opts).items():
        hadoop.set(key, value)
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark
