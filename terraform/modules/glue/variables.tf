################################################################################
# Job
################################################################################

variable "name" {
  description = "Name of the job; prefix of its role, connection and security configuration"
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9_-]{0,50}$", var.name))
    error_message = "name: up to 51 letters, digits, _ and -, starting with a letter."
  }
}

variable "glue_version" {
  description = "Glue version the job targets (GLUE_VERSION in versions.env: Spark 3.5, Python 3.11)"
  type        = string
  default     = "5.0"

  validation {
    condition     = contains(["4.0", "5.0"], var.glue_version)
    error_message = "glue_version must be 4.0 or 5.0 (the versions that run Iceberg and Kafka streaming from Python)."
  }
}

variable "worker_type" {
  description = "Glue worker type"
  type        = string
  default     = "G.1X"

  validation {
    condition     = contains(["G.025X", "G.1X", "G.2X", "G.4X", "G.8X"], var.worker_type)
    error_message = "worker_type must be one of G.025X, G.1X, G.2X, G.4X, G.8X."
  }
}

variable "number_of_workers" {
  description = "Number of workers (a driver and executors)"
  type        = number
  default     = 2

  validation {
    condition     = var.number_of_workers >= 2 && floor(var.number_of_workers) == var.number_of_workers
    error_message = "number_of_workers must be a whole number, at least 2."
  }
}

variable "script_path" {
  description = "Local path of the job's entry script (python/glue/cdc_to_lake.py)"
  type        = string

  validation {
    condition     = endswith(var.script_path, ".py")
    error_message = "script_path must name a .py file."
  }
}

variable "package_zip_path" {
  description = "Local path of the zip of the job's `glue` package, built by `make aws-package`, given to the job as --extra-py-files"
  type        = string

  validation {
    condition     = endswith(var.package_zip_path, ".zip")
    error_message = "package_zip_path must name a .zip file."
  }
}

variable "jar_paths" {
  description = "Local paths of jars the job needs beyond Glue's own, uploaded under <artifacts_prefix>jars/ and given as --extra-jars (make aws-package puts aws-msk-iam-auth in .build/aws/glue-jars/)"
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for p in var.jar_paths : endswith(p, ".jar")])
    error_message = "jar_paths must name .jar files."
  }
}

variable "job_arguments" {
  description = "The job's own options (python/glue/options.py) without the leading --: kafka-bootstrap, topic-prefix, ...; lake-uri, catalog and database are set by this module"
  type        = map(string)

  validation {
    condition     = contains(keys(var.job_arguments), "kafka-bootstrap") && (contains(keys(var.job_arguments), "topic-prefix") || contains(keys(var.job_arguments), "topic-pattern"))
    error_message = "job_arguments must give kafka-bootstrap and topic-prefix (or topic-pattern)."
  }
}

################################################################################
# Storage and catalog
################################################################################

variable "artifacts_bucket" {
  description = "Bucket the script and the package are uploaded to"
  type        = string
}

variable "artifacts_bucket_arn" {
  description = "ARN of the artifacts bucket (read-only for the job)"
  type        = string
}

variable "artifacts_prefix" {
  description = "Key prefix of the job's files in the artifacts bucket"
  type        = string
  default     = "glue/"

  validation {
    condition     = endswith(var.artifacts_prefix, "/")
    error_message = "artifacts_prefix must end with /."
  }
}

variable "lake_bucket" {
  description = "Bucket of the lake: the job writes its change log, mirror tables, checkpoints and quarantine there"
  type        = string
}

variable "lake_bucket_arn" {
  description = "ARN of the lake bucket (read-write for the job)"
  type        = string
}

variable "database_name" {
  description = "Glue Data Catalog database of the change log and the mirror tables"
  type        = string
  default     = "cdc"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,254}$", var.database_name))
    error_message = "database_name: lower-case letters, digits and _ (the Data Catalog keeps names in lower case)."
  }
}

################################################################################
# Network and Kafka
################################################################################

