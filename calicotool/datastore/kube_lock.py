"""A named lock as a coordination.k8s.io/v1 Lease, the way Kubernetes leader election uses one.

Acquire = create the Lease `calicotool-<name>` (or take over one whose holder let it expire, guarded by its
resourceVersion); hold = renew `renewTime` from a background thread every third of the TTL; release = delete it,
guarded by the resourceVersion we last wrote (so a holder that lost the lease never deletes its successor's).
"""

from __future__ import annotations

import math
import os
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from calicotool.datastore.kube_api import KubeApi
from calicotool.datastore.kube_convert import LEASE_ENDPOINT
from calicotool.errors import AlreadyExists, Conflict, DatastoreError, NotFound

_MICROTIME = "%Y-%m-%dT%H:%M:%S.%fZ"


def lease_name(name: str) -> str:
    """`calicotool-<name>` squeezed into a DNS-1123 subdomain."""
    slug = re.sub(r"[^a-z0-9.-]+", "-", name.lower()).strip("-.") or "lock"
    return f"calicotool-{slug}"[:253].rstrip("-.")


def micro_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime(_MICROTIME)


def parse_micro_time(text: str | None) -> float | None:
    if not text:
        return None
    for fmt in (_MICROTIME, "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    return None


def lease_expired(lease: dict[str, Any], now: float) -> bool:
    spec = lease.get("spec") or {}
    if not spec.get("holderIdentity"):
        return True
    renewed = parse_micro_time(spec.get("renewTime") or spec.get("acquireTime"))
    duration = spec.get("leaseDurationSeconds")
    if renewed is None or not isinstance(duration, int):
        return True
    return renewed + duration < now


class LeaseLock:
    def __init__(
        self,
        api: KubeApi,
        namespace: str,
        name: str,
        ttl_seconds: float,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.api, self.namespace, self.name = api, namespace, lease_name(name)
        self.ttl = max(1, math.ceil(ttl_seconds))
        self.identity = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.wall = wall
        self.resource_version: str | None = None
        self._guard = threading.Lock()
        self._stop = threading.Event()
        self.lost: str | None = None

    @property
    def _path(self) -> str:
        return LEASE_ENDPOINT.path(self.namespace, self.name)

    def _body(self, rv: str | None, transitions: int, acquired: str | None = None) -> dict[str, Any]:
        now = micro_time(self.wall())
        meta: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        if rv:
            meta["resourceVersion"] = rv
        spec = {
            "holderIdentity": self.identity,
            "leaseDurationSeconds": self.ttl,
            "acquireTime": acquired or now,
            "renewTime": now,
            "leaseTransitions": transitions,
        }
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": meta, "spec": spec}

    def try_acquire(self) -> dict[str, Any] | None:
        """One attempt. Returns None when acquired, else the Lease that someone else holds."""
        try:
            created = self.api.request("POST", LEASE_ENDPOINT.path(self.namespace), body=self._body(None, 0))
        except AlreadyExists:
            pass
        except NotFound as exc:
            raise NotFound(
                f"cannot create lock Lease in namespace {self.namespace!r}: {exc.message} "
                "(set CALICOTOOL_LOCK_NAMESPACE to an existing namespace)"
            ) from None
        else:
            self.resource_version = created["metadata"]["resourceVersion"]
            return None
        try:
            current = self.api.request("GET", self._path)
        except NotFound:
            return self.try_acquire()  # released between our create and get
        if not lease_expired(current, self.wall()):
            return current
        spec = current.get("spec") or {}
        body = self._body(current["metadata"]["resourceVersion"], int(spec.get("leaseTransitions") or 0) + 1)
        try:
            taken = self.api.request("PUT", self._path, body=body)
        except (Conflict, NotFound):
            return current  # someone else moved first; the caller retries
        self.resource_version = taken["metadata"]["resourceVersion"]
        return None

    def renew(self) -> None:
        with self._guard:
            if self.lost or self.resource_version is None:
                return
            try:
                current = self.api.request("GET", self._path)
                spec = current.get("spec") or {}
                if spec.get("holderIdentity") != self.identity:
                    self.lost = f"lease taken over by {spec.get('holderIdentity')!r}"
                    return
                body = self._body(self.resource_version, int(spec.get("leaseTransitions") or 0), spec.get("acquireTime"))
                self.resource_version = self.api.request("PUT", self._path, body=body)["metadata"]["resourceVersion"]
            except (Conflict, NotFound) as exc:
                self.lost = f"lease lost: {exc.message}"
            except DatastoreError:
                pass  # transient: try again at the next tick; the TTL covers short outages

    def release(self) -> None:
        self._stop.set()
        with self._guard:
            if self.lost or self.resource_version is None:
                return
            opts = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": self.resource_version}}
            try:
                self.api.request("DELETE", self._path, body=opts)
            except (Conflict, NotFound):
                pass
            self.resource_version = None

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.ttl / 3.0):
            self.renew()

    @contextmanager
    def held(self, wait_seconds: float, sleep: Callable[[float], None] = time.sleep) -> Iterator[None]:
        deadline = time.monotonic() + max(0.0, wait_seconds)
        delay = 0.05
        while True:
            holder = self.try_acquire()
            if holder is None:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                spec = holder.get("spec") or {}
                raise Conflict(
                    f"lock {self.name!r} (Lease {self.namespace}/{self.name}) is held by {spec.get('holderIdentity')!r}, "
                    f"renewed {spec.get('renewTime')}, duration {spec.get('leaseDurationSeconds')}s"
                )
            sleep(min(delay, remaining))
            delay = min(delay * 2, 1.0)
        renewer = threading.Thread(target=self._renew_loop, name=f"lease-{self.name}", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            self.release()
            renewer.join(timeout=5)
