################################################################################
# Cluster
################################################################################

variable "name" {
  description = "Name of the cluster and of its configuration"
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,63}$", var.name))
    error_message = "name: up to 64 letters, digits and -, starting with a letter."
  }
}

variable "kafka_version" {
  description = "Kafka version of the brokers, as MSK names it (MSK_KAFKA_VERSION in versions.env)"
  type        = string
  default     = "3.9.x"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.([0-9]+|x)(\\.kraft)?$", var.kafka_version))
    error_message = "kafka_version: an MSK version string such as 3.9.x or 3.6.0."
  }
}

variable "broker_instance_type" {
  description = "Broker instance type"
  type        = string
  default     = "kafka.m7g.large"

  validation {
    condition     = startswith(var.broker_instance_type, "kafka.")
    error_message = "broker_instance_type must be an MSK broker type such as kafka.m7g.large."
  }
}

variable "number_of_broker_nodes" {
  description = "Number of brokers: a multiple of the number of subnets (MSK puts the same number in each), at least default.replication.factor"
  type        = number
  default     = 3

  validation {
    condition     = var.number_of_broker_nodes >= 2 && floor(var.number_of_broker_nodes) == var.number_of_broker_nodes
    error_message = "number_of_broker_nodes must be a whole number, at least 2."
  }
}

variable "volume_size" {
  description = "EBS storage per broker, GiB"
  type        = number
  default     = 100

  validation {
    condition     = var.volume_size >= 1 && var.volume_size <= 16384
    error_message = "volume_size must be 1 to 16384 GiB."
  }
}

variable "server_properties" {
  description = "Broker settings of the cluster configuration; auto.create.topics.enable lets Debezium create a topic per table; three replicas of which two must acknowledge (acks=all), so one broker can be lost without losing a write"
  type        = map(string)
  default = {
    "auto.create.topics.enable"  = "true"
    "default.replication.factor" = "3"
    "min.insync.replicas"        = "2"
    "num.partitions"             = "1"
  }

  validation {
    condition     = lookup(var.server_properties, "auto.create.topics.enable", "false") == "true"
    error_message = "server_properties must set auto.create.topics.enable = true: Debezium creates one topic per captured table."
  }

  # acks=all with min.insync.replicas = replication factor stops every write when one broker is down; with 1 it
  # succeeds on a single copy
  validation {
    condition = (
      can(tonumber(var.server_properties["default.replication.factor"])) && can(tonumber(var.server_properties["min.insync.replicas"])) &&
      try(tonumber(var.server_properties["min.insync.replicas"]) >= 2 && tonumber(var.server_properties["min.insync.replicas"]) < tonumber(var.server_properties["default.replication.factor"]), false)
    )
    error_message = "server_properties must set default.replication.factor and min.insync.replicas with 2 <= min.insync.replicas < default.replication.factor."
  }
}

################################################################################
# Network and encryption
################################################################################

variable "subnet_ids" {
  description = "Private subnets of the brokers, in different availability zones"
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids: MSK needs subnets in at least two availability zones."
  }
}

variable "security_group_ids" {
  description = "Security groups of the brokers (the vpc module's msk group: port 9098 from MSK Connect and Glue only)"
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1
    error_message = "security_group_ids: give at least one security group."
  }
}

variable "kms_key_arn" {
  description = "KMS key for encryption at rest; null uses the AWS-managed key aws/kafka"
  type        = string
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "log_retention_days" {
  description = "Days the broker logs are kept in CloudWatch Logs"
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "tags" {
  description = "Tags of every resource"
  type        = map(string)
  default     = {}
}
