"""Synthetic clusters of any size and seeded event sequences (join / leave / NotReady), for tests and benchmarks.

Same seed, same cluster: node names, zones, racks and addresses are a pure function of the arguments.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from calicotool.bgp.state import DEFAULT_RACK_LABEL, DEFAULT_ZONE_LABEL, BgpNode, ClusterState
from calicotool.errors import InputError

EPOCH = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
_BASE = int(ipaddress.IPv4Address("10.0.0.0"))


def zone_names(count: int) -> list[str]:
    if count <= 26:
        return [f"zone-{chr(ord('a') + i)}" for i in range(count)]
    return [f"zone-{i:03d}" for i in range(count)]


def make_node(index: int, zone: str, rack: str, now: datetime, ready_for: timedelta = timedelta(days=1)) -> BgpNode:
    """Node number `index`: name node-<index>, address 10.x.y.z/16 derived from the index (unique to 16M)."""
    addr = ipaddress.IPv4Address(_BASE + index + 1)
    return BgpNode(
        name=f"node-{index:05d}",
        zone=zone,
        rack=rack,
        labels={DEFAULT_ZONE_LABEL: zone, DEFAULT_RACK_LABEL: rack},
        ipv4=f"{addr}/8",
        ready=True,
        ready_since=now - ready_for,
    )


def generate_cluster(
    nodes: int,
    zones: int = 3,
    racks_per_zone: int = 4,
    seed: int = 0,
    not_ready: float = 0.0,
    now: datetime = EPOCH,
    mesh_enabled: bool = True,
) -> ClusterState:
    """`nodes` nodes dealt round-robin over zones, racks within a zone at random (seeded); a `not_ready`
    fraction marked NotReady. No route reflectors yet (a full-mesh cluster)."""
    if nodes < 1 or zones < 1 or racks_per_zone < 1:
        raise InputError("nodes, zones and racks must all be >= 1")
    if not 0.0 <= not_ready < 1.0:
        raise InputError("not_ready must be in [0, 1)")
    rng = random.Random(seed)
    names = zone_names(zones)
    out = []
    for i in range(nodes):
        zone = names[i % zones]
        rack = f"{zone}-r{rng.randrange(racks_per_zone) + 1}"
        node = make_node(i, zone, rack, now)
        if not_ready and rng.random() < not_ready:
            node = replace(node, ready=False, ready_since=now - timedelta(hours=1))
        out.append(node)
    return ClusterState(nodes=tuple(out), now=now, mesh_enabled=mesh_enabled, source=f"synthetic:{nodes}x{zones}")


@dataclass(frozen=True)
class ClusterEvent:
    kind: str  # "join" | "leave" | "notready" | "ready"
    node: str


def random_events(state: ClusterState, count: int, seed: int = 1, racks_per_zone: int = 4) -> list[ClusterEvent]:
    """A seeded sequence of joins, leaves and NotReady/Ready flips over a cluster's lifetime."""
    rng = random.Random(seed)
    alive = [n.name for n in state.nodes]
    down: list[str] = []
    next_id = max((int(n.name.split("-")[-1]) for n in state.nodes if n.name.split("-")[-1].isdigit()), default=0) + 1
    events = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.3 or len(alive) < 4:
            name = f"node-{next_id:05d}"
            next_id += 1
            alive.append(name)
            events.append(ClusterEvent("join", name))
        elif roll < 0.55:
            name = alive.pop(rng.randrange(len(alive)))
            events.append(ClusterEvent("leave", name))
        elif roll < 0.85 or not down:
            name = alive.pop(rng.randrange(len(alive)))
            down.append(name)
            events.append(ClusterEvent("notready", name))
        else:
            name = down.pop(rng.randrange(len(down)))
            alive.append(name)
            events.append(ClusterEvent("ready", name))
    return events


def apply_event(
    state: ClusterState, event: ClusterEvent, step: timedelta = timedelta(minutes=10), racks_per_zone: int = 4
) -> ClusterState:
    """The cluster after one event, `step` later. Labels (the current RR layout) are kept as they are."""
    now = state.now + step
    nodes = list(state.nodes)
    if event.kind == "join":
        index = int(event.node.split("-")[-1])
        zones = sorted({n.zone for n in nodes}) or zone_names(1)
        zone = zones[index % len(zones)]
        rack = f"{zone}-r{index % racks_per_zone + 1}"
        nodes.append(make_node(index, zone, rack, now, ready_for=timedelta(0)))
    elif event.kind == "leave":
        nodes = [n for n in nodes if n.name != event.node]
    else:
        ready = event.kind == "ready"
        nodes = [replace(n, ready=ready, ready_since=now) if n.name == event.node else n for n in nodes]
    return replace(state, nodes=tuple(nodes), now=now)
