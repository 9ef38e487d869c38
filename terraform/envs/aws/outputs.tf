output "pipeline" {
  description = "What was deployed: VPC, buckets, Aurora endpoint and secrets, MSK brokers, connector, Glue job"
  value       = module.pipeline
}

output "aurora_cluster_arn" {
  description = "ARN of the Aurora cluster: the Data API's --resource-arn"
  value       = module.pipeline.aurora_cluster_arn
}

output "aurora_master_secret_arn" {
  description = "Secret of the master user, managed by RDS: the Data API's --secret-arn"
  value       = module.pipeline.aurora_master_secret_arn
}

output "cdc_user_secret_arn" {
  description = "Secret to store the replication role's password in"
  value       = module.pipeline.cdc_user_secret_arn
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms and the Glue job's failures"
  value       = module.pipeline.alarm_topic_arn
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the pipeline"
  value       = module.pipeline.dashboard_name
}

output "athena_workgroup" {
  description = "Athena workgroup that reads the lake"
  value       = module.pipeline.athena_workgroup
}

output "athena_results_location" {
  description = "S3 URI of the Athena query results"
  value       = module.pipeline.athena_results_location
}

output "lake_reader_policy_arn" {
  description = "IAM managed policy to attach to a reader of the lake"
  value       = module.pipeline.lake_reader_policy_arn
}
