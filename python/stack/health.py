"""Whether each supervised component is well: supervisord's own log says how often it died unexpectedly and when, the
component's log says why. A component that keeps dying shows as FAILING, whatever supervisorctl shows right now
(between two crashes it says RUNNING)."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from stack import supervisor
from stack.settings import log_file

# supervisord.log lines, e.g. `2026-12-01 19:22:46,887 WARN exited: glue (exit status 1; not expected)`
_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ \w+ (.*)$")
_UNEXPECTED = re.compile(r"^exited: (\S+) \((.*); not expected\)$")
_STARTED = re.compile(r"^supervisord started with pid \d+$")
# A component whose unexpected exits come this close together is crash-looping, not just restarted once.
CRASH_LOOP = timedelta(minutes=10)
CRASH_LOOP_EXITS = 2
# ... unless it has been running this long since its last start: then it has recovered
STABLE_AFTER = timedelta(minutes=3)
# What a log line that reports a failure looks like in the logs of Java, PostgreSQL and Python components.
_ERROR = re.compile(r"\b(ERROR|FATAL|PANIC)\b|^\w+(\.\w+)*(Error|Exception): |\bException in thread\b")


@dataclass
class Health:
    """Unexpected exits of one program since supervisord started: when, and how each ended."""

    name: str
    exits: list[tuple[datetime, str]] = field(default_factory=list)

    def failing(self, now: datetime, state: str, running_since: datetime | None = None) -> bool:
        if state in ("BACKOFF", "FATAL", "EXITED"):
            return True
        if state == "RUNNING" and running_since and now - running_since >= STABLE_AFTER:
            return False
        recent = [at for at, _ in self.exits if now - at <= CRASH_LOOP]
        return len(recent) >= CRASH_LOOP_EXITS

    def streak_start(self) -> datetime | None:
        """The first exit of the latest run of exits that came less than CRASH_LOOP apart."""
        start = None
        for i, (at, _) in enumerate(self.exits):
            if i == 0 or at - self.exits[i - 1][0] > CRASH_LOOP:
                start = at
        return start


def unexpected_exits(supervisord_log: list[str]) -> dict[str, Health]:
    """Each program's unexpected exits, read from supervisord's log since its latest start."""
    found: dict[str, Health] = {}
    for line in supervisord_log:
        matched = _LINE.match(line.rstrip("\n"))
        if not matched:
            continue
        at, message = datetime.strptime(matched.group(1), "%Y-%m-%d %H:%M:%S"), matched.group(2)
        if _STARTED.match(message):
            found.clear()
        elif exited := _UNEXPECTED.match(message):
            found.setdefault(exited.group(1), Health(exited.group(1))).exits.append((at, exited.group(2)))
    return found


def last_error(component: str, lines: int = 2000) -> str | None:
    """The last line of the component's log that reports a failure, shortened to one line."""
    try:
        with open(log_file(component), encoding="utf-8", errors="replace") as handle:
            recent = deque(handle, maxlen=lines)
    except FileNotFoundError:
        return None
    for line in reversed(recent):
        if _ERROR.search(line):
            text = " ".join(line.split())
            return text if len(text) <= 240 else text[:237] + "..."
    return None


def supervisord_log() -> list[str]:
    try:
        with open(log_file("supervisord"), encoding="utf-8", errors="replace") as handle:
            return handle.readlines()
    except FileNotFoundError:
        return []


def programs() -> dict[str, tuple[str, str, datetime | None]]:
    """{program: (state, description, when it last started)}, as supervisord has them."""
    return {name: (info["statename"], info["description"],
                   datetime.fromtimestamp(info["start"]) if info["start"] else None)
            for name, info in supervisor.programs().items()}


def program_lines(states: dict[str, tuple[str, str, datetime | None]], now: datetime | None = None) -> list[str]:
    """One line per supervised program: its state, and for one that died unexpectedly how often, since when, and
    its last error, with what to do."""
    now = now or datetime.now()
    exits = unexpected_exits(supervisord_log())
    lines = []
    for name, (state, description, started) in sorted(states.items()):
        health = exits.get(name, Health(name))
        if health.failing(now, state, started):
            since = health.streak_start()
            restarts = f"{len(health.exits)} unexpected exits since {since:%H:%M:%S}" if since else state
            error = last_error(name) or (health.exits[-1][1] if health.exits else "no error in its log")
            lines.append(f"  {name:<12} FAILING   {restarts}; last error: {error} -- make logs C={name}")
        elif health.exits:
            last_at, how = health.exits[-1]
            lines.append(f"  {name:<12} {state:<9} {description}; restarted after {len(health.exits)} unexpected "
                         f"exits (last at {last_at:%H:%M:%S}: {how})")
        else:
            lines.append(f"  {name:<12} {state:<9} {description}")
    return lines
