"""The key index of a mirror (glue.keyindex): where each live row is, kept in step with batches and compactions."""

import numpy as np

from glue.keyindex import KeyIndex


def entries(h1, h2=None, file=0, pos=None, place=10) -> dict[str, np.ndarray]:
    h1 = np.asarray(h1, np.int64)
    n = len(h1)
    return {"h1": h1, "h2": np.asarray(h2 if h2 is not None else h1 % 1000, np.int32),
            "file": np.full(n, file, np.int32), "pos": np.asarray(pos if pos is not None else np.arange(n), np.int32),
            "commit_lsn": np.full(n, place, np.int64), "lsn": np.full(n, place, np.int64)}


def test_a_lookup_finds_each_live_row_and_where_it_is():
    index = KeyIndex(["a.parquet"], entries([30, 10, 20], pos=[0, 1, 2]), snapshot_id=1)
    found = index.lookup(np.array([20, 99, 30], np.int64), np.array([20, 99, 30], np.int32))
    assert found.hit.tolist() == [True, False, True]
    assert found.pos[found.hit].tolist() == [2, 0]
    assert index.paths(found.file[found.hit]).tolist() == ["a.parquet", "a.parquet"]


def test_keys_whose_first_hashes_collide_are_told_apart_by_the_second():
    index = KeyIndex(["a"], entries([7, 7, 7], h2=[1, 2, 3], pos=[0, 1, 2]), snapshot_id=1)
    found = index.lookup(np.array([7, 7, 7, 7], np.int64), np.array([3, 1, 2, 4], np.int32))
    assert found.hit.tolist() == [True, True, True, False]
    assert found.pos[:3].tolist() == [2, 0, 1]


def test_a_replaced_row_is_found_where_its_new_version_is():
    index = KeyIndex(["a", "b"], entries([1, 2, 3]), snapshot_id=1)
    found = index.lookup(np.array([2], np.int64), np.array([2], np.int32))
    index.remove(found, found.hit)
    index.add(entries([2], file=1, pos=[0], place=20))
    again = index.lookup(np.array([1, 2], np.int64), np.array([1, 2], np.int32))
    assert index.paths(again.file).tolist() == ["a", "b"]
    assert again.commit_lsn.tolist() == [10, 20]
    assert index.size == 3


def test_a_deleted_row_is_not_found():
    index = KeyIndex(["a"], entries([1, 2]), snapshot_id=1)
    found = index.lookup(np.array([1], np.int64), np.array([1], np.int32))
    index.remove(found, found.hit)
    assert not index.lookup(np.array([1], np.int64), np.array([1], np.int32)).hit.any()
    assert index.size == 1


def test_many_batches_merge_into_few_runs_and_every_row_stays_findable():
    rng = np.random.default_rng(7)
    index = KeyIndex([], entries([]), snapshot_id=None)
    live = {}
    for batch in range(200):
        keys = rng.integers(0, 5_000, 300)
        keys = np.unique(keys)
        found = index.lookup(keys, (keys % 1000).astype(np.int32))
        index.remove(found, found.hit)
        file = index.file_id(f"f{batch}")
        index.add(entries(keys, file=file, pos=np.arange(len(keys)), place=batch))
        live.update({int(k): (f"f{batch}", i) for i, k in enumerate(keys)})
    assert len(index.runs) <= 12
    keys = np.array(sorted(live), np.int64)
    found = index.lookup(keys, (keys % 1000).astype(np.int32))
    assert found.hit.all()
    assert list(zip(index.paths(found.file).tolist(), found.pos.tolist(), strict=True)) == [live[k] for k in keys]
    assert index.size == len(live)


def test_a_compaction_moves_the_rows_of_the_files_it_replaced():
    index = KeyIndex(["a", "b"], {name: np.concatenate([x, y]) for (name, x), (_, y) in
                                  zip(entries([1, 2]).items(), entries([3], file=1).items(), strict=True)}, 1)
    index.forget_files(["a"])
    index.add(entries([1, 2], file=index.file_id("c"), pos=[5, 6]))
    found = index.lookup(np.array([1, 2, 3], np.int64), np.array([1, 2, 3], np.int32))
    assert index.paths(found.file).tolist() == ["c", "c", "b"]
    assert found.pos.tolist() == [5, 6, 0]
    assert index.size == 3
