"""The deployment, deployed and run on this machine: `make aws-apply TARGET=local` against the local AWS endpoint
(python -m localaws: moto and what it lacks, `make local-up`), the same sequence as `make aws-apply TARGET=aws`:
infrastructure, the database bootstrapped through the RDS Data API, the connector on the local Kafka Connect worker,
the Glue job's run as spark-submit of the uploaded script. With the local stack's own connector and job stopped, the
changes committed in PostgreSQL must arrive in the lake the deployed job writes, row for row; the deployment is
checked with boto3 against what Terraform was asked for; `make aws-destroy TARGET=local` must leave no connector on the
worker, no job process, no slot, no resource. Before all that, a plan of the whole configuration.
"""

import base64
import json
import os
import subprocess
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pytest
import requests

from stack.lakecheck import settle
from stack.render import load_template, render_connector

ROOT = Path(__file__).resolve().parents[2]
LOCAL = "terraform/envs/local"
PRODUCER_TABLES = {"customers": {"profile"}, "orders": {"details"}}


@pytest.fixture(scope="module")
def deployment(terraform, tree, endpoint, settings, tmp_path_factory):
    """A name of the deployment's own (never the same twice on the shared endpoint), the names it gives its role,
    publication, slot and topics in the local stack (envs/local), and a plan's state and flags."""
    state = tmp_path_factory.mktemp("state") / "local.tfstate"
    terraform.init(LOCAL, f"-backend-config=path={state}")
    name = "t" + uuid.uuid4().hex[:8]
    kafka = f"{settings['KAFKA_HOST']}:{settings['KAFKA_PORT']}"
    flags = [f"-var=endpoint={endpoint}", f"-var=region={settings['AWS_REGION']}", f"-var=name={name}",
             f"-var=build_dir={tree / 'build'}", f"-var=kafka_bootstrap={kafka}"]
    return {"name": name, "flags": flags, "state": state, "destroyed": False, "cdc_user": f"{name}_debezium",
            "publication": f"{name}_publication", "slot": f"{name}_slot", "topic_prefix": name}


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


def make(target: str, name: str, *variables: str, timeout: int = 1800) -> str:
    """`make <target> TARGET=local [VAR=value...]` as a user runs it, the deployment named `name`."""
    env = {**os.environ, "TF_VAR_name": name}
    proc = subprocess.run(["make", "--no-print-directory", target, "TARGET=local", *variables], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"make {target} TARGET=local exited {proc.returncode}:\n{proc.stdout[-6000:]}\n"
                    f"{proc.stderr[-6000:]}")
    return proc.stdout + proc.stderr


def connect(path: str, method: str = "GET") -> requests.Response:
    return requests.request(method, f"http://{os.environ['CONNECT_HOST']}:{os.environ['CONNECT_PORT']}{path}",
                            timeout=30)


def supervise(*args: str) -> None:
    subprocess.run(["bash", "-c", '. scripts/lib.sh && supervisorctl "$@"', "supervise", *args], cwd=ROOT,
                   check=True, capture_output=True)


@pytest.fixture(scope="module")
def local_pipeline_stopped(settings):
    """The local stack's own connector, job and maintenance stopped, so that only the deployed ones carry changes; back
    after."""
    native = settings["CONNECTOR_NAME"]
    connect(f"/connectors/{native}/stop", "PUT").raise_for_status()
    supervise("stop", "glue", "maintenance")
    yield
    connect(f"/connectors/{native}/resume", "PUT").raise_for_status()
    supervise("start", "glue", "maintenance")


@pytest.fixture(scope="module")
def applied(local_pipeline_stopped, deployment, settings):
    deployment["apply_log"] = make("aws-apply", deployment["name"])
    state_dir = Path(os.environ["STATE_DIR"])
    outputs = json.loads((state_dir / "terraform" / "local.outputs.json").read_text())["pipeline"]["value"]
    yield outputs
    if not deployment["destroyed"]:  # a failed test left it: clean up all the same
        destroy(deployment)


