"""One representative Endpoint per rule-set group, for the evaluator's reachability matrix.

A label group becomes a pod whose labels are derived from the group's selector (and verified to match it); a
nets group becomes an address inside its first CIDR; a hosts group becomes its first HostEndpoint. Pod
addresses come from ranges no nets group covers, so a pod never masquerades as a network-set member.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from calicotool.policy.endpoint import Endpoint, EndpointKind
from calicotool.policy.spec import ANY_NAMESPACE, Group, GroupKind, RuleSet

POD_RANGES = ("100.64.0.0/10", "198.18.0.0/15", "10.250.0.0/16", "172.31.0.0/16")
NS_NAME_LABELS = ("projectcalico.org/name", "kubernetes.io/metadata.name")


def labels_for(selector: str) -> dict[str, str] | None:
    """A small label set the selector matches, or None if none can be derived from its restrictions."""
    from calicotool.selector import SelectorError, parse

    try:
        sel = parse(selector)
    except SelectorError:
        return None
    labels: dict[str, str] = {}
    for key, r in sorted(sel.label_restrictions().items()):
        if r.must_be_absent:
            continue
        if r.one_of is not None:
            if not r.one_of:
                return None
            labels[key] = sorted(r.one_of)[0]
        elif r.must_be_present:
            labels[key] = "x"
    return labels if sel.matches(labels) else None


def _pod_addresses(groups: Iterable[Group]) -> Iterable[str]:
    taken = [ipaddress.ip_network(n) for g in groups for n in g.nets]
    for cidr in POD_RANGES:
        net = ipaddress.ip_network(cidr)
        if any(net.overlaps(t) and t.prefixlen > 0 for t in taken):
            continue
        for host in net.hosts():
            yield str(host)


def _member_address(cidr: str) -> str:
    net = ipaddress.ip_network(cidr)
    if net.prefixlen == 0:
        return "198.51.100.7" if net.version == 4 else "2001:db8::7"
    return str(net.network_address + 1) if net.num_addresses > 2 else str(net.network_address)


def _namespace(group: Group, rs: RuleSet) -> tuple[str, dict[str, str]] | None:
    if group.namespace_selector:
        ns_labels = labels_for(group.namespace_selector)
        if ns_labels is None:
            return None
        name = ns_labels.get(NS_NAME_LABELS[0]) or ns_labels.get(NS_NAME_LABELS[1]) or f"{group.name}-ns"
    else:
        name = rs.namespace if group.namespace in ("", ANY_NAMESPACE) else group.namespace
        ns_labels = {}
    return name, {**ns_labels, NS_NAME_LABELS[0]: name, NS_NAME_LABELS[1]: name}


def representative_endpoints(ruleset: RuleSet) -> list[Endpoint]:
    """One Endpoint per group, sorted by group name; groups whose selector cannot be satisfied are left out."""
    out: list[Endpoint] = []
    addresses = iter(_pod_addresses(ruleset.groups.values()))
    for group in sorted(ruleset.groups.values(), key=lambda g: g.name):
        if group.kind == GroupKind.LABELS:
            labels = labels_for(group.selector)
            ns = _namespace(group, ruleset)
            if labels is None or ns is None:
                continue
            out.append(Endpoint(EndpointKind.POD, f"{group.name}-0", ips=(next(addresses),), namespace=ns[0],
                                labels=labels, namespace_labels=ns[1]))
        elif group.kind == GroupKind.NETS:
            out.append(Endpoint(EndpointKind.NETWORKSET, group.name, ips=(_member_address(group.nets[0]),),
                                namespace=group.namespace, labels=group.member_labels))
        elif group.hosts:
            host = group.hosts[0]
            ips = host.expected_ips or (next(addresses),)
            out.append(Endpoint(EndpointKind.HOST, host.name, ips=tuple(ips), labels=group.member_labels,
                                node=host.node, interface=host.interface))
    return out
