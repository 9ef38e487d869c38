"""Scheduled Glue triggers on the local endpoint: as Glue's scheduler does, every ACTIVATED trigger of type SCHEDULED
starts its actions' jobs when its cron expression comes due (through the same StartJobRun as a caller's; a run still
going is not started twice). The triggers themselves are moto's.

Glue's cron expressions have six fields (minutes hours day-of-month month day-of-week year) and `?` for "any";
croniter reads the first five once `?` is `*` and day-of-week numbers are moved from Glue's 1-7 (SUN=1) to 0-6.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from datetime import UTC, datetime
from typing import Any

from croniter import croniter
from moto.glue.models import glue_backends
from werkzeug.datastructures import MultiDict

from localaws import api, gluejobs

log = logging.getLogger("localaws")

TICK_SECONDS = 15


def cron_of(schedule: str) -> str:
    """A Glue schedule, cron(0/30 * * * ? *), as a five-field cron expression croniter reads."""
    found = re.fullmatch(r"\s*cron\((.*)\)\s*", schedule)
    fields = found.group(1).split() if found else []
    if len(fields) != 6:
        raise ValueError(f"not a Glue cron expression: {schedule!r}")
    minutes, hours, days, months, weekdays, _year = (f.replace("?", "*") for f in fields)
    weekdays = re.sub(r"\d+", lambda m: str((int(m.group()) - 1) % 7), weekdays)
    return " ".join([minutes, hours, days, months, weekdays])


def due(schedule: str, since: datetime, now: datetime) -> bool:
    """The schedule has a time in (since, now]."""
    return croniter(cron_of(schedule), since).get_next(datetime) <= now


def scheduled_triggers() -> list[tuple[str, str, Any]]:
    """(account, region, trigger) of every activated scheduled trigger."""
    return [(account, region, trigger)
            for account, regions in glue_backends.items() for region, backend in regions.items()
            for trigger in backend.triggers.values()
            if trigger.trigger_type == "SCHEDULED" and trigger.state == "ACTIVATED"]


def fire(since: datetime, now: datetime) -> list[str]:
    """Start the jobs of the triggers due in (since, now]; the ids of the runs started."""
    started = []
    for account, region, trigger in scheduled_triggers():
        try:
            if not due(trigger.schedule, since, now):
                continue
        except ValueError as error:
            log.warning("trigger %s: %s", trigger.name, error)
            continue
        for action in trigger.actions:
            if not action.job_name:  # a crawler's: not run here
                continue
            call = api.Call("glue", account, region, {"JobName": action.job_name,
                                                      "Arguments": action.arguments or {}}, MultiDict())
            try:
                run_id = gluejobs.start_job_run(call)["JobRunId"]
            except api.AwsError as error:  # a run still going, a job deleted since
                log.info("trigger %s: %s not started: %s", trigger.name, action.job_name, error.message)
                continue
            log.info("trigger %s started %s (run %s)", trigger.name, action.job_name, run_id)
            started.append(run_id)
    return started


class Scheduler(threading.Thread):
    """Fires the due triggers every TICK_SECONDS, under the endpoint's lock (the stores are not thread-safe); times
    before the endpoint started are not caught up on."""

    def __init__(self, app: Any) -> None:
        super().__init__(daemon=True, name="glue-triggers")
        self.app = app

    def run(self) -> None:
        since = datetime.now(UTC)
        while True:
            time.sleep(TICK_SECONDS)
            now = datetime.now(UTC)
            with self.app.lock:
                if fire(since, now) and self.app.snapshots is not None:
                    self.app.snapshots.save(own=True)
            since = now
