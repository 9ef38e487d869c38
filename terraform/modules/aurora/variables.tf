################################################################################
# Cluster
################################################################################

variable "name" {
  description = "Identifier of the cluster; instances are <name>-1, <name>-2, ..."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,50}[a-z0-9]$", var.name))
    error_message = "name: 2-52 characters of a-z, 0-9 and -, starting with a letter and not ending with -."
  }
}

variable "engine_version" {
  description = "Aurora PostgreSQL version (major.minor); the parameter group family follows its major version"
  type        = string
  default     = "16.6"

  validation {
    condition     = can(regex("^1[1-9]\\.[0-9]+$", var.engine_version))
    error_message = "engine_version: an Aurora PostgreSQL major.minor version such as 16.6 (11 or newer: logical replication with pgoutput)."
  }
}

variable "instance_class" {
  description = "Instance class of every instance"
  type        = string
  default     = "db.r6g.large"

  validation {
    condition     = startswith(var.instance_class, "db.")
    error_message = "instance_class must be an RDS instance class such as db.r6g.large."
  }
}

variable "instance_count" {
  description = "Number of instances: a writer and instance_count - 1 readers (Debezium reads the writer)"
  type        = number
  default     = 1

  validation {
    condition     = var.instance_count >= 1 && var.instance_count <= 16 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number from 1 to 16."
  }
}

variable "database_name" {
  description = "Database created with the cluster: the captured database (PG_DATABASE)"
  type        = string
  default     = "shop"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,62}$", var.database_name))
    error_message = "database_name: a letter, then up to 62 letters, digits or underscores."
  }
}

variable "master_username" {
  description = "Master user; its password is generated and kept in Secrets Manager by RDS, never in Terraform state"
  type        = string
  default     = "cdc_admin"

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_]{0,15}$", var.master_username)) && !contains(["postgres", "admin", "rdsadmin"], lower(var.master_username))
    error_message = "master_username: a letter then up to 15 letters, digits or underscores, not a reserved name."
  }
}

variable "port" {
  description = "Port PostgreSQL listens on"
  type        = number
  default     = 5432

  validation {
    condition     = var.port >= 1150 && var.port <= 65535
    error_message = "port must be between 1150 and 65535 (RDS's range)."
  }
}

variable "max_slot_wal_keep_size_mb" {
  description = "Most WAL, in MB (the parameter's unit), a replication slot may hold back before it is invalidated; -1: no limit"
  type        = number
  default     = 10240

  validation {
    condition     = floor(var.max_slot_wal_keep_size_mb) == var.max_slot_wal_keep_size_mb && (var.max_slot_wal_keep_size_mb == -1 || var.max_slot_wal_keep_size_mb >= 1024)
    error_message = "max_slot_wal_keep_size_mb: a whole number of MB, at least 1024 (1 GB), or -1 for no limit."
  }
}

variable "enable_data_api" {
  description = "Enable the RDS Data API (HTTP endpoint) of the cluster: SQL with the master secret without a host in the VPC (Aurora PostgreSQL 16.1 or newer)"
  type        = bool
  default     = true
}

################################################################################
# Network
################################################################################

variable "subnet_ids" {
  description = "Private subnets of the cluster, in at least two availability zones"
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids: Aurora needs subnets in at least two availability zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the cluster (the vpc module's aurora group: PostgreSQL from MSK Connect only)"
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1
    error_message = "security_group_ids: give at least one security group."
  }
}

################################################################################
# Protection
################################################################################

variable "deletion_protection" {
  description = "Refuse to delete the cluster (turn off only to tear down a test environment)"
  type        = bool
  default     = true
}

variable "skip_final_snapshot" {
  description = "Delete without a final snapshot (throw-away environments only)"
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Days of automated backups"
  type        = number
  default     = 7

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be 1 to 35."
  }
}

variable "monitoring_interval" {
  description = "Seconds between enhanced monitoring samples of the instances; 0 turns it off"
  type        = number
  default     = 60

  validation {
    condition     = contains([0, 1, 5, 10, 15, 30, 60], var.monitoring_interval)
    error_message = "monitoring_interval must be 0, 1, 5, 10, 15, 30 or 60."
  }
}

variable "kms_key_arn" {
  description = "KMS key of the storage and of the master user secret; null uses the AWS-managed keys"
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "cdc_user" {
  description = "The replication role Debezium connects as (PG_CDC_USER); a secret is created for its password"
  type        = string
  default     = "debezium"

  validation {
    condition     = can(regex("^[a-z_][a-z0-9_]{0,62}$", var.cdc_user))
    error_message = "cdc_user must be a PostgreSQL role name of lower-case letters, digits and underscores."
  }
}

variable "tags" {
  description = "Tags of every resource"
  type        = map(string)
  default     = {}
}
