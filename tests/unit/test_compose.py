"""compose/docker-compose.yml runs the native stack's components, versions and settings.

Checked statically, as Compose would read it (`make local-up MODE=compose`): ${VAR} interpolated from
versions.env, then .env.example. No Docker needed.
"""

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from check_jsonschema.builtin_schemas import get_builtin_schema
from jsonschema.validators import validator_for

from envfile import read_env_file

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose" / "docker-compose.yml"
CONNECTOR_TEMPLATES = sorted((ROOT / "connectors").glob("*.json.tmpl"))

# The services that publish a port to the host, and the native setting that port must equal.
PORT_SETTINGS = {"postgres": "PG_PORT", "kafka": "KAFKA_PORT", "connect": "CONNECT_PORT", "aws": "AWS_ENDPOINT_PORT",
                 "objectstore": "OBJECT_STORE_PORT"}
IMAGE_SETTINGS = {"postgres": "POSTGRES_IMAGE", "kafka": "KAFKA_IMAGE", "connect": "DEBEZIUM_CONNECT_IMAGE",
                  "aws": "MOTO_IMAGE", "objectstore": "VERSITYGW_IMAGE"}
# Set by scripts/register-connector.sh from the settings named here, not passed by Compose.
DERIVED_BY_REGISTER_SCRIPT = {"CONNECTOR_DB_PASSWORD_REF": "SECRETS_FILE"}

# Compose's interpolation: $$ escapes, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $VAR.
VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<braced>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<named>\w+))")
TEMPLATE_VARIABLE = re.compile(r"\$\{(\w+)\}")


def settings(**overrides: str) -> dict[str, str]:
    """What the Makefile passes: versions.env, then .env.example (a later --env-file wins)."""
    return {**read_env_file(ROOT / "versions.env"), **read_env_file(ROOT / ".env.example"), **overrides}


def interpolate(node: Any, env: Mapping[str, str]) -> Any:
    """Substitute variables in every string of a loaded Compose file; an unset variable becomes "" as in Compose."""
    if isinstance(node, dict):
        return {key: interpolate(value, env) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(item, env) for item in node]
    if not isinstance(node, str):
        return node

    def substitute(match: re.Match) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["braced"] or match["named"], match["op"], match["arg"]
        is_set = name in env and (env[name] != "" or not (op or "").startswith(":"))
        if is_set:
            return env[name]
        if op and op.endswith("?"):
            raise ValueError(f"{name}: {arg or 'required'}")
        return arg if op else ""

    return VARIABLE.sub(substitute, node)


