"""A route-reflector layout change on real BIRD, phase by phase: before -> make -> (wait) -> break.

Two drivers. `reconcile_on_lab` runs the real `reconcile_once` against a datastore the lab follows
(`calico_node.LabCalicoNode`: confd and calico-node), sampling clients' sessions after every write and status
poll. `drive_handover` loads given layouts straight into BIRD (reload, poll until converged), which can also
replay a make phase reconcile no longer writes (the negative control). Either way the figure is the lowest
number of Established reflector sessions a client had per phase; make-before-break keeps it at or above the
floor (min(before, after) per client, which is k for a planner layout).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime

from calicotool.bgp.mesh import current_graph
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.reconcile import ReconcileResult
from calicotool.bgp.state import ClusterState
from calicotool.datastore.base import Store
from calicotool.errors import HostError, InputError
from calicotool.lab.calico_node import LabCalicoNode, Sample, sessions_up
from calicotool.lab.from_plan import topology_from_graph
from calicotool.lab.runner import LabState, lab_report, reconfigure_lab
from calicotool.lab.topology import LabTopology


def layout_topology(state: ClusterState) -> LabTopology:
    """The sessions calicotool's labels and cluster IDs give the cluster (mesh off), as a lab topology. Nodes get
    addresses in name order, so every phase of one cluster maps to the same lab."""
    return topology_from_graph(current_graph(replace(state, mesh_enabled=False)), description="rr layout")


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


def seed_before(store: Store, before: ClusterState, options: PlanOptions) -> None:
    """Write the starting cluster as the previous reconcile left it: Kubernetes and Calico Nodes with its
    layout, calicotool's BGPPeers and CalicoNodeStatus objects for its reflectors."""
    from calicotool.bgp.planner import plan_route_reflectors
    from calicotool.bgp.resources import plan_changes
    from calicotool.bgp.seed import seed_changes

    store.apply_batch(seed_changes(before))
    nodes = {r.name: r for r in store.list("Node")}
    changes = plan_changes(plan_route_reflectors(before, options), nodes, [])
    if any(c.resource.kind == "Node" for c in changes.all):
        raise InputError("the starting cluster is not a settled layout (re-planning it changes nodes)")
    store.apply_batch(changes.all)


def apply_event(store: Store, before: ClusterState, after: ClusterState) -> list[str]:
    """Cordon or uncordon, on the Kubernetes Nodes, what differs between `before` and `after`."""
    was = before.by_name()
    changed = []
    for node in after.nodes:
        if node.name in was and node.unschedulable != was[node.name].unschedulable:
            res = store.get("KubernetesNode", node.name).copy()
            res.spec["unschedulable"] = node.unschedulable
            store.update(res)
            changed.append(node.name)
    return changed


@dataclass
class ReconcileRun:
    """A real `reconcile_once` against a lab-backed store: its result and every sample, by phase."""

    result: ReconcileResult
    samples: list[Sample]
    floor: int

    def min_up(self, phase: str) -> int | None:
        values = [s.min_up for s in self.samples if s.phase == phase]
        return min(values) if values else None

    def polls(self, phase: str) -> int:
        return sum(1 for s in self.samples if s.phase == phase)


def reconcile_on_lab(
    lab: LabState, store: Store, options: PlanOptions, clients: list[str], floor: int, now: datetime,
    timeout: float = 60.0, settle: float = 3.0,
) -> ReconcileRun:
    """Run one reconcile (make, wait on CalicoNodeStatus that the lab fills from BIRD, break) with the lab
    following every write, then poll until the lab has converged on the result."""
    from calicotool.bgp.reconcile import ReconcileConfig, reconcile_once

    node = LabCalicoNode(store, lab, clients)
    node.sample()
    # The lab's statuses are read live from BIRD, so one keepalive interval of settling (3 s) shows a session that
    # connection-collision resolution is about to close (seen on a saturated 2-core machine).
    cfg = ReconcileConfig(options=options, timeout_seconds=timeout, poll_seconds=0.3, settle_seconds=settle,
                          zone_label_explicit=True)
    result = reconcile_once(node, cfg, now=now)
    deadline = time.monotonic() + timeout
    while not lab_report(lab).converged:
        if time.monotonic() > deadline:
            raise HostError(f"lab {lab.name} did not converge {timeout:.0f}s after the reconcile")
        node.sample()
        time.sleep(0.2)
    node.sample()
    return ReconcileRun(result, node.samples, floor)
