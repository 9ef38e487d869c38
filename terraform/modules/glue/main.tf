data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  arn_prefix = "arn:${data.aws_partition.current.partition}"
  region     = data.aws_region.current.name
  account    = data.aws_caller_identity.current.account_id
  lake_uri   = "s3://${var.lake_bucket}"

  topic_prefix = lookup(var.job_arguments, "topic-prefix", "")
  # both jobs' options (python/glue/options.py), then Glue's own
  default_arguments = merge(
    { for k, v in var.job_arguments : "--${k}" => v },
    # MSK is reached through its IAM listener (TLS + SASL signed with the job's role)
    var.kafka_cluster != null ? { "--kafka-auth" = "iam" } : {},
    length(local.jars) > 0 ? { "--extra-jars" = join(",", [for o in aws_s3_object.jar : "s3://${o.bucket}/${o.key}"]) } : {},
    {
      "--lake-uri"         = local.lake_uri
      "--catalog"          = "glue"
      "--database"         = aws_glue_catalog_database.this.name
      "--region"           = local.region
      "--extra-py-files"   = "s3://${aws_s3_object.package.bucket}/${aws_s3_object.package.key}"
      "--datalake-formats" = "iceberg"
      # Iceberg's SQL extensions (MERGE INTO, CALL) are a static setting: Glue builds the session before the script
      "--conf"                             = "spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
      "--job-language"                     = "python"
      "--enable-metrics"                   = "true"
      "--enable-continuous-cloudwatch-log" = "true"
    },
  )
  jars      = { for p in var.jar_paths : basename(p) => p }
  kafka_arn = var.kafka_cluster == null ? null : "${local.arn_prefix}:kafka:${local.region}:${local.account}"
}

################################################################################
# Code: the entry script and the package it imports
################################################################################

resource "aws_s3_object" "script" {
  bucket = var.artifacts_bucket
  key    = "${var.artifacts_prefix}${basename(var.script_path)}"
  source = var.script_path
  # not etag: objects in an SSE-KMS bucket have no MD5 etag, so every plan would upload them again
  source_hash = filemd5(var.script_path)

  tags = var.tags
}

resource "aws_s3_object" "maintenance_script" {
  bucket      = var.artifacts_bucket
  key         = "${var.artifacts_prefix}${basename(var.maintenance_script_path)}"
  source      = var.maintenance_script_path
  source_hash = filemd5(var.maintenance_script_path)

  tags = var.tags
}

resource "aws_s3_object" "verify_script" {
  bucket      = var.artifacts_bucket
  key         = "${var.artifacts_prefix}${basename(var.verify_script_path)}"
  source      = var.verify_script_path
  source_hash = filemd5(var.verify_script_path)

  tags = var.tags
}

resource "aws_s3_object" "package" {
  bucket      = var.artifacts_bucket
  key         = "${var.artifacts_prefix}${basename(var.package_zip_path)}"
  source      = var.package_zip_path
  source_hash = filemd5(var.package_zip_path)

  tags = var.tags
}

resource "aws_s3_object" "jar" {
  for_each = local.jars

  bucket      = var.artifacts_bucket
  key         = "${var.artifacts_prefix}jars/${each.key}"
  source      = each.value
  source_hash = filemd5(each.value)

  tags = var.tags
}

################################################################################
# Catalog, network connection, encryption
################################################################################

# The Iceberg catalog puts each table under the database's location: warehouse/<database>.db/<table>/.
resource "aws_glue_catalog_database" "this" {
  name         = var.database_name
  description  = "Change log and mirror tables of the CDC pipeline (Iceberg)"
  location_uri = "${local.lake_uri}/warehouse/${var.database_name}.db"
}

resource "aws_glue_connection" "this" {
  name            = "${var.name}-network"
  description     = "Runs the jobs inside the VPC: MSK and S3 reached privately"
  connection_type = "NETWORK"

  physical_connection_requirements {
    availability_zone      = var.availability_zone
    subnet_id              = var.subnet_id
    security_group_id_list = var.security_group_ids
  }

  tags = var.tags
}

