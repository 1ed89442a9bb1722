"""Where an enrolled host's Node lives, per datastore: a Calico Node (etcdv3, directory) or, in a Kubernetes-datastore
cluster, a placeholder core/v1 Node (`KubernetesNode`, see kubehost). Every host command goes through HostNodes, so
enroll, status, sync, unenroll and list read and write the same record whatever the backend."""

from __future__ import annotations

import sys
from typing import Any

from calicotool.datastore.base import Store
from calicotool.errors import NotFound
from calicotool.model.resource import Resource
from calicotool.overlay import kubehost, records


def is_kubernetes(store: Store) -> bool:
    """True for a KubeStore, also behind wrappers (TxnStore keeps the wrapped store in `.inner`)."""
    inner: Any = store
    while hasattr(inner, "inner"):
        inner = inner.inner
    module = sys.modules.get("calicotool.datastore.kubernetes")  # not imported = cannot be a KubeStore
    return module is not None and isinstance(inner, module.KubeStore)


class HostNodes:
    def __init__(self, store: Store) -> None:
        self.kube = is_kubernetes(store)
        self.kind = "KubernetesNode" if self.kube else "Node"

    def get(self, store: Store, name: str) -> Resource:
        return store.get(self.kind, name)

    def find(self, store: Store, name: str) -> Resource | None:
        try:
            return self.get(store, name)
        except NotFound:
            return None

    def is_host(self, node: Resource) -> bool:
        return kubehost.is_placeholder(node) if self.kube else records.is_enrolled_host(node)

    def read(self, node: Resource) -> records.Enrollment:
        """The enrollment a host Node records (KeyError/ValueError when the record is damaged)."""
        return kubehost.enrollment_from_placeholder(node) if self.kube else records.enrollment_from_node(node)

    def build(self, e: records.Enrollment) -> Resource:
        return kubehost.placeholder_node(e) if self.kube else records.node_resource(e)

    def wanted(self, current: Resource | None, e: records.Enrollment) -> Resource:
        """What to write for `e` given the Node as it is: on Kubernetes only calicotool's part is replaced."""
        built = self.build(e)
        if current is None or not self.kube:
            return built
        return kubehost.merge(current, built)

    def list(self, store: Store) -> list[Resource]:
        if self.kube:
            return store.list(self.kind, label_selector=f"{records.HOST_LABEL}=true")
        return store.list(self.kind)
