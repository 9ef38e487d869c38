################################################################################
# Connector
################################################################################

variable "name" {
  description = "Name of the connector (the pipeline: <deployment>-CONNECTOR_NAME) and prefix of its plugin, worker configuration, role and log group"
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,50}$", var.name))
    error_message = "name: up to 51 letters, digits and -, starting with a letter."
  }
}

variable "kafkaconnect_version" {
  description = "Kafka Connect version of the MSK Connect workers (MSK_CONNECT_VERSION in versions.env)"
  type        = string
  default     = "3.7.x"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.([0-9]+|x)$", var.kafkaconnect_version))
    error_message = "kafkaconnect_version: an MSK Connect version string such as 3.7.x."
  }
}

variable "connector_template_path" {
  description = "Path of the Debezium connector template, the one source of connector settings (connectors/postgres-source.json.tmpl)"
  type        = string

  validation {
    condition     = endswith(var.connector_template_path, ".json.tmpl")
    error_message = "connector_template_path must name a connectors/*.json.tmpl file."
  }
}

variable "connector_settings" {
  description = "Values of the template's $${VAR} placeholders from .env.example (PG_DATABASE, PG_CDC_USER, TOPIC_PREFIX, ...); the database host, port and password reference are set by this module"
  type        = map(string)

  validation {
    condition = alltrue([for k in ["PG_DATABASE", "PG_CDC_USER", "TOPIC_PREFIX", "PG_SCHEMA", "PG_PUBLICATION", "PG_SLOT", "HEARTBEAT_INTERVAL_MS"] :
    contains(keys(var.connector_settings), k)])
    error_message = "connector_settings must give PG_DATABASE, PG_CDC_USER, TOPIC_PREFIX, PG_SCHEMA, PG_PUBLICATION, PG_SLOT and HEARTBEAT_INTERVAL_MS."
  }
}

variable "mcu_count" {
  description = "MSK Connect units per worker"
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 2, 4, 8], var.mcu_count)
    error_message = "mcu_count must be 1, 2, 4 or 8."
  }
}

variable "worker_count" {
  description = "Number of workers (the PostgreSQL connector runs one task: one worker is enough)"
  type        = number
  default     = 1

  validation {
    condition     = var.worker_count >= 1 && var.worker_count <= 10
    error_message = "worker_count must be 1 to 10."
  }
}

variable "offset_storage_topic" {
  description = "Topic of the workers' source offsets (offset.storage.topic), kept across connector replacements; null: <name>-connect-offsets. Connect creates it compacted; one created beforehand must have cleanup.policy=compact"
  type        = string
  default     = null

  validation {
    condition     = var.offset_storage_topic == null || can(regex("^[a-zA-Z0-9._-]{1,249}$", var.offset_storage_topic))
    error_message = "offset_storage_topic must be a Kafka topic name: up to 249 letters, digits, ., _ and -."
  }
}

################################################################################
# Plugin
################################################################################

variable "plugin_zip_path" {
  description = "Local path of the custom plugin zip built by `make aws-package` (Debezium's PostgreSQL connector and the Secrets Manager config provider)"
  type        = string

  validation {
    condition     = endswith(var.plugin_zip_path, ".zip")
    error_message = "plugin_zip_path must name a .zip file."
  }
}

variable "artifacts_bucket" {
  description = "Bucket the plugin zip is uploaded to"
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::", var.artifacts_bucket_arn))
    error_message = "artifacts_bucket_arn must be an S3 bucket ARN."
  }
}

variable "plugin_key" {
  description = "Object key of the plugin zip"
  type        = string
  default     = "msk-connect/debezium-connector-postgres.zip"
}

################################################################################
# Kafka and the database
################################################################################

variable "cluster_name" {
  description = "Name of the MSK cluster (for topic and group ARNs)"
  type        = string
}

variable "cluster_uuid" {
  description = "UUID of the MSK cluster (for topic and group ARNs)"
  type        = string
}

variable "cluster_arn" {
  description = "ARN of the MSK cluster"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kafka:", var.cluster_arn))
    error_message = "cluster_arn must be an MSK cluster ARN."
  }
}

variable "bootstrap_brokers" {
  description = "Bootstrap brokers of the cluster's IAM listener (host:9098,...)"
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the workers"
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the workers (the vpc module's connect group)"
  type        = list(string)
}

variable "db_host" {
  description = "Host of the source database (the Aurora writer endpoint)"
  type        = string
}

variable "db_port" {
  description = "Port of the source database"
  type        = number
  default     = 5432
}

variable "db_secret_arn" {
  description = "ARN of the Secrets Manager secret holding the replication role's password under the JSON key `password`"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:secretsmanager:[^:]+:[0-9]+:secret:.+$", var.db_secret_arn))
    error_message = "db_secret_arn must be a Secrets Manager secret ARN."
  }
}

variable "db_secret_name" {
  description = "Name of that secret: the config provider reference names the secret, as an ARN's colons would break Kafka's $${provider:path:key} syntax"
  type        = string

  validation {
    condition     = !strcontains(var.db_secret_name, ":") && !strcontains(var.db_secret_name, "}")
    error_message = "db_secret_name must not contain : or }."
  }
}

variable "log_retention_days" {
  description = "Days the worker logs are kept in CloudWatch Logs"
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "tags" {
  description = "Tags of every resource"
  type        = map(string)
  default     = {}
}

variable "database_ready" {
  description = "The ID of what prepares the database for the connector (the bootstrap module's id): the connector is created after it"
  type        = string
  default     = null
}
