"""The lab underlay: one "fabric" namespace holding a bridge, and one namespace per node wired to it by a veth.

Node ``i`` of lab ``L`` lives in ``ct-lab-L-n<i>`` with ``eth0`` carrying its router IP on the underlay subnet;
the fabric side of its veth is ``n<i>`` in ``ct-lab-L-fabric``. Addresses exist only inside these namespaces;
nothing routes out of them. Each block's first address sits on the node's ``lo`` as a stand-in workload, so a
probe between two of them crosses the routes BIRD installed. With many nodes, peers' MACs are pinned as
permanent neighbour entries, because the kernel's neighbour table (shared by all namespaces) starts refusing
entries near 1,024.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from calicotool.errors import InputError, Location
from calicotool.lab import netns as nx
from calicotool.lab.topology import LabTopology

LAB_NAME = re.compile(r"^[a-z0-9]{1,16}$")
STATIC_NEIGHBOURS_FROM = 32  # nodes; below this ARP on the bridge is fine
NODE_IF = "eth0"
BRIDGE = "br0"


@dataclass(frozen=True)
class UnderlayLayout:
    lab: str
    fabric_ns: str
    node_ns: dict[str, str]  # node name -> namespace

    def netns_names(self) -> list[str]:
        return [*self.node_ns.values(), self.fabric_ns]


def check_lab_name(name: str) -> str:
    if not LAB_NAME.match(name):
        raise InputError(f"lab name {name!r} must be 1-16 lowercase letters or digits", Location(field="--name"))
    return name


def lab_prefix(lab: str) -> str:
    """``ct-lab-<name>-``: distinct from ``unique_netns_name`` names, so a sweep never hits a test's namespace."""
    return f"{nx.NETNS_PREFIX}lab-{lab}-"


def workload_ip(block: str) -> str:
    """The first host address of a block: the lab's stand-in workload, on the node's ``lo``."""
    return str(ipaddress.ip_network(block).network_address + 1)


def plan_layout(lab: str, topo: LabTopology) -> UnderlayLayout:
    """Pure: the namespace names a lab will use."""
    prefix = lab_prefix(check_lab_name(lab))
    return UnderlayLayout(lab, prefix + "fabric", {n.name: f"{prefix}n{i}" for i, n in enumerate(topo.nodes)})


def build_underlay(
    lab: str, topo: LabTopology, registry: nx.CleanupRegistry, *, static_neighbours: bool | None = None
) -> UnderlayLayout:
    """Create the fabric and node namespaces and wire them; every step is recorded in ``registry``."""
    layout = plan_layout(lab, topo)
    taken = [ns for ns in layout.netns_names() if nx.netns_exists(ns)]
    if taken:
        raise InputError(f"lab {lab!r} already has namespaces ({', '.join(taken[:3])}); run `lab down` first")
    prefixlen = ipaddress.ip_network(topo.underlay).prefixlen
    nx.create_netns(layout.fabric_ns, registry=registry)
    nx.create_bridge(layout.fabric_ns, BRIDGE)
    for i, node in enumerate(topo.nodes):
        ns = nx.create_netns(layout.node_ns[node.name], registry=registry)
        port = f"n{i}"
        nx.create_veth_pair(layout.fabric_ns, port, ns, NODE_IF)
        nx.enslave(layout.fabric_ns, port, BRIDGE)
        nx.add_address(ns, NODE_IF, f"{node.router_ip}/{prefixlen}")
        for block in node.blocks:  # a stand-in workload per block, so probes cross the BIRD-installed routes
            nx.add_address(ns, "lo", f"{workload_ip(block)}/32")
    if static_neighbours is None:
        static_neighbours = len(topo.nodes) >= STATIC_NEIGHBOURS_FROM
    if static_neighbours:
        pin_peer_neighbours(topo, layout)
    return layout


def pin_peer_neighbours(topo: LabTopology, layout: UnderlayLayout) -> int:
    """Permanent ARP entries for every configured BGP peer (they are exempt from neighbour GC limits)."""
    macs = {n.router_ip: nx.link_mac(layout.node_ns[n.name], NODE_IF) for n in topo.nodes}
    count = 0
    for node in topo.nodes:
        ns = layout.node_ns[node.name]
        with nx.netlink(ns) as ipr:
            index = ipr.link_lookup(ifname=NODE_IF)[0]
            for peer in node.peers:
                if peer.ip in macs:
                    ipr.neigh("replace", dst=peer.ip, lladdr=macs[peer.ip], ifindex=index, state=0x80)
                    count += 1
    return count


def sweep_lab_namespaces(lab: str) -> list[str]:
    """Delete every namespace belonging to lab ``lab`` (whatever state file says); returns what was removed."""
    removed = []
    for ns in nx.list_netns(lab_prefix(check_lab_name(lab))):
        if nx.delete_netns(ns):
            removed.append(ns)
    return removed
