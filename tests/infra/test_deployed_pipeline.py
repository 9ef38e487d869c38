"""terraform/envs/local against the local AWS endpoint (python -m localaws: moto and what it lacks, `make local-up`):
plan the whole configuration, apply all of it (MSK and MSK Connect included), check it with boto3, destroy it, and
check that nothing is left.
"""

import base64
import json
import uuid
from pathlib import Path

import pytest

from stack.render import load_template, render_connector

ROOT = Path(__file__).resolve().parents[2]
LOCAL = "terraform/envs/local"


@pytest.fixture(scope="module")
def deployment(terraform, tree, endpoint, settings, tmp_path_factory):
    """The root configuration initialised with a state of its own, and the -var flags of this run."""
    state = tmp_path_factory.mktemp("state") / "local.tfstate"
    terraform.init(LOCAL, f"-backend-config=path={state}")
    name = "t" + uuid.uuid4().hex[:8]  # a name of its own: runs never collide on the shared endpoint
    kafka = f"{settings['KAFKA_HOST']}:{settings['KAFKA_PORT']}"
    flags = [f"-var=endpoint={endpoint}", f"-var=region={settings['AWS_REGION']}", f"-var=name={name}",
             f"-var=build_dir={tree / 'build'}", f"-var=kafka_bootstrap={kafka}"]
    return {"name": name, "flags": flags, "state": state, "destroyed": False}


def test_plan_covers_the_whole_configuration(terraform, deployment, tree):
    plan = tree / "whole.plan"
    terraform(LOCAL, "plan", "-input=false", f"-out={plan}", *deployment["flags"])
    planned = json.loads(terraform(LOCAL, "show", "-json", str(plan)))
    managed = [r for r in planned["resource_changes"] if r["mode"] == "managed"]
    types = {r["type"] for r in managed}
    for expected in ("aws_vpc", "aws_s3_bucket", "aws_rds_cluster", "aws_rds_cluster_parameter_group",
                     "aws_secretsmanager_secret", "aws_msk_cluster", "aws_msk_configuration",
                     "aws_mskconnect_custom_plugin", "aws_mskconnect_worker_configuration", "aws_mskconnect_connector",
                     "terraform_data", "aws_glue_job", "aws_glue_connection", "aws_glue_catalog_database"):
        assert expected in types
    assert all(r["change"]["actions"] == ["create"] for r in managed)


@pytest.fixture(scope="module")
def applied(terraform, deployment):
    terraform(LOCAL, "apply", "-input=false", "-auto-approve", *deployment["flags"], timeout=1200)
    outputs = json.loads(terraform(LOCAL, "output", "-json"))["pipeline"]["value"]
    yield outputs
    if not deployment["destroyed"]:  # a failed test left it: clean up all the same
        destroy(terraform, deployment)


def destroy(terraform, deployment):
    terraform(LOCAL, "destroy", "-input=false", "-auto-approve", *deployment["flags"], timeout=1200)
    deployment["destroyed"] = True


def test_vpc_has_private_subnets_in_two_zones(aws, applied):
    ec2 = aws("ec2")
    subnets = ec2.describe_subnets(SubnetIds=applied["private_subnet_ids"])["Subnets"]
    assert {s["VpcId"] for s in subnets} == {applied["vpc_id"]}
    assert len({s["AvailabilityZone"] for s in subnets}) == 2
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [applied["vpc_id"]]}])["VpcEndpoints"]
    services = {e["ServiceName"].rsplit(".", 1)[-1] for e in endpoints}
    assert {"s3", "secretsmanager", "sts", "logs", "glue"} <= services


def test_aurora_admits_only_the_connect_workers(aws, applied):
    groups = applied["security_group_ids"]
    (aurora,) = aws("ec2").describe_security_groups(GroupIds=[groups["aurora"]])["SecurityGroups"]
    rules = [(p["FromPort"], pair["GroupId"]) for p in aurora["IpPermissions"] for pair in p["UserIdGroupPairs"]]
    assert rules == [(5432, groups["connect"])]
    assert all(not p["IpRanges"] for p in aurora["IpPermissions"])


@pytest.mark.parametrize("bucket", ["lake_bucket", "artifacts_bucket"])
def test_buckets_are_encrypted_versioned_and_private(aws, applied, bucket):
    s3, name = aws("s3"), applied[bucket]
    rule = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"