def destroy(deployment):
    deployment["destroy_log"] = make("aws-destroy", deployment["name"])
    deployment["destroyed"] = True


def test_vpc_has_private_subnets_in_three_zones(aws, applied):
    ec2 = aws("ec2")
    subnets = ec2.describe_subnets(SubnetIds=applied["private_subnet_ids"])["Subnets"]
    assert {s["VpcId"] for s in subnets} == {applied["vpc_id"]}
    assert len({s["AvailabilityZone"] for s in subnets}) == 3
    assert not any(s["MapPublicIpOnLaunch"] for s in subnets)
    endpoints = ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [applied["vpc_id"]]}])["VpcEndpoints"]
    services = {e["ServiceName"].rsplit(".", 1)[-1] for e in endpoints}
    assert {"s3", "secretsmanager", "sts", "logs", "glue", "monitoring"} <= services


def test_aurora_admits_only_the_connect_workers_and_the_glue_jobs(aws, applied):
    groups = applied["security_group_ids"]
    (aurora,) = aws("ec2").describe_security_groups(GroupIds=[groups["aurora"]])["SecurityGroups"]
    rules = [(p["FromPort"], pair["GroupId"]) for p in aurora["IpPermissions"] for pair in p["UserIdGroupPairs"]]
    assert sorted(rules) == sorted([(5432, groups["connect"]), (5432, groups["glue"])])
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


def test_the_bootstrap_generated_the_replication_role_and_its_password_into_its_secret(aws, applied, deployment,
                                                                                         settings):
    secrets = aws("secretsmanager")
    assert secrets.describe_secret(SecretId=applied["cdc_user_secret_arn"])["Name"] == \
        f"{deployment['name']}/{deployment['cdc_user']}"
    value = json.loads(secrets.get_secret_value(SecretId=applied["cdc_user_secret_arn"])["SecretString"])
    assert value["username"] == deployment["cdc_user"] and len(value["password"]) >= 32
    assert value["password"] not in deployment["apply_log"]  # never printed
    # the role, made through the RDS Data API in the local PostgreSQL, logs in with it and may stream the WAL
    with psycopg2.connect(host=settings["PG_HOST"], port=settings["PG_PORT"], dbname="shop", user=value["username"],
                          password=value["password"]) as conn, conn.cursor() as cur:
        cur.execute("SELECT rolreplication FROM pg_roles WHERE rolname = current_user")
        assert cur.fetchone() == (True,)
        cur.execute("SELECT puballtables, pubname FROM pg_publication WHERE pubname = %s", (deployment["publication"],))
        assert cur.fetchone() == (False, deployment["publication"])
        cur.execute("SELECT count(*) FROM pg_publication_namespace pn JOIN pg_publication p ON p.oid = pn.pnpubid "
                    "JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE p.pubname = %s AND n.nspname = 'shop'",
                    (deployment["publication"],))
        assert cur.fetchone() == (1,)
    conn.close()


def test_glue_job_runs_the_uploaded_script_with_the_pipeline_arguments(aws, applied, deployment):
    job = aws("glue").get_job(JobName=applied["glue_job_name"])["Job"]
    assert job["GlueVersion"] == "5.0" and job["Command"]["Name"] == "gluestreaming"
    script = job["Command"]["ScriptLocation"]
    assert script == f"s3://{applied['artifacts_bucket']}/glue/cdc_to_lake.py"
    body = aws("s3").get_object(Bucket=applied["artifacts_bucket"], Key="glue/cdc_to_lake.py")["Body"].read()
    assert body == (ROOT / "python" / "glue" / "cdc_to_lake.py").read_bytes()
    args = job["DefaultArguments"]
    assert args["--kafka-bootstrap"] == applied["msk_bootstrap_brokers"]
    assert args["--topic-prefix"] == deployment["topic_prefix"]
    assert args["--conf"] == "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
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
    # the local Kafka stands in for the brokers (plaintext: MSK's TLS and IAM are not emulated)
    assert brokers["BootstrapBrokerStringSaslIam"] == applied["msk_bootstrap_brokers"] == \
        f"{os.environ['KAFKA_HOST']}:{os.environ['KAFKA_PORT']}"


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


