"""ClusterState -> the resources a real cluster would hold (Kubernetes Node, Calico Node, BGPConfiguration).

Used to load a topology file into a datastore (`rr seed`), by tests, and by the BIRD lab. Pure.
"""

from __future__ import annotations

from typing import Any

from calicotool.bgp.resources import node_resource, peer_resource
from calicotool.bgp.state import BgpNode, ClusterState
from calicotool.datastore.base import Change, Op
from calicotool.model.resource import Resource


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


def cluster_resources(state: ClusterState, kubernetes_nodes: bool = True) -> list[Resource]:
    """BGPConfiguration `default`, then a Kubernetes Node (unless `kubernetes_nodes` is False, as for etcd) and
    a Calico Node per node, in name order."""
    out = [Resource.new("BGPConfiguration", "default",
                        {"nodeToNodeMeshEnabled": state.mesh_enabled, "asNumber": state.as_number})]
    for node in sorted(state.nodes, key=lambda n: n.name):
        if kubernetes_nodes:
            out.append(kubernetes_node(node))
        out.append(node_resource(node))
    out.extend(peer_resource(p) for p in state.external_peers)
    return out


def seed_changes(state: ClusterState, kubernetes_nodes: bool = True) -> list[Change]:
    return [Change(Op.CREATE, r) for r in cluster_resources(state, kubernetes_nodes)]
