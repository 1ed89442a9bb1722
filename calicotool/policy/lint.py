"""Lint a rule set: problems that are valid Calico but probably not what the author meant. Pure (apart from
`load_known_endpoints`, which reads the optional inventory file). Each Finding names the rule set line."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calicotool.errors import InputError, Location
from calicotool.policy.compile import all_policies
from calicotool.policy.coverage import covers, is_anywhere, is_unconditional, port_spans, ports_intersect, span_within
from calicotool.policy.spec import ANY_NAMESPACE, Group, GroupKind, Policy, Rule, RuleSet

SENSITIVE_PORTS = {22: "ssh", 23: "telnet", 445: "smb", 2379: "etcd", 2380: "etcd peer", 3306: "mysql",
                   3389: "rdp", 5432: "postgres", 5984: "couchdb", 6379: "redis", 6443: "kube-apiserver",
                   9200: "elasticsearch", 10250: "kubelet", 11211: "memcached", 27017: "mongodb"}
NODEPORT_RANGE = (30000, 32767)
TERMINAL = ("Allow", "Deny", "Pass")


@dataclass(frozen=True)
class Finding:
    check: str
    message: str
    location: Location

    def __str__(self) -> str:
        return f"{self.location}: [{self.check}] {self.message}"


@dataclass(frozen=True)
class KnownEndpoint:
    """Something that exists in the cluster: labels and namespace (namespace '' for hosts / global things)."""

    labels: dict[str, str]
    namespace: str = ""
    namespace_labels: dict[str, str] | None = None


def _where(rule: Rule) -> str:
    loc = rule.location
    return f"{loc.file}:{loc.line}" if loc.file and loc.line else (loc.field or "?")


def _rule_sequences(rs: RuleSet) -> dict[tuple[str, str, str], list[tuple[Policy, Rule]]]:
    """Rules in evaluation order per (tier, group, direction): policies by (order, name), rules in order."""
    out: dict[tuple[str, str, str], list[tuple[Policy, Rule]]] = {}
    policies = sorted(all_policies(rs), key=lambda p: (p.order if p.order is not None else 1000.0, p.name))
    for policy in policies:
        for direction in ("ingress", "egress"):
            seq = out.setdefault((policy.tier, policy.applies_to, direction), [])
            seq.extend((policy, rule) for rule in getattr(policy, direction))
    return out


def check_shadowed(rs: RuleSet) -> Iterator[Finding]:
    for (_tier, _group, direction), seq in _rule_sequences(rs).items():
        for j, (policy, rule) in enumerate(seq):
            for earlier_policy, earlier in seq[:j]:
                if earlier.action not in TERMINAL or not covers(earlier, rule, rs.groups):
                    continue
                same = earlier.action == rule.action
                where = "" if earlier_policy is policy else f" in policy {earlier_policy.name!r}"
                yield Finding("redundant" if same else "shadowed",
                              f"{direction} rule of policy {policy.name!r} ({rule.action}) never takes effect: the "
                              f"earlier {earlier.action} rule at {_where(earlier)}{where} matches everything it "
                              "matches", rule.location)
                break


def _group_matches(group: Group, known: Iterable[KnownEndpoint]) -> bool:
    from calicotool.selector import parse

    if group.kind != GroupKind.LABELS:
        return True  # nets and hosts groups define their own members
    sel = parse(group.selector)
    ns_sel = parse(group.namespace_selector) if group.namespace_selector else None
    for ep in known:
        if not ep.namespace:
            continue
        if ns_sel is not None:
            ns_labels = ep.namespace_labels or {"projectcalico.org/name": ep.namespace}
            if not ns_sel.matches(ns_labels):
                continue
        elif group.namespace not in (ANY_NAMESPACE, ep.namespace):
            continue
        if sel.matches(ep.labels):
            return True
    return False


def check_empty_groups(rs: RuleSet, known: list[KnownEndpoint] | None) -> Iterator[Finding]:
    used = {p.applies_to for p in rs.policies}
    used |= {peer.group for p in rs.policies for r in (*p.ingress, *p.egress) for peer in r.peers if peer.group}
    for group in rs.groups.values():
        if known is not None:
            if not _group_matches(group, known):
                scope = group.namespace_selector or group.namespace
                yield Finding("empty-group", f"group {group.name!r} ({group.selector!r} in {scope!r}) selects none "
                                             "of the known endpoints", group.location)
        elif group.name not in used and group.name != "kube-dns":
            yield Finding("unused-group", f"group {group.name!r} is never used by a policy or rule", group.location)


def check_sensitive_ports(rs: RuleSet) -> Iterator[Finding]:
    for policy in rs.policies:
        for rule in policy.ingress:
            if rule.action != "Allow" or not is_anywhere(rule, rs.groups):
                continue
            if rule.protocol is not None and str(rule.protocol).upper() not in ("TCP", "UDP", "SCTP", "6", "17"):
                continue
            spans = port_spans(rule.ports)
            hits = [f"{p}/{name}" for p, name in sorted(SENSITIVE_PORTS.items())
                    if not rule.ports or span_within((p, p), spans)]
            if hits:
                what = "every port" if not rule.ports else ", ".join(hits)
                yield Finding("open-sensitive-port", f"policy {policy.name!r} allows anyone (any source / 0.0.0.0/0) "
                                                     f"to {policy.applies_to!r} on {what}", rule.location)


def check_default_deny(rs: RuleSet) -> Iterator[Finding]:
    for policy in rs.policies:
        group = rs.groups.get(policy.applies_to)
        if group is None:
            continue
        for direction in ("ingress", "egress"):
            rules = getattr(policy, direction)
            if not rules or direction in group.default_deny:
                continue
            if any(is_unconditional(r) and r.action in TERMINAL for r in rules):
                continue
            yield Finding("missing-default-deny", f"group {group.name!r} has {direction} rules in policy "
                                                  f"{policy.name!r} but no defaultDeny for {direction}; what the rules "
                                                  "do not match falls to the tier's implicit end action",
                          policy.location)


def check_dns_protocols(rs: RuleSet) -> Iterator[Finding]:
    for policy in rs.policies:
        seen: dict[tuple[Any, ...], set[str]] = {}
        first: dict[tuple[Any, ...], Rule] = {}
        for rule in policy.egress:
            if rule.action != "Allow" or not rule.ports or not span_within((53, 53), port_spans(rule.ports)):
                continue
            key = (rule.peers, rule.except_nets)
            seen.setdefault(key, set()).add(str(rule.protocol).upper())
            first.setdefault(key, rule)
        for key, protocols in seen.items():
            if protocols == {"UDP"} or protocols == {"TCP"}:
                (only,) = protocols
                missing = "TCP" if only == "UDP" else "UDP"
                yield Finding("dns-one-protocol", f"policy {policy.name!r} allows DNS (53) only over {only}; DNS also "
                                                  f"needs {missing} (large answers, zone transfers, DNSSEC) - use "
                                                  "helper: dns", first[key].location)


def check_log_only(rs: RuleSet) -> Iterator[Finding]:
    sequences = _rule_sequences(rs)
    for policy in rs.policies:
        tier = rs.tiers.get(policy.tier)
        if tier is not None and tier.default_action == "Pass":
            continue
        for direction in ("ingress", "egress"):
            rules = getattr(policy, direction)
            if not rules or any(r.action != "Log" for r in rules):
                continue
            others = [r for p, r in sequences.get((policy.tier, policy.applies_to, direction), [])
                      if p is not policy and r.action != "Log"]
            if not others:
                yield Finding("log-only-isolates", f"policy {policy.name!r} only logs {direction} traffic, but "
                                                   f"selecting {policy.applies_to!r} makes tier {policy.tier!r} deny "
                                                   "everything after the log: add an Allow or Pass rule",
                              policy.location)


def check_namespace_selector_not_has(rs: RuleSet) -> Iterator[Finding]:
    for group in rs.groups.values():
        if "!has(" in group.namespace_selector.replace(" ", ""):
            yield Finding("namespace-selector-not-has", f"group {group.name!r} uses !has() in its namespaceSelector: "
                                                         "it matches every namespace without that label, including "
                                                         "kube-system and namespaces created later", group.location)


def check_nodeports(rs: RuleSet) -> Iterator[Finding]:
    for policy in rs.policies:
        group = rs.groups.get(policy.applies_to)
        if group is None or group.kind != GroupKind.HOSTS or policy.pre_dnat:
            continue
        for rule in policy.ingress:
            if rule.action == "Allow" and rule.ports and ports_intersect(rule.ports, *NODEPORT_RANGE):
                yield Finding("nodeport-without-prednat", f"policy {policy.name!r} opens NodePort range ports on host "
                                                          f"group {group.name!r} without preDNAT: NodePort traffic is "
                                                          "DNATed to the pod before host policy sees it, so this rule "
                                                          "does not control it (use preDNAT: true)", rule.location)


def lint_ruleset(rs: RuleSet, known: list[KnownEndpoint] | None = None) -> list[Finding]:
    """Every finding, sorted by file and line."""
    findings = [*check_shadowed(rs), *check_empty_groups(rs, known), *check_sensitive_ports(rs),
                *check_default_deny(rs), *check_dns_protocols(rs), *check_log_only(rs),
                *check_namespace_selector_not_has(rs), *check_nodeports(rs)]
    return sorted(findings, key=lambda f: (f.location.file or "", f.location.line or 0, f.check))


def load_known_endpoints(path: Path) -> list[KnownEndpoint]:
    """Read a YAML list of `{namespace, labels, namespaceLabels}` entries (e.g. exported pod labels)."""
    from calicotool.model import yamlio

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise InputError(f"cannot read endpoints: {why}", Location(file=str(path))) from None
    docs = [doc for _, _, doc in yamlio.load_text(text, str(path))]
    data = docs[0] if len(docs) == 1 else None
    if not isinstance(data, list):
        raise InputError("expected a list of {namespace, labels} entries", Location(file=str(path)))
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("labels", {}), dict):
            raise InputError("entry must be a mapping with a labels mapping", Location(file=str(path), field=f"[{i}]"))
        out.append(KnownEndpoint(labels={str(k): str(v) for k, v in (item.get("labels") or {}).items()},
                                 namespace=str(item.get("namespace", "")),
                                 namespace_labels=item.get("namespaceLabels")))
    return out
