"""The cluster side of the Kubernetes-datastore host tests, written without calicotool's code: cluster nodes as
calico-node would register them (core/v1 Nodes with Calico's annotations, IPAM blocks/affinities/handles in
Calico's CRDs: crd.projectcalico.org/v1, or the native projectcalico.org/v3 ones), and a Felix-like programmer
that reads those objects back from the API server over plain HTTPS (the harness's `requests` session) and
programs each node's namespace with iproute2 (`ip`, `bridge`): per remote VTEP a permanent neighbour and FDB
entry, per remote block a route via that node's tunnel address, onlink.

So what the enrolled host looks like to the cluster is judged by an independent reader, not by the code that
wrote it.
"""

from __future__ import annotations

import ipaddress
import json
import subprocess
from typing import Any, Protocol

from calicotool.lab import netns as lab
from tests.overlay.overlay_lab import Member, NamespaceLab

VNI, PORT, MTU = 4096, 4789, 1450
POOL = ipaddress.IPv4Network("10.244.0.0/16")


class Api(Protocol):
    """The test harness's admin HTTP client (tests/fixtures/kubeapi.KubeCluster): plain `requests`."""

    mode: str  # "v1" (crd.projectcalico.org/v1 CRDs) or "v3..." (native projectcalico.org/v3 CRDs)

    def request(self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = ...) -> Any: ...

    def get(self, path: str) -> Any: ...


def calico_group(api: Api) -> str:
    return "crd.projectcalico.org/v1" if api.mode == "v1" else "projectcalico.org/v3"


def items(api: Api, path: str) -> list[dict[str, Any]]:
    return list((api.get(path) or {}).get("items") or [])


