"""The one module that touches the kernel: reads calicotool-owned state and applies KernelOps via pyroute2.

It only ever reads or writes the tunnel devices calicotool manages, addresses/neighbours/FDB entries on them,
routes with ROUTE_PROTOCOL, and the sysctls a desired state names. Every write is counted (`writes`).
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from calicotool.errors import HostError, InputError
from calicotool.overlay import nlrequests as rq
from calicotool.overlay.kstate import ROUTE_PROTOCOL, Address, Fdb, HostState, KernelOp, Link, Neighbour, Route, Sysctl
from calicotool.overlay.vtep import IPIP_DEVICE, VXLAN_DEVICE

OWNED_LINKS = (VXLAN_DEVICE, IPIP_DEVICE)
NETNS_DIR = Path("/run/netns")
CLONE_NEWNET = 0x40000000
T = TypeVar("T")


@dataclass(frozen=True)
class Underlay:
    """The interface a host's tunnel rides on."""

    name: str
    index: int
    mtu: int
    addresses: tuple[tuple[str, int], ...]  # (ip, prefixlen), IPv4


def require_root() -> None:
    if os.geteuid() != 0:
        raise HostError("programming the kernel needs root (CAP_NET_ADMIN): re-run with sudo, or use --dry-run")


def in_netns(netns: str | None, fn: Callable[[], T]) -> T:
    """Run `fn` in a short-lived thread that has joined `netns` (for /proc/sys/net), leaving this thread alone."""
    if netns is None:
        return fn()
    box: dict[str, Any] = {}

    def runner() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            with open(NETNS_DIR / netns) as fd:
                if libc.setns(fd.fileno(), CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns({netns})")
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=runner, name=f"netns-{netns}")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def _sysctl_path(key: str) -> Path:
    return Path("/proc/sys") / key


