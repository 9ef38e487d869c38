################################################################################
# Topic
################################################################################

variable "name" {
  description = "Name of the deployment: prefix of the topic, alarms, rule and dashboard, and the Deployment dimension of LakeDrift"
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,200}$", var.name))
    error_message = "name: letters, digits, _ and - (an SNS topic and a dashboard are named after it)."
  }
}

variable "kms_key_arn" {
  description = "KMS key the alarm topic is encrypted with (the project's key, whose policy lets CloudWatch and EventBridge use it)"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (it must confirm the subscription); null: no subscription"
  type        = string
  default     = null

  validation {
    condition     = var.alarm_email == null || can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an e-mail address or null."
  }
}

################################################################################
# What is watched
################################################################################

variable "db_instance_identifiers" {
  description = "Aurora instances whose replication slot and transaction logs are watched (the slot is on the writer; every instance is listed so that a failover keeps an alarm on the writer)"
  type        = list(string)

  validation {
    condition     = length(var.db_instance_identifiers) >= 1
    error_message = "db_instance_identifiers: give at least the writer instance."
  }
}

variable "connector_name" {
  description = "Name of the MSK Connect connector (the ConnectorName dimension); null when there is no connector: no connector alarms"
  type        = string
  default     = null
}

variable "connector_task_count" {
  description = "Tasks the connector runs when healthy (tasks.max; Debezium's PostgreSQL connector runs one)"
  type        = number
  default     = 1

  validation {
    condition     = var.connector_task_count >= 1 && floor(var.connector_task_count) == var.connector_task_count
    error_message = "connector_task_count must be a whole number, at least 1."
  }
}

variable "glue_job_name" {
  description = "Name of the Glue streaming job"
  type        = string
}

variable "glue_maintenance_job_name" {
  description = "Name of the lake's maintenance job, whose failed runs are reported too; null: none"
  type        = string
  default     = null
}

variable "glue_verify_job_name" {
  description = "Name of the lake's verification job, whose failed runs are reported too; null: none"
  type        = string
  default     = null
}

variable "msk_cluster_name" {
  description = "Name of the MSK cluster whose throughput the dashboard shows; null without MSK"
  type        = string
  default     = null
}

variable "lake_metric_namespace" {
  description = "CloudWatch namespace of the pipeline's own metrics, where the verification job publishes LakeDrift"
  type        = string
  default     = "CdcLake"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.lake_metric_namespace)) && !startswith(var.lake_metric_namespace, "AWS/")
    error_message = "lake_metric_namespace: a CloudWatch namespace of letters, digits and . _ / # : -, not starting with AWS/."
  }
}

################################################################################
# Thresholds
################################################################################

variable "slot_lag_threshold_bytes" {
  description = "WAL the replication slot may hold back before the alarm (OldestReplicationSlotLag, bytes); keep it well below max_slot_wal_keep_size"
  type        = number
  default     = 2147483648 # 2 GiB, a fifth of the default 10 GB max_slot_wal_keep_size

  validation {
    condition     = var.slot_lag_threshold_bytes > 0
    error_message = "slot_lag_threshold_bytes must be positive."
  }
}

variable "transaction_logs_threshold_bytes" {
  description = "Storage the transaction logs may use before the alarm (TransactionLogsDiskUsage, bytes)"
  type        = number
  default     = 5368709120 # 5 GiB, half the default max_slot_wal_keep_size

  validation {
    condition     = var.transaction_logs_threshold_bytes > 0
    error_message = "transaction_logs_threshold_bytes must be positive."
  }
}

variable "batch_processing_threshold_ms" {
  description = "Average micro-batch processing time (glue.driver.streaming.batchProcessingTimeInMs) above which the job is falling behind: 120 % of the trigger interval (--trigger-seconds, 5 s)"
  type        = number
  default     = 6000

  validation {
    condition     = var.batch_processing_threshold_ms > 0
    error_message = "batch_processing_threshold_ms must be positive."
  }
}

variable "tags" {
  description = "Tags of every resource"
  type        = map(string)
  default     = {}
}
