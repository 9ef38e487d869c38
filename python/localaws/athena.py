"""Athena on the local endpoint: StartQueryExecution runs the query, for real, on the Glue catalog's Iceberg tables in
the endpoint's own S3 — each table the query names read by pyiceberg (deletes applied) and the query run by DuckDB,
in the background as Athena does; GetQueryExecution reports it, GetQueryResults pages its rows, and the CSV goes to the
workgroup's (enforced) results location. The workgroups are moto's.

DuckDB's SQL is not Trino's: the queries a lake's user starts with (selects, joins, aggregates, `"db"."table"` and
`awsdatacatalog."db"."table"` names) read the same; Trino-only functions do not."""

from __future__ import annotations

import csv
import io
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3
from moto.athena.models import athena_backends
from moto.glue.models import glue_backends
from werkzeug.wrappers import Request

from localaws import api

log = logging.getLogger("localaws")
CATALOG = "awsdatacatalog"


@dataclass
class Execution:
    id: str
    query: str
    database: str
    workgroup: str
    output: str  # s3://bucket/prefix/<id>.csv
    tables: dict[str, str]  # name -> its Iceberg metadata location, as the query started
    state: str = "QUEUED"
    reason: str | None = None
    submitted: float = field(default_factory=time.time)
    completed: float | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[list[str | None]] = field(default_factory=list)


_EXECUTIONS: dict[str, Execution] = {}


def _endpoint() -> str:
    return f"http://127.0.0.1:{os.environ.get('MOTO_PORT', '4566')}"


def _output_location(call: api.Call, workgroup: str) -> str:
    group = athena_backends[call.account][call.region].work_groups.get(workgroup)
    if group is None:
        raise api.AwsError(400, "InvalidRequestException", f"WorkGroup {workgroup} is not found")
    configured = group.configuration.get("ResultConfiguration", {}).get("OutputLocation")
    asked = call.body.get("ResultConfiguration", {}).get("OutputLocation")
    location = configured if group.configuration.get("EnforceWorkGroupConfiguration") else asked or configured
    if not location:
        raise api.AwsError(400, "InvalidRequestException", "No output location provided: set one on the workgroup "
                                                           "or in ResultConfiguration")
    return location


def start_query_execution(call: api.Call) -> dict[str, Any]:
    workgroup = call.body.get("WorkGroup", "primary")
    database = call.body.get("QueryExecutionContext", {}).get("Database", "default")
    found = glue_backends[call.account][call.region].databases.get(database)
    parameters = {name: t.as_dict().get("Parameters") or {} for name, t in (found.tables if found else {}).items()}
    tables = {name: p["metadata_location"] for name, p in parameters.items() if "metadata_location" in p}
    execution_id = str(uuid.uuid4())
    execution = Execution(execution_id, call.body["QueryString"], database, workgroup,
                          f"{_output_location(call, workgroup).rstrip('/')}/{execution_id}.csv", tables)
    _EXECUTIONS[execution_id] = execution
    # not under the endpoint's lock: the query reads this endpoint's S3 over HTTP
    threading.Thread(target=_run, args=(execution, call.region), daemon=True, name=f"athena-{execution_id}").start()
    return {"QueryExecutionId": execution_id}


