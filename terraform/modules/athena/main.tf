data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  arn_prefix   = "arn:${data.aws_partition.current.partition}"
  region       = data.aws_region.current.name
  account      = data.aws_caller_identity.current.account_id
  results_uri  = "s3://${var.results_bucket}/${var.results_prefix}"
  glue_catalog = "${local.arn_prefix}:glue:${local.region}:${local.account}"
}

# Readers query the lake's Iceberg tables through the Glue Data Catalog; the workgroup's settings override theirs.
resource "aws_athena_workgroup" "this" {
  name        = var.name
  description = "Reads the CDC lake (Glue database ${var.database_name}); results SSE-KMS under ${local.results_uri}"
  state       = "ENABLED"

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.bytes_scanned_cutoff_per_query

    result_configuration {
      output_location = local.results_uri

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = var.kms_key_arn
      }
    }
  }

  force_destroy = var.force_destroy

  tags = var.tags
}

# What a reader needs, to attach to a user or role: queries in this workgroup only, the lake's catalog entries, the
# lake's files, its own results, and the project's key through S3.
data "aws_iam_policy_document" "reader" {
  statement {
    sid = "Queries"
    actions = [
      "athena:StartQueryExecution", "athena:StopQueryExecution", "athena:GetQueryExecution",
      "athena:BatchGetQueryExecution", "athena:ListQueryExecutions", "athena:GetQueryResults",
      "athena:GetQueryRuntimeStatistics", "athena:GetWorkGroup",
    ]
    resources = [aws_athena_workgroup.this.arn]
  }

  statement {
    sid     = "Catalog"
    actions = ["glue:Get*", "glue:BatchGetPartition"]
    resources = [
      "${local.glue_catalog}:catalog",
      "${local.glue_catalog}:database/${var.database_name}",
      "${local.glue_catalog}:table/${var.database_name}/*",
    ]
  }

  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = distinct([var.lake_bucket_arn, "${local.arn_prefix}:s3:::${var.results_bucket}"])
  }

  statement {
    sid       = "ReadLake"
    actions   = ["s3:GetObject"]
    resources = ["${var.lake_bucket_arn}/*"]
  }

  statement {
    sid       = "WriteResults"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = ["${local.arn_prefix}:s3:::${var.results_bucket}/${var.results_prefix}*"]
  }

  statement {
    sid       = "ProjectKey"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "reader" {
  name        = "${var.name}-reader"
  description = "Query the CDC lake with Athena workgroup ${var.name}"
  policy      = data.aws_iam_policy_document.reader.json

  tags = var.tags
}
