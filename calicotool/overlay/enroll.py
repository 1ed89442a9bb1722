"""EnrollmentTxn: put a non-Kubernetes host into the Calico overlay, all or nothing.

Order: validate the host side (interface, address) and read the cluster config before any write; then, under a
per-host datastore lock, assign addresses (CAS), write the Node and HostEndpoint, and program the kernel. Any
failure undoes the kernel back to the snapshot taken first and the datastore writes in reverse. Re-running with
the same arguments finds nothing to change and says so.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from calicotool.datastore.base import Op, Store
from calicotool.errors import CalicotoolError, InputError, Location, NotFound
from calicotool.model.checks import check_labels
from calicotool.model.resource import Resource
from calicotool.overlay import ipam, records
from calicotool.overlay.config import OverlayConfig, overlay_config
from calicotool.overlay.desired import FORWARDING_SYSCTL, LocalNode, cluster_view, desired_state
from calicotool.overlay.hostnodes import HostNodes
from calicotool.overlay.ipamstore import IpamClient
from calicotool.overlay.kstate import Fdb, HostState, KernelOp, Neighbour, Route, diff
from calicotool.overlay.netlink import NetlinkAdapter, Underlay, require_root
from calicotool.overlay.txnstore import TxnStore
from calicotool.overlay.vtep import vtep_mac

AdapterFactory = Callable[[str | None], NetlinkAdapter]
# progress(phase, done, total): told each phase (datastore claim, reading the cluster, kernel programming with
# ops done/total); total 0 means no count. Optional everywhere; None costs nothing.
Progress = Callable[[str, int, int], None]
KERNEL_CHUNK = 64  # kernel ops applied per netlink batch when someone is watching progress
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LOCK_TTL_S = 60.0
LOCK_WAIT_S = 30.0


@dataclass(frozen=True)
class EnrollRequest:
    name: str
    address: str  # UNDERLAY_IP/PREFIX
    interface: str | None = None
    mode: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    netns: str | None = None
    pool: str | None = None
    dry_run: bool = False
    forwarding: bool = True


@dataclass
class EnrollResult:
    name: str
    mode: str
    device: str
    underlay: str
    interface: str
    tunnel_ip: str
    host_ip: str
    mac: str | None
    datastore_writes: list[str] = field(default_factory=list)
    kernel_ops: list[str] = field(default_factory=list)
    netlink_writes: int = 0
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return bool(self.datastore_writes or self.kernel_ops)


def parse_labels(items: list[str]) -> tuple[tuple[str, str], ...]:
    out: dict[str, str] = {}
    for item in items:
        for part in (p for p in item.split(",") if p):
            key, sep, value = part.partition("=")
            if not sep or not key:
                raise InputError(f"bad label {part!r}: expected key=value", Location(field="--labels"))
            out[key.strip()] = value.strip()
    for _, problem in check_labels({"labels": out}):  # Kubernetes label syntax, before anything is written
        raise InputError(problem, Location(field="--labels"))
    return tuple(sorted(out.items()))


def check_name(name: str) -> None:
    if len(name) > 253 or not _NAME.match(name):
        raise InputError(f"host name {name!r} is not a DNS-1123 subdomain (lower-case letters, digits, '-', '.')",
                         Location(field="NAME"))


def parse_address(address: str) -> ipaddress.IPv4Interface:
    try:
        iface = ipaddress.ip_interface(address)
    except ValueError:
        raise InputError(f"bad --address {address!r}: expected UNDERLAY_IP/PREFIX, e.g. 192.0.2.10/24",
                         Location(field="--address")) from None
    if not isinstance(iface, ipaddress.IPv4Interface) or "/" not in address:
        raise InputError(f"bad --address {address!r}: expected an IPv4 UNDERLAY_IP/PREFIX", Location(field="--address"))
    return iface


def resolve_underlay(nl: NetlinkAdapter, address: ipaddress.IPv4Interface, interface: str | None) -> Underlay:
    """The interface carrying `address`; InputError when it is unknown or does not hold the address."""
    ip, prefix = str(address.ip), address.network.prefixlen
    if interface is None:
        holders = nl.interfaces_with(ip)
        if not holders:
            where = f" in netns {nl.netns}" if nl.netns else ""
            raise InputError(f"address {ip} is not configured on any interface{where}", Location(field="--address"))
        interface = holders[0]
    underlay = nl.underlay(interface)
    if (ip, prefix) not in underlay.addresses:
        have = ", ".join(f"{a}/{p}" for a, p in underlay.addresses) or "no IPv4 address"
        raise InputError(f"address {address} is not on interface {interface} (it has {have})",
                         Location(field="--address"))
    return underlay


def local_node(e: records.Enrollment, underlay: Underlay) -> LocalNode:
    return LocalNode(e.name, underlay.name, e.underlay_ip, underlay.mtu, e.tunnel_ip, e.mac,
                     extra_ips=(e.host_ip,) if e.host_ip != e.tunnel_ip else (), forwarding=e.forwarding)


def desired_for(store: Store, e: records.Enrollment, underlay: Underlay, cfg: OverlayConfig) -> HostState:
    view = cluster_view(store.list("Node"), store.list("IPAMBlock"))
    return desired_state(local_node(e, underlay), view, cfg)


def kernel_phase(ops: list[KernelOp]) -> str:
    """'programming kernel: 3 routes, 3 neighbours, 3 FDB entries, 2 other' (only the kinds present)."""
    kinds = {"routes": Route, "neighbours": Neighbour, "FDB entries": Fdb}
    counts = {label: sum(1 for o in ops if isinstance(o.obj, cls)) for label, cls in kinds.items()}
    other = len(ops) - sum(counts.values())
    parts = [f"{n} {label}" for label, n in counts.items() if n] + ([f"{other} other"] if other else [])
    return "programming kernel: " + (", ".join(parts) or "nothing to change")


def apply_ops(nl: NetlinkAdapter, ops: list[KernelOp], progress: Progress | None = None) -> int:
    """`nl.apply(ops)`; with `progress`, in chunks of KERNEL_CHUNK, telling ops done/total after each."""
    if progress is None:
        return nl.apply(ops)
    phase, writes = kernel_phase(ops), 0
    progress(phase, 0, len(ops))
    for start in range(0, len(ops), KERNEL_CHUNK):
        chunk = ops[start:start + KERNEL_CHUNK]
        writes += nl.apply(chunk)
        progress(phase, start + len(chunk), len(ops))
    return writes


def upsert(store: Store, wanted: Resource) -> None:
    """Create `wanted`, or update it (CAS) when its content differs; leave it alone when equal."""
    try:
        current = store.get(wanted.info.name, wanted.name)
    except NotFound:
        store.create(wanted)
        return
    if not current.same_content(wanted):
        store.update(wanted.with_resource_version(current.resource_version))


def upsert_node(store: Store, nodes: HostNodes, e: records.Enrollment) -> None:
    """Create the host's Node, or update calicotool's part of it (CAS) when that differs."""
    current = nodes.find(store, e.name)
    wanted = nodes.wanted(current, e)
    if current is None:
        store.create(wanted)
    elif not current.same_content(wanted):
        store.update(wanted.with_resource_version(current.resource_version))


def preflight(store: Store, req: EnrollRequest, address: ipaddress.IPv4Interface, mode: str) -> Resource | None:
    """Refuse names that belong to something else; returns the host's existing Node (re-enroll) or None."""
    nodes = HostNodes(store)
    node = nodes.find(store, req.name)
    if node is not None:
        if not nodes.is_host(node):
            owner = "a kubelet registered it?" if nodes.kube else "a cluster node?"
            raise InputError(f"Node {req.name} exists and was not enrolled by calicotool ({owner}): pick another name",
                             Location(field="NAME"))
        old = nodes.read(node)
        if old.underlay != str(address):
            raise InputError(f"host {req.name} is already enrolled from {old.underlay}; run `calicotool host "
                             f"unenroll {req.name}` on that host first, or pick another name", Location(field="NAME"))
        if old.netns is not None and old.netns != (req.netns or ""):
            where = f"network namespace {old.netns!r}" if old.netns else "the root network namespace"
            raise InputError(f"host {req.name} is enrolled in {where}: unenroll it there first, or pick another name",
                             Location(field="--netns"))
        if old.mode != mode:
            raise InputError(f"host {req.name} is enrolled in {old.mode} mode, not {mode}: unenroll first",
                             Location(field="--mode"))
    try:
        hep = store.get("HostEndpoint", req.name)
        if not hep.managed:
            raise InputError(f"HostEndpoint {req.name} exists and is not managed by calicotool", Location(field="NAME"))
    except NotFound:
        pass
    return node


