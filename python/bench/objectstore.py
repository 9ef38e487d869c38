"""`python -m bench object-store`: the lake's object store measured alone, as its candidates were: the median
latency of the S3 requests the job and Iceberg make (PUT and GET of small and 1 MB objects, a 64 KB range, HEAD,
LIST, COPY, DELETE), and the store's memory before and after it holds many more objects."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable

from botocore.config import Config

from bench.samplers import _rss_kb

SMALL, LARGE = 1024, 1024 * 1024


def _median_ms(call: Callable[[int], object], times: int) -> float:
    taken = []
    for i in range(times):
        started = time.perf_counter()
        call(i)
        taken.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(taken), 2)


def latencies(s3, bucket: str, times: int = 200) -> dict[str, float]:
    small, large = os.urandom(SMALL), os.urandom(LARGE)
    few = max(times // 7, 5)
    return {
        "put_1k": _median_ms(lambda i: s3.put_object(Bucket=bucket, Key=f"s/{i}", Body=small), times),
        "get_1k": _median_ms(lambda i: s3.get_object(Bucket=bucket, Key=f"s/{i}")["Body"].read(), times),
        "head": _median_ms(lambda i: s3.head_object(Bucket=bucket, Key=f"s/{i}"), times),
        "put_1m": _median_ms(lambda i: s3.put_object(Bucket=bucket, Key=f"m/{i}", Body=large), few),
        "get_1m": _median_ms(lambda i: s3.get_object(Bucket=bucket, Key=f"m/{i}")["Body"].read(), few),
        "range_64k": _median_ms(lambda i: s3.get_object(Bucket=bucket, Key=f"m/{i}",
                                                        Range="bytes=1000-66535")["Body"].read(), few),
        "list_200": _median_ms(lambda i: s3.list_objects_v2(Bucket=bucket, Prefix="s/", MaxKeys=200), few),
        "copy_1k": _median_ms(lambda i: s3.copy_object(Bucket=bucket, Key=f"c/{i}",
                                                       CopySource={"Bucket": bucket, "Key": f"s/{i}"}), few),
        "delete": _median_ms(lambda i: s3.delete_object(Bucket=bucket, Key=f"c/{i}"), few),
    }


def measure(s3, pid: int, objects: int, times: int = 200) -> dict:
    """Latencies in a new bucket, then the store's RSS before and after writing `objects` more small objects; the
    bucket is removed afterwards."""
    bucket = f"bench-object-store-{int(time.time())}"
    s3.create_bucket(Bucket=bucket)
    try:
        result = {"latency_ms": latencies(s3, bucket, times), "rss_mb_before": round(_rss_kb(pid) / 1024, 1)}
        body = os.urandom(SMALL)
        for i in range(objects):
            s3.put_object(Bucket=bucket, Key=f"many/{i // 1000}/{i}", Body=body)
        result.update(rss_mb_after=round(_rss_kb(pid) / 1024, 1), objects_written=objects)
        return result
    finally:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)


def lake_store() -> tuple[object, int]:
    """The local stack's store: a client and the pid of its process."""
    from stack import supervisor
    from stack.settings import lake_s3

    pid = supervisor.pid("objectstore")
    if pid is None:
        raise SystemExit("bench: the object store is not running (make local-up)")
    return lake_s3(Config(retries={"max_attempts": 1})), pid
