"""IPAM kinds in Calico's etcd form: keys under /calico/ipam/v2 and libcalico-go's model JSON, both ways.

Pure functions, no I/O. The v3 side is the CRD form (IPAMBlock, IPAMHandle, BlockAffinity, IPAMConfiguration); the
etcd side is what Calico's own IPAM reads and writes:

- IPAMBlock         /calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26   value: AllocationBlock JSON
- IPAMHandle        /calico/ipam/v2/handle/<handleID>                    value: {"block": {...}, "deleted": ...}
- BlockAffinity     /calico/ipam/v2/<host|virtual>/<node>/ipv4/block/<net-len>  value: {"state", "deleted"}
- IPAMConfiguration /calico/ipam/v2/config                               value: {"strict_affinity", ...}

The model form has no metadata, so labels, annotations, uid and creationTimestamp ride along under one extra
top-level field that libcalico-go's JSON decoding ignores (`x-calicotool-metadata`); Calico drops it whenever its
own IPAM rewrites the object. Resource names follow Calico's Kubernetes naming (names.CIDRToName): the CIDR with
`.`, `:` and `/` turned into `-`; a BlockAffinity is `<node>-<cidr name>`.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from calicotool.errors import InputError, Location
from calicotool.model.kinds import CALICO_V3
from calicotool.model.resource import Resource

IPAM_ROOT = "/calico/ipam/v2/"
BLOCK_ROOT = IPAM_ROOT + "assignment/"
HANDLE_ROOT = IPAM_ROOT + "handle/"
CONFIG_KEY = IPAM_ROOT + "config"
AFFINITY_TYPES = ("host", "virtual")
META_FIELD = "x-calicotool-metadata"
_STASHED_META = ("labels", "annotations", "uid", "creationTimestamp")

_BLOCK_KEY = re.compile(r"^/calico/ipam/v2/assignment/ipv[46]/block/([^/]+)$")
_AFFINITY_KEY = re.compile(r"^/calico/ipam/v2/(host|virtual)/([^/]+)/ipv[46]/block/([^/]+)$")
_HANDLE_KEY = re.compile(r"^/calico/ipam/v2/handle/([^/]+)$")

# IPAMConfiguration: v3 spec field <-> libcalico-go model field.
_CONFIG_FIELDS = {"strictAffinity": "strict_affinity", "autoAllocateBlocks": "auto_allocate_blocks"}


def _network(cidr: object, where: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        return ipaddress.ip_network(str(cidr), strict=False)
    except ValueError as exc:
        raise InputError(f"invalid CIDR {cidr!r}: {exc}", Location(field=where)) from None


def cidr_to_name(cidr: str) -> str:
    """Calico's resource name for a CIDR: `10.0.0.0/26` -> `10-0-0-0-26`, `fd00::/122` -> `fd00---122`."""
    net = _network(cidr, "spec.cidr")
    return str(net).replace(".", "-").replace(":", "-").replace("/", "-")


def name_to_cidr(name: str) -> str | None:
    """Inverse of cidr_to_name, or None when `name` is no CIDR name."""
    head, sep, bits = name.rpartition("-")
    if not sep or not bits.isdigit():
        return None
    parts = head.split("-")
    text = ".".join(parts) if len(parts) == 4 and all(p.isdigit() for p in parts) else head.replace("-", ":")
    try:
        net = ipaddress.ip_network(f"{text}/{bits}", strict=True)
    except ValueError:
        return None
    return str(net) if cidr_to_name(str(net)) == name else None


def _net_path(cidr: str) -> tuple[int, str]:
    net = _network(cidr, "spec.cidr")
    return net.version, str(net).replace("/", "-", 1)


def block_key(cidr: str) -> str:
    version, path = _net_path(cidr)
    return f"{BLOCK_ROOT}ipv{version}/block/{path}"


def affinity_key(node: str, cidr: str, affinity_type: str = "host") -> str:
    version, path = _net_path(cidr)
    return f"{IPAM_ROOT}{affinity_type}/{node}/ipv{version}/block/{path}"


def handle_key(handle_id: str) -> str:
    return HANDLE_ROOT + handle_id


def list_prefixes(kind: str) -> list[str]:
    """Key prefixes that hold every object of an IPAM kind (IPAMConfiguration is one exact key)."""
    if kind == "IPAMBlock":
        return [BLOCK_ROOT]
    if kind == "IPAMHandle":
        return [HANDLE_ROOT]
    if kind == "BlockAffinity":
        return [f"{IPAM_ROOT}{t}/" for t in AFFINITY_TYPES]
    return [CONFIG_KEY]


def keys_for_name(kind: str, name: str) -> list[str]:
    """Candidate keys for get/delete by name; empty when the name cannot map to a key (then scan the prefixes)."""
    if kind == "IPAMBlock":
        cidr = name_to_cidr(name)
        return [block_key(cidr)] if cidr else []
    if kind == "IPAMHandle":
        return [handle_key(name)]
    if kind == "IPAMConfiguration":
        return [CONFIG_KEY] if name == "default" else []
    # BlockAffinity `<node>-<a>-<b>-<c>-<d>-<len>`: an IPv4 name splits cleanly; IPv6 names need a scan.
    parts = name.split("-")
    if len(parts) >= 6:
        cidr = name_to_cidr("-".join(parts[-5:]))
        node = "-".join(parts[:-5])
        if cidr and ipaddress.ip_network(cidr).version == 4:
            return [affinity_key(node, cidr, t) for t in AFFINITY_TYPES]
    return []


