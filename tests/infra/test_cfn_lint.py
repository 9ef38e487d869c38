"""cfn-lint has nothing to say about cloudformation.yaml (errors, warnings and informational findings alike)."""

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_cloudformation_template_is_lint_clean():
    proc = subprocess.run(["cfn-lint", "--include-checks", "I", "--", "cloudformation.yaml"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
