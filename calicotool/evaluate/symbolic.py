"""Whole-cluster evaluation on every port at once: endpoint classes x port atoms x peer bitsets.

For one class and one direction (its egress, or its ingress) the port space of each protocol is cut at every
boundary a relevant rule, named port or failsafe port has, so that inside one piece ("atom") no rule changes its
mind. Each atom is walked once, with the set of all peer classes as a bitset (a Python int): a rule takes the peers
it matches out of the undecided set (Allow/Deny) or out of the tier (Pass); a tier's default Deny takes what is
left at its end; profiles allow or deny the rest. This is the walk of `evaluator.PolicySet` (failsafes,
untracked, pre-DNAT, tiers in order, Pass, Log, staged ignored) done for all peers and ports at once, so the
answer for (source, destination, protocol, port) is egress(source) ∩ ingress(destination), as for one flow.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from calicotool.evaluate.classes import EndpointClass
from calicotool.evaluate.entities import IPNet
from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.hosts import FailsafePort, profile_allows, profiles_for
from calicotool.evaluate.model import Direction
from calicotool.evaluate.policies import CompiledPolicy, CompiledRule
from calicotool.evaluate.portset import MAX_PORT, PortSet, Ranges, intersect, merge
from calicotool.evaluate.rules import PORT_PROTOCOLS, EntityMatch, PortMatch
from calicotool.evaluate.walk import tier_info
from calicotool.policy.endpoint import Endpoint, EndpointKind

Atoms = list[tuple[int, int, int]]  # (first port, last port, bitset of peer classes allowed)
Prepared = tuple[str, int, "EntityMatch | None", "EntityMatch | None"]  # action, peers, own / peer port checks
Plan = list[tuple[bool, list[Prepared]]]  # per tier in walk order: does its end deny, its rules


def _own_port_ok(own: EntityMatch, proto: int, port: int | None, c: EndpointClass) -> bool:
    """The destination-port part of an ingress rule's destination, for this (destination) class."""
    if own.ports is not None and (port is None or not own.ports.matches(port, proto, c.named)):
        return False
    return not (own.not_ports is not None and port is not None and own.not_ports.matches(port, proto, c.named))


def full_range(protocol: int) -> Ranges:
    return ((0, MAX_PORT),) if protocol in PORT_PROTOCOLS else ((0, 0),)


class DirectionAnswer:
    """One class's egress or ingress: per protocol, the atoms and which peer classes each allows. Also kept
    transposed, per peer: the ranges open to every peer (`common`) and each peer's own ranges (`by_peer`)."""

    def __init__(self, atoms: dict[int, Atoms], everyone: int) -> None:
        self.atoms = atoms
        self.full = {p: len(a) == 1 and a[0][2] == everyone for p, a in atoms.items()}
        self.common: dict[int, Ranges] = {}
        self.by_peer: dict[int, dict[int, Ranges]] = {}
        for protocol, proto_atoms in atoms.items():
            self._transpose(protocol, proto_atoms, everyone)

    def ranges(self, protocol: int, peer: int) -> Ranges:
        common = self.common[protocol]
        own = self.by_peer[protocol].get(peer)
        if own is None:
            return common
        return merge((*common, *own)) if common else own

    def _transpose(self, protocol: int, atoms: Atoms, everyone: int) -> None:
        common: list[tuple[int, int]] = []
        lists: dict[int, list[tuple[int, int]]] = {}
        for lo, hi, bits in atoms:
            if bits == everyone:
                common.append((lo, hi))
                continue
            while bits:
                low = bits & -bits
                k = low.bit_length() - 1
                bits ^= low
                got = lists.get(k)
                if got is None:
                    lists[k] = [(lo, hi)]
                elif got[-1][1] + 1 == lo:
                    got[-1] = (got[-1][0], hi)
                else:
                    got.append((lo, hi))
        self.common[protocol] = merge(common)
        self.by_peer[protocol] = {k: tuple(v) for k, v in lists.items()}


