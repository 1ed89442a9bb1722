"""Calico's IPAM block model as pure functions over IPAMBlock / IPAMHandle spec dicts.

A block of 2^(32-blockSize) addresses keeps `allocations` (ordinal -> index into `attributes`, or None),
`unallocated` (free ordinals, handed out front first) and `attributes` ({handle_id, secondary}). A handle counts
its addresses per block. Nothing here does I/O: ipamstore applies these transforms with compare-and-swap.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable, Iterator
from typing import Any

Spec = dict[str, Any]

ATTR_NODE = "node"
ATTR_TYPE = "type"
TYPE_VXLAN = "vxlanTunnelAddress"
TYPE_IPIP = "ipipTunnelAddress"
TYPE_HOST = "calicotoolHostAddress"
AFFINITY_CONFIRMED = "confirmed"
AFFINITY_PENDING = "pending"


def tunnel_handle(node: str, mode: str) -> str:
    """calico-node's handle for a node's tunnel address."""
    return f"{'vxlan' if mode == 'vxlan' else 'ipip'}-tunnel-addr-{node}"


def host_handle(node: str) -> str:
    return f"calicotool-host-{node}"


def block_name(cidr: ipaddress.IPv4Network | str) -> str:
    """Kubernetes-safe name Calico gives a block: `10.244.1.0/26` -> `10-244-1-0-26`."""
    return str(cidr).replace(".", "-").replace(":", "-").replace("/", "-")


def affinity_name(node: str, cidr: ipaddress.IPv4Network | str) -> str:
    return f"{node}-{block_name(cidr)}"


def affinity_host(spec: Spec) -> str | None:
    aff = spec.get("affinity") or ""
    return aff[len("host:"):] if aff.startswith("host:") else None


def block_network(spec: Spec) -> ipaddress.IPv4Network:
    net = ipaddress.ip_network(str(spec["cidr"]))
    assert isinstance(net, ipaddress.IPv4Network)
    return net


def new_block(cidr: ipaddress.IPv4Network, node: str, strict_affinity: bool = False) -> Spec:
    size = cidr.num_addresses
    return {
        "cidr": str(cidr),
        "affinity": f"host:{node}",
        "strictAffinity": strict_affinity,
        "allocations": [None] * size,
        "unallocated": list(range(size)),
        "attributes": [],
        "sequenceNumber": 0,
        "deleted": False,
    }


def new_affinity(node: str, cidr: ipaddress.IPv4Network, state: str = AFFINITY_PENDING) -> Spec:
    return {"node": node, "cidr": str(cidr), "state": state, "deleted": False, "type": "host"}


def candidate_blocks(pool: ipaddress.IPv4Network, block_size: int) -> Iterator[ipaddress.IPv4Network]:
    return pool.subnets(new_prefix=block_size)


def free_blocks(
    pool: ipaddress.IPv4Network, block_size: int, taken: Iterable[str]
) -> Iterator[ipaddress.IPv4Network]:
    """Blocks of the pool nobody has created yet, lowest first."""
    used = {str(ipaddress.ip_network(c)) for c in taken}
    return (b for b in candidate_blocks(pool, block_size) if str(b) not in used)


def addresses_for_handle(spec: Spec, handle: str) -> list[ipaddress.IPv4Address]:
    net = block_network(spec)
    attrs = spec.get("attributes") or []
    out = []
    for ordinal, idx in enumerate(spec.get("allocations") or []):
        if idx is not None and idx < len(attrs) and attrs[idx].get("handle_id") == handle:
            out.append(net[ordinal])
    return out


def free_count(spec: Spec) -> int:
    return len(spec.get("unallocated") or [])


def assign(spec: Spec, handle: str, secondary: dict[str, str]) -> tuple[Spec, ipaddress.IPv4Address] | None:
    """Allocate the first free ordinal to `handle`; returns the new spec and address, or None when full."""
    if not spec.get("unallocated"):
        return None
    out = copy.deepcopy(spec)
    ordinal = out["unallocated"].pop(0)
    attrs = out.setdefault("attributes", [])
    wanted = {"handle_id": handle, "secondary": dict(secondary)}
    idx = next((i for i, a in enumerate(attrs) if a == wanted), None)
    if idx is None:
        attrs.append(wanted)
        idx = len(attrs) - 1
    out["allocations"][ordinal] = idx
    seq = int(out.get("sequenceNumber") or 0)
    out.setdefault("sequenceNumberForAllocation", {})[str(ordinal)] = seq
    out["sequenceNumber"] = seq + 1
    return out, block_network(out)[ordinal]


def release(spec: Spec, handle: str) -> tuple[Spec, int]:
    """Free every address of `handle` in the block and compact unused attributes; returns (spec, count)."""
    out = copy.deepcopy(spec)
    attrs = out.get("attributes") or []
    released = 0
    for ordinal, idx in enumerate(out.get("allocations") or []):
        if idx is not None and attrs[idx].get("handle_id") == handle:
            out["allocations"][ordinal] = None
            out["unallocated"].append(ordinal)
            (out.get("sequenceNumberForAllocation") or {}).pop(str(ordinal), None)
            released += 1
    if released:
        _compact_attributes(out)
        out["sequenceNumber"] = int(out.get("sequenceNumber") or 0) + 1
    return out, released


def _compact_attributes(spec: Spec) -> None:
    attrs = spec.get("attributes") or []
    used = sorted({i for i in spec["allocations"] if i is not None})
    remap = {old: new for new, old in enumerate(used)}
    spec["attributes"] = [attrs[i] for i in used]
    spec["allocations"] = [None if i is None else remap[i] for i in spec["allocations"]]
    if not spec.get("sequenceNumberForAllocation"):
        spec.pop("sequenceNumberForAllocation", None)


def is_empty(spec: Spec) -> bool:
    return all(a is None for a in spec.get("allocations") or [])


def handle_add(spec: Spec | None, handle: str, cidr: str) -> Spec:
    out: Spec = copy.deepcopy(spec) if spec else {"handleID": handle, "block": {}, "deleted": False}
    blocks: dict[str, int] = out.setdefault("block", {})
    blocks[cidr] = int(blocks.get(cidr, 0)) + 1
    return out


def allocation_owner(spec: Spec, address: ipaddress.IPv4Address) -> dict[str, Any] | None:
    """The attribute entry of an allocated address ({handle_id, secondary}), or None if it is free."""
    net = block_network(spec)
    if address not in net:
        return None
    idx = spec["allocations"][int(address) - int(net.network_address)]
    return None if idx is None else dict(spec["attributes"][idx])
