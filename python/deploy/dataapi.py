"""Statements through the RDS Data API: one call each, retried while Aurora resumes or the endpoint is not ready."""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.exceptions import ClientError
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_fixed

RETRIED = {"DatabaseResumingException", "DatabaseUnavailableException", "ServiceUnavailableError",
           "StatementTimeoutException"}


def _not_ready(error: BaseException) -> bool:
    return isinstance(error, ClientError) and error.response["Error"]["Code"] in RETRIED


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
        retrying = Retrying(retry=retry_if_exception(_not_ready), wait=wait_fixed(5),
                            stop=stop_after_delay(self.timeout), reraise=True)
        response = retrying(self.client.execute_statement, **request)
        return json.loads(response.get("formattedRecords") or "[]")
