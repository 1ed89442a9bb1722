"""The make-before-break invariant of applying a route-reflector plan, as a pure check over layouts. No I/O.

A client's reflector sessions are the `(reflector, cluster ID)` pairs its calicotool labels give it: every
reflector of every group it is a client of. The cluster ID is part of a session's identity because confd puts
`rr cluster id` on the reflector's end of each client session, and BIRD restarts a session whose options change.

A phase (make: before -> made, then break: made -> after) *keeps* a session when the layouts on both of its sides
have it. The invariant: every node that is a client both before and after the change keeps, in each phase, at
least min(before, after) of its reflector sessions. Reconcile waits between the phases until what make added is
Established, so such a client never has fewer Established reflector sessions than that floor (k, once a plan
is applied: a group has k or more reflectors). Nodes changing role (promoted, demoted) are not clients on both
sides; their own sessions to the same peers continue through the reflector mesh.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from calicotool.bgp.state import BgpNode

ReflectorSession = tuple[str, str | None]  # (reflector name, its cluster ID)
PHASES = ("make", "break")


def client_sessions(nodes: Iterable[BgpNode]) -> dict[str, frozenset[ReflectorSession]]:
    """Each client's reflector sessions under the nodes' labels. A client here is a BGP speaker that is no
    reflector (no cluster ID, no role label) and has at least one client label."""
    nodes = [n for n in nodes if n.address is not None]
    reflectors: dict[str, list[ReflectorSession]] = defaultdict(list)
    for n in nodes:
        for g in n.reflector_groups:
            reflectors[g].append((n.name, n.cluster_id))
    out = {}
    for n in nodes:
        if is_client(n):
            out[n.name] = frozenset(s for g in n.client_groups for s in reflectors.get(g, ()) if s[0] != n.name)
    return out


def is_client(node: BgpNode) -> bool:
    return bool(node.client_groups) and not node.cluster_id and not node.managed_reflector


@dataclass(frozen=True)
class HandoverViolation:
    """In `phase`, `client` keeps only `kept` of its reflector sessions where the invariant needs `floor`."""

    client: str
    phase: str
    kept: int
    floor: int

    def __str__(self) -> str:
        return f"{self.client}: the {self.phase} phase keeps {self.kept} reflector session(s), needs {self.floor}"


@dataclass(frozen=True)
class Handover:
    """Per client (on both sides of the change): its reflector sessions before, made and after, and the floor."""

    before: dict[str, frozenset[ReflectorSession]]
    made: dict[str, frozenset[ReflectorSession]]
    after: dict[str, frozenset[ReflectorSession]]

    @property
    def clients(self) -> list[str]:
        return sorted(set(self.before) & set(self.after))

    def floor(self, client: str) -> int:
        return min(len(self.before[client]), len(self.after[client]))

    def kept(self, client: str, phase: str) -> int:
        """Sessions of `client` that stay untouched through `phase` (up throughout, given they were up)."""
        made = self.made.get(client, frozenset())
        side = self.before[client] if phase == "make" else self.after[client]
        return len(made & side)

    def violations(self) -> list[HandoverViolation]:
        out = []
        for client in self.clients:
            floor = self.floor(client)
            for phase in PHASES:
                kept = self.kept(client, phase)
                if kept < floor:
                    out.append(HandoverViolation(client, phase, kept, floor))
        return out

    def min_kept(self) -> dict[str, int]:
        """Per phase, the fewest sessions any client keeps (what the lab measures as Established at least)."""
        return {p: min((self.kept(c, p) for c in self.clients), default=0) for p in PHASES}


def handover(before: Iterable[BgpNode], made: Iterable[BgpNode], after: Iterable[BgpNode]) -> Handover:
    return Handover(client_sessions(before), client_sessions(made), client_sessions(after))


def check_handover(
    before: Iterable[BgpNode], made: Iterable[BgpNode], after: Iterable[BgpNode]
) -> list[HandoverViolation]:
    """Where applying before -> made -> after would leave a client with fewer sessions than its floor."""
    return handover(before, made, after).violations()