class NetlinkAdapter:
    """pyroute2 in the host's namespace or in `netns`. Use as a context manager."""

    def __init__(self, netns: str | None = None) -> None:
        if netns is not None and not (NETNS_DIR / netns).exists():
            raise InputError(f"no network namespace {netns!r} (expected {NETNS_DIR / netns})")
        self.netns = netns
        self.writes = 0
        self.sysctl_writes = 0
        self._indexes: dict[str, int] = {}  # valid within one apply(); links calicotool adds/deletes reset it
        try:
            self.ipr = IPRoute(netns=netns, flags=0) if netns else IPRoute()  # flags=0: never create it
        except (OSError, NetlinkError) as exc:
            raise HostError(f"cannot open netlink{self._where()}: {exc}") from exc

    def _where(self) -> str:
        return f" in netns {self.netns}" if self.netns else ""

    def __enter__(self) -> NetlinkAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.ipr.close()

    # -- reading ------------------------------------------------------------------------------------------------
    def names(self) -> dict[int, str]:
        return {m["index"]: m.get("IFLA_IFNAME") for m in self.ipr.get_links()}

    def index(self, name: str) -> int:
        if name in self._indexes:
            return self._indexes[name]
        found = self.ipr.link_lookup(ifname=name)
        if not found:
            raise HostError(f"no interface {name!r}{self._where()}")
        self._indexes[name] = int(found[0])
        return self._indexes[name]

    def underlay(self, name: str) -> Underlay:
        found = self.ipr.link_lookup(ifname=name)
        if not found:
            raise InputError(f"unknown interface {name!r}{self._where()} (see `ip link`)", None)
        msg = self.ipr.get_links(found[0])[0]
        addrs = tuple((a.get("IFA_ADDRESS"), a["prefixlen"]) for a in self.ipr.get_addr(family=socket.AF_INET, index=found[0]))
        return Underlay(name, int(found[0]), int(msg.get("IFLA_MTU")), addrs)

    def interfaces_with(self, ip: str) -> list[str]:
        names = self.names()
        return sorted(names.get(a["index"], "?") for a in self.ipr.get_addr(family=socket.AF_INET)
                      if a.get("IFA_ADDRESS") == ip)

    def read_sysctls(self, keys: Iterable[str]) -> dict[str, str]:
        keys = list(keys)

        def read() -> dict[str, str]:
            return {k: _sysctl_path(k).read_text().strip() for k in keys if _sysctl_path(k).exists()}

        return in_netns(self.netns, read)

    def read_state(self, sysctl_keys: Iterable[str] = (), devices: Iterable[str] = OWNED_LINKS) -> HostState:
        """Everything calicotool owns in this namespace: `devices` (a subset of OWNED_LINKS) and what is on them,
        routes with ROUTE_PROTOCOL, and the values of `sysctl_keys`."""
        state = HostState()
        name_of = self.names()
        for name in devices:
            if name not in OWNED_LINKS:
                raise ValueError(f"{name} is not a device calicotool manages")
            for idx in self.ipr.link_lookup(ifname=name):
                link = rq.parse_link(self.ipr.get_links(idx)[0], name_of)
                if link is None:
                    continue
                state.add(link)
                for a in self.ipr.get_addr(family=socket.AF_INET, index=idx):
                    state.add(Address(name, a.get("IFA_ADDRESS"), a["prefixlen"]))
                for n in self.ipr.neigh("dump", ifindex=idx, family=socket.AF_INET):
                    if (neigh := rq.parse_neigh(n, name)) is not None:
                        state.add(neigh)
                if link.kind == "vxlan":
                    for f in self.ipr.fdb("dump", ifindex=idx):
                        if f["ifindex"] == idx and (fdb := rq.parse_fdb(f, name)) is not None:
                            state.add(fdb)
        for msg in self.ipr.route("dump", family=socket.AF_INET, proto=ROUTE_PROTOCOL, table=rq.RT_TABLE_MAIN):
            if msg["proto"] == ROUTE_PROTOCOL and (route := rq.parse_route(msg, name_of)) is not None:
                state.add(route)
        state.sysctls = self.read_sysctls(sysctl_keys)
        return state

    # -- writing ------------------------------------------------------------------------------------------------
    def apply(self, ops: Iterable[KernelOp]) -> int:
        """Apply ops in order; raises HostError naming the op that failed. Returns the number of writes made."""
        before = self.writes + self.sysctl_writes
        self._indexes.clear()
        for op in ops:
            try:
                self._apply_one(op)
            except NetlinkError as exc:
                msg = os.strerror(exc.code) if exc.code else str(exc)
                if exc.code == errno.EOPNOTSUPP and isinstance(op.obj, Link):
                    msg += f"; the kernel has no {op.obj.kind} support (modprobe {op.obj.kind})"
                raise HostError(f"netlink{self._where()}: {op.describe()}: {msg} (errno {exc.code})") from exc
            except OSError as exc:
                raise HostError(f"{op.describe()}{self._where()}: {exc}") from exc
        return self.writes + self.sysctl_writes - before

    def _write(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.writes += 1
        fn(*args, **kwargs)

    def _apply_one(self, op: KernelOp) -> None:
        obj, action = op.obj, op.action
        if isinstance(obj, Sysctl):
            self._set_sysctl(obj)
        elif isinstance(obj, Link):
            self._apply_link(action, obj)
        elif isinstance(obj, Address):
            self._write(self.ipr.addr, "add" if action != "del" else "del", **rq.addr_request(obj, self.index))
        elif isinstance(obj, Route):
            req = rq.route_key_request(obj) if action == "del" else rq.route_request(obj, self.index)
            self._write(self.ipr.route, action, **req)
        elif isinstance(obj, Neighbour):
            self._write(self.ipr.neigh, action, **rq.neigh_request(obj, self.index))
        elif isinstance(obj, Fdb):
            self._write(self.ipr.fdb, action, **rq.fdb_request(obj, self.index))

    def _apply_link(self, action: str, link: Link) -> None:
        if action == "del":
            self._write(self.ipr.link, "del", index=self.index(link.name))
            self._indexes.pop(link.name, None)
            return
        self._indexes.pop(link.name, None)
        if action == "add":
            try:
                self._write(self.ipr.link, "add", **rq.link_add(link, self.index))
            except NetlinkError as exc:
                # tunl0 is the ipip module's fallback device: it exists as soon as the module is loaded.
                if not (exc.code == errno.EEXIST and link.kind == "ipip"):
                    raise
        self._write(self.ipr.link, "set", **rq.link_set(link, self.index(link.name)))

    def _set_sysctl(self, sysctl: Sysctl) -> None:
        self.sysctl_writes += 1
        in_netns(self.netns, lambda: _sysctl_path(sysctl.key).write_text(sysctl.value + "\n"))
