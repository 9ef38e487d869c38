"""The local AWS endpoint's additions to moto (python/localaws), through boto3 against the server run in-process on a
free port: MSK configurations and bootstrap brokers, MSK Connect, Glue DeleteConnection, and the fixes to moto."""

import base64
import os
import subprocess
import threading
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from localaws.server import server

ACCOUNT = "123456789012"  # moto's account for any access key it does not know


@pytest.fixture(scope="module")
def endpoint():
    httpd = server("127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def aws(endpoint):
    def client(service: str, validate: bool = True):
        config = Config(retries={"max_attempts": 1}, parameter_validation=validate)
        return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                            aws_secret_access_key="test", config=config)

    return client


def error_of(call, *args, **kwargs) -> tuple[int, str, str]:
    with pytest.raises(ClientError) as raised:
        call(*args, **kwargs)
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


# ---- fixes to moto -----------------------------------------------------------------------------------------------


def test_emptying_a_bucket_whose_versioning_is_suspended_succeeds(aws):
    """What Terraform does to a force_destroy bucket: suspend versioning, then delete every version and marker."""
    s3 = aws("s3")
    s3.create_bucket(Bucket="suspended-bucket")
    s3.put_bucket_versioning(Bucket="suspended-bucket", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="suspended-bucket", Key="k", Body=b"one")
    s3.delete_object(Bucket="suspended-bucket", Key="k")  # a delete marker on top of the version
    s3.put_bucket_versioning(Bucket="suspended-bucket", VersioningConfiguration={"Status": "Suspended"})
    listed = s3.list_object_versions(Bucket="suspended-bucket")
    assert len(listed["Versions"]) == 1 and len(listed["DeleteMarkers"]) == 1
    for version in listed["DeleteMarkers"] + listed["Versions"]:
        s3.delete_object(Bucket="suspended-bucket", Key=version["Key"], VersionId=version["VersionId"])
    left = s3.list_object_versions(Bucket="suspended-bucket")
    assert "Versions" not in left and "DeleteMarkers" not in left
    s3.delete_bucket(Bucket="suspended-bucket")


def test_glue_refuses_a_table_update_at_a_version_that_is_no_longer_current(aws):
    """Iceberg's Glue catalog commits by UpdateTable at the VersionId it read: of two writers that read the same
    version, the second is refused (Iceberg then retries on the new metadata) rather than dropping the first's."""
    glue = aws("glue")
    glue.create_database(DatabaseInput={"Name": "locked"})
    glue.create_table(DatabaseName="locked", TableInput={"Name": "t", "Parameters": {"metadata_location": "m1"}})
    read = glue.get_table(DatabaseName="locked", Name="t")["Table"]["VersionId"]

    def commit(location: str) -> dict:  # a writer's commit on the version it read
        return {"DatabaseName": "locked", "VersionId": read, "SkipArchive": True,
                "TableInput": {"Name": "t", "Parameters": {"metadata_location": location}}}

    glue.update_table(**commit("m2"))
    status, code, _ = error_of(glue.update_table, **commit("m3"))
    assert (status, code) == (400, "ConcurrentModificationException")
    table = glue.get_table(DatabaseName="locked", Name="t")["Table"]
    assert table["Parameters"]["metadata_location"] == "m2" and table["VersionId"] != read
    # SkipArchive: the endpoint keeps no old version (moto kept every commit's in memory)
    assert [v["VersionId"] for v in glue.get_table_versions(DatabaseName="locked", TableName="t")["TableVersions"]] \
        == [table["VersionId"]]


def create_cluster(kafka, name: str, **settings):
    return kafka.create_cluster(
        ClusterName=name, KafkaVersion="3.9.x", NumberOfBrokerNodes=2,
        BrokerNodeGroupInfo={"InstanceType": "kafka.m7g.large", "ClientSubnets": ["subnet-a", "subnet-b"]},
        **settings)["ClusterArn"]


