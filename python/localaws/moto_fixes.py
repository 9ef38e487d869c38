"""Changes to moto 5.2.5 itself (requirements.txt pins it), each where it answers otherwise than AWS does.
Review these when MOTO_VERSION changes; each names what it works around."""

from __future__ import annotations

import functools
import json
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.ec2.models.security_groups import SecurityGroupRule
from moto.glue.models import FakeConnection
from moto.glue.responses import GlueResponse
from moto.kafka.exceptions import NotFoundException
from moto.kafka.models import FakeKafkaCluster, KafkaBackend
from moto.rds.models import DBCluster, DBInstance, MasterUserSecret
from moto.s3.models import FakeDeleteMarker, FakeKey
from moto.utilities.utils import get_partition


def _dispose_nothing(self: FakeDeleteMarker, garbage: bool = False) -> None:
    """A delete marker holds no data to free."""


# moto 5.2.5: deleting an object from a bucket whose versioning is not "Enabled" (Suspended, as Terraform sets it
# before emptying a force_destroy bucket) pops every version of the key and calls .dispose() on each
# (_VersionedKeyStore.pop in moto/s3/utils.py); FakeDeleteMarker has no dispose, so S3 answered HTTP 500 with
# AttributeError, and Terraform retried for many minutes.
FakeDeleteMarker.dispose = _dispose_nothing


class ClusterNotFound(NotFoundException):
    code = 404


