"""cloudformation.yaml says what terraform/ says: the settings that matter, read from both files and compared.

Terraform is read with python-hcl2 (literal values and variable defaults), the template with cfn-lint's loader
(which keeps !Ref, !Sub and !GetAtt as data). The connector configuration is compared with the one source of
connector settings, connectors/postgres-source.json.tmpl, rendered with .env.example's values.
"""

import json
import re
from pathlib import Path

import hcl2
import pytest
from cfnlint.decode import cfn_yaml

from stack.render import load_template, render_connector

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "terraform" / "modules"


def unquote(value):
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def tf(module: str, file: str = "main.tf") -> dict:
    return hcl2.load((MODULES / module / file).open())


def tf_resource(module: str, rtype: str, name: str = "this") -> dict:
    for block in tf(module).get("resource", []):
        for key, body in block.items():
            if unquote(key) == rtype and f'"{name}"' in body:
                return body[f'"{name}"']
    raise KeyError(f"{module}: {rtype}.{name}")


def tf_default(module: str, variable: str):
    for block in tf(module, "variables.tf")["variable"]:
        for key, body in block.items():
            if unquote(key) == variable:
                return body["default"]
    raise KeyError(f"{module}: var.{variable}")


def only(blocks: list) -> dict:
    (block,) = blocks
    return block


def tf_defaults(module: str) -> dict:
    return {unquote(k): unquote(body.get("default")) for block in tf(module, "variables.tf")["variable"]
            for k, body in block.items()}


def tf_value(module: str, value):
    """A literal, or "${var.x}" / "${tostring(var.x)}" resolved to the variable's default."""
    value = unquote(value)
    if isinstance(value, str):
        match = re.fullmatch(r"\$\{(?:tostring\()?var\.([a-z0-9_]+)\)?\}", value)
        if match:
            return tf_defaults(module)[match.group(1)]
    return value


def tf_statements(module: str, document: str = "this") -> dict[str, dict]:
    """The statements of a data.aws_iam_policy_document, dynamic ones included, by Sid."""
    for block in tf(module).get("data", []):
        for key, bodies in block.items():
            if unquote(key) == "aws_iam_policy_document" and f'"{document}"' in bodies:
                body = bodies[f'"{document}"']
                statements = list(body.get("statement", []))
                for dynamic in body.get("dynamic", []):
                    statements += [c for d in dynamic.values() for c in d["content"]]
                return {unquote(st["sid"]): st for st in statements if "sid" in st}
    raise KeyError(f"{module}: data.aws_iam_policy_document.{document}")


def tf_actions(statement: dict) -> set[str]:
    return {unquote(a) for a in statement["actions"]}


def cfn_statements(document: dict) -> dict[str, dict]:
    return {st["Sid"]: st for st in document["Statement"] if "Sid" in st}


def cfn_actions(statement: dict) -> set[str]:
    action = statement["Action"]
    return set(action if isinstance(action, list) else [action])


def role_policy(cfn: dict, role: str) -> dict:
    return only(props(cfn, role)["Policies"])["PolicyDocument"]


def resources_of_type(cfn: dict, rtype: str) -> dict[str, dict]:
    return {name: r for name, r in cfn["Resources"].items() if r["Type"] == rtype}


def dims(cfn_dimensions: list) -> list[str]:
    return sorted(d["Name"] for d in cfn_dimensions)


@pytest.fixture(scope="module")
def cfn() -> dict:
    return cfn_yaml.load(str(ROOT / "cloudformation.yaml"))


def props(cfn: dict, name: str) -> dict:
    return cfn["Resources"][name]["Properties"]


def resolve(value, cfn: dict, placeholders: dict[str, str]):
    """A CloudFormation value with parameter defaults for !Ref, placeholders for !GetAtt and !Sub's references."""
    params = {k: p.get("Default") for k, p in cfn["Parameters"].items()}
    if isinstance(value, dict) and "Ref" in value:
        return params[value["Ref"]]
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        att = value["Fn::GetAtt"]
        return placeholders[".".join(att) if isinstance(att, list) else att]
    if isinstance(value, dict) and "Fn::Sub" in value:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        # a variable of the list form is given by its placeholder (its value is an intrinsic)
        known = {**params, **{k: placeholders.get(k) for k in variables}}
        text = re.sub(r"\$\{([A-Za-z0-9:.]+)\}",
                      lambda m: str(known.get(m.group(1), placeholders.get(m.group(1)))), text)
        return text.replace("${!", "${")
    return value


# ---- Aurora ----------------------------------------------------------------------------------------------------------


def test_logical_replication_and_logging_parameters(cfn):
    tf_params = {unquote(p["name"]): str(tf_value("aurora", p["value"]))
                 for p in tf_resource("aurora", "aws_rds_cluster_parameter_group")["parameter"]}
    assert tf_params["rds.logical_replication"] == "1"
    assert props(cfn, "DbClusterParameterGroup")["Parameters"] == tf_params


def test_a_stuck_slot_cannot_fill_the_storage(cfn):
    # max_slot_wal_keep_size is in MB: 10 GB by default in both
    tf_params = {unquote(p["name"]): tf_value("aurora", p["value"])
                 for p in tf_resource("aurora", "aws_rds_cluster_parameter_group")["parameter"]}
    assert tf_params["max_slot_wal_keep_size"] == tf_defaults("aurora")["max_slot_wal_keep_size_mb"] == 10240
    assert props(cfn, "DbClusterParameterGroup")["Parameters"]["max_slot_wal_keep_size"] == "10240"


def test_the_data_api_is_enabled(cfn):
    cluster = tf_resource("aurora", "aws_rds_cluster")
    assert tf_value("aurora", cluster["enable_http_endpoint"]) is True
    assert props(cfn, "DbCluster")["EnableHttpEndpoint"] is True


