output "pipeline" {
  description = "What was deployed: VPC, buckets, Aurora endpoint and secrets, MSK brokers, connector, Glue job"
  value       = module.pipeline
}
