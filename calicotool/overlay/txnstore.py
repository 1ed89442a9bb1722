"""A Store wrapper that journals every write (for reporting and rollback) and, in dry-run mode, keeps writes in
memory so the whole enrollment can be planned against the real datastore without changing it."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from calicotool.datastore.base import BatchResult, Change, Op, Store, StoreInfo
from calicotool.errors import AlreadyExists, Conflict, NotFound
from calicotool.model.resource import Resource, ResourceKey


@dataclass(frozen=True)
class Write:
    op: Op
    key: ResourceKey
    before: Resource | None  # None when created
    after: Resource | None  # None when deleted

    def describe(self) -> str:
        return f"{self.op.value} {self.key}"


class TxnStore:
    """Implements Store. `journal` lists the writes in order; `dry_run` buffers them in `overlay`."""

    def __init__(self, inner: Store, dry_run: bool = False) -> None:
        self.inner = inner
        self.dry_run = dry_run
        self.journal: list[Write] = []
        self.overlay: dict[ResourceKey, Resource | None] = {}
        self._rv = 0

    # -- reads --------------------------------------------------------------------------------------------------
    def check(self) -> StoreInfo:
        return self.inner.check()

    def _key(self, kind: str, name: str, namespace: str | None) -> ResourceKey:
        return Resource.new(kind, name, namespace=namespace).key if kind != "KubernetesNode" else ResourceKey(kind, "", name)

    def get(self, kind: str, name: str, namespace: str | None = None) -> Resource:
        key = self._key(kind, name, namespace)
        if key in self.overlay:
            res = self.overlay[key]
            if res is None:
                raise NotFound(f"{key} not found")
            return res.copy()
        return self.inner.get(kind, name, namespace)

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[Resource]:
        items = {r.key: r for r in self.inner.list(kind, namespace, label_selector)}
        for key, res in self.overlay.items():
            if key.kind != kind:
                continue
            if res is None:
                items.pop(key, None)
            elif label_selector is None:
                items[key] = res.copy()
        return list(items.values())

    # -- writes -------------------------------------------------------------------------------------------------
    def _buffer(self, key: ResourceKey, res: Resource | None) -> Resource | None:
        self._rv += 1
        stored = res.with_resource_version(f"dry-run-{self._rv}") if res is not None else None
        self.overlay[key] = stored
        return stored

    def _current(self, key: ResourceKey, kind: str) -> Resource | None:
        try:
            return self.get(kind, key.name, key.namespace or None)
        except NotFound:
            return None

    def create(self, resource: Resource) -> Resource:
        if not self.dry_run:
            out = self.inner.create(resource)
        else:
            if self._current(resource.key, resource.kind) is not None:
                raise AlreadyExists(f"{resource.key} already exists")
            out = self._buffer(resource.key, resource)  # type: ignore[assignment]
        self.journal.append(Write(Op.CREATE, resource.key, None, out))
        return out  # type: ignore[return-value]

    def update(self, resource: Resource) -> Resource:
        before = self._current(resource.key, resource.kind)
        if not self.dry_run:
            out = self.inner.update(resource)
        else:
            if before is None:
                raise NotFound(f"{resource.key} not found")
            if resource.resource_version and resource.resource_version != before.resource_version:
                raise Conflict(f"{resource.key} changed")
            out = self._buffer(resource.key, resource)  # type: ignore[assignment]
        self.journal.append(Write(Op.UPDATE, resource.key, before, out))
        return out  # type: ignore[return-value]

    def delete(self, kind: str, name: str, namespace: str | None = None, resource_version: str | None = None) -> None:
        key = self._key(kind, name, namespace)
        before = self._current(key, kind)
        if not self.dry_run:
            self.inner.delete(kind, name, namespace, resource_version)
        else:
            if before is None:
                raise NotFound(f"{key} not found")
            self._buffer(key, None)
        self.journal.append(Write(Op.DELETE, key, before, None))

    def apply_batch(self, changes: Iterable[Change]) -> BatchResult:
        result = BatchResult()
        for change in changes:
            if change.op == Op.CREATE:
                result.results.append(self.create(change.resource))
            elif change.op == Op.UPDATE:
                result.results.append(self.update(change.resource))
            else:
                r = change.resource
                self.delete(r.info.name, r.name, r.namespace or None, r.resource_version)
            result.applied.append(change)
        result.atomic = False
        return result

    def lock(self, name: str, ttl_seconds: float = 60.0, wait_seconds: float = 0.0) -> AbstractContextManager[None]:
        return self.inner.lock(name, ttl_seconds, wait_seconds)

    def close(self) -> None:
        self.inner.close()
