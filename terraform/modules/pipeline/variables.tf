################################################################################
# Naming and paths
################################################################################

variable "name" {
  description = "Name of the deployment: prefix of every resource"
  type        = string
  default     = "cdc-lake"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name: 2-21 characters of a-z, 0-9 and -, starting with a letter."
  }
}

variable "bucket_prefix" {
  description = "Prefix of the bucket names (<prefix>-lake, <prefix>-artifacts); null: <name>-<account id>-<region>"
  type        = string
  default     = null
}

variable "build_dir" {
  description = "The project's BUILD_DIR, where `make aws-package` leaves aws/debezium-connector-postgres.zip and aws/glue-job.zip; null: <repository>/.build"
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags of every resource"
  type        = map(string)
  default     = {}
}

################################################################################
# Network
################################################################################

variable "vpc_cidr" {
  description = "IPv4 CIDR of the VPC"
  type        = string
  default     = "10.42.0.0/16"
}

variable "availability_zone_count" {
  description = "Number of availability zones (subnets) to spread over; MSK puts msk_broker_count / availability_zone_count brokers in each"
  type        = number
  default     = 3

  validation {
    condition     = var.availability_zone_count >= 2 && var.availability_zone_count <= 3
    error_message = "availability_zone_count must be 2 or 3."
  }

  validation {
    condition     = var.msk_broker_count % var.availability_zone_count == 0
    error_message = "msk_broker_count must be a multiple of availability_zone_count: MSK puts the same number of brokers in each zone."
  }
}

variable "enable_nat_gateway" {
  description = "Give the private subnets outbound internet access through a NAT gateway (the pipeline does not need it)"
  type        = bool
  default     = false
}

################################################################################
# Protection
################################################################################

variable "deletion_protection" {
  description = "Protect the database from deletion and keep a final snapshot; false also lets destroy empty the buckets"
  type        = bool
  default     = true
}

variable "s3_deny_insecure_transport" {
  description = "Buckets refuse requests not made over TLS; false only for a plain-HTTP local endpoint"
  type        = bool
  default     = true
}

################################################################################
# Versions (each equal to versions.env: tests/infra checks them)
################################################################################

variable "aurora_engine_version" {
  description = "Aurora PostgreSQL version (AURORA_POSTGRES_VERSION)"
  type        = string
  default     = "16.6"
}

variable "msk_kafka_version" {
  description = "MSK Kafka version (MSK_KAFKA_VERSION)"
  type        = string
  default     = "3.9.x"
}

variable "msk_connect_version" {
  description = "MSK Connect Kafka Connect version (MSK_CONNECT_VERSION)"
  type        = string
  default     = "3.7.x"
}

variable "glue_version" {
  description = "Glue version of the job (GLUE_VERSION)"
  type        = string
  default     = "5.0"
}

################################################################################
# Sizes
################################################################################

variable "aurora_instance_class" {
  description = "Instance class of the Aurora instances"
  type        = string
  default     = "db.r6g.large"
}

variable "aurora_instance_count" {
  description = "Number of Aurora instances"
  type        = number
  default     = 1
}

variable "msk_broker_instance_type" {
  description = "MSK broker instance type"
  type        = string
  default     = "kafka.m7g.large"
}

variable "msk_broker_count" {
  description = "Number of MSK brokers: a multiple of availability_zone_count, at least the replication factor (3)"
  type        = number
  default     = 3

  validation {
    condition     = var.msk_broker_count >= 3 && floor(var.msk_broker_count) == var.msk_broker_count
    error_message = "msk_broker_count must be a whole number, at least 3 (topics have three replicas, two in sync)."
  }
}

variable "glue_number_of_workers" {
  description = "Workers of the Glue job"
  type        = number
  default     = 2
}

################################################################################
# Kafka
################################################################################

