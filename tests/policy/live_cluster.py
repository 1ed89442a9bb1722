"""One small cluster, written the two ways Calico stores it: Kubernetes objects (Pods, Namespaces, ServiceAccounts)
and Calico v3 objects (WorkloadEndpoints, Profiles), plus policies that use namespaceSelector,
serviceAccountSelector, rule serviceAccounts and named ports. Shared by the manifest, etcd and API-server tests."""

from __future__ import annotations

from typing import Any

NAMESPACES = {"shop": {"team": "shop", "env": "prod"}, "tools": {"team": "tools"}}
ACCOUNTS = {("shop", "api"): {"role": "backend"}, ("shop", "default"): {}, ("tools", "default"): {}}
# name, namespace, labels, service account, IP, named ports (name, port)
PODS: list[tuple[str, str, dict[str, str], str, str, list[tuple[str, int]]]] = [
    ("api-7d9f", "shop", {"app": "api", "pod-template-hash": "7d9f"}, "api", "10.0.0.5", [("http", 8080)]),
    ("frontend-1", "shop", {"app": "frontend"}, "default", "10.0.0.6", [("http", 80)]),
    ("frontend-2", "shop", {"app": "frontend"}, "default", "10.0.0.8", [("http", 80)]),
    ("db-0", "shop", {"app": "db"}, "default", "10.0.0.7", [("pg", 5432)]),
    ("debug", "tools", {"app": "debug"}, "default", "10.0.1.9", []),
]
HOST_IP = "192.0.2.10"

POLICIES = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: api-from-prod}
spec:
  namespaceSelector: team == 'shop'
  selector: app == 'api'
  ingress:
  - action: Allow
    protocol: TCP
    source: {namespaceSelector: env == 'prod'}
    destination: {ports: [http]}
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: backend-egress}
spec:
  serviceAccountSelector: role == 'backend'
  types: [Egress]
  egress:
  - action: Allow
    protocol: TCP
    destination: {selector: app == 'db', ports: [5432]}
  - action: Deny
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {name: db-ingress}
spec:
  selector: app == 'db'
  ingress:
  - action: Allow
    protocol: TCP
    source: {serviceAccounts: {selector: role == 'backend'}}
    destination: {ports: [pg]}
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata: {name: node1-eth0, labels: {role: node}}
spec: {node: node1, interfaceName: eth0, expectedIPs: [192.0.2.10]}
"""


def kubernetes_objects() -> list[dict[str, Any]]:
    """What `kubectl get pods,ns,sa -A -o yaml` lists (plus a host-network pod and a finished one)."""
    out: list[dict[str, Any]] = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n, "labels": labels}}
                                 for n, labels in NAMESPACES.items()]
    out += [{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns, "labels": labels}}
            for (ns, sa), labels in ACCOUNTS.items()]
    for name, ns, labels, sa, ip, ports in PODS:
        out.append(pod(name, ns, labels, sa, ip, ports))
    out.append({**pod("node-exporter", "tools", {"app": "exporter"}, "default", "192.0.2.10", []),
                "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "x"}]}})
    finished = pod("job-1", "tools", {"app": "job"}, "default", "10.0.1.20", [])
    finished["status"]["phase"] = "Succeeded"
    return [*out, finished]


def pod(name: str, ns: str, labels: dict[str, str], sa: str, ip: str, ports: list[tuple[str, int]]) -> dict[str, Any]:
    container: dict[str, Any] = {"name": "main", "image": "registry.example/app:1"}
    if ports:
        container["ports"] = [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"serviceAccountName": sa, "containers": [container]},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}


def calico_objects() -> list[dict[str, Any]]:
    """The same cluster as Calico keeps it in etcd: Profiles carry namespace / account labels, WorkloadEndpoints
    carry the derived labels."""
    v3 = "projectcalico.org/v3"
    out: list[dict[str, Any]] = []
    for ns, labels in NAMESPACES.items():
        apply = {f"pcns.{k}": v for k, v in labels.items()} | {"pcns.projectcalico.org/name": ns}
        out.append({"apiVersion": v3, "kind": "Profile", "metadata": {"name": f"kns.{ns}"},
                    "spec": {"ingress": [{"action": "Allow"}], "egress": [{"action": "Allow"}],
                             "labelsToApply": apply}})
    for (ns, sa), labels in ACCOUNTS.items():
        apply = {f"pcsa.{k}": v for k, v in labels.items()} | {"pcsa.projectcalico.org/name": sa}
        out.append({"apiVersion": v3, "kind": "Profile", "metadata": {"name": f"ksa.{ns}.{sa}"},
                    "spec": {"labelsToApply": apply}})
    for name, ns, labels, sa, ip, ports in PODS:
        derived = {**labels, "projectcalico.org/namespace": ns, "projectcalico.org/orchestrator": "k8s",
                   "projectcalico.org/serviceaccount": sa}
        out.append({"apiVersion": v3, "kind": "WorkloadEndpoint",
                    "metadata": {"name": f"node1-k8s-{name.replace('-', '--')}-eth0", "namespace": ns,
                                 "labels": derived},
                    "spec": {"orchestrator": "k8s", "node": "node1", "pod": name, "endpoint": "eth0",
                             "containerID": "c0ffee", "interfaceName": f"cali{ip.replace('.', '')}",
                             "ipNetworks": [f"{ip}/32"], "profiles": [f"kns.{ns}", f"ksa.{ns}.{sa}"],
                             "serviceAccountName": sa,
                             "ports": [{"name": n, "protocol": "TCP", "port": p} for n, p in ports]}})
    return out
