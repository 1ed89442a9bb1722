"""Normalising kernel objects to pyroute2 request arguments and netlink messages back to kernel objects.

Pure (no sockets) so the requests, including IPIP's which this kernel cannot execute, are table-tested.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from typing import Any

from calicotool.overlay.kstate import ROUTE_PROTOCOL, Address, Fdb, Link, Neighbour, Route

NUD_PERMANENT = 0x80
NTF_SELF = 0x02
RTNH_F_ONLINK = 0x04
RT_TABLE_MAIN = 254
RTN_UNICAST = 1
RTN_BLACKHOLE = 6
_ROUTE_TYPES = {RTN_UNICAST: "unicast", RTN_BLACKHOLE: "blackhole"}

Index = Callable[[str], int]


def link_add(link: Link, index: Index) -> dict[str, Any]:
    """Arguments for `IPRoute.link("add", ...)`."""
    req: dict[str, Any] = {"ifname": link.name, "kind": link.kind, "mtu": link.mtu}
    if link.kind == "vxlan":
        assert link.parent is not None and link.local is not None
        req.update(vxlan_id=link.vni, vxlan_port=link.port, vxlan_learning=int(link.learning),
                   vxlan_link=index(link.parent), vxlan_local=link.local, address=link.mac)
    return req


def link_set(link: Link, ifindex: int) -> dict[str, Any]:
    """Arguments for `IPRoute.link("set", ...)`: the mutable attributes, device up."""
    req: dict[str, Any] = {"index": ifindex, "mtu": link.mtu, "state": "up"}
    if link.mac:
        req["address"] = link.mac
    return req


def addr_request(addr: Address, index: Index) -> dict[str, Any]:
    return {"index": index(addr.dev), "address": addr.ip, "prefixlen": addr.prefixlen}


def route_request(route: Route, index: Index) -> dict[str, Any]:
    req: dict[str, Any] = {"dst": route.dst, "proto": ROUTE_PROTOCOL, "table": RT_TABLE_MAIN, "family": socket.AF_INET}
    if route.type == "blackhole":
        req["type"] = "blackhole"
        return req
    req["type"] = "unicast"
    if route.dev:
        req["oif"] = index(route.dev)
    if route.gateway:
        req["gateway"] = route.gateway
    if route.onlink:
        req["flags"] = RTNH_F_ONLINK
    if route.prefsrc:
        req["prefsrc"] = route.prefsrc
    if not route.gateway:
        req["scope"] = 253  # link
    return req


def route_key_request(route: Route) -> dict[str, Any]:
    """Enough to delete exactly this route (ours, in the main table)."""
    return {"dst": route.dst, "proto": ROUTE_PROTOCOL, "table": RT_TABLE_MAIN, "family": socket.AF_INET,
            "type": route.type}


def neigh_request(neigh: Neighbour, index: Index) -> dict[str, Any]:
    return {"dst": neigh.ip, "lladdr": neigh.mac, "ifindex": index(neigh.dev), "state": NUD_PERMANENT,
            "family": socket.AF_INET}


def fdb_request(fdb: Fdb, index: Index) -> dict[str, Any]:
    return {"ifindex": index(fdb.dev), "lladdr": fdb.mac, "dst": fdb.dst, "state": NUD_PERMANENT, "flags": NTF_SELF}


# -- parsing ----------------------------------------------------------------------------------------------------
def parse_link(msg: Any, name_of: Mapping[int, str]) -> Link | None:
    """A link message -> Link, or None when it is not a kind calicotool manages."""
    kind = msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_KIND")
    name = msg.get("IFLA_IFNAME")
    mtu = int(msg.get("IFLA_MTU") or 0)
    if kind == "vxlan":
        data = msg.get_nested("IFLA_LINKINFO", "IFLA_INFO_DATA")
        parent = data.get("IFLA_VXLAN_LINK")
        return Link(name, "vxlan", mtu, mac=str(msg.get("IFLA_ADDRESS")).lower(), vni=data.get("IFLA_VXLAN_ID"),
                    port=data.get("IFLA_VXLAN_PORT"), local=data.get("IFLA_VXLAN_LOCAL"),
                    parent=name_of.get(parent) if parent else None, learning=bool(data.get("IFLA_VXLAN_LEARNING")))
    if kind == "ipip":
        return Link(name, "ipip", mtu)
    return None


def parse_route(msg: Any, name_of: Mapping[int, str]) -> Route | None:
    rtype = _ROUTE_TYPES.get(msg["type"])
    if rtype is None or msg.get("RTA_TABLE", msg["table"]) != RT_TABLE_MAIN:
        return None
    dst = f"{msg.get('RTA_DST') or '0.0.0.0'}/{msg['dst_len']}"
    if rtype == "blackhole":
        return Route(dst, type="blackhole")
    oif = msg.get("RTA_OIF")
    return Route(dst, gateway=msg.get("RTA_GATEWAY"), dev=name_of.get(oif) if oif else None,
                 onlink=bool(msg["flags"] & RTNH_F_ONLINK), prefsrc=msg.get("RTA_PREFSRC"))


def parse_neigh(msg: Any, dev: str) -> Neighbour | None:
    if not msg["state"] & NUD_PERMANENT or msg.get("NDA_LLADDR") is None:
        return None
    return Neighbour(dev, msg.get("NDA_DST"), str(msg.get("NDA_LLADDR")).lower())


def parse_fdb(msg: Any, dev: str) -> Fdb | None:
    if not msg["state"] & NUD_PERMANENT or not msg["flags"] & NTF_SELF or not msg.get("NDA_DST"):
        return None
    return Fdb(dev, str(msg.get("NDA_LLADDR")).lower(), msg.get("NDA_DST"))
