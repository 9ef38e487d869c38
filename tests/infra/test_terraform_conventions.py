"""terraform/ as STYLE.md has it: every variable has a description and a type, every output a description, and
every module's README lists its inputs and outputs (the tables a user reads instead of variables.tf)."""

import re
from pathlib import Path

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "terraform"
MODULES = sorted(p for p in (TERRAFORM / "modules").iterdir() if p.is_dir())
CONFIGURATIONS = MODULES + sorted(p for p in (TERRAFORM / "envs").iterdir() if p.is_dir())


def blocks(directory: Path, kind: str) -> dict[str, dict]:
    found = {}
    for path in directory.glob("*.tf"):
        for block in hcl2.load(path.open()).get(kind, []):
            found.update({name.strip('"'): body for name, body in block.items()})
    return found


def ids(path: Path) -> str:
    return str(path.relative_to(TERRAFORM))


@pytest.mark.parametrize("directory", CONFIGURATIONS, ids=ids)
def test_every_variable_has_a_description_and_a_type(directory):
    bare = [name for name, body in blocks(directory, "variable").items()
            if not body.get("description") or "type" not in body]
    assert bare == []


@pytest.mark.parametrize("directory", CONFIGURATIONS, ids=ids)
def test_every_output_has_a_description(directory):
    bare = [name for name, body in blocks(directory, "output").items() if not body.get("description")]
    assert bare == []


def table_names(readme: str, heading: str) -> set[str]:
    section = readme.split(f"## {heading}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", section, re.MULTILINE))


@pytest.mark.parametrize("module", MODULES, ids=ids)
def test_module_readme_lists_its_inputs_and_outputs(module):
    readme = (module / "README.md").read_text()
    assert table_names(readme, "Inputs") == set(blocks(module, "variable"))
    assert table_names(readme, "Outputs") == set(blocks(module, "output"))
