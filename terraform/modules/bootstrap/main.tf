# The database, bootstrapped through the RDS Data API (python/deploy, the statements of scripts/sql/ that
# `make local-up` runs locally): nothing inside the VPC is needed. The connector depends on this module, so it is
# created once its role, password and publication exist; on destroy, the teardown runs after the connector is gone and
# before Aurora is, so no replication slot is left holding WAL.

locals {
  sql = sha256(join("", [for f in ["bootstrap.sql", "ddl_capture.sql"] : filesha256("${path.module}/../../../scripts/sql/${f}")]))

  where = "--cluster-arn '${var.cluster_arn}' --master-secret-arn '${var.master_secret_arn}' --database '${var.database}'"
}

# Run again when the statements or the names change; its create is idempotent (CREATE ... IF NOT EXISTS, the password
# kept in its secret).
resource "terraform_data" "this" {
  triggers_replace = [local.sql, var.cluster_arn, var.schema, var.cdc_user, var.publication]
  # after the instances (the Data API needs the writer); a new instance does not run the bootstrap again
  input = var.instance_identifiers

  provisioner "local-exec" {
    command     = "${var.deploy_command} bootstrap ${local.where} --cdc-secret-arn '${var.cdc_secret_arn}' --schema '${var.schema}' --cdc-user '${var.cdc_user}' --publication '${var.publication}'"
    environment = var.environment
  }
}

# A resource of its own, which nothing replaces: a new bootstrap must not drop what the running connector uses.
resource "terraform_data" "teardown" {
  input = {
    command     = "${var.deploy_command} teardown ${local.where} --slot '${var.slot}' --publication '${var.publication}' --cdc-user '${var.cdc_user}'"
    environment = var.environment
  }

  provisioner "local-exec" {
    when        = destroy
    command     = self.input.command
    environment = self.input.environment
  }

  depends_on = [terraform_data.this]
}
