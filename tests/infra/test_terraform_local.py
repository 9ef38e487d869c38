"""terraform/envs/local against the local AWS endpoint (moto, `make local-up`): plan everything, apply what the
endpoint can serve, check it with boto3, destroy, and check that nothing is left.

What the endpoint cannot serve, and so is planned here but never applied:
- MSK (aws_msk_cluster, aws_msk_configuration): the emulator never reports a cluster ACTIVE and has no
  CreateConfiguration, so create_msk is false for the apply and the Glue job reads the local Kafka instead;
- MSK Connect (aws_mskconnect_*): the emulator has no such API at all;
- deleting a Glue connection: the emulator has no DeleteConnection, so the connection is taken out of the state
  before destroy and is the one thing left behind (named in the assertion).
"""

import json
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCAL = "terraform/envs/local"
NOT_DELETABLE_HERE = "module.pipeline.module.glue.aws_glue_connection.this"


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
    terraform(LOCAL, "plan", "-input=false", "-var=create_msk=true", f"-out={plan}", *deployment["flags"])
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
    terraform(LOCAL, "state", "rm", NOT_DELETABLE_HERE)
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
    assert args["--kafka-bootstrap"] == f"{settings['KAFKA_HOST']}:{settings['KAFKA_PORT']}"
    assert args["--topic-prefix"] == settings["TOPIC_PREFIX"]
    assert args["--lake-uri"] == f"s3://{applied['lake_bucket']}"
    assert args["--database"] == applied["glue_database"] and args["--catalog"] == "glue"
    assert args["--extra-py-files"] == f"s3://{applied['artifacts_bucket']}/glue/glue-job.zip"
    assert job["Connections"]["Connections"] == [f"{applied['glue_job_name']}-network"]


def test_glue_database_points_into_the_lake(aws, applied):
    database = aws("glue").get_database(Name=applied["glue_database"])["Database"]
    assert database["LocationUri"] == f"s3://{applied['lake_bucket']}/warehouse/{applied['glue_database']}.db"


def test_destroy_leaves_nothing_behind(terraform, aws, applied, deployment):
    destroy(terraform, deployment)
    name = deployment["name"]
    assert aws("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"] == []
    assert [b["Name"] for b in aws("s3").list_buckets()["Buckets"] if b["Name"].startswith(f"{name}-")] == []
    assert [c for c in aws("rds").describe_db_clusters()["DBClusters"] if c["DBClusterIdentifier"] == name] == []
    assert [s for s in aws("secretsmanager").list_secrets()["SecretList"] if s["Name"].startswith(f"{name}/")] == []
    assert [r for r in aws("iam").list_roles()["Roles"] if r["RoleName"].startswith(f"{name}-")] == []
    assert [j for j in aws("glue").get_jobs()["Jobs"] if j["Name"].startswith(f"{name}-")] == []
    # the emulator cannot delete a Glue connection (no DeleteConnection): it is the one thing left
    left = [c["Name"] for c in aws("glue").get_connections()["ConnectionList"] if c["Name"].startswith(f"{name}-")]
    assert left == [f"{name}-cdc-to-lake-network"]