def test_msk_connect_plugin_is_the_packaged_zip_in_the_artifacts_bucket(aws, applied, connector):
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
    assert uploaded == (Path(os.environ["BUILD_DIR"]) / "aws" / "debezium-connector-postgres.zip").read_bytes()


def test_msk_connect_worker_configuration_names_the_secrets_manager_provider(aws, applied, connector, settings):
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
    assert properties["offset.storage.topic"] == applied["connect_offset_storage_topic"]


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
    # the template rendered with the pipeline's settings (.env.example's values, and the deployment's own role,
    # publication, slot and topics beside the local stack's) and the deployment's database
    expected = render_connector(load_template(ROOT / "connectors" / "postgres-source.json.tmpl"), {
        **env_example, "PG_CDC_USER": deployment["cdc_user"], "PG_PUBLICATION": deployment["publication"],
        "PG_SLOT": deployment["slot"], "TOPIC_PREFIX": deployment["topic_prefix"],
        "CONNECTOR_DB_HOST": applied["aurora_endpoint"], "CONNECTOR_DB_PORT": str(aurora["Port"]),
        "CONNECTOR_DB_PASSWORD_REF": f"${{secretsmanager:{secret}:password}}"})
    config = connector["connectorConfiguration"]
    assert config == expected
    assert config["database.password"] == f"${{secretsmanager:{secret}:password}}"
    assert env_example["PG_CDC_PASSWORD"] not in json.dumps(config)


def test_the_connector_runs_on_the_local_worker_with_its_database_mapped(applied, connector, settings):
    name = connector["connectorName"]
    status = connect(f"/connectors/{name}/status").json()
    assert status["connector"]["state"] == "RUNNING" and [t["state"] for t in status["tasks"]] == ["RUNNING"]
    config = connect(f"/connectors/{name}/config").json()
    assert (config["database.hostname"], config["database.port"]) == (settings["PG_HOST"], settings["PG_PORT"])
    assert config["offsets.storage.topic"] == applied["connect_offset_storage_topic"]


def spark_applications() -> list[str]:
    """The command lines of the Spark applications running on this machine (spark-submit execs this JVM), whole: ps
    cuts long ones short, and a Spark command line holds its class path."""
    lines = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:  # ended meanwhile
            continue
        line = " ".join(a.decode(errors="replace") for a in args)
        if "org.apache.spark.deploy.SparkSubmit" in line:
            lines.append(line)
    return lines


def test_the_job_run_is_a_spark_process_of_the_downloaded_script(aws, applied, deployment):
    (run,) = [r for r in aws("glue").get_job_runs(JobName=applied["glue_job_name"])["JobRuns"]
              if r["JobRunState"] == "RUNNING"]
    (spark,) = [p for p in spark_applications() if f"/{run['Id']}/cdc_to_lake.py" in p]
    assert "--kafka-auth none" in spark and f"--topic-prefix {deployment['topic_prefix']}" in spark