def snapshot(api: Api, namespaces: tuple[str, ...] = ("calicotool-hosts", "calico-system")) -> dict[str, str]:
    """Every object enrollment could touch, as the server stores it (resourceVersion included): equal snapshots
    mean nothing was written."""
    crd = f"/apis/{calico_group(api)}"
    paths = ["/api/v1/nodes"] + [f"{crd}/{p}" for p in ("ipamblocks", "blockaffinities", "ipamhandles",
                                                        "hostendpoints", "ippools", "felixconfigurations")]
    for ns in namespaces:
        paths += [f"/api/v1/namespaces/{ns}/services", f"/apis/discovery.k8s.io/v1/namespaces/{ns}/endpointslices",
                  f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases"]
    out = {}
    for path in paths:
        for obj in items(api, path):
            meta = obj["metadata"]
            out[f"{path}/{meta['name']}"] = json.dumps(obj, sort_keys=True)
    return out


def vtep_mac(name: str) -> str:
    digest = sum(name.encode()) % 250
    return f"66:00:00:00:{digest:02x}:{len(name):02x}"


def _block_spec(cidr: ipaddress.IPv4Network, node: str, owners: list[tuple[str, dict[str, str]]]) -> dict[str, Any]:
    """A Calico IPAM block (storage form) with the first len(owners) ordinals allocated, in order."""
    size = cidr.num_addresses
    allocations: list[int | None] = [None] * size
    for i in range(len(owners)):
        allocations[i] = i
    return {"cidr": str(cidr), "affinity": f"host:{node}", "strictAffinity": False, "allocations": allocations,
            "unallocated": list(range(len(owners), size)), "sequenceNumber": len(owners),
            "sequenceNumberForAllocation": {str(i): i for i in range(len(owners))},
            "attributes": [{"handle_id": h, "secondary": sec} for h, sec in owners], "deleted": False}


class KubeOverlayLab(NamespaceLab):
    """Cluster nodes registered in a real API server the way calico-node would, programmed like Felix."""

    def __init__(self, api: Api, registry: lab.CleanupRegistry) -> None:
        super().__init__(registry)
        self.api = api
        self._block = 1  # 10.244.<n>.0/26 per node, far from the low blocks a host claims first

    def add_node(self, name: str, pods: int = 1) -> Member:
        ns = lab.create_netns(stem="node", registry=self.registry)
        member = Member(name, ns, self.attach(ns))
        cidr = ipaddress.IPv4Network(f"10.244.{100 + self._block}.0/26")
        self._block += 1
        net = list(cidr)
        member.tunnel_ip = str(net[0])
        owners = [(f"vxlan-tunnel-addr-{name}", {"node": name, "type": "vxlanTunnelAddress"})]
        owners += [(f"k8s-pod-network.{name}-pod{k}", {"node": name, "namespace": "default", "pod": f"{name}-pod{k}"})
                   for k in range(pods)]
        block_name = str(cidr).replace(".", "-").replace("/", "-")
        group = calico_group(self.api)
        crd = f"/apis/{group}"
        self.api.request("POST", f"{crd}/ipamblocks", {"apiVersion": group, "kind": "IPAMBlock",
                                                         "metadata": {"name": block_name},
                                                         "spec": _block_spec(cidr, name, owners)})
        deleted: str | bool = "false" if group.startswith("crd.") else False  # v1 storage form keeps a string
        self.api.request("POST", f"{crd}/blockaffinities", {
            "apiVersion": group, "kind": "BlockAffinity", "metadata": {"name": f"{name}-{block_name}"},
            "spec": {"node": name, "cidr": str(cidr), "state": "confirmed", "deleted": deleted, "type": "host"}})
        for handle, _ in owners:
            self.api.request("POST", f"{crd}/ipamhandles", {
                "apiVersion": group, "kind": "IPAMHandle", "metadata": {"name": handle.lower()},
                "spec": {"handleID": handle, "block": {str(cidr): 1}, "deleted": False}})
        self.api.request("POST", "/api/v1/nodes", {"apiVersion": "v1", "kind": "Node", "metadata": {
            "name": name, "labels": {"kubernetes.io/os": "linux", "kubernetes.io/hostname": name},
            "annotations": {"projectcalico.org/IPv4Address": f"{member.underlay_ip}/24",
                            "projectcalico.org/IPv4VXLANTunnelAddr": member.tunnel_ip,
                            "projectcalico.org/VXLANTunnelMACAddr": vtep_mac(name)}}})
        for k in range(pods):
            member.pods.append(self._pod(member, f"{name}-pod{k}", str(net[1 + k]), k))
        self.members[name] = member
        return member

    def peers(self) -> tuple[dict[str, dict[str, str]], dict[str, list[str]]]:
        """What Felix learns from the API server: VTEPs by node name, and block CIDRs by affine node."""
        vteps = {}
        for node in items(self.api, "/api/v1/nodes"):
            ann = node["metadata"].get("annotations") or {}
            if "projectcalico.org/IPv4VXLANTunnelAddr" in ann and "projectcalico.org/IPv4Address" in ann:
                vteps[node["metadata"]["name"]] = {"ip": ann["projectcalico.org/IPv4VXLANTunnelAddr"],
                                                   "mac": ann["projectcalico.org/VXLANTunnelMACAddr"],
                                                   "underlay": ann["projectcalico.org/IPv4Address"].split("/")[0]}
        blocks: dict[str, list[str]] = {}
        for block in items(self.api, f"/apis/{calico_group(self.api)}/ipamblocks"):
            aff = str(block["spec"].get("affinity") or "")
            if aff.startswith("host:") and not block["spec"].get("deleted"):
                blocks.setdefault(aff[5:], []).append(block["spec"]["cidr"])
        return vteps, blocks

    def program(self, member: Member) -> None:
        vteps, blocks = self.peers()
        ns, me = member.ns, vteps[member.name]

        def ip(*args: str) -> None:
            subprocess.run(["ip", "-n", ns, *args], check=True, capture_output=True, timeout=30)

        subprocess.run(["ip", "-n", ns, "link", "del", "vxlan.calico"], capture_output=True, timeout=30)
        ip("link", "add", "vxlan.calico", "type", "vxlan", "id", str(VNI), "dstport", str(PORT), "local",
           me["underlay"], "dev", "eth0", "nolearning")
        ip("link", "set", "vxlan.calico", "address", me["mac"], "mtu", str(MTU), "up")
        ip("addr", "add", f"{me['ip']}/32", "dev", "vxlan.calico")
        lab.run_in_netns(ns, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
        for name, peer in sorted(vteps.items()):
            if name == member.name:
                continue
            ip("neigh", "replace", peer["ip"], "lladdr", peer["mac"], "dev", "vxlan.calico", "nud", "permanent")
            subprocess.run(["bridge", "-n", ns, "fdb", "replace", peer["mac"], "dev", "vxlan.calico", "dst",
                            peer["underlay"], "self", "permanent"], check=True, capture_output=True, timeout=30)
            for cidr in blocks.get(name, []):
                ip("route", "replace", cidr, "via", peer["ip"], "dev", "vxlan.calico", "onlink")

    def program_all(self) -> None:
        for member in self.members.values():
            self.program(member)
