"""Plan -> Calico changes: O(groups) BGPPeers plus label/cluster-ID updates on Calico Nodes.

One BGPPeer per group (`calicotool-rr-<group>`, nodeSelector = the group's clients, peerSelector = its
reflectors) and one for the reflector mesh (`calicotool-rr-mesh`); Calico configures the reverse direction
itself (reversePeering defaults to Auto). Every BGPPeer written carries app.kubernetes.io/managed-by:
calicotool, and only such BGPPeers are ever updated or deleted. On Nodes only calicotool's own label keys and
`spec.bgp.routeReflectorClusterID` of calicotool reflectors are changed.

Changes come in two phases for make-before-break: `make` adds (new peers, new labels, new cluster IDs),
`break` removes (old labels, demoted cluster IDs, obsolete peers) once the new sessions are up.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

from calicotool.bgp.layout import NodeLayout, phase_layouts, target_layouts
from calicotool.bgp.planner import RouteReflectorPlan
from calicotool.bgp.state import (
    CLUSTER_ID_ANNOTATION,
    ROLE_LABEL,
    ROLE_REFLECTOR,
    BgpNode,
    ClusterState,
    ExternalPeering,
    group_label,
)
from calicotool.bgp.status import status_changes
from calicotool.datastore.base import Change, Op
from calicotool.errors import Conflict
from calicotool.model.resource import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Resource

PEER_PREFIX = "calicotool-rr-"
MESH_PEER = PEER_PREFIX + "mesh"
_MANAGED = {MANAGED_BY_LABEL: MANAGED_BY_VALUE, "calicotool.io/component": "route-reflectors"}


def group_peer(group: str) -> Resource:
    key = group_label(group)
    spec = {"nodeSelector": f"{key} == 'client'", "peerSelector": f"{key} == 'reflector'"}
    return Resource.new("BGPPeer", PEER_PREFIX + group, spec, labels=_MANAGED)


def mesh_peer() -> Resource:
    sel = f"{ROLE_LABEL} == '{ROLE_REFLECTOR}'"
    return Resource.new("BGPPeer", MESH_PEER, {"nodeSelector": sel, "peerSelector": sel}, labels=_MANAGED)


def desired_peers(plan: RouteReflectorPlan) -> list[Resource]:
    peers = [group_peer(g) for g in sorted(plan.groups, key=lambda g: plan.groups[g].index)]
    if len(plan.reflectors) > 1:
        peers.append(mesh_peer())
    return peers


def node_resource(node: BgpNode) -> Resource:
    """A Calico Node resource for a node known only from a topology file (name, labels, BGP spec)."""
    bgp = node.bgp_spec()
    return Resource.new("Node", node.name, {"bgp": bgp} if bgp else {}, labels=dict(node.labels))


def peer_resource(peer: ExternalPeering) -> Resource:
    """The BGPPeer a topology file's unmanaged peer stands for (no calicotool label: never changed)."""
    spec: dict[str, object] = {}
    for key, value in (("node", peer.node), ("nodeSelector", peer.node_selector), ("peerSelector", peer.peer_selector),
                       ("peerIP", peer.peer_ip), ("asNumber", peer.as_number)):
        if value is not None:
            spec[key] = value
    return Resource.new("BGPPeer", peer.name, spec)


def with_node_layout(res: Resource, old: NodeLayout, new: NodeLayout) -> Resource:
    """`res` with calicotool's keys moved from layout `old` to `new`; everything else untouched.

    `res` is a Calico Node (labels, spec.bgp.routeReflectorClusterID) or, in a Kubernetes-datastore cluster, the
    Kubernetes Node (labels, and the projectcalico.org/RouteReflectorClusterID annotation Calico maps to the
    cluster ID): there, Kubernetes labels are what both BGPPeer selectors and pod nodeSelectors see."""
    out = res.copy()
    labels = {k: v for k, v in (out.metadata.get("labels") or {}).items() if k not in old.labels}
    labels.update(new.labels)
    if labels:
        out.metadata["labels"] = labels
    else:
        out.metadata.pop("labels", None)
    if res.api_version == "v1":
        if new.cluster_id != old.cluster_id:
            annotations = dict(out.metadata.get("annotations") or {})
            if new.cluster_id:
                annotations[CLUSTER_ID_ANNOTATION] = new.cluster_id
            else:
                annotations.pop(CLUSTER_ID_ANNOTATION, None)
            out.metadata["annotations"] = annotations
        return out
    if new.cluster_id != old.cluster_id:
        bgp = copy.deepcopy(out.spec.get("bgp") or {})
        if new.cluster_id:
            bgp["routeReflectorClusterID"] = new.cluster_id
        else:
            bgp.pop("routeReflectorClusterID", None)
        out.spec["bgp"] = bgp
    return out


@dataclass
class ChangeSet:
    make: list[Change] = field(default_factory=list)
    break_: list[Change] = field(default_factory=list)

    @property
    def all(self) -> list[Change]:
        return self.make + self.break_

    def __len__(self) -> int:
        return len(self.make) + len(self.break_)


def plan_changes(
    plan: RouteReflectorPlan,
    nodes: dict[str, Resource],
    peers: list[Resource],
    statuses: Iterable[Resource] = (),
    state: ClusterState | None = None,
) -> ChangeSet:
    """The writes that take the store from `nodes`/`peers`/`statuses` (as read now) to `plan`, split into make
    and break. `state` is the cluster as read now (default: the state the plan was made from); reconcile passes
    a fresh read after the make phase so break updates carry current resourceVersions.

    A Node touched in both phases appears in both lists; its break update is only valid after the make update,
    so apply the break list from a fresh read."""
    out = ChangeSet()
    _peer_changes(plan, peers, out)
    create, delete = status_changes(statuses, set(plan.reflectors))
    out.make.extend(create)
    out.break_.extend(delete)
    targets = target_layouts(plan)
    state_nodes = (state or plan.state).by_name()
    rr = set(plan.reflector_group)
    for name in sorted(targets, key=lambda n: (n not in rr, n)):  # reflectors first: clients need them
        res = nodes.get(name)
        node = state_nodes.get(name)
        if res is None or node is None:
            continue
        cur, made = phase_layouts(plan, node, targets[name])
        if made != cur:
            out.make.append(Change(Op.UPDATE, with_node_layout(res, cur, made)))
        if targets[name] != made:
            base = with_node_layout(res, cur, made)
            out.break_.append(Change(Op.UPDATE, with_node_layout(base, made, targets[name])))
    return out


def _peer_changes(plan: RouteReflectorPlan, peers: list[Resource], out: ChangeSet) -> None:
    existing = {p.name: p for p in peers}
    wanted = {p.name: p for p in desired_peers(plan)}
    for name, want in wanted.items():
        have = existing.get(name)
        if have is None:
            out.make.append(Change(Op.CREATE, want))
        elif not have.managed:
            raise Conflict(f"BGPPeer {name} exists but is not managed by calicotool; refusing to overwrite it")
        elif not _same_peer(have, want):
            out.make.append(Change(Op.UPDATE, want.with_resource_version(have.resource_version)))
    for name, have in sorted(existing.items()):
        if have.managed and name.startswith(PEER_PREFIX) and name not in wanted:
            out.break_.append(Change(Op.DELETE, have))


def _same_peer(have: Resource, want: Resource) -> bool:
    return have.spec == want.spec and have.labels.get(MANAGED_BY_LABEL) == MANAGED_BY_VALUE
