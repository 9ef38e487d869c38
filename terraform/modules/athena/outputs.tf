output "workgroup_name" {
  description = "Name of the Athena workgroup (aws athena start-query-execution --work-group ...)"
  value       = try(aws_athena_workgroup.this.name, null)
}

output "workgroup_arn" {
  description = "ARN of the workgroup"
  value       = try(aws_athena_workgroup.this.arn, null)
}

output "results_location" {
  description = "S3 URI of the query results (SSE-KMS with the project's key)"
  value       = try(aws_athena_workgroup.this.configuration[0].result_configuration[0].output_location, null)
}

output "reader_policy_arn" {
  description = "ARN of the IAM managed policy a reader of the lake needs: attach it to a user or role"
  value       = try(aws_iam_policy.reader.arn, null)
}
