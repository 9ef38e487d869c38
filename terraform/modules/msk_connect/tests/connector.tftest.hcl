# The connector configuration Terraform renders from connectors/postgres-source.json.tmpl, applied against a
# mocked provider (no AWS): run by tests/infra/test_terraform_static.py, which puts an empty tests/plugin.zip
# beside this file first.

mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }

  mock_resource "aws_mskconnect_custom_plugin" {
    defaults = { arn = "arn:aws:kafkaconnect:eu-west-1:123456789012:custom-plugin/debezium/1" }
  }

  mock_resource "aws_mskconnect_worker_configuration" {
    defaults = { arn = "arn:aws:kafkaconnect:eu-west-1:123456789012:worker-configuration/worker/1" }
  }

  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/shop-postgres-msk-connect" }
  }

  mock_data "aws_iam_policy_document" {
    defaults = { json = "{\"Version\": \"2012-10-17\", \"Statement\": []}" }
  }
}

variables {
  name                    = "shop-postgres"
  connector_template_path = "../../../connectors/postgres-source.json.tmpl"
  connector_settings = {
    PG_DATABASE           = "shop"
    PG_SCHEMA             = "shop"
    PG_CDC_USER           = "debezium"
    PG_PUBLICATION        = "dbz_publication"
    PG_SLOT               = "dbz_shop"
    TOPIC_PREFIX          = "shop"
    HEARTBEAT_INTERVAL_MS = "10000"
  }
  plugin_zip_path      = "tests/plugin.zip"
  artifacts_bucket     = "artifacts"
  artifacts_bucket_arn = "arn:aws:s3:::artifacts"
  cluster_name         = "cdc-lake"
  cluster_uuid         = "0b7e-uuid"
  cluster_arn          = "arn:aws:kafka:eu-west-1:123456789012:cluster/cdc-lake/0b7e-uuid"
  bootstrap_brokers    = "b-1.cdc-lake:9098,b-2.cdc-lake:9098"
  subnet_ids           = ["subnet-1", "subnet-2"]
  security_group_ids   = ["sg-1"]
  db_host              = "cdc-lake.cluster-x.eu-west-1.rds.amazonaws.com"
  db_port              = 5432
  db_secret_arn        = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:cdc-lake/debezium-AbCdEf"
  db_secret_name       = "cdc-lake/debezium"
}

run "renders_the_template" {
  command = apply

  assert {
    condition     = output.connector_config["database.hostname"] == var.db_host && output.connector_config["database.port"] == "5432"
    error_message = "database host and port come from the Aurora module"
  }

  assert {
    condition     = output.connector_config["database.password"] == "$${secretsmanager:cdc-lake/debezium:password}"
    error_message = "the password must be a Secrets Manager config provider reference by secret name"
  }

  # the template's JSON escape survives templatefile: the regex reaches Debezium as .+\.numeric
  assert {
    condition     = output.connector_config["datatype.propagate.source.type"] == ".+\\.numeric"
    error_message = "datatype.propagate.source.type lost its escaped dot"
  }

  assert {
    condition     = output.connector_config["heartbeat.action.query"] == "INSERT INTO cdc.heartbeat (id, ts) VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET ts = excluded.ts"
    error_message = "the heartbeat query must reach the connector unchanged"
  }

  assert {
    condition     = output.connector_config["slot.name"] == "dbz_shop" && output.connector_config["topic.prefix"] == "shop"
    error_message = "settings come from connector_settings"
  }

  assert {
    condition     = strcontains(aws_mskconnect_worker_configuration.this.properties_file_content, "config.providers.secretsmanager.param.region=eu-west-1")
    error_message = "the config provider reads secrets in the deployment's region"
  }

  assert {
    condition     = strcontains(aws_mskconnect_worker_configuration.this.properties_file_content, "config.providers.secretsmanager.class=io.github.cdclake.connect.SecretsManagerConfigProvider")
    error_message = "the worker runs the project's own Secrets Manager config provider, the one the plugin zip ships"
  }

  assert {
    condition     = strcontains(aws_mskconnect_worker_configuration.this.properties_file_content, "offset.storage.topic=shop-postgres-connect-offsets\n")
    error_message = "the source offsets live in a topic named after the connector, so a replaced connector resumes from them"
  }

  assert {
    condition     = output.offset_storage_topic == "shop-postgres-connect-offsets"
    error_message = "the offset topic is <name>-connect-offsets by default"
  }
}

run "a_changed_setting_changes_the_replacement_trigger" {
  command = apply

  variables {
    connector_settings = {
      PG_DATABASE           = "shop"
      PG_SCHEMA             = "shop"
      PG_CDC_USER           = "debezium"
      PG_PUBLICATION        = "dbz_publication"
      PG_SLOT               = "dbz_other"
      TOPIC_PREFIX          = "shop"
      HEARTBEAT_INTERVAL_MS = "10000"
    }
  }

  assert {
    condition     = output.connector_config["slot.name"] == "dbz_other"
    error_message = "the new slot reaches the rendered configuration"
  }

  assert {
    condition     = output.config_hash != run.renders_the_template.config_hash
    error_message = "a changed setting must change the hash that replaces the connector"
  }

  # the replacement keeps the connector's name and offset topic: Debezium resumes from its stored LSN
  assert {
    condition     = output.offset_storage_topic == run.renders_the_template.offset_storage_topic
    error_message = "a replaced connector must keep the offset topic of the one it replaces"
  }
}
