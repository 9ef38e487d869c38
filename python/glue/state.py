"""The job's per-table state and the operator's requests, as JSON objects under `<lake>/state/`.

- `tables/<mirror>.json`: a mirror the job paused (why, since when, when it tries again). Its events stay in the change
  log; the job tries again with backoff and, when the cause is gone, catches the mirror up from the change log.
  `make status` reads these.
- `requests/<kind>-<mirror>.json`: `make rebuild TABLE=...` asks the running job (the mirrors' only writer) to rebuild
  a mirror from the change log; the job deletes the request when done, which is what the command waits for.
- `requests/floor.json`: `make recover-slot` tells the job that nothing before a place counts for any mirror (the slot
  was lost, every table is snapshotted again after it): each mirror forgets its rows from before, as after a TRUNCATE.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass

from pyspark.sql import SparkSession

from glue import objects

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 60
MAX_RETRY_SECONDS = 1800
REBUILD, FLOOR = "rebuild", "floor"


@dataclass
class Paused:
    reason: str
    since_ms: int
    batch_id: int
    attempts: int
    next_attempt_ms: int


def backoff_seconds(attempts: int) -> int:
    """Seconds before the next attempt after `attempts` failed ones: 1 min, doubling, at most 30 min."""
    return min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)


class TableStates:
    def __init__(self, state_uri: str):
        self.tables_uri = f"{state_uri.rstrip('/')}/tables"
        self.requests_uri = f"{state_uri.rstrip('/')}/requests"
        self.paused: dict[str, Paused] | None = None

    def _uri(self, mirror: str) -> str:
        return f"{self.tables_uri}/{mirror}.json"

    def load(self, spark: SparkSession) -> dict[str, Paused]:
        if self.paused is None:
            self.paused = {}
            for uri, value in objects.list_json(spark, self.tables_uri).items():
                if value and value.get("status") == "paused":
                    fields = {k: value[k] for k in Paused.__dataclass_fields__}
                    self.paused[uri.rsplit("/", 1)[1].removesuffix(".json")] = Paused(**fields)
        return self.paused

    def pause(self, spark: SparkSession, mirror: str, reason: str, batch_id: int) -> Paused:
        now = int(time.time() * 1000)
        previous = self.load(spark).get(mirror)
        attempts = previous.attempts + 1 if previous else 1
        paused = Paused(reason, previous.since_ms if previous else now, batch_id, attempts,
                        now + backoff_seconds(attempts) * 1000)
        objects.write_json(spark, self._uri(mirror), {"status": "paused", "mirror": mirror, **asdict(paused)})
        self.paused[mirror] = paused
        log.error("%s paused (attempt %d; next in %ds): %s", mirror, attempts, backoff_seconds(attempts), reason)
        return paused

    def resume(self, spark: SparkSession, mirror: str) -> None:
        if mirror in self.load(spark):
            objects.delete(spark, self._uri(mirror))
            del self.paused[mirror]
            log.info("%s resumed: caught up from the change log", mirror)

    def due(self, spark: SparkSession, mirror: str) -> bool:
        paused = self.load(spark).get(mirror)
        return paused is not None and paused.next_attempt_ms <= time.time() * 1000

    def requests(self, spark: SparkSession) -> tuple[dict[str, str], dict[str, tuple[tuple[int, int], str]]]:
        """Pending requests: ({mirror: uri} of rebuilds, {uri: (place, cause)} of floors for every mirror)."""
        rebuilds, floors = {}, {}
        for uri, value in objects.list_json(spark, self.requests_uri).items():
            if value and value.get("kind") == REBUILD and value.get("mirror"):
                rebuilds[value["mirror"]] = uri
            elif value and value.get("kind") == FLOOR:
                floors[uri] = ((int(value["commit_lsn"]), int(value["lsn"])), value.get("cause", FLOOR))
        return rebuilds, floors

    def done(self, spark: SparkSession, request_uri: str) -> None:
        objects.delete(spark, request_uri)
