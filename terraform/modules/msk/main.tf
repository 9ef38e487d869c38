resource "aws_msk_configuration" "this" {
  name           = var.name
  kafka_versions = [var.kafka_version]
  description    = "Brokers of ${var.name}: Debezium creates its topics"

  server_properties = join("\n", [for k, v in var.server_properties : "${k} = ${v}"])

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:broker logs are encrypted by CloudWatch Logs' own key unless a KMS key is wired in
  #checkov:skip=CKV_AWS_338:broker logs are for troubleshooting; a month is enough (log_retention_days)
  name              = "/aws/msk/${var.name}"
  retention_in_days = var.log_retention_days

  tags = var.tags
}

resource "aws_msk_cluster" "this" {
  cluster_name           = var.name
  kafka_version          = var.kafka_version
  number_of_broker_nodes = var.number_of_broker_nodes

  broker_node_group_info {
    instance_type   = var.broker_instance_type
    client_subnets  = var.subnet_ids
    security_groups = var.security_group_ids

    storage_info {
      ebs_storage_info {
        volume_size = var.volume_size
      }
    }

    connectivity_info {
      public_access {
        type = "DISABLED"
      }
    }
  }

  # IAM only: no plaintext listener, no anonymous clients
  client_authentication {
    unauthenticated = false
    sasl {
      iam = true
    }
  }

  encryption_info {
    encryption_at_rest_kms_key_arn = var.kms_key_arn
    encryption_in_transit {
      client_broker = "TLS"
      in_cluster    = true
    }
  }

  configuration_info {
    arn      = aws_msk_configuration.this.arn
    revision = aws_msk_configuration.this.latest_revision
  }

  logging_info {
    broker_logs {
      cloudwatch_logs {
        enabled   = true
        log_group = aws_cloudwatch_log_group.this.name
      }
    }
  }

  tags = var.tags

  lifecycle {
    precondition {
      condition     = var.number_of_broker_nodes % length(var.subnet_ids) == 0
      error_message = "number_of_broker_nodes must be a multiple of the number of subnets (MSK rejects ${var.number_of_broker_nodes} brokers over ${length(var.subnet_ids)} zones)."
    }

    precondition {
      condition     = tonumber(var.server_properties["default.replication.factor"]) <= var.number_of_broker_nodes
      error_message = "default.replication.factor (${var.server_properties["default.replication.factor"]}) cannot exceed the number of brokers (${var.number_of_broker_nodes})."
    }
  }
}
