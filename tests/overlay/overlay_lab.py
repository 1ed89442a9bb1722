"""A Calico overlay in network namespaces, driven from one datastore: an underlay bridge, "cluster nodes" whose
VTEP state is programmed by calicotool's own desired-state + netlink code (as Felix would), pods as veths with a
/32 and Calico's 169.254.1.1 next hop, and spare namespaces for hosts to enroll. Used by tests and benchmarks."""

from __future__ import annotations

import ipaddress
import itertools
import os
import socket
import struct
import time
from dataclasses import dataclass, field

from calicotool.datastore.base import Store
from calicotool.lab import netns as lab
from calicotool.model.resource import Resource
from calicotool.overlay import ipam
from calicotool.overlay.config import OverlayConfig, overlay_config
from calicotool.overlay.desired import LocalNode, cluster_view, desired_state
from calicotool.overlay.ipamstore import IpamClient
from calicotool.overlay.kstate import diff
from calicotool.overlay.netlink import NetlinkAdapter
from calicotool.overlay.vtep import vtep_mac

POOL_CIDR = "10.244.0.0/16"
UNDERLAY = ipaddress.IPv4Network("192.0.2.0/24")
GATEWAY = "169.254.1.1"
POD_MTU = 1450
_SEQ = itertools.count(1)


@dataclass
class Pod:
    name: str
    ns: str
    ip: str


@dataclass
class Member:
    name: str
    ns: str
    underlay_ip: str
    tunnel_ip: str = ""
    pods: list[Pod] = field(default_factory=list)
    extra_ns: list[str] = field(default_factory=list)


def seed_pool(store: Store, cidr: str = POOL_CIDR, block_size: int = 26, **modes: str) -> None:
    spec = {"cidr": cidr, "blockSize": block_size, "vxlanMode": "Always", "ipipMode": "Never", "natOutgoing": False,
            **modes}
    store.create(Resource.new("IPPool", "default-ipv4-ippool", spec))


class NamespaceLab:
    """The plumbing without a datastore: an underlay bridge, namespaces attached to it, pods behind a node."""

    def __init__(self, registry: lab.CleanupRegistry) -> None:
        self.registry = registry
        self.underlay = lab.create_netns(stem="ul", registry=registry)
        lab.create_bridge(self.underlay, "br0")
        self.members: dict[str, Member] = {}
        self._ports = 0
        self._next_ip = 1

    def attach(self, ns: str, mtu: int = 1500) -> str:
        """Connect `ns` to the underlay bridge; returns its underlay address."""
        self._ports += 1
        port = f"p{self._ports}"
        ip = str(UNDERLAY[self._next_ip])
        self._next_ip += 1
        lab.create_veth_pair(ns, "eth0", self.underlay, port)
        lab.enslave(self.underlay, port, "br0")
        lab.add_address(ns, "eth0", f"{ip}/{UNDERLAY.prefixlen}")
        with lab.netlink(ns) as ipr:
            ipr.link("set", index=ipr.link_lookup(ifname="eth0")[0], mtu=mtu)
        return ip

    def host_netns(self) -> tuple[str, str]:
        """A spare namespace on the underlay for a host to enroll: (netns, underlay ip)."""
        ns = lab.create_netns(stem="host", registry=self.registry)
        return ns, self.attach(ns)

    def _pod(self, member: Member, pod_name: str, ip: str, k: int) -> Pod:
        pod_ns = lab.create_netns(stem="pod", registry=self.registry)
        member.extra_ns.append(pod_ns)
        cali = f"cali{k}"
        lab.create_veth_pair(pod_ns, "eth0", member.ns, cali)
        with lab.netlink(pod_ns) as ipr:
            idx = ipr.link_lookup(ifname="eth0")[0]
            ipr.link("set", index=idx, mtu=POD_MTU)
            ipr.addr("add", index=idx, address=ip, prefixlen=32)
            ipr.route("add", dst=f"{GATEWAY}/32", oif=idx, scope=253)
            ipr.route("add", dst="0.0.0.0/0", gateway=GATEWAY, oif=idx)
        with lab.netlink(member.ns) as ipr:
            idx = ipr.link_lookup(ifname=cali)[0]
            ipr.link("set", index=idx, mtu=POD_MTU)
            ipr.route("add", dst=f"{ip}/32", oif=idx, scope=253)
        lab.add_neighbour(pod_ns, "eth0", GATEWAY, lab.link_mac(member.ns, cali))
        return Pod(pod_name, pod_ns, ip)


