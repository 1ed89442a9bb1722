"""The etcdv3 datastore: Calico's own etcd layout, compare-and-swap on mod revision, batches as transactions.

resourceVersion is the key's etcd mod revision. create/update/delete are single transactions guarded by
create_revision == 0 (create) or mod_revision == resourceVersion (update, delete). A batch is one transaction
holding a compare for every change; one that needs more than `max_txn_ops` operations (etcd's --max-txn-ops,
default 128) or `max_txn_bytes` is split into several transactions after every guard has been checked, and
reports `atomic=False`. Configure the limits with `?max_txn_ops=N` on the endpoint URL or
CALICOTOOL_ETCD_MAX_TXN_OPS; TLS comes from calicoctl's ETCD_CA_CERT_FILE / ETCD_CERT_FILE / ETCD_KEY_FILE (or
`?ca_cert=&cert=&key=`), etcd auth from ETCD_USERNAME / ETCD_PASSWORD.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

from etcd3gw.lease import Lease

from calicotool.datastore import etcd_batch, etcd_layout
from calicotool.datastore.base import BatchResult, Change, StoreInfo
from calicotool.datastore.etcd_gateway import (
    EtcdGateway,
    KeyValue,
    cmp_absent,
    cmp_mod,
    cmp_present,
    op_delete,
    op_get,
    op_put,
    prefix_end,
    txn_ranges,
)
from calicotool.datastore.labelselector import parse_label_selector
from calicotool.errors import AlreadyExists, Conflict, InputError, NotFound
from calicotool.model.kinds import CALICO_V3, KindInfo
from calicotool.model.policy_names import POLICY_KINDS, PolicyNaming, naming_for
from calicotool.model.resource import Resource, ResourceKey

DEFAULT_MAX_TXN_OPS = 128  # etcd's own default for --max-txn-ops
DEFAULT_MAX_TXN_BYTES = 1_000_000  # below etcd's default --max-request-bytes (1.5 MiB)
_TLS_ENV = {"ca_cert": "ETCD_CA_CERT_FILE", "cert": "ETCD_CERT_FILE", "key": "ETCD_KEY_FILE"}


def parse_endpoints(rest: str) -> tuple[list[str], dict[str, str]]:
    """`http://h:p[,https://h2:p2][?opt=v&...]` -> (normalised URLs, options). InputError on a bad URL."""
    urls: list[str] = []
    options: dict[str, str] = {}
    for raw in (part.strip() for part in rest.split(",")):
        if not raw:
            continue
        parts = urlsplit(raw if "://" in raw else f"http://{raw}")
        try:
            port = 2379 if parts.port is None else parts.port
        except ValueError:
            raise InputError(f"bad etcd endpoint {raw!r}: the port is not a number") from None
        if port == 0:
            raise InputError(f"bad etcd endpoint {raw!r}: port 0")
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
            raise InputError(f"bad etcd endpoint {raw!r}: expected http(s)://HOST:PORT")
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        urls.append(f"{parts.scheme}://{host}:{port}")
        options.update({k: v[-1] for k, v in parse_qs(parts.query).items()})
    if not urls:
        raise InputError(f"bad etcd endpoints {rest!r}: expected http(s)://HOST:PORT[,...]")
    return urls, options


class EtcdStore:
    """A Calico datastore in etcd v3. Implements calicotool.datastore.base.Store."""

    def __init__(
        self,
        gateway: EtcdGateway,
        max_txn_ops: int = DEFAULT_MAX_TXN_OPS,
        max_txn_bytes: int = DEFAULT_MAX_TXN_BYTES,
        page_size: int = 1000,
    ) -> None:
        self.gateway = gateway
        self.max_txn_ops = max(1, max_txn_ops)
        self.max_txn_bytes = max_txn_bytes
        self.page_size = page_size
        self._naming: PolicyNaming | None = None

    @classmethod
    def from_spec(cls, rest: str, environ: Mapping[str, str]) -> EtcdStore:
        urls, opts = parse_endpoints(rest)
        tls = {name: opts.get(name) or environ.get(var) or None for name, var in _TLS_ENV.items()}
        for name, path in tls.items():
            if path and not os.path.isfile(path):
                raise InputError(f"etcd TLS file {path!r} ({_TLS_ENV[name]}) does not exist")
        if bool(tls["cert"]) != bool(tls["key"]):
            raise InputError("etcd client TLS needs both ETCD_CERT_FILE and ETCD_KEY_FILE (or neither)")
        try:
            timeout = float(opts.get("timeout") or environ.get("CALICOTOOL_ETCD_TIMEOUT") or 5.0)
            max_ops = int(opts.get("max_txn_ops") or environ.get("CALICOTOOL_ETCD_MAX_TXN_OPS") or DEFAULT_MAX_TXN_OPS)
        except ValueError as exc:
            raise InputError(f"bad etcd option in {rest!r}: {exc}") from None
        if timeout <= 0 or max_ops < 1:
            raise InputError(f"bad etcd option in {rest!r}: timeout and max_txn_ops must be positive")
        username, password = environ.get("ETCD_USERNAME") or None, environ.get("ETCD_PASSWORD") or None
        if password and not username:
            raise InputError("ETCD_PASSWORD is set but ETCD_USERNAME is not")
        gateway = EtcdGateway(urls, tls["ca_cert"], tls["cert"], tls["key"], timeout, username, password)
        return cls(gateway, max_txn_ops=max_ops)

    # -- reading ------------------------------------------------------------------------------------------------
    def check(self) -> StoreInfo:
        version = self.gateway.version()
        info_kv = self.gateway.get(etcd_layout.CLUSTER_INFORMATION_KEY)
        calico_version: str | None = None
        details: dict[str, object] = {
            "etcd_version": version.get("etcdserver"),
            "endpoints": list(self.gateway.endpoints),
            "max_txn_ops": self.max_txn_ops,
        }
        if info_kv is not None:
            cluster = etcd_layout.decode(info_kv.key, info_kv.value, info_kv.mod_revision)
            calico_version = str(cluster.spec.get("calicoVersion") or "") or None
            details["cluster_type"] = cluster.spec.get("clusterType")
            details["datastore_ready"] = cluster.spec.get("datastoreReady")
        details["calico_data"] = any(  # Calico's own data, not just our locks
            self.gateway.range(prefix, end=prefix_end(prefix), limit=1, keys_only=True)[0]
            for prefix in (etcd_layout.RESOURCE_ROOT, "/calico/ipam/v2/")
        )
        return StoreInfo("etcdv3", self.gateway.where, CALICO_V3, calico_version, details)

    def get(self, kind: str, name: str, namespace: str | None = None) -> Resource:
        _, res = self._locate(etcd_layout.etcd_kind(kind), name, namespace)
        return res

    def _locate(self, info: KindInfo, name: str, namespace: str | None) -> tuple[str, Resource]:
        keys = etcd_layout.keys_for_name(info, name, namespace, self._naming_for(info))
        fallback = etcd_layout.legacy_key(info, name, namespace) if not self._naming_for(info).tiered else None
        for key in [*keys, *([fallback] if fallback else [])]:
            kv = self.gateway.get(key)
            if kv is not None:
                return key, etcd_layout.decode(kv.key, kv.value, kv.mod_revision)
        if not keys:  # an IPAM name that does not map to one key: look through the kind's keys
            for kv in self._scan(info, namespace):
                res = etcd_layout.decode(kv.key, kv.value, kv.mod_revision)
                if res.name == name:
                    return kv.key, res
        where = f"{namespace}/{name}" if info.namespaced and namespace else name
        raise NotFound(f"{info.name} {where} not found in etcd at {self.gateway.where}")

    def _scan(self, info: KindInfo, namespace: str | None) -> list[KeyValue]:
        out: list[KeyValue] = []
        for prefix in etcd_layout.list_prefixes(info, namespace):
            if prefix.endswith("/"):
                out.extend(self.gateway.scan(prefix, page=self.page_size))
            elif (kv := self.gateway.get(prefix)) is not None:
                out.append(kv)
        return out

    def list(self, kind: str, namespace: str | None = None, label_selector: str | None = None) -> list[Resource]:
        info = etcd_layout.etcd_kind(kind)
        selector = parse_label_selector(label_selector)
        out = []
        for kv in self._scan(info, namespace if info.namespaced else None):
            res = etcd_layout.decode(kv.key, kv.value, kv.mod_revision)
            if selector.matches(res.metadata.get("labels") or {}):
                out.append(res)
        return out

    # -- writing ------------------------------------------------------------------------------------------------
    @property
    def naming(self) -> PolicyNaming:
        """Calico's policy naming rule for this datastore, from ClusterInformation's calicoVersion (read once)."""
        if self._naming is None:
            kv = self.gateway.get(etcd_layout.resource_key(etcd_layout.etcd_kind("ClusterInformation"), "default", None))
            version = None
            if kv is not None:
                version = etcd_layout.decode(kv.key, kv.value, kv.mod_revision).spec.get("calicoVersion")
            self._naming = naming_for(str(version) if version else None)
        return self._naming

    def _naming_for(self, info: KindInfo) -> PolicyNaming:
        """The naming rule where it matters (policy kinds); reading it costs a request, so only then."""
        return self.naming if info.name in POLICY_KINDS else etcd_layout.DEFAULT_NAMING

    def key_for(self, resource: Resource) -> str:
        """The key `resource` is written to; refuses a policy name this Calico version would refuse."""
        naming = self._naming_for(resource.info)
        naming.check(resource.kind, resource.name, resource.spec)
        return etcd_layout.key_for(resource, naming)

    def stage(self, key: str, resource: Resource, current: Resource | None) -> tuple[bytes, Resource]:
        return etcd_layout.stage(key, resource, current, self._naming_for(resource.info))

    def create(self, resource: Resource) -> Resource:
        key = self.key_for(resource)
        value, stored = self.stage(key, resource, None)
        ok, result = self.gateway.txn([cmp_absent(key)], [op_put(key, value)])
        if not ok:
            raise AlreadyExists(f"{resource.key} already exists in etcd (key {key})")
        stored.metadata["resourceVersion"] = _revision(result)
        return stored

    def update(self, resource: Resource) -> Resource:
        key = self.key_for(resource)
        wanted = resource.resource_version
        kv = self.gateway.get(key)
        if kv is None:
            raise NotFound(f"{resource.key} not found in etcd (key {key})")
        if wanted is not None and wanted != kv.mod_revision:
            raise _conflict(resource.key, key, wanted, kv.mod_revision)
        current = etcd_layout.decode(kv.key, kv.value, kv.mod_revision)
        value, stored = self.stage(key, resource, current)
        ok, result = self.gateway.txn([cmp_mod(key, kv.mod_revision)], [op_put(key, value)], [op_get(key)])
        if not ok:
            now = txn_ranges(result)[0] if txn_ranges(result) else None
            if now is None:
                raise NotFound(f"{resource.key} was deleted concurrently (key {key})")
            raise _conflict(resource.key, key, wanted or kv.mod_revision, now.mod_revision)
        stored.metadata["resourceVersion"] = _revision(result)
        return stored

    def delete(self, kind: str, name: str, namespace: str | None = None, resource_version: str | None = None) -> None:
        info = etcd_layout.etcd_kind(kind)
        keys = etcd_layout.keys_for_name(info, name, namespace, self._naming_for(info))
        key = keys[0] if len(keys) == 1 else self._locate(info, name, namespace)[0]
        fallback = etcd_layout.legacy_key(info, name, namespace) if not self._naming_for(info).tiered else None
        if fallback and self.gateway.get(key) is None and self.gateway.get(fallback) is not None:
            key = fallback  # a pre-3.32 object nobody migrated: delete it where it is
        ident = ResourceKey(info.name, (namespace or "default") if info.namespaced else "", name)
        if resource_version is not None and not resource_version.isdigit():
            raise Conflict(f"{ident}: resourceVersion {resource_version!r} is not an etcd revision (read it from etcd)")
        guard = cmp_mod(key, resource_version) if resource_version else cmp_present(key)
        ok, result = self.gateway.txn([guard], [op_delete(key)], [op_get(key)])
        if not ok:
            now = txn_ranges(result)[0] if txn_ranges(result) else None
            if now is None:
                raise NotFound(f"{ident} not found in etcd (key {key})")
            raise _conflict(ident, key, resource_version or "?", now.mod_revision)

    def apply_batch(self, changes: Iterable[Change]) -> BatchResult:
        return etcd_batch.apply(self, list(changes))

    # -- locking ------------------------------------------------------------------------------------------------
    @contextmanager
    def lock(self, name: str, ttl_seconds: float = 60.0, wait_seconds: float = 0.0) -> Iterator[None]:
        """Hold `/calico/calicotool/locks/<name>` for the block, attached to a lease that a thread keeps alive;
        revoking the lease on exit deletes the key. A crashed holder's lock expires after `ttl_seconds`."""
        if not name or "/" in name:
            raise InputError(f"invalid lock name {name!r}")
        key = etcd_layout.LOCK_ROOT + name
        holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}".encode()
        lease = self.gateway.lease(max(1, int(round(ttl_seconds))))
        deadline = time.monotonic() + max(0.0, wait_seconds)
        try:
            while True:
                ok, result = self.gateway.txn([cmp_absent(key)], [op_put(key, holder, lease.id)], [op_get(key)])
                if ok:
                    break
                if time.monotonic() >= deadline:
                    owner = txn_ranges(result)[0] if txn_ranges(result) else None
                    who = owner.value.decode(errors="replace") if owner else "another client"
                    raise Conflict(f"lock {name!r} is held by {who} (etcd key {key}); waited {wait_seconds:g}s")
                time.sleep(min(0.2, max(0.01, deadline - time.monotonic())))
        except BaseException:
            _quietly(lease.revoke)
            raise
        stop = threading.Event()
        keeper = threading.Thread(target=_keep_alive, args=(lease, stop, max(0.5, ttl_seconds / 3)), daemon=True)
        keeper.start()
        try:
            yield
        finally:
            stop.set()
            keeper.join(timeout=2)
            _quietly(lease.revoke)

    def close(self) -> None:
        self.gateway.close()

    def __enter__(self) -> EtcdStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _revision(result: dict[str, object]) -> str:
    header = result.get("header")
    return str(header.get("revision", "0")) if isinstance(header, dict) else "0"


def _conflict(ident: ResourceKey, key: str, wanted: str, actual: str) -> Conflict:
    return Conflict(f"{ident} changed in etcd (key {key}): resourceVersion {wanted} expected, now {actual}")


def _quietly(action: Callable[[], object]) -> None:
    try:
        action()
    except Exception:  # best effort: an unrevoked lease expires on its own after its TTL
        pass


def _keep_alive(lease: Lease, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        _quietly(lease.refresh)