def test_msk_cluster_is_active_as_msk_names_and_encrypts_it(aws):
    kafka = aws("kafka")
    arn = create_cluster(kafka, "iam-cluster", ClientAuthentication={
        "Sasl": {"Iam": {"Enabled": True}, "Scram": {"Enabled": False}}, "Unauthenticated": {"Enabled": False}},
        EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS", "InCluster": True}})
    assert arn.startswith(f"arn:aws:kafka:us-east-1:{ACCOUNT}:cluster/iam-cluster/")
    cluster = kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]
    assert cluster["State"] == "ACTIVE"
    assert kafka.describe_cluster_v2(ClusterArn=arn)["ClusterInfo"]["State"] == "ACTIVE"
    assert cluster["EncryptionInfo"]["EncryptionAtRest"]["DataVolumeKMSKeyId"].startswith("arn:aws:kms:us-east-1:")
    assert cluster["EncryptionInfo"]["EncryptionInTransit"] == {"ClientBroker": "TLS", "InCluster": True}

    brokers = kafka.get_bootstrap_brokers(ClusterArn=arn)
    assert set(brokers) - {"ResponseMetadata"} == {"BootstrapBrokerStringSaslIam"}
    hosts = brokers["BootstrapBrokerStringSaslIam"].split(",")
    assert len(hosts) == 2 and all(h.startswith(f"b-{n}.iam-cluster.") and h.endswith(":9098")
                                   for n, h in enumerate(hosts, 1))

    kafka.delete_cluster(ClusterArn=arn)
    assert error_of(kafka.describe_cluster, ClusterArn=arn)[:2] == (404, "NotFoundException")
    assert error_of(kafka.describe_cluster_v2, ClusterArn=arn)[:2] == (404, "NotFoundException")
    assert error_of(kafka.delete_cluster, ClusterArn=arn)[:2] == (404, "NotFoundException")
    assert error_of(kafka.get_bootstrap_brokers, ClusterArn=arn)[:2] == (404, "NotFoundException")


def test_bootstrap_brokers_follow_the_listeners_a_cluster_opens(aws):
    kafka = aws("kafka")
    arn = create_cluster(kafka, "open-cluster", ClientAuthentication={"Sasl": {"Scram": {"Enabled": True}}},
                         EncryptionInfo={"EncryptionInTransit": {"ClientBroker": "TLS_PLAINTEXT"}})
    brokers = kafka.get_bootstrap_brokers(ClusterArn=arn)
    assert set(brokers) - {"ResponseMetadata"} == {"BootstrapBrokerStringSaslScram"}
    assert brokers["BootstrapBrokerStringSaslScram"].endswith(":9096")

    arn = create_cluster(kafka, "plain-cluster")  # no client authentication: unauthenticated, TLS by default
    brokers = kafka.get_bootstrap_brokers(ClusterArn=arn)
    assert set(brokers) - {"ResponseMetadata"} == {"BootstrapBrokerStringTls"}


# ---- MSK configurations ----------------------------------------------------------------------------------------


def test_msk_configuration_create_describe_update_delete(aws):
    kafka = aws("kafka")
    created = kafka.create_configuration(Name="brokers", KafkaVersions=["3.9.x"], Description="first",
                                         ServerProperties=b"auto.create.topics.enable = true")
    arn = created["Arn"]
    assert arn.startswith(f"arn:aws:kafka:us-east-1:{ACCOUNT}:configuration/brokers/")
    assert created["State"] == "ACTIVE" and created["LatestRevision"]["Revision"] == 1

    described = kafka.describe_configuration(Arn=arn)
    assert (described["Name"], described["KafkaVersions"], described["Description"]) == ("brokers", ["3.9.x"], "first")
    revision = kafka.describe_configuration_revision(Arn=arn, Revision=1)
    assert revision["ServerProperties"] == b"auto.create.topics.enable = true"

    updated = kafka.update_configuration(Arn=arn, ServerProperties=b"num.partitions = 3")
    assert updated["LatestRevision"]["Revision"] == 2
    assert kafka.describe_configuration(Arn=arn)["LatestRevision"]["Revision"] == 2
    assert kafka.describe_configuration_revision(Arn=arn, Revision=2)["ServerProperties"] == b"num.partitions = 3"
    assert kafka.describe_configuration_revision(Arn=arn, Revision=1)["ServerProperties"].startswith(b"auto.")
    assert error_of(kafka.describe_configuration_revision, Arn=arn, Revision=3)[:2] == (400, "BadRequestException")

    assert arn in [c["Arn"] for c in kafka.list_configurations()["Configurations"]]
    status, code, _ = error_of(kafka.create_configuration, Name="brokers", ServerProperties=b"a = b")
    assert (status, code) == (409, "ConflictException")

    assert kafka.delete_configuration(Arn=arn)["State"] == "DELETING"
    assert arn not in [c["Arn"] for c in kafka.list_configurations()["Configurations"]]
    # MSK's answer for a configuration that does not exist, which Terraform's waiters look for
    assert error_of(kafka.describe_configuration, Arn=arn) == (400, "BadRequestException",
                                                               "Configuration ARN does not exist.")
    assert error_of(kafka.delete_configuration, Arn=arn)[:2] == (400, "BadRequestException")


