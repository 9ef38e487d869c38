"""What the report records about where it ran: the machine, the pinned versions, the PostgreSQL server."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

from bench.config import ROOT


def machine() -> dict:
    model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    return {"cores": os.cpu_count(), "memory_gib": round(mem_kb / 1024 / 1024, 1), "cpu_model": model,
            "kernel": platform.release(), "python": platform.python_version(), "java": java_version(),
            "load_average_start": load_average()}


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages: other work on the machine shows here."""
    return [round(x, 2) for x in os.getloadavg()]


def java_version() -> str:
    result = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    return (result.stderr.splitlines() or ["?"])[0]


def versions(path: Path = ROOT / "versions.env") -> dict[str, str]:
    """Every KEY=VALUE of versions.env."""
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
    return out


def postgres_version(dsn: str) -> str:
    import psycopg2

    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SHOW server_version")
        version = cur.fetchone()[0]
    conn.close()
    return version
