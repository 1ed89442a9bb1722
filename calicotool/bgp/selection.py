"""How many reflectors each zone gets, and which nodes they are (keeping the current ones that may stay)."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass

from calicotool.bgp.options import PlanOptions, stable_key
from calicotool.bgp.state import BgpNode


@dataclass(frozen=True)
class ZoneTarget:
    zone: str
    eligible: int  # nodes that may be a reflector now (promotable or staying)
    wanted: int  # what the formula asks for
    chosen: int  # what the zone can give


def zone_targets(
    candidates: dict[str, list[BgpNode]], clients_estimate: int, opts: PlanOptions
) -> dict[str, tuple[int, int]]:
    """Per zone: (wanted, keep_limit). `wanted` is the ratio formula or the budget share, clamped; existing
    reflectors are kept up to `keep_limit`, the same figure with `opts.hysteresis` added, so a zone whose
    eligible count wobbles around a rounding threshold does not demote and re-promote a reflector each time."""
    zones = sorted(candidates)
    if opts.budget is None:
        raw = {z: len(candidates[z]) * opts.ratio for z in zones}
        wanted = {z: math.ceil(raw[z]) for z in zones}
    else:
        # Budget mode: each reflector carries its group's clients plus the reflector mesh; find the reflector
        # count that keeps that under the budget, then spread it over zones by eligible share.
        total_eligible = sum(len(v) for v in candidates.values()) or 1
        need = budget_reflectors(clients_estimate, opts.k, opts.budget, total_eligible)
        raw = {z: need * len(candidates[z]) / total_eligible for z in zones}
        wanted = {z: math.floor(s) for z, s in raw.items()}
        spare = need - sum(wanted.values())
        for z in sorted(zones, key=lambda z: (-(raw[z] - wanted[z]), z))[:spare]:
            wanted[z] += 1
    out = {}
    for z in zones:
        if not candidates[z]:
            out[z] = (0, 0)
            continue
        want = _clamp(wanted[z], opts)
        out[z] = (want, max(want, _clamp(math.ceil(raw[z] * (1.0 + opts.hysteresis)), opts)))
    return out


def budget_reflectors(nodes: int, k: int, budget: int, available: int) -> int:
    """Smallest multiple of k reflectors R with ceil(clients / (R / k)) + (R - 1) <= budget, where clients =
    nodes - R (a reflector carries its group's clients plus the reflector mesh). When no R fits (the mesh term
    grows with R), the R with the lowest load; never more than `available`."""
    best_r, best_load = k, None
    r = k
    while r <= max(k, available):
        groups = r // k
        load = math.ceil(max(0, nodes - r) / groups) + r - 1
        if load <= budget:
            return r
        if best_load is None or load < best_load:
            best_r, best_load = r, load
        elif load > best_load:
            break  # past the minimum: more reflectors only add mesh sessions
        r += k
    return best_r


def _clamp(n: int, opts: PlanOptions) -> int:
    return max(opts.min_per_zone, min(opts.max_per_zone, n))


def choose_zone_reflectors(
    staying: list[BgpNode], promotable: list[BgpNode], want: int, keep_limit: int | None = None
) -> list[BgpNode]:
    """Keep current reflectors first, up to `keep_limit` (dropping rack duplicates first when scaling down),
    then add promotable nodes from the racks with the fewest reflectors until `want`. Deterministic."""
    limit = want if keep_limit is None else max(want, keep_limit)
    keep = _spread_pick(staying, min(len(staying), limit), {})
    if len(keep) >= want:
        return keep
    per_rack: dict[str, int] = defaultdict(int)
    for node in keep:
        per_rack[node.rack] += 1
    return keep + _spread_pick(promotable, want - len(keep), per_rack)


def _spread_pick(pool: list[BgpNode], count: int, per_rack: dict[str, int]) -> list[BgpNode]:
    """Pick `count` nodes, each time from the rack holding the fewest picks so far (ties: stable hash)."""
    if count <= 0 or not pool:
        return []
    by_rack: dict[str, list[BgpNode]] = defaultdict(list)
    for node in pool:
        by_rack[node.rack].append(node)
    for nodes in by_rack.values():
        nodes.sort(key=lambda n: stable_key(n.name), reverse=True)  # pop() takes the smallest key
    heap = [(per_rack.get(rack, 0), stable_key(nodes[-1].name), rack) for rack, nodes in by_rack.items()]
    heapq.heapify(heap)
    picked: list[BgpNode] = []
    while heap and len(picked) < count:
        used, _, rack = heapq.heappop(heap)
        nodes = by_rack[rack]
        picked.append(nodes.pop())
        if nodes:
            heapq.heappush(heap, (used + 1, stable_key(nodes[-1].name), rack))
    return picked
