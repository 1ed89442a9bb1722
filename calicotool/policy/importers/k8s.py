"""Kubernetes NetworkPolicy YAML -> rule set.

podSelector / namespaceSelector become label groups (matchExpressions map onto Calico's selector grammar),
ipBlock becomes a CIDR with `except`, policyTypes become the target group's default deny (Kubernetes isolation),
and each NetworkPolicy becomes one policy; allows are a union, so default denies are ordered after them.
"""

from __future__ import annotations

from typing import Any

from calicotool.errors import InputError
from calicotool.policy.importers.builder import ImportResult, RuleSetBuilder, dns_label, quote

OPS = {"In": "in", "NotIn": "not in"}


def label_selector(sel: dict[str, Any] | None, where: str) -> str:
    """A Kubernetes LabelSelector as a Calico selector (`{}` -> all())."""
    parts = [f"{k} == {quote(str(v))}" for k, v in sorted((sel or {}).get("matchLabels", {}).items())]
    for expr in (sel or {}).get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op in OPS:
            parts.append(f"{key} {OPS[op]} {{{', '.join(quote(str(v)) for v in values)}}}")
        elif op == "Exists":
            parts.append(f"has({key})")
        elif op == "DoesNotExist":
            parts.append(f"!has({key})")
        else:
            raise InputError(f"{where}: unknown matchExpressions operator {op!r}")
    return " && ".join(parts) or "all()"


def _peer_group(b: RuleSetBuilder, peer: dict[str, Any], ns: str, where: str) -> str:
    pod = label_selector(peer.get("podSelector"), where)
    definition: dict[str, Any] = {"selector": pod}
    if "namespaceSelector" in peer:
        ns_sel = label_selector(peer["namespaceSelector"], where)
        if ns_sel == "all()":
            definition["namespace"] = "*"
        else:
            definition["namespaceSelector"] = ns_sel
    else:
        definition["namespace"] = ns
    key = ("k8s", pod, definition.get("namespace", ""), definition.get("namespaceSelector", ""))
    return b.group(key, f"{ns}-{pod}" if pod != "all()" else f"{ns}-all", definition)


def _port_matches(ports: list[dict[str, Any]] | None, where: str, b: RuleSetBuilder) -> list[dict[str, Any]]:
    if not ports:
        return [{}]
    by_proto: dict[str, list[Any]] = {}
    for port in ports:
        proto = str(port.get("protocol", "TCP")).upper()
        bucket = by_proto.setdefault(proto, [])
        if "port" not in port:
            bucket.append(None)
        elif port.get("endPort") is not None:
            bucket.append(f"{port['port']}:{port['endPort']}")
        else:
            bucket.append(port["port"])
    out: list[dict[str, Any]] = []
    for proto, values in by_proto.items():
        if None in values:
            out.append({"protocol": proto})
        else:
            out.append({"protocol": proto, "ports": values})
    return out


def _rules(b: RuleSetBuilder, entries: list[dict[str, Any]], side: str, peer_key: str, ns: str,
           where: str) -> list[dict[str, Any]]:
    rules = []
    for i, entry in enumerate(entries or []):
        at = f"{where}[{i}]"
        peers = entry.get(peer_key) or []
        matches = _port_matches(entry.get("ports"), at, b)
        selectors = [_peer_group(b, p, ns, at) for p in peers if "ipBlock" not in p]
        blocks = [p["ipBlock"] for p in peers if "ipBlock" in p]
        for match in matches:
            if not peers:
                rules.append({"action": "Allow", **match})
            if selectors:
                rules.append({"action": "Allow", side: selectors, **match})
            for block in blocks:
                rule: dict[str, Any] = {"action": "Allow", side: block["cidr"], **match}
                if block.get("except"):
                    rule["except"] = list(block["except"])
                rules.append(rule)
    return rules


def import_k8s(docs: list[Any], namespace: str = "default") -> ImportResult:
    items: list[dict[str, Any]] = []
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind", "").endswith("List"):
            items.extend(doc.get("items") or [])
        elif doc:
            items.append(doc)
    b = RuleSetBuilder("k8s-network-policies", namespace)
    for i, np in enumerate(items):
        if not isinstance(np, dict) or np.get("kind") != "NetworkPolicy" or not str(np.get("apiVersion", "")).startswith(
                "networking.k8s.io/"):
            kind = np.get("kind") if isinstance(np, dict) else type(np).__name__
            b.notes.append(f"document {i}: {kind} is not a networking.k8s.io NetworkPolicy; skipped")
            continue
        meta, spec = np.get("metadata") or {}, np.get("spec") or {}
        ns, name = meta.get("namespace", namespace), meta.get("name", f"policy-{i}")
        where = f"NetworkPolicy {ns}/{name}"
        target = _peer_group(b, {"podSelector": spec.get("podSelector") or {}}, ns, where)
        types = spec.get("policyTypes") or (["Ingress", "Egress"] if "egress" in spec else ["Ingress"])
        b.add_default_deny(target, [t.lower() for t in types])
        policy: dict[str, Any] = {"name": dns_label(f"{ns}-{name}"), "appliesTo": target,
                                  "description": f"from Kubernetes NetworkPolicy {ns}/{name}", "types": types}
        ingress = _rules(b, spec.get("ingress") or [], "from", "from", ns, f"{where} ingress")
        egress = _rules(b, spec.get("egress") or [], "to", "to", ns, f"{where} egress")
        if ingress:
            policy["ingress"] = ingress
        if egress:
            policy["egress"] = egress
        if ingress or egress:
            b.policy(policy)
    return b.result()
