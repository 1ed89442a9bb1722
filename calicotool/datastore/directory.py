"""The GitOps datastore: a manifest directory Argo CD or Flux can sync. The embedded default (`dir:./cluster`).

Layout: `<root>/<plural>/<name>.yaml` (cluster-scoped) or `<root>/<plural>/<namespace>/<name>.yaml`, one
resource per file, plus `<root>/kustomization.yaml` listing them in apply order (tiers and pools first).
resourceVersion is a hash of the file's bytes, so an update against a stale copy is refused (lost update).
Writes go to a temp file and are renamed into place, under a lock file shared by all writers."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import filelock

from calicotool.datastore.base import BatchResult, Change, Op, StoreInfo
from calicotool.datastore.labelselector import parse_label_selector
from calicotool.errors import AlreadyExists, Conflict, Invalid, NotFound, Unavailable
from calicotool.model import yamlio
from calicotool.model.kinds import KINDS, KindInfo, kind_info
from calicotool.model.resource import SERVER_METADATA, Resource

KUSTOMIZATION = "kustomization.yaml"
# Kinds whose status is the point of storing them here (node readiness for the RR planner, BGP session state).
KEEPS_STATUS = frozenset({"CalicoNodeStatus", "KubernetesNode"})
LOCK_FILE = ".calicotool.lock"
LOCK_TIMEOUT_S = 30.0


def _one_line(exc: Exception) -> str:
    """A parse error as one line: YAML errors carry a multi-line snippet of the file."""
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        return f"line {mark.line + 1}: {getattr(exc, 'problem', None) or 'malformed YAML'}"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text ({exc.reason} at byte {exc.start})"
    if isinstance(exc, RecursionError):
        return f"nested more than {yamlio.MAX_DEPTH} levels deep"
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _rv(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _check_namespace(info: KindInfo, namespace: str | None) -> None:
    """A namespace becomes a path component (and a glob): refuse ones that would leave the store or match others."""
    if namespace and (any(c in namespace for c in "/*?[]\\") or namespace.startswith(".") or len(namespace) > 253):
        raise Invalid(f"cannot store {info.kind} in namespace {namespace[:64]!r} in a directory")


class DirectoryStore:
    """Store over a manifest directory (see module docstring)."""

    def __init__(self, root: Path, lock_timeout: float = LOCK_TIMEOUT_S) -> None:
        self.root = Path(root)
        self._lock_timeout = lock_timeout
        self._kust_cache: tuple[tuple[int, int, int], frozenset[str]] | None = None
        if self.root.exists() and not self.root.is_dir():
            raise Unavailable(f"datastore dir:{self.root} is not a directory")
        blocker = next((p for p in self.root.parents if p.exists()), None)
        if not self.root.exists() and blocker is not None and not blocker.is_dir():
            raise Unavailable(f"datastore dir:{self.root} cannot exist: {blocker} is not a directory")

    # -- paths ----------------------------------------------------------------------------------------------------
    def path_for(self, info: KindInfo, name: str, namespace: str = "") -> Path:
        if not name or "/" in name or name.startswith("."):
            raise Invalid(f"cannot store {info.kind} named {name!r} in a directory")
        if len(f"{name}.yaml".encode()) > 255:  # the file-name limit
            raise Invalid(f"cannot store {info.kind} named {name[:40]!r}... in a directory: the name is "
                          f"{len(name)} characters, a file name holds at most 250")
        _check_namespace(info, namespace)
        base = self.root / info.plural
        if info.namespaced:
            base = base / (namespace or "default")
        return base / f"{name}.yaml"

    def _resource_path(self, res: Resource) -> Path:
        return self.path_for(res.info, res.name, res.namespace)

    # -- reading --------------------------------------------------------------------------------------------------
    def _read(self, path: Path, info: KindInfo) -> Resource:
        """The resource stored at `path`, which must be the `info` kind named by the path (a hand-edited file that
        holds something else would otherwise be read, updated or deleted under the wrong name)."""
        try:
            data = path.read_bytes()
        except OSError as exc:  # e.g. a directory named like a manifest
            raise Invalid(f"{path}: cannot read stored resource: {exc.strerror or exc} (fix or remove it)") from None
        try:
            doc = yamlio.load_one(data)
            yamlio.check_depth(doc, what="YAML")
        except Exception as exc:  # malformed file in the repo: say which, in one line
            raise Invalid(f"{path}: cannot parse stored resource: {_one_line(exc)}") from None
        if not isinstance(doc, dict):
            raise Invalid(f"{path}: expected exactly one resource")
        for section in ("metadata", "spec", "status"):
            if doc.get(section) is not None and not isinstance(doc[section], dict):
                raise Invalid(f"{path}: stored resource has a {section} that is not a mapping")
        res = Resource.from_dict(doc)
        namespace = path.parent.name if info.namespaced else ""
        held_ns = (res.namespace or "default") if info.namespaced else ""
        if (res.kind, res.name, held_ns) != (info.kind, path.stem, namespace):
            held = f"{res.kind or 'no kind'} {res.namespace + '/' if res.namespace else ''}{res.name or '(no name)'}"
            raise Invalid(f"{path}: holds {held}, expected {info.kind} "
                          f"{namespace + '/' if namespace else ''}{path.stem} (fix or remove the file)")
        res.metadata["resourceVersion"] = _rv(data)
        return res

    def check(self) -> StoreInfo:
        exists = self.root.is_dir()
        count = sum(1 for _ in self.root.rglob("*.yaml")) - (1 if (self.root / KUSTOMIZATION).exists() else 0) if exists else 0
        if exists and not os.access(self.root, os.W_OK):
            raise Unavailable(f"datastore dir:{self.root} is not writable")
        return StoreInfo(
            backend="dir",
            location=str(self.root),
            api_group="projectcalico.org/v3",
            calico_version=None,
            details={"exists": exists, "resources": max(count, 0)},
        )

    def get(self, kind: str, name: str, namespace: str | None = None) -> Resource:
        info = kind_info(kind)
        path = self.path_for(info, name, namespace or "")
        if not path.is_file():
            raise NotFound(f"{info.kind} {(namespace + '/') if info.namespaced and namespace else ''}{name} not found")
        return self._read(path, info)

    def _files(self, info: KindInfo, namespace: str | None) -> Iterator[Path]:
        _check_namespace(info, namespace)
        base = self.root / info.plural
        if not base.is_dir():
            return iter(())
        if info.namespaced:
            pattern = f"{namespace}/*.yaml" if namespace else "*/*.yaml"
        else:
            pattern = "*.yaml"
        return iter(sorted(base.glob(pattern)))

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[Resource]:
        info = kind_info(kind)
        selector = parse_label_selector(label_selector)
        out = []
        for path in self._files(info, namespace):
            res = self._read(path, info)
            if selector.matches(res.labels):
                out.append(res)
        return out

    # -- writing --------------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        self._make_dir(self.root)
        lock = filelock.FileLock(str(self.root / LOCK_FILE))
        try:
            lock.acquire(timeout=self._lock_timeout)
        except filelock.Timeout:
            raise Conflict(f"dir:{self.root} is locked by another writer ({LOCK_FILE})") from None
        try:
            yield
        finally:
            lock.release()

    def _make_dir(self, folder: Path) -> None:
        """mkdir -p, or Unavailable naming the path (e.g. dir:FILE/sub, a read-only mount) instead of an OSError."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Unavailable(f"cannot create datastore dir:{self.root}: {exc.strerror or exc}") from None

    def create(self, resource: Resource) -> Resource:
        return self.apply_batch([Change(Op.CREATE, resource)]).results[0]

    def update(self, resource: Resource) -> Resource:
        return self.apply_batch([Change(Op.UPDATE, resource)]).results[0]

    def delete(self, kind: str, name: str, namespace: str | None = None, resource_version: str | None = None) -> None:
        info = kind_info(kind)
        res = Resource.new(info.kind, name, namespace=namespace if info.namespaced else None, api_version=info.api_version)
        if resource_version:
            res.metadata["resourceVersion"] = resource_version
        if not self.root.is_dir():  # nothing to delete: don't create the directory (and its lock) to say so
            self.get(kind, name, namespace)
        self.apply_batch([Change(Op.DELETE, res)])

    @staticmethod
    def _serialise(res: Resource) -> bytes:
        doc = res.to_dict()
        doc["metadata"] = {k: v for k, v in doc["metadata"].items() if k not in SERVER_METADATA}
        if res.info.name not in KEEPS_STATUS:  # status is observed state, not declared; keep it out of Git
            doc.pop("status", None)
        return yamlio.dump(doc).encode("utf-8")

    def apply_batch(self, changes: Iterable[Change]) -> BatchResult:
        """All-or-nothing: every guard is checked first, then files are staged and renamed into place; if a
        rename fails, the files already replaced are restored."""
        changes = list(changes)
        for change in changes:  # a name no file can carry fails before the directory or its lock is created
            self._resource_path(change.resource)
        with self._write_lock():
            writes: dict[Path, bytes | None] = {}
            results: list[Resource] = []
            for change in changes:
                res = change.resource
                path = self._resource_path(res)
                if path in writes:
                    current: bytes | None = writes[path]
                else:
                    current = self._read_bytes(path)
                label = f"{res.kind} {res.key.namespace + '/' if res.key.namespace else ''}{res.name}"
                want = res.resource_version
                if change.op == Op.CREATE:
                    if current is not None:
                        raise AlreadyExists(f"{label} already exists")
                elif current is None:
                    raise NotFound(f"{label} not found")
                elif want and _rv(current) != want:
                    raise Conflict(f"{label} was modified (resourceVersion {want} is stale, now {_rv(current)})")
                if change.op == Op.DELETE:
                    if path not in writes:  # never delete a hand-edited file that holds some other object
                        self._read(path, res.info)
                    writes[path] = None
                    results.append(res)
                else:
                    data = self._serialise(res)
                    writes[path] = data
                    stored = res.copy()
                    stored.metadata["resourceVersion"] = _rv(data)
                    results.append(stored)
            self._commit(writes)
        return BatchResult(applied=changes, results=results, atomic=True)

    @staticmethod
    def _read_bytes(path: Path) -> bytes | None:
        """The stored bytes at `path`, None when nothing is there; something that is not a file is an error."""
        if not path.exists():
            return None
        try:
            return path.read_bytes()
        except OSError as exc:
            raise Invalid(f"{path}: cannot read stored resource: {exc.strerror or exc} (fix or remove it)") from None

    def _commit(self, writes: dict[Path, bytes | None]) -> None:
        backups: dict[Path, bytes | None] = {p: (p.read_bytes() if p.is_file() else None) for p in writes}
        staged: dict[Path, str] = {}
        try:
            for path, data in writes.items():
                if data is None:
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                staged[path] = tmp
        except OSError as exc:
            for tmp in staged.values():
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            raise Unavailable(f"cannot write to dir:{self.root}: {exc}") from None
        done: list[Path] = []
        try:
            for path, data in writes.items():
                if data is None:
                    path.unlink()
                    self._prune_empty(path.parent)
                else:
                    os.replace(staged[path], path)
                done.append(path)
            self._write_kustomization(writes)
        except OSError as exc:
            for tmp in staged.values():  # staged files never renamed into place
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            for path in done:  # put back what was there before
                old = backups[path]
                with contextlib.suppress(OSError):
                    if old is None:
                        path.unlink()
                    else:
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_bytes(old)
            raise Unavailable(f"write to dir:{self.root} failed and was rolled back: {exc}") from None

    def _prune_empty(self, folder: Path) -> None:
        while folder != self.root and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent

    def _kustomization_entries(self) -> set[str]:
        target = self.root / KUSTOMIZATION
        if target.is_file():
            st = target.stat()
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            if self._kust_cache is not None and self._kust_cache[0] == stamp:
                return set(self._kust_cache[1])
            try:
                doc = yamlio.load_one(target.read_bytes())
                if isinstance(doc, dict) and isinstance(doc.get("resources"), list):
                    return {str(e) for e in doc["resources"]}
            except Exception:  # unreadable: rebuild from the tree below
                pass
        found = set()
        for info in KINDS.values():
            base = self.root / info.plural
            if base.is_dir():
                found |= {p.relative_to(self.root).as_posix() for p in base.rglob("*.yaml") if not p.name.startswith(".")}
        return found

    def _write_kustomization(self, writes: dict[Path, bytes | None]) -> None:
        """Keep kustomization.yaml listing every stored file in apply order (kind order, then path). Updated
        incrementally from the batch (and cached between writes), so a write does not walk the tree."""
        entries = self._kustomization_entries()
        for path, data in writes.items():
            rel = path.relative_to(self.root).as_posix()
            if data is None:
                entries.discard(rel)
            else:
                entries.add(rel)
        orders = {info.plural: info.order for info in KINDS.values()}
        ordered = sorted(entries, key=lambda e: (orders.get(e.split("/", 1)[0], 99), e.split("/", 1)[0], e))
        # Paths are built from validated names (DNS-1123 characters), so they need no YAML quoting.
        text = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
        text += "".join(f"- {e}\n" for e in ordered) if ordered else ""
        if not ordered:
            text = text.replace("resources:\n", "resources: []\n")
        target = self.root / KUSTOMIZATION
        data = text.encode()
        if not (target.is_file() and target.read_bytes() == data):
            fd, tmp = tempfile.mkstemp(prefix=".kustomization.", suffix=".tmp", dir=self.root)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        st = target.stat()
        self._kust_cache = ((st.st_mtime_ns, st.st_size, st.st_ino), frozenset(entries))

    @contextlib.contextmanager
    def lock(self, name: str, ttl_seconds: float = 60.0, wait_seconds: float = 0.0) -> Iterator[None]:
        """A named lock file under `<root>/.locks/`; the OS drops it if the holder dies, so no TTL is needed."""
        folder = self.root / ".locks"
        self._make_dir(folder)
        lock = filelock.FileLock(str(folder / f"{name}.lock"), thread_local=False)
        try:
            lock.acquire(timeout=max(wait_seconds, 0.0) or 0.01)
        except filelock.Timeout:
            raise Conflict(f"lock {name!r} on dir:{self.root} is held by another run") from None
        try:
            yield
        finally:
            lock.release()

    def close(self) -> None:
        return None
