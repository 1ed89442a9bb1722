"""A small, faithful kube-apiserver stand-in over real HTTP (127.0.0.1, a free port), for backend tests.

Serves discovery (/version, /api, /api/v1, /apis, /apis/<group>[/<version>]), CRUD for core/v1 nodes and
namespaces, coordination.k8s.io/v1 leases, networking.k8s.io/v1 networkpolicies and Calico's custom resources
(as `projectcalico.org/v3`, as `crd.projectcalico.org/v1`, both, or neither), lists with
labelSelector/fieldSelector and limit/continue over a consistent snapshot, `?watch=1` streams, bearer-token auth,
and fault injection (`server.faults`).
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

from tests.fakekube.handler import KubeHandler
from tests.fakekube.selectors import SelectorError, field_matcher, label_matcher
from tests.fakekube.state import ApiError, FakeState, ResourceType

# (kind, plural, namespaced) of the Calico kinds, as both API groups serve them.
CALICO_KINDS = [
    ("BGPConfiguration", "bgpconfigurations", False),
    ("BGPFilter", "bgpfilters", False),
    ("BGPPeer", "bgppeers", False),
    ("BlockAffinity", "blockaffinities", False),
    ("CalicoNodeStatus", "caliconodestatuses", False),
    ("ClusterInformation", "clusterinformations", False),
    ("FelixConfiguration", "felixconfigurations", False),
    ("GlobalNetworkPolicy", "globalnetworkpolicies", False),
    ("GlobalNetworkSet", "globalnetworksets", False),
    ("HostEndpoint", "hostendpoints", False),
    ("IPAMBlock", "ipamblocks", False),
    ("IPAMHandle", "ipamhandles", False),
    ("IPPool", "ippools", False),
    ("IPReservation", "ipreservations", False),
    ("KubeControllersConfiguration", "kubecontrollersconfigurations", False),
    ("NetworkPolicy", "networkpolicies", True),
    ("NetworkSet", "networksets", True),
    ("StagedGlobalNetworkPolicy", "stagedglobalnetworkpolicies", False),
    ("StagedKubernetesNetworkPolicy", "stagedkubernetesnetworkpolicies", True),
    ("StagedNetworkPolicy", "stagednetworkpolicies", True),
    ("Tier", "tiers", False),
]
V3_ONLY = [("IPAMConfiguration", "ipamconfigurations", False)]
# The Calico API server (mode "both") does not serve IPAM blocks and handles, and serves block affinities
# read-only (docs: BlockAffinity "Kubernetes API server: Create No, Delete No, Update No, Get/List Yes").
API_SERVER_OMITS = {"ipamblocks", "ipamhandles"}
API_SERVER_READ_ONLY = {"blockaffinities"}
V1_ONLY = [("IPAMConfig", "ipamconfigs", False)]
CORE_TYPES = [
    ResourceType("", "v1", "nodes", "Node", False, core=True, typed_items=True, status_subresource=True),
    ResourceType("", "v1", "namespaces", "Namespace", False, core=True, typed_items=True, status_subresource=True),
]
LEASES = ResourceType("coordination.k8s.io", "v1", "leases", "Lease", True, core=True, typed_items=True)
# Kubernetes NetworkPolicies (built in, typed list items). The real apiserver also defaults spec.policyTypes; the
# fake stores objects as given (calicotool's conversion applies the same defaulting itself).
K8S_NETWORK_POLICIES = ResourceType("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", True, core=True,
                                    typed_items=True)
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def calico_types(mode: str) -> list[ResourceType]:
    """mode: v3 (native v3 CRDs), v1 (Calico CRDs only), both (v1 CRDs + Calico API server), none.

    The Calico API server is a typed (aggregated) API server: its list items come without apiVersion/kind, as
    built-in types' do; custom resources keep them."""
    out: list[ResourceType] = []
    if mode in ("v1", "both"):
        out += [ResourceType("crd.projectcalico.org", "v1", p, k, ns) for k, p, ns in CALICO_KINDS + V1_ONLY]
    if mode in ("v3", "both"):
        api_server = mode == "both"
        out += [
            ResourceType("projectcalico.org", "v3", p, k, ns, typed_items=api_server,
                         read_only=api_server and p in API_SERVER_READ_ONLY)
            for k, p, ns in CALICO_KINDS + V3_ONLY
            if not (api_server and p in API_SERVER_OMITS)
        ]
    return out


