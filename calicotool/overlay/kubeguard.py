"""Which Kubernetes and Calico controllers act on an enrolled host's placeholder Node, for `host status`.

Facts (Calico v3.32 kube-controllers, Kubernetes 1.36), each checked against this cluster where the API can tell:
- node lifecycle controller (kube-controller-manager): no kubelet ever posts the Node's status, so after
  --node-monitor-grace-period it sets Ready=Unknown and adds the node.kubernetes.io/unreachable (or not-ready)
  NoSchedule/NoExecute taints. It never deletes a Node; the placeholder's own taints already keep workloads off.
- cloud node lifecycle controller (cloud-controller-manager, clouds only): deletes a Node whose instance the cloud
  cannot find. Nodes with spec.providerID tell us a cloud provider runs; the placeholder would then be deleted
  and Felix forgets the host until `host enroll` recreates it (its addresses survive: see the next point).
- calico-kube-controllers IPAM GC: while the Node exists it releases nothing of the host's. The host address
  (type calicotoolHostAddress, no pod attributes) is an allocation "from an unknown source" that it never
  releases, and that also stops it from releasing the host's block affinities or tunnel address if the Node is
  deleted behind calicotool's back.
- calico-kube-controllers auto host endpoints (KubeControllersConfiguration hostEndpoint.autoCreate Enabled):
  creates `<node>-auto-hep` (interfaceName "*") for every Node, the placeholder included.
- DaemonSet controller: any DaemonSet whose pod template selects the Node and tolerates its taints gets a pod
  bound there that stays Pending (calico-node does not: it selects kubernetes.io/os=linux, which the placeholder
  lacks). Listing DaemonSets and pods is optional RBAC: without it the report says it could not check.
"""

from __future__ import annotations

from typing import Any

from calicotool.datastore.kube_api import http_status
from calicotool.errors import NotFound, Unavailable
from calicotool.model.resource import Resource
from calicotool.overlay import kubehost, kubeschedule, records


def _list(api: Any, path: str, query: list[tuple[str, str]] | None = None) -> list[dict[str, Any]] | None:
    """Items of a list, or None when RBAC forbids it or the server does not serve it (the report then says it
    could not check)."""
    try:
        return list(api.request("GET", path, query or []).get("items") or [])
    except NotFound:
        return None
    except Unavailable as exc:
        if http_status(exc) in (401, 403):
            return None
        raise


def controller_report(store: Any, node: Resource) -> list[str]:
    """One line per controller that acts (or would act) on the placeholder `node` in this cluster."""
    lines = []
    foreign = kubehost.foreign_taints(node)
    lifecycle = "node lifecycle controller: "
    lines.append(lifecycle + (f"has tainted it ({', '.join(foreign)}), as expected for a Node without a kubelet; "
                              "it never deletes Nodes" if foreign else
                              "will mark it Ready=Unknown and taint it unreachable (no kubelet reports); it never "
                              "deletes Nodes"))
    nodes = _list(store.api, "/api/v1/nodes", [("labelSelector", f"!{records.HOST_LABEL}")])
    if nodes is None:
        lines.append("cloud node lifecycle controller: cannot tell (not allowed to list Nodes)")
    elif any((n.get("spec") or {}).get("providerID") for n in nodes):
        lines.append("cloud node lifecycle controller: the cluster's Nodes carry spec.providerID, so a cloud "
                     "controller manager runs and may DELETE this Node (no such instance); re-run `host enroll` "
                     "if it disappears")
    lines.append("calico-kube-controllers IPAM GC: keeps the host's addresses and blocks (its Node exists; the "
                 "host address is of a type it never releases)")
    try:
        kcc = store.get("KubeControllersConfiguration", "default")
        auto = (((kcc.spec.get("controllers") or {}).get("node") or {}).get("hostEndpoint") or {}).get("autoCreate")
    except NotFound:
        auto = None
    except Unavailable as exc:
        if http_status(exc) not in (401, 403):
            raise
        auto = "unknown"
    if auto == "unknown":
        lines.append("calico-kube-controllers auto host endpoints: cannot tell (not allowed to read "
                     "KubeControllersConfiguration default)")
    elif auto == "Enabled":
        lines.append(f"calico-kube-controllers auto host endpoints: creates HostEndpoint {node.name}-auto-hep "
                     f"(interfaceName '*') beside calicotool's {node.name}")
    raw = node.to_dict()
    daemonsets = _list(store.api, "/apis/apps/v1/daemonsets")
    if daemonsets is None:
        lines.append("DaemonSet controller: cannot tell (not allowed to list DaemonSets: bind calicotool-host-observe)")
    else:
        targeting = sorted(f"{d['metadata'].get('namespace')}/{d['metadata'].get('name')}" for d in daemonsets
                           if kubeschedule.daemonset_targets(d, raw))
        lines.append("DaemonSet controller: " + (f"DaemonSets {', '.join(targeting)} target it (their pods stay "
                                                  f"Pending): exclude label {records.HOST_LABEL}"
                                                  if targeting else "no DaemonSet targets it"))
    pods = _list(store.api, "/api/v1/pods", [("fieldSelector", f"spec.nodeName={node.name}")])
    if pods:
        names = sorted(f"{p['metadata'].get('namespace')}/{p['metadata'].get('name')}" for p in pods)
        lines.append(f"pods bound to it (no kubelet will run them): {', '.join(names)}")
    return lines
