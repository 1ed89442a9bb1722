"""The Calico kinds calicotool knows: API group/version, plural, scope and where each backend keeps them."""

from __future__ import annotations

from dataclasses import dataclass

from calicotool.errors import InputError

CALICO_V3 = "projectcalico.org/v3"
CALICO_CRD_V1 = "crd.projectcalico.org/v1"
K8S_NETWORKING_V1 = "networking.k8s.io/v1"


@dataclass(frozen=True)
class KindInfo:
    """Static facts about one kind. `name` is the unique id calicotool uses (differs from `kind` only for the
    Kubernetes Node, whose kind is also `Node`)."""

    name: str
    kind: str
    api_version: str
    plural: str
    namespaced: bool
    has_crd: bool = True  # served as a CRD (crd.projectcalico.org/v1 and/or v3)
    ipam: bool = False  # etcd keeps it under /calico/ipam/v2 in libcalico's model form
    order: int = 50  # apply order: tiers before policies, pools before blocks

    @property
    def group(self) -> str:
        return self.api_version.split("/")[0] if "/" in self.api_version else ""

    @property
    def aliases(self) -> tuple[str, ...]:
        singular = self.name.lower()
        return (singular, self.plural, self.kind.lower())


def _k(name: str, plural: str, namespaced: bool = False, **kw: object) -> KindInfo:
    kind = str(kw.pop("kind", name))
    api = str(kw.pop("api_version", CALICO_V3))
    return KindInfo(name=name, kind=kind, api_version=api, plural=plural, namespaced=namespaced, **kw)  # type: ignore[arg-type]


KINDS: dict[str, KindInfo] = {
    k.name: k
    for k in (
        _k("Tier", "tiers", order=10),
        _k("IPPool", "ippools", order=10),
        _k("FelixConfiguration", "felixconfigurations", order=10),
        _k("BGPConfiguration", "bgpconfigurations", order=10),
        _k("ClusterInformation", "clusterinformations", order=10),
        _k("GlobalNetworkSet", "globalnetworksets", order=20),
        _k("NetworkSet", "networksets", namespaced=True, order=20),
        _k("Node", "nodes", has_crd=False, order=20),
        _k("HostEndpoint", "hostendpoints", order=45),
        # Kept in etcd by Calico's CNI plugin / kube-controllers; on Kubernetes derived from Pods / Namespaces and
        # ServiceAccounts, never stored (schemas written from Calico's v3 API reference: there is no CRD).
        _k("WorkloadEndpoint", "workloadendpoints", namespaced=True, has_crd=False, order=50),
        _k("Profile", "profiles", has_crd=False, order=15),  # after policies: a HEP without its policy cuts the host off
        _k("GlobalNetworkPolicy", "globalnetworkpolicies", order=40),
        _k("NetworkPolicy", "networkpolicies", namespaced=True, order=40),
        _k("StagedGlobalNetworkPolicy", "stagedglobalnetworkpolicies", order=40),
        _k("StagedNetworkPolicy", "stagednetworkpolicies", namespaced=True, order=40),
        _k("BGPPeer", "bgppeers", order=40),
        _k("BGPFilter", "bgpfilters", order=30),
        _k("BlockAffinity", "blockaffinities", ipam=True, order=30),
        _k("IPAMBlock", "ipamblocks", ipam=True, order=35),
        _k("IPAMHandle", "ipamhandles", ipam=True, order=36),
        _k("IPAMConfiguration", "ipamconfigurations", ipam=True, order=10),
        _k("IPReservation", "ipreservations", order=10),
        _k("CalicoNodeStatus", "caliconodestatuses", order=60),
        _k("KubeControllersConfiguration", "kubecontrollersconfigurations", order=10),
        _k("KubernetesNode", "k8snodes", kind="Node", api_version="v1", has_crd=False, order=5),
        # The Kubernetes NetworkPolicy: Calico enforces it as NetworkPolicy `knp.default.<name>` (tier default).
        _k("KubernetesNetworkPolicy", "k8snetworkpolicies", namespaced=True, kind="NetworkPolicy",
           api_version=K8S_NETWORKING_V1, has_crd=False, order=40),
    )
}

_ALIASES: dict[str, KindInfo] = {}
for _info in KINDS.values():
    for _alias in _info.aliases:
        _ALIASES.setdefault(_alias, _info)
_SHORT_NAMES = {  # calicoctl/kubectl-style short names
    "gnp": "GlobalNetworkPolicy",
    "np": "NetworkPolicy",
    "gns": "GlobalNetworkSet",
    "netset": "NetworkSet",
    "netsets": "NetworkSet",
    "hep": "HostEndpoint",
    "wep": "WorkloadEndpoint",
    "weps": "WorkloadEndpoint",
    "heps": "HostEndpoint",
    "sgnp": "StagedGlobalNetworkPolicy",
    "snp": "StagedNetworkPolicy",
    "bgpp": "BGPPeer",
    "bgpconfig": "BGPConfiguration",
    "felixconfig": "FelixConfiguration",
    "ipp": "IPPool",
    "pool": "IPPool",
    "pools": "IPPool",
    "cnodestatus": "CalicoNodeStatus",
}
for _short, _name in _SHORT_NAMES.items():
    _ALIASES[_short] = KINDS[_name]
_ALIASES["node"] = KINDS["Node"]
_ALIASES["k8snode"] = KINDS["KubernetesNode"]
_ALIASES["kubernetesnode"] = KINDS["KubernetesNode"]
for _alias in ("knp", "knps", "k8snetworkpolicy", "kubernetesnetworkpolicy", "kubernetesnetworkpolicies"):
    _ALIASES[_alias] = KINDS["KubernetesNetworkPolicy"]


def kind_info(name: str, api_version: str | None = None) -> KindInfo:
    """Resolve a kind as users type it (`NetworkPolicy`, `networkpolicies`, `gnp`-style plural) to its KindInfo.

    `api_version` disambiguates `Node` (`v1` is the Kubernetes Node, anything else the Calico Node) and
    `NetworkPolicy` (`networking.k8s.io/v1` is the Kubernetes NetworkPolicy)."""
    if api_version == "v1" and name == "Node":
        return KINDS["KubernetesNode"]
    if api_version == K8S_NETWORKING_V1 and name == "NetworkPolicy":
        return KINDS["KubernetesNetworkPolicy"]
    info = KINDS.get(name) or _ALIASES.get(name.lower())
    if info is None:
        raise InputError(f"unknown kind {name!r} (known: {', '.join(sorted(k for k in KINDS))})")
    return info


def info_for(api_version: str, kind: str) -> KindInfo:
    """KindInfo for a document's apiVersion/kind pair, accepting both Calico API versions."""
    if api_version == "v1" and kind == "Node":
        return KINDS["KubernetesNode"]
    if api_version == K8S_NETWORKING_V1 and kind == "NetworkPolicy":
        return KINDS["KubernetesNetworkPolicy"]
    if api_version not in (CALICO_V3, CALICO_CRD_V1):
        raise InputError(f"unsupported apiVersion {api_version!r} for kind {kind!r} (want {CALICO_V3})")
    info = KINDS.get(kind)
    if info is None or info.name in ("KubernetesNode", "KubernetesNetworkPolicy"):
        raise InputError(f"unknown kind {kind!r}")
    return info
