"""Which IP pool and tunnel parameters an enrollment uses, read from IPPool and FelixConfiguration values.

Pure: takes the resources, returns an OverlayConfig or raises InputError naming the pool/field at fault.
Defaults are Calico's: blockSize 26, VNI 4096, port 4789, tunnel MTU = underlay MTU - encapsulation overhead.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from calicotool.errors import InputError, Location
from calicotool.model.resource import Resource
from calicotool.overlay import vtep

MODES = ("vxlan", "ipip")
DEFAULT_BLOCK_SIZE_V4 = 26
_ENABLED = ("Always", "CrossSubnet")


@dataclass(frozen=True)
class OverlayConfig:
    """Everything the host side needs to know about the cluster's overlay."""

    pool_name: str
    pool_cidr: ipaddress.IPv4Network
    block_size: int
    mode: str  # "vxlan" | "ipip"
    vni: int = vtep.DEFAULT_VXLAN_VNI
    port: int = vtep.DEFAULT_VXLAN_PORT
    mtu: int = 0  # 0 = derive from the underlay interface, as Felix does

    def tunnel_mtu(self, underlay_mtu: int) -> int:
        return self.mtu or vtep.tunnel_mtu(underlay_mtu, self.mode)

    @property
    def device(self) -> str:
        return vtep.VXLAN_DEVICE if self.mode == "vxlan" else vtep.IPIP_DEVICE


def pool_modes(pool: Resource) -> list[str]:
    """Overlay modes an IPPool enables (vxlanMode/ipipMode Always or CrossSubnet)."""
    modes = []
    if pool.spec.get("vxlanMode", "Never") in _ENABLED:
        modes.append("vxlan")
    if pool.spec.get("ipipMode", "Never") in _ENABLED:
        modes.append("ipip")
    return modes


def _usable(pool: Resource) -> bool:
    try:
        net = ipaddress.ip_network(str(pool.spec.get("cidr", "")), strict=False)
    except ValueError:
        return False
    uses = pool.spec.get("allowedUses") or ["Workload", "Tunnel"]
    return net.version == 4 and not pool.spec.get("disabled", False) and ("Tunnel" in uses or "Workload" in uses)


def select_pool(pools: Sequence[Resource], mode: str | None, pool_name: str | None = None) -> tuple[Resource, str]:
    """The pool to claim a block from and the mode to use. Explicit `pool_name` wins; else the first usable IPv4
    pool (by name) that enables `mode` (or any overlay mode when `mode` is None)."""
    if mode is not None and mode not in MODES:
        raise InputError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}", Location(field="--mode"))
    candidates = sorted((p for p in pools if _usable(p)), key=lambda p: p.name)
    if pool_name is not None:
        candidates = [p for p in candidates if p.name == pool_name]
        if not candidates:
            raise InputError(f"IPPool {pool_name!r} not found (or disabled / not IPv4)", Location(field="--pool"))
    if not candidates:
        raise InputError("no enabled IPv4 IPPool in the datastore: create one (calicoctl/calicotool apply) first")
    for pool in candidates:
        modes = pool_modes(pool)
        if mode is None and modes:
            return pool, modes[0]
        if mode in modes:
            return pool, mode
    names = ", ".join(f"{p.name} (vxlanMode={p.spec.get('vxlanMode', 'Never')}, ipipMode="
                      f"{p.spec.get('ipipMode', 'Never')})" for p in candidates)
    wanted = f"{mode}Mode Always or CrossSubnet" if mode else "vxlanMode or ipipMode Always/CrossSubnet"
    raise InputError(f"no IPPool enables the overlay: need {wanted}; pools: {names}", Location(field="--mode"))


def _felix_default(felix: Sequence[Resource]) -> dict[str, object]:
    for fc in felix:
        if fc.name == "default":
            return fc.spec
    return {}


def overlay_config(
    pools: Sequence[Resource], felix: Sequence[Resource], mode: str | None = None, pool_name: str | None = None
) -> OverlayConfig:
    """Combine the selected pool with FelixConfiguration `default` (VNI, port, MTU overrides)."""
    pool, chosen = select_pool(pools, mode, pool_name)
    cidr = ipaddress.ip_network(str(pool.spec["cidr"]), strict=False)
    assert isinstance(cidr, ipaddress.IPv4Network)
    block_size = int(pool.spec.get("blockSize") or DEFAULT_BLOCK_SIZE_V4)
    if not cidr.prefixlen <= block_size <= 32:
        raise InputError(f"IPPool {pool.name}: blockSize {block_size} does not fit cidr {cidr}",
                         Location(document=None, field="spec.blockSize"))
    fc = _felix_default(felix)
    if chosen == "vxlan":
        return OverlayConfig(pool.name, cidr, block_size, chosen,
                             vni=int(fc.get("vxlanVNI") or vtep.DEFAULT_VXLAN_VNI),  # type: ignore[call-overload]
                             port=int(fc.get("vxlanPort") or vtep.DEFAULT_VXLAN_PORT),  # type: ignore[call-overload]
                             mtu=int(fc.get("vxlanMTU") or 0))  # type: ignore[call-overload]
    return OverlayConfig(pool.name, cidr, block_size, chosen, mtu=int(fc.get("ipipMTU") or 0))  # type: ignore[call-overload]