variable "vpc_id" {
  description = "VPC of the NETWORK connection's subnet (the role may describe its attributes)"
  type        = string

  validation {
    condition     = can(regex("^vpc-", var.vpc_id))
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_id" {
  description = "Private subnet of the NETWORK connection the job runs in"
  type        = string
}

variable "availability_zone" {
  description = "Availability zone of that subnet"
  type        = string
}

variable "security_group_ids" {
  description = "Security groups of the job's ENIs (the vpc module's glue group)"
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1
    error_message = "security_group_ids: give at least one security group."
  }
}

variable "kafka_cluster" {
  description = "The MSK cluster the job reads (ARN, name, UUID) for its IAM policy; null when it reads another Kafka"
  type = object({
    arn  = string
    name = string
    uuid = string
  })
  default = null
}

variable "kms_key_arn" {
  description = "KMS key of the job's CloudWatch logs and bookmarks; null keeps S3 encryption only (SSE-S3)"
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "s3_kms_key_arn" {
  description = "KMS key of the buckets' default encryption (the project's key): the role may use it through S3 only; null when the buckets use the AWS-managed key"
  type        = string
  default     = null

  validation {
    condition     = var.s3_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.s3_kms_key_arn))
    error_message = "s3_kms_key_arn must be a KMS key ARN."
  }
}

variable "lake_metric_namespace" {
  description = "CloudWatch namespace of the pipeline's own metrics (LakeDrift), which the role may publish to"
  type        = string
  default     = "CdcLake"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#:-]{1,255}$", var.lake_metric_namespace)) && !startswith(var.lake_metric_namespace, "AWS/")
    error_message = "lake_metric_namespace: a CloudWatch namespace of letters, digits and . _ / # : -, not starting with AWS/."
  }
}

variable "tags" {
  description = "Tags of every resource"
  type        = map(string)
  default     = {}
}

################################################################################
# The job's run
################################################################################

variable "start_run" {
  description = "Start the streaming job's run on apply and stop it on destroy (python -m deploy start-job / stop-job); false leaves the job idle"
  type        = bool
  default     = true
}

variable "deploy_command" {
  description = "How to run the project's python/deploy package (make passes the virtualenv's python with PYTHONPATH)"
  type        = string
  default     = "python3 -m deploy"
}

variable "provisioner_environment" {
  description = "Environment of the provisioners besides Terraform's own: AWS_ENDPOINT_URL and test credentials for the local endpoint, nothing on AWS"
  type        = map(string)
  default     = {}
}

variable "maintenance_script_path" {
  description = "Local path of the maintenance job's entry script (python/glue/maintain_lake.py)"
  type        = string
}

variable "maintenance_schedule" {
  description = "When the maintenance job runs: a Glue cron expression"
  type        = string
  default     = "cron(0/30 * * * ? *)"
}

variable "maintenance_workers" {
  description = "Workers of a maintenance run"
  type        = number
  default     = 2
}

variable "maintenance_timeout_minutes" {
  description = "Minutes after which a maintenance (or verification) run is stopped"
  type        = number
  default     = 60
}

variable "verify_script_path" {
  description = "Local path of the verification job's entry script (python/glue/verify_lake.py)"
  type        = string
}

variable "verify_schedule" {
  description = "When the verification job runs: a Glue cron expression (the drift alarm's period is an hour)"
  type        = string
  default     = "cron(15 * * * ? *)"
}

variable "source_jdbc_url" {
  description = "JDBC URL of the source database the verification job reads: jdbc:postgresql://host:port/database"
  type        = string

  validation {
    condition     = startswith(var.source_jdbc_url, "jdbc:postgresql://")
    error_message = "source_jdbc_url: a PostgreSQL JDBC URL, jdbc:postgresql://host:port/database."
  }
}

variable "source_secret_arn" {
  description = "ARN of the Secrets Manager secret of a user that reads the source tables ({\"username\": ..., \"password\": ...})"
  type        = string
}

variable "source_secret_kms_key_arn" {
  description = "ARN of the KMS key that encrypts the source's secret"
  type        = string
}

variable "source_schema" {
  description = "Schema of the source tables"
  type        = string
  default     = "public"
}

variable "slot_name" {
  description = "Debezium's replication slot: the verification waits until it has confirmed the source's position"
  type        = string
  default     = "debezium"
}

variable "deployment_name" {
  description = "The Deployment dimension of LakeDrift (the monitoring module's name)"
  type        = string
}
