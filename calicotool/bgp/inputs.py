"""Read a live datastore into a ClusterState (the only module here that talks to a Store for reading).

Kubernetes Nodes give labels, the Ready condition and its last transition, unschedulable, taints and deletion;
Calico Nodes give BGP addresses, AS numbers, cluster IDs and the labels BGPPeer selectors match; the default
BGPConfiguration gives the mesh switch and AS number; BGPPeers not managed by calicotool are kept as external
peerings. In an etcd cluster without Kubernetes Nodes, the Calico Node alone describes the node.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from calicotool.bgp.state import (
    DEFAULT_AS_NUMBER,
    DEFAULT_RACK_LABEL,
    DEFAULT_ZONE_LABEL,
    BgpNode,
    ClusterState,
    ExternalPeering,
    Taint,
)
from calicotool.datastore.base import Store
from calicotool.errors import CalicotoolError, InputError, NotFound
from calicotool.model.resource import Resource
from calicotool.wording import plural


@dataclass
class Snapshot:
    """What was read: the planner's view plus the raw resources needed to write changes back."""

    state: ClusterState
    nodes: dict[str, Resource]  # what carries calicotool's node fields: Calico Nodes, or Kubernetes Nodes (KDD)
    peers: list[Resource]
    bgp_configuration: Resource | None
    statuses: list[Resource] = field(default_factory=list)  # CalicoNodeStatus objects
    warnings: list[str] = field(default_factory=list)


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _as_number(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _list(store: Store, kind: str) -> list[Resource]:
    try:
        return store.list(kind)
    except NotFound:
        return []
    except InputError:
        if kind == "KubernetesNode":  # an etcd datastore keeps no Kubernetes Nodes: Calico Nodes say it all
            return []
        raise


def read_snapshot(
    store: Store,
    now: datetime | None = None,
    zone_label: str = DEFAULT_ZONE_LABEL,
    rack_label: str = DEFAULT_RACK_LABEL,
    zone_label_explicit: bool = False,
) -> Snapshot:
    """Read nodes, BGP configuration and peers. InputError when `zone_label` was asked for explicitly and no
    node carries it (a typo would otherwise put every node in one zone)."""
    warnings: list[str] = []
    k8s = {r.name: r for r in _list(store, "KubernetesNode")}
    calico = {r.name: r for r in _list(store, "Node")}
    try:
        config: Resource | None = store.get("BGPConfiguration", "default")
    except NotFound:
        config = None
    cfg_spec = config.spec if config else {}
    mesh = cfg_spec.get("nodeToNodeMeshEnabled", True)
    cluster_as = _as_number(cfg_spec.get("asNumber")) or DEFAULT_AS_NUMBER
    peers = _list(store, "BGPPeer")
    external = tuple(
        ExternalPeering(
            name=p.name,
            node_selector=p.spec.get("nodeSelector") or None,
            peer_selector=p.spec.get("peerSelector") or None,
            node=p.spec.get("node") or None,
            peer_ip=(str(p.spec.get("peerIP")).split(":")[0] if p.spec.get("peerIP") else None),
            as_number=_as_number(p.spec.get("asNumber")),
        )
        for p in peers
        if not p.managed
    )
    nodes = []
    for name in sorted(set(calico) | set(k8s)):
        cnode, knode = calico.get(name), k8s.get(name)
        if cnode is None:
            warnings.append(f"Kubernetes node {name} has no Calico Node (calico-node not running there?)")
            continue
        nodes.append(_node(cnode, knode, zone_label, rack_label))
    if not nodes:
        raise InputError(f"no Calico Nodes in the datastore ({_where(store)}): wrong --datastore, or is calico-node "
                         "not running yet?")
    if zone_label_explicit and nodes and not any(n.zone for n in nodes):
        raise InputError(f"no node carries the zone label {zone_label!r}; check --zone-label")
    unzoned = [n.name for n in nodes if not n.zone]
    if unzoned and len(unzoned) < len(nodes):
        warnings.append(f"{plural(len(unzoned), 'node')} {'has' if len(unzoned) == 1 else 'have'} no {zone_label} label and form "
                        f"{'its' if len(unzoned) == 1 else 'their'} own zone")
    state = ClusterState(
        nodes=tuple(nodes),
        now=now or datetime.now(UTC),
        as_number=cluster_as,
        mesh_enabled=bool(mesh),
        external_peers=external,
        source="datastore",
    )
    writable = calico
    if k8s and _is_kubernetes(store):
        # KDD: a Calico Node *is* the Kubernetes Node; write labels (and the cluster-ID annotation) there, so
        # they are Kubernetes labels that BGPPeer selectors and the guard DaemonSet's nodeSelector both see.
        writable = {name: k8s[name] for name in calico if name in k8s}
    return Snapshot(state, writable, peers, config, _list(store, "CalicoNodeStatus"), warnings)


def _where(store: Store) -> str:
    try:
        info = store.check()
        return f"{info.backend} {info.location}"
    except CalicotoolError:
        return "unknown"


def _is_kubernetes(store: Store) -> bool:
    try:
        return store.check().backend == "kubernetes"
    except CalicotoolError:  # a store that cannot say is treated as not Kubernetes
        return False


def _node(cnode: Resource, knode: Resource | None, zone_label: str, rack_label: str) -> BgpNode:
    bgp = cnode.spec.get("bgp") or {}
    labels = cnode.labels
    k_labels = knode.labels if knode else {}
    merged = {**k_labels, **labels}
    ready, since = True, None
    unschedulable, deleting = False, bool(cnode.metadata.get("deletionTimestamp"))
    taints: tuple[Taint, ...] = ()
    if knode is not None:
        for cond in (knode.status or {}).get("conditions") or []:
            if cond.get("type") == "Ready":
                ready = cond.get("status") == "True"
                since = _time(cond.get("lastTransitionTime"))
        unschedulable = bool(knode.spec.get("unschedulable"))
        deleting = deleting or bool(knode.metadata.get("deletionTimestamp"))
        taints = tuple(
            Taint(str(t.get("key", "")), str(t.get("effect", "")), str(t.get("value", "")))
            for t in knode.spec.get("taints") or []
        )
    return BgpNode(
        name=cnode.name,
        zone=merged.get(zone_label, ""),
        rack=merged.get(rack_label, ""),
        labels=labels,
        ipv4=bgp.get("ipv4Address") or None,
        as_number=_as_number(bgp.get("asNumber")),
        ready=ready,
        ready_since=since,
        unschedulable=unschedulable,
        taints=taints,
        deleting=deleting,
        cluster_id=bgp.get("routeReflectorClusterID") or None,
    )
