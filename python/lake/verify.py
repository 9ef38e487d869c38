"""`make verify`: every mirror reconciled with its source while the pipeline runs, in time proportional to its size
and with little memory.

Per table, first a pass over both sides at a consistent point (lake.applied): each row's digest summed into one of
rows.BUCKETS buckets by its key. Rows the lake has from after that point (a change or a delete newer than it) are
left out on both sides. Only when buckets differ, the next rounds, each at a new point, compare the rows of those
buckets key by key, and then only the keys that still differ. A key is drift when it differs in two rounds in a row
with neither side changed in between; a key that keeps changing is reported as not settled, never as drift.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from psycopg2 import sql
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.expressions import And, EqualTo, GreaterThan, Or
from pyiceberg.table import Table

from glue.bookkeeping import BOOKKEEPING_NAMES, COMMIT_LSN, KEY_PROPERTY, LSN, MARKERS_TABLE, RETYPE_PREFIX
from lake import rows
from lake.applied import SourcePoint, take_point, wait_applied
from lake.catalog import lake_tables, local_catalog
from lake.summary import summarize
from stack.settings import setting, verify_results

ROUNDS = 6  # the first pass, then at most this many rounds minus one of key-by-key comparisons
EXAMPLES = 3
Observed = tuple[int | None, int | None]  # (source digest, lake digest); None: the key is absent on that side


@dataclass
class Verdict:
    table: str
    rows: int = 0  # the source's rows at the first point
    differing: list[dict] = field(default_factory=list)  # {"key", "what"} of each drifted key
    unsettled: int = 0  # keys that kept changing through every round
    problem: str | None = None  # what made the table impossible to compare
    seconds: float = 0.0

    @property
    def equal(self) -> bool:
        return not self.differing and self.problem is None

    def line(self) -> str:
        if self.problem:
            return f"{self.table:<24} DRIFT     {self.problem}"
        if self.differing:
            examples = "; ".join(f"{d['key']} {d['what']}" for d in self.differing[:EXAMPLES])
            return (f"{self.table:<24} DRIFT     {len(self.differing)} of {self.rows} keys differ: {examples} -- "
                    f"make rebuild TABLE={self.table} replays its change log, make resync TABLE={self.table} "
                    f"re-reads the source")
        settled = f", {self.unsettled} keys changing too fast to compare" if self.unsettled else ""
        return f"{self.table:<24} equal     {self.rows} rows ({self.seconds:.1f} s{settled})"


@dataclass(frozen=True)
class Mirror:
    name: str
    table: Table
    layout: rows.Layout


def source_columns(point: SourcePoint, name: str) -> list[tuple[str, str]]:
    with point.conn.cursor() as cur:
        cur.execute("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = %s AND "
                    "table_name = %s ORDER BY ordinal_position", (setting("PG_SCHEMA"), name))
        return cur.fetchall()


def lake_columns(table: Table) -> list[str]:
    return [f.name for f in table.schema().fields
            if f.name not in BOOKKEEPING_NAMES and not f.name.startswith(RETYPE_PREFIX)]


def source_side(point: SourcePoint, mirror: Mirror, wanted: Callable[[tuple], bool]) -> Iterator[tuple[tuple, int,
                                                                                                       list]]:
    """(key, digest, values) of each source row in the point's snapshot whose key is wanted."""
    with point.conn.cursor(name=f"verify_{mirror.name}") as cur:
        cur.itersize = 5000
        cur.execute(sql.SQL("SELECT {} FROM {}").format(
            sql.SQL(", ").join(map(sql.Identifier, mirror.layout.columns)),
            sql.Identifier(setting("PG_SCHEMA"), mirror.name)))
        for record in cur:
            key, values = rows.normalized(dict(zip(mirror.layout.columns, record, strict=True)), mirror.layout,
                                          "source")
            if wanted(key):
                yield key, rows.digest(values), values


def newer_deletes(mirror: Mirror, lsn: int) -> set[tuple]:
    """Keys the lake deleted after the point (glue.markers): the source's snapshot still has them."""
    try:
        markers = local_catalog().load_table((setting("LAKE_DATABASE"), MARKERS_TABLE))
    except NoSuchTableError:  # nothing was ever deleted
        return set()
    after = Or(GreaterThan("commit_lsn", lsn), GreaterThan("lsn", lsn))
    found = markers.scan(row_filter=And(EqualTo("mirror", mirror.name), after), selected_fields=("key",)).to_arrow()
    keys = set()
    for text in found.column("key").to_pylist():
        if text:
            named = json.loads(text)
            keys.add(tuple(rows.lake_value(named.get(k), False) for k in mirror.layout.key))
    return keys


def lake_side(mirror: Mirror, lsn: int, later: set[tuple], wanted: Callable[[tuple], bool]) -> Iterator[
        tuple[tuple, int, list]]:
    """(key, digest, values) of each mirror row whose key is wanted; the keys of rows changed after the point go
    into `later` instead."""
    fields = (*mirror.layout.columns, *BOOKKEEPING_NAMES)
    for batch in mirror.table.scan(selected_fields=fields).to_arrow_batch_reader():
        for row in batch.to_pylist():
            key, values = rows.normalized(row, mirror.layout, "lake")
            if (row[COMMIT_LSN] or 0) > lsn or (row[LSN] or 0) > lsn:
                later.add(key)
            elif wanted(key):
                yield key, rows.digest(values), values


