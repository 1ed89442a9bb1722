"""A route-reflector layout change on real BIRD, phase by phase: before -> make -> (wait) -> break.

Each phase rewrites the configs of the nodes it changes and reloads their BIRD (as confd would after the
datastore write), then polls every client's Established sessions until the whole lab has converged (every
configured session Established, every block routed: the lab's stand-in for reconcile's CalicoNodeStatus gate).
The lowest count seen per phase is the figure: with make-before-break it never drops below the floor
(min(before, after) sessions per client, which is k for a planner layout).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from calicotool.bgp.state import ClusterState
from calicotool.errors import HostError
from calicotool.lab import bird_process as bp
from calicotool.lab.bird_config import protocol_name
from calicotool.lab.runner import LabState, lab_report, reconfigure_lab
from calicotool.lab.topology import LabTopology


def layout_topology(state: ClusterState) -> LabTopology:
    """The sessions calicotool's labels and cluster IDs give the cluster (mesh off), as a lab topology. Nodes get
    addresses in name order, so every phase of one cluster maps to the same lab."""
    from dataclasses import replace

    from calicotool.bgp.mesh import current_graph
    from calicotool.lab.from_plan import topology_from_graph

    return topology_from_graph(current_graph(replace(state, mesh_enabled=False)), description="rr layout")


def sessions_up(state: LabState, clients: Iterable[str]) -> dict[str, int]:
    """Established BGP sessions of each client towards nodes that are reflectors in the running topology."""
    nodes = state.topology.by_name()
    reflector_ips = {n.router_ip for n in state.topology.nodes if n.is_reflector}
    out = {}
    for name in clients:
        protocols = bp.protocols(state.paths(name))
        wanted = {protocol_name(p) for p in nodes[name].peers if p.ip in reflector_ips}
        out[name] = sum(1 for p in wanted if p in protocols and protocols[p].established)
    return out


@dataclass
class PhaseFigures:
    """One phase: the lowest Established reflector-session count any client had, and who, over `samples` polls
    from the reload until convergence (`seconds`)."""

    phase: str
    min_up: int
    lowest: str
    samples: int
    seconds: float


@dataclass
class HandoverRun:
    floor: int  # min over clients of min(sessions before, sessions after)
    before: int  # the lowest count once the starting layout converged
    phases: list[PhaseFigures] = field(default_factory=list)

    @property
    def min_up(self) -> int:
        return min([self.before, *(p.min_up for p in self.phases)])


def run_phase(
    state: LabState, topo: LabTopology, phase: str, clients: list[str], timeout: float = 60.0, interval: float = 0.2
) -> PhaseFigures:
    """Reload the lab into `topo`, then poll the clients' sessions until the lab converges (HostError past
    `timeout`)."""
    start = time.monotonic()
    reconfigure_lab(state, topo)
    low, who, samples = 1 << 30, "", 0
    while True:
        for name, up in sessions_up(state, clients).items():
            if up < low:
                low, who = up, name
        samples += 1
        if lab_report(state).converged:
            return PhaseFigures(phase, low, who, samples, round(time.monotonic() - start, 2))
        if time.monotonic() - start > timeout:
            raise HostError(f"lab {state.name}: the {phase} phase did not converge in {timeout:.0f}s")
        time.sleep(interval)


def drive_handover(
    state: LabState, made: ClusterState, after: ClusterState, clients: list[str], floor: int, timeout: float = 60.0
) -> HandoverRun:
    """From the converged starting layout the lab runs now: the make phase, the wait, the break phase."""
    run = HandoverRun(floor, min(sessions_up(state, clients).values(), default=0))
    for phase, cluster in (("make", made), ("break", after)):
        run.phases.append(run_phase(state, layout_topology(cluster), phase, clients, timeout))
    return run
