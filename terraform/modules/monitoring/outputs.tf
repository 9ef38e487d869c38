output "topic_arn" {
  description = "ARN of the alarm topic (subscribe more endpoints to it)"
  value       = try(aws_sns_topic.this.arn, null)
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard"
  value       = try(aws_cloudwatch_dashboard.this.dashboard_name, null)
}

output "alarm_names" {
  description = "Name of each alarm, by what it watches"
  value = merge(
    { for id, a in aws_cloudwatch_metric_alarm.slot_lag : "slot_lag_${id}" => a.alarm_name },
    { for id, a in aws_cloudwatch_metric_alarm.transaction_logs : "transaction_logs_${id}" => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.connector_errored_tasks : "connector_errored_tasks" => a.alarm_name },
    { for a in aws_cloudwatch_metric_alarm.connector_running_tasks : "connector_running_tasks" => a.alarm_name },
    { glue_batch_processing_time = try(aws_cloudwatch_metric_alarm.glue_batch_time.alarm_name, null) },
    { lake_drift = try(aws_cloudwatch_metric_alarm.lake_drift.alarm_name, null) },
  )
}

output "glue_failure_rule_arn" {
  description = "ARN of the EventBridge rule that sends the Glue job's failures to the topic"
  value       = try(aws_cloudwatch_event_rule.glue_job_failed.arn, null)
}

output "drift_metric" {
  description = "Where the verification job publishes drift: namespace, metric name and dimensions"
  value = {
    namespace  = var.lake_metric_namespace
    name       = "LakeDrift"
    dimensions = { Deployment = var.name }
  }
}
