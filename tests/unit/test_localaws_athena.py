"""Athena on the local endpoint runs the query: an Iceberg table written through the endpoint's Glue catalog and S3
(pyiceberg, as the deployed job's catalog writes it), queried with boto3's Athena client, the CSV in the workgroup's
results location."""

import threading
import time

import boto3
import pyarrow as pa
import pytest
from pyiceberg.catalog.glue import GlueCatalog

from localaws.server import server

REGION = "us-east-1"


@pytest.fixture(scope="module")
def endpoint():
    httpd = server("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    patch = pytest.MonkeyPatch()
    patch.setenv("MOTO_PORT", str(httpd.server_port))  # where its Athena finds its own S3
    yield f"http://127.0.0.1:{httpd.server_port}"
    patch.undo()
    httpd.shutdown()
    thread.join()


def client(endpoint: str, service: str):
    return boto3.client(service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="test",
                        aws_secret_access_key="test")


@pytest.fixture(scope="module")
def lake(endpoint):
    """The database shop with orders (3 rows, one deleted), and a workgroup whose results location is enforced."""
    client(endpoint, "s3").create_bucket(Bucket="lake")
    client(endpoint, "glue").create_database(DatabaseInput={"Name": "shop", "LocationUri": "s3://lake/shop.db"})
    catalog = GlueCatalog("glue", **{"glue.endpoint": endpoint, "glue.region": REGION, "s3.endpoint": endpoint,
                                     "s3.region": REGION, "s3.access-key-id": "test", "s3.secret-access-key": "test",
                                     "client.access-key-id": "test", "client.secret-access-key": "test"})
    orders = catalog.create_table("shop.orders", schema=pa.schema([("id", pa.int64()), ("amount", pa.float64())]),
                                  location="s3://lake/shop.db/orders")
    orders.append(pa.table({"id": [1, 2, 3], "amount": [1.5, 2.5, 4.0]}))
    orders.delete("id = 3")
    client(endpoint, "athena").create_work_group(Name="lake", Configuration={
        "EnforceWorkGroupConfiguration": True, "ResultConfiguration": {"OutputLocation": "s3://lake/results/"}})
    return endpoint


def run(endpoint: str, query: str, **asked) -> dict:
    athena = client(endpoint, "athena")
    started = athena.start_query_execution(QueryString=query, WorkGroup="lake",
                                           QueryExecutionContext={"Database": "shop"}, **asked)
    deadline = time.monotonic() + 60
    while True:
        execution = athena.get_query_execution(QueryExecutionId=started["QueryExecutionId"])["QueryExecution"]
        if execution["Status"]["State"] not in ("QUEUED", "RUNNING") or time.monotonic() > deadline:
            return execution
        time.sleep(0.2)


def test_a_query_reads_the_table_its_catalog_points_to_deletes_applied(lake):
    execution = run(lake, 'SELECT count(*) AS n, sum(amount) AS total FROM "shop"."orders"')
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    results = client(lake, "athena").get_query_results(QueryExecutionId=execution["QueryExecutionId"])
    rows = [[d.get("VarCharValue") for d in r["Data"]] for r in results["ResultSet"]["Rows"]]
    assert rows == [["n", "total"], ["2", "4.0"]]
    assert [c["Name"] for c in results["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]] == ["n", "total"]


def test_the_results_go_to_the_enforced_location_as_csv(lake):
    execution = run(lake, "SELECT id FROM orders ORDER BY id",
                    ResultConfiguration={"OutputLocation": "s3://lake/elsewhere/"})
    location = execution["ResultConfiguration"]["OutputLocation"]
    assert location == f"s3://lake/results/{execution['QueryExecutionId']}.csv"
    body = client(lake, "s3").get_object(Bucket="lake", Key=location.removeprefix("s3://lake/"))["Body"].read()
    assert body.decode().splitlines() == ['"id"', '"1"', '"2"']


def test_a_bad_query_fails_with_the_reason(lake):
    execution = run(lake, "SELECT nothing FROM no_such_table")
    assert execution["Status"]["State"] == "FAILED"
    assert "no_such_table" in execution["Status"]["StateChangeReason"]