def test_an_automatic_minor_upgrade_plans_no_downgrade(cfn):
    # Terraform ignores the engine version once created, and the instances do not name one; CloudFormation compares
    # the template with the last template, never with the cluster, and its instance names no version either
    cluster = tf_resource("aurora", "aws_rds_cluster")
    assert "engine_version" in only(cluster["lifecycle"])["ignore_changes"]
    instance = tf_resource("aurora", "aws_rds_cluster_instance")
    assert "engine_version" not in instance
    assert instance["auto_minor_version_upgrade"] is True and props(cfn, "DbInstance")["AutoMinorVersionUpgrade"]
    assert "EngineVersion" not in props(cfn, "DbInstance")


def test_the_data_api_arns_are_outputs(cfn):
    aurora = {unquote(k) for b in tf("aurora", "outputs.tf")["output"] for k in b}
    assert {"cluster_arn", "master_user_secret_arn", "cdc_user_secret_arn"} <= aurora
    pipeline = {unquote(k) for b in tf("pipeline", "outputs.tf")["output"] for k in b}
    assert {"aurora_cluster_arn", "aurora_master_secret_arn", "cdc_user_secret_arn"} <= pipeline
    for root in ("aws", "local"):
        outputs = {unquote(k) for b in hcl2.load((ROOT / "terraform/envs" / root / "outputs.tf").open())["output"]
                   for k in b}
        assert {"aurora_cluster_arn", "aurora_master_secret_arn", "cdc_user_secret_arn"} <= outputs, root
    assert cfn["Outputs"]["AuroraClusterArn"]["Value"] == {"Fn::GetAtt": ["DbCluster", "DBClusterArn"]}
    assert {"AuroraMasterSecretArn", "CdcUserSecretArn"} <= set(cfn["Outputs"])


def test_aurora_cluster_settings(cfn):
    cluster = tf_resource("aurora", "aws_rds_cluster")
    cfn_cluster = props(cfn, "DbCluster")
    assert unquote(cluster["engine"]) == cfn_cluster["Engine"] == "aurora-postgresql"
    assert cluster["manage_master_user_password"] is True and cfn_cluster["ManageMasterUserPassword"] is True
    assert cluster["storage_encrypted"] is True and cfn_cluster["StorageEncrypted"] is True
    assert cluster["iam_database_authentication_enabled"] is True and cfn_cluster["EnableIAMDatabaseAuthentication"]
    exports = [unquote(x) for x in cluster["enabled_cloudwatch_logs_exports"]]
    assert exports == cfn_cluster["EnableCloudwatchLogsExports"]
    assert tf_default("aurora", "backup_retention_days") == cfn_cluster["BackupRetentionPeriod"]
    assert tf_default("aurora", "master_username").strip('"') == cfn_cluster["MasterUsername"]
    instance = tf_resource("aurora", "aws_rds_cluster_instance")
    assert instance["publicly_accessible"] is False and props(cfn, "DbInstance")["PubliclyAccessible"] is False
    assert tf_default("aurora", "monitoring_interval") == props(cfn, "DbInstance")["MonitoringInterval"]


# ---- S3 -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bucket", ["LakeBucket", "ArtifactsBucket"])
def test_bucket_encryption_public_access_and_versioning(cfn, bucket):
    sse = only(only(tf_resource("s3", "aws_s3_bucket_server_side_encryption_configuration")["rule"])
               ["apply_server_side_encryption_by_default"])
    cfn_rule = only(props(cfn, bucket)["BucketEncryption"]["ServerSideEncryptionConfiguration"])
    assert unquote(sse["sse_algorithm"]) == cfn_rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert cfn_rule["BucketKeyEnabled"] is True
    pab = tf_resource("s3", "aws_s3_bucket_public_access_block")
    tf_pab = {k: pab[k] for k in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                                  "restrict_public_buckets")}
    assert set(tf_pab.values()) == {True}
    assert set(props(cfn, bucket)["PublicAccessBlockConfiguration"].values()) == {True}
    versioning = only(tf_resource("s3", "aws_s3_bucket_versioning")["versioning_configuration"])
    assert unquote(versioning["status"]) == props(cfn, bucket)["VersioningConfiguration"]["Status"] == "Enabled"
    ownership = only(tf_resource("s3", "aws_s3_bucket_ownership_controls")["rule"])
    cfn_ownership = only(props(cfn, bucket)["OwnershipControls"]["Rules"])["ObjectOwnership"]
    assert unquote(ownership["object_ownership"]) == cfn_ownership


def test_lifecycle_days(cfn):
    rules = {r["Id"]: r for r in props(cfn, "LakeBucket")["LifecycleConfiguration"]["Rules"]}
    assert only(rules["changelog-to-glacier-ir"]["Transitions"]) == {
        "StorageClass": "GLACIER_IR", "TransitionInDays": tf_default("s3", "changelog_transition_days")}
    assert rules["quarantine-expiry"]["ExpirationInDays"] == tf_default("s3", "quarantine_expiration_days")
    assert rules["quarantine-expiry"]["Prefix"] == unquote(tf_default("s3", "quarantine_prefix"))
    assert rules["noncurrent-versions"]["NoncurrentVersionExpiration"]["NoncurrentDays"] == tf_default(
        "s3", "noncurrent_version_expiration_days")
    assert "ExpirationInDays" not in rules["changelog-to-glacier-ir"], "never expire the Iceberg change log by age"


# ---- MSK and MSK Connect ---------------------------------------------------------------------------------------------


def test_msk_authentication_encryption_and_logs(cfn):
    cluster = tf_resource("msk", "aws_msk_cluster")
    cfn_cluster = props(cfn, "MskCluster")
    auth = only(cluster["client_authentication"])
    assert only(auth["sasl"])["iam"] is True and auth["unauthenticated"] is False
    assert cfn_cluster["ClientAuthentication"] == {"Sasl": {"Iam": {"Enabled": True}},
                                                   "Unauthenticated": {"Enabled": False}}
    transit = only(only(cluster["encryption_info"])["encryption_in_transit"])
    assert {"ClientBroker": unquote(transit["client_broker"]), "InCluster": transit["in_cluster"]} == \
        cfn_cluster["EncryptionInfo"]["EncryptionInTransit"] == {"ClientBroker": "TLS", "InCluster": True}
    public = only(only(only(cluster["broker_node_group_info"])["connectivity_info"])["public_access"])
    assert unquote(public["type"]) == cfn_cluster["BrokerNodeGroupInfo"]["ConnectivityInfo"]["PublicAccess"]["Type"]
    logs = only(only(only(cluster["logging_info"])["broker_logs"])["cloudwatch_logs"])
    assert logs["enabled"] is True and cfn_cluster["LoggingInfo"]["BrokerLogs"]["CloudWatchLogs"]["Enabled"] is True
    assert tf_default("msk", "number_of_broker_nodes") == cfn_cluster["NumberOfBrokerNodes"]
    storage = cfn_cluster["BrokerNodeGroupInfo"]["StorageInfo"]["EBSStorageInfo"]
    assert tf_default("msk", "volume_size") == storage["VolumeSize"]


