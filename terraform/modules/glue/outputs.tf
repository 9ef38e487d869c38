output "job_name" {
  description = "Name of the Glue job (aws glue start-job-run --job-name ...)"
  value       = try(aws_glue_job.this.name, null)
}

output "job_arguments" {
  description = "Default arguments of the job"
  value       = try(aws_glue_job.this.default_arguments, {})
}

output "script_location" {
  description = "S3 URI of the entry script"
  value       = try(aws_glue_job.this.command[0].script_location, null)
}

output "database_name" {
  description = "Glue Data Catalog database of the lake tables"
  value       = try(aws_glue_catalog_database.this.name, null)
}

output "connection_name" {
  description = "Name of the NETWORK connection"
  value       = try(aws_glue_connection.this.name, null)
}

output "role_arn" {
  description = "ARN of the job's role"
  value       = try(aws_iam_role.this.arn, null)
}

output "job_arn" {
  description = "ARN of the Glue job"
  value       = try(aws_glue_job.this.arn, null)
}

output "run_started" {
  description = "Whether Terraform keeps a run of the job going (start_run)"
  value       = length(terraform_data.run) > 0
}

output "maintenance_job_name" {
  description = "Name of the maintenance job (compaction, snapshot expiry, orphan files)"
  value       = try(aws_glue_job.maintenance.name, null)
}

output "maintenance_trigger_name" {
  description = "Name of the maintenance job's scheduled trigger"
  value       = try(aws_glue_trigger.maintenance.name, null)
}

output "verify_job_name" {
  description = "Name of the scheduled verification job (publishes LakeDrift)"
  value       = aws_glue_job.verify.name
}