@pytest.fixture(scope="module")
def deployed_lake(applied, endpoint, settings):
    """A Spark session reading the lake the deployed job writes: its Glue catalog and S3 on the local endpoint."""
    from glue import run_local
    from glue.options import JobOptions
    from glue.session import build_session

    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_REGION=settings["AWS_REGION"],
                      TZ="UTC")
    time.tzset()
    opts = JobOptions.from_mapping({
        "kafka-bootstrap": "unused:9092", "topic-prefix": "unused", "lake-uri": f"s3://{applied['lake_bucket']}",
        "catalog": "glue", "database": applied["glue_database"], "s3-endpoint": endpoint, "glue-endpoint": endpoint,
        "region": settings["AWS_REGION"]}, env={})
    spark = build_session(opts, extra={
        "spark.master": "local[1]", "spark.driver.memory": "1g", "spark.ui.enabled": "false",
        "spark.driver.extraClassPath": run_local.class_path(run_local.Settings(os.environ))})
    spark.sparkContext.setLogLevel("ERROR")
    yield spark, f"`{opts.catalog_name}`.`{opts.database}`"
    spark.stop()


def assert_mirrors_equal_their_sources(deployed_lake, settings):
    """Every producer table's mirror in the deployed lake settles to its source row for row."""
    dsn = (f"host={settings['PG_HOST']} port={settings['PG_PORT']} dbname={settings['PG_DATABASE']} "
           f"user={settings['PG_APP_USER']} password={settings['PG_APP_PASSWORD']}")
    for table, json_columns in PRODUCER_TABLES.items():
        assert settle(deployed_lake, dsn, settings["PG_SCHEMA"], table, ["id"], json_columns, timeout=600) == []


def test_inserts_updates_and_deletes_arrive_in_the_deployed_lake_row_for_row(applied, deployed_lake, settings):
    supervise("stop", "producer")  # one writer, whose changes all arrive before the lake is compared
    try:
        subprocess.run([os.environ["VENV"] + "/bin/python", "-m", "producer", "run", "--quiet", "--count", "3000",
                        "--rate", "0", "--seed", "41"], cwd=ROOT, check=True)
        assert_mirrors_equal_their_sources(deployed_lake, settings)
    finally:
        supervise("start", "producer")


def test_the_scheduled_maintenance_job_compacts_the_deployed_lake_and_it_still_equals_the_source(
        aws, applied, deployed_lake, settings):
    glue = aws("glue")
    job = glue.get_job(JobName=applied["glue_maintenance_job_name"])["Job"]
    assert job["Command"]["ScriptLocation"] == f"s3://{applied['artifacts_bucket']}/glue/maintain_lake.py"
    assert job["DefaultArguments"] == glue.get_job(JobName=applied["glue_job_name"])["Job"]["DefaultArguments"]
    (trigger,) = glue.get_triggers(DependentJobName=job["Name"])["Triggers"]
    assert (trigger["Type"], trigger["State"], trigger["Schedule"]) == ("SCHEDULED", "ACTIVATED", "cron(0/5 * * * ? *)")
    # a round that starts from now on has the previous tests' changes to compact (one before them may have had none)
    since = datetime.now(UTC)
    deadline = time.monotonic() + 900  # the next time the schedule names, and a round over the lake
    while True:
        runs = [r for r in glue.get_job_runs(JobName=job["Name"])["JobRuns"] if r["StartedOn"] >= since]
        failed = [r for r in runs if r["JobRunState"] == "FAILED"]
        assert not failed, failed[0].get("ErrorMessage")
        if any(r["JobRunState"] == "SUCCEEDED" for r in runs):
            break
        assert time.monotonic() < deadline, f"no scheduled round succeeded: {[r['JobRunState'] for r in runs]}"
        time.sleep(5)
    spark, namespace = deployed_lake
    spark.sql(f"REFRESH TABLE {namespace}.orders")  # the session's catalog caches what it loaded
    operations = {r.operation for r in spark.sql(f"SELECT operation FROM {namespace}.orders.snapshots").collect()}
    assert "replace" in operations  # a compaction committed
    supervise("stop", "producer")  # a source that stands still, so that the comparison can settle
    try:
        assert_mirrors_equal_their_sources(deployed_lake, settings)
    finally:
        supervise("start", "producer")


