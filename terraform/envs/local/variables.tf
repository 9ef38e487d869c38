variable "endpoint" {
  description = "URL of the local AWS endpoint (AWS_ENDPOINT_HOST:AWS_ENDPOINT_PORT)"
  type        = string
  default     = "http://127.0.0.1:4566"

  validation {
    condition     = can(regex("^https?://[^/]+$", var.endpoint))
    error_message = "endpoint must be a URL such as http://127.0.0.1:4566."
  }
}

variable "region" {
  description = "Region the local endpoint serves (AWS_REGION)"
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Name of the deployment: prefix of every resource"
  type        = string
  default     = "cdc-lake"
}

variable "build_dir" {
  description = "The project's BUILD_DIR holding aws/*.zip from `make aws-package` (make passes it); null: <repository>/.build"
  type        = string
  default     = null
}

variable "create_msk" {
  description = "Create MSK and MSK Connect (the local endpoint serves both); false points the Glue job at kafka_bootstrap"
  type        = bool
  default     = true
}

variable "kafka_bootstrap" {
  description = "Kafka the Glue job reads when create_msk is false: the local stack's (KAFKA_HOST:KAFKA_PORT)"
  type        = string
  default     = "127.0.0.1:9092"
}

variable "deploy_command" {
  description = "How Terraform's provisioners run the project's python/deploy package (make passes the virtualenv's python with PYTHONPATH)"
  type        = string
  default     = "python3 -m deploy"
}
