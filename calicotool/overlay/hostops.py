"""After enrollment: `sync` (kernel catches up with the datastore), `status` (drift), `unenroll`, `list`.

The Node's annotations say how the host was enrolled (interface, mode, pool, sysctls before), so these
operations need only the host's name.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from calicotool.datastore.base import Store
from calicotool.errors import CalicotoolError, HostError, InputError, Location, NotFound
from calicotool.model.resource import Resource
from calicotool.overlay import ipam, records
from calicotool.overlay.config import OverlayConfig, overlay_config
from calicotool.overlay.desired import FORWARDING_SYSCTL
from calicotool.overlay.enroll import (
    LOCK_TTL_S,
    LOCK_WAIT_S,
    AdapterFactory,
    Progress,
    apply_ops,
    desired_for,
    parse_address,
    resolve_underlay,
)
from calicotool.overlay.hostnodes import HostNodes
from calicotool.overlay.ipamstore import IpamClient
from calicotool.overlay.kstate import HostState, diff
from calicotool.overlay.netlink import NetlinkAdapter, Underlay, require_root


@dataclass
class SyncResult:
    name: str
    kernel_ops: list[str] = field(default_factory=list)
    netlink_writes: int = 0
    dry_run: bool = False


@dataclass
class StatusReport:
    name: str
    enrollment: records.Enrollment
    datastore_problems: list[str] = field(default_factory=list)
    kernel_drift: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    controllers: list[str] = field(default_factory=list)  # Kubernetes datastore: who else acts on the Node

    @property
    def drift(self) -> bool:
        return bool(self.datastore_problems or self.kernel_drift)


@dataclass
class UnenrollResult:
    name: str
    kernel_ops: list[str] = field(default_factory=list)
    released: int = 0
    freed_blocks: list[str] = field(default_factory=list)
    datastore_writes: list[str] = field(default_factory=list)


def load_enrollment(store: Store, name: str) -> tuple[Resource, records.Enrollment]:
    nodes = HostNodes(store)
    try:
        node = nodes.get(store, name)
    except NotFound:
        raise InputError(f"host {name} is not enrolled (no Node {name} in the datastore)", Location(field="NAME")) from None
    if not nodes.is_host(node):
        raise InputError(f"Node {name} was not enrolled by calicotool: refusing to touch it", Location(field="NAME"))
    try:
        return node, nodes.read(node)
    except (KeyError, ValueError) as exc:
        raise InputError(f"Node {name} lacks calicotool's enrollment annotations ({exc})", Location(field="NAME")) from None


def recorded_netns(e: records.Enrollment, netns: str | None) -> str | None:
    """The namespace to act in: the one enroll recorded. An explicit `--netns` must agree with it; hosts enrolled
    before the namespace was recorded fall back to the option."""
    if e.netns is None:
        return netns
    if netns is not None and netns != e.netns:
        where = f"network namespace {e.netns!r}" if e.netns else "the root network namespace"
        raise InputError(f"host {e.name} was enrolled in {where}, not {netns!r}: drop --netns (the enrollment "
                         "remembers it)", Location(field="--netns"))
    return e.netns or None


def check_host_facts(nl: NetlinkAdapter, e: records.Enrollment) -> Underlay:
    """Enroll's check again: the recorded underlay address is still on the recorded interface. Refuses (exit 4)
    when it is not, so a command run on the wrong machine or namespace never programs a tunnel there."""
    try:
        return resolve_underlay(nl, parse_address(e.underlay), e.interface)
    except InputError as exc:
        where = f" in netns {nl.netns}" if nl.netns else " in the root network namespace"
        raise HostError(f"host {e.name} was enrolled with {e.underlay} on {e.interface}, but here{where}: "
                        f"{exc.message}; refusing to act (wrong host or namespace?)") from None


def _config(store: Store, e: records.Enrollment) -> OverlayConfig:
    return overlay_config(store.list("IPPool"), store.list("FelixConfiguration"), e.mode, e.pool or None)


def _plan(store: Store, nl: NetlinkAdapter, e: records.Enrollment) -> tuple[HostState, HostState, OverlayConfig]:
    cfg = _config(store, e)
    underlay = check_host_facts(nl, e)
    current = nl.read_state([FORWARDING_SYSCTL], devices=[cfg.device])
    desired = desired_for(store, e, underlay, cfg)
    return current, desired, cfg


def sync(store: Store, name: str, netns: str | None = None, adapter: AdapterFactory = NetlinkAdapter,
         dry_run: bool = False, progress: Progress | None = None) -> SyncResult:
    """Bring the kernel in line with the datastore (remote nodes and blocks), writing only the difference.
    `progress` hears the phases: reading the datastore and the kernel, then kernel ops done/total."""
    _, e = load_enrollment(store, name)
    netns = recorded_netns(e, netns)
    if not dry_run:
        require_root()
    with adapter(netns) as nl:
        if progress is not None:
            progress("reading remote nodes, blocks and the kernel", 0, 0)
        current, desired, _ = _plan(store, nl, e)
        ops = diff(current, desired)
        writes = 0 if dry_run else apply_ops(nl, ops, progress)
    return SyncResult(name, [o.describe() for o in ops], writes, dry_run)


def _datastore_problems(store: Store, e: records.Enrollment) -> list[str]:
    problems = []
    client = IpamClient(store)
    for handle, ip in ((ipam.tunnel_handle(e.name, e.mode), e.tunnel_ip), (ipam.host_handle(e.name), e.host_ip)):
        held = [str(a) for a in client.addresses(handle)]
        if ip not in held:
            problems.append(f"IPAM handle {handle} does not hold {ip} (holds {', '.join(held) or 'nothing'})")
    try:
        hep = store.get("HostEndpoint", e.name)
        if hep.spec != records.host_endpoint_resource(e).spec:
            problems.append(f"HostEndpoint {e.name} differs from the enrollment")
    except NotFound:
        problems.append(f"HostEndpoint {e.name} is missing")
    return problems


def status(store: Store, name: str, netns: str | None = None, adapter: AdapterFactory = NetlinkAdapter) -> StatusReport:
    """Compare the datastore's view of the host with its kernel; `.drift` is True when they disagree."""
    node, e = load_enrollment(store, name)
    netns = recorded_netns(e, netns)
    report = StatusReport(name, e, _datastore_problems(store, e))
    if HostNodes(store).kube:
        from calicotool.overlay import kubeguard, kubehost

        report.datastore_problems += kubehost.missing_guards(node)
        report.controllers = kubeguard.controller_report(store, node)
    with adapter(netns) as nl:
        current, desired, _ = _plan(store, nl, e)
        report.kernel_drift = [o.describe() for o in diff(current, desired)]
        report.counts = current.counts()
    return report