@dataclass
class Fault:
    status: int
    reason: str
    message: str
    method: str | None
    plural: str | None
    remaining: int
    skip: int = 0


@dataclass
class Faults:
    """Test hooks: make the next matching requests fail with a given Status, or slow every answer down."""

    rules: list[Fault] = field(default_factory=list)
    delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    hits: int = 0

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        reason: str = "InternalError",
        message: str = "injected failure",
        method: str | None = None,
        plural: str | None = None,
        skip: int = 0,
    ) -> None:
        """The next `count` matching requests fail, after `skip` matching ones went through."""
        with self.lock:
            self.rules.append(Fault(status, reason, message, method, plural, count, skip))

    def conflict_next_updates(self, count: int, plural: str | None = None) -> None:
        """The next `count` PUTs (optionally only to `plural`) answer 409 Conflict as a lost race would."""
        self.fail_next(
            count,
            status=409,
            reason="Conflict",
            message="Operation cannot be fulfilled: the object has been modified; please apply your changes to the "
            "latest version and try again",
            method="PUT",
            plural=plural,
        )

    def take(self, method: str, plural: str | None) -> Fault | None:
        with self.lock:
            for rule in self.rules:
                if rule.remaining > 0 and rule.method in (None, method) and rule.plural in (None, plural):
                    if rule.skip > 0:
                        rule.skip -= 1
                        continue
                    rule.remaining -= 1
                    self.hits += 1
                    return rule
            return None


@dataclass
class Route:
    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


