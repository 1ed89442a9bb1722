"""One Calico (or Kubernetes Node) object: apiVersion, kind, metadata, spec. Immutable-by-convention value."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from calicotool.model.kinds import KindInfo, info_for

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "calicotool"

# Labels that say which calicotool command owns an object. A generic `apply --prune` only deletes an owned object
# when the manifests being applied carry the same owner, so applying policy manifests never prunes an enrolled
# host's HostEndpoint or the route-reflector BGPPeers.
OWNER_LABELS = ("calicotool.io/ruleset", "hosts.calicotool.io/host", "calicotool.io/component")

# Metadata the datastore owns; never part of what a user declares, never compared by diff/apply.
SERVER_METADATA = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink")


class ResourceKey(NamedTuple):
    """Identity of an object in a store: the KindInfo name, namespace ('' when cluster-scoped) and name."""

    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


@dataclass
class Resource:
    api_version: str
    kind: str
    metadata: dict[str, Any]
    spec: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] | None = None

    # -- construction -------------------------------------------------------------------------------------------
    @classmethod
    def new(
        cls,
        kind: str,
        name: str,
        spec: dict[str, Any] | None = None,
        namespace: str | None = None,
        labels: dict[str, str] | None = None,
        annotations: dict[str, str] | None = None,
        api_version: str = "projectcalico.org/v3",
    ) -> Resource:
        meta: dict[str, Any] = {"name": name}
        if namespace:
            meta["namespace"] = namespace
        if labels:
            meta["labels"] = dict(labels)
        if annotations:
            meta["annotations"] = dict(annotations)
        return cls(api_version=api_version, kind=kind, metadata=meta, spec=dict(spec or {}))

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> Resource:
        """Build from a parsed document. Shape checks only; full validation lives in model.validate."""
        status = doc.get("status")
        return cls(
            api_version=str(doc.get("apiVersion", "")),
            kind=str(doc.get("kind", "")),
            metadata=copy.deepcopy(doc.get("metadata") or {}),
            spec=copy.deepcopy(doc.get("spec") or {}),
            status=copy.deepcopy(status) if isinstance(status, dict) else None,
        )

    def to_dict(self, server_fields: bool = True) -> dict[str, Any]:
        meta = {k: v for k, v in self.metadata.items() if server_fields or k not in SERVER_METADATA}
        doc: dict[str, Any] = {"apiVersion": self.api_version, "kind": self.kind, "metadata": copy.deepcopy(meta)}
        doc["spec"] = copy.deepcopy(self.spec)
        if self.status is not None:
            doc["status"] = copy.deepcopy(self.status)
        return doc

    def copy(self) -> Resource:
        return Resource.from_dict(self.to_dict())

    # -- identity -----------------------------------------------------------------------------------------------
    @property
    def info(self) -> KindInfo:
        return info_for(self.api_version, self.kind)

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", ""))

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace") or "")

    @property
    def key(self) -> ResourceKey:
        info = self.info
        return ResourceKey(info.name, self.namespace if info.namespaced else "", self.name)

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.metadata.get("labels") or {})

    @property
    def annotations(self) -> dict[str, str]:
        return dict(self.metadata.get("annotations") or {})

    @property
    def resource_version(self) -> str | None:
        rv = self.metadata.get("resourceVersion")
        return str(rv) if rv not in (None, "") else None

    def with_resource_version(self, rv: str | None) -> Resource:
        out = self.copy()
        if rv is None:
            out.metadata.pop("resourceVersion", None)
        else:
            out.metadata["resourceVersion"] = rv
        return out

    @property
    def managed(self) -> bool:
        """True when calicotool owns this object (and so may update or prune it)."""
        return self.labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE

    @property
    def owners(self) -> frozenset[tuple[str, str]]:
        labels = self.labels
        return frozenset((k, labels[k]) for k in OWNER_LABELS if k in labels)

    # -- comparison ---------------------------------------------------------------------------------------------
    def content(self) -> dict[str, Any]:
        """What a user declares: the document without server-owned metadata or status."""
        doc = self.to_dict(server_fields=False)
        doc.pop("status", None)
        doc["metadata"] = {k: v for k, v in doc["metadata"].items() if v not in (None, {}, [])}
        return doc

    def same_content(self, other: Resource) -> bool:
        return self.content() == other.content()

    def content_hash(self) -> str:
        blob = json.dumps(self.content(), sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
