"""ClusterState -> the resources a real cluster would hold (Kubernetes Node, Calico Node, BGPConfiguration).

Used to load a topology file into a datastore (`rr seed`, via `seed_store`, the one function here that touches
a Store), by tests, and by the BIRD lab. The layout
depends on the backend: etcd holds Calico Nodes only; the Kubernetes datastore holds only Kubernetes Nodes,
whose Calico fields are annotations (a Calico Node there *is* the Kubernetes Node); the directory store both.
"""

from __future__ import annotations

from typing import Any

from calicotool.bgp.resources import node_resource, peer_resource
from calicotool.bgp.state import CLUSTER_ID_ANNOTATION, BgpNode, ClusterState
from calicotool.datastore.base import Change, Op, Store
from calicotool.errors import InputError, NotFound
from calicotool.model.resource import Resource
from calicotool.wording import plural

A_IPV4 = "projectcalico.org/IPv4Address"  # Calico's node annotations in a Kubernetes datastore
A_ASN = "projectcalico.org/ASNumber"


def kubernetes_node(node: BgpNode) -> Resource:
    spec: dict[str, Any] = {}
    if node.unschedulable:
        spec["unschedulable"] = True
    if node.taints:
        spec["taints"] = [{"key": t.key, "effect": t.effect, **({"value": t.value} if t.value else {})}
                          for t in node.taints]
    res = Resource.new("Node", node.name, spec, labels=dict(node.labels), api_version="v1")
    cond: dict[str, Any] = {"type": "Ready", "status": "True" if node.ready else "False"}
    if node.ready_since is not None:
        cond["lastTransitionTime"] = node.ready_since.strftime("%Y-%m-%dT%H:%M:%SZ")
    res.status = {"conditions": [cond]}
    if node.deleting:
        res.metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return res


def kdd_node(node: BgpNode) -> Resource:
    """The Kubernetes Node of a Kubernetes-datastore cluster: Calico's node fields as its annotations."""
    res = kubernetes_node(node)
    annotations = {key: str(value) for key, value in ((A_IPV4, node.ipv4), (A_ASN, node.as_number),
                                                      (CLUSTER_ID_ANNOTATION, node.cluster_id)) if value}
    if annotations:
        res.metadata["annotations"] = annotations
    return res


def cluster_resources(state: ClusterState, kubernetes_nodes: bool = True, calico_nodes: bool = True) -> list[Resource]:
    """BGPConfiguration `default`, then per node in name order a Kubernetes Node (unless `kubernetes_nodes` is
    False, as for etcd) and a Calico Node (unless `calico_nodes` is False: then the Kubernetes Node carries the
    Calico fields as annotations, as in a Kubernetes datastore)."""
    out = [Resource.new("BGPConfiguration", "default",
                        {"nodeToNodeMeshEnabled": state.mesh_enabled, "asNumber": state.as_number})]
    for node in sorted(state.nodes, key=lambda n: n.name):
        if kubernetes_nodes:
            out.append(kubernetes_node(node) if calico_nodes else kdd_node(node))
        if calico_nodes:
            out.append(node_resource(node))
    out.extend(peer_resource(p) for p in state.external_peers)
    return out


def seed_changes(state: ClusterState, kubernetes_nodes: bool = True, calico_nodes: bool = True) -> list[Change]:
    return [Change(Op.CREATE, r) for r in cluster_resources(state, kubernetes_nodes, calico_nodes)]


def seed_layout(backend: str) -> tuple[bool, bool]:
    """(kubernetes_nodes, calico_nodes) a backend holds: etcd no Kubernetes Nodes, Kubernetes no separate
    Calico Nodes, anything else (the directory store) both."""
    return {"etcdv3": (False, True), "kubernetes": (True, False)}.get(backend, (True, True))


def seed_store(store: Store, state: ClusterState) -> list[Change]:
    """Write `state` into an empty `store` in the layout its backend holds; InputError, writing nothing, when
    any of the objects exists already. Returns the changes written."""
    kubernetes_nodes, calico_nodes = seed_layout(store.check().backend)
    changes = seed_changes(state, kubernetes_nodes, calico_nodes)
    existing = [c.resource for c in changes if _exists(store, c.resource.info.name, c.resource.name)]
    if existing:
        names = ", ".join(f"{r.kind}/{r.name}" for r in existing[:5])
        raise InputError(f"rr seed loads a topology into an empty datastore; {plural(len(existing), 'object')} "
                         f"{'exists' if len(existing) == 1 else 'exist'} already "
                         f"({names}{', ...' if len(existing) > 5 else ''})")
    store.apply_batch(changes)
    return changes


def _exists(store: Store, kind_id: str, name: str) -> bool:
    try:
        store.get(kind_id, name)
    except NotFound:
        return False
    return True
