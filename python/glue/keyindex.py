"""Where each live row of a mirror is: its key's hash -> (data file, position in it, the row's place in commit order).

With it a micro-batch updates and deletes rows without reading the mirror (glue.keyed): an event finds the row it
replaces here, and that row becomes a position delete. It is held in the job's memory, numpy arrays of about 36 bytes
a row (10 million rows: 360 MB), built from the mirror when the job starts and kept in step with every commit.

A key is known by two hashes of its typed columns (Spark's xxhash64 and murmur3, 96 bits together): two keys of one
mirror sharing both is about as likely as 10^-15 at 10 million rows. Entries are kept as sorted runs, a new one per
batch, and runs of similar size merged (as a log-structured merge tree does), so a batch costs about its own size
whatever the mirror's, and a lookup a binary search in a few runs. A replaced or deleted row's entry is marked dead
where it is and dropped at the next merge.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIELDS = (("h1", np.int64), ("h2", np.int32), ("file", np.int32), ("pos", np.int32), ("commit_lsn", np.int64),
          ("lsn", np.int64))


class Run:
    """Entries sorted by (h1, h2), each key at most once, with a flag per entry for those no longer live."""

    def __init__(self, columns: dict[str, np.ndarray]):
        order = np.lexsort((columns["h2"], columns["h1"]))
        self.columns = {name: np.asarray(columns[name], dtype)[order] for name, dtype in FIELDS}
        self.live = np.ones(len(order), dtype=bool)

    def __len__(self) -> int:
        return len(self.live)

    def find(self, h1: np.ndarray, h2: np.ndarray) -> np.ndarray:
        """For each key, the index of its live entry in this run, or -1."""
        keys_h1, keys_h2 = self.columns["h1"], self.columns["h2"]
        at = np.searchsorted(keys_h1, h1, side="left")
        found = np.full(len(h1), -1, dtype=np.int64)
        if not len(self):
            return found
        # the common case: the first entry with this h1 is the key; several entries share an h1 only when two keys'
        # first hashes collide, which is walked one by one
        first = np.minimum(at, len(self) - 1)
        exact = (keys_h1[first] == h1) & (keys_h2[first] == h2)
        found[exact] = first[exact]
        shared = ~exact & (at + 1 < len(self))
        for i in np.flatnonzero(shared & (keys_h1[first] == h1)):
            j = at[i] + 1
            while j < len(self) and keys_h1[j] == h1[i]:
                if keys_h2[j] == h2[i]:
                    found[i] = j
                    break
                j += 1
        hit = found >= 0
        found[hit] = np.where(self.live[found[hit]], found[hit], -1)
        return found

    def live_columns(self) -> dict[str, np.ndarray]:
        return {name: values[self.live] for name, values in self.columns.items()}


@dataclass
class Found:
    """What a lookup found, per key asked for: whether a live row has it, and that row's file, position and place."""

    hit: np.ndarray
    file: np.ndarray
    pos: np.ndarray
    commit_lsn: np.ndarray
    lsn: np.ndarray
    run: np.ndarray  # which run holds the entry (-1: none), to mark it dead
    at: np.ndarray


class KeyIndex:
    """The key index of one mirror, as of one snapshot of it (plus the snapshots this process committed since)."""

    def __init__(self, files: list[str], columns: dict[str, np.ndarray], snapshot_id: int | None,
                 high_water: tuple[int, int] | None = None):
        self.files: list[str] = list(files)
        self.file_ids: dict[str, int] = {f: i for i, f in enumerate(self.files)}
        self.runs: list[Run] = [Run(columns)]
        self.snapshot_id = snapshot_id
        # the latest place of anything applied to the mirror (a row, a delete): an event after it is newer than any
        # row or delete marker of its key
        self.high_water = high_water

    @property
    def size(self) -> int:
        """Live rows."""
        return int(sum(run.live.sum() for run in self.runs))

    def lookup(self, h1: np.ndarray, h2: np.ndarray) -> Found:
        n = len(h1)
        found = Found(np.zeros(n, bool), np.full(n, -1, np.int32), np.full(n, -1, np.int32),
                      np.zeros(n, np.int64), np.zeros(n, np.int64), np.full(n, -1, np.int64), np.zeros(n, np.int64))
        for r, run in enumerate(self.runs):
            at = run.find(h1, h2)
            hit = at >= 0
            for name in ("file", "pos", "commit_lsn", "lsn"):
                getattr(found, name)[hit] = run.columns[name][at[hit]]
            found.run[hit], found.at[hit] = r, at[hit]
            found.hit |= hit
        return found

    def remove(self, found: Found, which: np.ndarray) -> None:
        """Mark dead the entries of the keys `which` selects (a mask over the looked-up keys)."""
        for r, run in enumerate(self.runs):
            mine = which & (found.run == r)
            run.live[found.at[mine]] = False

    def file_id(self, path: str) -> int:
        if path not in self.file_ids:
            self.file_ids[path] = len(self.files)
            self.files.append(path)
        return self.file_ids[path]

    def add(self, columns: dict[str, np.ndarray]) -> None:
        """New entries (FIELDS' columns, `file` as ids), then runs of similar size merged into one."""
        if len(columns["h1"]):
            self.runs.append(Run(columns))
        while len(self.runs) > 1 and 2 * len(self.runs[-1]) >= len(self.runs[-2]):
            newer, older = self.runs.pop().live_columns(), self.runs.pop().live_columns()
            self.runs.append(Run({name: np.concatenate([older[name], newer[name]]) for name, _ in FIELDS}))

    def forget_files(self, paths: list[str]) -> None:
        """Every entry of these data files is gone (a compaction replaced them; their rows are elsewhere now)."""
        ids = [self.file_ids[p] for p in paths if p in self.file_ids]
        for run in self.runs:
            run.live &= ~np.isin(run.columns["file"], ids)

    def paths(self, file_ids: np.ndarray) -> np.ndarray:
        return np.asarray(self.files, dtype=object)[file_ids]
