"""Run the Glue job against the local stack: `python -m glue.run_local` (after `. scripts/lib.sh`).

Builds a spark-submit command line of python/glue/cdc_to_lake.py (or, with --maintenance, of the maintenance job's
python/glue/maintain_lake.py, with the same options) from the stack's settings (environment
variables exported by scripts/lib.sh), prepares what AWS would already have (the lake's bucket in the local object
store, the Iceberg JDBC catalog's schema in the local PostgreSQL), then replaces itself with spark-submit,
so a supervisor's signals reach Spark directly.

    python -m glue.run_local            prepare, then run the job (in the foreground)
    python -m glue.run_local --print    print the command line and its extra environment, run nothing
    python -m glue.run_local -- --trigger-seconds 10    more job options (they override the defaults)
    python -m glue.run_local --maintenance   the maintenance job: a round every MAINTENANCE_INTERVAL_SECONDS

Its settings (LAKE_BUCKET, LAKE_DATABASE, LAKE_CATALOG_SCHEMA, JOB_TRIGGER_SECONDS, JOB_DRIVER_MEMORY,
JOB_STARTING_OFFSETS, MAINTENANCE_INTERVAL_SECONDS, MAINTENANCE_DRIVER_MEMORY) have their defaults in .env.example,
like every other setting.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from glue.options import PASSWORD_ENV, default_topic_pattern

ROOT = Path(__file__).resolve().parents[2]
ENTRY_SCRIPT = ROOT / "python" / "glue" / "cdc_to_lake.py"
MAINTENANCE_SCRIPT = ROOT / "python" / "glue" / "maintain_lake.py"


class Settings:
    """The environment (scripts/lib.sh exports the settings), with a clear error for a missing one."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env

    def __getitem__(self, name: str) -> str:
        value = self.env.get(name)
        if value is None:
            raise SystemExit(f"run_local: setting {name} is not set; run through make or source scripts/lib.sh")
        return value

    def path(self, name: str) -> Path:
        p = Path(self[name])
        return p if p.is_absolute() else ROOT / p


def s3_endpoint(s: Settings) -> str:
    """The lake's S3: the local object store."""
    return f"http://{s['OBJECT_STORE_HOST']}:{s['OBJECT_STORE_PORT']}"


def catalog_uri(s: Settings) -> str:
    # the catalog's tables live in a schema of their own, out of the captured schema's way
    return (f"jdbc:postgresql://{s['PG_HOST']}:{s['PG_PORT']}/{s['PG_DATABASE']}"
            f"?currentSchema={s['LAKE_CATALOG_SCHEMA']}")


def job_args(s: Settings) -> list[str]:
    """The job's options for the local stack: the same options a Glue job run gets, with local values."""
    lake = f"s3://{s['LAKE_BUCKET']}"
    return [
        "--kafka-bootstrap", f"{s['KAFKA_HOST']}:{s['KAFKA_PORT']}",
        "--topic-pattern", default_topic_pattern(s["TOPIC_PREFIX"], s["PG_SCHEMA"]),
        "--topic-prefix", s["TOPIC_PREFIX"],
        "--lake-uri", lake,
        "--catalog", "jdbc",
        "--catalog-uri", catalog_uri(s),
        "--catalog-user", s["PG_APP_USER"],
        "--database", s["LAKE_DATABASE"],
        "--trigger-seconds", s["JOB_TRIGGER_SECONDS"],
        "--starting-offsets", s["JOB_STARTING_OFFSETS"],
        "--s3-endpoint", s3_endpoint(s),
        "--region", s["AWS_REGION"],
    ]


def jars(s: Settings) -> list[Path]:
    folder = s.path("BUILD_DIR") / "jvm" / "spark"
    found = sorted(folder.glob("*.jar"))
    if not found:
        raise SystemExit(f"run_local: no jars in {folder}; run `make install` (jvm/spark/pom.xml)")
    return found


def class_path(s: Settings) -> str:
    return os.pathsep.join(str(j) for j in jars(s))


def spark_submit() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-submit"


