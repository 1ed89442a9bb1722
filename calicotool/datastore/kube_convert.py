"""Pure conversions between our projectcalico.org/v3 Resources and the objects a Kubernetes API server keeps.

Two storage forms exist for Calico kinds:
- `projectcalico.org/v3` (Calico API server or native v3 CRDs): the object is stored as it is;
- `crd.projectcalico.org/v1` (Calico's CRD backend, what calicoctl writes without an API server): same spec, but the
  v3 metadata (labels, annotations, and for policies the v3 name) lives in the `projectcalico.org/metadata`
  annotation; only labels/annotations Calico owns stay on the CR itself; up to Calico 3.31 policies in the default
  tier are stored as `default.<name>` (model.policy_names); IPAMConfiguration is the CRD kind `IPAMConfig`
  (`ipamconfigs`); BlockAffinity.spec.deleted is a string there.
No I/O here: table-tested in tests/datastore/test_kube_convert.py.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from calicotool.model.applyset import PART_OF_LABEL as APPLYSET_PART_OF_LABEL
from calicotool.model.kinds import CALICO_CRD_V1, CALICO_V3, KindInfo
from calicotool.model.policy_names import POLICY_KINDS, PolicyNaming
from calicotool.model.resource import SERVER_METADATA, Resource

METADATA_ANNOTATION = "projectcalico.org/metadata"
# v3 kind -> (v1 kind, v1 plural) where the CRD backend names it differently.
_V1_RENAMES = {"IPAMConfiguration": ("IPAMConfig", "ipamconfigs")}


@dataclass(frozen=True)
class Endpoint:
    """Where one kind lives on the API server: group ('' for core), version, plural, scope, and the kind name the
    server uses (differs from ours only for IPAMConfig)."""

    group: str
    version: str
    plural: str
    namespaced: bool
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource(self) -> str:
        """`plural.group` as the API server names it in messages (`networkpolicies.crd.projectcalico.org`)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        return f"{base}/{quote(name, safe='')}" if name else base


def v3_endpoint(info: KindInfo) -> Endpoint:
    return Endpoint("projectcalico.org", "v3", info.plural, info.namespaced, info.kind)


def v1_endpoint(info: KindInfo) -> Endpoint:
    kind, plural = _V1_RENAMES.get(info.kind, (info.kind, info.plural))
    return Endpoint("crd.projectcalico.org", "v1", plural, info.namespaced, kind)


NODE_ENDPOINT = Endpoint("", "v1", "nodes", False, "Node")
K8S_NETWORK_POLICY_ENDPOINT = Endpoint("networking.k8s.io", "v1", "networkpolicies", True, "NetworkPolicy")
LEASE_ENDPOINT = Endpoint("coordination.k8s.io", "v1", "leases", True, "Lease")


def _is_ours(key: str) -> bool:
    return "projectcalico.org/" in key or "operator.tigera.io/" in key


def backend_name(kind: str, name: str, storage: str, naming: PolicyNaming) -> str:
    """Name of the object on the server for our (kind, name) in the given storage group: the v1 CRs of Calico
    <= 3.31 keep default-tier policies as `default.<name>` (see model.policy_names)."""
    return naming.storage_name(kind, name) if storage == CALICO_CRD_V1 else name


def to_v1(res: Resource, endpoint: Endpoint, naming: PolicyNaming) -> dict[str, Any]:
    """A v3 Resource as its crd.projectcalico.org/v1 object (policy names per `naming`)."""
    meta = res.metadata
    stash = {
        k: copy.deepcopy(v)
        for k, v in meta.items()
        if k not in ("namespace", "name", *SERVER_METADATA) and v not in (None, {})
    }
    if res.kind in POLICY_KINDS:
        stash["name"] = res.name
    annotations = {k: v for k, v in res.annotations.items() if _is_ours(k)}
    annotations[METADATA_ANNOTATION] = json.dumps(stash, sort_keys=True, separators=(",", ":"))
    out_meta: dict[str, Any] = {"name": backend_name(res.kind, res.name, CALICO_CRD_V1, naming), "annotations": annotations}
    if endpoint.namespaced and res.namespace:
        out_meta["namespace"] = res.namespace
    # Calico's own labels, and an ApplySet's part-of label so kubectl finds the members (`kubectl get -l`).
    labels = {k: v for k, v in res.labels.items() if _is_ours(k) or k == APPLYSET_PART_OF_LABEL}
    if labels:
        out_meta["labels"] = labels
    if res.resource_version:
        out_meta["resourceVersion"] = res.resource_version
    spec = copy.deepcopy(res.spec)
    if res.kind == "BlockAffinity" and isinstance(spec.get("deleted"), bool):
        spec["deleted"] = "true" if spec["deleted"] else "false"
    doc: dict[str, Any] = {"apiVersion": CALICO_CRD_V1, "kind": endpoint.kind, "metadata": out_meta, "spec": spec}
    if res.status is not None:
        doc["status"] = copy.deepcopy(res.status)
    return doc


