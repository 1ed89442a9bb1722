"""The Kubernetes datastore: Calico resources in a cluster's API server, reached through the official client.

Discovery decides the storage form per kind: `projectcalico.org/v3` when the server serves it (Calico API server or
native v3 CRDs), else Calico's `crd.projectcalico.org/v1` CRDs in their storage form (see kube_convert). The Calico
Node is the core/v1 Node seen through Calico's annotations (kube_node); `KubernetesNode` is the core/v1 Node as is.
Creating or deleting a Calico Node is refused with InputError: in this datastore a Calico Node exists exactly when a
Kubernetes Node does (kubelet registers it), so a non-cluster host needs the etcdv3 datastore — as with calicoctl.

Writes are not transactional, so `apply_batch` (kube_batch) checks the whole batch locally, then has the server
dry-run every change (`dryRun=All`), and only then writes; if the server fails while writing, the raised error
carries `exc.partial: BatchResult(atomic=False)` and says exactly which changes were written. Policy names follow
the cluster's Calico version (model.policy_names). An update without a
resourceVersion is last-writer-wins: re-read, write, and on a 409 retry with bounded backoff before giving up.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from calicotool.datastore.base import BatchResult, Change, Op, StoreInfo
from calicotool.datastore.kube_api import KubeApi, Query, http_status
from calicotool.datastore.kube_config import resolve_cluster
from calicotool.datastore.kube_convert import (
    K8S_NETWORK_POLICY_ENDPOINT,
    NODE_ENDPOINT,
    Endpoint,
    backend_name,
    from_kube_network_policy,
    from_kube_node,
    from_v1,
    from_v3,
    to_kube_node,
    to_v1,
    to_v3,
    v1_endpoint,
    v3_endpoint,
)
from calicotool.datastore.kube_lock import LeaseLock
from calicotool.datastore.kube_node import calico_node_from_kube, merge_calico_node_into_kube, node_fingerprint
from calicotool.datastore.labelselector import parse_label_selector
from calicotool.errors import AlreadyExists, Conflict, InputError, NotFound, Unavailable
from calicotool.model.kinds import CALICO_CRD_V1, CALICO_V3, KindInfo, kind_info
from calicotool.model.policy_names import POLICY_KINDS, PolicyNaming, naming_for
from calicotool.model.resource import Resource

CORE = "v1"  # storage tag for core/v1 Node based kinds
K8S_NETWORKING = "networking.k8s.io/v1"  # storage tag for the Kubernetes NetworkPolicy (read-only here)


def _dry(dry_run: bool) -> Query:
    return [("dryRun", "All")] if dry_run else []


class KubeStore:
    """Store implementation over a Kubernetes API server (see module docstring)."""

    def __init__(
        self,
        api: KubeApi,
        *,
        source: str = "",
        context: str | None = None,
        lock_namespace: str = "calico-system",
        page_size: int = 500,
        conflict_retries: int = 5,
        backoff: tuple[float, float] = (0.05, 1.0),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = api
        self.source = source
        self.context = context
        self.lock_namespace = lock_namespace
        self.page_size = page_size
        self.conflict_retries = conflict_retries
        self.backoff = backoff
        self.sleep = sleep
        # Node name -> (resourceVersion, fingerprint) of the core/v1 Node as last handed out: lets a guarded Node
        # update go through when only the kubelet's status moved on since (see update).
        self._seen_nodes: dict[str, tuple[str, str]] = {}
        self._naming: PolicyNaming | None = None
        self.batch_workers = 8  # concurrent writes per kind in apply_batch (see kube_batch)

    @classmethod
    def from_spec(cls, context: str | None, environ: Mapping[str, str]) -> KubeStore:
        """Connect as kubectl would (KUBECONFIG / ~/.kube/config / --context / in-cluster). No request is sent yet."""
        target = resolve_cluster(context or None, environ)
        timeout = float(environ.get("CALICOTOOL_KUBE_TIMEOUT") or 30.0)
        return cls(
            KubeApi(target.client, timeout=(min(5.0, timeout), timeout)),
            source=target.source,
            context=target.context,
            lock_namespace=environ.get("CALICOTOOL_LOCK_NAMESPACE") or "calico-system",
        )

    # -- where each kind lives ------------------------------------------------------------------------------------
    def storage_for(self, info: KindInfo) -> tuple[Endpoint, str]:
        """(endpoint, storage tag) for a kind: CORE for Node kinds; IPAM kinds in the v1 CRDs when they exist;
        else projectcalico.org/v3 when served, else the v1 CRDs."""
        if info.name in ("Node", "KubernetesNode"):
            return NODE_ENDPOINT, CORE
        if info.name == "KubernetesNetworkPolicy":
            return K8S_NETWORK_POLICY_ENDPOINT, K8S_NETWORKING
        ep = v1_endpoint(info)
        if info.ipam:
            # Calico IPAM always works on the crd.projectcalico.org/v1 objects; the Calico API server does not
            # serve IPAM blocks and handles and serves block affinities read-only. Native v3 CRDs replace v1.
            v1 = self.api.served(CALICO_CRD_V1)
            if v1 is not None and ep.plural in v1:
                return ep, CALICO_CRD_V1
        v3 = self.api.served(CALICO_V3)
        if v3 is not None and info.plural in v3:
            return v3_endpoint(info), CALICO_V3
        v1 = self.api.served(CALICO_CRD_V1)
        if v1 is not None and ep.plural in v1:
            return ep, CALICO_CRD_V1
        raise NotFound(
            f"the Kubernetes API server at {self.api.where} serves no {info.kind} (neither {CALICO_V3} "
            f"{info.plural} nor {CALICO_CRD_V1} {ep.plural}): is Calico installed?"
        )

    def _decode(self, obj: dict[str, Any], info: KindInfo, storage: str) -> Resource:
        if storage == CORE:
            meta = obj.get("metadata") or {}
            self._seen_nodes[str(meta.get("name", ""))] = (str(meta.get("resourceVersion", "")), node_fingerprint(obj))
        if info.name == "Node":
            return calico_node_from_kube(obj)
        if info.name == "KubernetesNode":
            return from_kube_node(obj)
        if storage == K8S_NETWORKING:
            return from_kube_network_policy(obj)
        return from_v1(obj, info) if storage == CALICO_CRD_V1 else from_v3(obj, info)

    @property
    def naming(self) -> PolicyNaming:
        """Calico's policy naming rule for this cluster, from ClusterInformation's calicoVersion (read once)."""
        if self._naming is None:
            try:
                version = self.get("ClusterInformation", "default").spec.get("calicoVersion")
            except NotFound:
                version = None
            self._naming = naming_for(str(version) if version else None)
        return self._naming

    def _backend_name(self, info: KindInfo, name: str, storage: str) -> str:
        if storage != CALICO_CRD_V1 or info.name not in POLICY_KINDS:
            return name
        return backend_name(info.kind, name, storage, self.naming)

    def _encode(self, res: Resource, ep: Endpoint, storage: str) -> dict[str, Any]:
        """The body sent for `res`; raises InputError for what the cluster's Calico would refuse (policy names)."""
        if res.info.name == "KubernetesNode":
            return to_kube_node(res)
        if res.info.name in POLICY_KINDS:
            self.naming.check(res.kind, res.name, res.spec)
        if storage == CALICO_CRD_V1:
            return to_v1(res, ep, self.naming)
        return to_v3(res, ep)

    def prepare(self, change: Change) -> None:
        """Every check of `change` that needs no write (kind served, name rule, conversion): run for a whole batch
        before its first write."""
        res = change.resource
        self._refuse_k8s_policy(change.op.value, res.info)
        if res.info.name == "Node":
            self._refuse_calico_node(change.op.value, res.name)
        ep, storage = self.storage_for(res.info)
        if change.op is not Op.DELETE:
            self._encode(res, ep, storage)

    @staticmethod
    def _namespace(info: KindInfo, namespace: str | None) -> str | None:
        return (namespace or "default") if info.namespaced else None

    @staticmethod
    def _label(info: KindInfo, name: str, namespace: str | None) -> str:
        return f"{info.name} {namespace + '/' if namespace else ''}{name}"

    # -- reads ----------------------------------------------------------------------------------------------------
    def _get_raw(self, info: KindInfo, name: str, namespace: str | None) -> tuple[dict[str, Any], Endpoint, str]:
        ep, storage = self.storage_for(info)
        try:
            obj = self.api.request("GET", ep.path(namespace, self._backend_name(info, name, storage)))
        except NotFound:
            raise NotFound(f"{self._label(info, name, namespace)} not found") from None
        return obj, ep, storage

    def get(self, kind: str, name: str, namespace: str | None = None) -> Resource:
        info = kind_info(kind)
        obj, _, storage = self._get_raw(info, name, self._namespace(info, namespace))
        return self._decode(obj, info, storage)

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[Resource]:
        info = kind_info(kind)
        selector = parse_label_selector(label_selector)
        ep, storage = self.storage_for(info)
        # Server-side selection only where the server sees the same labels we do: not for the v1 storage form
        # (labels live in an annotation) nor the Calico Node (labels merged from an annotation).
        server_side = bool(selector.requirements) and (
            storage == CALICO_V3 or info.name in ("KubernetesNode", "KubernetesNetworkPolicy")
        )
        query: Query = [("labelSelector", selector.text)] if server_side else []
        items = self._list_all(ep.path(namespace if info.namespaced else None), query)
        out = [self._decode(obj, info, storage) for obj in items]
        if selector.requirements and not server_side:
            out = [r for r in out if selector.matches(r.labels)]
        return sorted(out, key=lambda r: (r.namespace, r.name))

    def namespaces(self) -> builtins.list[Resource]:
        """The cluster's core/v1 Namespaces (name and labels only): what namespaceSelectors match against."""
        items = self._list_all("/api/v1/namespaces", [])
        out = []
        for obj in items:
            meta = obj.get("metadata") or {}
            labels = {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}
            out.append(Resource.new("Namespace", str(meta.get("name", "")), labels=labels or None, api_version="v1"))
        return sorted(out, key=lambda r: r.name)

    def _list_all(self, path: str, query: Query) -> builtins.list[dict[str, Any]]:
        """All items of a list, page by page (`limit`/`continue`); a 410 for an expired token restarts once."""
        for attempt in (1, 2):
            items: builtins.list[dict[str, Any]] = []
            token = ""
            try:
                while True:
                    q = list(query) + [("limit", str(self.page_size))] + ([("continue", token)] if token else [])
                    page = self.api.request("GET", path, q)
                    items.extend(page.get("items") or [])
                    token = str((page.get("metadata") or {}).get("continue") or "")
                    if not token:
                        return items
            except Unavailable as exc:
                if attempt == 2 or http_status(exc) != 410:
                    raise
        return []

    # -- writes ---------------------------------------------------------------------------------------------------
    def create(self, resource: Resource, *, dry_run: bool = False) -> Resource:
        info = resource.info
        self._refuse_k8s_policy("create", info)
        namespace = self._namespace(info, resource.namespace)
        label = self._label(info, resource.name, namespace)
        if info.name == "Node":
            return self._refuse_calico_node("create", resource.name)
        ep, storage = self.storage_for(info)
        doc = resource.with_resource_version(None)
        if namespace:
            doc.metadata["namespace"] = namespace
        try:
            created = self.api.request("POST", ep.path(namespace), _dry(dry_run), body=self._encode(doc, ep, storage))
        except AlreadyExists:
            raise AlreadyExists(f"{label} already exists") from None
        except NotFound as exc:
            if namespace and "namespaces" in exc.message:
                raise NotFound(f"cannot create {label}: namespace {namespace!r} does not exist") from None
            raise
        if info.name == "KubernetesNode" and resource.status and not dry_run:
            # An API server ignores status on create (it is a subresource): write it the way a kubelet does.
            created["status"] = resource.status
            created = self.api.request("PUT", ep.path(None, resource.name) + "/status", body=created)
        return self._decode(created, info, storage)

    def update(self, resource: Resource, *, dry_run: bool = False) -> Resource:
        info = resource.info
        self._refuse_k8s_policy("update", info)
        namespace = self._namespace(info, resource.namespace)
        label = self._label(info, resource.name, namespace)
        guarded = resource.resource_version is not None
        nodes = info.name in ("Node", "KubernetesNode")
        attempts = 1 if guarded and not nodes else self.conflict_retries + 1
        expected = resource.resource_version  # the caller's version; for Nodes it may move past status-only changes
        delay = self.backoff[0]
        for attempt in range(attempts):
            if guarded and info.name != "Node":
                # The server checks the resourceVersion itself: no read needed.
                current: dict[str, Any] = {}
                ep, storage = self.storage_for(info)
                current_rv = str(expected)
            else:
                current, ep, storage = self._get_raw(info, resource.name, namespace)
                current_rv = str((current.get("metadata") or {}).get("resourceVersion") or "")
            if guarded and expected != current_rv:
                if not self._status_moved_only(resource.name, expected, current):
                    raise Conflict(
                        f"{label} was changed by someone else (resourceVersion {resource.resource_version} is stale, "
                        f"now {current_rv}): re-read and retry"
                    )
                expected = current_rv
            doc = resource.with_resource_version(current_rv)
            if namespace:
                doc.metadata["namespace"] = namespace
            if info.name == "Node":
                body = merge_calico_node_into_kube(doc, current)
            else:
                body = self._encode(doc, ep, storage)
            try:
                name = self._backend_name(info, resource.name, storage)
                updated = self.api.request("PUT", ep.path(namespace, name), _dry(dry_run), body=body)
            except Conflict as exc:
                if guarded and info.name == "KubernetesNode":
                    fresh, _, _ = self._get_raw(info, resource.name, namespace)
                    if self._status_moved_only(resource.name, expected, fresh):
                        expected = str(fresh["metadata"]["resourceVersion"])
                        continue
                elif guarded and info.name == "Node" and attempt + 1 < attempts:
                    continue  # re-read at the top: status-only drift goes on, anything else is a Conflict there
                if guarded:
                    raise Conflict(f"{label} was changed by someone else: {exc.message}") from None
                if attempt + 1 < attempts:
                    self.sleep(delay)
                    delay = min(delay * 2, self.backoff[1])
                continue
            except NotFound:
                raise NotFound(f"{label} not found") from None
            return self._decode(updated, info, storage)
        raise Conflict(f"{label}: gave up after {attempts} conflicting writes (others keep changing it)")

    def _status_moved_only(self, name: str, expected: str | None, current: dict[str, Any]) -> bool:
        """True when the Node `name` at version `expected` (as this store handed it out) differs from `current`
        only in status: the kubelet reports status every few seconds to minutes, and a write of metadata/spec
        (labels, annotations, taints) cannot lose that, since a PUT to the Node ignores status."""
        seen = self._seen_nodes.get(name)
        return seen is not None and seen[0] == expected and seen[1] == node_fingerprint(current)

    def delete(
        self, kind: str, name: str, namespace: str | None = None, resource_version: str | None = None,
        *, dry_run: bool = False,
    ) -> None:
        info = kind_info(kind)
        self._refuse_k8s_policy("delete", info)
        ns = self._namespace(info, namespace)
        label = self._label(info, name, ns)
        if info.name == "Node":
            self._refuse_calico_node("delete", name)
        ep, storage = self.storage_for(info)
        body: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if resource_version:
            body["preconditions"] = {"resourceVersion": resource_version}
        if dry_run:  # in the body: a real API server takes DELETE options from the body, ignoring ?dryRun= then
            body["dryRun"] = ["All"]
        try:
            self.api.request("DELETE", ep.path(ns, self._backend_name(info, name, storage)), body=body)
        except NotFound:
            raise NotFound(f"{label} not found") from None
        except Conflict:
            raise Conflict(f"{label} was changed by someone else (resourceVersion {resource_version} is stale)") from None

    @staticmethod
    def _refuse_k8s_policy(verb: str, info: KindInfo) -> None:
        if info.name == "KubernetesNetworkPolicy":
            raise InputError(
                f"cannot {verb} a Kubernetes NetworkPolicy: calicotool reads networking.k8s.io/v1 NetworkPolicies "
                f"(to evaluate them) but does not manage them; use kubectl or your GitOps tooling"
            )

    def _refuse_calico_node(self, verb: str, name: str) -> Resource:
        raise InputError(
            f"cannot {verb} Calico Node {name!r} in the Kubernetes datastore: a Calico Node there is the Kubernetes "
            f"Node of the same name, which kubelet registers and `kubectl delete node` removes; manage non-cluster "
            f"hosts with an etcdv3 datastore"
        )

    def apply_batch(self, changes: Iterable[Change], before_writes: Callable[[], None] | None = None) -> BatchResult:
        """All-or-nothing as far as the Kubernetes API allows (see kube_batch): local checks for the whole batch,
        then a server-side dry run of every change, then `before_writes` (if given), then the writes. On a failure
        while writing the error carries `partial`, a BatchResult of the changes that took effect, and names them."""
        from calicotool.datastore.kube_batch import apply_batch

        return apply_batch(self, list(changes), self.batch_workers, before_writes)

    def apply_one(self, change: Change, dry_run: bool = False) -> Resource:
        res = change.resource
        if change.op is Op.CREATE:
            return self.create(res, dry_run=dry_run)
        if change.op is Op.UPDATE:
            return self.update(res, dry_run=dry_run)
        self.delete(res.info.name, res.name, res.namespace or None, res.resource_version, dry_run=dry_run)
        return res

    # -- lock, check, close ---------------------------------------------------------------------------------------
    @contextmanager
    def lock(self, name: str, ttl_seconds: float = 60.0, wait_seconds: float = 0.0) -> Iterator[None]:
        lease = LeaseLock(self.api, self.lock_namespace, name, ttl_seconds)
        with lease.held(wait_seconds, time.sleep):  # real waits: another holder needs wall-clock time to finish
            yield

    def check(self) -> StoreInfo:
        """Reachability, the Calico API group in use and Calico's version. Unavailable (exit 3) when the server
        serves no Calico API at all, or when the Calico API server is registered but down."""
        version = self.api.version()
        v3, v1 = self.api.served(CALICO_V3), self.api.served(CALICO_CRD_V1)
        if not v3 and not v1:
            raise Unavailable(
                f"Kubernetes API server at {self.api.where} ({version.get('gitVersion') or 'unknown version'}) serves "
                f"neither {CALICO_V3} nor {CALICO_CRD_V1}: Calico is not installed in this cluster"
            )
        group = CALICO_V3 if v3 else CALICO_CRD_V1
        details: dict[str, Any] = {
            "server_version": version.get("gitVersion", ""),
            "source": self.source,
            "context": self.context,
            "served": [g for g, served in ((CALICO_V3, v3), (CALICO_CRD_V1, v1)) if served],
            "lock_namespace": self.lock_namespace,
        }
        calico_version = None
        try:
            info = self.get("ClusterInformation", "default")
            calico_version = info.spec.get("calicoVersion") or None
        except NotFound:
            details["note"] = "no ClusterInformation 'default' yet (calico-node has not started)"
        return StoreInfo("kubernetes", self.api.where, group, calico_version, details)

    def close(self) -> None:
        self.api.close()