variable "create_msk" {
  description = "Create the MSK cluster and the MSK Connect connector; false points the Glue job at kafka_bootstrap instead (the local endpoint has no MSK)"
  type        = bool
  default     = true
}

variable "create_connector" {
  description = "Create the MSK Connect connector (with create_msk); it is created after the database bootstrap, so the first apply needs nothing else"
  type        = bool
  default     = true
}

variable "kafka_bootstrap" {
  description = "Kafka bootstrap servers of the Glue job when create_msk is false"
  type        = string
  default     = null

  validation {
    condition     = var.kafka_bootstrap == null || can(regex("^[^,:]+:[0-9]+(,[^,:]+:[0-9]+)*$", var.kafka_bootstrap))
    error_message = "kafka_bootstrap must be host:port[,host:port...]."
  }
}

################################################################################
# Connector and job settings (.env.example's names and defaults)
################################################################################

variable "settings" {
  description = "Settings of the connector template and the job, by their .env.example names"
  type        = map(string)
  default = {
    CONNECTOR_NAME        = "shop-postgres"
    PG_DATABASE           = "shop"
    PG_SCHEMA             = "shop"
    PG_CDC_USER           = "debezium"
    PG_PUBLICATION        = "dbz_publication"
    PG_SLOT               = "dbz_shop"
    TOPIC_PREFIX          = "shop"
    HEARTBEAT_INTERVAL_MS = "10000"
  }
}

variable "glue_database" {
  description = "Glue Data Catalog database of the lake tables"
  type        = string
  default     = "cdc"
}

################################################################################
# Aurora and MSK Connect: what keeps a stuck slot and a replaced connector harmless
################################################################################

variable "aurora_max_slot_wal_keep_size_mb" {
  description = "max_slot_wal_keep_size of the cluster parameter group, MB: past this much WAL held back, the slot is invalidated instead of the storage filling up"
  type        = number
  default     = 10240
}

variable "connect_offset_storage_topic" {
  description = "Topic of the connector's source offsets (offset.storage.topic); null: <name>-<CONNECTOR_NAME>-connect-offsets"
  type        = string
  default     = null
}

################################################################################
# Monitoring and reading the lake
################################################################################

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic; null: no subscription"
  type        = string
  default     = null
}

variable "alarm_thresholds" {
  description = "Alarm thresholds: WAL held by the replication slot and transaction log storage (bytes), average micro-batch time of the Glue job (ms)"
  type = object({
    slot_lag_bytes         = number
    transaction_logs_bytes = number
    batch_processing_ms    = number
  })
  default = {
    slot_lag_bytes         = 2147483648
    transaction_logs_bytes = 5368709120
    batch_processing_ms    = 6000
  }
}

variable "lake_metric_namespace" {
  description = "CloudWatch namespace of the pipeline's own metrics (LakeDrift); the Glue role may publish to it"
  type        = string
  default     = "CdcLake"
}

variable "athena_bytes_scanned_cutoff_per_query" {
  description = "Bytes an Athena query of the lake may scan before it is cancelled"
  type        = number
  default     = 10737418240
}

################################################################################
# What Terraform runs beyond resources: the database bootstrap, the job's run
################################################################################

variable "start_job" {
  description = "Start the Glue job's run on apply (and stop it on destroy); false leaves the job idle"
  type        = bool
  default     = true
}

variable "deploy_command" {
  description = "How the provisioners run the project's python/deploy package (make passes the virtualenv's python with PYTHONPATH)"
  type        = string
  default     = "python3 -m deploy"
}

variable "provisioner_environment" {
  description = "Environment of the provisioners besides Terraform's own: AWS_ENDPOINT_URL and test credentials for the local endpoint; the region on AWS"
  type        = map(string)
  default     = {}
}

variable "maintenance_schedule" {
  description = "When the lake's maintenance job runs (compaction, snapshot expiry, orphan files): a Glue cron expression"
  type        = string
  default     = "cron(0/30 * * * ? *)"
}
