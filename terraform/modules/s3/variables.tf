################################################################################
# Buckets
################################################################################

variable "name" {
  description = "Bucket name prefix: the buckets are <name>-lake and <name>-artifacts (S3 names are global: include the account or a suffix)"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,50}[a-z0-9]$", var.name))
    error_message = "name: 3-52 characters of a-z, 0-9, . and -, so that <name>-artifacts is a valid bucket name."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete the buckets with their objects (for throw-away environments only)"
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "KMS key for default encryption; null uses the AWS-managed key aws/s3"
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "deny_insecure_transport" {
  description = "Deny every request not made over TLS (bucket policy); only a plain-HTTP local endpoint needs false"
  type        = bool
  default     = true
}

variable "allow_vpc_flow_logs" {
  description = "Let VPC flow logs be delivered to the artifacts bucket (under AWSLogs/<account id>/)"
  type        = bool
  default     = true
}

################################################################################
# Lifecycle
################################################################################

variable "changelog_prefix" {
  description = "Key prefix of the change log table's files in the lake bucket (the Iceberg table cdc_changelog)"
  type        = string
  default     = "warehouse/cdc.db/cdc_changelog/"

  validation {
    condition     = can(regex("^[^/].*/$", var.changelog_prefix))
    error_message = "changelog_prefix must be a key prefix ending in /, without a leading /."
  }
}

variable "changelog_transition_days" {
  description = "Days after which change-log files move to Glacier Instant Retrieval (still readable at once, so the Iceberg table stays whole)"
  type        = number
  default     = 30

  validation {
    condition     = var.changelog_transition_days >= 30
    error_message = "changelog_transition_days: S3 moves objects to Glacier Instant Retrieval after 30 days at the earliest."
  }
}

variable "quarantine_prefix" {
  description = "Key prefix of the poison messages the job sets aside (plain JSON lines, safe to expire)"
  type        = string
  default     = "quarantine/"

  validation {
    condition     = can(regex("^[^/].*/$", var.quarantine_prefix))
    error_message = "quarantine_prefix must be a key prefix ending in /, without a leading /."
  }
}

variable "quarantine_expiration_days" {
  description = "Days after which quarantined messages are deleted"
  type        = number
  default     = 90

  validation {
    condition     = var.quarantine_expiration_days >= 1
    error_message = "quarantine_expiration_days must be at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which replaced or deleted object versions are removed (Iceberg deletes files when it compacts and expires snapshots)"
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be at least 1."
  }
}

variable "tags" {
  description = "Tags of every resource"
  type        = map(string)
  default     = {}
}
