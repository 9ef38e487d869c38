variable "region" {
  description = "AWS region to deploy to"
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.region))
    error_message = "region must be an AWS region name such as us-east-1."
  }
}

variable "name" {
  description = "Name of the deployment: prefix of every resource"
  type        = string
  default     = "cdc-lake"
}

variable "bucket_prefix" {
  description = "Prefix of the bucket names; null: <name>-<account id>-<region>"
  type        = string
  default     = null
}

variable "build_dir" {
  description = "The project's BUILD_DIR holding aws/*.zip from `make aws-package` (make passes it); null: <repository>/.build"
  type        = string
  default     = null
}

variable "enable_nat_gateway" {
  description = "Outbound internet for the private subnets (not needed: AWS APIs are reached through VPC endpoints)"
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Protect the database and keep the buckets on destroy; set false to tear a test deployment down"
  type        = bool
  default     = true
}

variable "create_connector" {
  description = "Create the Debezium connector (after the database bootstrap, in the same apply); false leaves it out"
  type        = bool
  default     = true
}

variable "alarm_email" {
  description = "E-mail address that receives the alarms (it must confirm the subscription AWS sends); null: none"
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or null."
  }
}

variable "deploy_command" {
  description = "How Terraform's provisioners run the project's python/deploy package (make passes the virtualenv's python with PYTHONPATH)"
  type        = string
  default     = "python3 -m deploy"
}
