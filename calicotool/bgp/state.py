"""The values the route-reflector planner works on: one BGP speaker (`BgpNode`) and the cluster (`ClusterState`).

Both are plain, immutable-by-convention values built by `topology` (files, generator) or `inputs` (a live
datastore). The current route-reflector layout is read back from calicotool's own labels, so a topology file and
a datastore describe "what is there now" the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# Labels calicotool writes on Calico Nodes. Clients carry `<PREFIX><group>: client`; reflectors carry
# `<PREFIX><group>: reflector` plus ROLE_LABEL. One key per group lets a client sit in two groups while it moves
# (make-before-break) and lets one BGPPeer per group select both ends.
GROUP_LABEL_PREFIX = "rr.calicotool.io/"
ROLE_LABEL = "rr.calicotool.io/role"
ROLE_REFLECTOR = "reflector"
CLIENT = "client"
REFLECTOR = "reflector"
CLUSTER_ID_ANNOTATION = "projectcalico.org/RouteReflectorClusterID"  # the k8s Node annotation Calico maps

DEFAULT_ZONE_LABEL = "topology.kubernetes.io/zone"
DEFAULT_RACK_LABEL = "topology.calicotool.io/rack"
DEFAULT_AS_NUMBER = 64512
NO_ZONE = ""


@dataclass(frozen=True, slots=True)
class Taint:
    key: str
    effect: str = "NoSchedule"
    value: str = ""


@dataclass(frozen=True, slots=True)
class BgpNode:
    """One Calico node as the planner sees it. `ready_since` is the last transition time of the Ready condition
    (so for a NotReady node it says since when it has been NotReady)."""

    name: str
    zone: str = NO_ZONE
    rack: str = ""
    labels: dict[str, str] = field(default_factory=dict, hash=False, compare=True)
    ipv4: str | None = None
    as_number: int | None = None
    ready: bool = True
    ready_since: datetime | None = None
    unschedulable: bool = False
    taints: tuple[Taint, ...] = ()
    deleting: bool = False
    cluster_id: str | None = None  # spec.bgp.routeReflectorClusterID as it is now

    @property
    def address(self) -> str | None:
        """The IPv4 address without prefix length."""
        return self.ipv4.split("/")[0] if self.ipv4 else None

    def bgp_spec(self) -> dict[str, object]:
        """The fields of a Calico Node's `spec.bgp` this node has (what a topology file's `bgp:` also holds)."""
        bgp: dict[str, object] = {}
        if self.ipv4:
            bgp["ipv4Address"] = self.ipv4
        if self.as_number is not None:
            bgp["asNumber"] = self.as_number
        if self.cluster_id:
            bgp["routeReflectorClusterID"] = self.cluster_id
        return bgp

    @property
    def reflector_groups(self) -> tuple[str, ...]:
        """Groups this node currently reflects for (calicotool-managed labels only)."""
        return tuple(sorted(g for g, role in _groups(self.labels) if role == REFLECTOR))

    @property
    def client_groups(self) -> tuple[str, ...]:
        """Groups this node is currently a client of."""
        return tuple(sorted(g for g, role in _groups(self.labels) if role == CLIENT))

    @property
    def managed_reflector(self) -> bool:
        return self.labels.get(ROLE_LABEL) == ROLE_REFLECTOR

    @property
    def unmanaged_reflector(self) -> bool:
        """A route reflector somebody else configured (cluster ID set, no calicotool label): never touched."""
        return bool(self.cluster_id) and not self.managed_reflector


def _groups(labels: dict[str, str]) -> list[tuple[str, str]]:
    out = []
    for key, value in labels.items():
        if key.startswith(GROUP_LABEL_PREFIX) and key != ROLE_LABEL and value in (CLIENT, REFLECTOR):
            out.append((key[len(GROUP_LABEL_PREFIX):], value))
    return out


def group_label(group: str) -> str:
    return GROUP_LABEL_PREFIX + group


@dataclass(frozen=True)
class ExternalPeering:
    """A BGPPeer calicotool does not own, summarised for the model (ToR peers, hand-made node peers)."""

    name: str
    node_selector: str | None = None
    peer_selector: str | None = None
    node: str | None = None
    peer_ip: str | None = None
    as_number: int | None = None


@dataclass(frozen=True)
class ClusterState:
    """Everything the planner needs about a cluster at one instant (`now`, used for damping)."""

    nodes: tuple[BgpNode, ...]
    now: datetime
    as_number: int = DEFAULT_AS_NUMBER
    mesh_enabled: bool = True
    external_peers: tuple[ExternalPeering, ...] = ()
    source: str = ""

    def by_name(self) -> dict[str, BgpNode]:
        return {n.name: n for n in self.nodes}

    @property
    def zones(self) -> list[str]:
        return sorted({n.zone for n in self.nodes})

    def node_as(self, node: BgpNode) -> int:
        return node.as_number if node.as_number is not None else self.as_number
