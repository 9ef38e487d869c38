locals {
  buckets = {
    lake      = "${var.name}-lake"
    artifacts = "${var.name}-artifacts"
  }

  # Expiring the change log's files by age would cut files out from under the Iceberg table: old rows are removed
  # by the table's own DELETE and snapshot expiry; S3 only moves old files to a cheaper class that reads instantly.
  lake_rules = [
    {
      id                     = "changelog-to-glacier-ir"
      prefix                 = var.changelog_prefix
      transition_days        = var.changelog_transition_days
      expiration_days        = null
      noncurrent_expire_days = null
    },
    {
      id                     = "quarantine-expiry"
      prefix                 = var.quarantine_prefix
      transition_days        = null
      expiration_days        = var.quarantine_expiration_days
      noncurrent_expire_days = null
    },
  ]

  # Every bucket: versions replaced or deleted are removed after a while, and stalled uploads are cleaned up.
  common_rule = {
    id                     = "noncurrent-versions"
    prefix                 = ""
    transition_days        = null
    expiration_days        = null
    noncurrent_expire_days = var.noncurrent_version_expiration_days
  }
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_144:cross-region replication is a disaster-recovery choice of the account, not of this pipeline
  #checkov:skip=CKV2_AWS_62:nothing consumes bucket event notifications; the Glue job streams from Kafka
  #checkov:skip=CKV_AWS_18:server access logs go to a central logging bucket of the account (CloudTrail data events), which this module does not own
  for_each = local.buckets

  bucket        = each.value
  force_destroy = var.force_destroy

  tags = merge(var.tags, { Name = each.value, Role = each.key })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "this" {
  for_each = aws_s3_bucket.this

  dynamic "statement" {
    for_each = var.deny_insecure_transport ? [each.value.arn] : []
    content {
      sid       = "DenyInsecureTransport"
      effect    = "Deny"
      actions   = ["s3:*"]
      resources = [statement.value, "${statement.value}/*"]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "Bool"
        variable = "aws:SecureTransport"
        values   = ["false"]
      }
    }
  }

  # VPC flow logs land in the artifacts bucket under AWSLogs/<account>/ (what AWS would add itself, kept here so
  # that Terraform does not remove it again)
  dynamic "statement" {
    for_each = each.key == "artifacts" && var.allow_vpc_flow_logs ? ["put", "acl"] : []
    content {
      sid       = statement.value == "put" ? "FlowLogsWrite" : "FlowLogsCheckBucket"
      actions   = statement.value == "put" ? ["s3:PutObject"] : ["s3:GetBucketAcl", "s3:ListBucket"]
      resources = statement.value == "put" ? ["${each.value.arn}/AWSLogs/${data.aws_caller_identity.current.account_id}/*"] : [each.value.arn]

      principals {
        type        = "Service"
        identifiers = ["delivery.logs.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }
}

# a bucket whose policy would have no statement gets none: S3 rejects a policy without statements
resource "aws_s3_bucket_policy" "this" {
  for_each = { for key, bucket in aws_s3_bucket.this : key => bucket if var.deny_insecure_transport || (key == "artifacts" && var.allow_vpc_flow_logs) }

  bucket = each.value.id
  policy = data.aws_iam_policy_document.this[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  dynamic "rule" {
    for_each = concat(each.key == "lake" ? local.lake_rules : [], [local.common_rule])

    content {
      id     = rule.value.id
      status = "Enabled"

      filter {
        prefix = rule.value.prefix
      }

      abort_incomplete_multipart_upload {
        days_after_initiation = 7
      }

      dynamic "transition" {
        for_each = rule.value.transition_days != null ? [rule.value.transition_days] : []
        content {
          days          = transition.value
          storage_class = "GLACIER_IR"
        }
      }

      dynamic "expiration" {
        for_each = rule.value.expiration_days != null ? [rule.value.expiration_days] : []
        content {
          days = expiration.value
        }
      }

      dynamic "noncurrent_version_expiration" {
        for_each = rule.value.noncurrent_expire_days != null ? [rule.value.noncurrent_expire_days] : []
        content {
          noncurrent_days = noncurrent_version_expiration.value
        }
      }
    }
  }

  # a lifecycle configuration on an unversioned bucket would act on current objects only
  depends_on = [aws_s3_bucket_versioning.this]
}