def test_athena_has_its_workgroup_and_the_catalog_tables_it_would_read(aws, applied):
    group = aws("athena").get_work_group(WorkGroup=applied["athena_workgroup"])["WorkGroup"]
    assert group["Configuration"]["EnforceWorkGroupConfiguration"] is True
    results = group["Configuration"]["ResultConfiguration"]
    assert results["OutputLocation"] == applied["athena_results_location"]
    assert results["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    tables = {t["Name"]: t for t in aws("glue").get_tables(DatabaseName=applied["glue_database"])["TableList"]}
    for name in PRODUCER_TABLES:  # registered by the deployed job's Iceberg catalog, as Athena reads them
        assert tables[name]["Parameters"]["table_type"].upper() == "ICEBERG", tables[name]
        assert tables[name]["Parameters"]["metadata_location"].startswith(f"s3://{applied['lake_bucket']}/")


def test_make_aws_sql_counts_the_deployed_lake_as_the_source_counts(applied, deployed_lake, deployment, settings):
    supervise("stop", "producer")  # a source that stands still, so that the two counts are of the same rows
    try:
        dsn = (f"host={settings['PG_HOST']} port={settings['PG_PORT']} dbname={settings['PG_DATABASE']} "
               f"user={settings['PG_APP_USER']} password={settings['PG_APP_PASSWORD']}")
        assert settle(deployed_lake, dsn, settings["PG_SCHEMA"], "orders", ["id"], PRODUCER_TABLES["orders"],
                      timeout=600) == []
        with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute(f"SELECT count(*) FROM {settings['PG_SCHEMA']}.orders WHERE status = 'pending'")
            pending = cur.fetchone()[0]
        conn.close()
        printed = make("aws-sql", deployment["name"], "Q=select count(*) as pending from orders where status = "
                                                      "'pending'")
        assert printed.split().count(str(pending)) == 1 and "pending" in printed and "(1 rows)" in printed, printed
    finally:
        supervise("start", "producer")


def verification(aws, job_name: str, timeout: float = 900) -> float:
    """A run of the verification job to its end (after a scheduled one that runs, if any): the LakeDrift it
    published."""
    glue, cloudwatch = aws("glue"), aws("cloudwatch")
    deadline = time.monotonic() + timeout
    while True:
        try:
            run_id = glue.start_job_run(JobName=job_name)["JobRunId"]
            break
        except glue.exceptions.ConcurrentRunsExceededException:
            assert time.monotonic() < deadline, "a scheduled verification did not end"
            time.sleep(5)
    started = datetime.now(UTC)
    while (run := glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"])["JobRunState"] in ("STARTING",
                                                                                                   "RUNNING"):
        assert time.monotonic() < deadline, f"verification run {run_id} still {run['JobRunState']}"
        time.sleep(5)
    assert run["JobRunState"] == "SUCCEEDED", run.get("ErrorMessage")
    deployment = glue.get_job(JobName=job_name)["Job"]["DefaultArguments"]["--deployment"]
    points = cloudwatch.get_metric_statistics(
        Namespace="CdcLake", MetricName="LakeDrift", Dimensions=[{"Name": "Deployment", "Value": deployment}],
        StartTime=started, EndTime=datetime.now(UTC), Period=60, Statistics=["Maximum"])["Datapoints"]
    assert points, f"verification run {run_id} published no LakeDrift"
    return max(p["Maximum"] for p in points)


def test_the_scheduled_verification_publishes_no_drift_while_changes_flow_and_the_drift_of_one_cent(
        aws, applied, deployed_lake, settings):
    job_name = applied["glue_verify_job_name"]
    (trigger,) = aws("glue").get_triggers(DependentJobName=job_name)["Triggers"]
    assert (trigger["Type"], trigger["State"]) == ("SCHEDULED", "ACTIVATED")
    assert verification(aws, job_name) == 0  # the stack's producer writes all along
    supervise("stop", "producer")  # a lake that stands still while one of its rows is changed behind its back
    try:
        assert_mirrors_equal_their_sources(deployed_lake, settings)  # the job has applied all: it commits no more
        spark, namespace = deployed_lake
        spark.sql(f"REFRESH TABLE {namespace}.orders")
        (victim,) = spark.sql(f"SELECT min(id) AS id FROM {namespace}.orders").collect()
        spark.sql(f"UPDATE {namespace}.orders SET amount = amount + 0.01 WHERE id = {victim.id}")
        assert verification(aws, job_name) == 1
        log = (Path(os.environ["STATE_DIR"]) / "logs" / f"glue-{job_name}.log").read_text()
        assert 'orders: DRIFT 1 of' in log and f'{{"id":{victim.id}}} amount: source' in log
    finally:
        supervise("start", "producer")


def test_destroy_leaves_nothing_behind(aws, applied, deployment, msk_cluster, connector, settings):
    destroy(deployment)
    assert "dropped slot" in deployment["destroy_log"] and "stopping" in deployment["destroy_log"]
    name = deployment["name"]
    assert aws("ec2").describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"] == []
    assert [b["Name"] for b in aws("s3").list_buckets()["Buckets"] if b["Name"].startswith(f"{name}-")] == []
    assert [c for c in aws("rds").describe_db_clusters()["DBClusters"] if c["DBClusterIdentifier"] == name] == []
    assert [s for s in aws("secretsmanager").list_secrets()["SecretList"] if s["Name"].startswith(f"{name}/")] == []
    assert [r for r in aws("iam").list_roles()["Roles"] if r["RoleName"].startswith(f"{name}-")] == []
    assert [j for j in aws("glue").get_jobs()["Jobs"] if j["Name"].startswith(f"{name}-")] == []
    assert [c for c in aws("glue").get_connections()["ConnectionList"] if c["Name"].startswith(f"{name}-")] == []
    kafka, msk_connect = aws("kafka"), aws("kafkaconnect")
    assert [c for c in kafka.list_clusters()["ClusterInfoList"] if c["ClusterArn"] == msk_cluster["ClusterArn"]] == []
    configuration = msk_cluster["CurrentBrokerSoftwareInfo"]["ConfigurationArn"]
    assert [c for c in kafka.list_configurations()["Configurations"] if c["Arn"] == configuration] == []
    connectors = msk_connect.list_connectors()["connectors"]
    assert [c for c in connectors if c["connectorArn"] == applied["connector_arn"]] == []
    plugin = connector["plugins"][0]["customPlugin"]["customPluginArn"]
    assert [p for p in msk_connect.list_custom_plugins()["customPlugins"] if p["customPluginArn"] == plugin] == []
    worker = connector["workerConfiguration"]["workerConfigurationArn"]
    assert [w for w in msk_connect.list_worker_configurations()["workerConfigurations"]
            if w["workerConfigurationArn"] == worker] == []
    assert [r for r in aws("iam").list_roles()["Roles"]
            if r["Arn"] == connector["serviceExecutionRoleArn"]] == []
    # nothing runs any more: no connector on the worker, no job process, no slot, publication or role
    assert connector["connectorName"] not in connect("/connectors").json()
    assert not [p for p in spark_applications() if f"--topic-prefix {name} " in p + " "]
    with psycopg2.connect(host=settings["PG_HOST"], port=settings["PG_PORT"], dbname=settings["PG_DATABASE"],
                          user=settings["PG_APP_USER"], password=settings["PG_APP_PASSWORD"]) as conn, \
            conn.cursor() as cur:
        cur.execute("SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = %s), "
                    "(SELECT count(*) FROM pg_publication WHERE pubname = %s), "
                    "(SELECT count(*) FROM pg_roles WHERE rolname = %s)",
                    (deployment["slot"], deployment["publication"], deployment["cdc_user"]))
        assert cur.fetchone() == (0, 0, 0)
    conn.close()
