"""`make bench`: throughput and commit-to-lake latency of the pipeline, its ceilings and a peer (bench/README.md)."""
