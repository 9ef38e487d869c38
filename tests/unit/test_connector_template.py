"""The connector template renders strictly from the settings, and says what a careful operator sets."""

from pathlib import Path

import pytest

from envfile import read_env_file
from stack.render import RenderError, load_template, render_connector
from stack.secrets import password_ref

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "connectors" / "postgres-source.json.tmpl"


def settings() -> dict[str, str]:
    """.env.example's defaults plus what register-connector.sh derives."""
    values = read_env_file(ROOT / ".env.example")
    values.update(CONNECTOR_DB_HOST="127.0.0.1", CONNECTOR_DB_PORT="15432",
                  CONNECTOR_DB_PASSWORD_REF=password_ref(values["CONNECTOR_DB_SECRET"]))
    return values


@pytest.fixture
def config() -> dict[str, str]:
    return render_connector(load_template(TEMPLATE), settings())


def test_template_takes_its_values_from_the_settings(config):
    assert config["database.port"] == "15432"
    assert config["slot.name"] == "dbz_shop"
    assert config["table.include.list"] == r"shop\..*,cdc\.ddl_events"
    assert config["topic.prefix"] == "shop"


def test_the_stream_carries_truncates_ddl_and_resync_signals(config):
    assert config["skipped.operations"] == "none"  # TRUNCATE is captured, not skipped
    assert "cdc\\.ddl_events" in config["table.include.list"]
    assert config["signal.data.collection"] == "cdc.debezium_signal"


def test_topics_are_never_compacted_so_a_lagging_job_still_sees_every_delete(config):
    assert config["topic.creation.default.cleanup.policy"] == "delete"


def test_password_is_a_config_provider_reference_never_the_secret(config):
    assert config["database.password"] == "${secretsmanager:cdc/debezium:password}"
    assert "debezium-local-only" not in str(config)


def test_connector_uses_pgoutput_and_the_setup_publication(config):
    assert config["plugin.name"] == "pgoutput"
    assert config["publication.autocreate.mode"] == "disabled"
    assert config["publication.name"] == "dbz_publication"


def test_amounts_are_exact_and_deletes_leave_tombstones(config):
    assert config["decimal.handling.mode"] == "string"
    assert config["tombstones.on.delete"] == "true"


def test_heartbeat_writes_to_the_heartbeat_table(config):
    assert int(config["heartbeat.interval.ms"]) > 0
    assert "cdc.heartbeat" in config["heartbeat.action.query"]


def test_unset_setting_is_named_in_the_error():
    values = settings()
    del values["PG_SLOT"]
    with pytest.raises(RenderError, match="PG_SLOT"):
        render_connector(load_template(TEMPLATE), values)


def test_empty_value_is_rejected():
    with pytest.raises(RenderError, match="topic.prefix"):
        render_connector('{"topic.prefix": "${TOPIC_PREFIX}"}', {"TOPIC_PREFIX": ""})


def test_rendered_text_must_be_json():
    with pytest.raises(RenderError, match="not JSON"):
        render_connector('{"a": ${X}}', {"X": "not-json"})
