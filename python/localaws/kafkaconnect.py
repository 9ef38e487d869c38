"""MSK Connect (service kafkaconnect), which moto lacks: custom plugins, worker configurations, connectors and their
tags. A plugin is ACTIVE once its file is found in the local S3. With a local runtime, a connector runs on the local
Kafka Connect worker (whose plugin path holds the jars the plugin zip is made of): created and deleted there in the
background, as MSK Connect does (CREATING, DELETING), with the configuration Terraform sent, an Aurora endpoint mapped
to the local PostgreSQL, and the worker configuration's offsets topic; its state is the worker's. Without one, a
connector is RUNNING once created and deleting removes it at once."""

from __future__ import annotations

import base64
import logging
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import requests
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition
from werkzeug.routing import Rule

from localaws import api, runtime

log = logging.getLogger("localaws")


@dataclass
class CustomPlugin:
    arn: str
    name: str
    description: str
    content_type: str
    location: dict[str, Any]  # {"s3Location": {"bucketArn", "fileKey", "objectVersion"?}}
    failure: str | None  # why the plugin could not be created, or None: ACTIVE
    tags: dict[str, str]
    created: str = field(default_factory=api.now)

    def describe(self) -> dict[str, Any]:
        return {"customPluginArn": self.arn, "name": self.name, "description": self.description,
                "customPluginState": "CREATE_FAILED" if self.failure else "ACTIVE", "creationTime": self.created,
                "latestRevision": {"revision": 1, "contentType": self.content_type, "location": self.location,
                                   "description": self.description, "creationTime": self.created}}


@dataclass
class WorkerConfiguration:
    arn: str
    name: str
    description: str
    properties: str  # base64, as on the wire
    tags: dict[str, str]
    created: str = field(default_factory=api.now)

    def describe(self) -> dict[str, Any]:
        return {"workerConfigurationArn": self.arn, "name": self.name, "description": self.description,
                "workerConfigurationState": "ACTIVE", "creationTime": self.created,
                "latestRevision": {"revision": 1, "description": self.description, "creationTime": self.created}}


# the request fields DescribeConnector returns as they were sent (its *Description shapes have the same members)
ECHOED = ("capacity", "connectorConfiguration", "kafkaCluster", "kafkaClusterClientAuthentication",
          "kafkaClusterEncryptionInTransit", "kafkaConnectVersion", "logDelivery", "networkType", "plugins",
          "serviceExecutionRoleArn", "workerConfiguration")


@dataclass
class Connector:
    arn: str
    name: str
    description: str
    request: dict[str, Any]
    tags: dict[str, str]
    version: str = field(default_factory=lambda: secrets.token_hex(7).upper())
    created: str = field(default_factory=api.now)
    failure: str | None = None  # why the worker would not take it
    deleting: bool = False

    def describe(self) -> dict[str, Any]:
        state, reason = self.state()
        return {"connectorArn": self.arn, "connectorName": self.name, "connectorDescription": self.description,
                "connectorState": state, "creationTime": self.created, "currentVersion": self.version,
                **({"stateDescription": {"code": "ConnectorFailed", "message": reason}} if reason else {}),
                **{key: self.request[key] for key in ECHOED if key in self.request}}

    def gone(self) -> bool:
        """Deleted, and the local worker has finished deleting it."""
        local = runtime.current()
        return self.deleting and (local is None or requests.get(f"{local.connect_url}/connectors/{self.name}",
                                                                  timeout=10).status_code == 404)

    def state(self) -> tuple[str, str | None]:
        """MSK Connect's state of the connector, from the local worker's when there is one."""
        local = runtime.current()
        if local is None:
            return "RUNNING", None
        if self.deleting:  # MSK Connect has no DELETED: a deleted connector is not found (gone, _forget_deleted)
            return "DELETING", None
        if self.failure:
            return "FAILED", self.failure
        response = requests.get(f"{local.connect_url}/connectors/{self.name}/status", timeout=10)
        if response.status_code == 404:
            return "CREATING", None
        response.raise_for_status()
        status = response.json()
        parts = [status["connector"], *status.get("tasks", [])]
        failed = next((p for p in parts if p.get("state") == "FAILED"), None)
        if failed:
            return "FAILED", (failed.get("trace") or "FAILED").strip().splitlines()[0][:500]
        running = status.get("tasks") and all(p.get("state") == "RUNNING" for p in parts)
        return ("RUNNING" if running else "CREATING"), None


# by ARN, of every account and region
PLUGINS: dict[str, CustomPlugin] = {}
WORKER_CONFIGURATIONS: dict[str, WorkerConfiguration] = {}
CONNECTORS: dict[str, Connector] = {}


def _find(call: api.Call, store: dict[str, Any], arn: str) -> Any:
    return call.find(store, arn, api.not_found(f"The resource {arn} does not exist"))