resource "aws_glue_security_configuration" "this" {
  name = var.name

  encryption_configuration {
    cloudwatch_encryption {
      cloudwatch_encryption_mode = var.kms_key_arn != null ? "SSE-KMS" : "DISABLED"
      kms_key_arn                = var.kms_key_arn
    }

    job_bookmarks_encryption {
      job_bookmarks_encryption_mode = var.kms_key_arn != null ? "CSE-KMS" : "DISABLED"
      kms_key_arn                   = var.kms_key_arn
    }

    s3_encryption {
      s3_encryption_mode = var.kms_key_arn != null ? "SSE-KMS" : "SSE-S3"
      kms_key_arn        = var.kms_key_arn
    }
  }
}

################################################################################
# Role: the two buckets, the catalog database, the cluster's topics, its own logs
################################################################################

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["glue.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "this" {
  statement {
    sid       = "ReadCode"
    actions   = ["s3:GetObject"]
    resources = ["${var.artifacts_bucket_arn}/${var.artifacts_prefix}*"]
  }

  statement {
    sid       = "ListLake"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [var.lake_bucket_arn, var.artifacts_bucket_arn]
  }

  statement {
    sid       = "WriteLake"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = ["${var.lake_bucket_arn}/*"]
  }

  statement {
    sid = "Catalog"
    actions = [
      "glue:GetDatabase", "glue:GetDatabases",
      "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable", "glue:DeleteTable",
      "glue:GetPartitions", "glue:BatchGetPartition",
    ]
    resources = [
      "${local.arn_prefix}:glue:${local.region}:${local.account}:catalog",
      "${local.arn_prefix}:glue:${local.region}:${local.account}:database/${var.database_name}",
      "${local.arn_prefix}:glue:${local.region}:${local.account}:table/${var.database_name}/*",
    ]
  }

  statement {
    sid       = "Logs"
    actions   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:AssociateKmsKey"]
    resources = ["${local.arn_prefix}:logs:${local.region}:${local.account}:log-group:/aws-glue/*"]
  }

  # Glue's job metrics (--enable-metrics), and the pipeline's own (LakeDrift, which the verification job publishes
  # and the monitoring module alarms on)
  statement {
    sid       = "Metrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = ["Glue", var.lake_metric_namespace]
    }
  }

  # the verification job reads the source as the user of this secret (encrypted with the project's key)
  statement {
    sid       = "SourceSecret"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [var.source_secret_arn]
  }

  statement {
    sid       = "SourceSecretKey"
    actions   = ["kms:Decrypt"]
    resources = [var.source_secret_kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${local.region}.amazonaws.com"]
    }
  }

  # What a job with a NETWORK connection does before its script runs, as AWSGlueServiceRole grants it: read the
  # connection, look at the VPC, create its ENIs (tagged aws-glue-service-resource) in the connection's subnet and
  # security groups, and delete them at the end.
  statement {
    sid       = "Connection"
    actions   = ["glue:GetConnection", "glue:GetConnections"]
    resources = ["${local.arn_prefix}:glue:${local.region}:${local.account}:catalog", "${local.arn_prefix}:glue:${local.region}:${local.account}:connection/${aws_glue_connection.this.name}"]
  }

  # these Describe* calls take no resource-level permissions
  statement {
    sid = "DescribeNetwork"
    actions = [
      "ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeVpcs",
      "ec2:DescribeVpcEndpoints", "ec2:DescribeRouteTables",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "DescribeVpcAttribute"
    actions   = ["ec2:DescribeVpcAttribute"]
    resources = ["${local.arn_prefix}:ec2:${local.region}:${local.account}:vpc/${var.vpc_id}"]
  }

  statement {
    sid     = "CreateJobNetworkInterfaces"
    actions = ["ec2:CreateNetworkInterface"]
    resources = concat(
      ["${local.arn_prefix}:ec2:${local.region}:${local.account}:network-interface/*"],
      ["${local.arn_prefix}:ec2:${local.region}:${local.account}:subnet/${var.subnet_id}"],
      [for sg in var.security_group_ids : "${local.arn_prefix}:ec2:${local.region}:${local.account}:security-group/${sg}"],
    )
  }

  statement {
    sid       = "DeleteJobNetworkInterfaces"
    actions   = ["ec2:DeleteNetworkInterface"]
    resources = ["${local.arn_prefix}:ec2:${local.region}:${local.account}:network-interface/*"]
  }

  statement {
    sid       = "TagJobNetworkInterfaces"
    actions   = ["ec2:CreateTags", "ec2:DeleteTags"]
    resources = ["${local.arn_prefix}:ec2:${local.region}:${local.account}:network-interface/*"]
    condition {
      test     = "ForAllValues:StringEquals"
      variable = "aws:TagKeys"
      values   = ["aws-glue-service-resource"]
    }
  }

  # the buckets' default encryption key: objects of the artifacts bucket and the lake are decrypted through S3
  dynamic "statement" {
    for_each = var.s3_kms_key_arn != null ? [var.s3_kms_key_arn] : []
    content {
      sid       = "BucketKey"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["s3.${local.region}.amazonaws.com"]
      }
    }
  }

  dynamic "statement" {
    for_each = var.kafka_cluster != null ? [var.kafka_cluster] : []
    content {
      sid       = "KafkaCluster"
      actions   = ["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"]
      resources = [statement.value.arn]
    }
  }

  dynamic "statement" {
    for_each = var.kafka_cluster != null ? [var.kafka_cluster] : []
    content {
      sid     = "KafkaTopics"
      actions = ["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"]
      # the table and DDL topics, and Debezium's heartbeats (a micro-batch even when no table changes)
      resources = [
        "${local.kafka_arn}:topic/${statement.value.name}/${statement.value.uuid}/${local.topic_prefix}.*",
        "${local.kafka_arn}:topic/${statement.value.name}/${statement.value.uuid}/__debezium-heartbeat.${local.topic_prefix}",
      ]
    }
  }

  # Spark's Kafka source commits no offsets but names its consumer groups spark-kafka-source-*
  dynamic "statement" {
    for_each = var.kafka_cluster != null ? [var.kafka_cluster] : []
    content {
      sid       = "KafkaGroups"
      actions   = ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"]
      resources = ["${local.kafka_arn}:group/${statement.value.name}/${statement.value.uuid}/spark-kafka-source-*"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-glue"
  assume_role_policy = data.aws_iam_policy_document.assume.json

  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name   = "job"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.this.json
}

################################################################################
# Job
################################################################################

resource "aws_glue_job" "this" {
  name              = var.name
  description       = "Debezium change events from Kafka into the Iceberg lake (python/glue)"
  role_arn          = aws_iam_role.this.arn
  glue_version      = var.glue_version
  worker_type       = var.worker_type
  number_of_workers = var.number_of_workers
  # what Glue gives a job that names none (FLEX is for batch jobs): said, so that a plan after an apply finds no change
  execution_class = "STANDARD"
  connections     = [aws_glue_connection.this.name]

  security_configuration = aws_glue_security_configuration.this.name

  command {
    name            = "gluestreaming"
    script_location = "s3://${aws_s3_object.script.bucket}/${aws_s3_object.script.key}"
    python_version  = "3"
  }

  default_arguments = local.default_arguments

  # one run at a time: two would race on the same checkpoint
  execution_property {
    max_concurrent_runs = 1
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.kafka_cluster == null || anytrue([for name in keys(local.jars) : startswith(name, "aws-msk-iam-auth-")])
      error_message = "The job reads MSK with IAM auth: jar_paths must include the aws-msk-iam-auth jar (make aws-package)."
    }
  }

  depends_on = [aws_iam_role_policy.this]
}

################################################################################
# The lake's upkeep beside the stream (python/glue/maintenance.py): a batch job, one round per scheduled run
################################################################################

resource "aws_glue_job" "maintenance" {
  name                   = "${var.name}-maintenance"
  description            = "Compaction, snapshot expiry and orphan files of the lake's tables (python/glue/maintenance.py)"
  role_arn               = aws_iam_role.this.arn
  glue_version           = var.glue_version
  worker_type            = var.worker_type
  number_of_workers      = var.maintenance_workers
  execution_class        = "STANDARD"
  connections            = [aws_glue_connection.this.name]
  security_configuration = aws_glue_security_configuration.this.name
  # a round that runs long is stopped; the next one carries on
  timeout = var.maintenance_timeout_minutes

  command {
    name            = "glueetl"
    script_location = "s3://${aws_s3_object.maintenance_script.bucket}/${aws_s3_object.maintenance_script.key}"
    python_version  = "3"
  }

  default_arguments = local.default_arguments

  # rounds never overlap: a late one is skipped, not queued
  execution_property {
    max_concurrent_runs = 1
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.this]
}

resource "aws_glue_trigger" "maintenance" {
  name     = "${var.name}-maintenance"
  type     = "SCHEDULED"
  schedule = var.maintenance_schedule
  # created running: the schedule starts with the deployment
  start_on_creation = true

  actions {
    job_name = aws_glue_job.maintenance.name
  }

  tags = var.tags
}

################################################################################
# The lake against its source (python/glue/reconcile.py): a batch job on a schedule, publishing LakeDrift
################################################################################

resource "aws_glue_job" "verify" {
  name                   = "${var.name}-verify"
  description            = "Reconciles every mirror with its source table and publishes ${var.lake_metric_namespace}/LakeDrift (python/glue/reconcile.py)"
  role_arn               = aws_iam_role.this.arn
  glue_version           = var.glue_version
  worker_type            = var.worker_type
  number_of_workers      = var.maintenance_workers
  execution_class        = "STANDARD"
  connections            = [aws_glue_connection.this.name]
  security_configuration = aws_glue_security_configuration.this.name
  timeout                = var.maintenance_timeout_minutes

  command {
    name            = "glueetl"
    script_location = "s3://${aws_s3_object.verify_script.bucket}/${aws_s3_object.verify_script.key}"
    python_version  = "3"
  }

  default_arguments = merge(local.default_arguments, {
    "--source-jdbc-url"  = var.source_jdbc_url
    "--source-secret-id" = var.source_secret_arn
    "--source-schema"    = var.source_schema
    "--slot-name"        = var.slot_name
    "--deployment"       = var.deployment_name
    "--metric-namespace" = var.lake_metric_namespace
  })

  execution_property {
    max_concurrent_runs = 1
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.this]
}

resource "aws_glue_trigger" "verify" {
  name              = "${var.name}-verify"
  type              = "SCHEDULED"
  schedule          = var.verify_schedule
  start_on_creation = true

  actions {
    job_name = aws_glue_job.verify.name
  }

  tags = var.tags
}

################################################################################
# The job's run: a streaming job runs until stopped
################################################################################

# A new run when what runs changes (the script, its package, the job's arguments). Stopped on destroy and waited for:
# a running job holds network interfaces in the job's subnet and security group, which could not be deleted meanwhile.
resource "terraform_data" "run" {
  count = var.start_run ? 1 : 0

  triggers_replace = [aws_glue_job.this.id, aws_s3_object.script.source_hash, aws_s3_object.package.source_hash,
  sha256(jsonencode(aws_glue_job.this.default_arguments))]

  input = {
    stop        = "${var.deploy_command} stop-job --job-name '${aws_glue_job.this.name}'"
    environment = var.provisioner_environment
  }

  provisioner "local-exec" {
    command     = "${var.deploy_command} start-job --job-name '${aws_glue_job.this.name}'"
    environment = var.provisioner_environment
  }

  provisioner "local-exec" {
    when        = destroy
    command     = self.input.stop
    environment = self.input.environment
  }
}
