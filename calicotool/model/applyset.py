"""Kubernetes ApplySets (KEP-3659): the labels and parent object that let kubectl and other tools see which objects
one `apply --applyset` owns. Pure: what the parent and the members must carry; reading and writing the parent
is datastore/kube_applyset.py's job.

A set has a parent (a Secret or ConfigMap here, as kubectl supports) labelled `applyset.kubernetes.io/id`, whose
value is derived from the parent's name, namespace, kind and group, so that no one can claim another set's ID.
Every member carries `applyset.kubernetes.io/part-of: <id>`. The parent lists the member group-kinds
(`contains-group-kinds`, sorted) and the namespaces other than its own (`additional-namespaces`), and names the
tool that manages it (`tooling`): tools refuse to change a set another tool manages.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from calicotool.errors import InputError, Location
from calicotool.model.checks import DNS1123_SUBDOMAIN
from calicotool.model.resource import Resource

PART_OF_LABEL = "applyset.kubernetes.io/part-of"
ID_LABEL = "applyset.kubernetes.io/id"
TOOLING_ANNOTATION = "applyset.kubernetes.io/tooling"
GROUP_KINDS_ANNOTATION = "applyset.kubernetes.io/contains-group-kinds"
NAMESPACES_ANNOTATION = "applyset.kubernetes.io/additional-namespaces"
TOOL_NAME = "calicotool"

_PARENT_KINDS = {"secret": "Secret", "secrets": "Secret", "configmap": "ConfigMap", "configmaps": "ConfigMap"}


@dataclass(frozen=True)
class ApplySetRef:
    """The parent object of a set: a core/v1 Secret or ConfigMap."""

    kind: str
    name: str
    namespace: str

    @property
    def id(self) -> str:
        """`applyset-<base64url(sha256(<name>.<namespace>.<kind>.<group>))>-v1`, as the ApplySet spec derives it
        (the group of Secret and ConfigMap is the empty core group)."""
        digest = hashlib.sha256(f"{self.name}.{self.namespace}.{self.kind}.".encode()).digest()
        return f"applyset-{base64.urlsafe_b64encode(digest).decode().rstrip('=')}-v1"

    @property
    def plural(self) -> str:
        return "secrets" if self.kind == "Secret" else "configmaps"

    def __str__(self) -> str:
        return f"{self.kind.lower()}/{self.name} in namespace {self.namespace}"


def parse_ref(text: str, namespace: str) -> ApplySetRef:
    """`NAME`, `secret/NAME` or `configmap/NAME` (kubectl's --applyset forms for built-in parents)."""
    where = Location(field="--applyset")
    kind, _, name = text.rpartition("/")
    parent_kind = _PARENT_KINDS.get(kind.lower()) if kind else "Secret"
    if parent_kind is None:
        raise InputError(f"--applyset {text!r}: the parent must be a secret or a configmap (secret/NAME, "
                         "configmap/NAME or NAME for a secret)", where)
    for label, value in (("name", name), ("namespace", namespace)):
        if not value or len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
            raise InputError(f"--applyset {text!r}: the parent's {label} {value!r} is not a valid DNS-1123 "
                             "subdomain (lower-case letters, digits, '-' and '.')", where)
    return ApplySetRef(parent_kind, name, namespace)


def label_members(resources: Iterable[Resource], ref: ApplySetRef) -> list[Resource]:
    """Copies of `resources` carrying the set's part-of label. A manifest that already names another set is an
    error (an object belongs to at most one set)."""
    out = []
    for res in resources:
        have = res.labels.get(PART_OF_LABEL)
        if have not in (None, ref.id):
            raise InputError(f"{res.kind} {res.name!r} already carries {PART_OF_LABEL}={have}, which is not the "
                             f"set of {ref} ({ref.id}): an object can belong to one ApplySet only",
                             Location(field=f"metadata.labels.{PART_OF_LABEL}"))
        copy = res.copy()
        copy.metadata["labels"] = {**res.labels, PART_OF_LABEL: ref.id}
        out.append(copy)
    return out


def member_of(res: Resource, ref: ApplySetRef) -> bool:
    return res.labels.get(PART_OF_LABEL) == ref.id


@dataclass(frozen=True)
class ParentState:
    """What a parent records about its members: `Kind.group` strings and namespaces (besides the parent's own)."""

    group_kinds: frozenset[str] = frozenset()
    namespaces: frozenset[str] = frozenset()

    def union(self, other: ParentState) -> ParentState:
        return ParentState(self.group_kinds | other.group_kinds, self.namespaces | other.namespaces)


def state_of(group_kinds: Iterable[str], namespaces: Iterable[str], ref: ApplySetRef) -> ParentState:
    return ParentState(frozenset(group_kinds), frozenset(ns for ns in namespaces if ns and ns != ref.namespace))


def group_kind(kind: str, group: str) -> str:
    return f"{kind}.{group}" if group else kind


def read_parent(doc: dict[str, Any] | None, ref: ApplySetRef) -> ParentState | None:
    """The state an existing parent records (None when there is no parent yet). Refuses a parent that is not this
    set's (missing or different ID label) or that another tool manages, as the ApplySet spec requires."""
    if doc is None:
        return None
    meta = doc.get("metadata") or {}
    labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
    tooling = annotations.get(TOOLING_ANNOTATION)
    if tooling is None:
        raise InputError(f"{ref} exists but is not an ApplySet parent (no {TOOLING_ANNOTATION} annotation): "
                         "choose another --applyset name", Location(field="--applyset"))
    tool = tooling.rsplit("/", 1)[0]  # <tool>/<version>
    if tool != TOOL_NAME:
        raise InputError(f"the ApplySet {ref} is managed by {tool!r}, not {TOOL_NAME}: refusing to change another "
                         "tool's set", Location(field="--applyset"))
    if labels.get(ID_LABEL) != ref.id:
        raise InputError(f"{ref} has {ID_LABEL}={labels.get(ID_LABEL)!r}, not {ref.id} (the ID the spec derives "
                         "from its name, namespace and kind): refusing to use it", Location(field="--applyset"))
    kinds = str(annotations.get(GROUP_KINDS_ANNOTATION) or "")
    spaces = str(annotations.get(NAMESPACES_ANNOTATION) or "")
    return ParentState(frozenset(k for k in kinds.split(",") if k), frozenset(n for n in spaces.split(",") if n))


def parent_document(ref: ApplySetRef, state: ParentState, version: str,
                    current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The parent as it should be: `current` (when it exists) with the set's label and annotations replaced, so
    what others added to it (labels, data) is kept and the write is a compare-and-swap on its resourceVersion."""
    doc: dict[str, Any] = dict(current) if current else {"apiVersion": "v1", "kind": ref.kind}
    meta = dict(doc.get("metadata") or {})
    meta.update(name=ref.name, namespace=ref.namespace)
    meta["labels"] = {**(meta.get("labels") or {}), ID_LABEL: ref.id}
    annotations = {**(meta.get("annotations") or {}), TOOLING_ANNOTATION: f"{TOOL_NAME}/v{version}",
                   GROUP_KINDS_ANNOTATION: ",".join(sorted(state.group_kinds))}
    if state.namespaces:
        annotations[NAMESPACES_ANNOTATION] = ",".join(sorted(state.namespaces))
    else:
        annotations.pop(NAMESPACES_ANNOTATION, None)
    meta["annotations"] = annotations
    doc["metadata"] = meta
    return doc


def parent_differs(current: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    if current is None:
        return True
    have, want = current.get("metadata") or {}, wanted["metadata"]
    return (have.get("labels") or {}) != want["labels"] or (have.get("annotations") or {}) != want["annotations"]
