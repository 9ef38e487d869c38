"""A Spark session on the local lake with the job's own catalog settings (glue.run_local), for the readers that
compare the lake with its source the way the job sees it: the end-to-end tests, the fault suite and the bench.
(`make lake` and `make sql` read it without Spark: python/lake.)"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from glue import run_local
from glue.options import JobOptions

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def local_options(settings: run_local.Settings) -> JobOptions:
    args = run_local.job_args(settings)
    return JobOptions.from_mapping(dict(zip((a.removeprefix("--") for a in args[::2]), args[1::2], strict=True)),
                                   env=run_local.environment(settings))


def local_reader() -> tuple[SparkSession, JobOptions]:
    """A small Spark session on the local lake, with the job's catalog settings (for reading)."""
    settings = run_local.Settings(os.environ)
    os.environ.update(run_local.environment(settings))  # S3 credentials for the JVM, started below
    opts = local_options(settings)
    from glue.session import build_session

    spark = build_session(opts, extra={
        "spark.master": "local[1]",
        "spark.driver.memory": "1g",
        "spark.driver.extraClassPath": run_local.class_path(settings),
        "spark.ui.enabled": "false",
        "spark.sql.warehouse.dir": str(settings.path("STATE_DIR") / "spark" / "warehouse"),
    })
    spark.sparkContext.setLogLevel("ERROR")
    return spark, opts
