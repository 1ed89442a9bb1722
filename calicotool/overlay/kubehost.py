"""The placeholder Kubernetes Node an enrolled host gets in a Kubernetes-datastore cluster (pure, no I/O).

In that datastore a Calico Node *is* the core/v1 Node of the same name: Felix on every cluster node reads a peer's
VTEP from the Node's `projectcalico.org/*` annotations, and Calico IPAM and the IPAM garbage collector of
calico-kube-controllers key a node's blocks and tunnel address on the Node existing. So the host gets a Node that
no kubelet owns, made safe for the rest of the cluster:

- taints `hosts.calicotool.io/external-host` NoSchedule + NoExecute and `spec.unschedulable`: no ordinary pod
  lands there. Calico's own calico-node DaemonSet tolerates *every* NoSchedule/NoExecute taint, so taints do not
  keep it off; what does is that the placeholder carries no `kubernetes.io/os` label, and calico-node (like
  kube-proxy and most add-on DaemonSets) selects `kubernetes.io/os: linux`. Other DaemonSets must exclude the
  label `hosts.calicotool.io/host` with node affinity (docs/host-enrollment.md shows the stanza).
- `node.kubernetes.io/exclude-from-external-load-balancers`: the service controller never adds it to a cloud LB.

Taints and labels other controllers put on the Node (the node lifecycle controller's not-ready/unreachable taints)
are kept when calicotool rewrites it: `merge` only replaces what calicotool owns.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from calicotool.datastore.kube_node import A_IPIP, A_IPV4, A_VXLAN4, A_VXLAN_MAC
from calicotool.model.resource import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Resource
from calicotool.overlay import records

TAINT_KEY = records.ANNOTATION_PREFIX + "external-host"
TAINT_EFFECTS = ("NoSchedule", "NoExecute")
EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
OS_LABEL = "kubernetes.io/os"
_OWNED_LABELS = (MANAGED_BY_LABEL, records.HOST_LABEL, EXCLUDE_LB_LABEL)
_CALICO_ANNOTATIONS = (A_IPV4, A_VXLAN4, A_VXLAN_MAC, A_IPIP)


def taints() -> list[dict[str, str]]:
    return [{"key": TAINT_KEY, "value": "true", "effect": effect} for effect in TAINT_EFFECTS]


def placeholder_node(e: records.Enrollment) -> Resource:
    """The core/v1 Node (`KubernetesNode`) carrying the host's Calico node annotations and calicotool's record."""
    calico = records.node_resource(e)
    annotations = dict(calico.annotations)
    annotations[A_IPV4] = e.underlay
    if e.mode == "vxlan":
        annotations[A_VXLAN4] = e.tunnel_ip
        annotations[A_VXLAN_MAC] = str(e.mac)
    else:
        annotations[A_IPIP] = e.tunnel_ip
    labels = {**dict(e.labels), MANAGED_BY_LABEL: MANAGED_BY_VALUE, records.HOST_LABEL: "true", EXCLUDE_LB_LABEL: "true"}
    spec = {"taints": taints(), "unschedulable": True}
    return Resource.new("Node", e.name, spec, labels=labels, annotations=annotations, api_version="v1")


A_DNS_NAMESPACE = records.ANNOTATION_PREFIX + "dns-namespace"  # written by `host dns --apply`, kept by enroll


def _ours(key: str) -> bool:
    return (key.startswith(records.ANNOTATION_PREFIX) and key != A_DNS_NAMESPACE) or key in _CALICO_ANNOTATIONS


def merge(current: Resource, wanted: Resource) -> Resource:
    """`current` with calicotool's part replaced by `wanted`'s: labels (all of them: calicotool created the Node),
    its own and Calico's node annotations, its taints; other taints, annotations and status stay."""
    out = current.copy()
    out.metadata["labels"] = dict(wanted.labels)
    annotations = {k: v for k, v in current.annotations.items() if not _ours(k)}
    annotations.update(wanted.annotations)
    out.metadata["annotations"] = annotations
    spec = copy.deepcopy(current.spec)
    have = list(spec.get("taints") or [])
    if [t for t in have if t.get("key") == TAINT_KEY] != wanted.spec["taints"]:  # else keep the server's order
        spec["taints"] = [t for t in have if t.get("key") != TAINT_KEY] + wanted.spec["taints"]
    spec["unschedulable"] = True
    out.spec = spec
    return out


def is_placeholder(node: Resource) -> bool:
    return records.is_enrolled_host(node)


def missing_guards(node: Resource) -> list[str]:
    """What keeps workloads off the placeholder and is no longer there (someone edited the Node)."""
    problems = []
    have = {(t.get("key"), t.get("effect")) for t in node.spec.get("taints") or []}
    for effect in TAINT_EFFECTS:
        if (TAINT_KEY, effect) not in have:
            problems.append(f"Node {node.name} lost its taint {TAINT_KEY}:{effect}")
    if OS_LABEL in node.labels:
        problems.append(f"Node {node.name} has label {OS_LABEL}: calico-node and kube-proxy will target it")
    return problems


def enrollment_from_placeholder(node: Resource) -> records.Enrollment:
    """Read back what placeholder_node wrote (KeyError/ValueError when it is not one)."""
    ann = node.annotations
    mode = ann[records.A_MODE]
    spec: dict[str, Any] = {"bgp": {"ipv4Address": ann[A_IPV4]}}
    if mode == "vxlan":
        spec["ipv4VXLANTunnelAddr"] = ann[A_VXLAN4]
        spec["vxlanTunnelMACAddr"] = ann.get(A_VXLAN_MAC)
    else:
        spec["bgp"]["ipv4IPIPTunnelAddr"] = ann[A_IPIP]
    labels = {k: v for k, v in node.labels.items() if k not in (EXCLUDE_LB_LABEL,)}
    view = Resource.new("Node", node.name, spec, labels=labels, annotations=dict(ann))
    json.loads(ann.get(records.A_SYSCTLS) or "{}")  # ValueError early on a damaged record
    return records.enrollment_from_node(view)


def foreign_taints(node: Resource) -> list[str]:
    """Taints on the placeholder that calicotool did not put there (`key:effect`), e.g. the node lifecycle
    controller's `node.kubernetes.io/unreachable` once it has noticed no kubelet reports for this Node."""
    return [f"{t.get('key')}:{t.get('effect')}" for t in node.spec.get("taints") or [] if t.get("key") != TAINT_KEY]
