"""Small JSON objects in the lake (batch records, table state, operator requests), through Hadoop's file system:
s3a locally, S3 on Glue, local files in tests. No Spark job for a few bytes."""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql import SparkSession


def _fs(spark: SparkSession, uri: str):
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def write_json(spark: SparkSession, uri: str, value: Any) -> None:
    path, fs = _fs(spark, uri)
    out = fs.create(path, True)
    try:
        out.write(bytearray((json.dumps(value, sort_keys=True) + "\n").encode("utf-8")))
    finally:
        out.close()


def read_json(spark: SparkSession, uri: str) -> Any | None:
    """The object's value, or None when there is no such object."""
    path, fs = _fs(spark, uri)
    if not fs.exists(path):
        return None
    stream = fs.open(path)
    try:
        text = spark.sparkContext._jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
    finally:
        stream.close()
    return json.loads(text)


def list_json(spark: SparkSession, prefix: str) -> dict[str, Any]:
    """{uri: value} of the .json objects directly under `prefix` (none when the prefix does not exist)."""
    path, fs = _fs(spark, prefix.rstrip("/"))
    if not fs.exists(path):
        return {}
    found = {}
    for status in fs.listStatus(path):
        uri = status.getPath().toString()
        if uri.endswith(".json"):
            found[uri] = read_json(spark, uri)
    return found


def delete(spark: SparkSession, uri: str) -> None:
    path, fs = _fs(spark, uri)
    fs.delete(path, False)
