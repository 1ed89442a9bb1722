"""Would a DaemonSet put a pod on a Node? The DaemonSet controller's three tests, as pure functions over the pod
template and the Node dicts: nodeSelector labels, required nodeAffinity terms (ORed; expressions ANDed), and
tolerations covering every NoSchedule/NoExecute taint. Used by `host status` to name DaemonSets that target an
enrolled host's placeholder Node (their pods would stay Pending there: no kubelet runs it)."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


def _expression(expr: Obj, labels: dict[str, str]) -> bool:
    key, op, values = expr.get("key", ""), expr.get("operator", ""), list(expr.get("values") or [])
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt") and key in labels and values:
        try:
            have, limit = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > limit if op == "Gt" else have < limit
    return False


def _term(term: Obj, labels: dict[str, str], name: str) -> bool:
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False  # an empty term matches no node
    return all(_expression(e, labels) for e in exprs) and all(_expression(f, {"metadata.name": name}) for f in fields)


def selects(pod_spec: Obj, labels: dict[str, str], name: str) -> bool:
    """nodeSelector and required node affinity both admit a Node with these labels and name."""
    if any(labels.get(k) != v for k, v in (pod_spec.get("nodeSelector") or {}).items()):
        return False
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms")
    return terms is None or any(_term(t, labels, name) for t in terms)


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    for tol in tolerations:
        if tol.get("effect") and tol["effect"] != taint.get("effect"):
            continue
        if tol.get("operator") == "Exists":
            if not tol.get("key") or tol["key"] == taint.get("key"):
                return True
        elif tol.get("key") == taint.get("key") and (tol.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def daemonset_targets(ds: Obj, node: Obj) -> bool:
    """True when the DaemonSet controller would create a pod for `node` (a core/v1 Node dict)."""
    spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    meta = node.get("metadata") or {}
    if not selects(spec, dict(meta.get("labels") or {}), str(meta.get("name", ""))):
        return False
    hard = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("effect") in ("NoSchedule", "NoExecute")]
    return all(tolerates(list(spec.get("tolerations") or []), t) for t in hard)
