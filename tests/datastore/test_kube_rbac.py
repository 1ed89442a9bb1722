"""deploy/rbac.yaml against what the route-reflector flow really asks of a Kubernetes API server.

`rr reconcile` (and `rr migrate`) run against the fake API server; every request it logged becomes a
(apiGroup, resource, verb, namespace) need, exactly as kube-apiserver's authorizer sees it (GET on a name = get,
GET on a collection = list, ?watch = watch, POST = create, PUT = update, PATCH = patch, DELETE = delete or
deletecollection; `nodes/status` is its own resource). The manifests must grant every need through roles bound
to the service account the CronJob and the sidecar run as, and grant nothing the flow never uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from calicotool.bgp.migrate import migrate_from_mesh
from calicotool.bgp.options import PlanOptions
from calicotool.bgp.reconcile import LOCK_NAME, ReconcileConfig, reconcile_once
from calicotool.bgp.resources import MESH_PEER, PEER_PREFIX
from calicotool.bgp.seed import kdd_node
from calicotool.bgp.state import ROLE_LABEL, ROLE_REFLECTOR
from calicotool.bgp.status import status_resource
from calicotool.bgp.synthetic import generate_cluster
from calicotool.datastore.kube_lock import lease_name
from calicotool.datastore.kubernetes import KubeStore
from calicotool.model.resource import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Resource
from tests.bgp.conftest import FakeCalicoNode
from tests.bgp.test_reconcile import FakeClock
from tests.fakekube import FakeKubeServer

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SA = ("calicotool-rr", "calicotool")  # (name, namespace) of the ServiceAccount the workloads run as
STATE = generate_cluster(12, 3, 2, seed=11)
# (apiGroup, resource, verb, namespace or None for cluster scope, object name or None for collections)
Need = tuple[str, str, str, str | None, str | None]
# Discovery and /version: non-resource URLs every authenticated user may GET (system:discovery ClusterRole).
DISCOVERY_PREFIXES = ("/version", "/api", "/apis")


def need_of(method: str, raw: str) -> Need | None:
    """The authorizer's view of one request; None for discovery."""
    split = urlsplit(raw)
    parts = [unquote(p) for p in split.path.strip("/").split("/")]
    if parts[:2] == ["api", "v1"]:
        group, rest = "", parts[2:]
    elif parts[0] == "apis" and len(parts) >= 3:
        group, rest = parts[1], parts[3:]
    else:
        rest = []
    if not rest:
        assert method == "GET" and split.path.startswith(DISCOVERY_PREFIXES), raw
        return None
    namespace = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    resource = rest[0] + (f"/{rest[2]}" if len(rest) > 2 else "")
    named = len(rest) > 1
    name = rest[1] if named else None
    if method == "GET":
        verb = "get" if named else ("watch" if "watch=" in split.query else "list")
    else:
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method) or (
            "delete" if named else "deletecollection"
        )
    return group, resource, verb, namespace, name


def _docs() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for path in sorted(DEPLOY.glob("rbac*.yaml")):
        out += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return out


def _bound(docs: list[dict[str, Any]], extra_cluster_roles: tuple[str, ...] = ()) -> list[tuple[str | None, dict]]:
    """(namespace the rules apply in, or None for everywhere; rule) for every rule bound to the ServiceAccount."""
    roles = {(d["kind"], d["metadata"].get("namespace"), d["metadata"]["name"]): d for d in docs
             if d["kind"] in ("ClusterRole", "Role")}
    out: list[tuple[str | None, dict]] = []
    for name in extra_cluster_roles:
        out += [(None, r) for r in roles[("ClusterRole", None, name)]["rules"]]
    for d in docs:
        if d["kind"] not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        if not any(s["kind"] == "ServiceAccount" and (s["name"], s.get("namespace")) == SA for s in d["subjects"]):
            continue
        ref = d["roleRef"]
        where = d["metadata"].get("namespace") if d["kind"] == "RoleBinding" else None
        role = roles[(ref["kind"], where if ref["kind"] == "Role" else None, ref["name"])]
        out += [(where, r) for r in role["rules"]]
    return out


def granted(rules: list[tuple[str | None, dict]], need: Need) -> bool:
    """RBAC's rule match: a rule with resourceNames only matches requests naming one of them (never a create or
    a list, which carry no name)."""
    group, resource, verb, namespace, name = need
    return any(
        (where is None or where == namespace)
        and group in rule.get("apiGroups", [])
        and resource in rule.get("resources", [])
        and verb in rule.get("verbs", [])
        and (not rule.get("resourceNames") or name in rule["resourceNames"])
        for where, rule in rules
    )


def _scoped(needs: set[Need]) -> set[tuple[str, str, str, str | None]]:
    return {(g, r, v, ns) for g, r, v, ns, _ in needs}


