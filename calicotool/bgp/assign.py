"""Reflector groups and client assignment, with minimal churn.

A group is a set of (about) k reflectors sharing one cluster ID; each client peers with every reflector of its
group. Reflectors and clients keep their current group whenever it survives and is not over capacity; only what
a change forces moves. Pure and deterministic: ties break on group index and a stable hash of node names.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from calicotool.bgp.options import cluster_id_for, group_index, group_name, stable_key
from calicotool.bgp.state import BgpNode


@dataclass(frozen=True)
class ReflectorGroup:
    name: str
    index: int
    cluster_id: str
    reflectors: tuple[str, ...]
    zones: tuple[str, ...]


def build_groups(
    reflectors: list[BgpNode],
    k: int,
    taken_indices: set[int],
    forbidden_cluster_ids: set[str],
) -> tuple[dict[str, ReflectorGroup], list[str]]:
    """Partition the chosen reflectors into max(1, R // k) groups of k (the remainder spread one each), keeping
    current memberships where possible and spreading each group over zones, then racks."""
    warnings: list[str] = []
    count = max(1, len(reflectors) // k)
    current: dict[int, list[BgpNode]] = defaultdict(list)
    free: list[BgpNode] = []
    for node in reflectors:
        idx = _current_index(node)
        (current[idx].append(node) if idx is not None else free.append(node))
    # Keep the groups with the most surviving reflectors; dissolve the rest.
    ranked = sorted(current, key=lambda i: (-len(current[i]), i))
    kept = sorted(ranked[:count])
    for idx in ranked[count:]:
        free.extend(current.pop(idx))
    used = set(taken_indices) | set(kept)
    new_indices: list[int] = []
    candidate = 1
    while len(kept) + len(new_indices) < count:
        if candidate not in used and cluster_id_for(candidate) not in forbidden_cluster_ids:
            new_indices.append(candidate)
        candidate += 1
    indices = kept + new_indices
    members: dict[int, list[BgpNode]] = {i: list(current.get(i, [])) for i in indices}
    # Sizes: k each, the remainder one extra each, preferring groups that already have more members.
    extra = len(reflectors) - k * count
    size = {i: k for i in indices}
    order = sorted(indices, key=lambda i: (-len(members[i]), i))
    for n in range(extra):
        size[order[n % count]] += 1
    for i in indices:
        while len(members[i]) > size[i]:
            free.append(_release(members[i]))
    _fill(members, size, free)
    groups = {}
    for i in sorted(indices):
        nodes = sorted(members[i], key=lambda n: n.name)
        zones = tuple(sorted({n.zone for n in nodes}))
        name = group_name(i)
        groups[name] = ReflectorGroup(name, i, cluster_id_for(i), tuple(n.name for n in nodes), zones)
    return groups, warnings


def _current_index(node: BgpNode) -> int | None:
    for g in node.reflector_groups:
        idx = group_index(g)
        if idx is not None:
            return idx
    return None


def _release(nodes: list[BgpNode]) -> BgpNode:
    """Drop the member whose zone (then rack) is most duplicated in the group; ties by stable hash."""
    zones = Counter(n.zone for n in nodes)
    racks = Counter((n.zone, n.rack) for n in nodes)
    victim = max(nodes, key=lambda n: (zones[n.zone], racks[(n.zone, n.rack)], stable_key(n.name)))
    nodes.remove(victim)
    return victim


def _fill(members: dict[int, list[BgpNode]], size: dict[int, int], free: list[BgpNode]) -> None:
    """Deal free reflectors into groups slot by slot, preferring a zone (then rack) the group lacks and the zone
    with the most free reflectors left."""
    pool = sorted(free, key=lambda n: stable_key(n.name))
    while pool:
        needy = [i for i in sorted(members) if len(members[i]) < size[i]]
        if not needy:
            break
        for i in needy:
            if not pool:
                break
            zones = {n.zone for n in members[i]}
            racks = {(n.zone, n.rack) for n in members[i]}
            left = Counter(n.zone for n in pool)
            pick = min(
                pool,
                key=lambda n: (n.zone in zones, (n.zone, n.rack) in racks, -left[n.zone], stable_key(n.name)),
            )
            pool.remove(pick)
            members[i].append(pick)
    _repair_single_zone(members, {n.name for n in free})


def _repair_single_zone(members: dict[int, list[BgpNode]], movable: set[str]) -> None:
    """Swap newly placed reflectors between groups so no group of two or more sits in a single zone when
    another arrangement exists. Only reflectors placed in this run move (kept ones stay put)."""
    for i in sorted(members):
        group = members[i]
        if len(group) < 2 or len({n.zone for n in group}) > 1:
            continue
        zone = group[0].zone
        mine = [n for n in group if n.name in movable]
        done = False
        for j in sorted(members):
            if j == i or done:
                continue
            for other in sorted(members[j], key=lambda n: stable_key(n.name)):
                if other.name not in movable or other.zone == zone or not mine:
                    continue
                mover = mine[-1]
                rest = [n for n in members[j] if n is not other] + [mover]
                if len({n.zone for n in rest}) > 1 or len(rest) < 2:
                    members[j] = rest
                    group.remove(mover)
                    group.append(other)
                    done = True
                    break


def assign_clients(
    clients: list[BgpNode],
    groups: dict[str, ReflectorGroup],
    max_imbalance: float,
    cap_limit: int | None = None,
) -> tuple[dict[str, str], int, list[str]]:
    """Map each client to a group. A client stays in its current group while that group survives and holds
    fewer than `cap` clients (the mean plus `max_imbalance`, lowered to `cap_limit` when given); the rest go to
    the least-loaded group. Returns (assignment, cap, warnings)."""
    warnings: list[str] = []
    if not groups:
        return {}, 0, warnings
    mean = len(clients) / len(groups)
    cap = max(1, math.ceil(mean * (1.0 + max_imbalance)))
    if cap_limit is not None:
        if cap_limit * len(groups) >= len(clients):
            cap = min(cap, max(1, cap_limit))
        else:
            warnings.append(
                f"session budget cannot be met: {len(clients)} clients over {len(groups)} groups needs "
                f"{math.ceil(mean)} per group, budget allows {cap_limit}; raise --max or the budget"
            )
    load: dict[str, int] = dict.fromkeys(groups, 0)
    out: dict[str, str] = {}
    pending: list[BgpNode] = []
    for node in sorted(clients, key=lambda n: stable_key(n.name)):
        stay = [g for g in node.client_groups if g in groups and load[g] < cap]
        if stay:
            g = min(stay, key=lambda g: (load[g], groups[g].index))
            out[node.name] = g
            load[g] += 1
        else:
            pending.append(node)
    heap = [(load[g], groups[g].index, g) for g in groups]
    heapq.heapify(heap)
    for node in pending:
        n, idx, g = heapq.heappop(heap)
        out[node.name] = g
        heapq.heappush(heap, (n + 1, idx, g))
    return out, cap, warnings
