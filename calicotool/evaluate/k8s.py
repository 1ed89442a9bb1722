"""Kubernetes `networking.k8s.io/v1` NetworkPolicies as the Calico NetworkPolicies Felix enforces for them.

Calico (libcalico-go `lib/backend/k8s/conversion`, K8sNetworkPolicyToCalico) turns each one into a namespaced
Calico NetworkPolicy named `knp.default.<name>` in tier `default` with order 1000:
- selector: `projectcalico.org/orchestrator == 'k8s'` ANDed with the podSelector (matchLabels in key order, then
  matchExpressions In / NotIn / Exists / DoesNotExist), so it never selects host endpoints;
- types: from policyTypes; none given means Ingress only (the API server has already defaulted them; for manifests
  we apply its defaulting first: Ingress, plus Egress when the policy has egress rules);
- rules: one Allow rule per (protocol, peer); a peer's podSelector becomes the rule selector (same namespace
  unless a namespaceSelector is given; `namespaceSelector: {}` is `all()`), ipBlock becomes nets / notNets, ports
  are grouped by protocol (TCP when unspecified; endPort makes a range; names stay named ports). No peers means
  any source/destination, no ports means any protocol.
A selected pod with no matching rule is denied by the default tier's end-of-tier Deny. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from calicotool.errors import InputError
from calicotool.model.kinds import CALICO_V3, K8S_NETWORKING_V1
from calicotool.model.resource import Resource

KNP_PREFIX = "knp.default."
KNP_ORDER = 1000.0
ORCHESTRATOR_K8S = "projectcalico.org/orchestrator == 'k8s'"


def is_k8s_network_policy(res: Resource) -> bool:
    return res.api_version == K8S_NETWORKING_V1 and res.kind == "NetworkPolicy"


def default_policy_types(spec: dict[str, Any]) -> list[str]:
    """The API server's defaulting of an absent policyTypes: Ingress, plus Egress when egress rules exist."""
    if spec.get("policyTypes"):
        return [str(t) for t in spec["policyTypes"]]
    return ["Ingress", "Egress"] if spec.get("egress") else ["Ingress"]


def label_selector_to_calico(sel: dict[str, Any] | None, where: str, pod: bool) -> str:
    """A Kubernetes LabelSelector as a Calico selector. Pod selectors gain the orchestrator term; an empty
    namespace selector means every namespace (`all()`); an absent one is the empty string (same namespace)."""
    terms = [ORCHESTRATOR_K8S] if pod else []
    if sel is None:
        return " && ".join(terms)
    if not isinstance(sel, dict):
        raise InputError(f"{where}: a label selector must be a mapping, not {type(sel).__name__}")
    labels = sel.get("matchLabels") or {}
    exprs = sel.get("matchExpressions") or []
    if not pod and not labels and not exprs:
        return "all()"
    terms += [f"{k} == '{labels[k]}'" for k in sorted(labels)]
    for i, expr in enumerate(exprs):
        key, op = expr.get("key"), expr.get("operator")
        values = ", ".join(f"'{v}'" for v in expr.get("values") or [])
        if op == "In":
            terms.append(f"{key} in {{ {values} }}")
        elif op == "NotIn":
            terms.append(f"{key} not in {{ {values} }}")
        elif op == "Exists":
            terms.append(f"has({key})")
        elif op == "DoesNotExist":
            terms.append(f"! has({key})")
        else:
            raise InputError(f"{where}.matchExpressions[{i}]: unknown operator {op!r}")
    return " && ".join(terms)


def _net(text: Any, where: str) -> str:
    try:
        return str(ipaddress.ip_network(str(text), strict=False))
    except ValueError:
        raise InputError(f"{where}: invalid CIDR {text!r}") from None


def _peer_fields(peer: dict[str, Any] | None, where: str) -> dict[str, Any]:
    if peer is None:
        return {}
    block = peer.get("ipBlock")
    if block is not None:  # the API server allows ipBlock only on its own
        out: dict[str, Any] = {"nets": [_net(block.get("cidr"), f"{where}.ipBlock.cidr")]}
        nots = [_net(c, f"{where}.ipBlock.except[{i}]") for i, c in enumerate(block.get("except") or [])]
        if nots:
            out["notNets"] = nots
        return out
    out = {"selector": label_selector_to_calico(peer.get("podSelector"), f"{where}.podSelector", pod=True)}
    ns_sel = label_selector_to_calico(peer.get("namespaceSelector"), f"{where}.namespaceSelector", pod=False)
    if ns_sel:
        out["namespaceSelector"] = ns_sel
    return out


