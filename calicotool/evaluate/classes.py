"""Endpoint classes: endpoints that no selector, address match, named port or profile in a policy set can tell
apart. Two endpoints of one class get the same verdict, from the same rule, for every peer and port, so whole-
cluster evaluation works on classes instead of endpoints.

An endpoint's class key is what the policy set can observe of it: its kind; its labels, namespace labels and
service-account labels restricted to the keys some selector reads (plus the namespace, which scopes
NetworkPolicies and `global()`); for its first address, the IP version, which rule/failsafe CIDRs contain it and
which NetworkSets/HostEndpoints own it; the named ports some rule names; whether its profiles allow. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from calicotool.evaluate.entities import NAME_LABEL, NS_LABEL, ORCH_LABEL, SA_LABEL, Entity, IPAddr, IPNet
from calicotool.evaluate.evaluator import PolicySet, first_ip
from calicotool.evaluate.hosts import profile_allows, profiles_for
from calicotool.evaluate.rules import EntityMatch
from calicotool.policy.endpoint import Endpoint, EndpointKind, NamedPort

ALWAYS_KEYS = frozenset({NS_LABEL, SA_LABEL, ORCH_LABEL, NAME_LABEL})


@dataclass
class EndpointClass:
    """Endpoints the policy set cannot tell apart, and the one that stands for them all."""

    index: int
    rep: Endpoint
    entity: Entity
    ip: IPAddr | None
    peers: list[Entity]  # what rule selectors see of it: itself (not for plain IPs) and the owners of its address
    named: tuple[NamedPort, ...]
    members: list[int] = field(default_factory=list)  # positions in the endpoint list

    @property
    def enforces(self) -> bool:
        """Pods and HostEndpoints have policy; plain IPs and NetworkSet members do not."""
        return self.rep.kind in (EndpointKind.POD, EndpointKind.HOST)


@dataclass
class Observed:
    """What the policy set can observe: label keys, CIDRs and named-port names."""

    keys: frozenset[str]
    nets: tuple[IPNet, ...]
    port_names: frozenset[str]


def rule_sides(ps: PolicySet) -> list[EntityMatch]:
    return [side for pol in ps.policies for rule in (*pol.ingress, *pol.egress)
            for side in (rule.source, rule.destination) if side is not None]


def observed(ps: PolicySet) -> Observed:
    keys: set[str] = set(ALWAYS_KEYS)
    nets: set[IPNet] = set()
    names: set[str] = set()
    for pol in ps.policies:
        for sel in (pol.selector, pol.ns_selector, pol.sa_selector):
            if sel is not None:
                keys |= sel.label_keys()
    for side in rule_sides(ps):
        keys |= side.keys
        if side.not_selector is not None:
            keys |= side.not_selector.label_keys()
        nets.update(side.nets or ())
        nets.update(side.not_nets or ())
        for pm in (side.ports, side.not_ports):
            if pm is not None:
                names |= pm.names
    nets.update(fs.net for fs in (*ps.failsafe_inbound, *ps.failsafe_outbound) if fs.net is not None)
    return Observed(frozenset(keys), tuple(sorted(nets, key=lambda n: (n.version, str(n)))), frozenset(names))


def _project(labels: Mapping[str, str], keys: frozenset[str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in labels.items() if k in keys))


def build_classes(ps: PolicySet, endpoints: Sequence[Endpoint]) -> tuple[list[EndpointClass], list[int]]:
    """The classes of `endpoints` (in first-seen order) and, per endpoint, the index of its class."""
    seen = observed(ps)
    by_key: dict[tuple[object, ...], EndpointClass] = {}
    classes: list[EndpointClass] = []
    class_of: list[int] = []
    for pos, ep in enumerate(endpoints):
        ent = ps.entity(ep)
        ip = first_ip(None, ep)
        owners = tuple(id(o) for o in ps.peers(ep, ip) if o is not ent)
        named = tuple(sorted((np.name, np.protocol, np.port) for np in ep.ports if np.name in seen.port_names))
        key = (
            ep.kind, ent.namespace,
            _project(ent.labels, seen.keys), _project(ent.ns_labels, seen.keys), _project(ent.sa_labels, seen.keys),
            ip.version if ip is not None else 0,
            tuple(ip is not None and ip.version == n.version and ip in n for n in seen.nets),
            owners, named,
            any(profile_allows(p) for p in profiles_for(ep)),
        )
        cls = by_key.get(key)
        if cls is None:
            cls = EndpointClass(len(classes), ep, ent, ip, ps.peers(ep, ip), tuple(ep.ports))
            by_key[key] = cls
            classes.append(cls)
        cls.members.append(pos)
        class_of.append(cls.index)
    return classes, class_of
