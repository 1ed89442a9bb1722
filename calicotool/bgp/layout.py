"""What each node's calicotool labels and cluster ID should be under a plan, in make and break phases.

Only calicotool's own keys are ever added or removed (group keys holding `client`/`reflector`, and the role
key); every other label is left as it is. Nodes the plan leaves out keep everything, except that calicotool
labels are stripped from nodes it can no longer plan (e.g. they lost their BGP address).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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


def make_layout(current: NodeLayout, target: NodeLayout) -> NodeLayout:
    """The make phase: everything the target adds, nothing removed yet (a moving client sits in both groups;
    a node gaining a cluster ID gets it now, one losing its cluster ID keeps it until the break phase)."""
    labels = dict(current.labels)
    labels.update(target.labels)
    cluster_id = target.cluster_id or current.cluster_id
    return NodeLayout(labels, cluster_id)


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
