"""Statements through the RDS Data API: one call each, retried while Aurora resumes or the endpoint is not ready."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
from botocore.exceptions import ClientError

RETRIED = {"DatabaseResumingException", "DatabaseUnavailableException", "ServiceUnavailableError",
           "StatementTimeoutException"}


class DataApi:
    def __init__(self, cluster_arn: str, secret_arn: str, database: str, client: Any | None = None,
                 timeout: float = 600):
        self.cluster_arn, self.secret_arn, self.database = cluster_arn, secret_arn, database
        self.client = client or boto3.client("rds-data")
        self.timeout = timeout

    def execute(self, sql: str, **parameters: str) -> list[dict]:
        """Run one statement; its rows as dicts (JSON-formatted records)."""
        request = {"resourceArn": self.cluster_arn, "secretArn": self.secret_arn, "database": self.database,
                   "sql": sql, "formatRecordsAs": "JSON",
                   "parameters": [{"name": k, "value": {"stringValue": v}} for k, v in parameters.items()]}
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                response = self.client.execute_statement(**request)
                break
            except ClientError as error:
                if error.response["Error"]["Code"] not in RETRIED or time.monotonic() > deadline:
                    raise
                time.sleep(5)
        return json.loads(response.get("formattedRecords") or "[]")