def test_lake_lifecycle_moves_the_change_log_and_expires_quarantine(aws, applied):
    rules = {r["ID"]: r for r in aws("s3").get_bucket_lifecycle_configuration(Bucket=applied["lake_bucket"])["Rules"]}
    assert set(rules) == {"changelog-to-glacier-ir", "quarantine-expiry", "noncurrent-versions"}
    assert rules["changelog-to-glacier-ir"]["Transitions"][0]["StorageClass"] == "GLACIER_IR"
    assert "Expiration" not in rules["changelog-to-glacier-ir"]


def test_aurora_cluster_has_logical_replication_and_a_managed_password(aws, applied, deployment):
    rds = aws("rds")
    (cluster,) = rds.describe_db_clusters(DBClusterIdentifier=deployment["name"])["DBClusters"]
    assert cluster["Engine"] == "aurora-postgresql" and cluster["StorageEncrypted"]
    params = rds.describe_db_cluster_parameters(DBClusterParameterGroupName=cluster["DBClusterParameterGroup"])
    values = {p["ParameterName"]: p.get("ParameterValue") for p in params["Parameters"]}
    assert values["rds.logical_replication"] == "1"
    assert cluster["MasterUserSecret"]["SecretArn"] == applied["aurora_master_secret_arn"]
    assert all(not i["PubliclyAccessible"] for i in rds.describe_db_instances()["DBInstances"]
               if i.get("DBClusterIdentifier") == deployment["name"])


def test_replication_role_secret_exists(aws, applied, deployment, settings):
    secret = aws("secretsmanager").describe_secret(SecretId=applied["cdc_user_secret_arn"])
    assert secret["Name"] == f"{deployment['name']}/{settings['PG_CDC_USER']}"


def test_glue_job_runs_the_uploaded_script_with_the_pipeline_arguments(aws, applied, settings):
    job = aws("glue").get_job(JobName=applied["glue_job_name"])["Job"]
    assert job["GlueVersion"] == "5.0" and job["Command"]["Name"] == "gluestreaming"
    script = job["Command"]["ScriptLocation"]
    assert script == f"s3://{applied['artifacts_bucket']}/glue/cdc_to_lake.py"
    body = aws("s3").get_object(Bucket=applied["artifacts_bucket"], Key="glue/cdc_to_lake.py")["Body"].read()
    assert body == (ROOT / "python" / "glue" / "cdc_to_lake.py").read_bytes()
    args = job["DefaultArguments"]
    assert args["--kafka-bootstrap"] == applied["msk_bootstrap_brokers"]
    assert args["--topic-prefix"] == settings["TOPIC_PREFIX"]
    assert args["--lake-uri"] == f"s3://{applied['lake_bucket']}"
    assert args["--database"] == applied["glue_database"] and args["--catalog"] == "glue"
    assert args["--extra-py-files"] == f"s3://{applied['artifacts_bucket']}/glue/glue-job.zip"
    assert job["Connections"]["Connections"] == [f"{applied['glue_job_name']}-network"]


def test_glue_database_points_into_the_lake(aws, applied):
    database = aws("glue").get_database(Name=applied["glue_database"])["Database"]
    assert database["LocationUri"] == f"s3://{applied['lake_bucket']}/warehouse/{applied['glue_database']}.db"


@pytest.fixture(scope="module")
def msk_cluster(aws, applied, deployment):
    kafka = aws("kafka")
    (arn,) = [c["ClusterArn"] for c in kafka.list_clusters(ClusterNameFilter=deployment["name"])["ClusterInfoList"]
              if c["ClusterName"] == deployment["name"]]
    return kafka.describe_cluster(ClusterArn=arn)["ClusterInfo"]


