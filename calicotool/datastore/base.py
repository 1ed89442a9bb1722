"""The one Store protocol every backend implements, and the values that cross it.

A Store speaks Resources and raises the errors in calicotool.errors (NotFound, AlreadyExists, Conflict, Invalid,
Unavailable); it never prints. `update` and `delete` are guarded by resourceVersion when the caller passes one.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Protocol, runtime_checkable

from calicotool.model.resource import Resource, ResourceKey


class Op(str, Enum):
    CREATE = "create"
    UPDATE = "update"  # guarded by the resource's metadata.resourceVersion when set
    DELETE = "delete"  # guarded by the resource's metadata.resourceVersion when set


@dataclass(frozen=True)
class Change:
    """One step of a plan. For DELETE only the resource's identity (and optional resourceVersion) matters."""

    op: Op
    resource: Resource

    @property
    def key(self) -> ResourceKey:
        return self.resource.key

    def describe(self) -> str:
        return f"{self.op.value} {self.key}"


@dataclass
class BatchResult:
    """What a batch did. `applied` lists the changes that took effect, in order; `atomic` says whether the
    backend applied them as one transaction (then a failure means none took effect)."""

    applied: list[Change] = field(default_factory=list)
    results: list[Resource] = field(default_factory=list)
    atomic: bool = True


@dataclass(frozen=True)
class StoreInfo:
    """Answer of `check()`: reachable, what it is, which API group it writes, Calico version if known."""

    backend: str
    location: str
    api_group: str
    calico_version: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Store(Protocol):
    """A Calico datastore. Kinds are KindInfo names (`NetworkPolicy`, `KubernetesNode`, ...)."""

    def check(self) -> StoreInfo: ...

    def get(self, kind: str, name: str, namespace: str | None = None) -> Resource: ...

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[Resource]: ...

    def create(self, resource: Resource) -> Resource: ...

    def update(self, resource: Resource) -> Resource: ...

    def delete(self, kind: str, name: str, namespace: str | None = None, resource_version: str | None = None) -> None: ...

    def apply_batch(self, changes: Iterable[Change]) -> BatchResult: ...

    def lock(self, name: str, ttl_seconds: float = 60.0, wait_seconds: float = 0.0) -> AbstractContextManager[None]:
        """A named mutual-exclusion lock held for the `with` block (directory lock file, etcd lease, Kubernetes
        Lease). Raises Conflict if another holder keeps it for longer than `wait_seconds`."""
        ...

    def close(self) -> None: ...