def test_msk_server_properties(cfn):
    tf_props = {unquote(k): unquote(v) for k, v in tf_default("msk", "server_properties").items()}
    cfn_props = dict(line.split(" = ") for line in props(cfn, "MskConfiguration")["ServerProperties"].splitlines())
    assert tf_props == cfn_props
    assert tf_props["auto.create.topics.enable"] == "true"


def test_acks_all_needs_two_of_three_replicas_on_three_brokers_in_three_zones(cfn):
    tf_props = {unquote(k): unquote(v) for k, v in tf_default("msk", "server_properties").items()}
    brokers = tf_default("msk", "number_of_broker_nodes")
    assert 2 <= int(tf_props["min.insync.replicas"]) < int(tf_props["default.replication.factor"]) <= brokers
    assert (tf_props["default.replication.factor"], tf_props["min.insync.replicas"], brokers) == ("3", "2", 3)
    assert props(cfn, "MskCluster")["NumberOfBrokerNodes"] == brokers
    # brokers are a multiple of the zones: Terraform checks it at plan, both spread over three zones
    checks = [p["condition"] for p in tf_resource("msk", "aws_msk_cluster")["lifecycle"][0]["precondition"]]
    assert "${var.number_of_broker_nodes % length(var.subnet_ids) == 0}" in checks
    assert tf_defaults("pipeline")["availability_zone_count"] == 3 and tf_defaults("pipeline")["msk_broker_count"] == 3
    subnets = props(cfn, "MskCluster")["BrokerNodeGroupInfo"]["ClientSubnets"]
    assert len(subnets) == 3 and brokers % len(subnets) == 0
    zones = {json.dumps(props(cfn, f"PrivateSubnet{i}")["AvailabilityZone"]) for i in (1, 2, 3)}
    assert len(zones) == 3


def test_worker_configuration(cfn):
    tf_text = only(tf("msk_connect")["locals"])["worker_properties"]
    tf_lines = [line.strip() for line in tf_text.splitlines() if "=" in line]
    cfn_text = props(cfn, "WorkerConfiguration")["PropertiesFileContent"]["Fn::Base64"]["Fn::Sub"]
    cfn_lines = [line.strip() for line in cfn_text.splitlines() if line.strip()]
    # the offset topic is <connector>-connect-offsets on both sides (Terraform's connector: <name>-CONNECTOR_NAME)
    tf_names = {"${data.aws_region.current.name}": "<region>",
                "${local.offset_storage_topic}": "<connector>-connect-offsets"}
    cfn_names = {"${AWS::Region}": "<region>", "${Name}-${ConnectorName}": "<connector>"}
    tf_lines = [re.sub(r"\$\{[^}]+\}", lambda m: tf_names[m.group(0)], line) for line in tf_lines]
    cfn_lines = [re.sub(r"\$\{Name\}-\$\{ConnectorName\}|\$\{[^}]+\}", lambda m: cfn_names[m.group(0)], line)
                 for line in cfn_lines]
    assert tf_lines == cfn_lines
    offsets = only(tf("msk_connect")["locals"])["offset_storage_topic"]
    assert offsets == "${coalesce(var.offset_storage_topic, \"${var.name}-connect-offsets\")}"
    assert tf_defaults("msk_connect")["offset_storage_topic"] is None


def test_msk_connect_workers_batch_records_as_the_local_worker_does():
    def producer_lines(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip().startswith("producer.")]

    local = producer_lines((ROOT / "config" / "connect-worker.properties.tmpl").read_text())
    assert local and producer_lines(only(tf("msk_connect")["locals"])["worker_properties"]) == local


def test_a_replaced_connector_keeps_its_offsets(cfn):
    # offset.storage.topic in the worker configuration, kept config providers, and the role may use that topic
    tf_text = only(tf("msk_connect")["locals"])["worker_properties"]
    assert "offset.storage.topic=${local.offset_storage_topic}" in tf_text
    assert "config.providers=secretsmanager" in tf_text
    topics = only(tf("msk_connect")["locals"])["topic_arns"]
    assert any(unquote(t).endswith("/${local.offset_storage_topic}") for t in topics)
    own = tf_statements("msk_connect")["OwnTopics"]
    assert {"kafka-cluster:CreateTopic", "kafka-cluster:DescribeTopicDynamicConfiguration",
            "kafka-cluster:ReadData", "kafka-cluster:WriteData"} <= tf_actions(own)
    cfn_text = props(cfn, "WorkerConfiguration")["PropertiesFileContent"]["Fn::Base64"]["Fn::Sub"]
    assert "offset.storage.topic=${Name}-${ConnectorName}-connect-offsets" in cfn_text.splitlines()
    assert "config.providers=secretsmanager" in cfn_text
    cfn_own = cfn_statements(role_policy(cfn, "ConnectRole"))["OwnTopics"]
    assert cfn_actions(cfn_own) == tf_actions(own)
    assert "/${Name}-${ConnectorName}-connect-offsets" in json.dumps(cfn_own["Resource"])
    # the same name, so the new connector finds the old one's offsets (MSK Connect keys them by connector name)
    assert unquote(tf_resource("msk_connect", "aws_mskconnect_connector")["name"]) == "${var.name}"


