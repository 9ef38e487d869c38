"""Readiness of the locally running Glue job: a micro-batch committed in its streaming checkpoint."""

import os
from urllib.parse import urlparse

from glue import run_local
from glue.lake import local_options
from stack.settings import lake_s3


def last_committed_batch() -> int | None:
    """The id of the last micro-batch Spark has committed: objects <checkpoint>/commits/<batch id> in the object store
    (not the folder's own marker, which s3a writes first); None before the first."""
    checkpoint = urlparse(local_options(run_local.Settings(os.environ)).checkpoint_uri)
    commits = f"{checkpoint.path.strip('/')}/commits/"
    ids = [int(item["Key"].removeprefix(commits))
           for page in lake_s3().get_paginator("list_objects_v2").paginate(Bucket=checkpoint.netloc, Prefix=commits)
           for item in page.get("Contents", []) if item["Key"].removeprefix(commits).isdigit()]
    return max(ids, default=None)


def probe_first_batch() -> None:
    if last_committed_batch() is None:
        raise RuntimeError("no micro-batch committed yet")