def variables_without_default(node: Any) -> set[str]:
    if isinstance(node, dict):
        return set().union(*(variables_without_default(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(variables_without_default(item) for item in node))
    if not isinstance(node, str):
        return set()
    return {m["braced"] or m["named"] for m in VARIABLE.finditer(node) if not m["escaped"] and not m["op"]}


def load_compose(env: Mapping[str, str]) -> dict[str, Any]:
    return interpolate(yaml.safe_load(COMPOSE_FILE.read_text()), env)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(settings())


def published_ports(service: Mapping[str, Any]) -> set[str]:
    ports = set()
    for port in service.get("ports", []):
        if isinstance(port, dict):
            ports.add(str(port.get("published", "")))
        else:  # [HOST_IP:]HOST:CONTAINER[/PROTOCOL]
            parts = str(port).split("/")[0].split(":")
            ports.add(parts[-2] if len(parts) > 1 else "")
    return ports


def container_port(service: Mapping[str, Any]) -> str:
    (port,) = service["ports"]
    return str(port["target"]) if isinstance(port, dict) else str(port).split("/")[0].split(":")[-1]


def image_tag(image: str) -> str:
    name = image.rsplit("/", 1)[-1]
    return name.partition(":")[2]


def one_shot_services(compose: Mapping[str, Any]) -> set[str]:
    """Services that others wait for to exit successfully: they run to completion, not forever."""
    return {
        name
        for service in compose["services"].values()
        if isinstance(service.get("depends_on"), dict)
        for name, condition in service["depends_on"].items()
        if condition.get("condition") == "service_completed_successfully"
    }


def environment(service: Mapping[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: str(value) for key, value in env.items()}


def read_properties(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines()
                if line.strip() and not line.startswith("#") and "=" in line)


def template_variables() -> set[str]:
    return {name for template in CONNECTOR_TEMPLATES for name in TEMPLATE_VARIABLE.findall(template.read_text())}


# ---- the file itself ------------------------------------------------------------------------------


def test_compose_file_is_valid_against_the_compose_specification(compose):
    schema = get_builtin_schema("vendor.compose-spec")
    errors = sorted(validator_for(schema)(schema).iter_errors(compose), key=lambda e: list(map(str, e.path)))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_every_variable_without_a_default_is_a_setting():
    raw = yaml.safe_load(COMPOSE_FILE.read_text())
    assert variables_without_default(raw) - settings().keys() == set()


# ---- same settings and versions as the native stack ---------------------------------------------------


def test_published_ports_are_the_native_stack_ports(compose):
    env = settings()
    published = {name: published_ports(service) for name, service in compose["services"].items()
                 if service.get("ports")}
    assert published == {name: {env[setting]} for name, setting in PORT_SETTINGS.items()}


def test_published_ports_follow_the_port_settings():
    moved = {setting: str(20000 + i) for i, setting in enumerate(PORT_SETTINGS.values())}
    services = load_compose(settings(**moved))["services"]
    for name, setting in PORT_SETTINGS.items():
        assert published_ports(services[name]) == {moved[setting]}, name


def test_kafka_advertises_its_host_listener_on_the_kafka_port():
    services = load_compose(settings(KAFKA_PORT="29999"))["services"]
    assert "localhost:29999" in environment(services["kafka"])["KAFKA_ADVERTISED_LISTENERS"]


def test_images_are_the_pinned_images_of_versions_env(compose):
    env = settings()
    for name, setting in IMAGE_SETTINGS.items():
        assert compose["services"][name]["image"] == env[setting], name


def test_images_follow_versions_env():
    pinned = {setting: f"registry.invalid/{setting.lower()}:1.0" for setting in IMAGE_SETTINGS.values()}
    services = load_compose(settings(**pinned))["services"]
    for name, setting in IMAGE_SETTINGS.items():
        assert services[name]["image"] == pinned[setting], name


def test_built_images_take_every_version_from_versions_env(compose):
    versions = read_env_file(ROOT / "versions.env")
    built = {name: service["build"] for name, service in compose["services"].items() if "build" in service}
    assert built, "no service is built"
    for name, build in built.items():
        dockerfile = (COMPOSE_FILE.parent / build.get("context", ".") / build.get("dockerfile", "Dockerfile"))
        used = set(TEMPLATE_VARIABLE.findall(dockerfile.read_text()))
        assert "PYTHON_IMAGE" in used, f"{name}: its base image is not the pinned PYTHON_IMAGE"
        args = {key: str(value) for key, value in build.get("args", {}).items()}
        assert used <= args.keys(), f"{name}: build args not passed: {sorted(used - args.keys())}"
        assert {key: args[key] for key in used} == {key: versions.get(key) for key in used}, name


@pytest.mark.parametrize(
    ("service", "version_setting"),
    [("connect", "DEBEZIUM_VERSION"), ("kafka", "KAFKA_VERSION"), ("aws", "MOTO_VERSION")],
    ids=["debezium", "kafka", "moto"],
)
def test_image_runs_the_version_the_native_stack_runs(compose, service, version_setting):
    assert image_tag(compose["services"][service]["image"]) == settings()[version_setting]


# ---- health and start order -----------------------------------------------------------------------


def test_every_long_running_service_has_a_healthcheck(compose):
    long_running = compose["services"].keys() - one_shot_services(compose)
    assert long_running, "no long-running service"
    missing = {name for name in long_running
               if not compose["services"][name].get("healthcheck", {}).get("test")
               or compose["services"][name]["healthcheck"].get("disable")}
    assert missing == set()


def test_setup_runs_once_before_the_producer(compose):
    assert one_shot_services(compose) == {"setup"}
    assert compose["services"]["producer"]["depends_on"]["setup"]["condition"] == "service_completed_successfully"


# ---- the connector, as the setup service registers it ------------------------------------------------


def test_setup_provides_every_variable_the_connector_template_uses(compose):
    assert CONNECTOR_TEMPLATES, "no connectors/*.json.tmpl"
    setup_env = environment(compose["services"]["setup"])
    # The setup container also reads .env.example (mounted), through scripts/lib.sh.
    provided = setup_env.keys() | settings().keys() | DERIVED_BY_REGISTER_SCRIPT.keys()
    assert template_variables() - provided == set()
    for derived in DERIVED_BY_REGISTER_SCRIPT.keys() & template_variables():
        assert DERIVED_BY_REGISTER_SCRIPT[derived] in setup_env, derived


def test_setup_passes_no_connector_variable_the_template_does_not_use(compose):
    passed = {name for name in environment(compose["services"]["setup"]) if name.startswith("CONNECTOR_DB_")}
    assert passed - template_variables() == set()


def test_connector_reaches_postgres_by_service_name_and_container_port(compose):
    services = compose["services"]
    setup_env = environment(services["setup"])
    assert setup_env["CONNECTOR_DB_HOST"] == "postgres"
    assert setup_env["CONNECTOR_DB_PORT"] == container_port(services["postgres"])


def test_setup_reaches_postgres_and_connect_inside_the_network(compose):
    services = compose["services"]
    setup_env = environment(services["setup"])
    assert (setup_env["PG_HOST"], setup_env["PG_PORT"]) == ("postgres", container_port(services["postgres"]))
    assert (setup_env["PGHOST"], setup_env["PGPORT"]) == ("postgres", container_port(services["postgres"]))
    assert (setup_env["CONNECT_HOST"], setup_env["CONNECT_PORT"]) == ("connect", container_port(services["connect"]))


def test_superuser_password_is_the_one_postgres_was_created_with(compose):
    services = compose["services"]
    assert environment(services["setup"])["PGPASSWORD"] == environment(services["postgres"])["POSTGRES_PASSWORD"]


def test_secrets_file_the_connector_references_is_mounted_in_connect(compose):
    setup_env = environment(compose["services"]["setup"])
    mounts = {config["target"]: config["source"] for config in compose["services"]["connect"].get("configs", [])}
    assert setup_env["SECRETS_FILE"] in mounts
    content = compose["configs"][mounts[setup_env["SECRETS_FILE"]]]["content"]
    assert content.strip() == f"password={settings()['PG_CDC_PASSWORD']}"


def test_connect_worker_enables_the_file_config_provider(compose):
    connect_env = environment(compose["services"]["connect"])
    assert connect_env["CONNECT_CONFIG_PROVIDERS"] == "file"
    assert connect_env["CONNECT_CONFIG_PROVIDERS_FILE_CLASS"] == (
        "org.apache.kafka.common.config.provider.FileConfigProvider")


def test_connect_worker_batches_records_as_the_native_worker_does(compose):
    worker = read_properties(ROOT / "config" / "connect-worker.properties.tmpl")
    producer = {k: v for k, v in worker.items() if k.startswith("producer.")}
    connect_env = environment(compose["services"]["connect"])
    assert producer and producer == {k[len("CONNECT_"):].lower().replace("_", "."): v
                                     for k, v in connect_env.items() if k.startswith("CONNECT_PRODUCER_")}


def test_connect_worker_uses_the_native_worker_group_and_topics(compose):
    worker = read_properties(ROOT / "config" / "connect-worker.properties.tmpl")
    connect_env = environment(compose["services"]["connect"])
    assert {
        "group.id": connect_env["GROUP_ID"],
        "config.storage.topic": connect_env["CONFIG_STORAGE_TOPIC"],
        "offset.storage.topic": connect_env["OFFSET_STORAGE_TOPIC"],
        "status.storage.topic": connect_env["STATUS_STORAGE_TOPIC"],
        "offset.flush.interval.ms": connect_env["OFFSET_FLUSH_INTERVAL_MS"],
    } == {key: worker[key] for key in ("group.id", "config.storage.topic", "offset.storage.topic",
                                       "status.storage.topic", "offset.flush.interval.ms")}
    assert connect_env["BOOTSTRAP_SERVERS"] == "kafka:29092"
