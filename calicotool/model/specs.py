"""Typed views of the Calico specs calicotool reads and writes (field names exactly as in projectcalico.org/v3).

`Resource.spec` stays a plain dict so unknown-to-us fields round-trip untouched; code that reads a spec casts it
with `spec_of(resource, NetworkPolicySpec)` and mypy checks every field access from there on."""

from __future__ import annotations

from typing import Any, Literal, TypedDict, TypeVar, cast

from calicotool.model.resource import Resource

Action = Literal["Allow", "Deny", "Log", "Pass"]
Port = int | str  # 80, "8000:8080" or a named port


class ICMPFields(TypedDict, total=False):
    type: int
    code: int


class ServiceAccountMatch(TypedDict, total=False):
    names: list[str]
    selector: str


class ServiceMatch(TypedDict, total=False):
    name: str
    namespace: str


class EntityRule(TypedDict, total=False):
    nets: list[str]
    notNets: list[str]
    selector: str
    notSelector: str
    namespaceSelector: str
    ports: list[Port]
    notPorts: list[Port]
    serviceAccounts: ServiceAccountMatch
    services: ServiceMatch


class Rule(TypedDict, total=False):
    action: Action
    protocol: int | str
    notProtocol: int | str
    ipVersion: int
    icmp: ICMPFields
    notICMP: ICMPFields
    source: EntityRule
    destination: EntityRule
    metadata: dict[str, Any]


class _PolicyCommon(TypedDict, total=False):
    tier: str
    order: float
    selector: str
    serviceAccountSelector: str
    types: list[Literal["Ingress", "Egress"]]
    ingress: list[Rule]
    egress: list[Rule]
    performanceHints: list[str]


class NetworkPolicySpec(_PolicyCommon, total=False):
    pass


class GlobalNetworkPolicySpec(_PolicyCommon, total=False):
    namespaceSelector: str
    doNotTrack: bool
    preDNAT: bool
    applyOnForward: bool


class StagedNetworkPolicySpec(NetworkPolicySpec, total=False):
    stagedAction: Literal["Set", "Delete", "Learn", "Ignore"]


class StagedGlobalNetworkPolicySpec(GlobalNetworkPolicySpec, total=False):
    stagedAction: Literal["Set", "Delete", "Learn", "Ignore"]


class TierSpec(TypedDict, total=False):
    order: float
    defaultAction: Literal["Deny", "Pass"]


class NetworkSetSpec(TypedDict, total=False):
    nets: list[str]


class EndpointPort(TypedDict, total=False):
    name: str
    port: int
    protocol: str


class HostEndpointSpec(TypedDict, total=False):
    node: str
    interfaceName: str
    expectedIPs: list[str]
    profiles: list[str]
    ports: list[EndpointPort]


class BGPPeerSpec(TypedDict, total=False):
    node: str
    nodeSelector: str
    peerIP: str
    peerSelector: str
    asNumber: int
    keepOriginalNextHop: bool
    reachableBy: str
    sourceAddress: str
    maxRestartTime: str


class BGPConfigurationSpec(TypedDict, total=False):
    logSeverityScreen: str
    nodeToNodeMeshEnabled: bool
    asNumber: int
    serviceClusterIPs: list[dict[str, str]]
    listenPort: int
    nodeMeshMaxRestartTime: str


class NodeBGPSpec(TypedDict, total=False):
    asNumber: int
    ipv4Address: str
    ipv6Address: str
    ipv4IPIPTunnelAddr: str
    routeReflectorClusterID: str


class NodeSpec(TypedDict, total=False):
    bgp: NodeBGPSpec
    ipv4VXLANTunnelAddr: str
    vxlanTunnelMACAddr: str
    addresses: list[dict[str, str]]
    orchRefs: list[dict[str, str]]


class IPPoolSpec(TypedDict, total=False):
    cidr: str
    blockSize: int
    vxlanMode: Literal["Never", "Always", "CrossSubnet"]
    ipipMode: Literal["Never", "Always", "CrossSubnet"]
    natOutgoing: bool
    disabled: bool
    nodeSelector: str
    allowedUses: list[str]


class IPAMBlockAttribute(TypedDict, total=False):
    handle_id: str
    secondary: dict[str, str]


class IPAMBlockSpec(TypedDict, total=False):
    cidr: str
    affinity: str
    allocations: list[int | None]
    unallocated: list[int]
    attributes: list[IPAMBlockAttribute]
    sequenceNumber: int
    strictAffinity: bool
    deleted: bool


class BlockAffinitySpec(TypedDict, total=False):
    node: str
    cidr: str
    state: Literal["confirmed", "pending", "pendingDeletion"]
    deleted: bool
    type: str


class IPAMHandleSpec(TypedDict, total=False):
    handleID: str
    block: dict[str, int]
    deleted: bool


class FelixConfigurationSpec(TypedDict, total=False):
    vxlanVNI: int
    vxlanPort: int
    vxlanMTU: int
    ipipMTU: int
    failsafeInboundHostPorts: list[dict[str, Any]]
    failsafeOutboundHostPorts: list[dict[str, Any]]


class CalicoNodeStatusSpec(TypedDict, total=False):
    node: str
    classes: list[Literal["Agent", "BGP", "Routes"]]
    updatePeriodSeconds: int


class ClusterInformationSpec(TypedDict, total=False):
    calicoVersion: str
    clusterGUID: str
    clusterType: str
    datastoreReady: bool
    variant: str


KIND_SPECS: dict[str, type] = {
    "NetworkPolicy": NetworkPolicySpec,
    "GlobalNetworkPolicy": GlobalNetworkPolicySpec,
    "StagedNetworkPolicy": StagedNetworkPolicySpec,
    "StagedGlobalNetworkPolicy": StagedGlobalNetworkPolicySpec,
    "Tier": TierSpec,
    "NetworkSet": NetworkSetSpec,
    "GlobalNetworkSet": NetworkSetSpec,
    "HostEndpoint": HostEndpointSpec,
    "BGPPeer": BGPPeerSpec,
    "BGPConfiguration": BGPConfigurationSpec,
    "Node": NodeSpec,
    "IPPool": IPPoolSpec,
    "IPAMBlock": IPAMBlockSpec,
    "BlockAffinity": BlockAffinitySpec,
    "IPAMHandle": IPAMHandleSpec,
    "FelixConfiguration": FelixConfigurationSpec,
    "CalicoNodeStatus": CalicoNodeStatusSpec,
    "ClusterInformation": ClusterInformationSpec,
}

SpecT = TypeVar("SpecT")


def spec_of(res: Resource, spec_type: type[SpecT]) -> SpecT:
    """The resource's spec as `spec_type` (a TypedDict above); a live view, not a copy."""
    expected = KIND_SPECS.get(res.info.name)
    if expected is not None and expected is not spec_type and not issubclass(expected, spec_type):  # type: ignore[arg-type]
        raise TypeError(f"{res.kind} spec is {expected.__name__}, not {spec_type.__name__}")
    return cast(SpecT, res.spec)