def key_for(resource: Resource) -> str:
    """The etcd key of an IPAM resource, checking that its name is the one Calico derives from its spec."""
    kind, spec, name = resource.info.name, resource.spec, resource.name
    if kind == "IPAMBlock":
        _expect_name(name, cidr_to_name(_required(spec, "cidr", resource)), resource)
        return block_key(str(spec["cidr"]))
    if kind == "IPAMHandle":
        _expect_name(name, str(spec.get("handleID") or name), resource)
        return handle_key(name)
    if kind == "BlockAffinity":
        node, cidr = str(_required(spec, "node", resource)), str(_required(spec, "cidr", resource))
        affinity_type = str(spec.get("type") or "host")
        if affinity_type not in AFFINITY_TYPES or "/" in node:
            raise InputError(f"BlockAffinity {name}: bad type {affinity_type!r} or node {node!r}", Location(field="spec"))
        _expect_name(name, f"{node}-{cidr_to_name(cidr)}", resource)
        return affinity_key(node, cidr, affinity_type)
    _expect_name(name, "default", resource)
    return CONFIG_KEY


def _required(spec: dict[str, Any], field: str, resource: Resource) -> Any:
    if not spec.get(field):
        raise InputError(f"{resource.kind} {resource.name}: spec.{field} is required", Location(field=f"spec.{field}"))
    return spec[field]


def _expect_name(name: str, expected: str, resource: Resource) -> None:
    if name != expected:
        raise InputError(
            f"{resource.kind} name {name!r} does not match its spec: Calico's etcd layout keys it as {expected!r}",
            Location(field="metadata.name"),
        )


# -- values ---------------------------------------------------------------------------------------------------------
def to_model(resource: Resource) -> dict[str, Any]:
    """The model JSON Calico keeps in etcd for this resource (plus our stashed metadata)."""
    kind, spec = resource.info.name, dict(resource.spec)
    if kind == "IPAMHandle":
        spec.pop("handleID", None)
        model: dict[str, Any] = {"block": spec.pop("block", {}) or {}, **spec}
    elif kind == "BlockAffinity":
        spec.pop("cidr", None)
        spec.pop("node", None)
        if spec.get("type") == "host":
            spec.pop("type")
        model = spec
    elif kind == "IPAMConfiguration":
        model = {_CONFIG_FIELDS.get(k, k): v for k, v in spec.items()}
    else:
        model = spec
    meta = {k: resource.metadata[k] for k in _STASHED_META if resource.metadata.get(k) not in (None, {}, "")}
    if meta:
        model[META_FIELD] = meta
    return model


def from_model(key: str, model: dict[str, Any]) -> Resource:
    """The v3 resource for a model value read at `key`. Raises ValueError when `key` is not an IPAM object key."""
    model = dict(model)
    meta: dict[str, Any] = dict(model.pop(META_FIELD, None) or {})
    if m := _BLOCK_KEY.match(key):
        cidr = str(ipaddress.ip_network(m.group(1).replace("-", "/", 1)))
        kind, name, spec = "IPAMBlock", cidr_to_name(cidr), _block_spec(model, cidr)
    elif m := _HANDLE_KEY.match(key):
        kind, name = "IPAMHandle", m.group(1)
        spec = {"handleID": name, **{k: v for k, v in model.items() if v is not None}}
        spec["block"] = spec.get("block") or {}
    elif m := _AFFINITY_KEY.match(key):
        affinity_type, node = m.group(1), m.group(2)
        cidr = str(ipaddress.ip_network(m.group(3).replace("-", "/", 1)))
        kind, name = "BlockAffinity", f"{node}-{cidr_to_name(cidr)}"
        spec = {"cidr": cidr, "node": node, "state": model.pop("state", None) or "", "deleted": False}
        spec.update({k: v for k, v in model.items() if v is not None})
        if affinity_type != "host":
            spec["type"] = affinity_type
    elif key == CONFIG_KEY:
        kind, name = "IPAMConfiguration", "default"
        back = {v: k for k, v in _CONFIG_FIELDS.items()}
        spec = {"strictAffinity": False, "autoAllocateBlocks": False}
        spec.update({back.get(k, k): v for k, v in model.items() if v is not None})
    else:
        raise ValueError(f"{key} is not a Calico IPAM key")
    meta["name"] = name
    return Resource(api_version=CALICO_V3, kind=kind, metadata=meta, spec=spec)


def _block_spec(model: dict[str, Any], cidr: str) -> dict[str, Any]:
    """AllocationBlock JSON -> IPAMBlock spec: Go writes nil slices/maps/pointers as null; the CRD wants lists."""
    spec = {k: v for k, v in model.items() if v is not None}
    spec["cidr"] = cidr
    for field in ("allocations", "unallocated", "attributes"):
        spec.setdefault(field, [])
    spec.setdefault("strictAffinity", False)
    if "affinity" not in spec and spec.get("hostAffinity"):
        spec["affinity"] = f"host:{spec['hostAffinity']}"
    return spec


def is_ipam_key(key: str) -> bool:
    return key.startswith(IPAM_ROOT)