def test_msk_cluster_is_active_with_iam_auth_encryption_and_broker_logs(aws, applied, deployment, msk_cluster,
                                                                         versions):
    assert msk_cluster["State"] == "ACTIVE"
    assert msk_cluster["CurrentBrokerSoftwareInfo"]["KafkaVersion"] == versions["MSK_KAFKA_VERSION"]
    assert msk_cluster["NumberOfBrokerNodes"] % len(applied["private_subnet_ids"]) == 0
    assert set(msk_cluster["BrokerNodeGroupInfo"]["ClientSubnets"]) == set(applied["private_subnet_ids"])
    assert msk_cluster["BrokerNodeGroupInfo"]["SecurityGroups"] == [applied["security_group_ids"]["msk"]]
    auth = msk_cluster["ClientAuthentication"]
    assert auth["Sasl"]["Iam"]["Enabled"] and not auth["Unauthenticated"]["Enabled"]
    encryption = msk_cluster["EncryptionInfo"]
    assert encryption["EncryptionAtRest"]["DataVolumeKMSKeyId"].startswith("arn:aws:kms:")
    assert encryption["EncryptionInTransit"] == {"ClientBroker": "TLS", "InCluster": True}
    logs = msk_cluster["LoggingInfo"]["BrokerLogs"]["CloudWatchLogs"]
    assert logs == {"Enabled": True, "LogGroup": f"/aws/msk/{deployment['name']}"}
    (group,) = aws("logs").describe_log_groups(logGroupNamePrefix=logs["LogGroup"])["logGroups"]
    assert group["logGroupName"] == logs["LogGroup"]
    brokers = aws("kafka").get_bootstrap_brokers(ClusterArn=msk_cluster["ClusterArn"])
    assert brokers["BootstrapBrokerStringSaslIam"] == applied["msk_bootstrap_brokers"]
    assert all(broker.endswith(":9098") for broker in applied["msk_bootstrap_brokers"].split(","))


def test_msk_configuration_lets_debezium_create_its_topics(aws, msk_cluster, deployment, versions):
    kafka, software = aws("kafka"), msk_cluster["CurrentBrokerSoftwareInfo"]
    configuration = kafka.describe_configuration(Arn=software["ConfigurationArn"])
    assert configuration["Name"] == deployment["name"] and configuration["State"] == "ACTIVE"
    assert configuration["KafkaVersions"] == [versions["MSK_KAFKA_VERSION"]]
    assert software["ConfigurationRevision"] == configuration["LatestRevision"]["Revision"]
    revision = software["ConfigurationRevision"]
    lines = kafka.describe_configuration_revision(Arn=configuration["Arn"], Revision=revision)[
        "ServerProperties"].decode().splitlines()
    properties = {key.strip(): value.strip() for key, value in (line.split("=", 1) for line in lines)}
    assert properties["auto.create.topics.enable"] == "true"


@pytest.fixture(scope="module")
def connector(aws, applied):
    return aws("kafkaconnect").describe_connector(connectorArn=applied["connector_arn"])


def test_msk_connect_plugin_is_the_packaged_zip_in_the_artifacts_bucket(aws, applied, connector, tree):
    (plugin_ref,) = connector["plugins"]
    plugin = aws("kafkaconnect").describe_custom_plugin(customPluginArn=plugin_ref["customPlugin"]["customPluginArn"])
    assert plugin["customPluginState"] == "ACTIVE"
    assert plugin_ref["customPlugin"]["revision"] == plugin["latestRevision"]["revision"]
    assert plugin["latestRevision"]["contentType"] == "ZIP"
    location = plugin["latestRevision"]["location"]["s3Location"]
    assert location["bucketArn"] == f"arn:aws:s3:::{applied['artifacts_bucket']}"
    assert location["fileKey"] == "msk-connect/debezium-connector-postgres.zip"
    s3 = aws("s3")
    uploaded = s3.get_object(Bucket=applied["artifacts_bucket"], Key=location["fileKey"],
                             VersionId=location["objectVersion"])["Body"].read()
    assert uploaded == (tree / "build" / "aws" / "debezium-connector-postgres.zip").read_bytes()


def test_msk_connect_worker_configuration_names_the_secrets_manager_provider(aws, connector, settings):
    reference = connector["workerConfiguration"]
    worker = aws("kafkaconnect").describe_worker_configuration(
        workerConfigurationArn=reference["workerConfigurationArn"])
    assert worker["workerConfigurationState"] == "ACTIVE"
    assert reference["revision"] == worker["latestRevision"]["revision"]
    lines = base64.b64decode(worker["latestRevision"]["propertiesFileContent"]).decode().splitlines()
    properties = dict(line.split("=", 1) for line in lines if line)
    assert properties["key.converter"] == properties["value.converter"] == "org.apache.kafka.connect.json.JsonConverter"
    assert properties["config.providers"] == "secretsmanager"
    assert properties["config.providers.secretsmanager.class"]
    assert properties["config.providers.secretsmanager.param.region"] == settings["AWS_REGION"]


