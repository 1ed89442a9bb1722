"""Is this flow allowed, and what decided? Calico's policy semantics over v3 resources, as a pure function.

    >>> ps = PolicySet(resources)                      # Tiers, (Staged)(Global)NetworkPolicies, NetworkSets, ...
    >>> result = ps.evaluate(Flow(src, dst, protocol=6, port=443))
    >>> result.verdict, result.ingress.policy, result.ingress.rule_index

A flow is allowed only if the source's egress AND the destination's ingress allow it; plain IPs and NetworkSet
members have no policy of their own. Pods fall back to their profiles (the namespace profile `kns.<ns>` allows,
as Kubernetes does by default); HostEndpoints without policy deny, except Felix's failsafe ports.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from functools import lru_cache

from calicotool.evaluate.entities import Entity, IPAddr, endpoint_entity, parse_ip
from calicotool.evaluate.hosts import (
    FailsafePort,
    failsafe_match,
    failsafes_from_config,
    profile_allows,
    profiles_for,
)
from calicotool.evaluate.index import PolicyIndex
from calicotool.evaluate.inventory import Inventory, build_inventory
from calicotool.evaluate.model import Decider, Direction, DirectionTrace, Flow, FlowResult, Verdict
from calicotool.evaluate.policies import CompiledPolicy, MatchContext
from calicotool.evaluate.walk import evaluate_policy, walk_tiers
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import Endpoint, EndpointKind

__all__ = ["Flow", "FlowResult", "PolicySet", "Verdict", "evaluate"]

ENTITY_CACHE_SIZE = 100_000


class PolicySet:
    """Compiled resources, ready to answer many flows. `use_index=False` scans every policy (for comparison)."""

    def __init__(
        self,
        resources: Iterable[Resource],
        *,
        use_index: bool = True,
        cache_endpoints: bool = True,  # memoise which policies select each endpoint
        failsafe_inbound: Sequence[FailsafePort] | None = None,
        failsafe_outbound: Sequence[FailsafePort] | None = None,
    ) -> None:
        self.inventory: Inventory = build_inventory(list(resources))
        self.policies: list[CompiledPolicy] = self.inventory.policies
        self.tiers = self.inventory.tiers
        self.warnings: list[str] = list(self.inventory.warnings)
        cfg_in, cfg_out = failsafes_from_config(self.inventory.felix_config)
        self.failsafe_inbound = list(failsafe_inbound if failsafe_inbound is not None else cfg_in)
        self.failsafe_outbound = list(failsafe_outbound if failsafe_outbound is not None else cfg_out)
        self.use_index = use_index
        self.index = PolicyIndex(self.policies) if use_index else None
        self._cache_endpoints = cache_endpoints
        self._applicable_cache: dict[Endpoint, list[CompiledPolicy]] = {}
        self._entity_cache: dict[Endpoint, Entity] = {}
        self._owners = lru_cache(maxsize=65536)(self._owners_uncached)

    # -- selection ----------------------------------------------------------------------------------------------
    def entity(self, ep: Endpoint) -> Entity:
        """Felix's label view of `ep` (memoised: building it parses addresses)."""
        found = self._entity_cache.get(ep)
        if found is None:
            known = self.inventory.entity_for(ep)
            found = known if known is not None else endpoint_entity(ep, self.inventory.namespaces)
            if len(self._entity_cache) >= ENTITY_CACHE_SIZE:
                self._entity_cache.clear()
            self._entity_cache[ep] = found
        return found

    def applicable(self, ep: Endpoint) -> list[CompiledPolicy]:
        """Policies (enforced and staged) selecting `ep`, in evaluation order."""
        if self._cache_endpoints:
            cached = self._applicable_cache.get(ep)
            if cached is not None:
                return cached
        ent = self.entity(ep)
        if ep.kind not in (EndpointKind.POD, EndpointKind.HOST):
            out: list[CompiledPolicy] = []
        elif self.index is not None:
            out = [p for p in (self.policies[i] for i in self.index.candidates(ent.labels)) if p.applies_to(ent)]
        else:
            out = [p for p in self.policies if p.applies_to(ent)]
        if self._cache_endpoints:
            self._applicable_cache[ep] = out
        return out

    def _owners_uncached(self, ip: IPAddr) -> tuple[Entity, ...]:
        return tuple(e for e in self.inventory.ip_owners if e.contains(ip))

    def peers(self, ep: Endpoint, ip: IPAddr | None) -> list[Entity]:
        """Everything a rule selector may match for this side of a flow: the endpoint and owners of its IP."""
        out: list[Entity] = [] if ep.kind is EndpointKind.IP else [self.entity(ep)]
        if ip is not None:
            out.extend(e for e in self._owners(ip) if not out or e is not out[0])
        return out

    # -- evaluation ---------------------------------------------------------------------------------------------
    def evaluate(self, flow: Flow) -> FlowResult:
        src_ip = first_ip(flow.src_ip, flow.src)
        dst_ip = first_ip(flow.dst_ip, flow.dst)
        version = src_ip.version if src_ip is not None else dst_ip.version if dst_ip is not None else 4
        ctx = MatchContext(
            protocol=flow.protocol, port=flow.port, src_port=flow.src_port, icmp_type=flow.icmp_type,
            icmp_code=flow.icmp_code, ip_version=version, src_ip=src_ip, dst_ip=dst_ip,
            src_peers=self.peers(flow.src, src_ip), dst_peers=self.peers(flow.dst, dst_ip),
            src_named=flow.src_named_ports + tuple(getattr(flow.src, "ports", ()) or ()),
            dst_named=flow.dst_named_ports + tuple(getattr(flow.dst, "ports", ()) or ()),
        )
        egress = self._direction(flow.src, Direction.EGRESS, ctx)
        ingress = self._direction(flow.dst, Direction.INGRESS, ctx)
        for side, ip, ep in (("source", src_ip, flow.src), ("destination", dst_ip, flow.dst)):
            if ip is None:
                note = f"{side} {ep.title} has no known IP: rules with nets/notNets never match it"
                egress.notes.append(note)
                ingress.notes.append(note)
        both = egress.verdict is Verdict.ALLOW and ingress.verdict is Verdict.ALLOW
        return FlowResult(flow, Verdict.ALLOW if both else Verdict.DENY, egress, ingress)

    def _direction(self, ep: Endpoint, d: Direction, ctx: MatchContext) -> DirectionTrace:
        if ep.kind in (EndpointKind.IP, EndpointKind.NETWORKSET):
            what = "a plain IP" if ep.kind is EndpointKind.IP else "a NetworkSet member"
            return DirectionTrace(ep.title, d, Verdict.ALLOW, Decider.NOT_AN_ENDPOINT,
                                  f"{what} has no {d.value} policy of its own")
        selected = [p for p in self.applicable(ep) if d in p.types]
        trace = DirectionTrace(ep.title, d, Verdict.DENY, Decider.PROFILE_DEFAULT_DENY, "")
        trace.staged = [evaluate_policy(p, d, ctx) for p in selected if p.staged]
        enforced = [p for p in selected if not p.staged]
        is_host = ep.kind is EndpointKind.HOST
        if is_host:
            if ep.interface == "*":
                trace.notes.append("all-interfaces host endpoint (interfaceName '*'): applies on every interface")
            rules = self.failsafe_inbound if d is Direction.INGRESS else self.failsafe_outbound
            hit = failsafe_match(rules, ctx, d)
            if hit is not None:
                return _set(trace, Verdict.ALLOW, Decider.FAILSAFE, f"Felix failsafe {d.value} port {hit}")
            stages = [("untracked", [p for p in enforced if p.do_not_track], Decider.UNTRACKED)]
            if d is Direction.INGRESS:
                stages.append(("pre-dnat", [p for p in enforced if p.pre_dnat and not p.do_not_track],
                               Decider.PRE_DNAT))
            for stage, pols, decider in stages:
                dec = walk_tiers(pols, self.tiers, d, ctx, stage, trace.tiers)
                if dec is not None:
                    return _rule(trace, dec.action, decider, dec.tier, dec.policy, dec.rule_index, stage)
        normal = [p for p in enforced if not p.do_not_track and not p.pre_dnat]
        dec = walk_tiers(normal, self.tiers, d, ctx, "normal", trace.tiers)
        if dec is not None:
            if dec.by_default:
                trace.tier = dec.tier
                return _set(trace, Verdict.DENY, Decider.TIER_DEFAULT,
                            f"tier {dec.tier!r} selected the endpoint but no rule matched: default action Deny")
            return _rule(trace, dec.action, Decider.RULE, dec.tier, dec.policy, dec.rule_index, "normal")
        tiers_applied = any(t.stage == "normal" for t in trace.tiers)
        profiles = profiles_for(ep)
        for prof in profiles:
            if profile_allows(prof):
                trace.profile = prof
                why = "every applying tier passed" if tiers_applied else "no policy selects the endpoint"
                return _set(trace, Verdict.ALLOW, Decider.PROFILE, f"{why}; profile {prof!r} allows")
        if is_host:
            return _set(trace, Verdict.DENY, Decider.HOST_DEFAULT_DENY,
                        "host endpoint: no policy or profile allowed the traffic (default deny)")
        listed = ", ".join(profiles) or "none"
        return _set(trace, Verdict.DENY, Decider.PROFILE_DEFAULT_DENY, f"no profile allowed (profiles: {listed})")


