"""A cluster's real endpoints, as Calico sees them, from the objects that describe them. Pure: documents in,
Endpoints out; reading them (files, the Kubernetes API, etcd) is source.py's and the datastore's job.

Two storage forms, one result:
- Kubernetes (`kubectl get pods,ns,sa -A -o yaml`, or the API): v1 Pods, Namespaces and ServiceAccounts. A pod's
  endpoint carries the pod's labels, its namespace's labels and its service account's labels; Calico adds
  `projectcalico.org/namespace`, `/orchestrator: k8s`, `/serviceaccount` and matches namespace / service-account
  selectors on `pcns.<k>` / `pcsa.<k>` (entities.py keeps those as separate label spaces). Host-network pods get
  no workload endpoint and finished pods (Succeeded/Failed) have none either: both are left out.
- Calico v3 (etcd): WorkloadEndpoints (labels already derived; spec.ipNetworks, ports, profiles,
  serviceAccountName) and Profiles: `kns.<ns>` carries the namespace's labels as `pcns.<k>` in labelsToApply,
  `ksa.<ns>.<sa>` the service account's as `pcsa.<k>`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from calicotool.errors import InputError
from calicotool.evaluate.entities import NS_LABEL, ORCH_LABEL, SA_LABEL
from calicotool.evaluate.rules import protocol_number
from calicotool.policy.endpoint import Endpoint, EndpointKind, NamedPort

NS_PREFIX, SA_PREFIX = "pcns.", "pcsa."
FINISHED_PHASES = ("Succeeded", "Failed")

# (apiVersion, kind) pairs this module reads; everything else stays with the policy inventory
K8S_KINDS = {("v1", "Pod"), ("v1", "Namespace"), ("v1", "ServiceAccount")}
CALICO_KINDS = {("projectcalico.org/v3", "WorkloadEndpoint"), ("projectcalico.org/v3", "Profile")}
WORKLOAD_KINDS = K8S_KINDS | CALICO_KINDS


def is_workload_document(doc: Mapping[str, Any]) -> bool:
    return (str(doc.get("apiVersion", "")), str(doc.get("kind", ""))) in WORKLOAD_KINDS


@dataclass
class Workloads:
    """The endpoints of a cluster, found by `namespace/name` (pod or WorkloadEndpoint name) and by address."""

    endpoints: list[Endpoint] = field(default_factory=list)
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # what was left out, and why
    _by_name: dict[str, Endpoint] = field(default_factory=dict)
    _by_ip: dict[str, Endpoint] = field(default_factory=dict)

    def add(self, ep: Endpoint, *aliases: str) -> None:
        self.endpoints.append(ep)
        for name in (f"{ep.namespace}/{ep.name}", *aliases):
            self._by_name.setdefault(name, ep)
        for ip in ep.ips:
            self._by_ip.setdefault(_address(ip), ep)

    def find(self, ref: str) -> Endpoint | None:
        """`namespace/name` of a pod or WorkloadEndpoint."""
        return self._by_name.get(ref)

    def owner_of(self, ip: str) -> Endpoint | None:
        return self._by_ip.get(_address(ip))

    def __bool__(self) -> bool:
        return bool(self.endpoints)


def _address(text: str) -> str:
    try:
        return str(ipaddress.ip_interface(text.strip()).ip)
    except ValueError:
        return text


def _meta(doc: Mapping[str, Any]) -> tuple[str, str, dict[str, str]]:
    meta = _mapping(doc.get("metadata"), f"{doc.get('kind')}: metadata")
    where = f"{doc.get('kind')} {meta.get('namespace') or ''}/{meta.get('name') or ''}".replace(" /", " ")
    labels = {str(k): str(v) for k, v in _mapping(meta.get("labels"), f"{where}: metadata.labels").items()}
    return str(meta.get("name") or ""), str(meta.get("namespace") or ""), labels


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InputError(f"{where}: must be a mapping, not {type(value).__name__}")
    return value


def _items(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"{where}: must be a list, not {type(value).__name__}")
    return value


def _named_ports(ports: Iterable[Mapping[str, Any]], number_key: str, where: str) -> tuple[NamedPort, ...]:
    out = []
    for i, port in enumerate(ports):
        if not isinstance(port, Mapping) or not port.get("name") or port.get(number_key) is None:
            continue
        try:
            out.append(NamedPort(str(port["name"]), int(port[number_key]),
                                 protocol_number(port.get("protocol") or "TCP", f"{where}[{i}]: ")))
        except (TypeError, ValueError):
            raise InputError(f"{where}[{i}].{number_key}: not a port number: {port[number_key]!r}") from None
    return tuple(out)


def _stripped(labels: Mapping[str, Any], prefix: str) -> dict[str, str]:
    return {str(k)[len(prefix):]: str(v) for k, v in labels.items() if str(k).startswith(prefix)}


def build_workloads(docs: Iterable[Mapping[str, Any]]) -> Workloads:
    """Endpoints from Pods + Namespaces + ServiceAccounts and/or WorkloadEndpoints + Profiles (any order)."""
    docs = list(docs)
    ns_labels: dict[str, dict[str, str]] = {}
    sa_labels: dict[tuple[str, str], dict[str, str]] = {}
    for doc in docs:
        name, ns, labels = _meta(doc)
        kind = doc.get("kind")
        if kind not in ("Namespace", "ServiceAccount", "Profile"):
            continue
        if kind == "Namespace":
            ns_labels[name] = labels
        elif kind == "ServiceAccount":
            sa_labels[(ns or "default", name)] = labels
        elif kind == "Profile":
            apply = _mapping(_mapping(doc.get("spec"), f"Profile {name}: spec").get("labelsToApply"),
                             f"Profile {name}: spec.labelsToApply")
            if name.startswith("kns."):
                ns_labels.setdefault(name[4:], _stripped(apply, NS_PREFIX))
            elif name.startswith("ksa.") and name.count(".") >= 2:
                sa_ns, _, sa = name[4:].partition(".")
                sa_labels.setdefault((sa_ns, sa), _stripped(apply, SA_PREFIX))
    out = Workloads(namespaces=ns_labels)
    for doc in sorted(docs, key=lambda d: _meta(d)[1::-1]):
        if doc.get("kind") == "Pod":
            _add_pod(out, doc, ns_labels, sa_labels)
        elif doc.get("kind") == "WorkloadEndpoint":
            _add_wep(out, doc, ns_labels, sa_labels)
    return out


def _add_pod(out: Workloads, doc: Mapping[str, Any], ns_labels: Mapping[str, dict[str, str]],
             sa_labels: Mapping[tuple[str, str], dict[str, str]]) -> None:
    name, ns, labels = _meta(doc)
    ns = ns or "default"
    where = f"pod {ns}/{name}"
    spec, status = _mapping(doc.get("spec"), f"{where}: spec"), _mapping(doc.get("status"), f"{where}: status")
    if spec.get("hostNetwork"):
        out.skipped.append(f"pod {ns}/{name}: host network (no workload endpoint; its host's policy applies)")
        return
    if status.get("phase") in FINISHED_PHASES:
        out.skipped.append(f"pod {ns}/{name}: {status['phase']} (finished pods have no workload endpoint)")
        return
    ips = [str(p.get("ip")) for p in _items(status.get("podIPs"), f"{where}: status.podIPs")
           if isinstance(p, Mapping) and p.get("ip")]
    if not ips and status.get("podIP"):
        ips = [str(status["podIP"])]
    sa = str(spec.get("serviceAccountName") or spec.get("serviceAccount") or "")
    containers = _items(spec.get("containers"), f"{where}: spec.containers")
    ports = tuple(np for i, c in enumerate(containers) if isinstance(c, Mapping)
                  for np in _named_ports(_items(c.get("ports"), f"{where}: spec.containers[{i}].ports"),
                                         "containerPort", f"{where}: spec.containers[{i}].ports"))
    out.add(Endpoint(EndpointKind.POD, name, ips=tuple(ips), namespace=ns, labels=labels,
                     namespace_labels=dict(ns_labels.get(ns, {})), service_account=sa,
                     service_account_labels=dict(sa_labels.get((ns, sa), {})), ports=ports, live=True))


def _add_wep(out: Workloads, doc: Mapping[str, Any], ns_labels: Mapping[str, dict[str, str]],
             sa_labels: Mapping[tuple[str, str], dict[str, str]]) -> None:
    wep_name, ns, labels = _meta(doc)
    spec = _mapping(doc.get("spec"), f"WorkloadEndpoint {ns}/{wep_name}: spec")
    ns = ns or labels.get(NS_LABEL) or "default"
    name = str(spec.get("pod") or spec.get("workload") or wep_name)
    sa = str(spec.get("serviceAccountName") or labels.get(SA_LABEL) or "")
    own = {k: v for k, v in labels.items() if k not in (NS_LABEL, SA_LABEL)}
    if ORCH_LABEL not in own and spec.get("orchestrator"):
        own[ORCH_LABEL] = str(spec["orchestrator"])
    where = f"WorkloadEndpoint {ns}/{wep_name}: spec"
    ips = tuple(str(n) for n in _items(spec.get("ipNetworks"), f"{where}.ipNetworks"))
    ports = _named_ports(_items(spec.get("ports"), f"{where}.ports"), "port", f"{where}.ports")
    profiles = tuple(str(p) for p in _items(spec.get("profiles"), f"{where}.profiles"))
    out.add(Endpoint(EndpointKind.POD, name, ips=tuple(_address(ip) for ip in ips), namespace=ns, labels=own,
                     namespace_labels=dict(ns_labels.get(ns, {})), service_account=sa,
                     service_account_labels=dict(sa_labels.get((ns, sa), {})), ports=ports, profiles=profiles,
                     live=True), f"{ns}/{wep_name}")
