"""MSK (service kafka), what moto lacks: cluster configurations and their revisions, and a cluster's bootstrap
brokers (the local Kafka, with a local runtime). Everything else (clusters, their tags and policies) stays moto's;
moto's route for DescribeCluster, /v1/clusters/(?P<clusterArn>.+)$, would take GetBootstrapBrokers' path for its
own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moto.kafka.models import FakeKafkaCluster, kafka_backends
from werkzeug.routing import Rule

from localaws import api, runtime


@dataclass
class Revision:
    number: int
    description: str
    server_properties: str  # base64, as on the wire
    created: str = field(default_factory=api.now)

    def summary(self) -> dict[str, Any]:
        return {"revision": self.number, "description": self.description, "creationTime": self.created}


@dataclass
class Configuration:
    arn: str
    name: str
    description: str
    kafka_versions: list[str]
    revisions: list[Revision]
    created: str = field(default_factory=api.now)

    def describe(self) -> dict[str, Any]:
        return {"arn": self.arn, "name": self.name, "description": self.description,
                "kafkaVersions": self.kafka_versions, "creationTime": self.created,
                "latestRevision": self.revisions[-1].summary(), "state": "ACTIVE"}


CONFIGURATIONS: dict[str, Configuration] = {}  # by ARN, of every account and region


def _configuration(call: api.Call, arn: str) -> Configuration:
    # MSK's answer for a configuration that does not exist, which Terraform's waiters look for (not a 404)
    return call.find(CONFIGURATIONS, arn, api.bad_request("Configuration ARN does not exist."))


def create_configuration(call: api.Call) -> dict[str, Any]:
    name = call.body["name"]
    arn = call.new_arn(CONFIGURATIONS, "configuration", name)
    revision = Revision(1, call.body.get("description", ""), call.base64("serverProperties"))
    configuration = Configuration(arn, name, revision.description, call.body.get("kafkaVersions", []), [revision])
    CONFIGURATIONS[configuration.arn] = configuration
    return {key: configuration.describe()[key] for key in ("arn", "name", "creationTime", "latestRevision", "state")}


def describe_configuration(call: api.Call, arn: str) -> dict[str, Any]:
    return _configuration(call, arn).describe()


def describe_configuration_revision(call: api.Call, arn: str, revision: int) -> dict[str, Any]:
    configuration = _configuration(call, arn)
    if not 1 <= revision <= len(configuration.revisions):
        raise api.bad_request(f"Configuration {arn} has no revision {revision}.")
    found = configuration.revisions[revision - 1]
    return {"arn": arn, "revision": found.number, "description": found.description, "creationTime": found.created,
            "serverProperties": found.server_properties}


def update_configuration(call: api.Call, arn: str) -> dict[str, Any]:
    configuration = _configuration(call, arn)
    revision = Revision(len(configuration.revisions) + 1, call.body.get("description", configuration.description),
                        call.base64("serverProperties"))
    configuration.revisions.append(revision)
    return {"arn": arn, "latestRevision": revision.summary()}


def delete_configuration(call: api.Call, arn: str) -> dict[str, Any]:
    del CONFIGURATIONS[_configuration(call, arn).arn]
    return {"arn": arn, "state": "DELETING"}


def list_configurations(call: api.Call) -> dict[str, Any]:
    return {"configurations": [c.describe() for arn, c in CONFIGURATIONS.items() if call.owns(arn)]}


# The listener ports of MSK: plaintext, TLS, SASL/SCRAM over TLS, IAM over TLS.
PORTS = {"bootstrapBrokerString": 9092, "bootstrapBrokerStringTls": 9094, "bootstrapBrokerStringSaslScram": 9096,
         "bootstrapBrokerStringSaslIam": 9098}


def _listeners(cluster: FakeKafkaCluster) -> list[str]:
    """The listeners a cluster's client authentication and encryption in transit open, as MSK opens them."""
    client_broker = (cluster.encryption_info or {}).get("encryptionInTransit", {}).get("clientBroker", "TLS")
    auth = cluster.client_authentication or {}

    def enabled(*path: str) -> bool:
        node: Any = auth
        for key in path:
            node = node.get(key, {})
        return node is True

    unauthenticated = not auth or enabled("unauthenticated", "enabled")
    listeners = []
    if client_broker in ("PLAINTEXT", "TLS_PLAINTEXT") and unauthenticated:
        listeners.append("bootstrapBrokerString")
    if client_broker in ("TLS", "TLS_PLAINTEXT") and (unauthenticated or enabled("tls", "enabled")):
        listeners.append("bootstrapBrokerStringTls")
    if enabled("sasl", "scram", "enabled"):
        listeners.append("bootstrapBrokerStringSaslScram")
    if enabled("sasl", "iam", "enabled"):
        listeners.append("bootstrapBrokerStringSaslIam")
    return listeners


def get_bootstrap_brokers(call: api.Call, arn: str) -> dict[str, Any]:
    """The brokers of each listener the cluster opens: with a local runtime, the local Kafka (plaintext: MSK's TLS and
    IAM are not emulated), else MSK-style names that nothing answers at."""
    cluster = kafka_backends[call.account][call.region].clusters.get(arn)
    if cluster is None:
        raise api.not_found(f"Cluster {arn} does not exist")
    local = runtime.current()
    if local is not None:
        return {key: local.kafka for key in _listeners(cluster)}
    hosts = [f"b-{n}.{cluster.cluster_name.lower()}.{cluster.cluster_id[:6]}.c2.kafka.{call.region}.amazonaws.com"
             for n in range(1, (cluster.number_of_broker_nodes or 1) + 1)]
    return {key: ",".join(f"{host}:{PORTS[key]}" for host in hosts) for key in _listeners(cluster)}


SERVICE = api.Service("kafka", api.rest_routes(
    Rule("/v1/configurations", methods=["POST"], endpoint=create_configuration),
    Rule("/v1/configurations", methods=["GET"], endpoint=list_configurations),
    Rule("/v1/configurations/<arn:arn>", methods=["GET"], endpoint=describe_configuration),
    Rule("/v1/configurations/<arn:arn>", methods=["PUT"], endpoint=update_configuration),
    Rule("/v1/configurations/<arn:arn>", methods=["DELETE"], endpoint=delete_configuration),
    Rule("/v1/configurations/<arn:arn>/revisions/<int:revision>", methods=["GET"],
         endpoint=describe_configuration_revision),
    Rule("/v1/clusters/<arn:arn>/bootstrap-brokers", methods=["GET"], endpoint=get_bootstrap_brokers),
))
