"""Network-namespace primitives for the lab and for kernel tests, through pyroute2 only (no `ip` shell-outs).

Every namespace this module names starts with ``ct-`` so leaks are easy to find and clean. Pass a
:class:`CleanupRegistry` to any creating call and it records the undo step; closing the registry undoes
everything in reverse order, even after a failure. Netlink failures surface as ``HostError``.

API (``ns`` is a namespace name under /run/netns; ``None`` means the caller's own namespace)::

    NETNS_PREFIX = "ct-"
    unique_netns_name(stem="") -> str
    create_netns(name=None, *, stem="", registry=None) -> str        # loopback is brought up
    delete_netns(name) -> bool                                        # idempotent; True if it existed
    netns_exists(name) -> bool;  list_netns(prefix=NETNS_PREFIX) -> list[str]
    netlink(ns) -> IPRoute                                            # context manager bound to ns
    create_veth_pair(ns_a, if_a, ns_b, if_b, *, registry=None) -> VethPair
    create_bridge(ns, name, *, registry=None) -> int;  enslave(ns, ifname, bridge)
    move_link(ifname, src_ns, dst_ns, *, new_name=None);  rename_link(ns, old, new)
    set_link_up(ns, ifname);  set_link_down(ns, ifname);  delete_link(ns, ifname) -> bool
    link_index(ns, ifname) -> int;  link_mac(ns, ifname) -> str;  link_names(ns) -> list[str]
    add_address(ns, ifname, cidr);  add_route(ns, dst, *, gateway=None, ifname=None, kind="unicast")
    add_neighbour(ns, ifname, ip, lladdr, *, permanent=True)
    routes(ns) -> list[RouteEntry];  neighbours(ns) -> list[NeighbourEntry]   # IPv4 main table / ARP table
    set_sysctl(ns, key, value);  get_sysctl(ns, key) -> str           # "net.ipv4.ip_forward" style keys
    in_netns(ns, fn) -> fn()                                          # fn runs on a thread that joined ns
    netns_socket(ns, family=AF_INET, kind=SOCK_STREAM) -> socket      # socket bound to ns for its lifetime
    netns_command(ns, argv) -> list[str];  run_in_netns(ns, argv, ...) -> CompletedProcess
    popen_in_netns(ns, argv, **kw) -> Popen
    CleanupRegistry(): push(fn, *args, what=""), add_netns(name), add_process(popen), close() -> list[str],
                       release()  # keep everything (ownership moves to the caller)
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pyroute2 import netns as _pr_netns

from calicotool.errors import HostError
from calicotool.lab.nlsocket import lookup_index as _index
from calicotool.lab.nlsocket import netlink
from calicotool.lab.nsexec import (
    NETNS_RUN_DIR,
    get_sysctl,
    in_netns,
    netns_command,
    netns_socket,
    popen_in_netns,
    run_in_netns,
    set_sysctl,
    stop_process,
)
from calicotool.lab.nsroutes import (
    NeighbourEntry,
    RouteEntry,
    add_address,
    add_neighbour,
    add_route,
    neighbours,
    routes,
)

__all__ = [
    "NETNS_PREFIX",
    "NETNS_RUN_DIR",
    "CleanupRegistry",
    "RouteEntry",
    "VethPair",
    "add_address",
    "add_neighbour",
    "add_route",
    "create_bridge",
    "create_netns",
    "create_veth_pair",
    "delete_link",
    "delete_netns",
    "enslave",
    "get_sysctl",
    "in_netns",
    "link_index",
    "link_mac",
    "link_names",
    "list_netns",
    "move_link",
    "NeighbourEntry",
    "neighbours",
    "netlink",
    "netns_command",
    "netns_exists",
    "netns_socket",
    "popen_in_netns",
    "rename_link",
    "routes",
    "run_in_netns",
    "set_link_down",
    "set_link_up",
    "set_sysctl",
    "stop_process",
    "unique_netns_name",
]

NETNS_PREFIX = "ct-"


# ---------------------------------------------------------------- cleanup registry


@dataclass
class CleanupRegistry:
    """LIFO undo steps. ``close()`` runs each once, keeps going past failures and returns their messages."""

    _steps: list[tuple[str, Callable[..., Any], tuple[Any, ...]]] = field(default_factory=list)
    netns_created: list[str] = field(default_factory=list)

    def push(self, fn: Callable[..., Any], *args: Any, what: str = "") -> None:
        self._steps.append((what or getattr(fn, "__name__", "cleanup"), fn, args))

    def add_netns(self, name: str) -> None:
        self.netns_created.append(name)
        self.push(delete_netns, name, what=f"delete netns {name}")

    def add_process(self, proc: subprocess.Popen[Any], what: str = "") -> None:
        self.push(stop_process, proc, what=what or f"stop pid {proc.pid}")

    def release(self) -> None:
        """Forget every step: what was created now belongs to the caller (e.g. a lab left running)."""
        self._steps.clear()

    def close(self) -> list[str]:
        errors: list[str] = []
        while self._steps:
            what, fn, args = self._steps.pop()
            try:
                fn(*args)
            except Exception as exc:  # cleanup must go on; report everything at the end
                errors.append(f"{what}: {exc}")
        return errors

    def __enter__(self) -> CleanupRegistry:
        return self

    def __exit__(self, *exc: object) -> None:
        errors = self.close()
        if errors and exc[0] is None:
            raise HostError("cleanup failed: " + "; ".join(errors))


# ---------------------------------------------------------------- namespaces


def unique_netns_name(stem: str = "") -> str:
    stem = stem.strip("-")
    return f"{NETNS_PREFIX}{stem + '-' if stem else ''}{secrets.token_hex(3)}"


def netns_exists(name: str) -> bool:
    return (NETNS_RUN_DIR / name).exists()


def list_netns(prefix: str = NETNS_PREFIX) -> list[str]:
    if not NETNS_RUN_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_RUN_DIR.iterdir() if p.name.startswith(prefix))


def create_netns(name: str | None = None, *, stem: str = "", registry: CleanupRegistry | None = None) -> str:
    """Create a named namespace (fresh ``ct-`` name unless given) with ``lo`` up."""
    name = name or unique_netns_name(stem)
    if not name.startswith(NETNS_PREFIX):
        raise HostError(f"netns {name!r}: calicotool only creates namespaces named {NETNS_PREFIX}*")
    if netns_exists(name):
        raise HostError(f"netns {name!r} already exists")
    try:
        _pr_netns.create(name)
    except OSError as exc:
        raise HostError(f"cannot create netns {name!r}: {exc}") from exc
    if registry is not None:
        registry.add_netns(name)
    set_link_up(name, "lo")
    return name


def delete_netns(name: str) -> bool:
    """Remove a namespace; its veth ends and bridges go with it. Missing is fine."""
    if not netns_exists(name):
        return False
    try:
        _pr_netns.remove(name)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise HostError(f"cannot delete netns {name!r}: {exc}") from exc
    return True


# ---------------------------------------------------------------- links


@dataclass(frozen=True)
class VethPair:
    ns_a: str | None
    if_a: str
    ns_b: str | None
    if_b: str


def _check_ifname(ifname: str) -> None:
    if not ifname or len(ifname) > 15 or "/" in ifname or " " in ifname:
        raise HostError(f"invalid interface name {ifname!r} (1-15 chars, no '/' or spaces)")


def link_index(ns: str | None, ifname: str) -> int:
    with netlink(ns) as ipr:
        return _index(ipr, ns, ifname)


def link_names(ns: str | None) -> list[str]:
    with netlink(ns) as ipr:
        return sorted(str(link.get("ifname")) for link in ipr.get_links())


def link_mac(ns: str | None, ifname: str) -> str:
    with netlink(ns) as ipr:
        link = ipr.get_links(_index(ipr, ns, ifname))[0]
        return str(link.get("IFLA_ADDRESS"))


def create_veth_pair(
    ns_a: str | None, if_a: str, ns_b: str | None, if_b: str, *, registry: CleanupRegistry | None = None
) -> VethPair:
    """A veth with one end in each namespace, both ends up."""
    _check_ifname(if_a)
    _check_ifname(if_b)
    peer: dict[str, Any] = {"ifname": if_b}
    if ns_b != ns_a:
        peer["net_ns_fd"] = ns_b if ns_b is not None else "/proc/1/ns/net"
    with netlink(ns_a) as ipr:
        ipr.link("add", ifname=if_a, kind="veth", peer=peer)
        ipr.link("set", index=_index(ipr, ns_a, if_a), state="up")
    if registry is not None:
        registry.push(delete_link, ns_a, if_a, what=f"delete veth {if_a} in {ns_a}")
    set_link_up(ns_b, if_b)
    return VethPair(ns_a, if_a, ns_b, if_b)


def create_bridge(ns: str | None, name: str, *, registry: CleanupRegistry | None = None) -> int:
    _check_ifname(name)
    with netlink(ns) as ipr:
        ipr.link("add", ifname=name, kind="bridge")
        idx = _index(ipr, ns, name)
        ipr.link("set", index=idx, state="up")
    if registry is not None:
        registry.push(delete_link, ns, name, what=f"delete bridge {name} in {ns}")
    return idx


def enslave(ns: str | None, ifname: str, bridge: str) -> None:
    with netlink(ns) as ipr:
        ipr.link("set", index=_index(ipr, ns, ifname), master=_index(ipr, ns, bridge))


def move_link(ifname: str, src_ns: str | None, dst_ns: str | None, *, new_name: str | None = None) -> None:
    """Move a link to another namespace (renaming it on the way when asked); it arrives down."""
    target = dst_ns if dst_ns is not None else "/proc/1/ns/net"
    fd = os.open(target if target.startswith("/") else str(NETNS_RUN_DIR / target), os.O_RDONLY)
    try:
        with netlink(src_ns) as ipr:
            kwargs: dict[str, Any] = {"net_ns_fd": fd}
            if new_name:
                _check_ifname(new_name)
                kwargs["ifname"] = new_name
            ipr.link("set", index=_index(ipr, src_ns, ifname), **kwargs)
    finally:
        os.close(fd)


def rename_link(ns: str | None, old: str, new: str) -> None:
    _check_ifname(new)
    with netlink(ns) as ipr:
        idx = _index(ipr, ns, old)
        ipr.link("set", index=idx, state="down")
        ipr.link("set", index=idx, ifname=new)


def set_link_up(ns: str | None, ifname: str) -> None:
    with netlink(ns) as ipr:
        ipr.link("set", index=_index(ipr, ns, ifname), state="up")


def set_link_down(ns: str | None, ifname: str) -> None:
    with netlink(ns) as ipr:
        ipr.link("set", index=_index(ipr, ns, ifname), state="down")


def delete_link(ns: str | None, ifname: str) -> bool:
    """Delete a link if it (and its namespace) still exist."""
    if ns is not None and not netns_exists(ns):
        return False
    with netlink(ns) as ipr:
        found = ipr.link_lookup(ifname=ifname)
        if not found:
            return False
        ipr.link("del", index=found[0])
    return True