class QuietAgent(FakeCalicoNode):
    """calico-node's part (filling CalicoNodeStatus) runs under calico-node's own RBAC, not ours: unlogged."""

    def __init__(self, store: KubeStore, server: FakeKubeServer) -> None:
        super().__init__(store)
        self.server = server

    def step(self, _seconds: float = 0.0) -> None:
        mark = len(self.server.requests)
        super().step(_seconds)
        del self.server.requests[mark:]


@contextmanager
def _cluster(mode: str, tmp: Path) -> Iterator[tuple[FakeKubeServer, dict[str, str]]]:
    with FakeKubeServer(calico=mode) as server:
        server.put("v1", "namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SA[1]}})
        environ = {"KUBECONFIG": str(server.write_kubeconfig(tmp / "kubeconfig")), "HOME": str(tmp),
                   "CALICOTOOL_LOCK_NAMESPACE": SA[1]}
        seeder = KubeStore.from_spec(None, environ)
        for node in STATE.nodes:
            seeder.create(kdd_node(node))
        if mode == "v3":  # v1: a cluster without the `default` BGPConfiguration (migrate creates it)
            seeder.create(Resource.new("BGPConfiguration", "default", {"nodeToNodeMeshEnabled": True}))
        seeder.close()
        server.requests.clear()
        yield server, environ


def _drift(server: FakeKubeServer, environ: dict[str, str]) -> None:
    """What a later run meets (written unlogged, as others would): an edited managed peer, an obsolete managed
    peer, a status object for a node that is no longer a reflector, and the Lease an earlier run let expire."""
    mark = len(server.requests)
    other = KubeStore.from_spec(None, environ)
    mesh = other.get("BGPPeer", MESH_PEER)
    mesh.spec["nodeSelector"] = "has(edited-by-hand)"
    other.update(mesh)
    labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE}
    other.create(Resource.new("BGPPeer", PEER_PREFIX + "obsolete", {"nodeSelector": "has(x)", "peerSelector":
                              "has(x)"}, labels=labels))
    reflectors = {n.name for n in other.list("KubernetesNode") if n.labels.get(ROLE_LABEL) == ROLE_REFLECTOR}
    client = sorted(n.name for n in STATE.nodes if n.name not in reflectors)[0]
    other.create(status_resource(client))
    other.close()
    server.put("coordination.k8s.io/v1", "leases", {
        "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "metadata": {"name": lease_name(LOCK_NAME), "namespace": SA[1]},
        "spec": {"holderIdentity": "an-earlier-run", "leaseDurationSeconds": 10,
                 "renewTime": "2020-01-01T00:00:00.000000Z", "acquireTime": "2020-01-01T00:00:00.000000Z"}})
    del server.requests[mark:]


def _run(server: FakeKubeServer, environ: dict[str, str], migrate: bool) -> set[Need]:
    store, agent_store = KubeStore.from_spec(None, environ), KubeStore.from_spec(None, environ)
    clock = FakeClock(QuietAgent(agent_store, server))
    cfg = ReconcileConfig(options=PlanOptions(ratio=0.25), timeout_seconds=20, poll_seconds=1)
    try:
        if migrate:
            report = migrate_from_mesh(store, cfg, STATE.now, clock, clock.sleep)  # raises if a step fails
            assert all(step.ok for step in report.steps) and report.writes
        else:
            assert reconcile_once(store, cfg, STATE.now, clock, clock.sleep).converged
            _drift(server, environ)
            again = reconcile_once(store, cfg, STATE.now, clock, clock.sleep)
            applied = " | ".join(again.applied)
            assert again.converged and "obsolete" in applied and MESH_PEER in applied, applied
            assert reconcile_once(store, cfg, STATE.now, clock, clock.sleep).writes == 0
    finally:
        store.close()
        agent_store.close()
    return {n for m, p in server.requests if (n := need_of(m, p)) is not None}


def test_need_of_maps_requests_like_the_authorizer() -> None:
    assert need_of("GET", "/api/v1/nodes?limit=500") == ("", "nodes", "list", None, None)
    assert need_of("PUT", "/api/v1/nodes/n1/status") == ("", "nodes/status", "update", None, "n1")
    assert need_of("GET", "/apis/projectcalico.org/v3/bgppeers?watch=1") == ("projectcalico.org", "bgppeers",
                                                                              "watch", None, None)
    assert need_of("DELETE", "/apis/coordination.k8s.io/v1/namespaces/x/leases/l") == (
        "coordination.k8s.io", "leases", "delete", "x", "l")
    assert need_of("GET", "/api/v1/namespaces/x") == ("", "namespaces", "get", None, "x")
    rule = {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "create"], "resourceNames": ["n1"]}
    assert granted([(None, rule)], ("", "nodes", "get", None, "n1"))
    assert not granted([(None, rule)], ("", "nodes", "get", None, "n2"))
    assert not granted([(None, rule)], ("", "nodes", "create", None, None))
    assert not granted([("ns", rule)], ("", "nodes", "get", "other", "n1"))
    assert need_of("GET", "/apis/crd.projectcalico.org/v1") is None


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], set[Need]]:
    """(flow, storage mode) -> the needs recorded while running it."""
    out: dict[tuple[str, str], set[Need]] = {}
    for flow in ("reconcile", "migrate"):
        for mode in ("v3", "v1"):
            with _cluster(mode, tmp_path_factory.mktemp(f"{flow}-{mode}")) as (server, environ):
                out[(flow, mode)] = _run(server, environ, migrate=flow == "migrate")
    return out


