"""The deployed database, through the RDS Data API as Aurora's master user (its RDS-managed secret): bootstrapped with
the statements `make local-up` runs locally (stack.database), and cleaned of what a deployment leaves in it."""

from __future__ import annotations

import json
import secrets
import sys
import time

import boto3
from botocore.exceptions import ClientError

from deploy.dataapi import DataApi
from stack.database import SET_PASSWORD, Names, pipeline_statements, teardown_statements


def replication_password(secret_arn: str, user: str) -> str:
    """The replication role's password from its secret; the first time, a new one is generated into it. Never
    printed."""
    client = boto3.client("secretsmanager")
    try:
        return json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])["password"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceNotFoundException":  # no value yet: the secret is new
            raise
    password = secrets.token_urlsafe(32)
    client.put_secret_value(SecretId=secret_arn, SecretString=json.dumps({"username": user, "password": password}))
    return password


def master_user(secret_arn: str) -> str:
    return json.loads(boto3.client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"])["username"]


def bootstrap(cluster_arn: str, master_secret_arn: str, cdc_secret_arn: str, database: str, schema: str,
              cdc_user: str, publication: str) -> None:
    api = DataApi(cluster_arn, master_secret_arn, database)
    names = Names(database, schema, master_user(master_secret_arn), cdc_user, publication)
    statements = pipeline_statements(names)
    for statement in statements:
        api.execute(statement)
    api.execute(SET_PASSWORD, role=cdc_user, password=replication_password(cdc_secret_arn, cdc_user))
    print(f"==> database {database} bootstrapped through the RDS Data API ({len(statements) + 1} statements): role "
          f"{cdc_user} with its password in its secret, schema {schema}, publication {publication}, DDL capture",
          file=sys.stderr)


def teardown(cluster_arn: str, master_secret_arn: str, database: str, slot: str, publication: str, cdc_user: str,
             timeout: float = 120) -> None:
    """Drop the deployment's slot once its connector has let go of it, then its publication and role."""
    api = DataApi(cluster_arn, master_secret_arn, database)
    deadline = time.monotonic() + timeout
    while api.execute("SELECT active FROM pg_replication_slots WHERE slot_name = :slot AND active", slot=slot):
        if time.monotonic() > deadline:
            raise SystemExit(f"error: replication slot {slot} still in use {timeout:.0f} s after its connector went; "
                             "stop what reads it, then run make aws-destroy again")
        time.sleep(2)
    for statement in teardown_statements(slot, publication, cdc_user):
        api.execute(statement)
    print(f"==> dropped slot {slot}, publication {publication} and role {cdc_user} through the RDS Data API",
          file=sys.stderr)
