terraform {
  # the versions this project is tested with: TERRAFORM_VERSION and TERRAFORM_AWS_PROVIDER_VERSION in versions.env
  required_version = "~> 1.11.4"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.100.0"
    }
  }
}
