# The whole pipeline, wired once for both root configurations (envs/aws and envs/local):
# Aurora PostgreSQL -> Debezium on MSK Connect -> MSK -> Glue streaming job -> S3 lake.

data "aws_availability_zones" "available" {
  #checkov:skip=CKV_AWS_394:the first availability_zone_count zones are taken in name order: a zone AWS adds later sorts after them
  state = "available"
}

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  # path.root is envs/<target>: the repository is three levels up
  repo      = abspath("${path.root}/../../..")
  build_dir = coalesce(var.build_dir, "${local.repo}/.build")

  azs           = slice(data.aws_availability_zones.available.names, 0, var.availability_zone_count)
  bucket_prefix = coalesce(var.bucket_prefix, "${var.name}-${data.aws_caller_identity.current.account_id}-${data.aws_region.current.name}")
  tags          = merge({ Project = "cdc-lake", Deployment = var.name }, var.tags)

  connector_name = "${var.name}-${var.settings["CONNECTOR_NAME"]}" # two deployments never share a name
  with_connector = var.create_msk && var.create_connector
}

# The project's key: the buckets, Athena's results and the alarm topic
module "kms" {
  source = "../kms"

  name                 = var.name
  deletion_window_days = var.deletion_protection ? 30 : 7
  tags                 = local.tags
}

module "s3" {
  source = "../s3"

  name = local.bucket_prefix
  # a customer-managed key, so that VPC flow log delivery can write into the artifacts bucket (not with aws/s3)
  kms_key_arn             = module.kms.key_arn
  force_destroy           = !var.deletion_protection
  deny_insecure_transport = var.s3_deny_insecure_transport
  changelog_prefix        = "warehouse/${var.glue_database}.db/cdc_changelog/"
  tags                    = local.tags
}

module "vpc" {
  source = "../vpc"

  name                     = var.name
  cidr_block               = var.vpc_cidr
  availability_zones       = local.azs
  enable_nat_gateway       = var.enable_nat_gateway
  enable_flow_log          = true
  flow_log_destination_arn = module.s3.artifacts_bucket_arn
  tags                     = local.tags
}

module "aurora" {
  source = "../aurora"

  name           = var.name
  engine_version = var.aurora_engine_version
  instance_class = var.aurora_instance_class
  instance_count = var.aurora_instance_count
  database_name  = var.settings["PG_DATABASE"]
  cdc_user       = var.settings["PG_CDC_USER"]

  max_slot_wal_keep_size_mb = var.aurora_max_slot_wal_keep_size_mb
  enable_data_api           = true

  subnet_ids          = module.vpc.private_subnet_ids
  security_group_ids  = [module.vpc.security_group_ids["aurora"]]
  deletion_protection = var.deletion_protection
  skip_final_snapshot = !var.deletion_protection
  tags                = local.tags
}

# The database's roles, schema, publication and DDL capture, through the RDS Data API (python/deploy); dropped again
# (slot, publication, role) on destroy, after the connector and before Aurora
module "bootstrap" {
  source = "../bootstrap"

  cluster_arn       = module.aurora.cluster_arn
  master_secret_arn = module.aurora.master_user_secret_arn
  database          = var.settings["PG_DATABASE"]
  schema            = var.settings["PG_SCHEMA"]
  cdc_user          = var.settings["PG_CDC_USER"]
  cdc_secret_arn    = module.aurora.cdc_user_secret_arn
  publication       = var.settings["PG_PUBLICATION"]
  slot              = var.settings["PG_SLOT"]

  instance_identifiers = module.aurora.instance_identifiers

  deploy_command = var.deploy_command
  environment    = var.provisioner_environment
}

module "msk" {
  source = "../msk"
  count  = var.create_msk ? 1 : 0

  name                   = var.name
  kafka_version          = var.msk_kafka_version
  broker_instance_type   = var.msk_broker_instance_type
  number_of_broker_nodes = var.msk_broker_count
  subnet_ids             = module.vpc.private_subnet_ids
  security_group_ids     = [module.vpc.security_group_ids["msk"]]
  tags                   = local.tags
}

module "msk_connect" {
  source = "../msk_connect"
  count  = local.with_connector ? 1 : 0

  name                    = local.connector_name
  offset_storage_topic    = var.connect_offset_storage_topic
  kafkaconnect_version    = var.msk_connect_version
  connector_template_path = "${path.root}/../../../connectors/postgres-source.json.tmpl"
  connector_settings      = var.settings

  plugin_zip_path      = "${local.build_dir}/aws/debezium-connector-postgres.zip"
  artifacts_bucket     = module.s3.artifacts_bucket
  artifacts_bucket_arn = module.s3.artifacts_bucket_arn

