data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  # The same template and values as the local stack (stack.render); Terraform's templatefile reads the same
  # $${VAR} placeholders and fails on a missing one, like the local renderer.
  connector_config = jsondecode(templatefile(var.connector_template_path, merge(var.connector_settings, {
    CONNECTOR_DB_HOST = var.db_host
    CONNECTOR_DB_PORT = tostring(var.db_port)
    # resolved by the worker's config provider at run time: the password never appears in the connector config
    CONNECTOR_DB_PASSWORD_REF = "$${secretsmanager:${var.db_secret_name}:password}"
  })))

  topic_prefix = var.connector_settings["TOPIC_PREFIX"]

  # Connect's source offsets (Debezium's LSN) in a topic of ours: a replaced connector (every change replaces it)
  # with the same name reads them back instead of getting fresh __amazon_msk_connect_offsets_* and snapshotting again
  offset_storage_topic = coalesce(var.offset_storage_topic, "${var.name}-connect-offsets")

  # The secretsmanager config provider is the project's own (jvm/secrets-manager-config-provider; none is served
  # from Maven Central), shipped in the plugin zip; the local worker runs the same class against the local endpoint.
  worker_properties = <<-EOT
    key.converter=org.apache.kafka.connect.json.JsonConverter
    value.converter=org.apache.kafka.connect.json.JsonConverter
    key.converter.schemas.enable=true
    value.converter.schemas.enable=true
    producer.linger.ms=50
    producer.batch.size=1048576
    offset.flush.interval.ms=5000
    offset.storage.topic=${local.offset_storage_topic}
    config.providers=secretsmanager
    config.providers.secretsmanager.class=io.github.cdclake.connect.SecretsManagerConfigProvider
    config.providers.secretsmanager.param.region=${data.aws_region.current.name}
  EOT

  kafka_arn = "arn:${data.aws_partition.current.partition}:kafka:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}"
  # the connector's own topics: one per table, the heartbeat and transaction topics, its offsets and Connect's
  # other internal ones
  topic_arns = [
    "${local.kafka_arn}:topic/${var.cluster_name}/${var.cluster_uuid}/${local.topic_prefix}.*",
    "${local.kafka_arn}:topic/${var.cluster_name}/${var.cluster_uuid}/__debezium-heartbeat.${local.topic_prefix}",
    "${local.kafka_arn}:topic/${var.cluster_name}/${var.cluster_uuid}/${local.offset_storage_topic}",
    "${local.kafka_arn}:topic/${var.cluster_name}/${var.cluster_uuid}/__amazon_msk_connect_*",
  ]
  group_arns = [
    "${local.kafka_arn}:group/${var.cluster_name}/${var.cluster_uuid}/__amazon_msk_connect_*",
    "${local.kafka_arn}:group/${var.cluster_name}/${var.cluster_uuid}/connect-${var.name}*",
  ]
}

################################################################################
# Plugin and worker configuration
################################################################################

resource "aws_s3_object" "plugin" {
  bucket = var.artifacts_bucket
  key    = var.plugin_key
  source = var.plugin_zip_path
  # not etag: objects in an SSE-KMS bucket have no MD5 etag, so every plan would upload them again
  source_hash = filemd5(var.plugin_zip_path)

  tags = var.tags
}

resource "aws_mskconnect_custom_plugin" "this" {
  name         = "${var.name}-debezium-postgres"
  content_type = "ZIP"
  description  = "Debezium PostgreSQL connector and the Secrets Manager config provider (make aws-package)"

  location {
    s3 {
      bucket_arn     = var.artifacts_bucket_arn
      file_key       = aws_s3_object.plugin.key
      object_version = aws_s3_object.plugin.version_id
    }
  }
}

resource "aws_mskconnect_worker_configuration" "this" {
  # a worker configuration's content cannot change: a new one (new name) replaces it
  name                    = "${var.name}-${substr(sha256(local.worker_properties), 0, 8)}"
  description             = "JSON with schemas, like the local worker; secrets through the Secrets Manager config provider"
  properties_file_content = local.worker_properties

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:worker logs are encrypted by CloudWatch Logs' own key unless a KMS key is wired in
  #checkov:skip=CKV_AWS_338:worker logs are for troubleshooting; a month is enough (log_retention_days)
  name              = "/aws/mskconnect/${var.name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

################################################################################
# Service execution role: the cluster, the connector's own topics and groups, its one secret
################################################################################

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["kafkaconnect.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "Cluster"
    actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster", "kafka-cluster:WriteDataIdempotently"]
    resources = [var.cluster_arn]
  }

  statement {
    sid = "OwnTopics"
    actions = [
      "kafka-cluster:CreateTopic",
      "kafka-cluster:DescribeTopic",
      "kafka-cluster:DescribeTopicDynamicConfiguration",
      "kafka-cluster:ReadData",
      "kafka-cluster:WriteData",
    ]
    resources = local.topic_arns
  }

  statement {
    sid       = "OwnGroups"
    actions   = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
    resources = local.group_arns
  }

  statement {
    sid       = "DatabasePassword"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [var.db_secret_arn]
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-msk-connect"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "connector"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

################################################################################
# Connector
################################################################################

# MSK Connect cannot update a connector's configuration in place: a new hash replaces the connector.
resource "terraform_data" "connector_config" {
  input = sha256(jsonencode({
    connector = local.connector_config
    worker    = aws_mskconnect_worker_configuration.this.arn
    plugin    = aws_s3_object.plugin.etag
  }))
}

# What the connector needs in the database (its role, password, publication) exists before it is created: an ordering
# only (a new bootstrap updates this in place and replaces nothing). Not a module-level depends_on, which would defer
# every data source of the module to apply time and so replace the connector on every plan.
resource "terraform_data" "database_ready" {
  input = var.database_ready
}

resource "aws_mskconnect_connector" "this" {
  name                    = var.name
  kafkaconnect_version    = var.kafkaconnect_version
  connector_configuration = local.connector_config

  capacity {
    provisioned_capacity {
      mcu_count    = var.mcu_count
      worker_count = var.worker_count
    }
  }

  kafka_cluster {
    apache_kafka_cluster {
      bootstrap_servers = var.bootstrap_brokers
      vpc {
        subnets         = var.subnet_ids
        security_groups = var.security_group_ids
      }
    }
  }

  kafka_cluster_client_authentication {
    authentication_type = "IAM"
  }

  kafka_cluster_encryption_in_transit {
    encryption_type = "TLS"
  }

  plugin {
    custom_plugin {
      arn      = aws_mskconnect_custom_plugin.this.arn
      revision = aws_mskconnect_custom_plugin.this.latest_revision
    }
  }

  worker_configuration {
    arn      = aws_mskconnect_worker_configuration.this.arn
    revision = aws_mskconnect_worker_configuration.this.latest_revision
  }

  log_delivery {
    worker_log_delivery {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.this.name
      }
    }
  }

  service_execution_role_arn = aws_iam_role.this.arn

  # the role's policy must exist before the workers start, or they fail to reach the cluster
  depends_on = [aws_iam_role_policy.this, terraform_data.database_ready]

  lifecycle {
    replace_triggered_by = [terraform_data.connector_config]
  }
}
