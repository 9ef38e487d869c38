output "vpc_id" {
  description = "ID of the VPC"
  value       = module.vpc.vpc_id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets"
  value       = module.vpc.private_subnet_ids
}

output "security_group_ids" {
  description = "Security group of each part"
  value       = module.vpc.security_group_ids
}

output "lake_bucket" {
  description = "Name of the lake bucket"
  value       = module.s3.lake_bucket
}

output "artifacts_bucket" {
  description = "Name of the artifacts bucket"
  value       = module.s3.artifacts_bucket
}

output "aurora_endpoint" {
  description = "Writer endpoint of Aurora PostgreSQL"
  value       = module.aurora.endpoint
}

output "aurora_cluster_arn" {
  description = "ARN of the Aurora cluster (the Data API's --resource-arn)"
  value       = module.aurora.cluster_arn
}

output "aurora_master_secret_arn" {
  description = "Secret holding the master password (managed by RDS; the Data API's --secret-arn)"
  value       = module.aurora.master_user_secret_arn
}

output "cdc_user_secret_arn" {
  description = "Secret to store the replication role's password in"
  value       = module.aurora.cdc_user_secret_arn
}

output "msk_bootstrap_brokers" {
  description = "Bootstrap brokers of the IAM listener; null without MSK"
  value       = try(module.msk[0].bootstrap_brokers_sasl_iam, null)
}

output "connector_arn" {
  description = "ARN of the MSK Connect connector; null without MSK"
  value       = try(module.msk_connect[0].connector_arn, null)
}

output "connector_name" {
  description = "Name of the MSK Connect connector; null without it"
  value       = local.with_connector ? local.connector_name : null
}

output "connector_log_group" {
  description = "CloudWatch log group of the connector's workers; null without it"
  value       = try(module.msk_connect[0].log_group_name, null)
}

output "deletion_protection" {
  description = "Whether Aurora and the buckets are protected from deletion (make aws-destroy refuses while they are)"
  value       = var.deletion_protection
}

output "database_names" {
  description = "What the bootstrap created in the database: the replication role, the publication, and the connector's slot"
  value       = { cdc_user = var.settings["PG_CDC_USER"], publication = var.settings["PG_PUBLICATION"], slot = var.settings["PG_SLOT"], schema = var.settings["PG_SCHEMA"], database = var.settings["PG_DATABASE"] }
}

output "glue_job_name" {
  description = "Name of the Glue streaming job"
  value       = module.glue.job_name
}

output "glue_verify_job_name" {
  description = "Name of the lake's verification job (a scheduled Glue job publishing LakeDrift)"
  value       = module.glue.verify_job_name
}

output "glue_maintenance_job_name" {
  description = "Name of the lake's maintenance job (a scheduled Glue job)"
  value       = module.glue.maintenance_job_name
}

output "glue_database" {
  description = "Glue Data Catalog database of the lake"
  value       = module.glue.database_name
}

output "kms_key_arn" {
  description = "ARN of the project's KMS key (buckets, Athena results, alarm topic)"
  value       = module.kms.key_arn
}

output "connect_offset_storage_topic" {
  description = "Topic of the connector's source offsets; null without a connector"
  value       = try(module.msk_connect[0].offset_storage_topic, null)
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic every alarm and the Glue job's failures go to"
  value       = module.monitoring.topic_arn
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard"
  value       = module.monitoring.dashboard_name
}

output "alarm_names" {
  description = "Name of each CloudWatch alarm, by what it watches"
  value       = module.monitoring.alarm_names
}

output "drift_metric" {
  description = "Namespace, name and dimensions of the LakeDrift metric a verification job is to publish"
  value       = module.monitoring.drift_metric
}

output "athena_workgroup" {
  description = "Name of the Athena workgroup that reads the lake"
  value       = module.athena.workgroup_name
}

output "athena_results_location" {
  description = "S3 URI of the Athena query results"
  value       = module.athena.results_location
}

output "lake_reader_policy_arn" {
  description = "ARN of the IAM managed policy to attach to a reader of the lake"
  value       = module.athena.reader_policy_arn
}
