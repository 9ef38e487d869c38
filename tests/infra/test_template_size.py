"""cloudformation.yaml fits in what `aws cloudformation create-stack --template-body` accepts: 51,200 bytes (a
larger template must go through S3 with --template-url, which the runbook does not do)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_BODY_LIMIT = 51_200


def test_template_fits_in_a_template_body():
    size = (ROOT / "cloudformation.yaml").stat().st_size
    assert size < TEMPLATE_BODY_LIMIT, f"cloudformation.yaml is {size} bytes: --template-body takes < 51,200"