def command(s: Settings, extra_args: list[str] | None = None, maintenance: bool = False) -> list[str]:
    spark_dir = s.path("STATE_DIR") / "spark"
    conf = {
        "spark.sql.shuffle.partitions": "2",
        "spark.default.parallelism": "2",
        "spark.ui.enabled": "false",
        # keep Spark's own scratch files in the stack's state folder, not the working directory
        "spark.sql.warehouse.dir": str(spark_dir / "warehouse"),
        "spark.local.dir": str(spark_dir / "tmp"),
    }
    # On the driver's class path rather than --jars: in local mode the driver is the executor, and --jars
    # would copy ~400 MB of jars into spark.local.dir at every start.
    if maintenance:
        name, memory, script = "lake-maintenance", s["MAINTENANCE_DRIVER_MEMORY"], MAINTENANCE_SCRIPT
        extra_args = ["--maintenance-interval-seconds", s["MAINTENANCE_INTERVAL_SECONDS"], *(extra_args or [])]
    else:
        name, memory, script = "cdc-to-lake", s["JOB_DRIVER_MEMORY"], ENTRY_SCRIPT
    cmd = [str(spark_submit()), "--master", "local[2]", "--name", name,
           "--driver-memory", memory, "--driver-class-path", class_path(s)]
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    return [*cmd, str(script), *job_args(s), *(extra_args or [])]


def environment(s: Settings) -> dict[str, str]:
    """Variables the job needs besides the stack's: the object store's credentials, the catalog password."""
    return {
        "AWS_ACCESS_KEY_ID": s["OBJECT_STORE_ACCESS_KEY"],
        "AWS_SECRET_ACCESS_KEY": s["OBJECT_STORE_SECRET_KEY"],
        "AWS_REGION": s["AWS_REGION"],
        PASSWORD_ENV: s["PG_APP_PASSWORD"],
        "PYSPARK_PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join(dict.fromkeys(filter(None, [str(ROOT / "python"),
                                                                 *s.env.get("PYTHONPATH", "").split(os.pathsep)]))),
    }


def prepare(s: Settings) -> None:
    """Create, if missing, what the job expects to exist: the bucket and the catalog's schema."""
    import boto3
    import psycopg2
    from botocore.config import Config
    from psycopg2 import sql

    s3 = boto3.client("s3", endpoint_url=s3_endpoint(s), region_name=s["AWS_REGION"],
                      aws_access_key_id=s["OBJECT_STORE_ACCESS_KEY"],
                      aws_secret_access_key=s["OBJECT_STORE_SECRET_KEY"],
                      config=Config(s3={"addressing_style": "path"}))
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if s["LAKE_BUCKET"] not in existing:
        s3.create_bucket(Bucket=s["LAKE_BUCKET"])
    with psycopg2.connect(host=s["PG_HOST"], port=s["PG_PORT"], dbname=s["PG_DATABASE"], user=s["PG_APP_USER"],
                          password=s["PG_APP_PASSWORD"]) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(s["LAKE_CATALOG_SCHEMA"])))
    conn.close()
    (s.path("STATE_DIR") / "spark").mkdir(parents=True, exist_ok=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m glue.run_local", description=__doc__.split("\n\n")[0])
    parser.add_argument("--print", action="store_true", help="print the command line, run nothing")
    parser.add_argument("--maintenance", action="store_true", help="the maintenance job instead of the CDC job")
    parser.add_argument("job_args", nargs="*", help="more options of the job, after --")
    args = parser.parse_args(argv)
    s = Settings(os.environ)
    cmd, extra_env = command(s, args.job_args, args.maintenance), environment(s)
    if args.print:
        shown = {k: ("***" if k == PASSWORD_ENV else v) for k, v in extra_env.items()}
        print(" ".join(f"{k}={shlex.quote(v)}" for k, v in shown.items()), shlex.join(cmd))
        return
    prepare(s)
    os.execve(cmd[0], cmd, {**os.environ, **extra_env})


if __name__ == "__main__":
    main()
