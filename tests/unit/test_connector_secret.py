"""The connector's password as a Secrets Manager secret, read by the project's own config provider everywhere:
the local worker, MSK Connect's worker configuration (Terraform and CloudFormation) and the plugin zip."""

import json
import os
import re
import subprocess
import zipfile
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from stack import __main__ as cli
from stack import settings
from stack.secrets import password_ref, put_json_secret

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_MODULE = ROOT / "jvm" / "secrets-manager-config-provider"
PROVIDER_CLASS = (PROVIDER_MODULE / "src/main/resources/META-INF/services/"
                  "org.apache.kafka.common.config.provider.ConfigProvider").read_text().strip()
CREDENTIALS = {"username": "debezium", "password": "debezium-local-only"}


@pytest.fixture
def secretsmanager():
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1", aws_access_key_id="test",
                           aws_secret_access_key="test")


# ---- writing the secret ----------------------------------------------------------------------------------------


def test_secret_is_created_then_left_alone_then_updated(secretsmanager):
    assert put_json_secret(secretsmanager, "cdc/debezium", CREDENTIALS) == "created"
    assert put_json_secret(secretsmanager, "cdc/debezium", CREDENTIALS) == "unchanged"
    assert len(secretsmanager.list_secret_version_ids(SecretId="cdc/debezium")["Versions"]) == 1
    assert put_json_secret(secretsmanager, "cdc/debezium", {**CREDENTIALS, "password": "new"}) == "updated"
    stored = json.loads(secretsmanager.get_secret_value(SecretId="cdc/debezium")["SecretString"])
    assert stored == {**CREDENTIALS, "password": "new"}


def test_a_secret_that_is_not_json_is_replaced(secretsmanager):
    secretsmanager.create_secret(Name="cdc/debezium", SecretString="plain")
    assert put_json_secret(secretsmanager, "cdc/debezium", CREDENTIALS) == "updated"
    assert json.loads(secretsmanager.get_secret_value(SecretId="cdc/debezium")["SecretString"]) == CREDENTIALS


def test_reference_names_the_secret_and_its_password_key():
    assert password_ref("cdc/debezium") == "${secretsmanager:cdc/debezium:password}"


@pytest.mark.parametrize("name", ["", "arn:aws:secretsmanager:x", "a}b", "a${b"])
def test_a_name_a_reference_cannot_hold_is_refused(name):
    with pytest.raises(ValueError):
        password_ref(name)


def test_command_writes_the_secret_and_prints_only_the_reference(secretsmanager, monkeypatch, capsys):
    monkeypatch.setenv("CONNECTOR_DB_SECRET", "cdc/debezium")
    monkeypatch.setenv("PG_CDC_USER", CREDENTIALS["username"])
    monkeypatch.setenv("PG_CDC_PASSWORD", CREDENTIALS["password"])
    clients = {"secretsmanager": secretsmanager}
    monkeypatch.setattr(settings, "local_client", lambda service, config=None: clients[service])
    cli.main(["put-connector-secret"])
    out, err = capsys.readouterr()
    assert out.strip() == "${secretsmanager:cdc/debezium:password}"
    assert "created" in err
    assert CREDENTIALS["password"] not in out + err
    assert json.loads(secretsmanager.get_secret_value(SecretId="cdc/debezium")["SecretString"]) == CREDENTIALS


# ---- one provider, the same configuration on the laptop and on AWS -------------------------------------------


def properties(text: str) -> dict[str, str]:
    return dict(line.strip().split("=", 1) for line in text.splitlines()
                if "=" in line and not line.strip().startswith("#"))


def test_the_provider_class_is_ours():
    assert PROVIDER_CLASS == "io.github.cdclake.connect.SecretsManagerConfigProvider"
    source = PROVIDER_MODULE / "src/main/java" / (PROVIDER_CLASS.replace(".", "/") + ".java")
    assert "implements ConfigProvider" in source.read_text()


def test_local_worker_reads_secrets_manager_on_the_local_endpoint():
    worker = properties((ROOT / "config" / "connect-worker.properties.tmpl").read_text())
    assert "secretsmanager" in worker["config.providers"].split(",")
    assert worker["config.providers.secretsmanager.class"] == PROVIDER_CLASS
    assert worker["config.providers.secretsmanager.param.region"] == "${AWS_REGION}"
    assert worker["config.providers.secretsmanager.param.endpoint"] == "http://${AWS_ENDPOINT_HOST}:${AWS_ENDPOINT_PORT}"


def test_msk_connect_workers_run_the_same_provider():
    terraform = (ROOT / "terraform" / "modules" / "msk_connect" / "main.tf").read_text()
    cloudformation = (ROOT / "cloudformation.yaml").read_text()
    for text in (terraform, cloudformation):
        classes = re.findall(r"config\.providers\.secretsmanager\.class=(\S+)", text)
        assert classes == [PROVIDER_CLASS]
        assert re.search(r"config\.providers\.secretsmanager\.param\.region=\$\{", text)


# ---- the plugin zip ---------------------------------------------------------------------------------------------


def package(build_dir: Path, out: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "BUILD_DIR": str(build_dir), "AWS_PACKAGE_DIR": str(out)}
    return subprocess.run(["bash", str(ROOT / "scripts" / "package-aws.sh")], env=env, capture_output=True,
                          text=True, check=False)


def plugin_dirs(build_dir: Path) -> None:
    for name, jars in {"debezium-connector-postgres": ["debezium-connector-postgres-3.jar", "debezium-core-3.jar"],
                       "secrets-manager-config-provider": ["secrets-manager-config-provider.jar",
                                                           "secretsmanager-2.jar"]}.items():
        folder = build_dir / "jvm" / "plugins" / name
        folder.mkdir(parents=True)
        for jar in jars:
            (folder / jar).write_bytes(f"jar {jar}".encode())
    glue_jars = build_dir / "jvm" / "glue-jars"
    glue_jars.mkdir(parents=True)
    (glue_jars / "aws-msk-iam-auth-2-all.jar").write_bytes(b"jar aws-msk-iam-auth")


def test_plugin_zip_holds_debezium_and_the_provider_reproducibly(tmp_path):
    plugin_dirs(tmp_path / "build")
    first = package(tmp_path / "build", tmp_path / "one")
    assert first.returncode == 0, first.stderr
    second = package(tmp_path / "build", tmp_path / "two")
    assert second.returncode == 0, second.stderr
    zip_one = (tmp_path / "one" / "debezium-connector-postgres.zip").read_bytes()
    assert zip_one == (tmp_path / "two" / "debezium-connector-postgres.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one" / "debezium-connector-postgres.zip") as z:
        assert z.namelist() == ["debezium-connector-postgres/debezium-connector-postgres-3.jar",
                                "debezium-connector-postgres/debezium-core-3.jar",
                                "secrets-manager-config-provider/secrets-manager-config-provider.jar",
                                "secrets-manager-config-provider/secretsmanager-2.jar"]
    assert [p.name for p in (tmp_path / "one" / "glue-jars").iterdir()] == ["aws-msk-iam-auth-2-all.jar"]


def test_packaging_without_the_provider_fails(tmp_path):
    plugin_dirs(tmp_path / "build")
    for jar in (tmp_path / "build" / "jvm" / "plugins" / "secrets-manager-config-provider").iterdir():
        jar.unlink()
    result = package(tmp_path / "build", tmp_path / "out")
    assert result.returncode != 0
    assert "secrets-manager-config-provider" in result.stderr and "make install" in result.stderr
