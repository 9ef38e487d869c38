data "aws_partition" "current" {}

locals {
  family = "aurora-postgresql${split(".", var.engine_version)[0]}"
}

resource "aws_db_subnet_group" "this" {
  name        = var.name
  description = "Private subnets of ${var.name}"
  subnet_ids  = var.subnet_ids

  tags = var.tags
}

# Debezium decodes the WAL with pgoutput: the cluster must write logical WAL (takes effect at the next reboot).
resource "aws_rds_cluster_parameter_group" "this" {
  name        = var.name
  family      = local.family
  description = "Logical replication for Debezium (pgoutput)"

  parameter {
    name         = "rds.logical_replication"
    value        = "1"
    apply_method = "pending-reboot"
  }

  # schema changes of captured tables show up in the log beside the change events they explain
  parameter {
    name  = "log_statement"
    value = "ddl"
  }

  parameter {
    name  = "log_min_duration_statement"
    value = "1000"
  }

  # a slot nobody reads (a connector deleted, stuck or paused too long) must not fill the storage: past this much WAL
  # the slot is invalidated (Debezium then needs a new snapshot) instead of the database running out of space
  parameter {
    name  = "max_slot_wal_keep_size"
    value = tostring(var.max_slot_wal_keep_size_mb)
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_rds_cluster" "this" {
  #checkov:skip=CKV_AWS_327:encrypted with the AWS-managed RDS key unless kms_key_arn names a customer key
  #checkov:skip=CKV_AWS_139:switchable (var.deletion_protection, on by default); only the local endpoint's throw-away deployment turns it off
  #checkov:skip=CKV2_AWS_8:backups are Aurora's automated ones (backup_retention_days); an AWS Backup plan belongs to the account
  cluster_identifier = var.name
  engine             = "aurora-postgresql"
  engine_version     = var.engine_version
  database_name      = var.database_name
  port               = var.port

  # RDS generates the password and keeps it in Secrets Manager: it never passes through Terraform
  master_username               = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn

  db_subnet_group_name            = aws_db_subnet_group.this.name
  vpc_security_group_ids          = var.security_group_ids
  db_cluster_parameter_group_name = aws_rds_cluster_parameter_group.this.name

  # the RDS Data API: SQL over HTTPS with the master secret, how the database is bootstrapped from outside the VPC
  enable_http_endpoint = var.enable_data_api

  storage_encrypted                   = true
  kms_key_id                          = var.kms_key_arn
  iam_database_authentication_enabled = true
  enabled_cloudwatch_logs_exports     = ["postgresql"]

  backup_retention_period   = var.backup_retention_days
  copy_tags_to_snapshot     = true
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = var.skip_final_snapshot
  final_snapshot_identifier = var.skip_final_snapshot ? null : "${var.name}-final"

  tags = var.tags

  lifecycle {
    # The instances upgrade minor versions themselves (auto_minor_version_upgrade): after AWS has moved the cluster
    # to 16.8, engine_version = 16.6 would plan a downgrade. A deliberate upgrade is done with
    # aws rds modify-db-cluster --engine-version (README), then AURORA_POSTGRES_VERSION follows it.
    ignore_changes = [engine_version]
  }
}

resource "aws_rds_cluster_instance" "this" {
  #checkov:skip=CKV_AWS_354:Performance Insights use the AWS-managed key unless kms_key_arn names a customer key
  count = var.instance_count

  identifier         = "${var.name}-${count.index + 1}"
  cluster_identifier = aws_rds_cluster.this.id
  # no engine_version: an Aurora instance runs its cluster's version, and upgrades follow the cluster
  engine                          = aws_rds_cluster.this.engine
  instance_class                  = var.instance_class
  db_subnet_group_name            = aws_db_subnet_group.this.name
  publicly_accessible             = false
  auto_minor_version_upgrade      = true
  performance_insights_enabled    = true
  performance_insights_kms_key_id = var.kms_key_arn
  monitoring_interval             = var.monitoring_interval
  monitoring_role_arn             = try(aws_iam_role.monitoring[0].arn, null)

  tags = var.tags
}

# The password of the replication role Debezium logs in as. Terraform creates the secret, never its value:
# whoever creates the role in the database (README: after apply) stores the password here.
resource "aws_secretsmanager_secret" "cdc_user" {
  #checkov:skip=CKV2_AWS_57:the role's password changes with the role (README); rotation would need a Lambda inside the VPC
  name        = "${var.name}/${var.cdc_user}"
  description = "Password of the replication role ${var.cdc_user} that Debezium (MSK Connect) uses: {\"username\": ..., \"password\": ...}"
  kms_key_id  = var.kms_key_arn

  recovery_window_in_days = var.deletion_protection ? 30 : 0

  tags = var.tags
}

# Enhanced monitoring: OS metrics of the instances, published by RDS with this role
data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  name               = "${var.name}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json

  tags = var.tags
}

# what the managed policy AmazonRDSEnhancedMonitoringRole grants, limited to the RDSOSMetrics log group
data "aws_iam_policy_document" "monitoring" {
  statement {
    actions   = ["logs:CreateLogGroup", "logs:PutRetentionPolicy"]
    resources = ["arn:${data.aws_partition.current.partition}:logs:*:*:log-group:RDSOSMetrics"]
  }

  statement {
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams", "logs:GetLogEvents"]
    resources = ["arn:${data.aws_partition.current.partition}:logs:*:*:log-group:RDSOSMetrics:log-stream:*"]
  }
}

resource "aws_iam_role_policy" "monitoring" {
  count = var.monitoring_interval > 0 ? 1 : 0

  name   = "enhanced-monitoring"
  role   = aws_iam_role.monitoring[0].id
  policy = data.aws_iam_policy_document.monitoring.json
}
