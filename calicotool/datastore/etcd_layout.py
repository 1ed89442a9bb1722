"""Where Calico keeps each kind in etcd and what the value looks like; pure, no I/O.

v3 resources live under `/calico/resources/v3/projectcalico.org/<plural>/<name>` (cluster-scoped) or
`.../<plural>/<namespace>/<name>` (namespaced), each value the JSON of the v3 object (apiVersion, kind, metadata,
spec) without resourceVersion: the key's mod revision is the resourceVersion. IPAM kinds live under
/calico/ipam/v2 in libcalico-go's model form (see etcd_ipam).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from typing import Any

from calicotool.datastore import etcd_ipam
from calicotool.errors import InputError, Invalid, Location
from calicotool.model.kinds import KINDS, KindInfo, kind_info
from calicotool.model.policy_names import POLICY_KINDS, PREFORMATTED, PolicyNaming, naming_for
from calicotool.model.resource import Resource

RESOURCE_ROOT = "/calico/resources/v3/projectcalico.org/"
LOCK_ROOT = "/calico/calicotool/locks/"
CLUSTER_INFORMATION_KEY = RESOURCE_ROOT + "clusterinformations/default"


def etcd_kind(kind: str) -> KindInfo:
    """KindInfo for a kind kept in etcd; the Kubernetes Node lives in the Kubernetes API, never in etcd."""
    info = KINDS.get(kind) or kind_info(kind)
    if info.name == "KubernetesNode":
        raise InputError(
            "the Kubernetes Node kind is not stored in etcd (an etcd datastore keeps Calico Nodes: "
            "kind Node, apiVersion projectcalico.org/v3); use a kubernetes datastore for Kubernetes Node labels"
        )
    if info.name == "KubernetesNetworkPolicy":
        raise InputError(
            "Kubernetes NetworkPolicies (networking.k8s.io/v1) do not live in Calico's etcd datastore: they are "
            "kept by the Kubernetes API server; use a kubernetes datastore, or --manifests with the policy files"
        )
    return info


def _segment(value: str, what: str) -> str:
    if not value or "/" in value or value in (".", ".."):
        raise InputError(f"invalid {what} {value!r} for an etcd key", Location(field=f"metadata.{what}"))
    return value


# Up to Calico 3.31 tiered policies are kept under their tier-prefixed name: `allow-dns` in the default tier is
# stored (key and metadata.name) as `default.allow-dns` and read back without the prefix; from 3.32 the name is
# stored as given (model.policy_names). Reads accept both, as Calico 3.32 reads objects it has not migrated yet.
TIERED_KINDS = POLICY_KINDS
DEFAULT_NAMING = naming_for(None)
LEGACY_NAMING = naming_for("3.31")


def backend_policy_name(name: str, naming: PolicyNaming = DEFAULT_NAMING) -> str:
    return naming.storage_name("GlobalNetworkPolicy", name)


def client_policy_name(name: str) -> str:
    if name.startswith(PREFORMATTED):
        return name
    tier, dot, rest = name.partition(".")
    return rest if tier == "default" and dot and rest and "." not in rest else name


def _storage_name(info: KindInfo, name: str, naming: PolicyNaming) -> str:
    _segment(name, "name")
    return naming.storage_name(info.name, name) if info.name in TIERED_KINDS else name


def resource_key(info: KindInfo, name: str, namespace: str | None, naming: PolicyNaming = DEFAULT_NAMING) -> str:
    """Key of a non-IPAM v3 resource; a namespaced kind without a namespace is in `default`, as with kubectl."""
    if info.namespaced:
        namespace = namespace or "default"
        stored = _segment(_storage_name(info, name, naming), "name")
        return f"{RESOURCE_ROOT}{info.plural}/{_segment(namespace, 'namespace')}/{stored}"
    return f"{RESOURCE_ROOT}{info.plural}/{_segment(_storage_name(info, name, naming), 'name')}"


def keys_for_name(info: KindInfo, name: str, namespace: str | None, naming: PolicyNaming = DEFAULT_NAMING) -> list[str]:
    """Candidate keys of an object addressed by name (IPAM names may map to several, or to none: scan)."""
    if info.ipam:
        _segment(name, "name")
        return etcd_ipam.keys_for_name(info.name, name)
    return [resource_key(info, name, namespace, naming)]


def legacy_key(info: KindInfo, name: str, namespace: str | None) -> str | None:
    """Where Calico <= 3.31 kept a default-tier policy that 3.32 names plainly (read-only fallback for objects
    nobody has migrated yet); None when that is the same key or not a policy."""
    if info.name not in TIERED_KINDS:
        return None
    key = resource_key(info, name, namespace, LEGACY_NAMING)
    return None if key == resource_key(info, name, namespace, DEFAULT_NAMING) else key


def key_for(resource: Resource, naming: PolicyNaming = DEFAULT_NAMING) -> str:
    info = etcd_kind(resource.info.name)
    if info.ipam:
        return etcd_ipam.key_for(resource)
    return resource_key(info, resource.name, resource.namespace, naming)


def list_prefixes(info: KindInfo, namespace: str | None) -> list[str]:
    if info.ipam:
        return etcd_ipam.list_prefixes(info.name)
    if info.namespaced and namespace:
        return [f"{RESOURCE_ROOT}{info.plural}/{_segment(namespace, 'namespace')}/"]
    return [f"{RESOURCE_ROOT}{info.plural}/"]


def encode(resource: Resource, naming: PolicyNaming = DEFAULT_NAMING) -> bytes:
    """The value bytes Calico keeps for `resource` (server metadata except uid/creationTimestamp dropped)."""
    return _encode_text(resource, etcd_kind(resource.info.name), naming).encode()


# Compact, UTF-8 as is; one encoder/decoder for all values (json.dumps/loads build one per call with these options).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
_DECODER = json.JSONDecoder()


def _encode_text(resource: Resource, info: KindInfo, naming: PolicyNaming) -> str:
    if info.ipam:
        doc: dict[str, Any] = etcd_ipam.to_model(resource)
    else:
        # Built by reference, not via to_dict(): the encoder only reads, and batches encode thousands of objects.
        drop = _DROP_NAMESPACED if info.namespaced else _DROP_CLUSTER
        meta = {k: v for k, v in resource.metadata.items() if k not in drop}
        if info.namespaced and not meta.get("namespace"):
            meta["namespace"] = "default"
        if info.name in TIERED_KINDS and "name" in meta:
            meta["name"] = naming.storage_name(info.name, str(meta["name"]))
        doc = {"apiVersion": resource.api_version, "kind": resource.kind, "metadata": meta, "spec": resource.spec}
        if resource.status is not None:
            doc["status"] = resource.status
    return _ENCODER.encode(doc)


_DROP_NAMESPACED = frozenset({"resourceVersion", "generation", "managedFields", "selfLink"})
_DROP_CLUSTER = _DROP_NAMESPACED | {"namespace"}


def decode(key: str, value: bytes, mod_revision: str) -> Resource:
    """The Resource stored at `key`; Invalid names the key when the value is not what Calico writes there."""
    try:
        doc = json.loads(value) if value.strip() else {}
    except (ValueError, UnicodeDecodeError) as exc:
        raise Invalid(f"etcd key {key} does not hold valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise Invalid(f"etcd key {key} holds JSON {type(doc).__name__}, expected an object")
    res = _from_doc(key, doc, None)
    res.metadata["resourceVersion"] = mod_revision
    return res


def _from_doc(key: str, doc: dict[str, Any], info: KindInfo | None) -> Resource:
    """The Resource for a parsed value at `key`; `info` (when the caller knows the kind) skips the kind look-up."""
    try:
        if etcd_ipam.is_ipam_key(key):
            return etcd_ipam.from_model(key, doc)
        return _decode_resource(key, doc, info)
    except (ValueError, TypeError, InputError) as exc:
        raise Invalid(f"etcd key {key} does not hold a Calico object: {exc}") from None


_BY_PLURAL = {k.plural: k for k in reversed(KINDS.values()) if not k.ipam}  # first registered wins, as next() did


def _decode_resource(key: str, doc: dict[str, Any], info: KindInfo | None = None) -> Resource:
    parts = key[len(RESOURCE_ROOT) :].split("/") if key.startswith(RESOURCE_ROOT) else []
    if info is None or not parts or info.plural != parts[0]:
        info = _BY_PLURAL.get(parts[0]) if parts else None
    if info is None or len(parts) != (3 if info.namespaced else 2):
        raise ValueError("not a Calico v3 resource key")
    if not isinstance(doc.get("metadata") or {}, dict) or not isinstance(doc.get("spec") or {}, dict):
        raise ValueError("metadata and spec must be objects")
    status = doc.get("status")
    res = Resource(  # the doc is freshly parsed and ours: no defensive copies (lists of 10,000 objects)
        api_version=str(doc.get("apiVersion") or info.api_version),
        kind=str(doc.get("kind") or info.kind),
        metadata=doc.get("metadata") or {},
        spec=doc.get("spec") or {},
        status=status if isinstance(status, dict) else None,
    )
    res.metadata.setdefault("name", parts[-1])
    if info.name in TIERED_KINDS:
        res.metadata["name"] = client_policy_name(str(res.metadata["name"]))
    if info.namespaced:
        res.metadata.setdefault("namespace", parts[1])
    return res


def stage(
    key: str, resource: Resource, current: Resource | None, naming: PolicyNaming = DEFAULT_NAMING
) -> tuple[bytes, Resource]:
    """The value to write at `key` and the Resource it reads back as (what get() will return, minus the revision).

    uid/creationTimestamp are kept from `current` (update) or minted (create), as Calico does; never a
    resourceVersion (the mod revision is that). The returned Resource shares nothing with `resource`."""
    info = etcd_kind(resource.info.name)
    meta = {k: v for k, v in resource.metadata.items() if k != "resourceVersion"}
    if current is None:
        meta["uid"] = _uuid4()
        meta["creationTimestamp"] = _timestamp()
    else:
        for field in ("uid", "creationTimestamp"):
            if field in current.metadata:
                meta[field] = current.metadata[field]
    text = _encode_text(Resource(resource.api_version, resource.kind, meta, resource.spec, resource.status), info, naming)
    # Parsing our own text is what makes the result read back exactly as get() would (tuples become lists, keys
    # strings...) and share nothing with `resource`; only the bytes -> str step and the kind look-up are skipped.
    staged = _from_doc(key, _DECODER.decode(text), info)
    staged.metadata["resourceVersion"] = ""
    return text.encode(), staged


def _uuid4() -> str:
    """A random (version 4, RFC 4122 variant) UUID string; what str(uuid.uuid4()) gives, at a third of the cost."""
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40
    raw[8] = raw[8] & 0x3F | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_stamp: tuple[int, str] = (-1, "")


def _timestamp() -> str:
    """Now, to the second, as Kubernetes writes creationTimestamp; formatted once per second (batches mint many)."""
    global _stamp
    now = datetime.now(UTC)
    second = int(now.timestamp())
    if _stamp[0] != second:
        _stamp = (second, now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return _stamp[1]