def test_connector_configuration_is_the_template_rendered(cfn, env_example):
    placeholders = {"DbCluster.Endpoint.Address": "<host>", "DbCluster.Endpoint.Port": "<port>",
                    "Name": cfn["Parameters"]["Name"]["Default"], "Id": "<stack-id>"}
    cfn_config = {k: resolve(v, cfn, placeholders)
                  for k, v in props(cfn, "Connector")["ConnectorConfiguration"].items()}
    # the secret is named after the stack's ID (it is retained), and the reference names the same secret
    secret = f"{placeholders['Name']}-<stack-id>/{env_example['PG_CDC_USER']}"
    assert resolve(props(cfn, "CdcUserSecret")["Name"], cfn, placeholders) == secret
    rendered = render_connector(load_template(ROOT / "connectors" / "postgres-source.json.tmpl"), {
        **env_example, "CONNECTOR_DB_HOST": "<host>", "CONNECTOR_DB_PORT": "<port>",
        "CONNECTOR_DB_PASSWORD_REF": f"${{secretsmanager:{secret}:password}}"})
    assert cfn_config == rendered
    # and Terraform's module builds the same reference (by secret name, never the ARN: Kafka splits on colons)
    assert "${secretsmanager:${var.db_secret_name}:password}" in json.dumps(tf("msk_connect")["locals"])


def test_connector_runs_with_iam_and_tls(cfn):
    connector = tf_resource("msk_connect", "aws_mskconnect_connector")
    cfn_connector = props(cfn, "Connector")
    assert unquote(only(connector["kafka_cluster_client_authentication"])["authentication_type"]) == \
        cfn_connector["KafkaClusterClientAuthentication"]["AuthenticationType"] == "IAM"
    assert unquote(only(connector["kafka_cluster_encryption_in_transit"])["encryption_type"]) == \
        cfn_connector["KafkaClusterEncryptionInTransit"]["EncryptionType"] == "TLS"


# ---- Glue ------------------------------------------------------------------------------------------------------------


def tf_job_arguments() -> str:
    """The default arguments both Glue jobs get (local.default_arguments), as HCL text."""
    return only(tf("glue")["locals"])["default_arguments"]


def test_glue_job(cfn):
    job = tf_resource("glue", "aws_glue_job")
    cfn_job = props(cfn, "GlueJob")
    command = only(job["command"])
    assert unquote(command["name"]) == cfn_job["Command"]["Name"] == "gluestreaming"
    assert unquote(tf_default("glue", "worker_type")) == cfn_job["WorkerType"]
    assert tf_default("glue", "number_of_workers") == cfn_job["NumberOfWorkers"]
    assert job["default_arguments"] == "${local.default_arguments}"
    tf_args = set(re.findall(r'"(--[a-z-]+)"', tf_job_arguments()))
    tf_args |= {"--kafka-bootstrap", "--topic-prefix"}  # from var.job_arguments (the pipeline module)
    assert tf_args == set(cfn_job["DefaultArguments"])
    connection = tf_resource("glue", "aws_glue_connection")
    cfn_type = props(cfn, "GlueConnection")["ConnectionInput"]["ConnectionType"]
    assert unquote(connection["connection_type"]) == cfn_type == "NETWORK"


def test_maintenance_job_runs_on_a_schedule_with_what_the_streaming_job_gets(cfn):
    job, cfn_job = tf_resource("glue", "aws_glue_job", "maintenance"), props(cfn, "MaintenanceJob")
    assert unquote(only(job["command"])["name"]) == cfn_job["Command"]["Name"] == "glueetl"
    assert cfn_job["Command"]["ScriptLocation"] == {"Fn::Sub": "s3://${ArtifactsBucket}/glue/maintain_lake.py"}
    assert tf_default("glue", "maintenance_workers") == cfn_job["NumberOfWorkers"]
    assert tf_default("glue", "maintenance_timeout_minutes") == cfn_job["Timeout"]
    assert only(job["execution_property"])["max_concurrent_runs"] == cfn_job["ExecutionProperty"]["MaxConcurrentRuns"]
    assert job["default_arguments"] == "${local.default_arguments}"
    # the options glue.options reads, and Iceberg's SQL extensions (CALL); not Glue's metrics and logs options
    streaming = props(cfn, "GlueJob")["DefaultArguments"]
    assert {k: v for k, v in streaming.items() if k in cfn_job["DefaultArguments"]} == cfn_job["DefaultArguments"]
    assert {"--lake-uri", "--catalog", "--database", "--conf", "--extra-py-files"} <= set(cfn_job["DefaultArguments"])
    trigger, cfn_trigger = tf_resource("glue", "aws_glue_trigger", "maintenance"), props(cfn, "MaintenanceTrigger")
    assert unquote(trigger["type"]) == cfn_trigger["Type"] == "SCHEDULED"
    assert unquote(tf_default("glue", "maintenance_schedule")) == cfn_trigger["Schedule"]
    assert trigger["start_on_creation"] is cfn_trigger["StartOnCreation"] is True
    assert only(cfn_trigger["Actions"]) == {"JobName": {"Ref": "MaintenanceJob"}}


