"""The RDS Data API (service rds-data) on the local endpoint: a statement sent for an Aurora cluster's ARN runs against
the local stack's PostgreSQL, and comes back in the shapes AWS returns (records of typed fields, column metadata,
JSON-formatted records, updated counts). ExecuteStatement, BatchExecuteStatement and transactions.

As on AWS, the cluster must exist with its HTTP endpoint enabled and the secret must exist; the statement then runs
as the local cluster's superuser (what the secret names is not logged in as: Aurora's master user is rds_superuser,
so what only a true superuser may do is not caught here).
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import decimal
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
from moto.rds.models import rds_backends
from moto.secretsmanager.models import secretsmanager_backends
from werkzeug.routing import Rule

from localaws import api, runtime

# open transactions: id -> connection (they end with the process, as AWS ends idle ones)
TRANSACTIONS: dict[str, Any] = {}
MASTER_USERS: set[tuple[str, str]] = set()  # (cluster, master user) this process has made sure of
_PARAMETER = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _error(code: str, message: str, status: int = 400) -> api.AwsError:
    return api.AwsError(status, code, message)


def _cluster(call: api.Call) -> Any:
    arn = call.body["resourceArn"]
    cluster = next((c for c in rds_backends[call.account][call.region].clusters.values() if c.db_cluster_arn == arn),
                   None)
    if cluster is None:
        raise api.bad_request(f"The resource {arn} does not exist")
    if not cluster.enable_http_endpoint:
        raise _error("HttpEndpointNotEnabledException", f"HTTP endpoint is not enabled for {arn}")
    secret, secrets = call.body["secretArn"], secretsmanager_backends[call.account][call.region].secrets
    if not any(secret in (s.arn, name) for name, s in secrets.items()):
        raise _error("SecretsErrorException", f"Secrets Manager can't find the specified secret {secret}")
    return cluster


def _connect(cluster: Any, database: str) -> Any:
    rt = runtime.current()
    if rt is None:
        raise _error("DatabaseUnavailableException", "no local database behind this endpoint (--postgres)", 504)
    conn = psycopg2.connect(f"{rt.postgres_admin} dbname={database}")
    master = (cluster.db_cluster_arn, cluster.master_username)
    if master not in MASTER_USERS:  # once per cluster, not on every statement
        _master_user(conn, cluster)
        MASTER_USERS.add(master)
    return conn


def _master_user(conn: Any, cluster: Any) -> None:
    """The cluster's master user, as RDS creates it in a new cluster: a role that may create roles and databases,
    logging in with its secret's password."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (cluster.master_username,))
        if cur.fetchone() is None:
            secret = cluster.master_user_secret.secret if getattr(cluster, "master_user_secret", None) else None
            password = json.loads(secret.secret_string)["password"] if secret else cluster.master_user_password
            name = '"' + cluster.master_username.replace('"', '""') + '"'
            cur.execute(f"CREATE ROLE {name} LOGIN CREATEROLE CREATEDB PASSWORD %s", (password,))
    conn.commit()


def parameter_value(parameter: dict) -> Any:
    """A SqlParameter's value as a Python value for psycopg2."""
    value = parameter.get("value", {})
    if value.get("isNull"):
        return None
    if "blobValue" in value:
        return psycopg2.Binary(base64.b64decode(value["blobValue"]))
    if "arrayValue" in value:
        return next(iter(value["arrayValue"].values()))
    return next(iter(value.values()))


def psycopg2_sql(sql: str) -> str:
    """The Data API's :name placeholders as psycopg2's %(name)s (a literal % doubled)."""
    return _PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))


def field(value: Any) -> dict:
    """A result value as the Data API's Field."""
    if value is None:
        return {"isNull": True}
    if isinstance(value, bool):
        return {"booleanValue": value}
    if isinstance(value, int):
        return {"longValue": value}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, bytes | memoryview):
        return {"blobValue": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, list):
        return {"arrayValue": _array(value)}
    return {"stringValue": _text(value)}


def _array(values: list) -> dict:
    if all(isinstance(v, bool) for v in values):
        return {"booleanValues": values}
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return {"longValues": values}
    if all(isinstance(v, float) for v in values):
        return {"doubleValues": values}
    return {"stringValues": [_text(v) for v in values]}


