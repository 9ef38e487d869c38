"""One local SparkSession for every glue test module, with Iceberg and a Hadoop catalog on a temporary folder.

Test modules wrap `session()` in a session-scoped fixture; the session is built once per pytest process.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOG = "lake"
DATABASE = "test"


def build_dir() -> Path:
    build = Path(os.environ.get("BUILD_DIR") or ROOT / ".build")
    return build if build.is_absolute() else ROOT / build


def iceberg_jar() -> Path:
    build = build_dir()
    jars = sorted((build / "jvm" / "spark").glob("iceberg-spark-runtime-*.jar"))
    if not jars:
        raise RuntimeError(f"no Iceberg runtime in {build}/jvm/spark: run `make install` first")
    return jars[-1]


@functools.cache
def workdir() -> Path:
    path = Path(tempfile.mkdtemp(prefix="glue-tests-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def options(folder: Path, ddl_topic: str = "none"):
    """Job options of a lake under a local folder, with a Hadoop (file) catalog."""
    from glue.options import JobOptions

    return JobOptions.from_mapping({
        "kafka-bootstrap": "127.0.0.1:1", "topic-prefix": "shop", "lake-uri": folder.as_uri(),
        "catalog": "hadoop", "catalog-name": CATALOG, "database": DATABASE, "ddl-topic": ddl_topic,
    }, env={})


def lake(ddl_topic: str = "none"):
    """The test lake; ddl_topic: the topic of cdc.ddl_events, if the test sends DDL events."""
    from glue.job import Lake

    return Lake.of(options(workdir(), ddl_topic))


@functools.cache
def session():
    from pyspark.sql import SparkSession

    from glue.session import spark_conf

    opts = options(workdir())
    builder = (
        SparkSession.builder.master("local[2]").appName("glue-unit-tests")
        .config("spark.jars", str(iceberg_jar()))
        .config("spark.driver.memory", "1g")
        .config("spark.ui.enabled", "false")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.warehouse.dir", str(workdir() / "spark-warehouse"))
        # small data: no adaptive re-planning, fewer stages
        .config("spark.sql.adaptive.enabled", "false")
    )
    for key, value in spark_conf(opts).items():
        builder = builder.config(key, value)
    # one task per stage for data this small
    builder = builder.config("spark.sql.shuffle.partitions", "1")
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {CATALOG}.{DATABASE}")
    return spark
