"""The cluster's real endpoints as explain / matrix inputs: Pods + Namespaces + ServiceAccounts and
WorkloadEndpoints + Profiles, from manifest files and from a real etcd, with Calico's derived labels; the
HostEndpoint-IP answer; `matrix --expect`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from calicotool.evaluate.entities import endpoint_entity
from calicotool.evaluate.workloads import build_workloads
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import NamedPort
from tests.conftest import CliRunner
from tests.datastore.backend_etcd import EtcdStoreFactory, etcd_store_factory  # noqa: F401 - fixture

from .live_cluster import POLICIES, calico_objects, kubernetes_objects


def _write(path: Path, objects: list[dict[str, Any]]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "cluster.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objects}))
    (path / "policies.yaml").write_text(POLICIES)
    return path


@pytest.fixture
def k8s_snapshot(tmp_path: Path) -> Path:
    return _write(tmp_path / "k8s", kubernetes_objects())


@pytest.fixture
def calico_snapshot(tmp_path: Path) -> Path:
    return _write(tmp_path / "calico", calico_objects())


# -- pure: documents -> endpoints -------------------------------------------------------------------------------
@pytest.mark.parametrize("objects", [kubernetes_objects, calico_objects], ids=["pods", "workloadendpoints"])
def test_both_storage_forms_give_the_same_endpoints_and_derived_labels(objects: Any) -> None:
    wl = build_workloads(objects())
    assert [f"{e.namespace}/{e.name}" for e in wl.endpoints] == [
        "shop/api-7d9f", "shop/db-0", "shop/frontend-1", "shop/frontend-2", "tools/debug"]
    api = wl.find("shop/api-7d9f")
    assert api is not None and api.ips == ("10.0.0.5",) and api.ports == (NamedPort("http", 8080),)
    ent = endpoint_entity(api)
    assert {k: v for k, v in ent.labels.items() if k != "pod-template-hash"} == {
        "app": "api", "projectcalico.org/namespace": "shop", "projectcalico.org/orchestrator": "k8s",
        "projectcalico.org/serviceaccount": "api"}
    assert ent.ns_labels["team"] == "shop" and ent.ns_labels["env"] == "prod"
    assert ent.sa_labels["role"] == "backend"
    assert wl.owner_of("10.0.0.7") is wl.find("shop/db-0")


def test_host_network_and_finished_pods_have_no_workload_endpoint() -> None:
    wl = build_workloads(kubernetes_objects())
    assert wl.find("tools/node-exporter") is None and wl.find("tools/job-1") is None
    assert any("host network" in s for s in wl.skipped) and any("Succeeded" in s for s in wl.skipped)


# -- manifests through the CLI -----------------------------------------------------------------------------------
FLOWS = [  # (src, dst, port, exit code, JSON path that must name the decider)
    ("shop/api-7d9f", "shop/db-0", "5432/TCP", 0, ("destination_ingress", "policy", "db-ingress")),
    ("shop/frontend-1", "shop/db-0", "5432/TCP", 1, ("destination_ingress", "decided_by", "tier-default-action")),
    ("shop/frontend-1", "shop/api-7d9f", "8080/TCP", 0, ("destination_ingress", "policy", "api-from-prod")),
    ("tools/debug", "shop/api-7d9f", "8080/TCP", 1, ("destination_ingress", "decided_by", "tier-default-action")),
    ("shop/api-7d9f", "shop/frontend-1", "80/TCP", 1, ("source_egress", "policy", "backend-egress")),
]


@pytest.mark.parametrize(("src", "dst", "port", "code", "why"), FLOWS)
@pytest.mark.parametrize("form", ["k8s_snapshot", "calico_snapshot"])
def test_explain_names_cluster_pods(cli: CliRunner, request: pytest.FixtureRequest, form: str, src: str, dst: str,
                                    port: str, code: int, why: tuple[str, str, str]) -> None:
    snapshot = request.getfixturevalue(form)
    r = cli("policy", "explain", "--src", src, "--dst", dst, "--port", port, "-m", str(snapshot), "-o", "json")
    assert r.exit_code == code, r.stdout + r.stderr
    side, key, value = why
    assert json.loads(r.stdout)[side][key] == value


def _allowed(cli: CliRunner, *args: str) -> dict[str, Any]:
    r = cli("policy", "matrix", *args, "-o", "json")
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


def test_all_port_matrix_of_the_cluster(cli: CliRunner, k8s_snapshot: Path, calico_snapshot: Path) -> None:
    pods = _allowed(cli, "-m", str(k8s_snapshot))
    allowed = pods["allowed"]
    assert allowed["shop/api-7d9f"]["shop/db-0"] == {"TCP": "5432"}  # backend-egress and db-ingress (named pg)
    assert "shop/db-0" not in allowed["shop/frontend-1"]  # not a backend service account
    assert allowed["shop/frontend-1"]["shop/api-7d9f"] == {"TCP": "8080"}  # named http, from a prod namespace
    assert "shop/api-7d9f" not in allowed["tools/debug"]  # tools is not a prod namespace
    assert allowed["tools/debug"]["shop/frontend-1"] == {"TCP": "all", "UDP": "all"}  # no policy: kns profile
    assert pods["classes"] == len(pods["endpoints"]) - 1  # the two frontends are one class
    assert "pod:tools/node-exporter" not in pods["endpoints"]
    assert _allowed(cli, "-m", str(calico_snapshot))["allowed"] == allowed  # WorkloadEndpoints + Profiles: same


def test_manifests_refuse_a_bad_pod_port_with_its_location(cli: CliRunner, tmp_path: Path) -> None:
    bad = kubernetes_objects()
    bad[-3]["spec"]["containers"][0]["ports"] = [{"name": "http", "containerPort": "eighty"}]
    r = cli("policy", "matrix", "-m", str(_write(tmp_path / "bad", bad)))
    assert r.exit_code == 2 and "containerPort: not a port number" in r.stderr and "Traceback" not in r.stderr


# -- the HostEndpoint-IP answer ------------------------------------------------------------------------------------
def test_an_ip_of_a_host_endpoint_is_that_host(cli: CliRunner, k8s_snapshot: Path) -> None:
    r = cli("policy", "explain", "--src", "shop/frontend-1", "--dst", "ip:192.0.2.10", "--port", "443/TCP",
            "-m", str(k8s_snapshot), "-o", "json")
    assert r.exit_code == 1, r.stdout + r.stderr  # Calico: host endpoint default deny, not an outside address
    ingress = json.loads(r.stdout)["destination_ingress"]
    assert (ingress["endpoint"], ingress["decided_by"]) == ("host:node1-eth0", "host-endpoint-default-deny")
    assert "expected IP of HostEndpoint node1-eth0" in r.stderr
    ssh = cli("policy", "explain", "--src", "shop/frontend-1", "--dst", "ip:192.0.2.10", "--port", "22/TCP",
              "-m", str(k8s_snapshot), "-o", "json")
    assert ssh.exit_code == 0 and json.loads(ssh.stdout)["destination_ingress"]["decided_by"] == "failsafe"


def test_an_ip_of_a_pod_is_that_pod(cli: CliRunner, k8s_snapshot: Path) -> None:
    r = cli("policy", "explain", "--src", "ip:10.0.1.9", "--dst", "shop/api-7d9f", "--port", "8080/TCP",
            "-m", str(k8s_snapshot), "-o", "json")
    assert r.exit_code == 1 and "address of pod tools/debug" in r.stderr
    assert json.loads(r.stdout)["source_egress"]["endpoint"] == "pod:tools/debug"


# -- --expect --------------------------------------------------------------------------------------------------------
def test_expectations_that_hold_exit_0(cli: CliRunner, k8s_snapshot: Path, tmp_path: Path) -> None:
    intent = tmp_path / "intent.yaml"
    intent.write_text(yaml.safe_dump({
        "allow": [{"from": "shop/frontend-1", "to": "shop/api-7d9f", "port": "8080/TCP"},
                  {"from": "shop/api-7d9f", "to": "shop/db-0", "ports": ["5432/TCP"]}],
        "deny": [{"from": "tools/debug", "to": "shop/api-7d9f", "port": "8080/TCP"}]}))
    r = cli("policy", "matrix", "-m", str(k8s_snapshot), "--expect", str(intent))
    assert r.exit_code == 0, r.stdout + r.stderr
    assert "3 of 3 expectations hold" in r.stdout


def test_a_violated_expectation_exits_1_naming_policy_and_rule(cli: CliRunner, k8s_snapshot: Path,
                                                               tmp_path: Path) -> None:
    intent = tmp_path / "intent.yaml"
    intent.write_text(yaml.safe_dump({
        "allow": [{"from": "shop/frontend-1", "to": "shop/db-0", "port": "5432/TCP"},
                  {"from": "shop/frontend-1", "to": "shop/api-7d9f", "port": "8080/TCP"}],
        "deny": [{"from": "shop/api-7d9f", "to": "shop/db-0", "port": "5432/TCP"}]}))
    r = cli("policy", "matrix", "-m", str(k8s_snapshot), "--expect", str(intent))
    assert r.exit_code == 1, r.stdout + r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("violation:")]
    assert len(lines) == 2
    assert "allow[0]" in lines[0] and "no rule of db-ingress matched" in lines[0]
    assert "deny[0]" in lines[1] and "policy backend-egress egress rule 0" in lines[1]
    assert "policy db-ingress ingress rule 0" in lines[1]
    as_json = cli("policy", "matrix", "-m", str(k8s_snapshot), "--expect", str(intent), "-o", "json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["violations"] == 2


@pytest.mark.parametrize(("content", "message"), [
    ("allow: {from: a}", "`allow` must be a list"),
    ("allow: [{from: shop/api-7d9f, to: shop/db-0}]", "needs `port: 443/TCP`"),
    ("allow: [{from: shop/api-7d9f, to: shop/db-0, port: 99999/TCP}]", "out of range"),
    ("allow: [{from: shop/api-7d9f, to: shop/nope, port: 80}]", "no pod or workload endpoint"),
    ("maybe: []", "`allow:` and/or `deny:` lists"),
    ("allow: [", "malformed YAML"),
])
def test_bad_expect_files_are_located_errors(cli: CliRunner, k8s_snapshot: Path, tmp_path: Path, content: str,
                                             message: str) -> None:
    intent = tmp_path / "intent.yaml"
    intent.write_text(content)
    r = cli("policy", "matrix", "-m", str(k8s_snapshot), "--expect", str(intent))
    assert r.exit_code == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_a_missing_expect_file_is_bad_input(cli: CliRunner, k8s_snapshot: Path, tmp_path: Path) -> None:
    r = cli("policy", "matrix", "-m", str(k8s_snapshot), "--expect", str(tmp_path / "nope.yaml"))
    assert r.exit_code == 2 and "--expect: cannot read" in r.stderr and "Traceback" not in r.stderr


# -- a real etcd -----------------------------------------------------------------------------------------------------
def test_etcd_workload_endpoints_and_profiles(cli: CliRunner, etcd_store_factory: EtcdStoreFactory,  # noqa: F811
                                              k8s_snapshot: Path) -> None:
    store = etcd_store_factory()
    for doc in [*calico_objects(), *yaml.safe_load_all(POLICIES)]:
        store.create(Resource.from_dict(doc))
    env = {"CALICOTOOL_DATASTORE": f"etcdv3:{etcd_store_factory.server.client_url}"}
    for src, dst, port, code, (side, key, value) in FLOWS:
        r = cli("policy", "explain", "--src", src, "--dst", dst, "--port", port, "-o", "json", environ=env)
        assert r.exit_code == code, (src, dst, r.stdout + r.stderr)
        assert json.loads(r.stdout)[side][key] == value
    live = cli("policy", "matrix", "-o", "json", environ=env)
    assert live.exit_code == 0, live.stderr
    assert json.loads(live.stdout)["allowed"] == _allowed(cli, "-m", str(k8s_snapshot))["allowed"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("status", {"phase": "Running", "podIPs": "10.0.0.1"}, "pod shop/api-7d9f: status.podIPs: must be a list"),
    ("spec", {"containers": {"name": "c"}}, "pod shop/api-7d9f: spec.containers: must be a list"),
    ("metadata", {"name": "api-7d9f", "namespace": "shop", "labels": ["app"]}, "metadata.labels: must be a mapping"),
    ("status", {"phase": "Running", "podIP": "10.0.0.300"}, "pod:shop/api-7d9f: invalid CIDR or IP"),
])
def test_malformed_pods_are_one_clear_error(cli: CliRunner, tmp_path: Path, field: str, value: Any,
                                           message: str) -> None:
    objects = kubernetes_objects()
    api = next(o for o in objects if o["kind"] == "Pod" and o["metadata"]["name"] == "api-7d9f")
    api[field] = value
    r = cli("policy", "matrix", "-m", str(_write(tmp_path / "bad", objects)))
    assert r.exit_code == 2 and message in r.stderr and "Traceback" not in r.stderr, r.stderr
