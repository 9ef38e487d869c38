"""The endpoint's state on disk, so that a restart, or a SIGKILL, of the endpoint loses nothing it said had happened.

moto keeps every resource in memory, in one BackendDict per service, and localaws' own stores (MSK configurations,
MSK Connect, Glue job runs) are module-level dicts. The server serves one request at a time; after one that may have
changed something, and before its answer goes out, `Snapshots.save` writes each service the request used (a moto
handler reaches its service through `<service>_backends[account]`, which is tracked here), and every service those
refer to (another service it may have changed through a reference it keeps), to a file of its own each, replaced
atomically. `Snapshots.restore` puts them all back at start.

A service's file holds the attributes of each of its (account, region) backends; a reference to any backend (its own,
or another service's: RDS keeps the Secrets Manager backend that holds a cluster's master secret, say) is kept as a
reference, which the restore resolves to the live backend object: the files stay one per service, and the references
between them survive. Object bodies (S3 objects,
uploaded parts: any large bytes) are not in those files but in `blobs/`, one file per content hash, written once.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import logging
import pickle
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from moto.core.base_backend import BackendDict, BaseBackend

log = logging.getLogger("localaws")

BLOB_MIN_BYTES = 64 * 1024  # smaller values stay in the service's file
OWN = "localaws"  # the file name of localaws' own stores

_touched: set[BackendDict] = set()
_getitem = BackendDict.__getitem__


def _tracked_getitem(self: BackendDict, account_id: str) -> Any:
    _touched.add(self)
    return _getitem(self, account_id)


BackendDict.__getitem__ = _tracked_getitem


def _file_name(backends: BackendDict) -> str:
    """`<module>:<attribute>` of a moto BackendDict, e.g. moto.s3.models:s3_backends."""
    module = importlib.import_module(backends.backend.__module__)
    for name, value in vars(module).items():
        if value is backends:
            return f"{module.__name__}:{name}"
    raise LookupError(f"moto backend {backends.service_name} is not an attribute of {module.__name__}")


def _live(name: str) -> BackendDict:
    module, attribute = name.split(":")
    return getattr(importlib.import_module(module), attribute)


def _private_key(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, password=None)


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, blobs: Path, used: set[str], files_by_type: dict[type, str]):
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.blobs, self.used, self.files_by_type = blobs, used, files_by_type
        self.referenced: set[str] = set()  # the files of the backends this state refers to

    def reducer_override(self, obj: Any) -> Any:
        # moto's KMS keys hold cryptography's private keys, which do not pickle: keep them as PEM
        if type(obj).__module__.startswith("cryptography.") and hasattr(obj, "private_bytes"):
            pem = obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            return _private_key, (pem,)
        return NotImplemented

    def persistent_id(self, obj: Any) -> tuple | None:
        kind = type(obj)
        if kind is bytes:
            return self._blob(obj) if len(obj) >= BLOB_MIN_BYTES else None
        if isinstance(obj, BaseBackend) and kind in self.files_by_type:
            self.referenced.add(self.files_by_type[kind])
            return ("backend", self.files_by_type[kind], obj.account_id, obj.region_name)
        if isinstance(obj, BackendDict):
            return ("backends", _file_name(obj))
        return None

    def _blob(self, value: bytes) -> tuple:
        digest = hashlib.sha256(value).hexdigest()
        path = self.blobs / digest
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(value)
            tmp.replace(path)
        self.used.add(digest)
        return ("blob", digest)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedReader, blobs: Path, used: set[str]):
        super().__init__(file)
        self.blobs, self.used = blobs, used

    def persistent_load(self, pid: tuple) -> Any:
        if pid[0] == "blob":
            self.used.add(pid[1])
            return (self.blobs / pid[1]).read_bytes()
        if pid[0] == "backends":
            return _live(pid[1])
        _, name, account, region = pid
        # the live backend; its service's file, restored before or after this one, fills in its attributes
        return _live(name)[account][region]


class Snapshots:
    """The state of every moto service in use and of localaws' own stores, one file each, in `folder`."""

    def __init__(self, folder: Path, own_stores: dict[str, dict]):
        self.folder = folder
        self.blobs = folder / "blobs"
        self.own_stores = own_stores  # name -> a module-level dict of localaws, filled in place on restore
        self.blobs_of: dict[str, set[str]] = {}  # file -> the blobs it refers to
        self.blobs.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def begin() -> None:
        """A request starts: no service used yet."""
        _touched.clear()

    def save(self, own: bool) -> None:
        """Write what the request used: the moto services it reached and those they refer to, and localaws' stores if
        `own`."""
        in_use = {_file_name(b): b for b in BackendDict._instances}
        files_by_type = {b.backend: name for name, b in in_use.items()}
        pending = [_file_name(b) for b in _touched if b in BackendDict._instances] + ([OWN] if own else [])
        saved: set[str] = set()
        while pending:
            name = pending.pop()
            if name in saved:
                continue
            state = self.own_stores if name == OWN else {
                account: {region: vars(backend) for region, backend in regions.items()}
                for account, regions in in_use[name].items()}
            buffer, used = io.BytesIO(), set()
            pickler = _Pickler(buffer, self.blobs, used, files_by_type)
            pickler.dump(state)
            path = self.folder / f"{name}.pickle"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(buffer.getvalue())
            tmp.replace(path)
            self.blobs_of[name] = used
            saved.add(name)
            pending += sorted(pickler.referenced - saved)
        if saved:
            self._forget_unused_blobs()

    def _forget_unused_blobs(self) -> None:
        used = set().union(*self.blobs_of.values())
        for path in self.blobs.iterdir():
            if path.name not in used:
                path.unlink(missing_ok=True)

    def restore(self) -> list[str]:
        """Put the saved state back; the names of the files it came from."""
        restored = []
        for path in sorted(self.folder.glob("*.pickle")):
            used: set[str] = set()
            try:
                with path.open("rb") as handle:
                    state = _Unpickler(handle, self.blobs, used).load()
                self._put_back(path.name.removesuffix(".pickle"), state)
            except Exception as error:  # one service's state lost, not the endpoint: it starts, and says so
                kept = path.with_suffix(".unreadable")
                path.replace(kept)
                log.error("cannot restore %s (%s: %s); the endpoint starts without that service's resources, the "
                          "file is kept as %s; make teardown && make local-up starts the stack afresh",
                          path.name, type(error).__name__, error, kept.name)
                continue
            self.blobs_of[path.name.removesuffix(".pickle")] = used
            restored.append(path.name.removesuffix(".pickle"))
        if restored:
            log.info("state restored from %s: %s", self.folder, ", ".join(restored))
        return restored

    def _put_back(self, name: str, state: Any) -> None:
        if name == OWN:
            for store, items in state.items():
                self.own_stores[store].clear()
                self.own_stores[store].update(items)
            return
        live = _live(name)
        for account, regions in state.items():
            for region, attributes in regions.items():
                vars(live[account][region]).update(attributes)