def _known_cluster(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def checked(self: KafkaBackend, cluster_arn: str, *args: Any, **kwargs: Any) -> Any:
        if cluster_arn not in self.clusters:
            raise ClusterNotFound(f"Cluster {cluster_arn} does not exist")
        return method(self, cluster_arn, *args, **kwargs)

    return checked


# moto 5.2.5 answers HTTP 500 (KeyError) for a cluster that does not exist, where MSK answers NotFoundException:
# Terraform waits for that answer after DeleteCluster, and a 500 it retries instead.
for _name in ("describe_cluster", "describe_cluster_v2", "delete_cluster"):
    setattr(KafkaBackend, _name, _known_cluster(getattr(KafkaBackend, _name)))

_create = FakeKafkaCluster.__init__


@functools.wraps(_create)
def _create_as_msk(self: FakeKafkaCluster, *args: Any, **kwargs: Any) -> None:
    _create(self, *args, **kwargs)
    self.state = "ACTIVE"
    if self.cluster_type == "PROVISIONED":
        at_rest = {"dataVolumeKMSKeyId": f"arn:{get_partition(self.region_name)}:kms:{self.region_name}:"
                                         f"{self.account_id}:key/{uuid.uuid5(uuid.NAMESPACE_URL, 'aws/kafka')}"}
        self.encryption_info = {"encryptionAtRest": at_rest, **(self.encryption_info or {})}


# moto 5.2.5 leaves every cluster CREATING, and Terraform waits for ACTIVE: here a cluster is ACTIVE once created.
# And MSK encrypts every provisioned cluster's storage, with the AWS-managed key aws/kafka when the request names no
# key of its own, which DescribeCluster then reports; moto reports only what the request said.
FakeKafkaCluster.__init__ = _create_as_msk


def _arn_with_name(self: FakeKafkaCluster) -> str:
    kind = "cluster" if self.cluster_type == "PROVISIONED" else "serverless-cluster"
    return (f"arn:{get_partition(self.region_name)}:kafka:{self.region_name}:{self.account_id}:{kind}/"
            f"{self.cluster_name}/{self.cluster_id}-1")


# moto 5.2.5 names a cluster arn:...:cluster/<uuid>; MSK's ARNs are arn:...:cluster/<name>/<uuid>-<n>, and Terraform
# reads the cluster's UUID (cluster_uuid, part of its topic and group ARNs in IAM policies) from that last part.
FakeKafkaCluster._generate_arn = _arn_with_name


def _data_api_versions(engine: str, engine_mode: str, version: str | None) -> bool:
    """Provisioned Aurora PostgreSQL has the RDS Data API from 16.1, 15.3, 14.8 and 13.11 on (AWS's documentation:
    'Data API ... Aurora PostgreSQL')."""
    if engine != "aurora-postgresql" or engine_mode != "provisioned" or not version:
        return False
    major, _, minor = version.partition(".")
    least = {"13": 11, "14": 8, "15": 3, "16": 1}
    return int(major) > 16 or (major in least and minor.isdigit() and int(minor) >= least[major])


_set_http_endpoint = DBCluster.enable_http_endpoint.fset


def _enable_http_endpoint(self: DBCluster, value: bool | None) -> None:
    _set_http_endpoint(self, value)
    if value and _data_api_versions(self.engine, self.engine_mode, self.engine_version):
        self._enable_http_endpoint = True


# moto 5.2.5 turns the HTTP endpoint (the RDS Data API) on for Aurora Serverless v1 only; AWS has it for provisioned
# Aurora PostgreSQL too, and this project bootstraps its database through it.
DBCluster.enable_http_endpoint = DBCluster.enable_http_endpoint.setter(_enable_http_endpoint)


_instance_init, _instance_update = DBInstance.__init__, DBInstance.update


@functools.wraps(_instance_init)
def _instance_with_insights(self: DBInstance, *args: Any, **kwargs: Any) -> None:
    _instance_init(self, *args, **kwargs)
    self.performance_insights_enabled = bool(kwargs.get("enable_performance_insights"))


@functools.wraps(_instance_update)
def _update_insights(self: DBInstance, **kwargs: Any) -> None:
    _instance_update(self, **kwargs)
    if "enable_performance_insights" in kwargs:
        self.performance_insights_enabled = bool(kwargs["enable_performance_insights"])


# moto 5.2.5 keeps no PerformanceInsightsEnabled of an instance, so every plan after an apply wants to turn it on
# again (an in-place update each time): here an instance reports what it was created or modified with.
DBInstance.__init__ = _instance_with_insights
DBInstance.update = _update_insights

_connection_as_dict = FakeConnection.as_dict


@functools.wraps(_connection_as_dict)
def _connection_with_type(self: FakeConnection, hide_password: bool = False) -> dict[str, Any]:
    return {**_connection_as_dict(self, hide_password), "ConnectionType": self.connection_input.get("ConnectionType")}


# moto 5.2.5 leaves ConnectionType out of GetConnection's answer, so every plan wants to set it again, through
# UpdateConnection, which moto does not serve: a second apply waited for ever.
FakeConnection.as_dict = _connection_with_type


def _master_credentials(self: MasterUserSecret) -> str:
    return json.dumps({"username": self.resource.master_username, "password": secrets.token_urlsafe(24)})


# moto 5.2.5 writes {"username": "admin", "password": "P@55w0rd!"} into every RDS-managed master secret, whatever the
# cluster's master user is called: RDS writes the master user's name and a generated password.
MasterUserSecret._generate_secret_string = _master_credentials


_rule_init = SecurityGroupRule.__init__


@functools.wraps(_rule_init)
def _rule_keeping_descriptions(self: SecurityGroupRule, *args: Any, **kwargs: Any) -> None:
    _rule_init(self, *args, **kwargs)
    prefix_list = kwargs.get("prefix_list_id") or (args[7] if len(args) > 7 else None)
    self._prefix_list_description = (prefix_list or {}).get("Description")


def _rule_description(self: SecurityGroupRule) -> str | None:
    return (self.ip_range.get("Description") or self.source_group.get("Description")
            or getattr(self, "_prefix_list_description", None))


# moto 5.2.5's DescribeSecurityGroupRules reports the description of a rule to a CIDR only, not of a rule to another
# security group or a prefix list, so every plan wants to set those descriptions again (an update of each rule).
SecurityGroupRule.__init__ = _rule_keeping_descriptions
SecurityGroupRule.description = property(_rule_description)

_scaling_info = DBCluster.scaling_configuration_info


def _scaling_info_of_serverless(self: DBCluster) -> dict[str, Any] | None:
    return _scaling_info.fget(self) if self.engine_mode == "serverless" else None


# moto 5.2.5 reports Aurora Serverless v1's ScalingConfigurationInfo (all empty) for a provisioned cluster too, which
# Terraform reads as a scaling_configuration block to remove on every plan.
DBCluster.scaling_configuration_info = property(_scaling_info_of_serverless)

_key_headers = FakeKey.response_dict


def _headers_without_kms_key(self: FakeKey) -> dict[str, Any]:
    headers = dict(_key_headers.fget(self))
    headers.pop("x-amz-server-side-encryption-aws-kms-key-id", None)
    return headers


# The local endpoint is plain HTTP. s3a copies an object (a rename: Spark's checkpoint files) naming the KMS key that
# the source's headers name, and AWS's SDK refuses to send a KMS key over HTTP. Without the key's name the copy is
# sent as it is; the bucket's default encryption (the same key) still applies to it.
FakeKey.response_dict = property(_headers_without_kms_key)


class ConcurrentModificationException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("ConcurrentModificationException", message)


_update_table = GlueResponse.update_table


def _update_table_at_its_version(self: GlueResponse) -> Any:
    table_input = self.parameters.get("TableInput") or {}
    table = self.glue_backend.get_table(self.parameters.get("DatabaseName"), table_input.get("Name"))
    version, previous = self.parameters.get("VersionId"), str(table._current_version)
    if version is not None and version != previous:
        raise ConcurrentModificationException(
            f"Update table failed due to concurrent modifications: version {version} is not the table's {previous}")
    answer = _update_table(self)
    if self.parameters.get("SkipArchive"):
        table.versions.pop(previous, None)
    return answer


# moto 5.2.5's UpdateTable ignores VersionId, Glue's optimistic lock: Iceberg's Glue catalog commits a new metadata
# file by UpdateTable at the VersionId it read, so two writers (the streaming job and the maintenance job) could both
# commit on the same version and the later silently drop the other's snapshot. Glue refuses the later, which Iceberg
# retries on the new metadata. And SkipArchive (Iceberg sets it) keeps no old version: moto kept every one in memory.
# The endpoint serves one request at a time (localaws.server), so the check and the update are one step.
GlueResponse.update_table = _update_table_at_its_version
