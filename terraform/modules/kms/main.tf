data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
}

# Key policies name the key itself as "*". Besides the account (whose IAM policies then decide who may use the key),
# only the AWS services that encrypt on the pipeline's behalf without a role of ours: VPC flow log delivery writing
# into the SSE-KMS artifacts bucket, CloudWatch alarms and EventBridge publishing to the encrypted alarm topic.
data "aws_iam_policy_document" "this" {
  #checkov:skip=CKV_AWS_109:a key policy's resource is the key itself; kms:* is granted to the account root only, so IAM policies decide
  #checkov:skip=CKV_AWS_111:a key policy's resource is the key itself; kms:* is granted to the account root only, so IAM policies decide
  #checkov:skip=CKV_AWS_356:a key policy can only name its own key, as "*"
  statement {
    sid       = "AccountAdministersTheKey"
    actions   = ["kms:*"]
    resources = ["*"]

    principals {
      type        = "AWS"
      identifiers = ["arn:${data.aws_partition.current.partition}:iam::${local.account}:root"]
    }
  }

  statement {
    sid       = "FlowLogDelivery"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }

  statement {
    sid       = "AlarmsAndEventsPublishToTheTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]

    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
    }

    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name}: lake and artifacts buckets, Athena results, alarm topic"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_days
  policy                  = data.aws_iam_policy_document.this.json

  tags = var.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
