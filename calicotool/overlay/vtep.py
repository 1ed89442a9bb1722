"""Facts about Calico's tunnel devices that must match Felix exactly, so cluster nodes accept our packets.

Felix (felix/calc/vxlan_resolver.go) derives a node's VTEP MAC when Node.spec.vxlanTunnelMACAddr is empty: the
byte 0x66 ('f', locally administered unicast) followed by the first five bytes of SHA-1 of the node name
(name + "-v6" for the IPv6 device). Device names and overheads are Felix's too.
"""

from __future__ import annotations

import hashlib
import re

VXLAN_DEVICE = "vxlan.calico"
VXLAN_DEVICE_V6 = "vxlan-v6.calico"
IPIP_DEVICE = "tunl0"

DEFAULT_VXLAN_VNI = 4096
DEFAULT_VXLAN_PORT = 4789
VXLAN_OVERHEAD_V4 = 50  # outer IPv4 20 + UDP 8 + VXLAN 8 + inner Ethernet 14
VXLAN_OVERHEAD_V6 = 70
IPIP_OVERHEAD = 20
DEFAULT_UNDERLAY_MTU = 1500

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def vtep_mac(node_name: str, ipv6: bool = False) -> str:
    """The MAC Felix gives `node_name`'s VXLAN device when the Node does not pin one."""
    seed = node_name + ("-v6" if ipv6 else "")
    digest = hashlib.sha1(seed.encode()).digest()
    return ":".join(f"{b:02x}" for b in bytes([0x66]) + digest[:5])


def normalise_mac(mac: str) -> str:
    """Lower-case colon form; raises ValueError on anything that is not a 48-bit MAC."""
    out = mac.strip().lower().replace("-", ":")
    if not _MAC.match(out):
        raise ValueError(f"not a MAC address: {mac!r}")
    return out


def tunnel_mtu(underlay_mtu: int, mode: str, ipv6: bool = False) -> int:
    """Felix's auto-detected tunnel MTU: the underlay MTU minus the encapsulation overhead."""
    if mode == "vxlan":
        return underlay_mtu - (VXLAN_OVERHEAD_V6 if ipv6 else VXLAN_OVERHEAD_V4)
    if mode == "ipip":
        return underlay_mtu - IPIP_OVERHEAD
    raise ValueError(f"unknown overlay mode {mode!r}")
