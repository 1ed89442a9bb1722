"""calico-node for a lab: a Store wrapper that makes a running lab follow the datastore, as confd and calico-node
do in a cluster, so `rr reconcile` can be run for real against BIRD.

After every write it reads the Nodes and BGPPeers back (`read_snapshot`), evaluates the BGPPeers' selectors into
sessions, and reloads the BIRD of every node whose sessions or cluster ID changed (confd's job). Whenever
CalicoNodeStatus objects are listed, it first fills them from `birdc show protocols` (calico-node's job), with
peer addresses as the datastore knows them. After each of those steps it records the fewest Established
reflector sessions of the watched clients, tagged with the phase of the last write batch ("make", "break").
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from calicotool.bgp.inputs import read_snapshot
from calicotool.datastore.base import BatchResult, Change, Store, StoreInfo
from calicotool.lab import bird_process as bp
from calicotool.lab.bird_config import protocol_name
from calicotool.lab.runner import LabState, reconfigure_lab
from calicotool.lab.topology import LabNode, LabPeer, LabTopology, calico_rr_client
from calicotool.model.resource import Resource

PHASES = ("before", "make", "break")


@dataclass(frozen=True)
class Sample:
    phase: str
    min_up: int
    client: str


def sessions_up(state: LabState, clients: Iterable[str]) -> dict[str, int]:
    """Established BGP sessions of each client towards nodes that are reflectors in the running topology."""
    nodes = state.topology.by_name()
    reflector_ips = {n.router_ip for n in state.topology.nodes if n.is_reflector}
    out = {}
    for name in clients:
        protocols = bp.protocols(state.paths(name))
        wanted = {protocol_name(p) for p in nodes[name].peers if p.ip in reflector_ips}
        out[name] = sum(1 for p in wanted if p in protocols and protocols[p].established)
    return out


def store_topology(store: Store, lab: LabTopology) -> LabTopology:
    """The sessions the datastore's BGPPeers select among its nodes, on the lab's addresses and blocks."""
    from calicotool.selector import parse

    snap = read_snapshot(store)
    at = lab.by_name()
    nodes = {n.name: n for n in snap.state.nodes if n.name in at}
    links: dict[str, set[str]] = {name: set() for name in nodes}
    for peer in snap.peers:
        if not (peer.spec.get("nodeSelector") and peer.spec.get("peerSelector")):
            continue
        local, remote = parse(peer.spec["nodeSelector"]), parse(peer.spec["peerSelector"])
        for a, na in nodes.items():
            if local.matches(na.labels):
                for b, nb in nodes.items():
                    if a != b and remote.matches(nb.labels):
                        links[a].add(b)
                        links[b].add(a)  # reversePeering: Calico configures the other end too
    out = []
    for name in sorted(nodes):
        base, cid = at[name], nodes[name].cluster_id or None
        peers = tuple(
            LabPeer(at[o].router_ip, at[o].asn, calico_rr_client(base.asn, cid, at[o].asn, nodes[o].cluster_id), False, o)
            for o in sorted(links[name])
        )
        out.append(LabNode(name, base.router_ip, base.asn, base.blocks, cid, peers))
    return LabTopology(tuple(out), lab.pool, lab.underlay, "from the datastore")


class LabCalicoNode:
    """A Store (wrapping `inner`) whose writes reach the lab's BIRD and whose CalicoNodeStatus reads come from
    it. `clients` are the nodes whose Established reflector sessions each step samples into `samples`."""

    def __init__(self, inner: Store, lab: LabState, clients: Iterable[str]) -> None:
        self.inner = inner
        self.lab = lab
        self.clients = sorted(clients)
        self.samples: list[Sample] = []
        self.batches = 0

    @property
    def phase(self) -> str:
        return PHASES[min(self.batches, len(PHASES) - 1)]

    def sample(self) -> Sample:
        up = sessions_up(self.lab, self.clients)
        client = min(up, key=lambda c: (up[c], c))
        s = Sample(self.phase, up[client], client)
        self.samples.append(s)
        return s

    def follow(self) -> None:
        """confd: reload BIRD where the datastore's sessions changed; then sample."""
        reconfigure_lab(self.lab, store_topology(self.inner, self.lab.topology))
        self.sample()

    def report(self) -> None:
        """calico-node: every CalicoNodeStatus object gets its node's sessions as BIRD has them now."""
        address = {n.name: n.address for n in read_snapshot(self.inner).state.nodes}
        nodes = self.lab.topology.by_name()
        for status in self.inner.list("CalicoNodeStatus"):
            name = str(status.spec.get("node"))
            if name not in nodes:
                continue
            protocols = bp.protocols(self.lab.paths(name))
            peers = []
            for p in nodes[name].peers:
                row = protocols.get(protocol_name(p))
                state = "Established" if row is not None and row.established else "Connect"
                peers.append({"peerIP": address.get(p.node or ""), "state": state, "type": "NodePeer"})
            updated = status.copy()
            updated.status = {"bgp": {"peersV4": peers}}
            if updated.status != status.status:
                self.inner.update(updated)
        self.sample()

    # -- Store protocol --
    def check(self) -> StoreInfo:
        return self.inner.check()

    def get(self, kind: str, name: str, namespace: str | None = None) -> Resource:
        return self.inner.get(kind, name, namespace)

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[Resource]:
        if kind == "CalicoNodeStatus":
            self.report()
        return self.inner.list(kind, namespace, label_selector)

    def create(self, resource: Resource) -> Resource:
        out = self.inner.create(resource)
        self.follow()
        return out

    def update(self, resource: Resource) -> Resource:
        out = self.inner.update(resource)
        self.follow()
        return out

    def delete(self, kind: str, name: str, namespace: str | None = None, resource_version: str | None = None) -> None:
        self.inner.delete(kind, name, namespace, resource_version)
        self.follow()

    def apply_batch(self, changes: Iterable[Change]) -> BatchResult:
        out = self.inner.apply_batch(changes)
        self.batches += 1
        self.follow()
        return out

    def lock(self, name: str, ttl_seconds: float = 60.0, wait_seconds: float = 0.0) -> AbstractContextManager[None]:
        return self.inner.lock(name, ttl_seconds, wait_seconds)

    def close(self) -> None:
        self.inner.close()
