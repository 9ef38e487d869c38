"""Terraform without AWS: formatting, validation of both root configurations, and the connector module's
`terraform test` (the connectors/ template rendered by templatefile, against a mocked provider)."""

import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_terraform_files_are_formatted():
    proc = subprocess.run(["terraform", "fmt", "-check", "-recursive", "-diff", "terraform"], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, f"run `terraform fmt -recursive terraform`:\n{proc.stdout}{proc.stderr}"


@pytest.mark.parametrize("root", ["envs/aws", "envs/local"])
def test_root_configuration_is_valid(terraform, root):
    terraform.init(f"terraform/{root}", "-backend=false")
    assert "The configuration is valid" in terraform(f"terraform/{root}", "validate")


def test_connector_module_renders_the_shared_template(terraform, tree):
    module = "terraform/modules/msk_connect"
    (tree / module / "tests" / "plugin.zip").write_bytes(b"")
    terraform.init(module, "-backend=false")
    out = terraform(module, "test")
    assert "0 failed" in out, out