def from_v1(obj: dict[str, Any], info: KindInfo) -> Resource:
    """A crd.projectcalico.org/v1 object as our v3 Resource (labels/annotations restored from the stash)."""
    meta = obj.get("metadata") or {}
    annotations = dict(meta.get("annotations") or {})
    raw = annotations.pop(METADATA_ANNOTATION, None)
    stash: dict[str, Any] = {}
    if raw:
        try:
            loaded = json.loads(raw)
            stash = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            stash = {}
    labels = dict(meta.get("labels") or {})
    labels.update(stash.pop("labels", None) or {})
    annotations.update(stash.pop("annotations", None) or {})
    out: dict[str, Any] = {k: v for k, v in stash.items() if v is not None}
    out["name"] = stash.get("name") or meta.get("name", "")
    if info.namespaced and meta.get("namespace"):
        out["namespace"] = meta["namespace"]
    if labels:
        out["labels"] = labels
    if annotations:
        out["annotations"] = annotations
    for key in ("resourceVersion", "creationTimestamp"):
        if key in meta and key not in out:
            out[key] = meta[key]
    spec = copy.deepcopy(obj.get("spec") or {})
    if info.kind == "BlockAffinity" and isinstance(spec.get("deleted"), str):
        spec["deleted"] = spec["deleted"].lower() == "true"
    status = obj.get("status")
    return Resource(CALICO_V3, info.kind, out, spec, copy.deepcopy(status) if isinstance(status, dict) else None)


def to_v3(res: Resource, endpoint: Endpoint) -> dict[str, Any]:
    """A v3 Resource as the object sent to a server that serves projectcalico.org/v3: as it is, minus fields the
    server owns (resourceVersion kept: it is the optimistic-concurrency guard)."""
    doc = res.to_dict()
    meta = doc["metadata"]
    for key in ("uid", "creationTimestamp", "generation", "managedFields", "selfLink"):
        meta.pop(key, None)
    if not endpoint.namespaced:
        meta.pop("namespace", None)
    doc["apiVersion"] = CALICO_V3
    return doc


def from_v3(obj: dict[str, Any], info: KindInfo) -> Resource:
    res = Resource.from_dict(obj)
    res.api_version, res.kind = CALICO_V3, info.kind
    res.metadata.pop("managedFields", None)
    return res


def from_kube_node(obj: dict[str, Any]) -> Resource:
    """A core/v1 Node as our KubernetesNode Resource (list items come without apiVersion/kind)."""
    res = Resource.from_dict(obj)
    res.api_version, res.kind = "v1", "Node"
    res.metadata.pop("managedFields", None)
    return res


def to_kube_node(res: Resource) -> dict[str, Any]:
    doc = res.to_dict()
    for key in ("uid", "creationTimestamp", "managedFields", "selfLink"):
        doc["metadata"].pop(key, None)
    doc["metadata"].pop("namespace", None)
    doc["apiVersion"], doc["kind"] = "v1", "Node"
    return doc


def from_kube_network_policy(obj: dict[str, Any]) -> Resource:
    """A networking.k8s.io/v1 NetworkPolicy as our KubernetesNetworkPolicy Resource (list items are typed)."""
    res = Resource.from_dict(obj)
    res.api_version, res.kind = "networking.k8s.io/v1", "NetworkPolicy"
    res.metadata.pop("managedFields", None)
    return res
