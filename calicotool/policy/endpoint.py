"""What a flow's source or destination is, for the evaluator: a pod, a HostEndpoint, a NetworkSet member or a
plain IP. Shared by the rule-set compiler (representative endpoints per group) and the evaluator."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class EndpointKind(str, Enum):
    POD = "pod"  # a workload endpoint: namespace + labels (+ namespace labels, service account)
    HOST = "host"  # a HostEndpoint: labels, node, interface; default deny + failsafes apply
    NETWORKSET = "networkset"  # an address inside a (Global)NetworkSet: gets that set's labels as a source
    IP = "ip"  # a plain address outside the cluster: no policy of its own applies


@dataclass(frozen=True)
class NamedPort:
    """A port an endpoint declares by name (a container port), for named ports in rules."""

    name: str
    port: int
    protocol: int = 6  # protocol number


@dataclass(frozen=True)
class Endpoint:
    kind: EndpointKind
    name: str
    ips: tuple[str, ...] = ()
    namespace: str = ""  # pods and namespaced NetworkSets
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    namespace_labels: dict[str, str] = field(default_factory=dict, hash=False)
    service_account: str = ""
    service_account_labels: dict[str, str] = field(default_factory=dict, hash=False)
    node: str = ""  # HostEndpoint node
    interface: str = ""  # HostEndpoint interfaceName ("*" for all-interfaces)
    profiles: tuple[str, ...] = ()
    ports: tuple[NamedPort, ...] = ()
    group: str = ""  # the rule-set group this endpoint represents, when it came from one
    live: bool = field(default=False, compare=False)  # read from the cluster (a Pod / WorkloadEndpoint)

    @property
    def title(self) -> str:
        return f"{self.kind.value}:{self.namespace + '/' if self.namespace else ''}{self.name}"
