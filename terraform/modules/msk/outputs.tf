output "cluster_arn" {
  description = "ARN of the cluster"
  value       = try(aws_msk_cluster.this.arn, null)
}

output "cluster_name" {
  description = "Name of the cluster (part of its topic and group ARNs)"
  value       = try(aws_msk_cluster.this.cluster_name, null)
}

output "cluster_uuid" {
  description = "UUID of the cluster (part of its topic and group ARNs)"
  value       = try(aws_msk_cluster.this.cluster_uuid, null)
}

output "bootstrap_brokers_sasl_iam" {
  description = "Bootstrap brokers of the IAM-authenticated TLS listener, host:9098,..."
  value       = try(aws_msk_cluster.this.bootstrap_brokers_sasl_iam, null)
}

output "configuration_arn" {
  description = "ARN of the cluster configuration"
  value       = try(aws_msk_configuration.this.arn, null)
}

output "log_group_name" {
  description = "CloudWatch log group of the broker logs"
  value       = try(aws_cloudwatch_log_group.this.name, null)
}
