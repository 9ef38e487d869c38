################################################################################
# Workgroup
################################################################################

variable "name" {
  description = "Name of the workgroup and prefix of the reader policy"
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9._-]{1,120}$", var.name))
    error_message = "name: up to 120 letters, digits, ., _ and -."
  }
}

variable "bytes_scanned_cutoff_per_query" {
  description = "Bytes a query may scan before Athena cancels it (at least 10 MB)"
  type        = number
  default     = 10737418240 # 10 GiB

  validation {
    condition     = var.bytes_scanned_cutoff_per_query >= 10485760 && floor(var.bytes_scanned_cutoff_per_query) == var.bytes_scanned_cutoff_per_query
    error_message = "bytes_scanned_cutoff_per_query must be a whole number of bytes, at least 10485760 (10 MB)."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy delete the workgroup with its saved queries"
  type        = bool
  default     = false
}

################################################################################
# The lake and the results
################################################################################

variable "database_name" {
  description = "Glue Data Catalog database of the lake's tables"
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket (read by readers)"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::", var.lake_bucket_arn))
    error_message = "lake_bucket_arn must be an S3 bucket ARN."
  }
}

variable "results_bucket" {
  description = "Bucket of the query results (a prefix of the artifacts bucket)"
  type        = string
}

variable "results_prefix" {
  description = "Key prefix of the query results in results_bucket"
  type        = string
  default     = "athena-results/"

  validation {
    condition     = can(regex("^[^/].*/$", var.results_prefix))
    error_message = "results_prefix must be a key prefix ending in /, without a leading /."
  }
}

variable "kms_key_arn" {
  description = "KMS key the results are encrypted with (SSE_KMS) and the buckets are encrypted with: the project's key"
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "tags" {
  description = "Tags of every resource"
  type        = map(string)
  default     = {}
}
