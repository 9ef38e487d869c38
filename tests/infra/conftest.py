"""Fixtures of the infrastructure suite: Terraform on a copy of the tree, the local AWS endpoint, versions.

Terraform runs on a copy of terraform/, connectors/, python/glue/ and scripts/sql/ in a temporary folder, so that its
lock files, state and .terraform folders never land in the work tree (but for test_deployed_pipeline.py, which deploys
through make as a user does). The AWS provider comes from TF_PLUGIN_DIR, or from the provider mirror /opt/tf-plugins
where the machine has one, or else from whatever the user's Terraform CLI configuration says (a mirror, or the
registry). A provider that cannot be installed fails the tests that need it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from envfile import read_env_file

ROOT = Path(__file__).resolve().parents[2]
MACHINE_MIRROR = Path("/opt/tf-plugins")


@pytest.fixture(scope="session")
def versions() -> dict[str, str]:
    return read_env_file(ROOT / "versions.env")


@pytest.fixture(scope="session")
def env_example() -> dict[str, str]:
    return read_env_file(ROOT / ".env.example")


@pytest.fixture(scope="session")
def settings() -> dict[str, str]:
    """.env.example's defaults, overridden by the environment (scripts/lib.sh exports .env on top)."""
    defaults = read_env_file(ROOT / ".env.example")
    return {key: os.environ.get(key, value) for key, value in defaults.items()}


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    """Run a command; on failure, fail the test with its output."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}")
    return proc.stdout


# ---- Terraform ------------------------------------------------------------------------------------------------


def plugin_dir() -> str | None:
    explicit = os.environ.get("TF_PLUGIN_DIR")
    if explicit:
        return explicit
    if (MACHINE_MIRROR / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
        return str(MACHINE_MIRROR)
    return None


def terraform_env(tmp: Path) -> dict[str, str]:
    env = dict(os.environ, TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
    # a CLI configuration that does not exist only adds a warning to every command
    if env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        del env["TF_CLI_CONFIG_FILE"]
    env["TF_DATA_DIR"] = str(tmp / ".terraform-data")
    return env


class Terraform:
    """terraform -chdir=<dir> on the copied tree, each directory with its own data folder."""

    def __init__(self, tree: Path) -> None:
        if shutil.which("terraform") is None:
            pytest.fail("terraform is not on PATH: install Terraform (TERRAFORM_VERSION in versions.env)")
        self.tree = tree

    def __call__(self, directory: str, *args: str, timeout: int = 900) -> str:
        workdir = self.tree / directory
        env = terraform_env(workdir)
        return run(["terraform", f"-chdir={workdir}", *args, "-no-color"], cwd=self.tree, env=env, timeout=timeout)

    def init(self, directory: str, *args: str) -> str:
        mirror = plugin_dir()
        return self(directory, "init", "-input=false", *([f"-plugin-dir={mirror}"] if mirror else []), *args)


@pytest.fixture(scope="session")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what the root configurations read: terraform/, connectors/, python/glue/, scripts/sql/ (the database
    bootstrap's statements), and the packaged zips."""
    dest = tmp_path_factory.mktemp("tree")
    shutil.copytree(ROOT / "terraform", dest / "terraform",
                    ignore=shutil.ignore_patterns(".terraform", ".terraform.lock.hcl", "*.tfstate*"))
    shutil.copytree(ROOT / "connectors", dest / "connectors")
    shutil.copytree(ROOT / "scripts" / "sql", dest / "scripts" / "sql")
    shutil.copytree(ROOT / "python" / "glue", dest / "python" / "glue", ignore=shutil.ignore_patterns("__pycache__"))
    # the zips Terraform uploads, from the same script as `make aws-package`
    env = dict(os.environ, AWS_PACKAGE_DIR=str(dest / "build" / "aws"))
    run([str(ROOT / "scripts" / "package-aws.sh")], cwd=ROOT, env=env)
    return dest


@pytest.fixture(scope="session")
def terraform(tree: Path) -> Terraform:
    return Terraform(tree)


# ---- The local AWS endpoint -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def endpoint(settings: dict[str, str]) -> str:
    """URL of the local AWS endpoint; fails (never skips) when it does not answer."""
    url = f"http://{settings['AWS_ENDPOINT_HOST']}:{settings['AWS_ENDPOINT_PORT']}"
    s3 = boto3.client("s3", endpoint_url=url, region_name=settings["AWS_REGION"], aws_access_key_id="test",
                      aws_secret_access_key="test", config=Config(connect_timeout=3, retries={"max_attempts": 1}))
    try:
        s3.list_buckets()
    except Exception as error:  # any failure means the same thing here: not answering
        pytest.fail(f"the local AWS endpoint {url} is not answering ({error}): start it with `make local-up`")
    return url


@pytest.fixture(scope="session")
def aws(endpoint: str, settings: dict[str, str]) -> Callable[[str], object]:
    """boto3 clients of the local endpoint: aws('s3'), aws('rds'), ..."""

    def client(service: str):
        return boto3.client(service, endpoint_url=endpoint, region_name=settings["AWS_REGION"],
                            aws_access_key_id="test", aws_secret_access_key="test")

    return client
