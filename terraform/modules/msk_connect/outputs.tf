output "connector_arn" {
  description = "ARN of the connector"
  value       = try(aws_mskconnect_connector.this.arn, null)
}

output "connector_config" {
  description = "The connector configuration rendered from the template (the password is a config provider reference)"
  value       = local.connector_config
}

output "custom_plugin_arn" {
  description = "ARN of the custom plugin"
  value       = try(aws_mskconnect_custom_plugin.this.arn, null)
}

output "worker_configuration_arn" {
  description = "ARN of the worker configuration"
  value       = try(aws_mskconnect_worker_configuration.this.arn, null)
}

output "role_arn" {
  description = "ARN of the service execution role"
  value       = try(aws_iam_role.this.arn, null)
}

output "log_group_name" {
  description = "CloudWatch log group of the worker logs"
  value       = try(aws_cloudwatch_log_group.this.name, null)
}

output "config_hash" {
  description = "Hash of the connector, worker and plugin settings; a new value replaces the connector"
  value       = terraform_data.connector_config.input
}

output "offset_storage_topic" {
  description = "Topic holding the connector's source offsets (offset.storage.topic of the worker configuration)"
  value       = local.offset_storage_topic
}
