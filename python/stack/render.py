"""Render a connector template: ${VAR} placeholders from the environment, strictly."""

import json
import string
from collections.abc import Mapping
from pathlib import Path


class RenderError(ValueError):
    pass


def render_connector(template: str, env: Mapping[str, str]) -> dict[str, str]:
    """Substitute every ${VAR} and parse the result; an unset variable or invalid JSON is an error."""
    try:
        text = string.Template(template).substitute(env)
    except KeyError as missing:
        raise RenderError(
            f"setting {missing.args[0]} is not set (add it to .env; defaults are in .env.example)") from None
    except ValueError as bad:
        raise RenderError(f"bad placeholder in template: {bad}") from None
    try:
        config = json.loads(text)
    except json.JSONDecodeError as bad:
        raise RenderError(f"rendered connector config is not JSON: {bad}") from None
    empty = sorted(key for key, value in config.items() if value == "")
    if empty:
        raise RenderError(f"connector settings rendered empty: {', '.join(empty)}")
    return config


def load_template(path: Path) -> str:
    return path.read_text(encoding="utf-8")
