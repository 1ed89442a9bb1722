"""What each node's calicotool labels and cluster ID should be under a plan, in make and break phases.

Only calicotool's own keys are ever added or removed (group keys holding `client`/`reflector`, and the role
key); every other label is left as it is. Nodes the plan leaves out keep everything, except that calicotool
labels are stripped from nodes it can no longer plan (e.g. they lost their BGP address).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from calicotool.bgp.handover import Handover, handover
from calicotool.bgp.planner import RouteReflectorPlan
from calicotool.bgp.state import (
    CLIENT,
    GROUP_LABEL_PREFIX,
    REFLECTOR,
    ROLE_LABEL,
    ROLE_REFLECTOR,
    BgpNode,
    ClusterState,
    group_label,
)


@dataclass(frozen=True)
class NodeLayout:
    """A node's calicotool-owned fields: labels (only our keys) and the route-reflector cluster ID."""

    labels: dict[str, str]
    cluster_id: str | None


def owned_labels(labels: dict[str, str]) -> dict[str, str]:
    """The labels calicotool owns on a node."""
    out = {}
    for key, value in labels.items():
        if key == ROLE_LABEL or (key.startswith(GROUP_LABEL_PREFIX) and value in (CLIENT, REFLECTOR)):
            out[key] = value
    return out


def current_layout(node: BgpNode) -> NodeLayout:
    return NodeLayout(owned_labels(node.labels), node.cluster_id if node.managed_reflector else None)


def target_layouts(plan: RouteReflectorPlan) -> dict[str, NodeLayout]:
    """The final layout of every node the plan governs (planned nodes, and managed nodes it must detach)."""
    out: dict[str, NodeLayout] = {}
    for group in plan.groups.values():
        for rr in group.reflectors:
            out[rr] = NodeLayout({group_label(group.name): REFLECTOR, ROLE_LABEL: ROLE_REFLECTOR}, group.cluster_id)
    for client, g in plan.client_group.items():
        out[client] = NodeLayout({group_label(g): CLIENT}, None)
    for node in plan.state.nodes:
        if node.name not in out and node.name in plan.left_out and not node.unmanaged_reflector:
            if owned_labels(node.labels):
                out[node.name] = NodeLayout({}, None)
    return out


def make_layout(current: NodeLayout, target: NodeLayout, keep_cluster_id: bool = False) -> NodeLayout:
    """The make phase: only additions. A moving client sits in both groups; a node gaining (or changing) a
    cluster ID gets it now, one losing its cluster ID keeps it, and its role label, until the break phase.

    One key carries a node's role in a group, so a reflector demoted to a client of the same group would leave
    the group's peerSelector if the make phase wrote `client` there: it keeps `reflector` until the break phase,
    by when the group's new reflectors are Established. The opposite flip (a client promoted in its own group)
    happens now: the group needs it before the break phase removes anyone, and the node keeps sessions with the
    same reflectors through the reflector mesh. `keep_cluster_id` holds a changing cluster ID back until the
    break phase (see `defers_cluster_id`). `calicotool.bgp.handover` states the invariant this keeps."""
    labels = dict(current.labels)
    for key, value in target.labels.items():
        if not (value == CLIENT and labels.get(key) == REFLECTOR):
            labels[key] = value
    cluster_id = target.cluster_id or current.cluster_id
    if keep_cluster_id and current.cluster_id:
        cluster_id = current.cluster_id
    return NodeLayout(labels, cluster_id)


def defers_cluster_id(node: BgpNode, plan: RouteReflectorPlan) -> bool:
    """Whether a reflector keeps its cluster ID through the make phase. A new cluster ID restarts all of the
    node's client sessions (BIRD restarts a session whose `rr cluster id` changes). A reflector released from a
    group that goes on changes it at once: that group keeps k reflectors untouched. One leaving a group the plan
    dissolves changes it in the break phase: that group's clients all move, and during the break they ride on
    their new group's other reflectors, Established since the make phase, instead of on this one."""
    return bool(node.cluster_id) and any(g not in plan.groups for g in node.reflector_groups)


def phase_layouts(plan: RouteReflectorPlan, node: BgpNode, target: NodeLayout) -> tuple[NodeLayout, NodeLayout]:
    """`node`'s layout now and after the make phase of `plan`."""
    cur = current_layout(node)
    return cur, make_layout(cur, target, defers_cluster_id(node, plan))


def with_layout(node: BgpNode, layout: NodeLayout) -> BgpNode:
    """`node` with its calicotool-owned fields replaced by `layout` (other labels untouched)."""
    owned = owned_labels(node.labels)
    labels = {k: v for k, v in node.labels.items() if k not in owned}
    labels.update(layout.labels)
    cluster_id = layout.cluster_id if (layout.cluster_id or node.managed_reflector) else node.cluster_id
    return replace(node, labels=labels, cluster_id=cluster_id)


def applied_state(plan: RouteReflectorPlan, mesh_enabled: bool | None = None) -> ClusterState:
    """The cluster as it will look once the plan is fully applied (for churn sequences and idempotence)."""
    targets = target_layouts(plan)
    nodes = tuple(with_layout(n, targets[n.name]) if n.name in targets else n for n in plan.state.nodes)
    mesh = plan.state.mesh_enabled if mesh_enabled is None else mesh_enabled
    return replace(plan.state, nodes=nodes, mesh_enabled=mesh)


def restarted_reflectors(plan: RouteReflectorPlan) -> set[str]:
    """Reflectors whose cluster ID the make phase changes: BIRD restarts their sessions, so reconcile confirms
    them Established again before the break phase, like new ones."""
    targets = target_layouts(plan)
    out = set()
    for node in plan.state.nodes:
        if node.name in targets and node.cluster_id:
            cur, made = phase_layouts(plan, node, targets[node.name])
            if made.cluster_id != cur.cluster_id:
                out.add(node.name)
    return out


def plan_handover(plan: RouteReflectorPlan) -> Handover:
    """Every client's reflector sessions before, between the phases of, and after applying `plan`."""
    return handover(plan.state.nodes, made_state(plan).nodes, applied_state(plan).nodes)


def made_state(plan: RouteReflectorPlan) -> ClusterState:
    """The cluster between the make and the break phase of applying `plan` (what reconcile waits on)."""
    targets = target_layouts(plan)
    nodes = tuple(
        with_layout(n, phase_layouts(plan, n, targets[n.name])[1]) if n.name in targets else n
        for n in plan.state.nodes
    )
    return replace(plan.state, nodes=nodes)