class EnrollmentTxn:
    """One enrollment: datastore and kernel steps, undone together on failure."""

    def __init__(self, store: Store, nl: NetlinkAdapter, req: EnrollRequest, cfg: OverlayConfig, underlay: Underlay,
                 progress: Progress | None = None):
        self.txn = TxnStore(store, dry_run=req.dry_run)
        self.ipam = IpamClient(self.txn)
        self.nl, self.req, self.cfg, self.underlay = nl, req, cfg, underlay
        self.kernel_before: HostState | None = None
        self.progress = progress

    def _tell(self, phase: str, done: int = 0, total: int = 0) -> None:
        if self.progress is not None:
            self.progress(phase, done, total)

    def _claim_addresses(self, kube: bool) -> tuple[ipaddress.IPv4Address, ipaddress.IPv4Address]:
        """(tunnel, host) addresses under Calico's handle names. On Kubernetes the host address first:
        calico-kube-controllers' IPAM GC never releases an allocation of a type it does not know, and while one
        sits in a node's blocks it releases neither the blocks nor the node's tunnel address, even in the moment
        before the placeholder Node exists."""
        name, mode = self.req.name, self.cfg.mode
        tunnel_type = ipam.TYPE_VXLAN if mode == "vxlan" else ipam.TYPE_IPIP
        claims = {"tunnel": (ipam.tunnel_handle(name, mode), tunnel_type), "host": (ipam.host_handle(name), ipam.TYPE_HOST)}
        got = {}
        for what in ("host", "tunnel") if kube else ("tunnel", "host"):
            handle, kind = claims[what]
            got[what] = self.ipam.assign(handle, name, {ipam.ATTR_NODE: name, ipam.ATTR_TYPE: kind}, self.cfg)
        return got["tunnel"], got["host"]

    def run(self, existing: Resource | None) -> EnrollResult:
        req, cfg = self.req, self.cfg
        self._tell("reading the kernel")
        self.kernel_before = self.nl.read_state([FORWARDING_SYSCTL], devices=[cfg.device])
        try:
            self._tell("datastore claim: tunnel and host addresses, Node, HostEndpoint")
            nodes = HostNodes(self.txn)
            tunnel, host = self._claim_addresses(nodes.kube)
            old = nodes.read(existing) if existing is not None else None
            sysctls = old.sysctls_before if old else tuple(sorted(self.kernel_before.sysctls.items()))
            if not req.forwarding and old is None:
                sysctls = ()  # calicotool never sets them, so it has nothing to restore
            mac = (old.mac if old and old.mac else vtep_mac(req.name)) if cfg.mode == "vxlan" else None
            e = records.Enrollment(req.name, req.address, self.underlay.name, cfg.mode, cfg.pool_name, str(tunnel),
                                   str(host), mac, req.labels, sysctls, req.forwarding, req.netns or "")
            upsert_node(self.txn, nodes, e)
            upsert(self.txn, records.host_endpoint_resource(e))
            self._tell("reading remote nodes and blocks")
            desired = desired_for(self.txn, e, self.underlay, cfg)
            ops = diff(self.kernel_before, desired)
            writes = 0 if req.dry_run else apply_ops(self.nl, ops, self.progress)
        except BaseException as exc:
            if not req.dry_run:
                problems = self.rollback()
                if problems and isinstance(exc, CalicotoolError):
                    exc.message += "; rollback incomplete: " + "; ".join(problems)
            raise
        return EnrollResult(req.name, cfg.mode, cfg.device, req.address, self.underlay.name, str(tunnel), str(host),
                            mac, [w.describe() for w in self.txn.journal], [o.describe() for o in ops], writes,
                            req.dry_run)

    def rollback(self) -> list[str]:
        """Undo the kernel to its snapshot, then the datastore writes; returns what could not be undone."""
        problems: list[str] = []
        if self.kernel_before is not None:
            try:
                now = self.nl.read_state(self.kernel_before.sysctls, devices=[self.cfg.device])
                self.nl.apply(diff(now, self.kernel_before))
            except CalicotoolError as exc:
                problems.append(f"kernel: {exc}")
        inner = self.txn.inner
        for write in reversed(self.txn.journal):
            if write.key.kind not in ("Node", "KubernetesNode", "HostEndpoint"):
                continue
            try:
                if write.op == Op.CREATE and write.after is not None:
                    inner.delete(write.key.kind, write.key.name, resource_version=write.after.resource_version)
                elif write.op == Op.UPDATE and write.before is not None and write.after is not None:
                    inner.update(write.before.with_resource_version(write.after.resource_version))
            except CalicotoolError as exc:
                problems.append(f"{write.key}: {exc}")
        client = IpamClient(inner)
        try:
            for handle in reversed(self.ipam.journal.assigned_handles):
                client.release(handle, self.req.name)
            client.release_empty_blocks(self.req.name, only=self.ipam.journal.claimed_blocks)
        except CalicotoolError as exc:
            problems.append(f"IPAM: {exc}")
        return problems


def enroll(store: Store, req: EnrollRequest, adapter: AdapterFactory = NetlinkAdapter,
           warn: Callable[[str], None] = lambda _m: None, progress: Progress | None = None) -> EnrollResult:
    """Enroll (or re-enroll) a host. Raises InputError / DatastoreError / HostError; leaves nothing half-done."""
    check_name(req.name)
    address = parse_address(req.address)
    if not req.dry_run:
        require_root()
    with adapter(req.netns) as nl:
        underlay = resolve_underlay(nl, address, req.interface)
        if progress is not None:
            progress("reading the cluster config", 0, 0)
        cfg = overlay_config(store.list("IPPool"), store.list("FelixConfiguration"), req.mode, req.pool)
        if progress is not None:
            progress(f"datastore claim: locking host {req.name}", 0, 0)
        with store.lock(f"calicotool-host-{req.name}", ttl_seconds=LOCK_TTL_S, wait_seconds=LOCK_WAIT_S):
            existing = preflight(store, req, address, cfg.mode)
            return EnrollmentTxn(store, nl, req, cfg, underlay, progress).run(existing)
