data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  account = data.aws_caller_identity.current.account_id
  region  = data.aws_region.current.name
  actions = [aws_sns_topic.this.arn]

  with_connector = var.connector_name != null
  with_msk       = var.msk_cluster_name != null

  # Glue's job metrics of all runs of the job (JobRunId ALL); streaming metrics are of Type count
  glue_dimensions = { JobName = var.glue_job_name, JobRunId = "ALL", Type = "count" }
}

################################################################################
# Topic: every alarm and the Glue job's failures, KMS-encrypted
################################################################################

resource "aws_sns_topic" "this" {
  name              = "${var.name}-alarms"
  kms_master_key_id = var.kms_key_arn

  tags = var.tags
}

data "aws_iam_policy_document" "topic" {
  # EventBridge (the Glue job's state changes) and CloudWatch alarms publish as services of this account; the
  # account's own principals need no statement here, their IAM policies decide
  statement {
    sid       = "AlarmsAndEventsPublish"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]

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

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "email" {
  count = var.alarm_email != null ? 1 : 0

  topic_arn = aws_sns_topic.this.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

################################################################################
# Aurora: the replication slot must not hold back WAL until max_slot_wal_keep_size invalidates it
################################################################################

# Per instance: the slot lives on the writer; a reader reports no slot lag and -1 transaction logs
resource "aws_cloudwatch_metric_alarm" "slot_lag" {
  for_each = toset(var.db_instance_identifiers)

  alarm_name          = "${var.name}-aurora-slot-lag-${each.key}"
  alarm_description   = "Debezium's replication slot holds back more WAL than slot_lag_threshold_bytes: the connector is stopped or slow; at max_slot_wal_keep_size the slot is lost"
  namespace           = "AWS/RDS"
  metric_name         = "OldestReplicationSlotLag"
  dimensions          = { DBInstanceIdentifier = each.key }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.slot_lag_threshold_bytes
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "transaction_logs" {
  for_each = toset(var.db_instance_identifiers)

  alarm_name          = "${var.name}-aurora-transaction-logs-${each.key}"
  alarm_description   = "Transaction logs kept for logical replication use more than transaction_logs_threshold_bytes of the instance's storage"
  namespace           = "AWS/RDS"
  metric_name         = "TransactionLogsDiskUsage"
  dimensions          = { DBInstanceIdentifier = each.key }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.transaction_logs_threshold_bytes
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

################################################################################
# MSK Connect: a failed task stays failed until someone restarts it
################################################################################

resource "aws_cloudwatch_metric_alarm" "connector_errored_tasks" {
  count = local.with_connector ? 1 : 0

  alarm_name          = "${var.name}-connector-errored-tasks"
  alarm_description   = "A task of the Debezium connector ${var.connector_name} failed (its trace is in the connector's log group)"
  namespace           = "AWS/KafkaConnect"
  metric_name         = "ErroredTaskCount"
  dimensions          = { ConnectorName = var.connector_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  # the running-task alarm below catches a connector that reports nothing
  treat_missing_data = "notBreaching"
  alarm_actions      = local.actions
  ok_actions         = local.actions

  tags = var.tags
}

resource "aws_cloudwatch_metric_alarm" "connector_running_tasks" {
  count = local.with_connector ? 1 : 0

  alarm_name          = "${var.name}-connector-running-tasks"
  alarm_description   = "Fewer than connector_task_count tasks of ${var.connector_name} run, or the connector reports nothing (deleted, failed, not started)"
  namespace           = "AWS/KafkaConnect"
  metric_name         = "RunningTaskCount"
  dimensions          = { ConnectorName = var.connector_name }
  statistic           = "Minimum"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = var.connector_task_count
  # no data means no connector running: that is the failure this alarm is for
  treat_missing_data = "breaching"
  alarm_actions      = local.actions
  ok_actions         = local.actions

  tags = var.tags
}

################################################################################
# Glue: the job run ending (it is a streaming job: it should never end) or a maintenance or verification run failing, and
# micro-batches falling behind
################################################################################

resource "aws_cloudwatch_event_rule" "glue_job_failed" {
  name        = "${var.name}-glue-job-failed"
  description = "The Glue job ${var.glue_job_name}, its maintenance or its verification job failed, timed out or could not start"
  event_pattern = jsonencode({
    source        = ["aws.glue"]
    "detail-type" = ["Glue Job State Change"]
    detail = {
      jobName = compact([var.glue_job_name, var.glue_maintenance_job_name, var.glue_verify_job_name])
      state   = ["FAILED", "TIMEOUT", "ERROR"]
    }
  })

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "glue_job_failed" {
  rule      = aws_cloudwatch_event_rule.glue_job_failed.name
  target_id = "alarm-topic"
  arn       = aws_sns_topic.this.arn

  # the topic policy must let EventBridge publish before the first event
  depends_on = [aws_sns_topic_policy.this]
}

# Published with --enable-metrics by Glue's streaming framework: the time a micro-batch took. AWS's guidance is an
# alarm when it stays above 120 % of the trigger interval (5 s by default) for 10 minutes.
resource "aws_cloudwatch_metric_alarm" "glue_batch_time" {
  alarm_name          = "${var.name}-glue-batch-processing-time"
  alarm_description   = "Micro-batches of ${var.glue_job_name} take longer than batch_processing_threshold_ms: the job is falling behind Kafka"
  namespace           = "Glue"
  metric_name         = "glue.driver.streaming.batchProcessingTimeInMs"
  dimensions          = local.glue_dimensions
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.batch_processing_threshold_ms
  # a job that is not running publishes nothing: the EventBridge rule above reports that
  treat_missing_data = "notBreaching"
  alarm_actions      = local.actions
  ok_actions         = local.actions

  tags = var.tags
}

################################################################################
# The lake against its source: the hourly verification job publishes LakeDrift, the keys that differ; between
# runs the alarm keeps the state the last one gave it (period: the schedule's hour; missing data: no change)
################################################################################

resource "aws_cloudwatch_metric_alarm" "lake_drift" {
  alarm_name          = "${var.name}-lake-drift"
  alarm_description   = "The verification found mirror rows that differ from the source (${var.lake_metric_namespace}/LakeDrift > 0): its job's log names them"
  namespace           = var.lake_metric_namespace
  metric_name         = "LakeDrift"
  dimensions          = { Deployment = var.name }
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "missing"
  alarm_actions       = local.actions
  ok_actions          = local.actions

  tags = var.tags
}

################################################################################
# Dashboard: the alarmed series, and MSK's throughput
################################################################################

locals {
  dashboard_widgets = concat(
    [
      {
        type = "metric", width = 12, height = 6
        properties = {
          title   = "Aurora: replication slot lag and transaction logs (bytes)"
          region  = local.region
          stat    = "Maximum"
          period  = 300
          metrics = flatten([for id in var.db_instance_identifiers : [["AWS/RDS", "OldestReplicationSlotLag", "DBInstanceIdentifier", id], ["AWS/RDS", "TransactionLogsDiskUsage", "DBInstanceIdentifier", id]]])
        }
      },
      {
        type = "metric", width = 12, height = 6
        properties = {
          title   = "Glue: micro-batch processing time (ms) and records"
          region  = local.region
          stat    = "Average"
          period  = 300
          metrics = [["Glue", "glue.driver.streaming.batchProcessingTimeInMs", "JobName", var.glue_job_name, "JobRunId", "ALL", "Type", "count"], ["Glue", "glue.driver.streaming.numRecords", "JobName", var.glue_job_name, "JobRunId", "ALL", "Type", "count", { stat = "Sum", yAxis = "right" }]]
        }
      },
    ],
    local.with_connector ? [{
      type = "metric", width = 12, height = 6
      properties = {
        title   = "MSK Connect: running and errored tasks"
        region  = local.region
        stat    = "Minimum"
        period  = 300
        metrics = [["AWS/KafkaConnect", "RunningTaskCount", "ConnectorName", var.connector_name], ["AWS/KafkaConnect", "ErroredTaskCount", "ConnectorName", var.connector_name, { stat = "Maximum" }]]
      }
    }] : [],
    # per broker at the DEFAULT monitoring level: summed over the brokers
    local.with_msk ? [{
      type = "metric", width = 12, height = 6
      properties = {
        title  = "MSK: bytes in and out per second (all brokers)"
        region = local.region
        period = 60
        metrics = [
          [{ expression = "SUM(SEARCH('{AWS/Kafka,\"Broker ID\",\"Cluster Name\"} MetricName=\"BytesInPerSec\" \"Cluster Name\"=\"${var.msk_cluster_name}\"', 'Average', 60))", id = "bytes_in", label = "BytesInPerSec" }],
          [{ expression = "SUM(SEARCH('{AWS/Kafka,\"Broker ID\",\"Cluster Name\"} MetricName=\"BytesOutPerSec\" \"Cluster Name\"=\"${var.msk_cluster_name}\"', 'Average', 60))", id = "bytes_out", label = "BytesOutPerSec" }],
        ]
      }
    }] : [],
    [{
      type = "metric", width = 12, height = 6
      properties = {
        title   = "Lake drift (rows that differ from the source)"
        region  = local.region
        stat    = "Maximum"
        period  = 300
        metrics = [[var.lake_metric_namespace, "LakeDrift", "Deployment", var.name]]
      }
    }],
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
