output "cluster_arn" {
  description = "ARN of the cluster"
  value       = try(aws_rds_cluster.this.arn, null)
}

output "cluster_identifier" {
  description = "Identifier of the cluster"
  value       = try(aws_rds_cluster.this.id, null)
}

output "endpoint" {
  description = "Writer endpoint: the host Debezium connects to"
  value       = try(aws_rds_cluster.this.endpoint, null)
}

output "reader_endpoint" {
  description = "Reader endpoint"
  value       = try(aws_rds_cluster.this.reader_endpoint, null)
}

output "port" {
  description = "Port of the cluster"
  value       = try(aws_rds_cluster.this.port, null)
}

output "database_name" {
  description = "Name of the captured database"
  value       = try(aws_rds_cluster.this.database_name, null)
}

output "master_user_secret_arn" {
  description = "ARN of the Secrets Manager secret RDS keeps the master password in"
  value       = try(aws_rds_cluster.this.master_user_secret[0].secret_arn, null)
}

output "cdc_user" {
  description = "Replication role Debezium logs in as"
  value       = var.cdc_user
}

output "cdc_user_secret_arn" {
  description = "ARN of the secret holding the replication role's password (JSON key `password`)"
  value       = try(aws_secretsmanager_secret.cdc_user.arn, null)
}

output "parameter_group_name" {
  description = "Cluster parameter group (rds.logical_replication = 1)"
  value       = try(aws_rds_cluster_parameter_group.this.name, null)
}

output "cdc_user_secret_name" {
  description = "Name of that secret (what the Secrets Manager config provider reference names)"
  value       = try(aws_secretsmanager_secret.cdc_user.name, null)
}

output "instance_identifiers" {
  description = "Identifiers of the instances, <name>-1 (the first writer) onwards"
  value       = try(aws_rds_cluster_instance.this[*].identifier, [])
}

output "data_api_enabled" {
  description = "Whether the RDS Data API is enabled (aws rds-data execute-statement --resource-arn <cluster_arn> --secret-arn <master_user_secret_arn>)"
  value       = try(aws_rds_cluster.this.enable_http_endpoint, null)
}
