"""The datastore records of an enrolled host: its Calico Node and HostEndpoint (pure builders and readers).

The Node is what Felix on every cluster node turns into a VTEP (bgp.ipv4Address, ipv4VXLANTunnelAddr,
vxlanTunnelMACAddr) or an IPIP next hop; its annotations remember what the host side needs to re-sync or undo:
interface, namespace, mode, pool, sysctls before. They live on the Node rather than in a local file so that every
later command (status, sync, unenroll, list, dns), from any machine, reads one record that cannot drift from what
the cluster sees; the host's own facts are re-checked against it by every command that touches the kernel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from calicotool.model.resource import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Resource

ANNOTATION_PREFIX = "hosts.calicotool.io/"
A_INTERFACE = ANNOTATION_PREFIX + "interface"
A_HOST_IP = ANNOTATION_PREFIX + "host-ip"
A_MODE = ANNOTATION_PREFIX + "mode"
A_POOL = ANNOTATION_PREFIX + "pool"
A_SYSCTLS = ANNOTATION_PREFIX + "sysctls-before"
A_FORWARDING = ANNOTATION_PREFIX + "forwarding"
A_NETNS = ANNOTATION_PREFIX + "netns"  # "" = the root namespace; absent = enrolled before it was recorded
HOST_LABEL = ANNOTATION_PREFIX + "host"


@dataclass(frozen=True)
class Enrollment:
    """An enrolled host as the datastore records it."""

    name: str
    underlay: str  # ip/prefix
    interface: str
    mode: str
    pool: str
    tunnel_ip: str
    host_ip: str
    mac: str | None
    labels: tuple[tuple[str, str], ...] = ()
    sysctls_before: tuple[tuple[str, str], ...] = ()
    forwarding: bool = True
    netns: str | None = ""  # network namespace the host side lives in ("" root, None not recorded)

    @property
    def underlay_ip(self) -> str:
        return self.underlay.split("/")[0]


def node_resource(e: Enrollment) -> Resource:
    spec: dict[str, object] = {"bgp": {"ipv4Address": e.underlay}}
    if e.mode == "vxlan":
        spec["ipv4VXLANTunnelAddr"] = e.tunnel_ip
        spec["vxlanTunnelMACAddr"] = e.mac
    else:
        spec["bgp"] = {"ipv4Address": e.underlay, "ipv4IPIPTunnelAddr": e.tunnel_ip}
    labels = {**dict(e.labels), MANAGED_BY_LABEL: MANAGED_BY_VALUE, HOST_LABEL: "true"}
    annotations = {A_INTERFACE: e.interface, A_HOST_IP: e.host_ip, A_MODE: e.mode, A_POOL: e.pool,
                   A_SYSCTLS: json.dumps(dict(e.sysctls_before), sort_keys=True),
                   A_FORWARDING: "true" if e.forwarding else "false"}
    if e.netns is not None:
        annotations[A_NETNS] = e.netns
    return Resource.new("Node", e.name, spec, labels=labels, annotations=annotations)


def host_endpoint_resource(e: Enrollment) -> Resource:
    labels = {**dict(e.labels), MANAGED_BY_LABEL: MANAGED_BY_VALUE, HOST_LABEL: "true"}
    spec = {"node": e.name, "interfaceName": e.interface,
            "expectedIPs": sorted({e.host_ip, e.tunnel_ip, e.underlay_ip})}
    return Resource.new("HostEndpoint", e.name, spec, labels=labels)


def is_enrolled_host(node: Resource) -> bool:
    return node.managed and node.labels.get(HOST_LABEL) == "true"


def enrollment_from_node(node: Resource) -> Enrollment:
    """Read back what node_resource wrote; raises KeyError/ValueError on a Node calicotool did not write."""
    ann = node.annotations
    mode = ann[A_MODE]
    bgp = node.spec.get("bgp") or {}
    tunnel = node.spec.get("ipv4VXLANTunnelAddr") if mode == "vxlan" else bgp.get("ipv4IPIPTunnelAddr")
    labels = tuple(sorted((k, v) for k, v in node.labels.items() if k not in (MANAGED_BY_LABEL, HOST_LABEL)))
    before = tuple(sorted(json.loads(ann.get(A_SYSCTLS) or "{}").items()))
    return Enrollment(node.name, str(bgp["ipv4Address"]), ann[A_INTERFACE], mode, ann.get(A_POOL, ""),
                      str(tunnel), ann[A_HOST_IP], node.spec.get("vxlanTunnelMACAddr"), labels, before,
                      ann.get(A_FORWARDING, "true") == "true", ann.get(A_NETNS))