def boundaries(policies: Sequence[CompiledPolicy], d: Direction, proto: int, named: Sequence[tuple[str, int]],
               failsafes: Sequence[FailsafePort]) -> list[int]:
    """Sorted first ports of the atoms of `proto`: where a destination port range of a rule of `policies` (for
    direction `d`), a named port in `named` ((name, port) it resolves to) or a failsafe port starts or ends."""
    if proto not in PORT_PROTOCOLS:
        return [0]
    points = {0}

    def add(lo: int, hi: int) -> None:
        points.add(lo)
        if hi < MAX_PORT:
            points.add(hi + 1)

    for pol in policies:
        for rule in pol.rules(d):
            dst = rule.destination
            for pm in (dst.ports, dst.not_ports) if dst is not None else ():
                if pm is None:
                    continue
                for lo, hi in pm.ranges:
                    add(lo, hi)
                for name, port in named:
                    if name in pm.names:
                        add(port, port)
    for fs in failsafes:
        if fs.protocol == proto:
            add(fs.port, fs.port)
    return sorted(points)


def probe_ports(ps: PolicySet, src: Endpoint, dst: Endpoint, proto: int) -> list[int]:
    """One port per atom of the flow (src -> dst, proto): checking the pairwise evaluator at these ports checks
    every port (between two of them no rule of either side's policies changes its answer)."""
    named = [(np.name, np.port) for np in dst.ports if np.protocol == proto]
    points: set[int] = set()
    for ep, d, fs in ((src, Direction.EGRESS, ps.failsafe_outbound), (dst, Direction.INGRESS, ps.failsafe_inbound)):
        pols = [p for p in ps.applicable(ep) if d in p.types]
        points.update(boundaries(pols, d, proto, named, fs if ep.kind is EndpointKind.HOST else ()))
    return sorted(points)