def _calico_group(mode: str) -> str:
    return "projectcalico.org" if mode == "v3" else "crd.projectcalico.org"


@pytest.mark.parametrize("mode", ["v3", "v1"])
def test_rr_reconcile_needs_are_granted(observed: dict[tuple[str, str], set[Need]], mode: str) -> None:
    needs = observed[("reconcile", mode)]
    rules = _bound(_docs())
    missing = sorted(n for n in needs if not granted(rules, n))
    assert not missing, f"deploy/rbac.yaml does not grant: {missing}"
    calico = _calico_group(mode)
    assert {(calico, "bgppeers", "create", None), (calico, "bgppeers", "delete", None), ("", "nodes", "update", None),
            ("coordination.k8s.io", "leases", "update", SA[1])} <= _scoped(needs)


@pytest.mark.parametrize("mode", ["v3", "v1"])
def test_rr_migrate_needs_are_granted_with_the_migrate_role(
    observed: dict[tuple[str, str], set[Need]], mode: str
) -> None:
    needs = observed[("migrate", mode)]
    docs = _docs()
    assert not [n for n in needs if not granted(_bound(docs, ("calicotool-rr-migrate",)), n)]
    only_migrate = {n for n in needs if not granted(_bound(docs), n)}
    verb = "update" if mode == "v3" else "create"  # the v1 cluster has no `default` BGPConfiguration yet
    assert _scoped(only_migrate) == {(_calico_group(mode), "bgpconfigurations", verb, None)}


CALICO_GROUPS = ("crd.projectcalico.org", "projectcalico.org")


def _calico(triples: set[tuple[str, str, str]]) -> set[tuple[str, str, str]]:
    """A cluster uses one of the two Calico groups; the manifests grant both alike, so compare them as one."""
    return {("calico" if g in CALICO_GROUPS else g, r, v) for g, r, v in triples}


def _granted_triples(rules: list[tuple[str | None, dict]]) -> set[tuple[str, str, str]]:
    return {(g, r, v) for _, rule in rules for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def test_nothing_broader_than_the_flow_uses(observed: dict[tuple[str, str], set[Need]]) -> None:
    docs = _docs()
    for d in docs:
        for rule in d.get("rules") or []:
            for key in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule.get(key, []), (d["metadata"]["name"], rule)
            assert not rule.get("nonResourceURLs"), (d["metadata"]["name"], rule)
            if set(rule["apiGroups"]) & set(CALICO_GROUPS):  # whichever form the cluster serves
                assert sorted(rule["apiGroups"]) == sorted(CALICO_GROUPS), rule
    used = {flow: _calico({(g, r, v) for (f, _), needs in observed.items() if f == flow for g, r, v, _, _ in needs})
            for flow in ("reconcile", "migrate")}
    bound = _calico(_granted_triples(_bound(docs)))
    unused = sorted(bound - used["reconcile"])
    assert not unused, f"bound but never used by rr reconcile: {unused}"
    migrate_only = _calico(_granted_triples(_bound(docs, ("calicotool-rr-migrate",)))) - bound
    assert migrate_only and not sorted(migrate_only - used["migrate"]), migrate_only


def test_workloads_use_the_bound_service_account_and_lock_namespace() -> None:
    roles = {d["metadata"]["name"]: d for d in _docs() if d["kind"] == "Role"}
    lock_ns = {r["metadata"]["namespace"] for r in roles.values()
               if any("leases" in rule["resources"] for rule in r["rules"])}
    for name in ("cronjob.yaml", "sidecar-deployment.yaml"):
        text = (DEPLOY / name).read_text()
        doc = yaml.safe_load(text)
        spec = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"] if doc["kind"] == "CronJob" else (
            doc["spec"]["template"]["spec"])
        assert spec["serviceAccountName"] == SA[0] and doc["metadata"]["namespace"] == SA[1]
        env = {e["name"]: e.get("value") for c in spec["containers"] for e in c.get("env") or []}
        assert {env["CALICOTOOL_LOCK_NAMESPACE"]} == lock_ns, name
