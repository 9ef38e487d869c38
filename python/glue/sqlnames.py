"""Spark SQL names and the table properties every table of the lake shares."""

from __future__ import annotations

# A commit every few seconds: old metadata files are removed as new ones are written, and the manifests each
# commit adds are merged every few commits (Iceberg's default, 100, means every scan, MERGE and append reads up to
# 100 small manifests: most of the job's requests to S3).
COMMON_PROPERTIES = {
    "format-version": "2",
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "20",
    "commit.manifest.min-count-to-merge": "5",
}


def q(name: str) -> str:
    """A Spark SQL identifier, quoted."""
    return "`" + name.replace("`", "``") + "`"


def table_ident(*parts: str) -> str:
    return ".".join(q(p) for p in parts)


def tblproperties(properties: dict[str, str]) -> str:
    return "TBLPROPERTIES (" + ", ".join(f"'{k}'='{v}'" for k, v in properties.items()) + ")"
