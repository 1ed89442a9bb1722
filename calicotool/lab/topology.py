"""What a lab runs: BGP speakers (`LabNode`) with their blocks and sessions, on one shared underlay subnet.

A `LabTopology` is a plain value; `validate_topology` reports every problem at once as located InputErrors.
Builders: `full_mesh` (Calico's default node-to-node mesh) and `calico_rr_client` (the rule confd uses to decide
whether a session gets ``rr client`` + ``rr cluster id``). Plans from the route-reflector planner are converted
in `calicotool.lab.from_plan`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from calicotool.errors import InputError, Location, ValidationFailed

DEFAULT_ASN = 64512
DEFAULT_POOL = "10.244.0.0/16"
DEFAULT_UNDERLAY = "192.168.128.0/17"
DEFAULT_BLOCK_SIZE = 26
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class LabPeer:
    """One BGP session as seen from a node. `mesh` sessions are Calico's node-to-node mesh (``Mesh_*``),
    the others come from BGPPeers (``Node_*``)."""

    ip: str
    asn: int = DEFAULT_ASN
    rr_client: bool = False
    mesh: bool = False
    node: str | None = None  # the peer's lab node name, when it is one


@dataclass(frozen=True)
class LabNode:
    name: str
    router_ip: str
    asn: int = DEFAULT_ASN
    blocks: tuple[str, ...] = ()
    rr_cluster_id: str | None = None
    peers: tuple[LabPeer, ...] = ()

    @property
    def is_reflector(self) -> bool:
        return self.rr_cluster_id is not None


@dataclass(frozen=True)
class LabTopology:
    nodes: tuple[LabNode, ...]
    pool: str = DEFAULT_POOL
    underlay: str = DEFAULT_UNDERLAY
    description: str = ""
    notes: tuple[str, ...] = field(default=(), compare=False)

    def by_name(self) -> dict[str, LabNode]:
        return {n.name: n for n in self.nodes}

    def by_ip(self) -> dict[str, LabNode]:
        return {n.router_ip: n for n in self.nodes}

    @property
    def reflectors(self) -> list[str]:
        return sorted(n.name for n in self.nodes if n.is_reflector)

    def sessions(self) -> set[frozenset[str]]:
        """Unordered pairs of router IPs that have a session configured on both ends."""
        configured = {(n.router_ip, p.ip) for n in self.nodes for p in n.peers}
        return {frozenset(pair) for pair in configured if (pair[1], pair[0]) in configured}


def calico_rr_client(node_asn: int, node_cluster_id: str | None, peer_asn: int, peer_cluster_id: str | None) -> bool:
    """confd's rule: a session is ``rr client`` (with this node's cluster ID) when both ends share an AS, this
    node is a reflector, and the peer is not in the same reflector cluster."""
    return node_asn == peer_asn and bool(node_cluster_id) and peer_cluster_id != node_cluster_id


def underlay_address(underlay: str, index: int) -> str:
    """The index-th (0-based) host address of the underlay subnet."""
    net = ipaddress.ip_network(underlay)
    if index + 1 >= net.num_addresses - 1:
        raise InputError(f"underlay {underlay} has no room for {index + 1} nodes")
    return str(net.network_address + index + 1)


def block_for(pool: str, index: int, size: int = DEFAULT_BLOCK_SIZE) -> str:
    """The index-th /size block of the pool (how Calico's IPAM carves a pool into per-node blocks)."""
    net = ipaddress.ip_network(pool)
    blocks = 1 << (size - net.prefixlen)
    if size < net.prefixlen or index >= blocks:
        raise InputError(f"pool {pool} has no room for {index + 1} /{size} blocks")
    return str(ipaddress.ip_network((int(net.network_address) + index * (1 << (32 - size)), size)))


def full_mesh(
    count: int,
    *,
    asn: int = DEFAULT_ASN,
    pool: str = DEFAULT_POOL,
    underlay: str = DEFAULT_UNDERLAY,
    prefix: str = "node",
) -> LabTopology:
    """Calico's default: every node peers with every other node (``Mesh_*`` sessions), one block each."""
    if count < 2:
        raise InputError(f"a lab needs at least 2 nodes, got {count}", Location(field="--nodes"))
    ips = [underlay_address(underlay, i) for i in range(count)]
    names = [f"{prefix}{i + 1:0{len(str(count))}d}" for i in range(count)]
    nodes = tuple(
        LabNode(
            name=names[i],
            router_ip=ips[i],
            asn=asn,
            blocks=(block_for(pool, i),),
            peers=tuple(LabPeer(ips[j], asn, mesh=True, node=names[j]) for j in range(count) if j != i),
        )
        for i in range(count)
    )
    return LabTopology(nodes, pool, underlay, description=f"full mesh of {count} nodes")


def validate_topology(topo: LabTopology, source: str | None = None) -> None:
    """Raise ValidationFailed listing every problem (names, addresses, blocks, sessions)."""
    errors: list[InputError] = []

    def bad(path: str, msg: str) -> None:
        errors.append(InputError(msg, Location(file=source, field=path)))

    try:
        pool = ipaddress.ip_network(topo.pool)
        underlay = ipaddress.ip_network(topo.underlay)
    except ValueError as exc:
        raise InputError(f"bad pool/underlay CIDR: {exc}", Location(file=source)) from exc
    if pool.overlaps(underlay):
        bad("pool", f"pool {pool} overlaps the underlay {underlay}")
    if len(topo.nodes) < 2:
        bad("nodes", "a lab needs at least 2 nodes")
    seen_names: set[str] = set()
    seen_ips: dict[str, str] = {}
    seen_blocks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = []
    for i, node in enumerate(topo.nodes):
        at = f"nodes[{i}]"
        if not _NAME.match(node.name):
            bad(f"{at}.name", f"node name {node.name!r} is not a DNS-1123 name")
        if node.name in seen_names:
            bad(f"{at}.name", f"duplicate node name {node.name!r}")
        seen_names.add(node.name)
        _check_node_addresses(node, at, pool, underlay, seen_ips, seen_blocks, bad)
    ips = {n.router_ip: n for n in topo.nodes}
    for i, node in enumerate(topo.nodes):
        for j, peer in enumerate(node.peers):
            at = f"nodes[{i}].peers[{j}]"
            other = ips.get(peer.ip)
            if other is None:
                bad(at, f"{node.name} peers with {peer.ip}, which is no lab node")
                continue
            if other is node:
                bad(at, f"{node.name} peers with itself")
            if peer.asn != other.asn:
                bad(at, f"{node.name} expects AS {peer.asn} from {other.name}, which uses AS {other.asn}")
            if peer.rr_client and not node.rr_cluster_id:
                bad(at, f"{node.name} treats {other.name} as rr client but has no route-reflector cluster ID")
            if not any(p.ip == node.router_ip for p in other.peers):
                bad(at, f"{node.name} peers with {other.name} but {other.name} has no session back")
        if len({p.ip for p in node.peers}) != len(node.peers):
            bad(f"nodes[{i}].peers", f"{node.name} lists a peer twice")
    if errors:
        raise ValidationFailed(errors)


def _check_node_addresses(
    node: LabNode,
    at: str,
    pool: ipaddress.IPv4Network | ipaddress.IPv6Network,
    underlay: ipaddress.IPv4Network | ipaddress.IPv6Network,
    seen_ips: dict[str, str],
    seen_blocks: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]],
    report: Callable[[str, str], None],
) -> None:
    try:
        ip = ipaddress.ip_address(node.router_ip)
    except ValueError:
        report(f"{at}.routerIP", f"{node.name}: router IP {node.router_ip!r} is not an IP address")
        return
    if ip not in underlay or ip in (underlay.network_address, underlay.broadcast_address):
        report(f"{at}.routerIP", f"{node.name}: router IP {ip} is not a host address of the underlay {underlay}")
    if node.router_ip in seen_ips:
        report(f"{at}.routerIP", f"{node.name}: router IP {ip} is also used by {seen_ips[node.router_ip]}")
    seen_ips[node.router_ip] = node.name
    if node.rr_cluster_id is not None:
        try:
            ipaddress.IPv4Address(node.rr_cluster_id)
        except ValueError:
            report(f"{at}.rrClusterID", f"{node.name}: cluster ID {node.rr_cluster_id!r} is not dotted-quad")
    if not 1 <= node.asn <= 4294967295:
        report(f"{at}.asn", f"{node.name}: AS number {node.asn} is out of range 1..4294967295")
    for k, block in enumerate(node.blocks):
        try:
            net = ipaddress.ip_network(block)
        except ValueError:
            report(f"{at}.blocks[{k}]", f"{node.name}: block {block!r} is not a CIDR")
            continue
        if not net.subnet_of(pool):  # type: ignore[arg-type]
            report(f"{at}.blocks[{k}]", f"{node.name}: block {net} is outside the pool {pool}")
        for other, owner in seen_blocks:
            if net.overlaps(other):
                report(f"{at}.blocks[{k}]", f"{node.name}: block {net} overlaps {other} of {owner}")
        seen_blocks.append((net, node.name))