class ClassMatrix:
    """Egress and ingress of every class, for `protocols`; `ports(src, dst)` is the allowed PortSet of a pair."""

    def __init__(self, ps: PolicySet, classes: Sequence[EndpointClass], protocols: Sequence[int]) -> None:
        self.ps = ps
        self.classes = list(classes)
        self.protocols = tuple(sorted(set(protocols)))
        self.all = (1 << len(self.classes)) - 1
        self._peer_cache: dict[object, int] = {}
        self._label_index: dict[tuple[str, str], int] = {}
        self._named: dict[tuple[str, int, int], int] = {}
        self._version: dict[int, int] = {4: 0, 6: 0}
        self._no_ip = self._owned = 0
        for c in self.classes:
            bit = 1 << c.index
            for item in c.entity.labels.items():
                self._label_index[item] = self._label_index.get(item, 0) | bit
            for np in c.named:
                key = (np.name, np.protocol, np.port)
                self._named[key] = self._named.get(key, 0) | bit
            if c.ip is None:
                self._no_ip |= bit
            else:
                self._version[c.ip.version] |= bit
            if len(c.peers) > (0 if c.rep.kind is EndpointKind.IP else 1):
                self._owned |= bit
        self.egress = [self._direction(c, Direction.EGRESS) for c in self.classes]
        self.ingress = [self._direction(c, Direction.INGRESS) for c in self.classes]

    # -- answers --------------------------------------------------------------------------------------------------
    def ports(self, src: int, dst: int) -> PortSet:
        eg, ing = self.egress[src], self.ingress[dst]
        out = []
        for p in self.protocols:
            if eg.full[p]:
                ranges = ing.ranges(p, src)
            elif ing.full[p]:
                ranges = eg.ranges(p, dst)
            else:
                ranges = intersect(eg.ranges(p, dst), ing.ranges(p, src))
            if ranges:
                out.append((p, ranges))
        return PortSet(tuple(out))

    # -- one class, one direction --------------------------------------------------------------------------------
    def _direction(self, c: EndpointClass, d: Direction) -> DirectionAnswer:
        if not c.enforces:
            return DirectionAnswer({p: [(0, full_range(p)[0][1], self.all)] for p in self.protocols}, self.all)
        selected = [p for p in self.ps.applicable(c.rep) if d in p.types and not p.staged]
        is_host = c.rep.kind is EndpointKind.HOST
        failsafes: Sequence[FailsafePort] = ()
        stages: list[tuple[str, list[CompiledPolicy]]] = []
        if is_host:
            failsafes = self.ps.failsafe_inbound if d is Direction.INGRESS else self.ps.failsafe_outbound
            stages.append(("untracked", [p for p in selected if p.do_not_track]))
            if d is Direction.INGRESS:
                stages.append(("pre-dnat", [p for p in selected if p.pre_dnat and not p.do_not_track]))
        stages.append(("normal", [p for p in selected if not p.do_not_track and not p.pre_dnat]))
        profile = any(profile_allows(p) for p in profiles_for(c.rep))
        out: dict[int, Atoms] = {}
        for proto in self.protocols:
            plan = self._plan(c, d, proto, stages)
            safe = [(fs.port, self._net_bits(fs.net)) for fs in failsafes if fs.protocol == proto]
            atoms: Atoms = []
            points = self._breakpoints(c, d, proto, selected, failsafes)
            for i, lo in enumerate(points):
                hi = points[i + 1] - 1 if i + 1 < len(points) else full_range(proto)[0][1]
                port = lo if proto in PORT_PROTOCOLS else None
                bits = self._walk(c, proto, port, plan, safe, profile)
                if atoms and atoms[-1][2] == bits:
                    atoms[-1] = (atoms[-1][0], hi, bits)
                else:
                    atoms.append((lo, hi, bits))
            out[proto] = atoms
        return DirectionAnswer(out, self.all)

    def _breakpoints(self, c: EndpointClass, d: Direction, proto: int, policies: Sequence[CompiledPolicy],
                     failsafes: Sequence[FailsafePort]) -> list[int]:
        named = [(np.name, np.port) for np in c.named if np.protocol == proto] if d is Direction.INGRESS else \
            [(name, port) for name, p, port in self._named if p == proto]
        return boundaries(policies, d, proto, named, failsafes)

    def _plan(self, c: EndpointClass, d: Direction, proto: int,
              stages: Sequence[tuple[str, list[CompiledPolicy]]]) -> Plan:
        """The walk for one class, direction and protocol with everything that does not depend on the port
        worked out: per stage, per tier in order, whether its end denies, and its rules that can match."""
        plan: Plan = []
        for stage, pols in stages:
            tiers: dict[str, list[CompiledPolicy]] = {}
            for pol in pols:
                tiers.setdefault(pol.tier, []).append(pol)
            for name in sorted(tiers, key=lambda n: tier_info(self.ps.tiers, n).sort_key):
                info = tier_info(self.ps.tiers, name)
                rules = [r for pol in tiers[name] for rule in pol.rules(d)
                         if rule.action != "Log" and (r := self._prepare(c, d, rule, proto)) is not None]
                plan.append((stage == "normal" and info.default_action != "Pass", rules))
        return plan

    def _prepare(self, c: EndpointClass, d: Direction, rule: CompiledRule, proto: int) -> Prepared | None:
        """(action, peers it can match whatever the port, own-side port check, peer-side port check), or None
        when the rule cannot match this class for `proto` at all."""
        if rule.unsupported or rule.icmp is not None:  # no ICMP type in a port/protocol question
            return None
        if (rule.protocol is not None and proto != rule.protocol) or rule.not_protocol == proto:
            return None
        ingress = d is Direction.INGRESS
        own, peer = (rule.destination, rule.source) if ingress else (rule.source, rule.destination)
        own_ports = None
        if own is not None:
            if not own.matches_peer(c.ip, c.peers):
                return None
            if own.ports is not None and (not ingress or proto not in PORT_PROTOCOLS):
                return None  # a source port is never known; a port-less protocol has no destination port
            if ingress and (own.ports is not None or (own.not_ports is not None and proto in PORT_PROTOCOLS)):
                own_ports = own
        bits = self.all
        if rule.ip_version is not None:
            bits &= self._version_bits(c, ingress, rule.ip_version)
        peer_ports = None
        if peer is not None:
            bits &= self._peer_bits(peer)
            if ingress and peer.ports is not None:
                return None
            if not ingress and (peer.ports is not None or peer.not_ports is not None):
                peer_ports = peer
        return (rule.action, bits, own_ports, peer_ports) if bits else None

    def _walk(self, c: EndpointClass, proto: int, port: int | None, plan: Plan, safe: list[tuple[int, int]],
              profile: bool) -> int:
        remaining, allowed = self.all, 0
        for fs_port, fs_bits in safe:
            if fs_port == port:
                hit = remaining & fs_bits
                allowed |= hit
                remaining &= ~hit
        for deny_at_end, rules in plan:
            if not remaining:
                return allowed
            pending = remaining
            for action, bits, own_ports, peer_ports in rules:
                hit = pending & bits
                if not hit:
                    continue
                if own_ports is not None and not _own_port_ok(own_ports, proto, port, c):
                    continue
                if peer_ports is not None:
                    hit &= self._port_bits(peer_ports, proto, port)
                    if not hit:
                        continue
                if action == "Allow":
                    allowed |= hit
                if action != "Pass":
                    remaining &= ~hit
                pending &= ~hit
                if not pending:
                    break
            if pending and deny_at_end:
                remaining &= ~pending
        return allowed | remaining if profile else allowed

    def _version_bits(self, c: EndpointClass, ingress: bool, version: int) -> int:
        """Peers for which the flow's IP version (the source's, else the destination's, else 4) is `version`."""
        own = c.ip.version if c.ip is not None else None
        if not ingress and own is not None:  # egress: the source is this class
            return self.all if own == version else 0
        fallback = own if ingress and own is not None else 4
        return self._version.get(version, 0) | (self._no_ip if fallback == version else 0)

    def _peer_bits(self, em: EntityMatch) -> int:
        key: object = id(em) if em.positive is not None else (em.nets, em.not_nets, em.not_selector, em.unsupported)
        found = self._peer_cache.get(key)
        if found is not None:
            return found
        if em.positive is not None and em.hint is not None:
            label, values = em.hint
            candidates = self._owned
            for value in values:
                candidates |= self._label_index.get((label, value), 0)
        else:
            candidates = self.all
        bits = 0
        while candidates:
            low = candidates & -candidates
            k = low.bit_length() - 1
            c = self.classes[k]
            if em.matches_peer(c.ip, c.peers):
                bits |= low
            candidates ^= low
        self._peer_cache[key] = bits
        return bits

    def _port_bits(self, em: EntityMatch, proto: int, port: int | None) -> int:
        bits = self.all
        if em.ports is not None:
            if proto not in PORT_PROTOCOLS or port is None:
                return 0
            bits = self._port_match_bits(em.ports, proto, port)
        if em.not_ports is not None and proto in PORT_PROTOCOLS and port is not None:
            bits &= ~self._port_match_bits(em.not_ports, proto, port)
        return bits

    def _port_match_bits(self, pm: PortMatch, proto: int, port: int) -> int:
        if any(lo <= port <= hi for lo, hi in pm.ranges):
            return self.all
        bits = 0
        for name in pm.names:
            bits |= self._named.get((name, proto, port), 0)
        return bits

    def _net_bits(self, net: IPNet | None) -> int:
        if net is None:
            return self.all
        bits = 0
        for c in self.classes:
            if c.ip is not None and c.ip.version == net.version and c.ip in net:
                bits |= 1 << c.index
        return bits
