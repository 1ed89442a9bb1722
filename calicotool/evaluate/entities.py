"""The label spaces Felix matches selectors against, built for endpoints and (Global)NetworkSets.

Felix sees a pod's own labels plus `projectcalico.org/namespace`, `projectcalico.org/orchestrator` and
`projectcalico.org/serviceaccount`, and its namespace's / service account's labels under the `pcns.` / `pcsa.`
prefixes. Rather than prefixing selectors, we keep three spaces per entity and evaluate each selector part in its
own space: `labels` (endpoint selectors), `ns_labels` (namespaceSelector) and `sa_labels` (serviceAccount
selectors). Non-namespaced things (HostEndpoints, GlobalNetworkSets, plain IPs) have empty ns/sa spaces, which is
exactly what a `pcns.`-prefixed selector sees on them in Calico (so `!has(x)` matches them: a known surprise).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from calicotool.errors import InputError
from calicotool.policy.endpoint import Endpoint, EndpointKind

NS_LABEL = "projectcalico.org/namespace"
ORCH_LABEL = "projectcalico.org/orchestrator"
SA_LABEL = "projectcalico.org/serviceaccount"
NAME_LABEL = "projectcalico.org/name"
K8S_NS_NAME_LABEL = "kubernetes.io/metadata.name"

IPNet = ipaddress.IPv4Network | ipaddress.IPv6Network
IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, eq=False)
class Entity:
    """Something a rule selector can match: an endpoint or a network set (compared by identity)."""

    title: str
    labels: Mapping[str, str]
    ns_labels: Mapping[str, str] = field(default_factory=dict)
    sa_labels: Mapping[str, str] = field(default_factory=dict)
    namespace: str = ""
    nets: tuple[IPNet, ...] = ()
    kind: EndpointKind = EndpointKind.POD

    @property
    def namespaced(self) -> bool:
        return bool(self.namespace)

    def contains(self, ip: IPAddr) -> bool:
        return any(ip.version == n.version and ip in n for n in self.nets)


def namespace_space(namespace: str, labels: Mapping[str, str]) -> dict[str, str]:
    """A namespace's labels as namespaceSelector sees them (Kubernetes and Calico add the name labels)."""
    out = dict(labels)
    out.setdefault(K8S_NS_NAME_LABEL, namespace)
    out[NAME_LABEL] = namespace
    out[NS_LABEL] = namespace  # synthetic: lets `all()` in a namespaceSelector mean "any namespaced thing"
    return out


def service_account_space(name: str, labels: Mapping[str, str]) -> dict[str, str]:
    if not name:
        return {}
    out = dict(labels)
    out[NAME_LABEL] = name
    out[SA_LABEL] = name  # synthetic: `all()` in a serviceAccountSelector means "has a service account"
    return out


def parse_net(text: str, where: str = "") -> IPNet:
    try:
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError as exc:
        raise InputError(f"{where}invalid CIDR or IP {text!r}: {exc}") from None


def parse_ip(text: str, where: str = "") -> IPAddr:
    try:
        return ipaddress.ip_address(str(text).strip().split("/")[0])
    except ValueError as exc:
        raise InputError(f"{where}invalid IP address {text!r}: {exc}") from None


def endpoint_entity(ep: Endpoint, namespace_labels: Mapping[str, Mapping[str, str]] | None = None) -> Entity:
    """Felix's view of an endpoint. Namespace labels come from the endpoint, else from known Namespaces."""
    nets = tuple(parse_net(ip, f"{ep.title}: ") for ip in ep.ips)
    if ep.kind is EndpointKind.IP:
        return Entity(title=ep.title, labels={}, nets=nets, kind=ep.kind)
    labels = dict(ep.labels)
    ns = ep.namespace if ep.kind in (EndpointKind.POD, EndpointKind.NETWORKSET) else ""
    if not ns:
        return Entity(title=ep.title, labels=labels, nets=nets, kind=ep.kind)
    ns_labels = dict(ep.namespace_labels) or dict((namespace_labels or {}).get(ns, {}))
    labels[NS_LABEL] = ns
    sa_space: dict[str, str] = {}
    if ep.kind is EndpointKind.POD:
        labels.setdefault(ORCH_LABEL, "k8s")
        if ep.service_account:
            labels[SA_LABEL] = ep.service_account
            sa_space = service_account_space(ep.service_account, ep.service_account_labels)
    return Entity(
        title=ep.title,
        labels=labels,
        ns_labels=namespace_space(ns, ns_labels),
        sa_labels=sa_space,
        namespace=ns,
        nets=nets,
        kind=ep.kind,
    )


def network_set_entity(
    name: str, namespace: str, labels: Mapping[str, str], nets: list[str], ns_labels: Mapping[str, str] | None = None
) -> Entity:
    title = f"networkset:{namespace}/{name}" if namespace else f"globalnetworkset:{name}"
    parsed = tuple(parse_net(n, f"{title}: ") for n in nets)
    own = dict(labels)
    if namespace:
        own[NS_LABEL] = namespace
        return Entity(title, own, namespace_space(namespace, ns_labels or {}), {}, namespace, parsed,
                      EndpointKind.NETWORKSET)
    return Entity(title, own, {}, {}, "", parsed, EndpointKind.NETWORKSET)


def representative_ip(net: IPNet) -> str:
    """An address inside `net` to stand for a NetworkSet member (the first host address)."""
    if net.num_addresses <= 2:
        return str(net.network_address)
    return str(net.network_address + 1)
