"""GCP `gcloud compute firewall-rules list --format=json` -> rule set.

Target tags and service accounts become label groups (`network-tags.gcp/<tag>`, `service-accounts.gcp/<name>`)
scoped to the rule's network (`gcp-network == <net> && ...`: a GCP rule only reaches instances of its own VPC, so a
tagged instance is also an instance of that network and network-wide rules apply to it); rules without targets
apply to the whole network (`gcp-network == <net>`). A tag or account used in several networks gets one group per
network (`tag-web-<net>`). Each firewall rule becomes one policy
ordered by priority (deny before allow at equal priority, as GCP does); the implied rules become a default deny
of ingress and an allow of egress after everything else. Disabled rules and logging are reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from calicotool.errors import InputError
from calicotool.policy.importers.builder import ImportResult, RuleSetBuilder, dns_label, quote

PROTOCOLS = {"tcp": "TCP", "udp": "UDP", "icmp": "ICMP", "sctp": "SCTP", "ipv6-icmp": "ICMPv6",
             "esp": 50, "ah": 51, "ipip": 4, "gre": 47}
IMPLIED_ORDER = 65536


@dataclass
class Scopes:
    """Which networks each tag / service account is used in (to name per-network groups only when needed)."""

    tags: dict[str, set[str]] = field(default_factory=dict)
    accounts: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, rules: list[dict[str, Any]]) -> Scopes:
        out = cls()
        for rule in rules:
            network = _network(rule)
            for t in (rule.get("targetTags") or []) + (rule.get("sourceTags") or []):
                out.tags.setdefault(t, set()).add(network)
            for sa in (rule.get("targetServiceAccounts") or []) + (rule.get("sourceServiceAccounts") or []):
                out.accounts.setdefault(sa, set()).add(network)
        return out


def _network(rule: dict[str, Any]) -> str:
    return str(rule.get("network", "default")).rstrip("/").split("/")[-1]


def _in_network(network: str, selector: str) -> str:
    return f"gcp-network == {quote(dns_label(network))} && {selector}"


def _tag_group(b: RuleSetBuilder, scopes: Scopes, tag: str, network: str) -> str:
    name = f"tag-{tag}" if len(scopes.tags.get(tag, ())) <= 1 else f"tag-{tag}-{network}"
    return b.group(("tag", network, tag), name, {
        "selector": _in_network(network, f"has(network-tags.gcp/{dns_label(tag)})"), "namespace": "*",
        "description": f"GCP network tag {tag} (network {network})"})


def _target_groups(b: RuleSetBuilder, scopes: Scopes, rule: dict[str, Any], network: str) -> list[str]:
    out = [_tag_group(b, scopes, t, network) for t in rule.get("targetTags") or []]
    out += [_sa_group(b, scopes, sa, network) for sa in rule.get("targetServiceAccounts") or []]
    if not out:
        out.append(b.group(("network", network), f"network-{network}", {
            "selector": f"gcp-network == {quote(dns_label(network))}", "namespace": "*",
            "description": f"every instance of GCP network {network}"}))
    return out


def _sa_group(b: RuleSetBuilder, scopes: Scopes, email: str, network: str) -> str:
    local = dns_label(email.split("@")[0])
    if not b.has_group(("sa", network, email)):
        b.notes.append(f"service account {email} imported as label group service-accounts.gcp/{local} (Calico "
                       "matches labels, not GCP identities)")
    name = f"sa-{local}" if len(scopes.accounts.get(email, ())) <= 1 else f"sa-{local}-{network}"
    return b.group(("sa", network, email), name, {
        "selector": _in_network(network, f"has(service-accounts.gcp/{local})"), "namespace": "*",
        "description": f"GCP service account {email} (network {network})"})


def _matches(entries: list[dict[str, Any]], where: str, b: RuleSetBuilder) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for entry in entries:
        proto = str(entry.get("IPProtocol", "all")).lower()
        if proto == "all":
            out.append({})
            continue
        name = PROTOCOLS.get(proto, int(proto) if proto.isdigit() else None)
        if name is None:
            b.notes.append(f"{where}: protocol {proto!r} not understood; skipped")
            continue
        match: dict[str, Any] = {"protocol": name}
        ports = [p.replace("-", ":") for p in entry.get("ports") or []]
        if ports:
            match["ports"] = [int(p) if p.isdigit() else p for p in ports]
        out.append(match)
    return out


def import_gcp(data: Any, namespace: str = "default") -> ImportResult:
    if not isinstance(data, list):
        raise InputError("expected the JSON list of `gcloud compute firewall-rules list --format=json`")
    b = RuleSetBuilder("gcp-firewall", namespace)
    b.doc["defaultDenyOrder"] = IMPLIED_ORDER + 1
    egress_targets: set[str] = set()
    scopes = Scopes.of([r for r in data if isinstance(r, dict) and not r.get("disabled")])
    for rule in sorted(data, key=lambda r: (int(r.get("priority", 1000)), r.get("name", ""))):
        name = rule.get("name") or "rule"
        if rule.get("disabled"):
            b.notes.append(f"{name}: disabled, not imported")
            continue
        if (rule.get("logConfig") or {}).get("enable"):
            b.notes.append(f"{name}: firewall logging is not imported (add a Log rule if you need it)")
        network = _network(rule)
        targets = _target_groups(b, scopes, rule, network)
        egress = str(rule.get("direction", "INGRESS")).upper() == "EGRESS"
        if egress:
            peers = [b.cidr_group(c) for c in rule.get("destinationRanges") or []]
        else:
            peers = [b.cidr_group(c) for c in rule.get("sourceRanges") or []]
            peers += [_tag_group(b, scopes, t, network) for t in rule.get("sourceTags") or []]
            peers += [_sa_group(b, scopes, sa, network) for sa in rule.get("sourceServiceAccounts") or []]
        action, entries = ("Deny", rule["denied"]) if rule.get("denied") else ("Allow", rule.get("allowed") or [])
        priority = int(rule.get("priority", 1000))
        rules = []
        for match in _matches(entries, name, b):
            entry: dict[str, Any] = {"action": action, **match}
            if peers:
                entry["to" if egress else "from"] = peers
            rules.append(entry)
        for target in targets:
            b.add_default_deny(target, ["ingress"])  # GCP's implied deny-ingress covers every instance
            if egress:
                egress_targets.add(target)
            b.policy({"name": dns_label(name if len(targets) == 1 else f"{name}-{target}"), "appliesTo": target,
                      "order": priority if action == "Deny" else priority + 0.5,
                      "description": f"GCP firewall rule {name} (priority {priority})",
                      "egress" if egress else "ingress": rules})
    for target in sorted(egress_targets):
        b.policy({"name": dns_label(f"implied-allow-egress-{target}"), "appliesTo": target, "order": IMPLIED_ORDER,
                  "description": "GCP's implied allow-egress rule (priority 65535)", "egress": [{"action": "Allow"}]})
    return b.result()
