"""Readiness of the locally running Glue job: a micro-batch committed in its streaming checkpoint."""

import os
from urllib.parse import urlparse

from glue import run_local
from glue.lake import local_options
from stack.settings import local_client


def committed_batches() -> int:
    """Micro-batches Spark has committed (objects under <checkpoint>/commits/ in the local S3)."""
    checkpoint = urlparse(local_options(run_local.Settings(os.environ)).checkpoint_uri)
    commits = f"{checkpoint.path.strip('/')}/commits/"
    listing = local_client("s3").list_objects_v2(Bucket=checkpoint.netloc, Prefix=commits)
    return listing.get("KeyCount", 0)


def probe_first_batch() -> None:
    if committed_batches() == 0:
        raise RuntimeError("no micro-batch committed yet")
