# The pipeline on AWS. Credentials and account come from the usual AWS environment (profile, SSO, role).

provider "aws" {
  region = var.region

  default_tags {
    tags = { ManagedBy = "terraform", Repository = "cdc-lake" }
  }
}

module "pipeline" {
  source = "../../modules/pipeline"

  name                = var.name
  bucket_prefix       = var.bucket_prefix
  build_dir           = var.build_dir
  enable_nat_gateway  = var.enable_nat_gateway
  deletion_protection = var.deletion_protection
  create_connector    = var.create_connector
  alarm_email         = var.alarm_email

  deploy_command          = var.deploy_command
  provisioner_environment = { AWS_DEFAULT_REGION = var.region }
}