def unenroll(store: Store, name: str, netns: str | None = None, adapter: AdapterFactory = NetlinkAdapter,
             force: bool = False, environ: Mapping[str, str] | None = None) -> UnenrollResult:
    """Remove everything enrollment created: kernel objects (sysctls restored), addresses, blocks, Node, HEP, and
    (given `environ`) the resolver drop-in `host dns --apply` installed. Refuses when this host's facts no longer
    match the enrollment; `force` then removes only the datastore side."""
    node, e = load_enrollment(store, name)
    netns = recorded_netns(e, netns)
    if not force:
        require_root()
    result = UnenrollResult(name)
    with store.lock(f"calicotool-host-{name}", ttl_seconds=LOCK_TTL_S, wait_seconds=LOCK_WAIT_S):
        try:
            with adapter(netns) as nl:
                check_host_facts(nl, e)
                result.kernel_ops = _strip_kernel(nl, e)
            if environ is not None:
                from calicotool.overlay import resolver

                removed = resolver.remove(environ)
                result.kernel_ops += [removed] if removed else []
        except (HostError, InputError) as exc:
            if not force:
                if isinstance(exc, HostError):
                    exc.message += "; `--force` removes only the datastore records"
                raise
            result.kernel_ops = [f"left alone: {exc.message}"]
        result.datastore_writes = _forget(store, node, e, result)
    return result


def _strip_kernel(nl: NetlinkAdapter, e: records.Enrollment) -> list[str]:
    device = "vxlan.calico" if e.mode == "vxlan" else "tunl0"
    before = dict(e.sysctls_before)
    current = nl.read_state(before, devices=[device])
    target = HostState(sysctls=before)
    if e.mode == "ipip" and device in current.links:
        target.links[device] = current.links[device]  # tunl0 belongs to the ipip module: strip it, keep it
    ops = diff(current, target)
    nl.apply(ops)
    return [o.describe() for o in ops]


def _forget(store: Store, node: Resource, e: records.Enrollment, result: UnenrollResult) -> list[str]:
    client = IpamClient(store)
    writes = []
    try:
        hep = store.get("HostEndpoint", e.name)
        if hep.managed:
            store.delete("HostEndpoint", e.name, resource_version=hep.resource_version)
            writes.append(f"delete HostEndpoint/{e.name}")
    except NotFound:
        pass
    for handle in (ipam.tunnel_handle(e.name, e.mode), ipam.host_handle(e.name)):
        result.released += client.release(handle, e.name)
    result.freed_blocks = client.release_empty_blocks(e.name)
    writes += [f"release {result.released} addresses"] + [f"free block {c}" for c in result.freed_blocks]
    nodes = HostNodes(store)
    if nodes.kube:
        from calicotool.overlay import kubedns

        dns_namespace = node.annotations.get(kubedns.A_DNS_NAMESPACE)
        if dns_namespace:
            writes += kubedns.remove(store.api, e.name, dns_namespace)  # type: ignore[attr-defined]
            node = nodes.get(store, e.name)
    store.delete(nodes.kind, e.name, resource_version=node.resource_version)
    writes.append(f"delete Node/{e.name}")
    return writes


def apply_dns(store: Store, hosts: list[records.Enrollment], namespace: str) -> list[str]:
    """`host dns --apply`: the hosts' Service + EndpointSlice through the cluster's API (Kubernetes datastore)."""
    if not HostNodes(store).kube:
        raise InputError("--apply writes a Service and EndpointSlice through the Kubernetes API: it needs "
                         "--datastore kubernetes (print them with --format kubernetes otherwise)", Location(field="--apply"))
    from calicotool.overlay import kubedns

    writes: list[str] = []
    for host in hosts:
        with store.lock(f"calicotool-host-{host.name}", ttl_seconds=LOCK_TTL_S, wait_seconds=LOCK_WAIT_S):
            writes += kubedns.apply(store, host, namespace)
    return writes


def list_hosts(store: Store) -> list[records.Enrollment]:
    out = []
    nodes = HostNodes(store)
    for node in nodes.list(store):
        if nodes.is_host(node):
            try:
                out.append(nodes.read(node))
            except (KeyError, ValueError):
                continue
    return sorted(out, key=lambda e: (ipaddress.ip_address(e.underlay_ip), e.name))


__all__ = ["CalicotoolError", "StatusReport", "SyncResult", "UnenrollResult", "list_hosts", "load_enrollment",
           "status", "sync", "unenroll"]
