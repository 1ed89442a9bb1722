"""Addresses, routes and neighbours inside a namespace (IPv4 main table / ARP table), through pyroute2.
Re-exported by :mod:`calicotool.lab.netns`; ``ns`` None means the caller's own namespace."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from calicotool.lab.nlsocket import lookup_index, netlink

_RT_PROTO = {2: "kernel", 3: "boot", 4: "static", 12: "bird"}
_RT_TYPE = {1: "unicast", 6: "blackhole", 7: "unreachable", 8: "prohibit"}
_RT_TYPE_BY_NAME = {v: k for k, v in _RT_TYPE.items()}


@dataclass(frozen=True)
class RouteEntry:
    dst: str
    gateway: str | None
    ifname: str | None
    proto: str
    type: str


def add_address(ns: str | None, ifname: str, cidr: str) -> None:
    iface = ipaddress.ip_interface(cidr)
    with netlink(ns) as ipr:
        ipr.addr("add", index=lookup_index(ipr, ns, ifname), address=str(iface.ip), prefixlen=iface.network.prefixlen)


def add_route(ns: str | None, dst: str, *, gateway: str | None = None, ifname: str | None = None, kind: str = "unicast") -> None:
    net = ipaddress.ip_network(dst)
    spec: dict[str, Any] = {"dst": str(net.network_address), "dst_len": net.prefixlen, "type": _RT_TYPE_BY_NAME[kind]}
    if gateway:
        spec["gateway"] = gateway
    with netlink(ns) as ipr:
        if ifname:
            spec["oif"] = lookup_index(ipr, ns, ifname)
        ipr.route("add", **spec)


def add_neighbour(ns: str | None, ifname: str, ip: str, lladdr: str, *, permanent: bool = True) -> None:
    """A static ARP entry. Permanent entries skip neighbour GC, whose table the namespaces share."""
    with netlink(ns) as ipr:
        state = 0x80 if permanent else 0x40  # NUD_PERMANENT / NUD_NOARP
        ipr.neigh("replace", dst=ip, lladdr=lladdr, ifindex=lookup_index(ipr, ns, ifname), state=state)


@dataclass(frozen=True)
class NeighbourEntry:
    ip: str
    lladdr: str | None
    ifname: str | None
    permanent: bool


def neighbours(ns: str | None) -> list[NeighbourEntry]:
    """The IPv4 neighbour (ARP) table of ``ns``."""
    with netlink(ns) as ipr:
        names = {link["index"]: link.get("ifname") for link in ipr.get_links()}
        return [
            NeighbourEntry(n.get("NDA_DST"), n.get("NDA_LLADDR"), names.get(n["ifindex"]), bool(n["state"] & 0x80))
            for n in ipr.get_neighbours(family=2)
        ]


def routes(ns: str | None) -> list[RouteEntry]:
    """The IPv4 main routing table of ``ns``."""
    out: list[RouteEntry] = []
    with netlink(ns) as ipr:
        names = {link["index"]: link.get("ifname") for link in ipr.get_links()}
        for r in ipr.get_routes(family=2, table=254):
            dst = r.get("RTA_DST") or "0.0.0.0"
            gateway = r.get("RTA_GATEWAY")
            if gateway is None and r.get("RTA_MULTIPATH"):
                gateway = r.get("RTA_MULTIPATH")[0].get("RTA_GATEWAY")
            out.append(
                RouteEntry(
                    dst=f"{dst}/{r['dst_len']}",
                    gateway=gateway,
                    ifname=names.get(r.get("RTA_OIF")),
                    proto=_RT_PROTO.get(r["proto"], str(r["proto"])),
                    type=_RT_TYPE.get(r["type"], str(r["type"])),
                )
            )
    return out