def test_required_fields_are_checked_against_the_service_model(aws):
    kafka = aws("kafka", validate=False)  # as a client without boto3's own checks would send it
    status, code, message = error_of(kafka.create_configuration, Name="no-properties")
    assert (status, code) == (400, "BadRequestException") and "serverProperties" in message

    connect = aws("kafkaconnect", validate=False)
    status, code, message = error_of(connect.create_connector, **connector_request(
        "incomplete", "arn:aws:kafkaconnect:us-east-1:123456789012:custom-plugin/p/x",
        kafkaCluster={"apacheKafkaCluster": {"bootstrapServers": "b-1:9098", "vpc": {}}}))
    assert (status, code) == (400, "BadRequestException")
    assert "kafkaCluster.apacheKafkaCluster.vpc.subnets" in message

    glue = aws("glue", validate=False)
    status, code, message = error_of(glue.delete_connection)
    assert (status, code) == (400, "InvalidInputException") and "ConnectionName" in message


# ---- MSK Connect -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plugin_zip(aws):
    s3 = aws("s3")
    s3.create_bucket(Bucket="plugins")
    s3.put_bucket_versioning(Bucket="plugins", VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket="plugins", Key="debezium.zip", Body=b"PK")["VersionId"]
    return {"bucketArn": "arn:aws:s3:::plugins", "fileKey": "debezium.zip", "objectVersion": version}


def test_custom_plugin_is_active_when_its_file_is_in_s3(aws, plugin_zip):
    connect = aws("kafkaconnect")
    created = connect.create_custom_plugin(name="debezium", contentType="ZIP", description="the connector",
                                           location={"s3Location": plugin_zip})
    arn = created["customPluginArn"]
    assert arn.startswith(f"arn:aws:kafkaconnect:us-east-1:{ACCOUNT}:custom-plugin/debezium/")
    assert created["revision"] == 1

    plugin = connect.describe_custom_plugin(customPluginArn=arn)
    assert plugin["customPluginState"] == "ACTIVE" and plugin["name"] == "debezium"
    assert plugin["latestRevision"]["revision"] == 1 and plugin["latestRevision"]["contentType"] == "ZIP"
    assert plugin["latestRevision"]["location"] == {"s3Location": plugin_zip}
    assert [p["customPluginArn"] for p in connect.list_custom_plugins(namePrefix="debez")["customPlugins"]] == [arn]
    assert connect.list_custom_plugins(namePrefix="other")["customPlugins"] == []
    assert error_of(connect.create_custom_plugin, name="debezium", contentType="ZIP",
                    location={"s3Location": plugin_zip})[:2] == (409, "ConflictException")

    assert connect.delete_custom_plugin(customPluginArn=arn)["customPluginState"] == "DELETING"
    assert error_of(connect.describe_custom_plugin, customPluginArn=arn)[:2] == (404, "NotFoundException")
    assert error_of(connect.delete_custom_plugin, customPluginArn=arn)[:2] == (404, "NotFoundException")


def test_custom_plugin_fails_when_its_file_is_not_in_s3(aws, plugin_zip):
    connect = aws("kafkaconnect")
    missing = {"s3Location": {**plugin_zip, "fileKey": "missing.zip"}}
    arn = connect.create_custom_plugin(name="missing", contentType="ZIP", location=missing)["customPluginArn"]
    plugin = connect.describe_custom_plugin(customPluginArn=arn)
    assert plugin["customPluginState"] == "CREATE_FAILED"
    assert "s3://plugins/missing.zip" in plugin["stateDescription"]["message"]
    connect.delete_custom_plugin(customPluginArn=arn)


