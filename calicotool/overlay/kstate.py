"""Kernel state as plain values (links, addresses, routes, neighbours, FDB entries, sysctls) and the pure diff
that turns current state into desired state as an ordered list of KernelOps.

Only objects calicotool owns are ever represented: its tunnel devices, addresses and neighbours on them, and
routes carrying ROUTE_PROTOCOL. So a diff can never delete something it did not create.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Felix programs its routes with protocol 80; calicotool uses its own number so the two never fight over routes
# and `ip route show proto 81` lists exactly what calicotool wrote.
ROUTE_PROTOCOL = 81


@dataclass(frozen=True)
class Link:
    name: str
    kind: str  # "vxlan" | "ipip"
    mtu: int
    mac: str | None = None
    vni: int | None = None
    port: int | None = None
    local: str | None = None
    parent: str | None = None
    learning: bool = False

    def describe(self) -> str:
        if self.kind == "vxlan":
            return (f"link {self.name} type vxlan id {self.vni} dstport {self.port} local {self.local} dev "
                    f"{self.parent} {'learning' if self.learning else 'nolearning'} address {self.mac} mtu {self.mtu}")
        return f"link {self.name} type {self.kind} mtu {self.mtu}"


@dataclass(frozen=True)
class Address:
    dev: str
    ip: str
    prefixlen: int = 32

    def describe(self) -> str:
        return f"address {self.ip}/{self.prefixlen} dev {self.dev}"


@dataclass(frozen=True)
class Route:
    dst: str  # CIDR
    type: str = "unicast"  # "unicast" | "blackhole"
    gateway: str | None = None
    dev: str | None = None
    onlink: bool = False
    prefsrc: str | None = None

    def describe(self) -> str:
        if self.type == "blackhole":
            return f"route blackhole {self.dst} proto {ROUTE_PROTOCOL}"
        via = f" via {self.gateway}" if self.gateway else ""
        src = f" src {self.prefsrc}" if self.prefsrc else ""
        return f"route {self.dst}{via} dev {self.dev}{' onlink' if self.onlink else ''}{src} proto {ROUTE_PROTOCOL}"


@dataclass(frozen=True)
class Neighbour:
    dev: str
    ip: str
    mac: str

    def describe(self) -> str:
        return f"neighbour {self.ip} lladdr {self.mac} dev {self.dev} permanent"


@dataclass(frozen=True)
class Fdb:
    dev: str
    mac: str
    dst: str

    def describe(self) -> str:
        return f"fdb {self.mac} dst {self.dst} dev {self.dev} self permanent"


@dataclass(frozen=True)
class Sysctl:
    key: str  # slash form, e.g. net/ipv4/ip_forward (device names may contain dots)
    value: str

    def describe(self) -> str:
        return f"sysctl {self.key.replace('/', '.')}={self.value}"


KernelObject = Link | Address | Route | Neighbour | Fdb | Sysctl


@dataclass
class HostState:
    """A set of calicotool-owned kernel objects (what is there, or what should be there)."""

    links: dict[str, Link] = field(default_factory=dict)
    addresses: set[Address] = field(default_factory=set)
    routes: dict[str, Route] = field(default_factory=dict)  # by dst
    neighbours: dict[tuple[str, str], Neighbour] = field(default_factory=dict)  # by (dev, ip)
    fdb: dict[tuple[str, str], Fdb] = field(default_factory=dict)  # by (dev, mac)
    sysctls: dict[str, str] = field(default_factory=dict)

    def add(self, obj: KernelObject) -> None:
        if isinstance(obj, Link):
            self.links[obj.name] = obj
        elif isinstance(obj, Address):
            self.addresses.add(obj)
        elif isinstance(obj, Route):
            self.routes[obj.dst] = obj
        elif isinstance(obj, Neighbour):
            self.neighbours[(obj.dev, obj.ip)] = obj
        elif isinstance(obj, Fdb):
            self.fdb[(obj.dev, obj.mac)] = obj
        else:
            self.sysctls[obj.key] = obj.value

    def counts(self) -> dict[str, int]:
        return {"links": len(self.links), "addresses": len(self.addresses), "routes": len(self.routes),
                "neighbours": len(self.neighbours), "fdb": len(self.fdb)}


@dataclass(frozen=True)
class KernelOp:
    action: str  # "add" | "del" | "replace" | "set"
    obj: KernelObject

    def describe(self) -> str:
        return f"{self.action} {self.obj.describe()}"


def _on_removed_links(state: HostState, gone: set[str]) -> HostState:
    """What survives of `state` once the links in `gone` are deleted (the kernel drops everything on them)."""
    out = HostState(links={n: lk for n, lk in state.links.items() if n not in gone}, sysctls=dict(state.sysctls))
    out.addresses = {a for a in state.addresses if a.dev not in gone}
    out.routes = {k: r for k, r in state.routes.items() if r.dev not in gone}
    out.neighbours = {k: n for k, n in state.neighbours.items() if n.dev not in gone}
    out.fdb = {k: f for k, f in state.fdb.items() if f.dev not in gone}
    return out


def _immutable(link: Link) -> tuple[object, ...]:
    return (link.kind, link.vni, link.port, link.local, link.parent, link.learning)


def diff(current: HostState, desired: HostState) -> list[KernelOp]:
    """Ordered ops turning `current` into `desired`: removals first (routes before what they depend on), then
    links, addresses, neighbours, FDB, routes, sysctls. Links whose fixed attributes changed are recreated."""
    ops: list[KernelOp] = []
    recreate = {n for n, lk in current.links.items() if n in desired.links and _immutable(lk) != _immutable(desired.links[n])}
    removed = {n for n in current.links if n not in desired.links}
    for route in sorted(current.routes.values(), key=lambda r: r.dst):
        if route.dst not in desired.routes and route.dev not in removed | recreate:
            ops.append(KernelOp("del", route))
    for key in sorted(current.fdb):
        if key not in desired.fdb and key[0] not in removed | recreate:
            ops.append(KernelOp("del", current.fdb[key]))
    for key in sorted(current.neighbours):
        if key not in desired.neighbours and key[0] not in removed | recreate:
            ops.append(KernelOp("del", current.neighbours[key]))
    for addr in sorted(current.addresses - desired.addresses, key=lambda a: (a.dev, a.ip)):
        if addr.dev not in removed | recreate:
            ops.append(KernelOp("del", addr))
    for name in sorted(removed | recreate):
        ops.append(KernelOp("del", current.links[name]))
    base = _on_removed_links(current, removed | recreate)
    for name in sorted(desired.links):
        link = desired.links[name]
        if name not in base.links:
            ops.append(KernelOp("add", link))
        elif base.links[name] != link:
            ops.append(KernelOp("set", link))
    for addr in sorted(desired.addresses - base.addresses, key=lambda a: (a.dev, a.ip)):
        ops.append(KernelOp("add", addr))
    for key in sorted(desired.neighbours):
        if base.neighbours.get(key) != desired.neighbours[key]:
            ops.append(KernelOp("replace" if key in base.neighbours else "add", desired.neighbours[key]))
    for key in sorted(desired.fdb):
        if base.fdb.get(key) != desired.fdb[key]:
            ops.append(KernelOp("replace" if key in base.fdb else "add", desired.fdb[key]))
    for dst in sorted(desired.routes):
        if base.routes.get(dst) != desired.routes[dst]:
            ops.append(KernelOp("replace" if dst in base.routes else "add", desired.routes[dst]))
    for name in sorted(desired.sysctls):
        if current.sysctls.get(name) != desired.sysctls[name]:
            ops.append(KernelOp("set", Sysctl(name, desired.sysctls[name])))
    return ops
