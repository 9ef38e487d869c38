"""The local AWS endpoint keeps its state on disk: what it answered before a SIGKILL is there after it restarts, in a
new process, with the same names, ARNs and contents (python/localaws/persistence.py)."""

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
BIG = os.urandom(3 * 1024 * 1024)  # a body kept beside the state (persistence.BLOB_MIN_BYTES), not inside it


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Endpoint:
    """`python -m localaws --state-dir` as its own process, as supervisord runs it."""

    def __init__(self, state_dir: Path):
        self.state_dir, self.port, self.process = state_dir, free_port(), None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT / "python")}
        self.process = subprocess.Popen([sys.executable, "-m", "localaws", "-p", str(self.port), "--state-dir",
                                         str(self.state_dir)], env=env, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                self.client("sts").get_caller_identity()
                return
            except Exception:  # not listening yet
                time.sleep(0.2)
        raise RuntimeError("localaws did not answer within 30 s")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def client(self, service: str):
        return boto3.client(service, endpoint_url=f"http://127.0.0.1:{self.port}", region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"}))


@pytest.fixture
def endpoint(tmp_path):
    endpoint = Endpoint(tmp_path / "aws")
    endpoint.start()
    yield endpoint
    if endpoint.process.poll() is None:
        endpoint.kill()


def test_what_was_created_before_a_sigkill_is_there_after_the_restart(endpoint):
    secret = endpoint.client("secretsmanager").create_secret(Name="cdc/debezium", SecretString='{"password": "p"}')
    s3 = endpoint.client("s3")
    s3.create_bucket(Bucket="deployment-artifacts")
    s3.put_bucket_versioning(Bucket="deployment-artifacts", VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket="deployment-artifacts", Key="plugin.zip", Body=BIG)["VersionId"]
    vpc = endpoint.client("ec2").create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    key = endpoint.client("kms").create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    signature = endpoint.client("kms").sign(KeyId=key, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")
    worker = endpoint.client("kafkaconnect").create_worker_configuration(  # one of localaws' own stores
        name="workers", propertiesFileContent=base64.b64encode(b"key.converter=x\n").decode())

    endpoint.kill()
    endpoint.start()

    assert endpoint.client("secretsmanager").get_secret_value(SecretId=secret["ARN"])["SecretString"] == \
        '{"password": "p"}'
    body = endpoint.client("s3").get_object(Bucket="deployment-artifacts", Key="plugin.zip", VersionId=version)
    assert body["Body"].read() == BIG
    assert endpoint.client("s3").get_bucket_versioning(Bucket="deployment-artifacts")["Status"] == "Enabled"
    assert [v["VpcId"] for v in endpoint.client("ec2").describe_vpcs(VpcIds=[vpc])["Vpcs"]] == [vpc]
    verified = endpoint.client("kms").verify(KeyId=key, Message=b"m", Signature=signature["Signature"],
                                             SigningAlgorithm="RSASSA_PSS_SHA_256")
    assert verified["SignatureValid"]  # the same private key, not a new one
    described = endpoint.client("kafkaconnect").describe_worker_configuration(
        workerConfigurationArn=worker["workerConfigurationArn"])
    assert base64.b64decode(described["latestRevision"]["propertiesFileContent"]) == b"key.converter=x\n"


def test_a_deleted_object_is_gone_after_the_restart_and_its_body_from_disk(endpoint):
    s3 = endpoint.client("s3")
    s3.create_bucket(Bucket="scratch-bucket")
    s3.put_object(Bucket="scratch-bucket", Key="big", Body=BIG)
    blobs = endpoint.state_dir / "blobs"
    assert len(list(blobs.iterdir())) == 1
    s3.delete_object(Bucket="scratch-bucket", Key="big")
    assert list(blobs.iterdir()) == []

    endpoint.kill()
    endpoint.start()

    assert endpoint.client("s3").list_objects_v2(Bucket="scratch-bucket")["KeyCount"] == 0


def test_reads_write_nothing(endpoint):
    endpoint.client("secretsmanager").create_secret(Name="read-me", SecretString="x")
    files = {p: p.stat().st_mtime_ns for p in endpoint.state_dir.glob("*.pickle")}
    for _ in range(3):
        endpoint.client("secretsmanager").get_secret_value(SecretId="read-me")
        endpoint.client("ec2").describe_vpcs()
    assert {p: p.stat().st_mtime_ns for p in endpoint.state_dir.glob("*.pickle")} == files


def test_a_change_one_service_makes_to_another_is_kept_too(endpoint):
    """RDS deletes a cluster's master secret itself, through the Secrets Manager backend it keeps."""
    cluster = endpoint.client("rds").create_db_cluster(
        DBClusterIdentifier="c1", Engine="aurora-postgresql", MasterUsername="admin", ManageMasterUserPassword=True,
        DatabaseName="shop")["DBCluster"]
    secret = cluster["MasterUserSecret"]["SecretArn"]
    endpoint.kill()
    endpoint.start()
    assert endpoint.client("secretsmanager").describe_secret(SecretId=secret)["ARN"] == secret
    endpoint.client("rds").delete_db_cluster(DBClusterIdentifier="c1", SkipFinalSnapshot=True)

    endpoint.kill()
    endpoint.start()

    assert endpoint.client("secretsmanager").list_secrets()["SecretList"] == []
    assert endpoint.client("rds").describe_db_clusters()["DBClusters"] == []


def test_a_service_whose_state_cannot_be_read_is_left_out_and_the_rest_restored(endpoint):
    endpoint.client("secretsmanager").create_secret(Name="kept", SecretString="x")
    endpoint.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")
    endpoint.kill()
    (broken,) = endpoint.state_dir.glob("moto.ec2.*.pickle")
    broken.write_bytes(b"not a pickle")

    endpoint.start()

    assert endpoint.client("secretsmanager").get_secret_value(SecretId="kept")["SecretString"] == "x"
    assert broken.with_suffix(".unreadable").exists() and not broken.exists()