def test_verification_job_runs_on_a_schedule_with_the_maintenance_arguments_and_the_sources(cfn):
    job, cfn_job = tf_resource("glue", "aws_glue_job", "verify"), props(cfn, "VerifyJob")
    assert unquote(only(job["command"])["name"]) == cfn_job["Command"]["Name"] == "glueetl"
    assert cfn_job["Command"]["ScriptLocation"] == {"Fn::Sub": "s3://${ArtifactsBucket}/glue/verify_lake.py"}
    assert job["number_of_workers"] == "${var.maintenance_workers}"
    assert tf_default("glue", "maintenance_workers") == cfn_job["NumberOfWorkers"]
    assert tf_default("glue", "maintenance_timeout_minutes") == cfn_job["Timeout"]
    source_options = {"--source-jdbc-url", "--source-secret-id", "--source-schema", "--slot-name", "--deployment",
                      "--metric-namespace"}
    assert set(re.findall(r'"(--[a-z-]+)"', job["default_arguments"])) == source_options
    maintenance = props(cfn, "MaintenanceJob")["DefaultArguments"]
    cfn_args = cfn_job["DefaultArguments"]
    assert {k: v for k, v in cfn_args.items() if k in maintenance} == maintenance
    # beyond the maintenance job's: MSK's IAM auth (it reads the topics' ends), as the streaming job has it, and the
    # source's options (the namespace is the script's default, CdcLake, as Terraform's)
    kafka = {"--kafka-auth", "--extra-jars"}
    streaming = props(cfn, "GlueJob")["DefaultArguments"]
    assert {k: cfn_args[k] for k in kafka} == {k: streaming[k] for k in kafka}
    assert set(cfn_args) - set(maintenance) == kafka | source_options - {"--metric-namespace"}
    assert cfn_args["--source-secret-id"] == {"Ref": "CdcUserSecret"}
    assert cfn_args["--slot-name"] == {"Ref": "PgSlot"} and cfn_args["--deployment"] == {"Ref": "Name"}
    trigger, cfn_trigger = tf_resource("glue", "aws_glue_trigger", "verify"), props(cfn, "VerifyTrigger")
    assert unquote(tf_default("glue", "verify_schedule")) == cfn_trigger["Schedule"]
    assert trigger["start_on_creation"] is cfn_trigger["StartOnCreation"] is True
    assert only(cfn_trigger["Actions"]) == {"JobName": {"Ref": "VerifyJob"}}
    # the drift alarm looks at one run's value for as long as the schedule's interval
    assert props(cfn, "LakeDriftAlarm")["Period"] == 3600 and cfn_trigger["Schedule"].startswith("cron(15 * * * ")


def test_the_verification_reads_the_source_as_the_replication_role(cfn):
    tf_secret = tf_statements("glue")["SourceSecret"]
    assert tf_actions(tf_secret) == {"secretsmanager:GetSecretValue"}
    assert [unquote(r) for r in tf_secret["resources"]] == ["${var.source_secret_arn}"]
    cfn_secret = cfn_statements(role_policy(cfn, "GlueRole"))["SourceSecret"]
    assert cfn_actions(cfn_secret) == tf_actions(tf_secret) and cfn_secret["Resource"] == {"Ref": "CdcUserSecret"}
    # Terraform's secret is encrypted with the project's key, CloudFormation's with aws/secretsmanager
    assert unquote(only(tf_statements("glue")["SourceSecretKey"]["condition"])["variable"]) == "kms:ViaService"


def test_glue_session_has_the_iceberg_sql_extensions(cfn):
    # a static Spark setting, with Glue's Iceberg libraries (python/glue/README.md, "On AWS Glue")
    extensions = "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
    text = tf_job_arguments()
    assert f'"--conf" = "{extensions}"' in text and '"--datalake-formats" = "iceberg"' in text
    args = props(cfn, "GlueJob")["DefaultArguments"]
    assert args["--conf"] == extensions and args["--datalake-formats"] == "iceberg"


NETWORK_ACTIONS = {  # what AWSGlueServiceRole grants a job with a NETWORK connection, here by statement
    "Connection": {"glue:GetConnection", "glue:GetConnections"},
    "DescribeNetwork": {"ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
                        "ec2:DescribeVpcs", "ec2:DescribeVpcEndpoints", "ec2:DescribeRouteTables"},
    "DescribeVpcAttribute": {"ec2:DescribeVpcAttribute"},
    "CreateJobNetworkInterfaces": {"ec2:CreateNetworkInterface"},
    "DeleteJobNetworkInterfaces": {"ec2:DeleteNetworkInterface"},
    "TagJobNetworkInterfaces": {"ec2:CreateTags", "ec2:DeleteTags"},
}


def test_glue_role_can_start_a_job_with_a_network_connection(cfn):
    tf_role, cfn_role = tf_statements("glue"), cfn_statements(role_policy(cfn, "GlueRole"))
    for sid, actions in NETWORK_ACTIONS.items():
        assert tf_actions(tf_role[sid]) == cfn_actions(cfn_role[sid]) == actions, sid
    # tags only the ENIs, only with Glue's own key, as the managed policy does
    condition = only(tf_role["TagJobNetworkInterfaces"]["condition"])
    assert (unquote(condition["test"]), unquote(condition["variable"]), [unquote(v) for v in condition["values"]]) == \
        ("ForAllValues:StringEquals", "aws:TagKeys", ["aws-glue-service-resource"])
    assert cfn_role["TagJobNetworkInterfaces"]["Condition"] == {
        "ForAllValues:StringEquals": {"aws:TagKeys": ["aws-glue-service-resource"]}}
    assert [unquote(r) for r in tf_role["DescribeNetwork"]["resources"]] == ["*"]
    assert "network-interface/*" in json.dumps(cfn_role["DeleteJobNetworkInterfaces"]["Resource"])


def test_glue_role_may_publish_glue_and_lake_metrics_only(cfn):
    metrics = tf_statements("glue")["Metrics"]
    condition = only(metrics["condition"])
    assert unquote(condition["variable"]) == "cloudwatch:namespace"
    assert [unquote(v) for v in condition["values"]] == ["Glue", "${var.lake_metric_namespace}"]
    assert tf_defaults("glue")["lake_metric_namespace"] == tf_defaults("pipeline")["lake_metric_namespace"] == \
        "CdcLake"
    cfn_metrics = cfn_statements(role_policy(cfn, "GlueRole"))["Metrics"]
    assert cfn_actions(cfn_metrics) == {"cloudwatch:PutMetricData"}
    assert cfn_metrics["Condition"] == {"StringEquals": {"cloudwatch:namespace": ["Glue", "CdcLake"]}}


def test_glue_role_reads_the_buckets_through_the_projects_key(cfn):
    key = tf_statements("glue")["BucketKey"]
    assert tf_actions(key) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert unquote(only(key["condition"])["variable"]) == "kms:ViaService"
    cfn_key = cfn_statements(role_policy(cfn, "GlueRole"))["BucketKey"]
    assert cfn_actions(cfn_key) == tf_actions(key) and cfn_key["Resource"] == {"Fn::GetAtt": ["KmsKey", "Arn"]}
    assert list(cfn_key["Condition"]["StringEquals"]) == ["kms:ViaService"]


# ---- Network ---------------------------------------------------------------------------------------------------------


