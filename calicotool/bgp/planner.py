"""The route-reflector planner: ClusterState + PlanOptions -> RouteReflectorPlan. Pure and deterministic.

Steps: split nodes into reflector candidates per zone (eligibility), decide how many reflectors each zone gets
(ratio or budget), keep the current reflectors that may stay and add spread-out new ones, group them k at a time
with stable cluster IDs, then attach clients to groups keeping current assignments. The plan is a value: print
it, diff it (`churn`), check it (`tolerance`), turn it into Calico resources (`resources`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from calicotool.bgp.assign import ReflectorGroup, assign_clients, build_groups
from calicotool.bgp.eligibility import may_stay, promotion_blockers, retention_blockers
from calicotool.bgp.options import PlanOptions, group_index
from calicotool.bgp.selection import ZoneTarget, choose_zone_reflectors, zone_targets
from calicotool.bgp.sessions import external_sessions
from calicotool.bgp.state import BgpNode, ClusterState
from calicotool.errors import InputError
from calicotool.wording import labelled, plural


@dataclass
class RouteReflectorPlan:
    """The desired layout. `groups` hold reflectors (and their cluster ID); `client_group` maps every other
    planned node to its group; `left_out` are nodes the plan does not touch (no address, unmanaged RRs)."""

    state: ClusterState
    options: PlanOptions
    groups: dict[str, ReflectorGroup]
    client_group: dict[str, str]
    zones: list[ZoneTarget]
    client_cap: int
    promoted: list[str] = field(default_factory=list)
    demoted: dict[str, list[str]] = field(default_factory=dict)  # name -> reasons
    left_out: dict[str, str] = field(default_factory=dict)  # name -> reason
    warnings: list[str] = field(default_factory=list)

    @property
    def reflector_group(self) -> dict[str, str]:
        return {rr: g.name for g in self.groups.values() for rr in g.reflectors}

    @property
    def reflectors(self) -> list[str]:
        return sorted(self.reflector_group)

    def clients_of(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {g: [] for g in self.groups}
        for client, g in self.client_group.items():
            out[g].append(client)
        return out

    def load(self) -> dict[str, int]:
        """BGP sessions calicotool configures per reflector: its group's clients plus the other calicotool
        reflectors (the reflector mesh). Hand-made reflectors are not in that mesh (see `unmanaged_reflectors`)."""
        per_group = {g: len(c) for g, c in self.clients_of().items()}
        mesh = len(self.reflector_group) - 1
        return {rr: per_group[g] + mesh for rr, g in sorted(self.reflector_group.items())}

    def unmanaged_reflectors(self) -> list[str]:
        """Hand-made reflectors (a cluster ID without calicotool's role label): left completely alone, never
        peered with calicotool's reflectors; they keep only the sessions their own BGPPeers give them."""
        return sorted(n for n, why in self.left_out.items() if why.startswith("unmanaged"))

    def sessions(self) -> int:
        """Planned BGP sessions between cluster nodes (client-to-reflector plus the reflector mesh)."""
        r = len(self.reflector_group)
        per_group = {g: len(grp.reflectors) for g, grp in self.groups.items()}
        return sum(per_group[g] for g in self.client_group.values()) + r * (r - 1) // 2


def plan_route_reflectors(state: ClusterState, opts: PlanOptions) -> RouteReflectorPlan:
    """Compute the route-reflector plan. Raises InputError for bad options or an impossible request."""
    opts.validate()
    if not state.nodes:
        raise InputError("the cluster has no nodes to plan for")
    now, rules = state.now, opts.rules
    warnings: list[str] = []
    left_out: dict[str, str] = {}
    demoted: dict[str, list[str]] = {}
    speakers: list[BgpNode] = []
    for node in state.nodes:
        if node.unmanaged_reflector:
            left_out[node.name] = f"unmanaged route reflector (cluster ID {node.cluster_id}); not touched"
        elif node.address is None:
            left_out[node.name] = "no BGP IPv4 address"
            if node.managed_reflector:
                demoted[node.name] = ["no BGP IPv4 address"]
        else:
            speakers.append(node)
    if left_out:
        missing = sorted(n for n, why in left_out.items() if why == "no BGP IPv4 address")
        if missing:
            warnings.append(f"{plural(len(missing), 'node')} without a BGP IPv4 address left out: {_names(missing)}")
    if not speakers:
        raise InputError("no node has a BGP IPv4 address: nothing to plan")

    staying: dict[str, list[BgpNode]] = defaultdict(list)
    promotable: dict[str, list[BgpNode]] = defaultdict(list)
    for node in speakers:
        staying.setdefault(node.zone, [])
        promotable.setdefault(node.zone, [])
        if node.managed_reflector:
            if may_stay(node, now, rules):
                staying[node.zone].append(node)
                if not node.ready:
                    warnings.append(f"reflector {node.name} is NotReady; kept within the demote-after grace")
                continue
            demoted[node.name] = retention_blockers(node, now, rules)
        if not promotion_blockers(node, now, rules):
            promotable[node.zone].append(node)

    candidates = {z: staying[z] + promotable[z] for z in staying}
    targets = zone_targets(candidates, len(speakers), opts)
    wanted = {z: t[0] for z, t in targets.items()}
    available = sum(len(v) for v in candidates.values())
    if available < opts.k:
        raise InputError(
            f"k={opts.k} reflectors per client, but only {plural(available, 'node')} may be route reflectors "
            f"(eligible: Ready >= {int(rules.damping_seconds)}s, schedulable, untainted, not excluded)"
        )
    chosen: dict[str, list[BgpNode]] = {}
    for zone in sorted(candidates):
        chosen[zone] = choose_zone_reflectors(staying[zone], promotable[zone], *targets[zone])
        if wanted[zone] > len(chosen[zone]) or (not candidates[zone] and opts.min_per_zone > 0):
            warnings.append(
                f"{_zname(zone)}: wanted {plural(max(wanted[zone], opts.min_per_zone), 'reflector')}, "
                f"only {len(chosen[zone])} eligible"
            )
    _top_up(chosen, staying, promotable, opts.k, warnings)
    reflectors = [n for z in sorted(chosen) for n in chosen[z]]
    rr_names = {n.name for n in reflectors}
    for node in speakers:
        if node.managed_reflector and node.name not in demoted and node.name not in rr_names:
            demoted[node.name] = ["scaled down"]

    taken = {i for n in state.nodes for g in n.reflector_groups if (i := group_index(g))}
    forbidden = {n.cluster_id for n in state.nodes if n.unmanaged_reflector and n.cluster_id}
    groups, group_warnings = build_groups(reflectors, opts.k, taken, forbidden)
    warnings.extend(group_warnings)

    clients = [n for n in speakers if n.name not in rr_names]
    cap_limit = None
    if opts.budget is not None:
        cap_limit = opts.budget - (len(reflectors) - 1)
    client_group, cap, assign_warnings = assign_clients(clients, groups, opts.max_imbalance, cap_limit)
    warnings.extend(assign_warnings)
    _domain_warnings(groups, state, warnings)
    warnings.extend(_unmanaged_warnings(state, left_out, rr_names))

    zones = [ZoneTarget(z, len(candidates[z]), wanted[z], len(chosen[z])) for z in sorted(candidates)]
    promoted = sorted(n.name for n in reflectors if not n.managed_reflector)
    return RouteReflectorPlan(
        state, opts, groups, client_group, zones, cap, promoted, dict(sorted(demoted.items())), left_out, warnings
    )


def _top_up(
    chosen: dict[str, list[BgpNode]],
    staying: dict[str, list[BgpNode]],
    promotable: dict[str, list[BgpNode]],
    k: int,
    warnings: list[str],
) -> None:
    """Make sure there are at least k reflectors overall, adding one at a time to the zone with the fewest."""
    total = sum(len(v) for v in chosen.values())
    if total >= k:
        return
    while total < k:
        spare = {
            z: [n for n in staying[z] + promotable[z] if n not in chosen[z]] for z in chosen
        }
        zones = [z for z in sorted(chosen, key=lambda z: (len(chosen[z]), z)) if spare[z]]
        zone = zones[0]
        chosen[zone].extend(choose_zone_reflectors([], spare[zone], 1))
        total += 1
    warnings.append(f"raised the reflector count to k={k} so every client can have k reflectors")


def _domain_warnings(groups: dict[str, ReflectorGroup], state: ClusterState, warnings: list[str]) -> None:
    zones_with_rr = {z for g in groups.values() for z in g.zones}
    if len(state.zones) > 1 and len(zones_with_rr) == 1:
        warnings.append(
            f"all calicotool route reflectors sit in {_zname(next(iter(zones_with_rr)))}: losing that zone "
            "leaves clients elsewhere without one"
        )
    elif len(state.zones) == 1:
        warnings.append("single failure domain (one zone): reflectors are spread over racks only")
    if len(zones_with_rr) > 1:
        single = [g.name for g in groups.values() if len(g.zones) == 1 and len(g.reflectors) > 1]
        if single:
            warnings.append(f"{'group' if len(single) == 1 else 'groups'} {', '.join(single)} "
                            f"{'has' if len(single) == 1 else 'have'} all reflectors in one zone")


def _unmanaged_warnings(state: ClusterState, left_out: dict[str, str], reflectors: set[str]) -> list[str]:
    """Say when a hand-made reflector exchanges routes with none of calicotool's reflectors: calicotool will
    not peer with it (it is not ours), so only the nodes its own BGPPeers name learn its routes, and it theirs."""
    hand_made = sorted(n for n, why in left_out.items() if why.startswith("unmanaged"))
    if not hand_made:
        return []
    peers: dict[str, set[str]] = {n: set() for n in hand_made}
    for a, b in external_sessions(state):
        for x, y in ((a, b), (b, a)):
            if x in peers:
                peers[x].add(y)
    out = []
    for name in hand_made:
        if peers[name] & reflectors:
            continue
        mine = sorted(p for p in peers[name] if not p.startswith("peer:"))
        reach = f"only its own BGPPeers' nodes ({_names(mine)})" if mine else "no cluster node"
        out.append(
            f"hand-made route reflector {name} is not managed by calicotool and has no session to its reflectors: "
            f"{reach} exchange routes with it (it is outside the node-to-node mesh too). Peer it with a BGPPeer "
            f"of your own (peerSelector rr.calicotool.io/role == 'reflector'), or hand it over by removing its "
            "cluster ID"
        )
    return out


def _zname(zone: str) -> str:
    """"zone a", but "zone-a" for a zone whose name already says so (never "zone zone-a")."""
    return labelled("zone", zone)


def _names(names: list[str], limit: int = 8) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" (+{len(names) - limit} more)" if len(names) > limit else "")
