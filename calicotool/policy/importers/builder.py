"""Shared pieces of the importers: the rule-set document being built, names, and the import report."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ImportResult:
    """A rule-set document (the YAML users keep in policies/) plus what could not be expressed."""

    document: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def dns_label(text: str, fallback: str = "x") -> str:
    """Lower-case DNS-1123 label from arbitrary text; long names keep a short hash so they stay unique."""
    out = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or fallback
    if len(out) > 63:
        digest = hashlib.sha256(text.encode()).hexdigest()[:8]
        out = out[:54].rstrip("-") + "-" + digest
    return out


def cidr_group_name(cidr: str) -> str:
    net = ipaddress.ip_network(cidr, strict=False)
    if net.prefixlen == 0:
        return f"anywhere-ipv{net.version}"
    return dns_label(f"net-{net}")


def quote(value: str) -> str:
    return f"'{value}'" if "'" not in value else f'"{value}"'


class RuleSetBuilder:
    """Accumulates groups and policies, reusing a group when the same selector or CIDR shows up again."""

    def __init__(self, name: str, namespace: str) -> None:
        self.doc: dict[str, Any] = {"apiVersion": "calicotool.io/v1alpha1", "kind": "RuleSet", "name": name,
                                    "namespace": namespace, "groups": {}, "policies": []}
        self.notes: list[str] = []
        self._by_key: dict[tuple[Any, ...], str] = {}

    @property
    def groups(self) -> dict[str, Any]:
        groups: dict[str, Any] = self.doc["groups"]
        return groups

    def _unique(self, base: str) -> str:
        name, n = base, 2
        while name in self.groups:
            suffix = f"-{n}"
            name = base[: 63 - len(suffix)] + suffix
            n += 1
        return name

    def group(self, key: tuple[Any, ...], base_name: str, definition: dict[str, Any]) -> str:
        """The group for `key`, created from `definition` the first time."""
        if key in self._by_key:
            return self._by_key[key]
        name = self._unique(dns_label(base_name))
        self.groups[name] = definition
        self._by_key[key] = name
        return name

    def has_group(self, key: tuple[Any, ...]) -> bool:
        return key in self._by_key

    def cidr_group(self, cidr: str, description: str = "") -> str:
        net = ipaddress.ip_network(cidr, strict=False)
        definition: dict[str, Any] = {"nets": [str(net)]}
        if description:
            definition["description"] = description
        return self.group(("nets", str(net)), cidr_group_name(str(net)), definition)

    def add_default_deny(self, group: str, directions: list[str]) -> None:
        current = self.groups[group].get("defaultDeny") or []
        merged = [d for d in ("ingress", "egress") if d in current or d in directions]
        self.groups[group]["defaultDeny"] = merged

    def policy(self, entry: dict[str, Any]) -> None:
        names = {p["name"] for p in self.doc["policies"]}
        base, n = entry["name"], 2
        while entry["name"] in names:
            entry["name"] = f"{base[:60]}-{n}"
            n += 1
        self.doc["policies"].append(entry)

    def result(self) -> ImportResult:
        return ImportResult(self.doc, self.notes)