class FakeKubeServer:
    def __init__(self, calico: str = "v3", token: str | None = None, git_version: str = "v1.31.2-fakekube") -> None:
        self.calico = calico
        # With calico="both": the Calico API server's APIService is registered but its pods are down, so the
        # aggregation layer answers everything under /apis/projectcalico.org/v3 with a plain-text 503.
        self.aggregated_unavailable = False
        self.token = token
        self.git_version = git_version
        self.state = FakeState()
        self.faults = Faults()
        self.types = CORE_TYPES + [LEASES, K8S_NETWORK_POLICIES] + calico_types(calico)
        self.requests: list[tuple[str, str]] = []  # (method, path?query) log for assertions
        self._snapshots: dict[str, list[dict[str, Any]]] = {}
        self._snap_ids = itertools.count(1)
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.stopping = threading.Event()
        for ns in ("default", "kube-system", "kube-public", "calico-system"):
            self.state.create(CORE_TYPES[1], None, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})

    # -- lifecycle ----------------------------------------------------------------------------------------------
    def start(self) -> FakeKubeServer:
        handler = type("Handler", (KubeHandler,), {"server_ref": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        with self.state.changed:
            self.state.changed.notify_all()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeKubeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}"

    def write_kubeconfig(self, path: Path, context: str = "fake", namespace: str | None = None) -> Path:
        user: dict[str, Any] = {"token": self.token} if self.token else {}
        ctx: dict[str, Any] = {"cluster": f"{context}-cluster", "user": f"{context}-user"}
        if namespace:
            ctx["namespace"] = namespace
        doc = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": f"{context}-cluster", "cluster": {"server": self.url}}],
            "users": [{"name": f"{context}-user", "user": user}],
            "contexts": [{"name": context, "context": ctx}],
            "current-context": context,
        }
        path.write_text(yaml.safe_dump(doc))
        return path

    # -- seeding helpers for tests ------------------------------------------------------------------------------
    def type_for(self, api_version: str, plural: str) -> ResourceType:
        for rt in self.types:
            if rt.api_version == api_version and rt.plural == plural:
                return rt
        raise KeyError(f"{api_version} {plural} not served")

    def put(self, api_version: str, plural: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Create an object directly (as another client would), returning it as stored."""
        rt = self.type_for(api_version, plural)
        return self.state.create(rt, (obj.get("metadata") or {}).get("namespace"), obj)

    def fetch(self, api_version: str, plural: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        return self.state.get(self.type_for(api_version, plural), namespace, name)

    # -- discovery ----------------------------------------------------------------------------------------------
    def group_versions(self) -> dict[str, list[ResourceType]]:
        out: dict[str, list[ResourceType]] = {}
        for rt in self.types:
            out.setdefault(rt.api_version, []).append(rt)
        return out

    def resource_list(self, gv: str) -> dict[str, Any]:
        resources = []
        for rt in self.group_versions()[gv]:
            resources.append({
                "name": rt.plural, "singularName": rt.kind.lower(), "namespaced": rt.namespaced,
                "kind": rt.kind, "verbs": ["get", "list", "watch"] if rt.read_only else VERBS,
            })
            if rt.status_subresource:
                resources.append({"name": f"{rt.plural}/status", "singularName": "", "namespaced": rt.namespaced,
                                  "kind": rt.kind, "verbs": ["get", "patch", "update"]})
        return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}

    def group_list(self) -> dict[str, Any]:
        groups: dict[str, list[str]] = {}
        for gv in self.group_versions():
            if "/" in gv:
                g, v = gv.split("/")
                groups.setdefault(g, []).append(v)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [self._group(g, vs) for g, vs in groups.items()]}

    @staticmethod
    def _group(g: str, versions: list[str]) -> dict[str, Any]:
        vs = [{"groupVersion": f"{g}/{v}", "version": v} for v in versions]
        return {"name": g, "versions": vs, "preferredVersion": vs[0]}

    def discovery(self, path: str) -> dict[str, Any] | None:
        gvs = self.group_versions()
        if path == "/version":
            major, minor = self.git_version.lstrip("v").split(".")[:2]
            return {"major": major, "minor": minor, "gitVersion": self.git_version, "platform": "linux/amd64"}
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": self.url[7:]}]}
        if path == "/api/v1":
            return self.resource_list("v1")
        if path == "/apis":
            return self.group_list()
        parts = path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "apis":
            versions = [gv.split("/")[1] for gv in gvs if gv.startswith(parts[1] + "/")]
            return {"kind": "APIGroup", "apiVersion": "v1", **self._group(parts[1], versions)} if versions else None
        if len(parts) == 3 and parts[0] == "apis" and f"{parts[1]}/{parts[2]}" in gvs:
            return self.resource_list(f"{parts[1]}/{parts[2]}")
        return None

    def route(self, path: str) -> Route | None:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[:2] == ["api", "v1"]:
            gv, rest = "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            gv, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            return None
        namespace = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            return None
        for rt in self.group_versions().get(gv, []):
            if rt.plural == rest[0] and (rt.namespaced or namespace is None):
                name = rest[1] if len(rest) > 1 else None
                sub = rest[2] if len(rest) > 2 else None
                return Route(rt, namespace, name, sub)
        return None

    # -- lists, pagination, watch -------------------------------------------------------------------------------
    def list_doc(self, route: Route, query: dict[str, str]) -> dict[str, Any]:
        rt = route.rt
        token = query.get("continue")
        limit = int(query["limit"]) if query.get("limit", "").isdigit() and int(query["limit"]) > 0 else None
        if token:
            try:
                snap_id, start, rv = json.loads(base64.urlsafe_b64decode(token.encode()))
                items = self._snapshots[snap_id]
            except (ValueError, KeyError, TypeError):
                raise ApiError(410, "Expired", "The provided continue parameter is too old to display a consistent "
                               "list result. You can start a new list without the continue parameter.") from None
        else:
            try:
                labels, fields = label_matcher(query.get("labelSelector")), field_matcher(query.get("fieldSelector"))
            except SelectorError as exc:
                raise ApiError(400, "BadRequest", str(exc)) from None
            items, rv = self.state.list(rt, route.namespace, labels, fields)
            snap_id, start = str(next(self._snap_ids)), 0
            if limit is not None and len(items) > limit:
                self._snapshots[snap_id] = items
                for old in list(self._snapshots)[:-50]:
                    self._snapshots.pop(old, None)
        page = items[start : start + limit] if limit is not None else items[start:]
        meta: dict[str, Any] = {"resourceVersion": str(rv)}
        if limit is not None and start + limit < len(items):
            meta["continue"] = base64.urlsafe_b64encode(json.dumps([snap_id, start + limit, rv]).encode()).decode()
            if not query.get("labelSelector") and not query.get("fieldSelector"):
                meta["remainingItemCount"] = len(items) - start - limit
        if rt.typed_items:
            for item in page:
                item.pop("apiVersion", None)
                item.pop("kind", None)
        return {"apiVersion": rt.api_version, "kind": f"{rt.kind}List", "metadata": meta, "items": page}
