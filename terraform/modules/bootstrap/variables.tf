################################################################################
# The database
################################################################################

variable "cluster_arn" {
  description = "ARN of the Aurora cluster, whose RDS Data API (HTTP endpoint) is enabled"
  type        = string
}

variable "master_secret_arn" {
  description = "ARN of the master user's secret (RDS-managed): the Data API runs the statements as that user"
  type        = string
}

variable "instance_identifiers" {
  description = "The cluster's instances: the Data API answers once the writer runs, so the bootstrap comes after them"
  type        = list(string)
}

variable "database" {
  description = "The captured database (the cluster's database_name)"
  type        = string
}

################################################################################
# What the pipeline creates in it
################################################################################

variable "schema" {
  description = "The captured schema: created if missing, every table of it published"
  type        = string
}

variable "cdc_user" {
  description = "Debezium's replication role"
  type        = string
}

variable "cdc_secret_arn" {
  description = "ARN of the replication role's secret: the bootstrap generates the password into it the first time"
  type        = string
}

variable "publication" {
  description = "The publication of the captured schema (the connector's publication.name)"
  type        = string
}

variable "slot" {
  description = "The connector's replication slot (slot.name), dropped when the deployment is destroyed"
  type        = string
}

################################################################################
# How the provisioners run
################################################################################

variable "deploy_command" {
  description = "How to run the project's python/deploy package (make passes the virtualenv's python with PYTHONPATH)"
  type        = string
  default     = "python3 -m deploy"
}

variable "environment" {
  description = "Environment of the provisioners besides Terraform's own: AWS_ENDPOINT_URL and test credentials for the local endpoint, nothing on AWS"
  type        = map(string)
  default     = {}
}
