"""What "converged" means for a lab, as pure functions over what the kernel and BIRD report.

A node is converged when every BGP session it is configured with towards a running node is Established, and
its kernel table holds, for every other running node's block, a route BIRD installed via that node's router IP
(plus a blackhole for each of its own blocks).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from calicotool.lab.bird_config import protocol_name
from calicotool.lab.bird_process import ProtocolState
from calicotool.lab.netns import RouteEntry
from calicotool.lab.topology import LabNode, LabTopology


@dataclass(frozen=True)
class NodeReport:
    name: str
    running: bool
    reflector: bool
    sessions_up: int = 0
    sessions_expected: int = 0
    down_sessions: tuple[str, ...] = ()
    blocks_expected: int = 0
    blocks_learned: int = 0
    missing_blocks: tuple[str, ...] = ()
    wrong_next_hop: tuple[str, ...] = ()
    stale_blocks: tuple[str, ...] = ()  # blocks of stopped nodes still routed (graceful-restart stale routes)
    own_blocks_missing: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def converged(self) -> bool:
        return self.running and not (
            self.down_sessions
            or self.missing_blocks
            or self.wrong_next_hop
            or self.stale_blocks
            or self.own_blocks_missing
            or self.errors
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "running": self.running,
            "reflector": self.reflector,
            "sessions": f"{self.sessions_up}/{self.sessions_expected}",
            "blocks": f"{self.blocks_learned}/{self.blocks_expected}",
            "converged": self.converged,
            "downSessions": list(self.down_sessions),
            "missingBlocks": list(self.missing_blocks),
            "wrongNextHop": list(self.wrong_next_hop),
            "staleBlocks": list(self.stale_blocks),
            "errors": list(self.errors),
        }


@dataclass(frozen=True)
class LabReport:
    nodes: tuple[NodeReport, ...]
    stopped: tuple[str, ...] = field(default=())

    @property
    def converged(self) -> bool:
        return all(n.converged for n in self.nodes if n.running)

    def node(self, name: str) -> NodeReport:
        return next(n for n in self.nodes if n.name == name)


def check_sessions(node: LabNode, topo: LabTopology, protocols: dict[str, ProtocolState], alive: set[str]) -> dict:
    """Established vs expected sessions towards running peers (a reflector ignores mesh peers, as in confd)."""
    by_ip = topo.by_ip()
    expected = []
    for peer in node.peers:
        if peer.mesh and node.is_reflector:
            continue
        other = by_ip.get(peer.ip)
        if other is not None and other.name in alive:
            expected.append(protocol_name(peer))
    down = [p for p in expected if not (p in protocols and protocols[p].established)]
    return {"sessions_expected": len(expected), "sessions_up": len(expected) - len(down), "down_sessions": tuple(down)}


def check_routes(node: LabNode, topo: LabTopology, routes: list[RouteEntry], alive: set[str]) -> dict:
    """Every running peer's block via its router IP, no block of a stopped node; own blocks as blackholes."""
    table: dict[str, list[RouteEntry]] = {}
    for r in routes:
        table.setdefault(r.dst, []).append(r)
    missing, wrong, stale, learned, expected = [], [], [], 0, 0
    for other in topo.nodes:
        if other.name == node.name:
            continue
        if other.name not in alive:
            stale += [b for b in other.blocks if any(r.proto == "bird" for r in table.get(b, []))]
            continue
        for block in other.blocks:
            expected += 1
            entries = [r for r in table.get(block, []) if r.proto == "bird" and r.type == "unicast"]
            if not entries:
                missing.append(block)
            elif not any(r.gateway == other.router_ip for r in entries):
                wrong.append(f"{block} via {entries[0].gateway} (want {other.router_ip})")
            else:
                learned += 1
    own_missing = tuple(b for b in node.blocks if not any(r.type == "blackhole" and r.proto == "bird" for r in table.get(b, [])))
    return {
        "blocks_expected": expected,
        "blocks_learned": learned,
        "missing_blocks": tuple(missing),
        "wrong_next_hop": tuple(wrong),
        "stale_blocks": tuple(stale),
        "own_blocks_missing": own_missing,
    }