def _run(execution: Execution, region: str) -> None:
    execution.state = "RUNNING"
    try:
        import duckdb
        from pyiceberg.table import StaticTable

        from lake.query import referenced

        s3 = {"s3.endpoint": _endpoint(), "s3.access-key-id": "test", "s3.secret-access-key": "test",
              "s3.region": region, "s3.force-virtual-addressing": "false"}
        con = duckdb.connect()
        con.execute(f"ATTACH ':memory:' AS {CATALOG}")
        con.execute(f'CREATE SCHEMA {CATALOG}."{execution.database}"')
        for name in referenced(execution.query, sorted(execution.tables)):
            data = StaticTable.from_metadata(execution.tables[name], properties=s3).scan().to_arrow()
            con.register(f"__{name}", data)
            con.execute(f'CREATE VIEW {CATALOG}."{execution.database}"."{name}" AS SELECT * FROM "__{name}"')
        con.execute(f'USE {CATALOG}."{execution.database}"')
        result = con.sql(execution.query)
        if result is not None:
            execution.columns = [(n, str(t).lower()) for n, t in zip(result.columns, result.types, strict=True)]
            execution.rows = [[None if v is None else str(v) for v in row] for row in result.fetchall()]
        _write_csv(execution, region)
        execution.state = "SUCCEEDED"
    except Exception as error:  # noqa: BLE001 - any failure is the query's, reported as Athena reports it
        execution.state, execution.reason = "FAILED", f"{error.__class__.__name__}: {str(error).splitlines()[0]}"
        log.info("athena query %s failed: %s", execution.id, execution.reason)
    execution.completed = time.time()


def _write_csv(execution: Execution, region: str) -> None:
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL)
    writer.writerow([name for name, _ in execution.columns])
    writer.writerows(execution.rows)
    bucket, key = execution.output.removeprefix("s3://").split("/", 1)
    boto3.client("s3", endpoint_url=_endpoint(), region_name=region, aws_access_key_id="test",
                 aws_secret_access_key="test").put_object(Bucket=bucket, Key=key, Body=text.getvalue().encode())


def _execution(call: api.Call) -> Execution:
    execution = _EXECUTIONS.get(call.body["QueryExecutionId"])
    if execution is None:
        raise api.AwsError(400, "InvalidRequestException", f"QueryExecution {call.body['QueryExecutionId']} was "
                                                           "not found")
    return execution


def get_query_execution(call: api.Call) -> dict[str, Any]:
    e = _execution(call)
    status: dict[str, Any] = {"State": e.state, "SubmissionDateTime": e.submitted}
    if e.completed:
        status["CompletionDateTime"] = e.completed
    if e.reason:
        status["StateChangeReason"] = e.reason
    return {"QueryExecution": {
        "QueryExecutionId": e.id, "Query": e.query, "StatementType": "DML", "WorkGroup": e.workgroup,
        "ResultConfiguration": {"OutputLocation": e.output},
        "QueryExecutionContext": {"Database": e.database, "Catalog": CATALOG}, "Status": status,
        "Statistics": {"TotalExecutionTimeInMillis": int(((e.completed or time.time()) - e.submitted) * 1000)}}}


def get_query_results(call: api.Call) -> dict[str, Any]:
    e = _execution(call)
    if e.state != "SUCCEEDED":
        raise api.AwsError(400, "InvalidRequestException", f"Query has not yet finished. Current state: {e.state}")
    start = int(call.body.get("NextToken") or 0)
    size = int(call.body.get("MaxResults", 1000))
    every = [[name for name, _ in e.columns], *e.rows]  # the first row is the header, as Athena gives it
    page = every[start:start + size]
    result: dict[str, Any] = {"UpdateCount": 0, "ResultSet": {
        "Rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in page],
        "ResultSetMetadata": {"ColumnInfo": [{"CatalogName": "hive", "SchemaName": "", "TableName": "", "Name": n,
                                              "Label": n, "Type": t, "Precision": 0, "Scale": 0,
                                              "Nullable": "UNKNOWN", "CaseSensitive": False} for n, t in e.columns]}}}
    if start + size < len(every):
        result["NextToken"] = str(start + size)
    return result


TARGETS = {f"AmazonAthena.{h.__name__.title().replace('_', '')}": h
           for h in (start_query_execution, get_query_execution, get_query_results)}


def route(request: Request) -> api.Route | None:
    handler = TARGETS.get(request.headers.get("X-Amz-Target", ""))
    return (handler, {}) if handler else None


SERVICE = api.Service("athena", route, content_type="application/x-amz-json-1.1",
                      invalid_input="InvalidRequestException")
