"""Parsing what a user types to name a flow: endpoint SPECs and `443/TCP` port specs. Pure; bad input raises
InputError naming the option."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from calicotool.errors import InputError
from calicotool.evaluate.entities import parse_ip
from calicotool.evaluate.inventory import Inventory
from calicotool.evaluate.model import Flow
from calicotool.evaluate.rules import ICMP_PROTOCOLS, PORT_PROTOCOLS, protocol_name, protocol_number
from calicotool.evaluate.workloads import Workloads
from calicotool.policy.endpoint import Endpoint, EndpointKind

SPEC_HELP = (
    "NAMESPACE/NAME (a pod of the cluster: --manifests or --datastore) | pod:NAMESPACE/NAME[:k=v,k=v][@IP] | "
    "GROUP (a group of the rule set) | host:NAME (HostEndpoint) | ip:ADDRESS | "
    "networkset:NAMESPACE/NAME | globalnetworkset:NAME"
)


SOURCE_OPTIONS = ("--src", "from")  # options naming only the source of a flow


@dataclass(frozen=True)
class PortSpec:
    protocol: int
    port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None

    def __str__(self) -> str:
        if self.port is not None:
            return f"{self.port}/{protocol_name(self.protocol)}"
        if self.icmp_type is not None:
            code = f"/{self.icmp_code}" if self.icmp_code is not None else ""
            return f"{protocol_name(self.protocol)}:{self.icmp_type}{code}"
        return protocol_name(self.protocol)


def parse_port_spec(text: str, option: str = "--port") -> PortSpec:
    """`443/TCP`, `443` (TCP), `53/UDP`, `ICMP`, `ICMP:8` (type), `ICMP:3/4` (type/code), `ICMPv6:128`, `SCTP`,
    `/47` (a protocol by number, no port)."""
    raw = text.strip()
    try:
        if raw.startswith("/"):  # a protocol without a port, e.g. /47
            return PortSpec(protocol_number(raw[1:]))
        if raw and raw[0].isdigit():
            port_text, _, proto_text = raw.partition("/")
            proto = protocol_number(proto_text or "TCP")
            if proto not in PORT_PROTOCOLS:
                raise InputError(f"{protocol_name(proto)} has no ports")
            port = int(port_text)
            if not 0 <= port <= 65535:
                raise InputError(f"port {port} out of range 0-65535")
            return PortSpec(proto, port)
        proto_text, _, icmp = raw.partition(":")
        proto = protocol_number(proto_text)
        if not icmp:
            return PortSpec(proto)
        if proto not in ICMP_PROTOCOLS:
            raise InputError("only ICMP and ICMPv6 take a type")
        type_text, _, code_text = icmp.partition("/")
        icmp_type, icmp_code = int(type_text), int(code_text) if code_text else None
        if not 0 <= icmp_type <= 254:  # Calico's range: 255 is reserved
            raise InputError(f"ICMP type {icmp_type} out of range 0-254")
        if icmp_code is not None and not 0 <= icmp_code <= 255:
            raise InputError(f"ICMP code {icmp_code} out of range 0-255")
        return PortSpec(proto, None, icmp_type, icmp_code)
    except InputError as exc:
        raise InputError(f"{option} {text!r}: {exc.message}") from None
    except ValueError:
        raise InputError(f"{option} {text!r}: expected PORT[/PROTOCOL] or PROTOCOL[:TYPE[/CODE]]") from None


def _labels(text: str, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in filter(None, text.split(",")):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{option}: expected k=v labels, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


def parse_endpoint_spec(
    text: str,
    inventory: Inventory,
    groups: Callable[[], Sequence[Endpoint]] | None = None,
    option: str = "--src",
    workloads: Workloads | None = None,
    notes: list[str] | None = None,
) -> Endpoint:
    """Resolve a SPEC against the loaded resources (hosts, network sets), the cluster's endpoints (`NS/NAME`
    is that pod) and the rule set's groups. An `ip:` that a known pod owns resolves to the pod; one that is a
    HostEndpoint's expected IP resolves to the HostEndpoint as a destination (`--dst`, `to`, `--endpoint`:
    packets addressed to the host meet its ingress policy and failsafes) and stays an address as a source,
    whose rules still see the host's labels (forwarded traffic need not leave through the host's egress
    policy). Either way `notes` says so."""
    raw = text.strip()
    kind, sep, rest = raw.partition(":")
    live = workloads.find(raw) if workloads is not None and "/" in raw else None
    if live is not None and not sep:
        return live
    if not sep or kind not in ("pod", "host", "ip", "networkset", "globalnetworkset"):
        return _group(raw, groups, option, workloads)
    if kind == "ip":
        parse_ip(rest, f"{option} {text!r}: ")
        plain = Endpoint(EndpointKind.IP, rest, ips=(rest,))
        return _owner_of_ip(rest, inventory, workloads, option, notes) or plain
    if kind == "host":
        ep = inventory.hosts.get(rest)
        if ep is None:
            known = ", ".join(sorted(inventory.hosts)) or "none loaded"
            raise InputError(f"{option} {text!r}: no HostEndpoint named {rest!r} (known: {known})")
        return ep
    if kind in ("networkset", "globalnetworkset"):
        ns, slash, name = rest.rpartition("/")
        if kind == "globalnetworkset" or not slash:
            ns = ""
        found = inventory.network_set_endpoint(ns, name)
        if found is None:
            what = f"NetworkSet {ns}/{name}" if ns else f"GlobalNetworkSet {name}"
            raise InputError(f"{option} {text!r}: no {what} in the loaded resources")
        return found
    ip = ""
    if "@" in rest:
        rest, _, ip = rest.rpartition("@")
        parse_ip(ip, f"{option} {text!r}: ")
    ident, _, label_text = rest.partition(":")
    ns, slash, name = ident.partition("/")
    if not slash or not ns or not name:
        raise InputError(f"{option} {text!r}: expected pod:NAMESPACE/NAME[:k=v,...][@IP]")
    found = workloads.find(ident) if workloads is not None else None
    if found is not None and not label_text and not ip:
        return found  # the cluster's pod, with the labels Calico derives for it
    return Endpoint(EndpointKind.POD, name, ips=(ip,) if ip else (), namespace=ns, labels=_labels(label_text, option))


def _owner_of_ip(ip: str, inventory: Inventory, workloads: Workloads | None, option: str,
                 notes: list[str] | None) -> Endpoint | None:
    addr = parse_ip(ip)
    for host in sorted(inventory.hosts.values(), key=lambda h: h.name):
        if any(parse_ip(x) == addr for x in host.ips):
            if option in SOURCE_OPTIONS:
                if notes is not None:
                    notes.append(f"{option} ip:{ip} is an expected IP of HostEndpoint {host.name}: evaluated as an "
                                 f"address its rules see as {host.name}; give host:{host.name} for traffic the host "
                                 f"itself sends (its egress policy applies)")
                return None
            if notes is not None:
                notes.append(f"{option} ip:{ip} is an expected IP of HostEndpoint {host.name}: evaluated as "
                             f"host:{host.name} (its ingress policy and failsafes apply)")
            return host
    owner = workloads.owner_of(ip) if workloads is not None else None
    if owner is not None and notes is not None:
        notes.append(f"{option} ip:{ip} is the address of pod {owner.namespace}/{owner.name}: evaluated as that pod")
    return owner


def _group(name: str, groups: Callable[[], Sequence[Endpoint]] | None, option: str,
           workloads: Workloads | None = None) -> Endpoint:
    if groups is None:
        if workloads:
            raise InputError(f"{option} {name!r}: no pod or workload endpoint NAMESPACE/NAME of that name in the "
                             f"cluster, and not a SPEC ({SPEC_HELP})")
        raise InputError(f"{option} {name!r}: not a SPEC ({SPEC_HELP}); group names need --policies")
    candidates = list(groups())
    for ep in candidates:
        if name in (ep.name, ep.title, group_name(ep)):
            return ep
    hosts = [ep for ep in candidates if ep.kind is EndpointKind.HOST and ep.name.startswith(name + "-")]
    if len(hosts) == 1:
        return hosts[0]
    known = ", ".join(sorted(group_name(ep) for ep in candidates)) or "none"
    raise InputError(f"{option} {name!r}: no group of that name in the rule set (groups: {known})")


def flow_for(src: Endpoint, dst: Endpoint, spec: PortSpec, src_port: int | None = None) -> Flow:
    return Flow(src, dst, spec.protocol, spec.port, src_port, spec.icmp_type, spec.icmp_code)


def checked_flow(src: Endpoint, dst: Endpoint, spec: PortSpec, src_port: int | None = None) -> Flow:
    """flow_for for one flow a user asked about: refuses one no packet could take (an IPv4 source to an
    IPv6-only destination) and an out-of-range source port."""
    if src_port is not None and not 0 <= src_port <= 65535:
        raise InputError(f"--src-port {src_port} out of range 0-65535")
    src_families = {ipaddress.ip_network(ip, strict=False).version for ip in src.ips}
    dst_families = {ipaddress.ip_network(ip, strict=False).version for ip in dst.ips}
    if src_families and dst_families and not src_families & dst_families:
        raise InputError(f"--src {display_name(src)} is IPv{min(src_families)} and --dst {display_name(dst)} is "
                         f"IPv{min(dst_families)}: a flow stays within one IP version")
    families = src_families | dst_families
    wrong_icmp = {1: 6, 58: 4}.get(spec.protocol)  # ICMP is IPv4's, ICMPv6 is IPv6's
    if wrong_icmp is not None and families == {wrong_icmp}:
        raise InputError(f"--port {protocol_name(spec.protocol)} cannot flow between IPv{wrong_icmp} addresses; "
                         f"use {'ICMPv6' if spec.protocol == 1 else 'ICMP'}")
    return flow_for(src, dst, spec, src_port)


def group_name(ep: Endpoint) -> str:
    """The rule-set group a representative endpoint stands for (pods are named `<group>-0`)."""
    if ep.kind is EndpointKind.POD and ep.name.endswith("-0"):
        return ep.name[:-2]
    return ep.name


def display_name(ep: Endpoint) -> str:
    """Short name for tables: the group name for pods and network sets, `namespace/name` for the cluster's own
    pods, `kind:name` for hosts and IPs."""
    if ep.live:
        return f"{ep.namespace}/{ep.name}"
    return group_name(ep) if ep.kind in (EndpointKind.POD, EndpointKind.NETWORKSET) else ep.title
