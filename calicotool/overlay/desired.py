"""Datastore state -> the kernel state one node (an enrolled host or a cluster node in the lab) should have.

Pure and table-tested. Mirrors what Felix programs for an overlay: per remote VTEP a permanent neighbour and FDB
entry, per remote block a route via the owner's tunnel address (VXLAN) or node IP (IPIP) with onlink, /32
routes for addresses borrowed outside their block's owner, and blackholes for the node's own blocks.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field

from calicotool.model.resource import Resource
from calicotool.overlay import ipam, vtep
from calicotool.overlay.config import OverlayConfig
from calicotool.overlay.kstate import Address, Fdb, HostState, Link, Neighbour, Route

FORWARDING_SYSCTL = "net/ipv4/ip_forward"


@dataclass(frozen=True)
class NodeInfo:
    """The overlay-relevant facts of one Calico Node."""

    name: str
    node_ip: str | None  # bgp.ipv4Address without prefix
    vxlan_ip: str | None
    vxlan_mac: str
    ipip_ip: str | None


@dataclass(frozen=True)
class BlockInfo:
    cidr: str
    host: str | None
    borrowed: tuple[tuple[str, str], ...] = ()  # (address, node) allocated to a node other than the block's host


@dataclass
class ClusterView:
    nodes: dict[str, NodeInfo] = field(default_factory=dict)
    blocks: list[BlockInfo] = field(default_factory=list)

    def blocks_of(self, node: str) -> list[str]:
        return [b.cidr for b in self.blocks if b.host == node]


@dataclass(frozen=True)
class LocalNode:
    """This node's side: who it is and which underlay interface/address carries its tunnel."""

    name: str
    underlay_if: str
    underlay_ip: str
    underlay_mtu: int
    tunnel_ip: str
    mac: str | None = None  # VXLAN only
    extra_ips: tuple[str, ...] = ()  # e.g. the enrolled host's stable pod-network IP
    forwarding: bool = True

    @property
    def source_ip(self) -> str:
        """Source address for traffic into the overlay: the stable host IP when there is one."""
        return self.extra_ips[0] if self.extra_ips else self.tunnel_ip


def node_info(node: Resource) -> NodeInfo:
    spec = node.spec
    bgp = spec.get("bgp") or {}
    addr = str(bgp.get("ipv4Address") or "").split("/")[0] or None
    mac = spec.get("vxlanTunnelMACAddr") or vtep.vtep_mac(node.name)
    return NodeInfo(node.name, addr, spec.get("ipv4VXLANTunnelAddr") or None, vtep.normalise_mac(mac),
                    bgp.get("ipv4IPIPTunnelAddr") or None)


def block_info(block: Resource) -> BlockInfo:
    spec = block.spec
    host = ipam.affinity_host(spec)
    net = ipam.block_network(spec)
    borrowed = []
    for ordinal, idx in enumerate(spec.get("allocations") or []):
        if idx is None:
            continue
        owner = ((spec.get("attributes") or [])[idx].get("secondary") or {}).get(ipam.ATTR_NODE)
        if owner and owner != host:
            borrowed.append((str(net[ordinal]), owner))
    return BlockInfo(str(net), host, tuple(borrowed))


def cluster_view(nodes: Sequence[Resource], blocks: Sequence[Resource]) -> ClusterView:
    """Index Calico Nodes and IPAMBlocks (deleted ones skipped) for desired-state computation."""
    view = ClusterView()
    for n in nodes:
        view.nodes[n.name] = node_info(n)
    for b in blocks:
        if not b.spec.get("deleted"):
            view.blocks.append(block_info(b))
    view.blocks.sort(key=lambda b: ipaddress.ip_network(b.cidr))
    return view


def _covered(ip: str, cidrs: list[str]) -> bool:
    addr = ipaddress.ip_address(ip)
    return any(addr in ipaddress.ip_network(c) for c in cidrs)


def desired_state(local: LocalNode, view: ClusterView, cfg: OverlayConfig) -> HostState:
    """What `local` should have in its kernel given the cluster view and overlay configuration."""
    state = HostState()
    dev = cfg.device
    mtu = cfg.tunnel_mtu(local.underlay_mtu)
    if cfg.mode == "vxlan":
        state.add(Link(dev, "vxlan", mtu, mac=local.mac or vtep.vtep_mac(local.name), vni=cfg.vni, port=cfg.port,
                       local=local.underlay_ip, parent=local.underlay_if))
    else:
        state.add(Link(dev, "ipip", mtu))
    for ip in (local.tunnel_ip, *local.extra_ips):
        state.add(Address(dev, ip, 32))
    if local.forwarding:
        state.sysctls[FORWARDING_SYSCTL] = "1"
    gateways: dict[str, str] = {}  # node -> next hop
    for node in sorted(view.nodes.values(), key=lambda n: n.name):
        if node.name == local.name or not node.node_ip:
            continue
        if cfg.mode == "vxlan" and node.vxlan_ip:
            state.add(Neighbour(dev, node.vxlan_ip, node.vxlan_mac))
            state.add(Fdb(dev, node.vxlan_mac, node.node_ip))
            gateways[node.name] = node.vxlan_ip
            if not _covered(node.vxlan_ip, view.blocks_of(node.name)):
                state.add(Route(f"{node.vxlan_ip}/32", dev=dev, prefsrc=local.source_ip))
        elif cfg.mode == "ipip":
            gateways[node.name] = node.node_ip
    for block in view.blocks:
        if block.host == local.name:
            state.add(Route(block.cidr, type="blackhole"))
        elif block.host in gateways:
            state.add(Route(block.cidr, gateway=gateways[block.host], dev=dev, onlink=True, prefsrc=local.source_ip))
        for addr, owner in block.borrowed:
            if owner in gateways:
                state.add(Route(f"{addr}/32", gateway=gateways[owner], dev=dev, onlink=True, prefsrc=local.source_ip))
    return state
