"""Calico Node <-> Kubernetes Node, as Calico's Kubernetes datastore maps them (pure, no I/O).

In a Kubernetes-datastore cluster there is no Calico Node object: each Calico Node *is* the core/v1 Node of the
same name. BGP and tunnel settings live in `projectcalico.org/*` annotations; Calico's own labels and annotations
are JSON in `projectcalico.org/labels` / `projectcalico.org/annotations`, and the Calico Node's labels are those
merged with the Kubernetes Node's labels (Kubernetes wins). `projectcalico.org/kube-labels` on the Calico Node
records which labels were inherited, so writing the Node back never copies them into Calico's own set.
"""

from __future__ import annotations

import copy
import hashlib
import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any

from calicotool.model.kinds import CALICO_V3
from calicotool.model.resource import Resource

A_IPV4 = "projectcalico.org/IPv4Address"
A_IPV6 = "projectcalico.org/IPv6Address"
A_IPIP = "projectcalico.org/IPv4IPIPTunnelAddr"
A_VXLAN4 = "projectcalico.org/IPv4VXLANTunnelAddr"
A_VXLAN6 = "projectcalico.org/IPv6VXLANTunnelAddr"
A_VXLAN_MAC = "projectcalico.org/VXLANTunnelMACAddr"
A_VXLAN_MAC6 = "projectcalico.org/VXLANTunnelMACAddrV6"
A_ASN = "projectcalico.org/ASNumber"
A_RR_CLUSTER = "projectcalico.org/RouteReflectorClusterID"
A_WG4 = "projectcalico.org/IPv4WireguardInterfaceAddr"
A_WG6 = "projectcalico.org/IPv6WireguardInterfaceAddr"
A_WG_KEY = "projectcalico.org/WireguardPublicKey"
A_WG_KEY6 = "projectcalico.org/WireguardPublicKeyV6"
A_LABELS = "projectcalico.org/labels"
A_ANNOTATIONS = "projectcalico.org/annotations"
A_KUBE_LABELS = "projectcalico.org/kube-labels"

_MAC = re.compile(r"^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$")


def _cidr(version: int) -> Callable[[str], bool]:
    def ok(value: str) -> bool:
        try:
            return ipaddress.ip_interface(value).version == version
        except ValueError:
            return False

    return ok


def _ip(version: int) -> Callable[[str], bool]:
    def ok(value: str) -> bool:
        try:
            return ipaddress.ip_address(value).version == version
        except ValueError:
            return False

    return ok


def _mac(value: str) -> bool:
    return bool(_MAC.match(value))


# (annotation, where in the Calico Node spec, validator). Invalid values are ignored on read, as Calico does.
_BGP_FIELDS = (
    (A_IPV4, "ipv4Address", _cidr(4)),
    (A_IPV6, "ipv6Address", _cidr(6)),
    (A_IPIP, "ipv4IPIPTunnelAddr", _ip(4)),
    (A_RR_CLUSTER, "routeReflectorClusterID", _ip(4)),
)
_TOP_FIELDS = (
    (A_VXLAN4, "ipv4VXLANTunnelAddr", _ip(4)),
    (A_VXLAN_MAC, "vxlanTunnelMACAddr", _mac),
    (A_VXLAN6, "ipv6VXLANTunnelAddr", _ip(6)),
    (A_VXLAN_MAC6, "vxlanTunnelMACAddrV6", _mac),
)
_WG_FIELDS = ((A_WG4, "interfaceIPv4Address", _ip(4)), (A_WG6, "interfaceIPv6Address", _ip(6)))
_STATUS_FIELDS = ((A_WG_KEY, "wireguardPublicKey"), (A_WG_KEY6, "wireguardPublicKeyV6"))