def _listed(call: api.Call, store: dict[str, Any], prefix_param: str) -> list[dict[str, Any]]:
    prefix = call.query.get(prefix_param, "")
    return [item.describe() for arn, item in store.items() if call.owns(arn) and item.name.startswith(prefix)]


# ---- custom plugins --------------------------------------------------------------------------------------------


def _plugin_file_missing(call: api.Call, location: dict[str, Any]) -> str | None:
    """Why MSK Connect could not read the plugin's file from the (local) S3, or None when it can."""
    s3 = location["s3Location"]
    bucket, key, version = s3["bucketArn"].rpartition(":")[2], s3["fileKey"], s3.get("objectVersion")
    try:
        found = s3_backends[call.account][get_partition(call.region)].get_object(bucket, key, version_id=version)
    except MissingBucket:
        found = None
    return None if found else f"s3://{bucket}/{key}{f' (version {version})' if version else ''} does not exist"


def create_custom_plugin(call: api.Call) -> dict[str, Any]:
    name, location = call.body["name"], call.body["location"]
    plugin = CustomPlugin(call.new_arn(PLUGINS, "custom-plugin", name), name, call.body.get("description", ""),
                          call.body["contentType"], location, _plugin_file_missing(call, location),
                          call.body.get("tags", {}))
    PLUGINS[plugin.arn] = plugin
    return {"customPluginArn": plugin.arn, "name": name, "revision": 1, "customPluginState": "CREATING"}


def describe_custom_plugin(call: api.Call, arn: str) -> dict[str, Any]:
    plugin = _find(call, PLUGINS, arn)
    failure = {"stateDescription": {"code": "InvalidPluginFile", "message": plugin.failure}} if plugin.failure else {}
    return plugin.describe() | failure


def delete_custom_plugin(call: api.Call, arn: str) -> dict[str, Any]:
    del PLUGINS[_find(call, PLUGINS, arn).arn]
    return {"customPluginArn": arn, "customPluginState": "DELETING"}


def list_custom_plugins(call: api.Call) -> dict[str, Any]:
    return {"customPlugins": _listed(call, PLUGINS, "namePrefix")}


# ---- worker configurations -------------------------------------------------------------------------------------


def create_worker_configuration(call: api.Call) -> dict[str, Any]:
    name, properties = call.body["name"], call.base64("propertiesFileContent")
    configuration = WorkerConfiguration(call.new_arn(WORKER_CONFIGURATIONS, "worker-configuration", name), name,
                                        call.body.get("description", ""), properties, call.body.get("tags", {}))
    WORKER_CONFIGURATIONS[configuration.arn] = configuration
    described = configuration.describe()
    return {key: described[key] for key in ("workerConfigurationArn", "name", "creationTime", "latestRevision",
                                             "workerConfigurationState")}


def describe_worker_configuration(call: api.Call, arn: str) -> dict[str, Any]:
    configuration = _find(call, WORKER_CONFIGURATIONS, arn)
    described = configuration.describe()
    described["latestRevision"]["propertiesFileContent"] = configuration.properties
    return described


def delete_worker_configuration(call: api.Call, arn: str) -> dict[str, Any]:
    del WORKER_CONFIGURATIONS[_find(call, WORKER_CONFIGURATIONS, arn).arn]
    return {"workerConfigurationArn": arn, "workerConfigurationState": "DELETING"}


def list_worker_configurations(call: api.Call) -> dict[str, Any]:
    return {"workerConfigurations": _listed(call, WORKER_CONFIGURATIONS, "namePrefix")}


# ---- connectors ------------------------------------------------------------------------------------------------


def local_config(call: api.Call, body: dict[str, Any], local: runtime.Runtime) -> dict[str, str]:
    """The connector's configuration for the local worker: as sent, with an Aurora cluster's endpoint mapped to the
    local PostgreSQL, and the worker configuration's offsets topic as the connector's own (KIP-618)."""
    config = dict(body["connectorConfiguration"])
    if runtime.is_aurora_endpoint(call.account, call.region, config.get("database.hostname")):
        config["database.hostname"], config["database.port"] = local.postgres_host, str(local.postgres_port)
    if "workerConfiguration" in body:
        worker = _find(call, WORKER_CONFIGURATIONS, body["workerConfiguration"]["workerConfigurationArn"])
        properties = dict(line.split("=", 1) for line in base64.b64decode(worker.properties).decode().splitlines()
                          if "=" in line and not line.lstrip().startswith("#"))
        if "offset.storage.topic" in properties:
            config["offsets.storage.topic"] = properties["offset.storage.topic"].strip()
    return config