def test_msk_connect_connector_runs_the_template_with_a_secret_reference(aws, applied, connector, env_example,
                                                                        deployment, versions):
    assert connector["connectorState"] == "RUNNING"
    assert connector["connectorName"] == f"{deployment['name']}-{env_example['CONNECTOR_NAME']}"
    assert connector["kafkaConnectVersion"] == versions["MSK_CONNECT_VERSION"]
    cluster = connector["kafkaCluster"]["apacheKafkaCluster"]
    assert cluster["bootstrapServers"] == applied["msk_bootstrap_brokers"]
    assert set(cluster["vpc"]["subnets"]) == set(applied["private_subnet_ids"])
    assert cluster["vpc"]["securityGroups"] == [applied["security_group_ids"]["connect"]]
    assert connector["kafkaClusterClientAuthentication"] == {"authenticationType": "IAM"}
    assert connector["kafkaClusterEncryptionInTransit"] == {"encryptionType": "TLS"}

    secret = aws("secretsmanager").describe_secret(SecretId=applied["cdc_user_secret_arn"])["Name"]
    (aurora,) = aws("rds").describe_db_clusters(DBClusterIdentifier=deployment["name"])["DBClusters"]
    # the template rendered with the pipeline's settings (.env.example's values) and the deployment's database
    expected = render_connector(load_template(ROOT / "connectors" / "postgres-source.json.tmpl"), {
        **env_example, "CONNECTOR_DB_HOST": applied["aurora_endpoint"], "CONNECTOR_DB_PORT": str(aurora["Port"]),
        "CONNECTOR_DB_PASSWORD_REF": f"${{secretsmanager:{secret}:password}}"})
    config = connector["connectorConfiguration"]
    assert config == expected
    assert config["database.password"] == f"${{secretsmanager:{secret}:password}}"
    assert env_example["PG_CDC_PASSWORD"] not in json.dumps(config)


def test_destroy_leaves_nothing_behind(terraform, aws, applied, deployment, msk_cluster, connector):
    destroy(terraform, deployment)
    name = deployment["name"]
    assert aws("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"] == []
    assert [b["Name"] for b in aws("s3").list_buckets()["Buckets"] if b["Name"].startswith(f"{name}-")] == []
    assert [c for c in aws("rds").describe_db_clusters()["DBClusters"] if c["DBClusterIdentifier"] == name] == []
    assert [s for s in aws("secretsmanager").list_secrets()["SecretList"] if s["Name"].startswith(f"{name}/")] == []
    assert [r for r in aws("iam").list_roles()["Roles"] if r["RoleName"].startswith(f"{name}-")] == []
    assert [j for j in aws("glue").get_jobs()["Jobs"] if j["Name"].startswith(f"{name}-")] == []
    assert [c for c in aws("glue").get_connections()["ConnectionList"] if c["Name"].startswith(f"{name}-")] == []
    kafka, connect = aws("kafka"), aws("kafkaconnect")
    assert [c for c in kafka.list_clusters()["ClusterInfoList"] if c["ClusterArn"] == msk_cluster["ClusterArn"]] == []
    configuration = msk_cluster["CurrentBrokerSoftwareInfo"]["ConfigurationArn"]
    assert [c for c in kafka.list_configurations()["Configurations"] if c["Arn"] == configuration] == []
    assert [c for c in connect.list_connectors()["connectors"] if c["connectorArn"] == applied["connector_arn"]] == []
    plugin = connector["plugins"][0]["customPlugin"]["customPluginArn"]
    assert [p for p in connect.list_custom_plugins()["customPlugins"] if p["customPluginArn"] == plugin] == []
    worker = connector["workerConfiguration"]["workerConfigurationArn"]
    assert [w for w in connect.list_worker_configurations()["workerConfigurations"]
            if w["workerConfigurationArn"] == worker] == []
    assert [r for r in aws("iam").list_roles()["Roles"]
            if r["Arn"] == connector["serviceExecutionRoleArn"]] == []
