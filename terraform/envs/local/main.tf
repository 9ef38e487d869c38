# The pipeline against the local AWS endpoint (python -m localaws on 127.0.0.1:4566, started by `make local-up`):
# moto, plus the MSK and MSK Connect APIs moto lacks (python/localaws), so the whole pipeline is applied here, MSK
# and the connector included. Nothing runs behind those two: their brokers and connector are API resources only,
# while the local stack's Kafka, Connect and Glue job are what runs (terraform/README.md).

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
  # the endpoint speaks plain HTTP, and it enforces bucket policies: a TLS-only policy would lock Terraform out
  s3_deny_insecure_transport = false
}