def test_security_group_flows(cfn):
    names = {"AuroraSecurityGroup": "aurora", "MskSecurityGroup": "msk", "ConnectSecurityGroup": "connect",
             "GlueSecurityGroup": "glue", "EndpointsSecurityGroup": "endpoints"}
    ports = {"${var.postgres_port}": tf_default("vpc", "postgres_port"),
             "${var.kafka_iam_port}": tf_default("vpc", "kafka_iam_port")}
    flows = only(tf("vpc")["locals"])["flows"].values()
    tf_flows = {(unquote(f["from"]), unquote(f["to"]), ports.get(f["port"], f["port"])) for f in flows}
    cfn_flows = {(names[p["SourceSecurityGroupId"]["Ref"]], names[p["GroupId"]["Ref"]], p["FromPort"])
                 for r in cfn["Resources"].values() if r["Type"] == "AWS::EC2::SecurityGroupIngress"
                 for p in [r["Properties"]] if p["SourceSecurityGroupId"] != p["GroupId"]}
    assert tf_flows == cfn_flows
    cidr_ingress = [n for n, r in cfn["Resources"].items()
                    if r["Type"] == "AWS::EC2::SecurityGroupIngress" and "CidrIp" in r["Properties"]]
    assert cidr_ingress == [], "nothing is opened to an address range"


def test_glue_publishes_metrics_through_a_monitoring_endpoint(cfn):
    # the job runs with --enable-metrics in private subnets without NAT: CloudWatch only through an endpoint
    services = {unquote(s) for s in tf_default("vpc", "interface_endpoints")}
    cfn_services = {r["Properties"]["ServiceName"]["Fn::Sub"].rsplit(".", 1)[-1]
                    for r in resources_of_type(cfn, "AWS::EC2::VPCEndpoint").values()
                    if r["Properties"]["VpcEndpointType"] == "Interface"}
    assert "monitoring" in services and services == cfn_services


# ---- The project's key and the flow logs ------------------------------------------------------------------------


def test_flow_logs_land_in_a_bucket_whose_key_log_delivery_may_use(cfn):
    # the AWS-managed aws/s3 key's policy cannot be changed, so delivery.logs.amazonaws.com could not encrypt with it
    pipeline = tf("pipeline")["module"]
    s3 = next(m['"s3"'] for m in pipeline if '"s3"' in m)
    assert s3["kms_key_arn"] == "${module.kms.key_arn}"
    vpc = next(m['"vpc"'] for m in pipeline if '"vpc"' in m)
    assert vpc["flow_log_destination_arn"] == "${module.s3.artifacts_bucket_arn}"
    tf_key = tf_statements("kms")
    delivery = tf_key["FlowLogDelivery"]
    assert {unquote(i) for p in delivery["principals"] for i in p["identifiers"]} == {"delivery.logs.amazonaws.com"}
    assert {"kms:GenerateDataKey*", "kms:Decrypt"} <= tf_actions(delivery)
    cfn_key = cfn_statements(props(cfn, "KmsKey")["KeyPolicy"])
    assert cfn_key["FlowLogDelivery"]["Principal"] == {"Service": "delivery.logs.amazonaws.com"}
    assert cfn_actions(cfn_key["FlowLogDelivery"]) == tf_actions(delivery)
    assert set(cfn_key) == set(tf_key)
    assert tf_resource("kms", "aws_kms_key")["enable_key_rotation"] is True
    assert props(cfn, "KmsKey")["EnableKeyRotation"]
    for bucket in ("LakeBucket", "ArtifactsBucket"):
        rule = only(props(cfn, bucket)["BucketEncryption"]["ServerSideEncryptionConfiguration"])
        assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {"Fn::GetAtt": ["KmsKey", "Arn"]}
    assert props(cfn, "FlowLog")["LogDestination"] == {"Fn::GetAtt": ["ArtifactsBucket", "Arn"]}


# ---- Monitoring ----------------------------------------------------------------------------------------------------


def tf_alarm(name: str) -> dict:
    return tf_resource("monitoring", "aws_cloudwatch_metric_alarm", name)


def tf_threshold(alarm: dict):
    return tf_value("monitoring", alarm["threshold"])


ALARMS = {  # Terraform alarm -> CloudFormation alarm
    "slot_lag": "SlotLagAlarm", "transaction_logs": "TransactionLogsAlarm",
    "connector_errored_tasks": "ConnectorErroredTasksAlarm", "connector_running_tasks": "ConnectorRunningTasksAlarm",
    "glue_batch_time": "GlueBatchTimeAlarm", "lake_drift": "LakeDriftAlarm",
}


@pytest.mark.parametrize("tf_name", ALARMS)
def test_alarm_watches_the_same_metric_the_same_way(cfn, tf_name):
    alarm, cfn_alarm = tf_alarm(tf_name), props(cfn, ALARMS[tf_name])
    namespace = tf_value("monitoring", alarm["namespace"])
    namespace = tf_defaults("monitoring")["lake_metric_namespace"] if namespace == "${var.lake_metric_namespace}" \
        else namespace
    assert (namespace, unquote(alarm["metric_name"])) == (cfn_alarm["Namespace"], cfn_alarm["MetricName"])
    tf_dimensions = alarm["dimensions"]
    if tf_dimensions == "${local.glue_dimensions}":
        tf_dimensions = tf("monitoring")["locals"][0]["glue_dimensions"]
    assert sorted(tf_dimensions) == dims(cfn_alarm["Dimensions"])
    for key, cfn_key in (("statistic", "Statistic"), ("comparison_operator", "ComparisonOperator"),
                         ("treat_missing_data", "TreatMissingData")):
        assert unquote(alarm[key]) == cfn_alarm[cfn_key], key
    assert (alarm["period"], alarm["evaluation_periods"]) == (cfn_alarm["Period"], cfn_alarm["EvaluationPeriods"])
    assert tf_threshold(alarm) == cfn_alarm["Threshold"]
    assert alarm["alarm_actions"] == alarm["ok_actions"] == "${local.actions}"
    assert cfn_alarm["AlarmActions"] == cfn_alarm["OKActions"] == [{"Ref": "AlarmTopic"}]


