"""Every version is pinned once, in versions.env: Terraform files cannot read it, so this checks that they agree."""

from pathlib import Path

import hcl2
import pytest
from cfnlint.decode import cfn_yaml

ROOT = Path(__file__).resolve().parents[2]
VERSIONS_TF = sorted((ROOT / "terraform").rglob("versions.tf"))


def unquote(value):
    return value.strip('"') if isinstance(value, str) else value


def variable_defaults(path: Path) -> dict:
    return {name: body.get("default") for block in hcl2.load(path.open()).get("variable", [])
            for name, body in ((unquote(k), v) for k, v in block.items())}


def cfn_defaults() -> dict:
    parameters = cfn_yaml.load(str(ROOT / "cloudformation.yaml"))["Parameters"]
    return {name: p.get("Default") for name, p in parameters.items()}


def test_every_module_and_root_has_a_versions_file():
    dirs = {p.parent for p in (ROOT / "terraform").rglob("*.tf")} - {p.parent for p in VERSIONS_TF}
    assert dirs == set(), f"without versions.tf: {sorted(str(d) for d in dirs)}"


@pytest.mark.parametrize("path", VERSIONS_TF, ids=lambda p: str(p.parent.relative_to(ROOT)))
def test_versions_tf_pins_what_versions_env_names(path, versions):
    (terraform,) = hcl2.load(path.open())["terraform"]
    assert unquote(terraform["required_version"]) == f"~> {versions['TERRAFORM_VERSION']}"
    (providers,) = terraform["required_providers"]
    assert unquote(providers["aws"]["source"]) == "hashicorp/aws"
    assert unquote(providers["aws"]["version"]) == versions["TERRAFORM_AWS_PROVIDER_VERSION"]


SERVICE_VERSIONS = {  # versions.env -> (pipeline variable, CloudFormation parameter)
    "AURORA_POSTGRES_VERSION": ("aurora_engine_version", "AuroraEngineVersion"),
    "MSK_KAFKA_VERSION": ("msk_kafka_version", "MskKafkaVersion"),
    "MSK_CONNECT_VERSION": ("msk_connect_version", "MskConnectVersion"),
    "GLUE_VERSION": ("glue_version", "GlueVersion"),
}


def test_the_msk_iam_auth_jar_cloudformation_names_is_the_one_maven_resolves(versions):
    assert cfn_defaults()["MskIamAuthVersion"] == versions["MSK_IAM_AUTH_VERSION"]


@pytest.mark.parametrize("key", SERVICE_VERSIONS)
def test_service_versions_default_to_versions_env(key, versions):
    variable, parameter = SERVICE_VERSIONS[key]
    assert unquote(variable_defaults(ROOT / "terraform/modules/pipeline/variables.tf")[variable]) == versions[key]
    assert cfn_defaults()[parameter] == versions[key]


SETTINGS = {  # .env.example -> CloudFormation parameter
    "CONNECTOR_NAME": "ConnectorName", "PG_DATABASE": "PgDatabase", "PG_SCHEMA": "PgSchema",
    "PG_CDC_USER": "PgCdcUser", "PG_PUBLICATION": "PgPublication", "PG_SLOT": "PgSlot",
    "TOPIC_PREFIX": "TopicPrefix", "HEARTBEAT_INTERVAL_MS": "HeartbeatIntervalMs",
}


def test_connector_settings_default_to_env_example(env_example):
    example = env_example
    pipeline = {unquote(k): unquote(v) for k, v in
                variable_defaults(ROOT / "terraform/modules/pipeline/variables.tf")["settings"].items()}
    assert pipeline == {key: example[key] for key in SETTINGS}
    cfn = cfn_defaults()
    assert {key: cfn[param] for key, param in SETTINGS.items()} == {key: example[key] for key in SETTINGS}
