"""Small JSON objects in the lake (batch records, table state, operator requests), through Hadoop's file system:
s3a locally, S3 on Glue, local files in tests. No Spark job for a few bytes."""

from __future__ import annotations

import json
from typing import Any

from pyspark.sql import SparkSession

from glue.jvm import java_class


def _fs(spark: SparkSession, uri: str):
    path = java_class(spark, "org.apache.hadoop.fs.Path")(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def write_json(spark: SparkSession, uri: str, value: Any) -> None:
    path, fs = _fs(spark, uri)
    out = fs.create(path, True)
    try:
        out.write(bytearray((json.dumps(value, sort_keys=True) + "\n").encode("utf-8")))
    finally:
        out.close()


def read_text(spark: SparkSession, uri: str) -> str | None:
    """The object's text, or None when there is no such object."""
    path, fs = _fs(spark, uri)
    if not fs.exists(path):
        return None
    stream = fs.open(path)
    try:
        return java_class(spark, "org.apache.commons.io.IOUtils").toString(stream, "UTF-8")
    finally:
        stream.close()


def read_json(spark: SparkSession, uri: str) -> Any | None:
    """The object's value, or None when there is no such object."""
    text = read_text(spark, uri)
    return None if text is None else json.loads(text)


def list_names(spark: SparkSession, prefix: str) -> list[str]:
    """The names of the objects directly under `prefix` (none when the prefix does not exist)."""
    path, fs = _fs(spark, prefix.rstrip("/"))
    return [s.getPath().getName() for s in fs.listStatus(path)] if fs.exists(path) else []


def list_json(spark: SparkSession, prefix: str) -> dict[str, Any]:
    """{uri: value} of the .json objects directly under `prefix` (none when the prefix does not exist)."""
    base = prefix.rstrip("/")
    return {f"{base}/{name}": read_json(spark, f"{base}/{name}") for name in list_names(spark, base)
            if name.endswith(".json")}


def delete(spark: SparkSession, uri: str) -> None:
    path, fs = _fs(spark, uri)
    fs.delete(path, False)