def test_the_pipeline_passes_the_modules_default_thresholds():
    thresholds = {unquote(k): v for k, v in tf_defaults("pipeline")["alarm_thresholds"].items()}
    monitoring = tf_defaults("monitoring")
    assert thresholds == {"slot_lag_bytes": monitoring["slot_lag_threshold_bytes"],
                          "transaction_logs_bytes": monitoring["transaction_logs_threshold_bytes"],
                          "batch_processing_ms": monitoring["batch_processing_threshold_ms"]}


def test_aurora_alarms_watch_the_slot_and_the_transaction_logs_of_each_instance(cfn):
    for name, metric in (("slot_lag", "OldestReplicationSlotLag"), ("transaction_logs", "TransactionLogsDiskUsage")):
        alarm = tf_alarm(name)
        assert unquote(alarm["namespace"]) == "AWS/RDS" and unquote(alarm["metric_name"]) == metric
        assert alarm["for_each"] == "${toset(var.db_instance_identifiers)}"
        assert alarm["dimensions"] == {"DBInstanceIdentifier": "${each.key}"}
        assert props(cfn, ALARMS[name])["Dimensions"] == [
            {"Name": "DBInstanceIdentifier", "Value": {"Ref": "DbInstance"}}]
    # alarmed before max_slot_wal_keep_size (10 GB) invalidates the slot
    assert tf_threshold(tf_alarm("slot_lag")) < tf_defaults("aurora")["max_slot_wal_keep_size_mb"] * 1024 * 1024


def test_connector_alarms_catch_a_failed_task_and_a_missing_connector(cfn):
    errored, running = tf_alarm("connector_errored_tasks"), tf_alarm("connector_running_tasks")
    assert unquote(errored["metric_name"]) == "ErroredTaskCount" and tf_threshold(errored) == 0
    assert unquote(errored["comparison_operator"]) == "GreaterThanThreshold"
    assert unquote(running["metric_name"]) == "RunningTaskCount" and tf_threshold(running) == 1
    assert unquote(running["comparison_operator"]) == "LessThanThreshold"
    assert unquote(running["treat_missing_data"]) == "breaching"  # a connector that reports nothing is down
    for alarm in (errored, running):
        assert unquote(alarm["namespace"]) == "AWS/KafkaConnect"
        assert alarm["dimensions"] == {"ConnectorName": "${var.connector_name}"}
        assert alarm["count"] == "${local.with_connector ? 1 : 0}"
    for name in ("ConnectorErroredTasksAlarm", "ConnectorRunningTasksAlarm"):
        assert cfn["Resources"][name]["Condition"] == "WithBrokers"
        assert props(cfn, name)["Dimensions"] == [
            {"Name": "ConnectorName", "Value": {"Fn::Sub": "${Name}-${ConnectorName}"}}]


def test_glue_job_failures_go_to_the_topic(cfn):
    rule = tf_resource("monitoring", "aws_cloudwatch_event_rule", "glue_job_failed")
    pattern = rule["event_pattern"]
    for piece in ('source = ["aws.glue"]', '"detail-type" = ["Glue Job State Change"]',
                  "jobName = compact([var.glue_job_name, var.glue_maintenance_job_name, var.glue_verify_job_name])",
                  'state = ["FAILED", "TIMEOUT", "ERROR"]'):
        assert piece in pattern, piece
    target = tf_resource("monitoring", "aws_cloudwatch_event_target", "glue_job_failed")
    assert target["arn"] == "${aws_sns_topic.this.arn}"
    cfn_rule = props(cfn, "GlueJobFailedRule")
    assert cfn_rule["EventPattern"] == {"source": ["aws.glue"], "detail-type": ["Glue Job State Change"],
                                        "detail": {"jobName": [{"Fn::Sub": "${Name}-cdc-to-lake"},
                                                               {"Fn::Sub": "${Name}-cdc-to-lake-maintenance"},
                                                               {"Fn::Sub": "${Name}-cdc-to-lake-verify"}],
                                                   "state": ["FAILED", "TIMEOUT", "ERROR"]}}
    assert only(cfn_rule["Targets"])["Arn"] == {"Ref": "AlarmTopic"}
    # EventBridge may publish to the topic (and, the topic being encrypted, use the key)
    tf_topic = tf_statements("monitoring", "topic")["AlarmsAndEventsPublish"]
    services = {unquote(i) for p in tf_topic["principals"] for i in p["identifiers"]}
    assert services == {"events.amazonaws.com", "cloudwatch.amazonaws.com"}
    cfn_topic = cfn_statements(props(cfn, "AlarmTopicPolicy")["PolicyDocument"])["AlarmsAndEventsPublish"]
    assert set(cfn_topic["Principal"]["Service"]) == services and cfn_actions(cfn_topic) == {"sns:Publish"}
    key = tf_statements("kms")["AlarmsAndEventsPublishToTheTopic"]
    assert {unquote(i) for p in key["principals"] for i in p["identifiers"]} == services


def test_glue_falling_behind_is_alarmed_on_a_metric_glue_streaming_emits(cfn):
    alarm = tf_alarm("glue_batch_time")
    assert (unquote(alarm["namespace"]), unquote(alarm["metric_name"])) == \
        ("Glue", "glue.driver.streaming.batchProcessingTimeInMs")
    glue_dimensions = tf("monitoring")["locals"][0]["glue_dimensions"]
    assert {k: unquote(v) for k, v in glue_dimensions.items()} == {"JobName": "${var.glue_job_name}", "JobRunId": "ALL",
                                                                   "Type": "count"}
    assert {d["Name"]: d["Value"] for d in props(cfn, "GlueBatchTimeAlarm")["Dimensions"]} == {
        "JobName": {"Fn::Sub": "${Name}-cdc-to-lake"}, "JobRunId": "ALL", "Type": "count"}
    # 120 % of the job's 5 s trigger, for two 5-minute periods (AWS: not above 120 % for more than 10 minutes)
    assert tf_threshold(alarm) == 6000 and alarm["evaluation_periods"] * alarm["period"] == 600


