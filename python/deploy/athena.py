"""`make aws-sql`: a query over the deployed lake through its Athena workgroup (results in the workgroup's encrypted,
enforced location), its rows printed as a table."""

from __future__ import annotations

import time

import boto3

FINAL = ("SUCCEEDED", "FAILED", "CANCELLED")


def query(workgroup: str, database: str, text: str, timeout: float = 600) -> list[list[str | None]]:
    """The query's rows, the column names first."""
    athena = boto3.client("athena")
    execution_id = athena.start_query_execution(QueryString=text, WorkGroup=workgroup,
                                                QueryExecutionContext={"Database": database})["QueryExecutionId"]
    deadline = time.monotonic() + timeout
    while (status := athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"])[
            "State"] not in FINAL:
        if time.monotonic() > deadline:
            athena.stop_query_execution(QueryExecutionId=execution_id)
            raise SystemExit(f"error: Athena query {execution_id} still {status['State']} after {timeout:.0f} s")
        time.sleep(1)
    if status["State"] != "SUCCEEDED":
        raise SystemExit(f"error: Athena query {execution_id} {status['State']}: "
                         f"{status.get('StateChangeReason', 'no reason given')}")
    rows = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
        rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in page["ResultSet"]["Rows"]]
    return rows


def table(rows: list[list[str | None]]) -> str:
    """Rows as aligned columns under their header."""
    if not rows:
        return "(no columns)"
    shown = [["NULL" if v is None else v for v in row] for row in rows]
    widths = [max(len(row[i]) for row in shown) for i in range(len(shown[0]))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in shown]
    return "\n".join([lines[0], "  ".join("-" * w for w in widths), *lines[1:], f"({len(rows) - 1} rows)"])
