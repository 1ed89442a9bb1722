"""`host dns --apply`: write the host's headless, selector-less Service and its EndpointSlice (dns.kubernetes_manifests)
through the datastore's Kubernetes API, so pods resolve `<host>.<namespace>.svc.<domain>` to the host IP; and
remove them on unenroll. The namespace used is recorded on the placeholder Node (A_DNS_NAMESPACE) so unenroll
finds it. Only objects labelled app.kubernetes.io/managed-by=calicotool are ever updated or deleted.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from calicotool.errors import InputError, Location, NotFound
from calicotool.model.resource import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from calicotool.overlay import dns, records
from calicotool.overlay.kubehost import A_DNS_NAMESPACE


def _path(doc: dict[str, Any], name: str | None = None) -> str:
    ns = quote(doc["metadata"]["namespace"], safe="")
    base = (f"/api/v1/namespaces/{ns}/services" if doc["kind"] == "Service"
            else f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices")
    return f"{base}/{quote(name, safe='')}" if name else base


def _ours(doc: dict[str, Any]) -> dict[str, Any]:
    """The fields calicotool sets (the server adds defaults such as clusterIPs, ipFamilies, sessionAffinity)."""
    if doc["kind"] == "Service":
        spec = doc.get("spec") or {}
        return {"labels": (doc["metadata"].get("labels") or {}), "clusterIP": spec.get("clusterIP"),
                "ports": spec.get("ports") or [], "selector": spec.get("selector")}
    endpoints = [{k: e.get(k) for k in ("addresses", "hostname", "conditions")} for e in doc.get("endpoints") or []]
    return {"labels": doc["metadata"].get("labels") or {}, "addressType": doc.get("addressType"),
            "endpoints": endpoints, "ports": doc.get("ports") or []}


def _refuse_foreign(label: str, current: dict[str, Any]) -> None:
    if (current["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
        raise InputError(f"{label} exists and is not managed by calicotool: refusing to overwrite it",
                         Location(field="NAME"))


def _label(doc: dict[str, Any]) -> str:
    return f"{doc['kind']} {doc['metadata']['namespace']}/{doc['metadata']['name']}"


def current_of(api: Any, doc: dict[str, Any]) -> dict[str, Any] | None:
    """The object as the server has it (None when absent); refuses one calicotool does not own."""
    try:
        current = api.request("GET", _path(doc, doc["metadata"]["name"]))
    except NotFound:
        return None
    _refuse_foreign(_label(doc), current)
    return dict(current)


def upsert(api: Any, doc: dict[str, Any], current: dict[str, Any] | None) -> str | None:
    """Create or update one object (`current` as current_of read it); returns what was written, None if equal."""
    name, label = doc["metadata"]["name"], _label(doc)
    if current is None:
        try:
            api.request("POST", _path(doc), body=doc)
        except NotFound:
            raise InputError(f"namespace {doc['metadata']['namespace']!r} does not exist: create it (deploy/host/"
                             "rbac.yaml ships calicotool-hosts) or pass --namespace", Location(field="--namespace")) \
                from None
        return f"create {label}"
    if _ours(current) == _ours(doc):
        return None
    body = dict(current)
    body["metadata"] = {**current["metadata"], "labels": doc["metadata"]["labels"]}
    if doc["kind"] == "Service":
        spec = {k: v for k, v in (current.get("spec") or {}).items() if k != "selector"}
        body["spec"] = {**spec, "clusterIP": doc["spec"]["clusterIP"], "ports": doc["spec"]["ports"]}
    else:
        body.update({k: doc[k] for k in ("addressType", "endpoints", "ports")})
    api.request("PUT", _path(doc, name), body=body)  # carries the resourceVersion read: a CAS
    return f"update {label}"


def apply(store: Any, host: records.Enrollment, namespace: str) -> list[str]:
    """Service first (the EndpointSlice names it), then the namespace recorded on the placeholder Node (CAS);
    returns the writes made. Every object is checked for a foreign owner before the first write; objects in a
    namespace recorded before are removed once the new ones exist."""
    node = store.get("KubernetesNode", host.name)
    docs = dns.kubernetes_manifests(host, namespace)
    currents = [current_of(store.api, doc) for doc in docs]
    writes = [w for w in (upsert(store.api, doc, cur) for doc, cur in zip(docs, currents, strict=True)) if w]
    old = node.annotations.get(A_DNS_NAMESPACE)
    if old and old != namespace:
        writes += remove(store.api, host.name, old)
    if old != namespace:
        node.metadata.setdefault("annotations", {})[A_DNS_NAMESPACE] = namespace
        store.update(node)
        writes.append(f"annotate Node {host.name} {A_DNS_NAMESPACE}={namespace}")
    return writes


def remove(api: Any, name: str, namespace: str) -> list[str]:
    """Delete the host's managed EndpointSlice and Service in `namespace` (missing ones are fine)."""
    writes = []
    for doc in reversed(dns.kubernetes_manifests(records.Enrollment(name, "0.0.0.0/0", "", "", "", "", "", None),
                                                 namespace)):
        obj_name = doc["metadata"]["name"]
        try:
            current = api.request("GET", _path(doc, obj_name))
        except NotFound:
            continue
        if (current["metadata"].get("labels") or {}).get(MANAGED_BY_LABEL) != MANAGED_BY_VALUE:
            continue
        rv = current["metadata"].get("resourceVersion")
        try:
            api.request("DELETE", _path(doc, obj_name), body={"kind": "DeleteOptions", "apiVersion": "v1",
                                                               "preconditions": {"resourceVersion": rv}})
        except NotFound:
            continue
        writes.append(f"delete {doc['kind']} {namespace}/{obj_name}")
    return writes