def _set(trace: DirectionTrace, verdict: Verdict, by: Decider, reason: str) -> DirectionTrace:
    trace.verdict, trace.decided_by, trace.reason = verdict, by, reason
    return trace


def _rule(trace: DirectionTrace, action: str, by: Decider, tier: str, policy: str | None, index: int | None,
          stage: str) -> DirectionTrace:
    trace.tier, trace.policy, trace.rule_index, trace.action = tier, policy, index, action
    where = "" if stage == "normal" else f" ({stage})"
    verdict = Verdict.ALLOW if action == "Allow" else Verdict.DENY
    return _set(trace, verdict, by, f"{policy} {trace.direction.value} rule {index} ({action}) in tier {tier!r}{where}")


def first_ip(explicit: str | None, ep: Endpoint) -> IPAddr | None:
    text = explicit or (ep.ips[0] if ep.ips else None)
    if text is None:
        return None
    try:
        return _ip(text)
    except ValueError:
        return parse_ip(text, f"{ep.title}: ")  # raises the located InputError


@lru_cache(maxsize=65536)
def _ip(text: str) -> IPAddr:
    return ipaddress.ip_address(text.split("/")[0])


def evaluate(resources: Iterable[Resource], flow: Flow) -> FlowResult:
    """One-shot convenience: compile `resources` and evaluate `flow`."""
    return PolicySet(resources).evaluate(flow)