def _on_worker(connector: Connector, method: str, config: dict[str, str] | None = None) -> None:
    """Create or delete the connector on the local worker, outside the request: the worker resolves the connector's
    ${secretsmanager:...} reference through this very endpoint, which serves one request at a time."""
    local = runtime.current()
    url = f"{local.connect_url}/connectors/{connector.name}"

    def work() -> None:
        try:
            if method == "PUT":
                response = requests.put(f"{url}/config", json=config, timeout=120)
            else:
                response = requests.delete(url, timeout=120)
            if response.status_code >= 400 and not (method == "DELETE" and response.status_code == 404):
                raise RuntimeError(f"Kafka Connect {method}: {response.status_code} {response.text[:500]}")
        except (requests.RequestException, RuntimeError) as error:
            log.error("connector %s on the local worker: %s", connector.name, error)
            connector.failure = str(error)

    threading.Thread(target=work, name=f"connector-{connector.name}", daemon=True).start()


def create_connector(call: api.Call) -> dict[str, Any]:
    body = call.body
    for plugin in body["plugins"]:
        _find(call, PLUGINS, plugin["customPlugin"]["customPluginArn"])
    if "workerConfiguration" in body:
        _find(call, WORKER_CONFIGURATIONS, body["workerConfiguration"]["workerConfigurationArn"])
    name = body["connectorName"]
    connector = Connector(call.new_arn(CONNECTORS, "connector", name), name, body.get("connectorDescription", ""),
                          body, body.get("tags", {}))
    CONNECTORS[connector.arn] = connector
    local = runtime.current()
    if local is not None:
        _on_worker(connector, "PUT", local_config(call, body, local))
    return {"connectorArn": connector.arn, "connectorName": name, "connectorState": "CREATING"}


def _forget_deleted(call: api.Call) -> None:
    """Connectors the worker has deleted are gone from MSK Connect too (the worker deletes in the background)."""
    for arn, connector in list(CONNECTORS.items()):
        if call.owns(arn) and connector.gone():
            del CONNECTORS[arn]


def describe_connector(call: api.Call, arn: str) -> dict[str, Any]:
    _forget_deleted(call)
    return _find(call, CONNECTORS, arn).describe()


def delete_connector(call: api.Call, arn: str) -> dict[str, Any]:
    connector = _find(call, CONNECTORS, arn)
    if runtime.current() is None:
        del CONNECTORS[connector.arn]
    else:
        connector.deleting = True
        _on_worker(connector, "DELETE")
    return {"connectorArn": arn, "connectorState": "DELETING"}


def list_connectors(call: api.Call) -> dict[str, Any]:
    _forget_deleted(call)
    return {"connectors": [{key: value for key, value in connector.items() if key != "connectorConfiguration"}
                           for connector in _listed(call, CONNECTORS, "connectorNamePrefix")]}


# ---- tags of all three -----------------------------------------------------------------------------------------


def _tagged(call: api.Call, arn: str) -> dict[str, str]:
    store = next((store for store in (PLUGINS, WORKER_CONFIGURATIONS, CONNECTORS) if arn in store), {})
    return _find(call, store, arn).tags


def list_tags_for_resource(call: api.Call, arn: str) -> dict[str, Any]:
    return {"tags": _tagged(call, arn)}


def tag_resource(call: api.Call, arn: str) -> dict[str, Any]:
    _tagged(call, arn).update(call.body["tags"])
    return {}


def untag_resource(call: api.Call, arn: str) -> dict[str, Any]:
    keys = call.query.getlist("tagKeys")
    if not keys:
        raise api.bad_request("tagKeys is required")
    tags = _tagged(call, arn)
    for key in keys:
        tags.pop(key, None)
    return {}


SERVICE = api.Service("kafkaconnect", api.rest_routes(
    Rule("/v1/custom-plugins", methods=["POST"], endpoint=create_custom_plugin),
    Rule("/v1/custom-plugins", methods=["GET"], endpoint=list_custom_plugins),
    Rule("/v1/custom-plugins/<arn:arn>", methods=["GET"], endpoint=describe_custom_plugin),
    Rule("/v1/custom-plugins/<arn:arn>", methods=["DELETE"], endpoint=delete_custom_plugin),
    Rule("/v1/worker-configurations", methods=["POST"], endpoint=create_worker_configuration),
    Rule("/v1/worker-configurations", methods=["GET"], endpoint=list_worker_configurations),
    Rule("/v1/worker-configurations/<arn:arn>", methods=["GET"], endpoint=describe_worker_configuration),
    Rule("/v1/worker-configurations/<arn:arn>", methods=["DELETE"], endpoint=delete_worker_configuration),
    Rule("/v1/connectors", methods=["POST"], endpoint=create_connector),
    Rule("/v1/connectors", methods=["GET"], endpoint=list_connectors),
    Rule("/v1/connectors/<arn:arn>", methods=["GET"], endpoint=describe_connector),
    Rule("/v1/connectors/<arn:arn>", methods=["DELETE"], endpoint=delete_connector),
    Rule("/v1/tags/<arn:arn>", methods=["GET"], endpoint=list_tags_for_resource),
    Rule("/v1/tags/<arn:arn>", methods=["POST"], endpoint=tag_resource),
    Rule("/v1/tags/<arn:arn>", methods=["DELETE"], endpoint=untag_resource),
))
