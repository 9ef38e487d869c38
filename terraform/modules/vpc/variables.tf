################################################################################
# Network
################################################################################

variable "name" {
  description = "Name prefix of every resource (and its Name tag)"
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: 2-31 characters of a-z, 0-9 and -, starting with a letter."
  }
}

variable "cidr_block" {
  description = "IPv4 CIDR of the VPC; private subnets take the first /(n+4) blocks, public ones (NAT only) the ninth onwards"
  type        = string
  default     = "10.42.0.0/16"

  validation {
    condition     = can(cidrhost(var.cidr_block, 0)) && tonumber(split("/", var.cidr_block)[1]) <= 24
    error_message = "cidr_block must be an IPv4 CIDR of /24 or larger, e.g. 10.42.0.0/16."
  }
}

variable "availability_zones" {
  description = "Availability zones of the subnets, one private subnet each (Aurora and MSK need at least two)"
  type        = list(string)

  validation {
    condition     = length(var.availability_zones) >= 2 && length(var.availability_zones) <= 8
    error_message = "availability_zones: give 2 to 8 zones."
  }
}

################################################################################
# Egress
################################################################################

variable "enable_nat_gateway" {
  description = "Create public subnets, an internet gateway and one NAT gateway for outbound internet access (not needed by the pipeline: its AWS APIs are reached through VPC endpoints)"
  type        = bool
  default     = false
}

variable "interface_endpoints" {
  description = "AWS services reached through interface endpoints from the private subnets (MSK Connect workers and Glue have no other way out without NAT); monitoring is CloudWatch, where the job's --enable-metrics publishes"
  type        = set(string)
  default     = ["secretsmanager", "sts", "logs", "glue", "monitoring"]

  validation {
    condition     = alltrue([for s in var.interface_endpoints : can(regex("^[a-z0-9.-]+$", s))])
    error_message = "interface_endpoints: service short names such as secretsmanager, sts, logs."
  }
}

variable "enable_flow_log" {
  description = "Log the VPC's traffic (ALL) to flow_log_destination_arn"
  type        = bool
  default     = false
}

variable "flow_log_destination_arn" {
  description = "ARN of the S3 bucket receiving the VPC flow logs (under AWSLogs/), when enable_flow_log is true; if it is SSE-KMS, its key must be a customer-managed one whose policy lets delivery.logs.amazonaws.com use it (the AWS-managed aws/s3 key cannot)"
  type        = string
  default     = null

  validation {
    condition     = var.flow_log_destination_arn == null || can(regex("^arn:aws[a-z-]*:s3:::", var.flow_log_destination_arn))
    error_message = "flow_log_destination_arn must be an S3 ARN, e.g. arn:aws:s3:::my-bucket."
  }
}

################################################################################
# Ports that flow between the security groups
################################################################################

variable "postgres_port" {
  description = "Port of Aurora PostgreSQL, opened to the MSK Connect workers only"
  type        = number
  default     = 5432

  validation {
    condition     = var.postgres_port > 0 && var.postgres_port < 65536
    error_message = "postgres_port must be a TCP port."
  }
}

variable "kafka_iam_port" {
  description = "Port of the MSK brokers' IAM-authenticated TLS listener (9098 within the VPC), opened to MSK Connect and Glue"
  type        = number
  default     = 9098

  validation {
    condition     = var.kafka_iam_port > 0 && var.kafka_iam_port < 65536
    error_message = "kafka_iam_port must be a TCP port."
  }
}

variable "tags" {
  description = "Tags of every resource"
  type        = map(string)
  default     = {}
}
