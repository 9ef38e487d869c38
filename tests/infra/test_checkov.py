"""checkov's static security scan of terraform/ and cloudformation.yaml: no failed check, and every check skipped in
code says why. checkov runs from its own virtualenv ($BUILD_DIR/checkov, `make infra-tools`)."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = re.compile(r"checkov:skip=([A-Z0-9_]+)(?::(.*))?")


def checkov() -> str:
    build_dir = Path(os.environ.get("BUILD_DIR", ROOT / ".build"))
    exe = build_dir / "checkov" / "bin" / "checkov"
    if not exe.exists():
        pytest.fail(f"{exe} is missing: run `make infra-tools` (checkov lives in a virtualenv of its own)")
    return str(exe)


def scan(*args: str) -> list[dict]:
    proc = subprocess.run([checkov(), *args, "-o", "json", "--quiet", "--skip-download"], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov printed no report (exit {proc.returncode}):\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return report if isinstance(report, list) else [report]


def failures(reports: list[dict]) -> list[str]:
    return [f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']}:{c['file_line_range'][0]})"
            for r in reports for c in r.get("results", {}).get("failed_checks", [])]


def test_terraform_has_no_failed_check():
    reports = scan("-d", "terraform", "--framework", "terraform")
    assert sum(r["summary"]["passed"] for r in reports) > 100, "checkov scanned almost nothing"
    assert failures(reports) == []


def test_cloudformation_has_no_failed_check():
    reports = scan("-f", "cloudformation.yaml", "--framework", "cloudformation")
    assert sum(r["summary"]["passed"] for r in reports) > 50, "checkov scanned almost nothing"
    assert failures(reports) == []


def test_every_skip_in_terraform_gives_a_reason():
    bare = [f"{f.relative_to(ROOT)}: {m.group(0)}" for f in (ROOT / "terraform").rglob("*.tf")
            for m in SKIP.finditer(f.read_text()) if not (m.group(2) or "").strip()]
    assert bare == [], "a skipped check must say why: #checkov:skip=CKV_...:reason"


def test_every_skip_in_cloudformation_gives_a_reason():
    from cfnlint.decode import cfn_yaml

    resources = cfn_yaml.load(str(ROOT / "cloudformation.yaml"))["Resources"]
    bare = [f"{name}: {skip.get('id')}" for name, res in resources.items()
            for skip in res.get("Metadata", {}).get("checkov", {}).get("skip", []) if not skip.get("comment")]
    assert bare == [], "a skipped check must say why: Metadata.checkov.skip[].comment"
