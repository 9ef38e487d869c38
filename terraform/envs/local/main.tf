# The pipeline against the local AWS endpoint (python -m localaws on 127.0.0.1:4566, started by `make local-up`):
# moto, plus what it lacks (python/localaws), with what the APIs describe running on this machine: the database
# bootstrap through the RDS Data API runs in the local PostgreSQL, MSK's brokers are the local Kafka, the MSK Connect
# connector runs on the local Kafka Connect worker, the Glue job's run is a spark-submit of the uploaded script
# (terraform/README.md). The same modules, bootstrap and start as envs/aws.

locals {
  # beside the local stack's own connector, in the same PostgreSQL and Kafka: a role, publication, slot and topics
  # of its own
  id = replace(var.name, "-", "_")
  settings = {
    CONNECTOR_NAME        = "shop-postgres"
    PG_DATABASE           = "shop"
    PG_SCHEMA             = "shop"
    PG_CDC_USER           = "${local.id}_debezium"
    PG_PUBLICATION        = "${local.id}_publication"
    PG_SLOT               = "${local.id}_slot"
    TOPIC_PREFIX          = var.name
    HEARTBEAT_INTERVAL_MS = "10000"
  }
}

provider "aws" {
  region     = var.region
  access_key = "test"
  secret_key = "test"

  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  # the account ID is asked of the local STS (123456789012): Glue and S3 resource IDs include it
  skip_region_validation = true

  endpoints {
    athena         = var.endpoint
    cloudwatch     = var.endpoint
    ec2            = var.endpoint
    events         = var.endpoint
    glue           = var.endpoint
    iam            = var.endpoint
    kafka          = var.endpoint
    kafkaconnect   = var.endpoint
    kms            = var.endpoint
    logs           = var.endpoint
    rds            = var.endpoint
    s3             = var.endpoint
    secretsmanager = var.endpoint
    sns            = var.endpoint
    sts            = var.endpoint
  }
}

module "pipeline" {
  source = "../../modules/pipeline"

  name                = var.name
  build_dir           = var.build_dir
  create_msk          = var.create_msk
  kafka_bootstrap     = var.kafka_bootstrap
  deletion_protection = false
  settings            = local.settings
  # the endpoint speaks plain HTTP, and it enforces bucket policies: a TLS-only policy would lock Terraform out
  s3_deny_insecure_transport = false
  # often enough that the deployed-pipeline suite sees a scheduled round (tests/infra/test_deployed_pipeline.py)
  maintenance_schedule = "cron(0/5 * * * ? *)"

  deploy_command = var.deploy_command
  provisioner_environment = {
    AWS_ENDPOINT_URL      = var.endpoint
    AWS_DEFAULT_REGION    = var.region
    AWS_ACCESS_KEY_ID     = "test"
    AWS_SECRET_ACCESS_KEY = "test"
  }
}