def mirrors(names: list[str] | None) -> list[str]:
    tables = lake_tables(local_catalog())
    keyed = sorted(n for n, t in tables.items() if t.properties.get(KEY_PROPERTY))
    if names:
        unknown = sorted(set(names) - set(keyed))
        if unknown:
            raise SystemExit(f"error: no mirror {', '.join(unknown)} in the lake; make lake lists them")
        keyed = names
    return keyed


class Round:
    """One comparison at one source point: the snapshot, the mirror as the lake has it once it applied the point,
    and the keys changed in the lake after the point (`later`). `problem` says why the table cannot be compared."""

    def __init__(self, name: str):
        self.point = take_point()
        self.problem: str | None = None
        self.later: set[tuple] = set()
        self.gone = False  # the source table no longer exists
        try:
            self._prepare(name)
        except BaseException:
            self.point.conn.close()
            raise

    def _prepare(self, name: str) -> None:
        columns = source_columns(self.point, name)
        wait_applied(self.point.lsn, [f"{setting('TOPIC_PREFIX')}.{setting('PG_SCHEMA')}.{name}"])
        table = local_catalog().load_table((setting("LAKE_DATABASE"), name))
        if not columns:  # dropped: its mirror should have no rows left (glue.markers' floor)
            self.gone = True
            left = summarize(table).rows
            self.problem = f"its source table is gone but the mirror still holds {left} rows" if left else None
            return
        missing = [c for c, _ in columns if c not in lake_columns(table)]
        if missing:
            self.problem = f"the lake lacks the source's columns {', '.join(missing)}"
            return
        layout = rows.Layout(tuple(c for c, _ in columns), frozenset(c for c, t in columns if t in rows.JSON_TYPES),
                             tuple(table.properties[KEY_PROPERTY].split(",")))
        self.mirror = Mirror(name, table, layout)
        self.later = newer_deletes(self.mirror, self.point.lsn)

    def __enter__(self) -> Round:
        return self

    def __exit__(self, *_) -> None:
        self.point.conn.close()

    def lake(self, wanted: Callable[[tuple], bool]) -> Iterator[tuple[tuple, int, list]]:
        return lake_side(self.mirror, self.point.lsn, self.later, wanted)

    def source(self, wanted: Callable[[tuple], bool]) -> Iterator[tuple[tuple, int, list]]:
        return source_side(self.point, self.mirror, lambda key: wanted(key) and key not in self.later)


def differing_buckets(name: str, verdict: Verdict) -> set[int]:
    """The first pass: the buckets whose rows differ between the two sides (the lake's side read first, as it
    finds the keys to leave out)."""
    with Round(name) as first:
        verdict.problem = first.problem
        if first.problem or first.gone:
            return set()
        lake = rows.aggregate((k, d) for k, d, _ in first.lake(lambda key: True))
        source_rows = [0]

        def counted(key: tuple) -> bool:  # every source row counts, only those not changed since are compared
            source_rows[0] += 1
            return True

        source = rows.aggregate((k, d) for k, d, _ in first.source(counted))
        verdict.rows = source_rows[0]
    return {b for b in lake.keys() | source.keys() if lake.get(b) != source.get(b)}


def verify_table(name: str) -> Verdict:
    started = time.monotonic()
    verdict = Verdict(name)
    differ = differing_buckets(name, verdict)
    wanted: Callable[[tuple], bool] = lambda key: rows.bucket(key) in differ  # noqa: E731
    pending: dict[tuple, Observed | None] = {}  # keys to look at again, with what the last round saw
    for _ in range(ROUNDS - 1 if differ else 0):
        with Round(name) as again:
            verdict.problem = again.problem
            if again.problem or again.gone:
                break
            lake = {k: (d, v) for k, d, v in again.lake(wanted)}
            source = {k: (d, v) for k, d, v in again.source(wanted)}
        still: dict[tuple, Observed | None] = {k: None for k in again.later if wanted(k)}  # changing: look again
        for key in (source.keys() | lake.keys()) - again.later:
            observed = (source[key][0] if key in source else None, lake[key][0] if key in lake else None)
            if observed[0] == observed[1]:
                continue
            if pending.get(key) == observed:  # the same difference, neither side changed: drift
                verdict.differing.append({"key": format_key(again.mirror.layout.key, key), "what": describe(
                    source[key][1] if key in source else None, lake[key][1] if key in lake else None,
                    again.mirror.layout)})
            else:
                still[key] = observed
        pending = still
        if not pending:
            break
        wanted = lambda key, keys=frozenset(pending): key in keys  # noqa: E731
    verdict.unsettled = len(pending)
    verdict.seconds = time.monotonic() - started
    return verdict


def describe(source: list | None, lake: list | None, layout: rows.Layout) -> str:
    if lake is None:
        return "missing in the lake"
    if source is None:
        return "in the lake, not in the source"
    changed = [f"{c}: source {s!r}, lake {v!r}" for c, s, v in zip(layout.columns, source, lake, strict=True)
               if s != v]
    return "; ".join(changed[:2])


def format_key(names: tuple[str, ...], values: tuple) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


def write_results(verdicts: list[Verdict]) -> None:
    path = Path(verify_results())
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "tables": [{**asdict(v), "equal": v.equal, "line": v.line()} for v in verdicts]}
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2, default=str))
    os.replace(temporary, path)


def run(names: list[str] | None) -> int:
    chosen = mirrors(names)
    if not chosen:
        print("no mirrors in the lake yet (is the job running? make status)")
        return 1
    verdicts = []
    for name in chosen:
        verdict = verify_table(name)
        print(verdict.line(), flush=True)
        verdicts.append(verdict)
    write_results(verdicts)
    return 0 if all(v.equal for v in verdicts) else 1