def _json_map(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def calico_node_from_kube(node: dict[str, Any]) -> Resource:
    """The Calico Node view of a core/v1 Node object."""
    meta = node.get("metadata") or {}
    ann: dict[str, str] = dict(meta.get("annotations") or {})
    kube_labels: dict[str, str] = dict(meta.get("labels") or {})
    name = str(meta.get("name", ""))

    labels = _json_map(ann.get(A_LABELS))
    labels.update(kube_labels)
    annotations = _json_map(ann.get(A_ANNOTATIONS))
    annotations[A_KUBE_LABELS] = json.dumps(kube_labels, sort_keys=True, separators=(",", ":"))

    out_meta: dict[str, Any] = {"name": name, "labels": labels, "annotations": annotations}
    for key in ("resourceVersion", "creationTimestamp", "uid"):
        if meta.get(key):
            out_meta[key] = meta[key]
    if not labels:
        out_meta.pop("labels")

    spec: dict[str, Any] = {}
    bgp: dict[str, Any] = {field: ann[a] for a, field, ok in _BGP_FIELDS if ann.get(a) and ok(ann[a])}
    asn = ann.get(A_ASN, "")
    if asn:
        try:
            bgp["asNumber"] = _parse_asn(asn)
        except ValueError:
            pass
    if bgp:
        spec["bgp"] = bgp
    spec.update({field: ann[a] for a, field, ok in _TOP_FIELDS if ann.get(a) and ok(ann[a])})
    wireguard = {field: ann[a] for a, field, ok in _WG_FIELDS if ann.get(a) and ok(ann[a])}
    if wireguard:
        spec["wireguard"] = wireguard
    spec["orchRefs"] = [{"nodeName": name, "orchestrator": "k8s"}]
    addresses = [{"address": bgp[f], "type": "CalicoNodeIP"} for f in ("ipv4Address", "ipv6Address") if f in bgp]
    for addr in (node.get("status") or {}).get("addresses") or []:
        if addr.get("type") in ("InternalIP", "ExternalIP"):
            addresses.append({"address": addr.get("address", ""), "type": addr["type"]})
    if addresses:
        spec["addresses"] = addresses

    status: dict[str, Any] = {field: ann[a] for a, field in _STATUS_FIELDS if ann.get(a)}
    pod_cidrs = (node.get("spec") or {}).get("podCIDRs")
    if pod_cidrs:
        status["podCIDRs"] = list(pod_cidrs)
    return Resource(CALICO_V3, "Node", out_meta, spec, status or None)


def _parse_asn(text: str) -> int:
    """AS numbers are plain (`64512`) or dotted (`1.10` = 1*65536+10)."""
    if "." in text:
        high, low = text.split(".", 1)
        value = int(high) * 65536 + int(low)
    else:
        value = int(text)
    if not 0 < value < 2**32:
        raise ValueError(text)
    return value


def _set(ann: dict[str, str], key: str, value: Any) -> None:
    if value not in (None, ""):
        ann[key] = str(value)
    else:
        ann.pop(key, None)


def merge_calico_node_into_kube(res: Resource, node: dict[str, Any]) -> dict[str, Any]:
    """The core/v1 Node to PUT so that it carries `res` (a Calico Node); the Kubernetes labels stay untouched."""
    out = copy.deepcopy(node)
    out.setdefault("apiVersion", "v1")
    out.setdefault("kind", "Node")
    meta = out.setdefault("metadata", {})
    ann: dict[str, str] = dict(meta.get("annotations") or {})

    inherited = _json_map(res.annotations.get(A_KUBE_LABELS))
    calico_labels = {k: v for k, v in res.labels.items() if k not in inherited}
    calico_annotations = {k: v for k, v in res.annotations.items() if k != A_KUBE_LABELS}
    _set(ann, A_LABELS, json.dumps(calico_labels, sort_keys=True, separators=(",", ":")) if calico_labels else None)
    _set(
        ann,
        A_ANNOTATIONS,
        json.dumps(calico_annotations, sort_keys=True, separators=(",", ":")) if calico_annotations else None,
    )

    spec = res.spec
    bgp = spec.get("bgp") or {}
    for a, field, _ in _BGP_FIELDS:
        _set(ann, a, bgp.get(field))
    _set(ann, A_ASN, bgp.get("asNumber"))
    for a, field, _ in _TOP_FIELDS:
        _set(ann, a, spec.get(field))
    wireguard = spec.get("wireguard") or {}
    for a, field, _ in _WG_FIELDS:
        _set(ann, a, wireguard.get(field))
    status = res.status or {}
    for a, field in _STATUS_FIELDS:
        _set(ann, a, status.get(field))

    meta["annotations"] = ann
    if res.resource_version:
        meta["resourceVersion"] = res.resource_version
    meta.pop("managedFields", None)
    return out


def node_fingerprint(node: dict[str, Any]) -> str:
    """A digest of a Node minus what changes without anyone editing it: status (the kubelet's heartbeats) and
    the bookkeeping resourceVersion/managedFields. Equal fingerprints = nobody changed its metadata or spec."""
    meta = {k: v for k, v in (node.get("metadata") or {}).items() if k not in ("resourceVersion", "managedFields")}
    text = json.dumps({"metadata": meta, "spec": node.get("spec") or {}}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()