def test_worker_configuration_keeps_its_properties(aws):
    connect = aws("kafkaconnect")
    properties = base64.b64encode(b"key.converter=org.apache.kafka.connect.json.JsonConverter\n").decode()
    created = connect.create_worker_configuration(name="json", description="JSON", propertiesFileContent=properties)
    arn = created["workerConfigurationArn"]
    assert arn.startswith(f"arn:aws:kafkaconnect:us-east-1:{ACCOUNT}:worker-configuration/json/")
    assert created["latestRevision"]["revision"] == 1 and created["workerConfigurationState"] == "ACTIVE"

    described = connect.describe_worker_configuration(workerConfigurationArn=arn)
    assert described["latestRevision"]["propertiesFileContent"] == properties
    assert (described["name"], described["description"]) == ("json", "JSON")
    listed = connect.list_worker_configurations(namePrefix="js")["workerConfigurations"]
    assert [w["workerConfigurationArn"] for w in listed] == [arn]
    assert "propertiesFileContent" not in listed[0]["latestRevision"]
    assert error_of(connect.create_worker_configuration, name="json",
                    propertiesFileContent=properties)[:2] == (409, "ConflictException")
    assert error_of(connect.create_worker_configuration, name="not-base64",
                    propertiesFileContent="a=b")[:2] == (400, "BadRequestException")

    assert connect.delete_worker_configuration(workerConfigurationArn=arn)["workerConfigurationState"] == "DELETING"
    assert error_of(connect.describe_worker_configuration, workerConfigurationArn=arn)[:2] == (404, "NotFoundException")


def connector_request(name: str, plugin_arn: str, **overrides) -> dict:
    return {
        "connectorName": name,
        "capacity": {"provisionedCapacity": {"mcuCount": 1, "workerCount": 1}},
        "connectorConfiguration": {"connector.class": "io.debezium.connector.postgresql.PostgresConnector",
                                   "database.password": "${secretsmanager:db/debezium:password}"},
        "kafkaCluster": {"apacheKafkaCluster": {"bootstrapServers": "b-1:9098",
                                                "vpc": {"subnets": ["subnet-a"], "securityGroups": ["sg-a"]}}},
        "kafkaClusterClientAuthentication": {"authenticationType": "IAM"},
        "kafkaClusterEncryptionInTransit": {"encryptionType": "TLS"},
        "kafkaConnectVersion": "3.7.x",
        "plugins": [{"customPlugin": {"customPluginArn": plugin_arn, "revision": 1}}],
        "serviceExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/connector",
        **overrides,
    }


def test_connector_runs_with_what_it_was_given(aws, plugin_zip):
    connect = aws("kafkaconnect")
    plugin = connect.create_custom_plugin(name="for-connector", contentType="ZIP",
                                          location={"s3Location": plugin_zip})["customPluginArn"]
    worker = connect.create_worker_configuration(name="for-connector", propertiesFileContent="YT1i")
    worker_ref = {"workerConfigurationArn": worker["workerConfigurationArn"], "revision": 1}
    request = connector_request("postgres", plugin, workerConfiguration=worker_ref, tags={"team": "data"})

    created = connect.create_connector(**request)
    arn = created["connectorArn"]
    assert arn.startswith(f"arn:aws:kafkaconnect:us-east-1:{ACCOUNT}:connector/postgres/")
    described = connect.describe_connector(connectorArn=arn)
    assert described["connectorState"] == "RUNNING" and described["currentVersion"]
    for field in ("capacity", "connectorConfiguration", "kafkaCluster", "kafkaClusterClientAuthentication",
                  "kafkaClusterEncryptionInTransit", "kafkaConnectVersion", "plugins", "serviceExecutionRoleArn",
                  "workerConfiguration"):
        assert described[field] == request[field], field
    (listed,) = connect.list_connectors(connectorNamePrefix="post")["connectors"]
    assert listed["connectorArn"] == arn and "connectorConfiguration" not in listed
    assert connect.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "data"}
    assert error_of(connect.create_connector, **request)[:2] == (409, "ConflictException")

    assert connect.delete_connector(connectorArn=arn, currentVersion=described["currentVersion"])[
        "connectorState"] == "DELETING"
    assert error_of(connect.describe_connector, connectorArn=arn)[:2] == (404, "NotFoundException")
    assert error_of(connect.delete_connector, connectorArn=arn)[:2] == (404, "NotFoundException")
    assert connect.list_connectors(connectorNamePrefix="post")["connectors"] == []