def _text(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        # the Data API's timestamp format, in UTC
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time | decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return json.dumps(value)
    return str(value)


def _columns(cur: Any) -> list[dict]:
    """ColumnMetadata of the result: names, and PostgreSQL's names of their types."""
    described = list(cur.description)
    cur.execute("SELECT oid, typname FROM pg_type WHERE oid = ANY(%s)", ([d.type_code for d in described],))
    types = dict(cur.fetchall())
    return [{"name": d.name, "label": d.name, "typeName": types.get(d.type_code, "unknown")} for d in described]


def _run(cur: Any, sql: str, parameters: list[dict] | None) -> None:
    if parameters:
        cur.execute(psycopg2_sql(sql), {p["name"]: parameter_value(p) for p in parameters})
    else:
        cur.execute(sql)


def _session(call: api.Call, cluster: Any) -> tuple[Any, bool]:
    """(connection, whether it is a transaction's); a statement outside a transaction commits on its own."""
    transaction = call.body.get("transactionId")
    if transaction:
        if transaction not in TRANSACTIONS:
            raise _error("TransactionNotFoundException", f"Transaction {transaction} is not found", 404)
        return TRANSACTIONS[transaction], True
    conn = _connect(cluster, call.body.get("database") or cluster.database_name or "postgres")
    conn.autocommit = True
    return conn, False


def _database_error(error: psycopg2.Error) -> api.AwsError:
    message = " ".join((error.pgerror or str(error)).split())
    return _error("DatabaseErrorException", f"{message}; SQLState: {error.pgcode}" if error.pgcode else message)


@contextlib.contextmanager
def _cursor(call: api.Call) -> Iterator[Any]:
    """A cursor in the call's transaction, or in a connection of its own that commits each statement."""
    conn, in_transaction = _session(call, _cluster(call))
    try:
        with conn.cursor() as cur:
            yield cur
    except psycopg2.Error as error:
        if in_transaction:
            conn.rollback()
        raise _database_error(error) from None
    finally:
        if not in_transaction:
            conn.close()


def execute_statement(call: api.Call) -> dict[str, Any]:
    with _cursor(call) as cur:
        _run(cur, call.body["sql"], call.body.get("parameters"))
        result: dict[str, Any] = {"numberOfRecordsUpdated": max(cur.rowcount, 0) if cur.description is None
                                  else 0, "generatedFields": []}
        if cur.description is not None:
            names, rows = [d.name for d in cur.description], cur.fetchall()
            if call.body.get("formatRecordsAs") == "JSON":
                result["formattedRecords"] = json.dumps(
                    [{n: _json(v) for n, v in zip(names, row, strict=True)} for row in rows])
            else:
                result["records"] = [[field(v) for v in row] for row in rows]
            if call.body.get("includeResultMetadata"):
                result["columnMetadata"] = _columns(cur)
        return result


def _json(value: Any) -> Any:
    return value if value is None or isinstance(value, bool | int | float | list | dict) else _text(value)


def batch_execute_statement(call: api.Call) -> dict[str, Any]:
    with _cursor(call) as cur:
        for parameters in call.body.get("parameterSets") or [[]]:
            _run(cur, call.body["sql"], parameters)
    return {"updateResults": [{"generatedFields": []} for _ in call.body.get("parameterSets") or []]}


def begin_transaction(call: api.Call) -> dict[str, Any]:
    cluster = _cluster(call)
    conn = _connect(cluster, call.body.get("database") or cluster.database_name or "postgres")
    transaction = base64.b64encode(uuid.uuid4().bytes).decode()
    TRANSACTIONS[transaction] = conn
    return {"transactionId": transaction}


def _end(call: api.Call, commit: bool) -> None:
    _cluster(call)
    conn = TRANSACTIONS.pop(call.body["transactionId"], None)
    if conn is None:
        raise _error("TransactionNotFoundException", f"Transaction {call.body['transactionId']} is not found", 404)
    try:
        conn.commit() if commit else conn.rollback()
    except psycopg2.Error as error:
        raise _database_error(error) from None
    finally:
        conn.close()


def commit_transaction(call: api.Call) -> dict[str, Any]:
    _end(call, commit=True)
    return {"transactionStatus": "Transaction Committed"}


def rollback_transaction(call: api.Call) -> dict[str, Any]:
    _end(call, commit=False)
    return {"transactionStatus": "Rollback Complete"}


SERVICE = api.Service("rds-data", api.rest_routes(
    Rule("/Execute", methods=["POST"], endpoint=execute_statement),
    Rule("/BatchExecute", methods=["POST"], endpoint=batch_execute_statement),
    Rule("/BeginTransaction", methods=["POST"], endpoint=begin_transaction),
    Rule("/CommitTransaction", methods=["POST"], endpoint=commit_transaction),
    Rule("/RollbackTransaction", methods=["POST"], endpoint=rollback_transaction),
))