  cluster_arn       = module.msk[0].cluster_arn
  cluster_name      = module.msk[0].cluster_name
  cluster_uuid      = module.msk[0].cluster_uuid
  bootstrap_brokers = module.msk[0].bootstrap_brokers_sasl_iam

  subnet_ids         = module.vpc.private_subnet_ids
  security_group_ids = [module.vpc.security_group_ids["connect"]]

  db_host        = module.aurora.endpoint
  db_port        = module.aurora.port
  db_secret_arn  = module.aurora.cdc_user_secret_arn
  db_secret_name = module.aurora.cdc_user_secret_name

  # its role, password and publication exist first; on destroy it goes before they do
  database_ready = module.bootstrap.id

  tags = local.tags
}

module "glue" {
  source = "../glue"

  name              = "${var.name}-cdc-to-lake"
  glue_version      = var.glue_version
  number_of_workers = var.glue_number_of_workers
  database_name     = var.glue_database

  script_path             = "${path.root}/../../../python/glue/cdc_to_lake.py"
  maintenance_script_path = "${path.root}/../../../python/glue/maintain_lake.py"
  maintenance_schedule    = var.maintenance_schedule
  verify_script_path      = "${path.root}/../../../python/glue/verify_lake.py"
  package_zip_path        = "${local.build_dir}/aws/glue-job.zip"
  jar_paths               = [for jar in fileset("${local.build_dir}/aws/glue-jars", "*.jar") : "${local.build_dir}/aws/glue-jars/${jar}"]
  job_arguments = {
    "kafka-bootstrap" = var.create_msk ? module.msk[0].bootstrap_brokers_sasl_iam : var.kafka_bootstrap
    "topic-prefix"    = var.settings["TOPIC_PREFIX"]
  }

  artifacts_bucket      = module.s3.artifacts_bucket
  artifacts_bucket_arn  = module.s3.artifacts_bucket_arn
  lake_bucket           = module.s3.lake_bucket
  lake_bucket_arn       = module.s3.lake_bucket_arn
  s3_kms_key_arn        = module.kms.key_arn
  lake_metric_namespace = var.lake_metric_namespace

  # the verification reads the source as the replication role, which may read every table of the schema
  source_jdbc_url           = "jdbc:postgresql://${module.aurora.endpoint}:${module.aurora.port}/${var.settings["PG_DATABASE"]}"
  source_secret_arn         = module.aurora.cdc_user_secret_arn
  source_secret_kms_key_arn = module.kms.key_arn
  source_schema             = var.settings["PG_SCHEMA"]
  slot_name                 = var.settings["PG_SLOT"]
  deployment_name           = var.name

  vpc_id             = module.vpc.vpc_id
  subnet_id          = module.vpc.private_subnet_ids[0]
  availability_zone  = module.vpc.private_subnet_azs[0]
  security_group_ids = [module.vpc.security_group_ids["glue"]]
  kafka_cluster = var.create_msk ? {
    arn  = module.msk[0].cluster_arn
    name = module.msk[0].cluster_name
    uuid = module.msk[0].cluster_uuid
  } : null

  start_run               = var.start_job
  deploy_command          = var.deploy_command
  provisioner_environment = var.provisioner_environment

  tags = local.tags
}

module "monitoring" {
  source = "../monitoring"

  name                      = var.name
  kms_key_arn               = module.kms.key_arn
  alarm_email               = var.alarm_email
  db_instance_identifiers   = module.aurora.instance_identifiers
  connector_name            = local.with_connector ? local.connector_name : null
  glue_job_name             = module.glue.job_name
  glue_maintenance_job_name = module.glue.maintenance_job_name
  glue_verify_job_name      = module.glue.verify_job_name
  msk_cluster_name          = var.create_msk ? module.msk[0].cluster_name : null
  lake_metric_namespace     = var.lake_metric_namespace

  slot_lag_threshold_bytes         = var.alarm_thresholds.slot_lag_bytes
  transaction_logs_threshold_bytes = var.alarm_thresholds.transaction_logs_bytes
  batch_processing_threshold_ms    = var.alarm_thresholds.batch_processing_ms

  tags = local.tags
}

module "athena" {
  source = "../athena"

  name                           = var.name
  database_name                  = module.glue.database_name
  lake_bucket_arn                = module.s3.lake_bucket_arn
  results_bucket                 = module.s3.artifacts_bucket
  kms_key_arn                    = module.kms.key_arn
  bytes_scanned_cutoff_per_query = var.athena_bytes_scanned_cutoff_per_query
  force_destroy                  = !var.deletion_protection
  tags                           = local.tags
}