def test_drift_alarm_waits_for_a_lake_drift_metric(cfn):
    alarm = tf_alarm("lake_drift")
    assert unquote(alarm["metric_name"]) == "LakeDrift" and alarm["namespace"] == "${var.lake_metric_namespace}"
    assert alarm["dimensions"] == {"Deployment": "${var.name}"} and tf_threshold(alarm) == 0
    assert unquote(alarm["comparison_operator"]) == "GreaterThanThreshold"
    assert props(cfn, "LakeDriftAlarm")["Dimensions"] == [{"Name": "Deployment", "Value": {"Ref": "Name"}}]


def test_topic_is_encrypted_and_mails_only_when_asked(cfn):
    topic = tf_resource("monitoring", "aws_sns_topic")
    assert topic["kms_master_key_id"] == "${var.kms_key_arn}"
    assert props(cfn, "AlarmTopic")["KmsMasterKeyId"] == {"Fn::GetAtt": ["KmsKey", "Arn"]}
    subscription = tf_resource("monitoring", "aws_sns_topic_subscription", "email")
    assert subscription["count"] == "${var.alarm_email != null ? 1 : 0}"
    assert unquote(subscription["protocol"]) == "email"
    assert tf_defaults("monitoring")["alarm_email"] is None and tf_defaults("pipeline")["alarm_email"] is None
    assert cfn["Resources"]["AlarmEmailSubscription"]["Condition"] == "WithAlarmEmail"
    assert cfn["Parameters"]["AlarmEmail"]["Default"] == ""


DASHBOARD_SERIES = {"OldestReplicationSlotLag", "TransactionLogsDiskUsage", "RunningTaskCount", "ErroredTaskCount",
                    "glue.driver.streaming.batchProcessingTimeInMs", "glue.driver.streaming.numRecords",
                    "BytesInPerSec", "BytesOutPerSec", "LakeDrift"}


def test_dashboard_shows_the_alarmed_series_and_msk_throughput(cfn):
    tf_text = (MODULES / "monitoring" / "main.tf").read_text()
    dashboard = tf_text[tf_text.index("dashboard_widgets = concat("):]
    cfn_body = props(cfn, "Dashboard")["DashboardBody"]["Fn::Sub"]
    for series in DASHBOARD_SERIES:
        assert series in dashboard and series in cfn_body, series
    body = json.loads(re.sub(r"\$\{[^}]+\}", "x", cfn_body))
    assert len(body["widgets"]) == 5


# ---- Athena ---------------------------------------------------------------------------------------------------------


def test_athena_workgroup_enforces_encrypted_results_metrics_and_a_scan_cutoff(cfn):
    workgroup = tf_resource("athena", "aws_athena_workgroup")
    config = only(workgroup["configuration"])
    result = only(config["result_configuration"])
    encryption = only(result["encryption_configuration"])
    cfn_config = props(cfn, "AthenaWorkGroup")["WorkGroupConfiguration"]
    assert config["enforce_workgroup_configuration"] is True and cfn_config["EnforceWorkGroupConfiguration"] is True
    assert config["publish_cloudwatch_metrics_enabled"] is True and cfn_config["PublishCloudWatchMetricsEnabled"]
    assert tf_value("athena", config["bytes_scanned_cutoff_per_query"]) == cfn_config["BytesScannedCutoffPerQuery"]
    assert unquote(encryption["encryption_option"]) == \
        cfn_config["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    assert cfn_config["ResultConfiguration"]["EncryptionConfiguration"]["KmsKey"] == {"Fn::GetAtt": ["KmsKey", "Arn"]}
    prefix = tf_defaults("athena")["results_prefix"]
    assert cfn_config["ResultConfiguration"]["OutputLocation"] == {"Fn::Sub": f"s3://${{ArtifactsBucket}}/{prefix}"}


def test_a_lake_reader_gets_what_a_query_needs(cfn):
    tf_reader = tf_statements("athena", "reader")
    cfn_reader = cfn_statements(props(cfn, "LakeReaderPolicy")["PolicyDocument"])
    assert set(tf_reader) == set(cfn_reader) == {"Queries", "Catalog", "ListBuckets", "ReadLake", "WriteResults",
                                                  "ProjectKey"}
    for sid in tf_reader:
        assert tf_actions(tf_reader[sid]) == cfn_actions(cfn_reader[sid]), sid
    assert "athena:StartQueryExecution" in tf_actions(tf_reader["Queries"])
    assert tf_reader["Queries"]["resources"] == ["${aws_athena_workgroup.this.arn}"]
    assert "glue:Get*" in tf_actions(tf_reader["Catalog"])
    assert tf_actions(tf_reader["ProjectKey"]) == {"kms:Decrypt", "kms:GenerateDataKey"}
    assert "s3:PutObject" in tf_actions(tf_reader["WriteResults"])
    assert tf_actions(tf_reader["ReadLake"]) == {"s3:GetObject"}
    outputs = {unquote(k) for b in tf("athena", "outputs.tf")["output"] for k in b}
    assert {"workgroup_name", "results_location", "reader_policy_arn"} <= outputs
    assert {"AthenaWorkGroup", "AthenaResultsLocation", "LakeReaderPolicyArn"} <= set(cfn["Outputs"])


# ---- CloudFormation teardown ----------------------------------------------------------------------------------------


def test_retained_resources_are_named_after_the_stack_so_a_new_stack_does_not_collide(cfn):
    # delete-stack keeps them; a fixed name would make the next create-stack fail on it
    naming = {"AWS::S3::Bucket": "BucketName", "AWS::SecretsManager::Secret": "Name"}
    retained = {n: r for n, r in cfn["Resources"].items() if r.get("DeletionPolicy") == "Retain"}
    assert set(retained) == {"LakeBucket", "ArtifactsBucket", "CdcUserSecret", "KmsKey"}
    for name, resource in retained.items():
        field = naming.get(resource["Type"])
        if field is None:
            assert resource["Type"] == "AWS::KMS::Key"  # a key has no name; its alias goes with the stack
            continue
        assert "AWS::StackId" in json.dumps(resource["Properties"][field]), name
