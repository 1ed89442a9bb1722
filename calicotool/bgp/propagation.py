"""Route propagation on a BGP session graph under RFC 4456 reflection, as Calico's BIRD config applies it.

Rules modelled (same AS = iBGP):
- A node without a cluster ID sends its own routes to every peer and never re-advertises iBGP-learned routes.
- A node with cluster ID C treats a peer as its client when the peer's cluster ID differs from C (Calico's
  confd writes `rr client` exactly then). Routes from a client go to every peer but the sender; routes from a
  non-client go to clients only. Reflecting prepends C to the CLUSTER_LIST.
- A reflector drops a route whose CLUSTER_LIST already holds its own cluster ID, so reflectors sharing a
  cluster ID never pass each other's client routes on (RFC 4456 section 8).
- Each node keeps one best path: shortest CLUSTER_LIST, then lowest neighbour address (BIRD's order once
  local-pref, AS path, origin and MED tie), and advertises only that.
- eBGP (different AS): learned routes may go to anyone; the CLUSTER_LIST is not carried across; AS loops drop.

Scale: nodes with the same cluster ID, AS and peer set behave identically (all clients of one group), so the
check runs once per such class on the quotient graph: cost ~ classes x quotient edges, not nodes^2.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from calicotool.bgp.mesh import address_key


@dataclass
class PropagationResult:
    """Does every live node learn every other live node's routes? `missing` counts (origin, receiver) pairs."""

    ok: bool
    nodes: int
    pairs_checked: int
    missing: int
    examples: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class _Class:
    members: list[str]
    cluster_id: str | None
    asn: int
    addr: int
    zone: str
    required: bool  # its members' routes must reach everyone, and they must learn everyone's
    peers: list[int] = field(default_factory=list)


class RouteModel:
    """A session graph compressed into classes of equivalent nodes (same cluster ID, AS, zone and peers).

    Build once, then `check(failed_classes)` for many failure scenarios: losing a reflector or a zone removes
    whole classes, and the remaining nodes stay correctly classed (equal peer sets minus the same nodes)."""

    def __init__(self, g: nx.Graph, failed: frozenset[str] = frozenset()) -> None:
        sig_index: dict[tuple[object, ...], int] = {}
        self.of: dict[str, int] = {}
        self.classes: list[_Class] = []
        for n in sorted(x for x in g.nodes if x not in failed):
            attrs = g.nodes[n]
            peers = tuple(sorted(p for p in g.adj[n] if p not in failed))
            sig = (attrs.get("cluster_id"), attrs.get("asn"), attrs.get("zone"), attrs.get("role"), peers)
            idx = sig_index.get(sig)
            if idx is None:
                idx = sig_index[sig] = len(self.classes)
                self.classes.append(_Class([], attrs.get("cluster_id"), int(attrs.get("asn") or 0),
                                           address_key(g, n), str(attrs.get("zone") or ""),
                                           attrs.get("role") != "external"))
            self.classes[idx].members.append(n)
            self.of[n] = idx
        for c in self.classes:
            c.peers = sorted({self.of[p] for p in g.adj[c.members[0]] if p not in failed})

    def classes_of(self, nodes: set[str]) -> frozenset[int] | None:
        """The classes making up `nodes`, or None when `nodes` splits a class."""
        idx = {self.of[n] for n in nodes if n in self.of}
        if sum(len(self.classes[i].members) for i in idx) != len(nodes & self.of.keys()):
            return None
        return frozenset(idx)

    def check(self, removed: frozenset[int] = frozenset(), examples: int = 5) -> PropagationResult:
        classes = self.classes
        alive = [i for i, c in enumerate(classes) if i not in removed]
        required = [i for i in alive if classes[i].required]
        total = sum(len(classes[i].members) for i in required)
        missing = 0
        found: list[tuple[str, str]] = []
        seen: dict[tuple[object, ...], set[int]] = {}
        for o in required:
            c = classes[o]
            live_peers = tuple(p for p in c.peers if p not in removed)
            key = (c.cluster_id, c.asn, live_peers)
            reached = seen.get(key)
            if reached is None:
                reached = seen[key] = _spread(classes, o, removed)
            for r in required:
                want = len(classes[r].members) - (1 if r == o else 0)
                if want and r not in reached:
                    missing += len(c.members) * want
                    if len(found) < examples:
                        peer = classes[r].members[1 if r == o and len(classes[r].members) > 1 else 0]
                        found.append((c.members[0], peer))
        return PropagationResult(missing == 0, total, total * (total - 1), missing, found)


def _spread(classes: list[_Class], origin: int, removed: frozenset[int] = frozenset()) -> set[int]:
    """Classes that learn a route originated by one member of class `origin` (the virtual node -1)."""
    src = classes[origin]
    best: dict[int, tuple[tuple[str | None, ...], tuple[int, ...], int, bool]] = {}
    state: dict[int, tuple[tuple[str | None, ...], tuple[int, ...], int, bool]] = {-1: ((), (), -1, False)}
    frontier: list[int] = [-1]

    def info(c: int) -> _Class:
        return src if c == -1 else classes[c]

    while frontier:
        offers: dict[int, tuple[int, int, tuple[str | None, ...], tuple[int, ...], int, bool]] = {}
        for u in frontier:
            cl, path, learned_from, via_ebgp = state[u]
            me = info(u)
            sender = info(learned_from)
            reflected = u != -1 and not via_ebgp and me.cluster_id is not None
            for v in me.peers:
                if v in best or v == learned_from or v in removed:
                    continue
                peer = classes[v]
                ebgp = peer.asn != me.asn
                if u != -1 and not _may_send(me, peer, sender, via_ebgp, ebgp):
                    continue
                new_cl = () if ebgp else ((me.cluster_id, *cl) if reflected else cl)
                if peer.cluster_id is not None and peer.cluster_id in new_cl:
                    continue  # RFC 4456: own cluster ID in CLUSTER_LIST
                new_path = (*path, me.asn) if ebgp else path
                if ebgp and peer.asn in new_path:
                    continue  # AS path loop
                offer = (len(new_cl), me.addr, new_cl, new_path, u, ebgp)
                have = offers.get(v)
                if have is None or offer[:2] < have[:2]:
                    offers[v] = offer
        frontier = []
        for v, (_, _, cl, path, u, ebgp) in offers.items():
            best[v] = state[v] = (cl, path, u, ebgp)
            frontier.append(v)
    return set(best)


def _may_send(me: _Class, peer: _Class, sender: _Class, via_ebgp: bool, ebgp: bool) -> bool:
    """May `me` advertise a route it learned from `sender` to `peer`?"""
    if via_ebgp or ebgp:
        return True  # eBGP-learned routes go everywhere; anything may go to an eBGP peer
    if me.cluster_id is None:
        return False  # plain iBGP speaker: no re-advertising iBGP routes
    from_client = sender.cluster_id != me.cluster_id
    to_client = peer.cluster_id != me.cluster_id
    return from_client or to_client


def check_propagation(
    g: nx.Graph, failed: frozenset[str] | set[str] = frozenset(), examples: int = 5
) -> PropagationResult:
    """Check that every live node's routes reach every other live node on graph `g` (external peers take part
    as speakers but are not required to be reached)."""
    return RouteModel(g, frozenset(failed)).check(examples=examples)
