"""The documents that describe a cluster's endpoints, read from a datastore, for the policy evaluator.

Kubernetes datastore: the core/v1 lists of Namespaces, ServiceAccounts and Pods (Calico derives workload
endpoints and profiles from them; nothing is stored). etcd (and a directory of manifests): the Calico
WorkloadEndpoints and Profiles that the CNI plugin and kube-controllers write. Documents are returned raw
(apiVersion, kind, metadata, spec, status); `calicotool.evaluate.workloads` turns them into endpoints.
"""

from __future__ import annotations

from typing import Any

from calicotool.datastore.base import Store
from calicotool.datastore.kubernetes import KubeStore
from calicotool.errors import DatastoreError, InputError

CORE_LISTS = (("Namespace", "/api/v1/namespaces"), ("ServiceAccount", "/api/v1/serviceaccounts"),
              ("Pod", "/api/v1/pods"))
CALICO_KINDS = ("WorkloadEndpoint", "Profile")


def workload_documents(store: Store) -> tuple[list[dict[str, Any]], list[str]]:
    """(documents, notes on what could not be read). A list the store refuses (RBAC, a kind it does not keep)
    becomes a note, not a failure: explain still works on endpoints typed as pod:NS/NAME:labels@IP."""
    docs: list[dict[str, Any]] = []
    notes: list[str] = []
    if isinstance(store, KubeStore):
        for kind, path in CORE_LISTS:
            try:
                items = store._list_all(path, [])  # the store's own paging, for core v1 lists
            except DatastoreError as exc:
                notes.append(_missing(kind, exc.message))
                continue
            for item in items:  # list items carry no apiVersion/kind of their own
                docs.append({**item, "apiVersion": "v1", "kind": kind})
        return docs, notes
    for kind in CALICO_KINDS:
        try:
            docs.extend(res.to_dict() for res in store.list(kind))
        except (DatastoreError, InputError) as exc:
            notes.append(_missing(kind, exc.message))
    return docs, notes


def _missing(kind: str, why: str) -> str:
    if kind == "Namespace":
        return f"Namespace labels not read ({why}): namespaceSelectors see only the namespace name"
    if kind in ("ServiceAccount", "Profile"):
        return f"{kind}s not read ({why}): service-account selectors see only the account name"
    return f"{kind}s not read ({why}): name endpoints as pod:NAMESPACE/NAME:labels@IP"
