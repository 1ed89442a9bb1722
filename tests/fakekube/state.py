"""In-memory object storage for the fake API server: one global resourceVersion counter as etcd gives, apiserver's
create/update/delete semantics and errors (Status objects with reason and code), and an event log for watches."""

from __future__ import annotations

import copy
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.fakekube.selectors import Matcher

DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
    "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    core: bool = False  # built-in type: no metadata.generation, typed list items
    typed_items: bool = False  # list items carry no apiVersion/kind (built-in or aggregated types; CRs keep them)
    status_subresource: bool = False  # main PUT keeps the stored status; PUT .../status changes only status
    read_only: bool = False  # get/list/watch only (the Calico API server's BlockAffinity)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        return f"{self.kind}.{self.group}" if self.group else self.kind


class ApiError(Exception):
    """Becomes a metav1.Status answer."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "code": self.code,
        }
        if self.reason:  # StatusReasonUnknown is "" and omitted on the wire
            doc["reason"] = self.reason
        if self.details is not None:
            doc["details"] = self.details
        return doc


def not_found(rt: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rt.qualified} "{name}" not found', _details(rt, name))


def _details(rt: ResourceType, name: str) -> dict[str, Any]:
    d: dict[str, Any] = {"name": name, "kind": rt.plural}
    if rt.group:
        d["group"] = rt.group
    return d


def invalid(rt: ResourceType, name: str, causes: list[tuple[str, str, str]]) -> ApiError:
    """422 with field causes: (reason, field, message) like `FieldValueInvalid`, `metadata.name`, `Invalid value`."""
    text = ", ".join(f"{f}: {m}" for _, f, m in causes)
    details = _details(rt, name)
    details["kind"] = rt.kind
    details["causes"] = [{"reason": r, "message": m, "field": f} for r, f, m in causes]
    return ApiError(422, "Invalid", f'{rt.qualified_kind} "{name}" is invalid: {text}', details)


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


Validator = Callable[[ResourceType, dict[str, Any]], list[tuple[str, str, str]]]


@dataclass
class Event:
    rv: int
    type: str
    rt: ResourceType
    obj: dict[str, Any]


@dataclass
class FakeState:
    """All objects, keyed (group, plural, namespace, name). Thread-safe; `changed` wakes watchers."""

    objects: dict[tuple[str, str, str, str], dict[str, Any]] = field(default_factory=dict)
    rv: int = 1000
    events: list[Event] = field(default_factory=list)
    validators: list[Validator] = field(default_factory=list)
    enforce_namespaces: bool = True
    lock: threading.RLock = field(default_factory=threading.RLock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.changed = threading.Condition(self.lock)

    # -- helpers ------------------------------------------------------------------------------------------------
    @contextmanager
    def dry_run(self) -> Iterator[None]:
        """`dryRun=All`: the verb runs (validation, conflicts, answers) and its effects are rolled back."""
        with self.lock:
            objects, rv, events = dict(self.objects), self.rv, list(self.events)
            try:
                yield
            finally:
                self.objects, self.rv, self.events = objects, rv, events

    def _bump(self) -> str:
        self.rv += 1
        return str(self.rv)

    def _record(self, kind: str, rt: ResourceType, obj: dict[str, Any]) -> None:
        self.events.append(Event(int(obj["metadata"]["resourceVersion"]), kind, rt, copy.deepcopy(obj)))
        del self.events[:-5000]
        self.changed.notify_all()

    def _validate(self, rt: ResourceType, obj: dict[str, Any], url_ns: str | None, url_name: str | None) -> str:
        if not isinstance(obj, dict):
            raise ApiError(400, "BadRequest", "the body of the request was in an unknown format")
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if not kind:
            raise ApiError(400, "BadRequest", "Object 'Kind' is missing in request body")
        if kind != rt.kind or (api_version and api_version != rt.api_version):
            raise ApiError(
                400, "BadRequest", f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({rt.api_version}) or kind {kind!r} is not {rt.kind!r}"
            )
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise ApiError(400, "BadRequest", "metadata must be an object")
        if not meta.get("name") and meta.get("generateName") and url_name is None:
            meta["name"] = f"{meta['generateName']}{uuid.uuid4().hex[:5]}"
        name = str(meta.get("name") or "")
        if url_name is not None and name and name != url_name:
            raise ApiError(
                400, "BadRequest", f"the name of the object ({name}) does not match the name on the URL ({url_name})"
            )
        body_ns = meta.get("namespace")
        if rt.namespaced:
            if body_ns and url_ns and body_ns != url_ns:
                raise ApiError(
                    400, "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                )
            meta["namespace"] = url_ns or body_ns or "default"
        else:
            meta.pop("namespace", None)
        causes: list[tuple[str, str, str]] = []
        if not name:
            causes.append(("FieldValueRequired", "metadata.name", "Required value: name or generateName is required"))
        else:
            pattern = DNS1123_LABEL if rt.plural == "namespaces" else DNS1123_SUBDOMAIN
            limit = 63 if rt.plural == "namespaces" else 253
            if len(name) > limit or not pattern.match(name):
                causes.append(("FieldValueInvalid", "metadata.name", f'Invalid value: "{name}": {_SUBDOMAIN_MSG}'))
        for value in (meta.get("labels") or {}).values():
            if not isinstance(value, str) or len(value) > 63 or not _LABEL_VALUE.match(value):
                causes.append(("FieldValueInvalid", "metadata.labels", f'Invalid value: "{value}": bad label value'))
        if "spec" in obj and not isinstance(obj["spec"], dict) and rt.plural not in ("namespaces",):
            kind_name = type(obj["spec"]).__name__
            causes.append(("FieldValueTypeInvalid", "spec", f"Invalid value: {kind_name}: must be of type object"))
        for validator in self.validators:
            causes.extend(validator(rt, obj))
        if causes:
            raise invalid(rt, name, causes)
        return name

    def _check_namespace(self, rt: ResourceType, ns: str) -> None:
        if rt.namespaced and self.enforce_namespaces and ("", "namespaces", "", ns) not in self.objects:
            raise ApiError(404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"})

    # -- verbs --------------------------------------------------------------------------------------------------
    def create(self, rt: ResourceType, ns: str | None, obj: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            obj = copy.deepcopy(obj)
            name = self._validate(rt, obj, ns, None)
            meta = obj["metadata"]
            if meta.get("resourceVersion"):
                # The storage layer refuses it with a plain error, which reaches the client as a 500 with no reason.
                raise ApiError(500, "", "resourceVersion should not be set on objects to be created")
            key = (rt.group, rt.plural, meta.get("namespace", ""), name)
            self._check_namespace(rt, meta.get("namespace", ""))
            if key in self.objects:
                raise ApiError(409, "AlreadyExists", f'{rt.qualified} "{name}" already exists', _details(rt, name))
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            meta.update(uid=str(uuid.uuid4()), creationTimestamp=now_rfc3339(), resourceVersion=self._bump())
            if not rt.core:
                meta["generation"] = 1
            self.objects[key] = obj
            self._record("ADDED", rt, obj)
            return copy.deepcopy(obj)

    def get(self, rt: ResourceType, ns: str | None, name: str) -> dict[str, Any]:
        with self.lock:
            obj = self.objects.get((rt.group, rt.plural, ns or "", name))
            if obj is None:
                raise not_found(rt, name)
            return copy.deepcopy(obj)

    def update(self, rt: ResourceType, ns: str | None, name: str, obj: dict[str, Any], status: bool = False) -> dict[str, Any]:
        with self.lock:
            obj = copy.deepcopy(obj)
            self._validate(rt, obj, ns, name)
            key = (rt.group, rt.plural, ns or "", name)
            old = self.objects.get(key)
            if old is None:
                raise not_found(rt, name)
            rv = obj["metadata"].get("resourceVersion")
            if rv and str(rv) != old["metadata"]["resourceVersion"]:
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {rt.qualified} "{name}": the object has been modified; '
                    "please apply your changes to the latest version and try again",
                    _details(rt, name),
                )
            new = copy.deepcopy(old) if status else obj
            if status:
                new["status"] = obj.get("status")
            elif rt.status_subresource:
                new.pop("status", None)
                if "status" in old:
                    new["status"] = copy.deepcopy(old["status"])
            meta = new["metadata"]
            for k in ("uid", "creationTimestamp"):
                meta[k] = old["metadata"][k]
            new["apiVersion"], new["kind"] = rt.api_version, rt.kind
            if not rt.core:
                gen = int(old["metadata"].get("generation", 1))
                meta["generation"] = gen + 1 if new.get("spec") != old.get("spec") else gen
            if _same(new, old):
                return copy.deepcopy(old)  # no-op writes keep the resourceVersion, as apiserver does
            meta["resourceVersion"] = self._bump()
            self.objects[key] = new
            self._record("MODIFIED", rt, new)
            return copy.deepcopy(new)

    def delete(self, rt: ResourceType, ns: str | None, name: str, options: dict[str, Any] | None) -> dict[str, Any]:
        with self.lock:
            key = (rt.group, rt.plural, ns or "", name)
            old = self.objects.get(key)
            if old is None:
                raise not_found(rt, name)
            pre = (options or {}).get("preconditions") or {}
            if pre.get("resourceVersion") and str(pre["resourceVersion"]) != old["metadata"]["resourceVersion"]:
                raise ApiError(
                    409,
                    "Conflict",
                    f"Operation cannot be fulfilled on {rt.qualified} \"{name}\": Precondition failed: "
                    f"ResourceVersion in precondition: {pre['resourceVersion']}, "
                    f"ResourceVersion in object meta: {old['metadata']['resourceVersion']}",
                    _details(rt, name),
                )
            if pre.get("uid") and pre["uid"] != old["metadata"]["uid"]:
                raise ApiError(409, "Conflict", f'Precondition failed: UID in precondition: {pre["uid"]}', _details(rt, name))
            del self.objects[key]
            gone = copy.deepcopy(old)
            gone["metadata"]["resourceVersion"] = self._bump()
            self._record("DELETED", rt, gone)
            return gone

    def list(
        self, rt: ResourceType, ns: str | None, labels: Matcher, fields: Callable[[dict[str, Any]], bool]
    ) -> tuple[list[dict[str, Any]], int]:
        with self.lock:
            items = [
                copy.deepcopy(obj)
                for (g, p, o_ns, _), obj in sorted(self.objects.items(), key=lambda kv: (kv[0][2], kv[0][3]))
                if g == rt.group and p == rt.plural and (not ns or o_ns == ns)
                and labels(obj["metadata"].get("labels") or {}) and fields(obj)
            ]
            return items, self.rv


def _same(new: dict[str, Any], old: dict[str, Any]) -> bool:
    strip = ("resourceVersion", "generation")
    a = {**new, "metadata": {k: v for k, v in new["metadata"].items() if k not in strip}}
    b = {**old, "metadata": {k: v for k, v in old["metadata"].items() if k not in strip}}
    return a == b
