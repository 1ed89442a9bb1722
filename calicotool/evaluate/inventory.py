"""Sort a pile of Calico resources into what the evaluator needs: tiers, policies in evaluation order, network
sets, host endpoints, namespace labels, Felix failsafe configuration. Kubernetes NetworkPolicies are evaluated as
the Calico policies Calico derives from them (evaluate.k8s). Unknown kinds are reported, not fatal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from calicotool.errors import InputError
from calicotool.evaluate.entities import Entity, endpoint_entity, network_set_entity, representative_ip
from calicotool.evaluate.k8s import is_k8s_network_policy, to_calico
from calicotool.evaluate.policies import (
    DEFAULT_TIER,
    DEFAULT_TIER_ORDER,
    POLICY_KINDS,
    CompiledPolicy,
    TierInfo,
    compile_policy,
    compile_tier,
)
from calicotool.evaluate.walk import tier_info
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import Endpoint, EndpointKind

IGNORED_QUIETLY = {"IPPool", "BGPConfiguration", "BGPPeer", "BGPFilter", "Node", "ClusterInformation",
                   "KubeControllersConfiguration", "IPReservation", "Kustomization"}


@dataclass
class Inventory:
    tiers: dict[str, TierInfo] = field(default_factory=dict)
    policies: list[CompiledPolicy] = field(default_factory=list)
    network_sets: dict[tuple[str, str], Entity] = field(default_factory=dict)
    hosts: dict[str, Endpoint] = field(default_factory=dict)
    ip_owners: list[Entity] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    felix_config: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    def entity_for(self, ep: Endpoint) -> Entity | None:
        if ep.kind is EndpointKind.NETWORKSET:
            return self.network_sets.get((ep.namespace, ep.name))
        return None

    def network_set_endpoint(self, namespace: str, name: str) -> Endpoint | None:
        ent = self.network_sets.get((namespace, name))
        if ent is None:
            return None
        labels = {k: v for k, v in ent.labels.items() if not k.startswith("projectcalico.org/")}
        ips = (representative_ip(ent.nets[0]),) if ent.nets else ()
        return Endpoint(EndpointKind.NETWORKSET, name, ips=ips, namespace=namespace, labels=labels)


def host_endpoint(res: Resource) -> Endpoint:
    spec = res.spec or {}
    ips = tuple(str(ip) for ip in spec.get("expectedIPs") or [])
    return Endpoint(
        EndpointKind.HOST, res.name, ips=ips, labels=res.labels, node=str(spec.get("node") or ""),
        interface=str(spec.get("interfaceName") or ""), profiles=tuple(str(p) for p in spec.get("profiles") or []),
    )


def build_inventory(resources: list[Resource]) -> Inventory:
    inv = Inventory()
    seen: set[tuple[str, str, str]] = set()
    for res in resources:
        if res.kind == "Namespace":
            inv.namespaces[res.name] = res.labels
    for res in resources:
        if is_k8s_network_policy(res):
            if not isinstance((res.spec or {}).get("podSelector"), dict):  # required by the API: never served without
                inv.warnings.append(f"{res.api_version} {res.kind} {res.name}: not evaluated (no spec.podSelector; "
                                    f"the Kubernetes API requires one, `{{}}` selects every pod)")
                continue
            res = to_calico(res)  # enforced by Calico as NetworkPolicy knp.default.<name> in tier default
        kind = res.kind
        if kind != "Namespace" and not res.api_version.split("/")[0].endswith("projectcalico.org"):
            inv.warnings.append(f"{res.api_version} {kind} {res.name}: not evaluated (only Calico kinds are)")
            continue
        if kind in POLICY_KINDS:
            pol = compile_policy(res)
            ident = (kind, pol.namespace, pol.name)
            if ident in seen:
                raise InputError(f"duplicate {kind} {pol.qualified_name}")
            seen.add(ident)
            inv.policies.append(pol)
        elif kind == "Tier":
            inv.tiers[res.name] = compile_tier(res)
        elif kind in ("NetworkSet", "GlobalNetworkSet"):
            ns = (res.namespace or "default") if kind == "NetworkSet" else ""
            ent = network_set_entity(res.name, ns, res.labels, list(res.spec.get("nets") or []),
                                     inv.namespaces.get(ns))
            inv.network_sets[(ns, res.name)] = ent
            inv.ip_owners.append(ent)
        elif kind == "HostEndpoint":
            ep = host_endpoint(res)
            inv.hosts[res.name] = ep
            if ep.ips:
                inv.ip_owners.append(endpoint_entity(ep))
        elif kind == "FelixConfiguration":
            if res.name == "default":
                inv.felix_config = res.spec
        elif kind != "Namespace" and kind not in IGNORED_QUIETLY:
            inv.warnings.append(f"{kind} {res.name}: not evaluated (the evaluator reads Calico v3 policy kinds)")
    inv.tiers.setdefault(DEFAULT_TIER, TierInfo(DEFAULT_TIER, DEFAULT_TIER_ORDER))
    for tier in sorted({p.tier for p in inv.policies} - set(inv.tiers)):
        inv.warnings.append(f"tier {tier!r} is referenced by policies but not defined: ordered last")
    inv.policies.sort(key=lambda p: (tier_info(inv.tiers, p.tier).sort_key, p.sort_key, p.kind))
    for seq, pol in enumerate(inv.policies):
        pol.seq = seq
    return inv