def _port(port: dict[str, Any], where: str) -> tuple[str, list[int | str] | None]:
    """(protocol, ports or None for every port) of one NetworkPolicyPort."""
    protocol = str(port.get("protocol") or "TCP")
    value = port.get("port")
    if value is None:
        return protocol, None
    if port.get("endPort") is not None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise InputError(f"{where}.endPort: needs a numeric port, not {value!r}")
        end = port["endPort"]
        if not isinstance(end, int) or end < value:
            raise InputError(f"{where}.endPort: {end!r} must be a number not below port {value}")
        return protocol, [f"{value}:{end}"]
    if isinstance(value, str) and value.isdigit():
        return protocol, [int(value)]
    return protocol, [value]


def _protocol_ports(ports: list[dict[str, Any]], where: str) -> dict[str | None, list[int | str] | None]:
    """Ports grouped by protocol as Calico groups them; {None: None} (any protocol and port) when none are listed.
    An empty entry `{}` is TCP on every port, as the API defaults its protocol."""
    grouped: dict[str | None, list[int | str] | None] = {}
    for i, port in enumerate(ports):
        protocol, values = _port(port, f"{where}[{i}]")
        if values is None:
            grouped[protocol] = None
        elif protocol not in grouped:
            grouped[protocol] = list(values)
        elif grouped[protocol] is not None:
            grouped[protocol] = list(grouped[protocol] or []) + values
    return grouped or {None: None}


def _rules(entries: list[dict[str, Any]], peers_key: str, side: str, where: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(entries):
        here = f"{where}[{i}]"
        if not isinstance(entry, dict):
            raise InputError(f"{here}: a rule must be a mapping")
        peers: list[dict[str, Any] | None] = list(entry.get(peers_key) or []) or [None]
        grouped = _protocol_ports(list(entry.get("ports") or []), f"{here}.ports")
        for protocol in sorted(grouped, key=lambda p: p or ""):
            ports = grouped[protocol]
            for j, peer in enumerate(peers):
                peer_fields = _peer_fields(peer, f"{here}.{peers_key}[{j}]")
                rule: dict[str, Any] = {"action": "Allow"}
                if protocol is not None:
                    rule["protocol"] = protocol
                dest: dict[str, Any] = {"ports": ports} if ports else {}
                if side == "source":
                    if peer_fields:
                        rule["source"] = peer_fields
                else:
                    dest.update(peer_fields)
                if dest:
                    rule["destination"] = dest
                out.append(rule)
    return out


def to_calico(res: Resource) -> Resource:
    """The Calico NetworkPolicy `knp.default.<name>` that Calico derives from Kubernetes NetworkPolicy `res`."""
    ns = res.namespace or "default"
    where = f"Kubernetes NetworkPolicy {ns}/{res.name}: spec"
    spec = res.spec or {}
    types = default_policy_types(spec)
    unknown = [t for t in types if t not in ("Ingress", "Egress")]
    if unknown:
        raise InputError(f"{where}.policyTypes: unknown type(s) {', '.join(map(repr, unknown))}")
    calico_spec: dict[str, Any] = {
        "tier": "default",
        "order": KNP_ORDER,
        "selector": label_selector_to_calico(spec.get("podSelector") or {}, f"{where}.podSelector", pod=True),
        "types": [t for t in ("Ingress", "Egress") if t in types],
    }
    ingress = _rules(list(spec.get("ingress") or []), "from", "source", f"{where}.ingress")
    egress = _rules(list(spec.get("egress") or []), "to", "destination", f"{where}.egress")
    if ingress:
        calico_spec["ingress"] = ingress
    if egress:
        calico_spec["egress"] = egress
    annotations = {"calicotool/converted-from": f"{K8S_NETWORKING_V1} NetworkPolicy {ns}/{res.name}"}
    return Resource.new("NetworkPolicy", KNP_PREFIX + res.name, calico_spec, ns, res.labels, annotations,
                        api_version=CALICO_V3)