class OverlayLab(NamespaceLab):
    def __init__(self, store: Store, registry: lab.CleanupRegistry) -> None:
        super().__init__(registry)
        self.store = store

    @property
    def cfg(self) -> OverlayConfig:
        return overlay_config(self.store.list("IPPool"), self.store.list("FelixConfiguration"), "vxlan")

    def add_node(self, name: str, pods: int = 1) -> Member:
        """A cluster node: Calico Node + tunnel address + pods allocated in the datastore, then its namespaces."""
        ns = lab.create_netns(stem="node", registry=self.registry)
        member = Member(name, ns, self.attach(ns))
        client, cfg = IpamClient(self.store), self.cfg
        tunnel = client.assign(ipam.tunnel_handle(name, "vxlan"), name, {"node": name, "type": ipam.TYPE_VXLAN}, cfg)
        member.tunnel_ip = str(tunnel)
        self.store.create(Resource.new("Node", name, {"bgp": {"ipv4Address": f"{member.underlay_ip}/24"},
                                                     "ipv4VXLANTunnelAddr": str(tunnel),
                                                     "vxlanTunnelMACAddr": vtep_mac(name)}))
        for k in range(pods):
            pod_name = f"{name}-pod{k}"
            ip = client.assign(f"k8s-pod-network.{pod_name}", name,
                               {"node": name, "namespace": "default", "pod": pod_name}, cfg)
            member.pods.append(self._pod(member, pod_name, str(ip), k))
        self.members[name] = member
        return member

    def program(self, member: Member) -> int:
        """Felix's job on a node: make its kernel match the datastore. Returns netlink writes."""
        view = cluster_view(self.store.list("Node"), self.store.list("IPAMBlock"))
        local = LocalNode(member.name, "eth0", member.underlay_ip, 1500, member.tunnel_ip, vtep_mac(member.name))
        want = desired_state(local, view, self.cfg)
        with NetlinkAdapter(member.ns) as nl:
            return nl.apply(diff(nl.read_state(want.sysctls, devices=["vxlan.calico"]), want))

    def program_all(self) -> None:
        for member in self.members.values():
            self.program(member)

    def remove_node(self, name: str) -> None:
        """The node leaves: its pods and tunnel address are released, blocks freed, Node deleted, netns gone."""
        member = self.members.pop(name)
        client = IpamClient(self.store)
        for pod in member.pods:
            client.release(f"k8s-pod-network.{pod.name}")
        client.release(ipam.tunnel_handle(name, "vxlan"))
        client.release_empty_blocks(name)
        self.store.delete("Node", name)
        for ns in [*member.extra_ns, member.ns]:
            lab.delete_netns(ns)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def ping(ns: str, dst: str, *, size: int = 56, dont_fragment: bool = False, src: str | None = None,
         timeout: float = 2.0) -> bool:
    """One ICMP echo from `ns` (in-process raw socket; no ping binary needed). `size` is the payload, as ping -s:
    the IP packet is size + 28 bytes. With `dont_fragment` an oversized packet fails instead of fragmenting."""
    sock = lab.in_netns(ns, lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
    try:
        sock.settimeout(timeout)
        if dont_fragment:
            sock.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO
        if src:
            sock.bind((src, 0))
        ident, seq = os.getpid() & 0xFFFF, next(_SEQ) & 0xFFFF
        payload = bytes(i & 0xFF for i in range(size))
        header = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
        packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), ident, seq) + payload
        try:
            sock.sendto(packet, (dst, 0))
        except OSError:  # EMSGSIZE with DF set, or no route
            return False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, (addr, _) = sock.recvfrom(65535)
            except OSError:
                return False
            ihl = (data[0] & 0x0F) * 4
            rtype, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
            if rtype == 0 and rid == ident and rseq == seq and addr == dst:
                return len(data) - ihl - 8 == size
        return False
    finally:
        sock.close()


def kernel_snapshot(ns: str) -> dict[str, str]:
    """An independent view (iproute2, not calicotool) of everything enrollment could touch. Dynamic ARP entries
    and IPv6 (whose DAD state on the underlay settles on its own; calicotool writes no IPv6) are left out; the
    link list still shows any device left behind."""
    def run(*argv: str) -> str:
        return lab.run_in_netns(ns, list(argv)).stdout

    neigh = "\n".join(line for line in run("ip", "neigh", "show", "nud", "permanent").splitlines())
    return {
        "links": run("ip", "-d", "-o", "link", "show"),
        "addresses": run("ip", "-4", "-o", "addr", "show"),
        "routes": run("ip", "-4", "route", "show", "table", "all"),
        "neigh": neigh,
        "fdb": run("bridge", "fdb", "show"),
        "ip_forward": lab.get_sysctl(ns, "net.ipv4.ip_forward"),
    }


def datastore_snapshot(store: Store) -> dict[str, dict[str, object]]:
    kinds = ["IPPool", "FelixConfiguration", "Node", "HostEndpoint", "IPAMBlock", "BlockAffinity", "IPAMHandle"]
    return {f"{k}/{r.name}": r.content() for k in kinds for r in store.list(k)}
