"""The project's KEY=VALUE files (versions.env, .env.example) read as Compose reads an --env-file."""

from pathlib import Path


def read_env_file(path: Path) -> dict[str, str]:
    """Blank lines and comments skipped, surrounding quotes removed."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values