def test_connector_needs_its_plugin_and_worker_configuration(aws):
    connect = aws("kafkaconnect")
    gone = f"arn:aws:kafkaconnect:us-east-1:{ACCOUNT}:custom-plugin/gone/00000000-0000-0000-0000-000000000000-1"
    assert error_of(connect.create_connector, **connector_request("orphan", gone))[:2] == (404, "NotFoundException")
    assert connect.list_connectors(connectorNamePrefix="orphan")["connectors"] == []


def test_tags_of_msk_connect_resources(aws, plugin_zip):
    connect = aws("kafkaconnect")
    arn = connect.create_custom_plugin(name="tagged", contentType="ZIP", location={"s3Location": plugin_zip},
                                       tags={"a": "1"})["customPluginArn"]
    connect.tag_resource(resourceArn=arn, tags={"b": "2", "c": "3"})
    connect.untag_resource(resourceArn=arn, tagKeys=["a", "c"])
    assert connect.list_tags_for_resource(resourceArn=arn)["tags"] == {"b": "2"}
    connect.delete_custom_plugin(customPluginArn=arn)
    for call, kwargs in ((connect.list_tags_for_resource, {}), (connect.tag_resource, {"tags": {"a": "1"}}),
                         (connect.untag_resource, {"tagKeys": ["a"]})):
        assert error_of(call, resourceArn=arn, **kwargs)[:2] == (404, "NotFoundException")


# ---- Glue ------------------------------------------------------------------------------------------------------


def test_glue_connection_can_be_deleted(aws):
    glue = aws("glue")
    glue.create_connection(ConnectionInput={"Name": "network", "ConnectionType": "NETWORK",
                                            "ConnectionProperties": {}})
    glue.delete_connection(ConnectionName="network")
    assert error_of(glue.get_connection, Name="network")[1] == "EntityNotFoundException"
    assert error_of(glue.delete_connection, ConnectionName="network")[:2] == (400, "EntityNotFoundException")
    assert [c["Name"] for c in glue.get_connections()["ConnectionList"]] == []


def test_a_job_run_that_ended_is_not_taken_for_alive():
    """A stopped run's process is a child of the endpoint: ended, it stays a zombie until reaped (BatchStopJobRun then
    reported it STOPPING for ever, and aws-destroy waited on it)."""
    from localaws.gluejobs import _process_start

    child = subprocess.Popen(["sh", "-c", "exit 0"])
    deadline = time.monotonic() + 10
    while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline, "the child did not end"
        time.sleep(0.05)
    assert _process_start(child.pid) is None
    assert not Path(f"/proc/{child.pid}").exists()  # reaped
    assert _process_start(os.getpid()) is not None


def test_a_job_runs_source_url_names_the_local_postgresql_for_an_aurora_endpoint_only(aws, tmp_path):
    from werkzeug.datastructures import MultiDict

    from localaws import api, runtime
    from localaws.gluejobs import local_jdbc_url

    cluster = aws("rds").create_db_cluster(DBClusterIdentifier="verify-source", Engine="aurora-postgresql",
                                           MasterUsername="admin", MasterUserPassword="secret-password",
                                           DatabaseName="shop")["DBCluster"]
    local = runtime.Runtime("host=127.0.0.1 user=postgres", "127.0.0.1:15432", "127.0.0.1:9092",
                            "http://127.0.0.1:8083", tmp_path, tmp_path, tmp_path)
    call = api.Call("glue", ACCOUNT, "us-east-1", {}, MultiDict())
    assert local_jdbc_url(call, f"jdbc:postgresql://{cluster['Endpoint']}:5432/shop", local) == \
        "jdbc:postgresql://127.0.0.1:15432/shop"
    assert local_jdbc_url(call, "jdbc:postgresql://db.example.com:5432/shop", local) == \
        "jdbc:postgresql://db.example.com:5432/shop"
