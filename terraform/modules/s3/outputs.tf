output "lake_bucket" {
  description = "Name of the lake bucket"
  value       = try(aws_s3_bucket.this["lake"].id, null)
}

output "lake_bucket_arn" {
  description = "ARN of the lake bucket"
  value       = try(aws_s3_bucket.this["lake"].arn, null)
}

output "artifacts_bucket" {
  description = "Name of the artifacts bucket (Glue script, MSK Connect plugin)"
  value       = try(aws_s3_bucket.this["artifacts"].id, null)
}

output "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket"
  value       = try(aws_s3_bucket.this["artifacts"].arn, null)
}
