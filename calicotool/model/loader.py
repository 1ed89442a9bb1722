"""Reading Calico manifests from files and directories into Resources, every problem located.

Accepts multi-document YAML, JSON, and `kind: List` wrappers. Skips kustomization files. Validation against
the CRD schemas happens here too, so a loaded Resource is one Calico would accept."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from calicotool.errors import InputError, Location, ValidationFailed
from calicotool.model import yamlio
from calicotool.model.resource import Resource

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
SKIP_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class LoadedResource:
    resource: Resource
    location: Location


def manifest_files(path: Path) -> list[Path]:
    """The manifest files under `path` (itself if a file), in a stable order."""
    if not path.exists():
        raise InputError(f"no such file or directory: {path}")
    if path.is_file():
        return [path]
    return sorted(
        p
        for p in path.rglob("*")
        if p.is_file()
        and p.suffix in MANIFEST_SUFFIXES
        and p.name not in SKIP_NAMES
        and not any(part.startswith(".") for part in p.relative_to(path).parts)
    )


def parse_documents(text: str, file: str) -> list[tuple[dict[str, Any], Location]]:
    """Raw documents with their locations; `kind: List` is flattened."""
    out: list[tuple[dict[str, Any], Location]] = []
    if file.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON: {exc.msg}", Location(file=file, line=exc.lineno, column=exc.colno)) from None
        except RecursionError:
            raise InputError(f"JSON nested more than {yamlio.MAX_DEPTH} levels deep", Location(file=file)) from None
        yamlio.check_depth(data, file)
        docs: list[tuple[int, int, Any]] = [(0, 1, data)]
    else:
        docs = list(yamlio.load_text(text, file))
    for index, line, doc in docs:
        loc = Location(file=file, document=index, line=line)
        if not isinstance(doc, dict):
            raise InputError(f"expected a mapping (a Kubernetes-style object), got {type(doc).__name__}", loc)
        if doc.get("kind") == "List" or str(doc.get("kind", "")).endswith("List") and "items" in doc:
            items = doc.get("items") or []
            if not isinstance(items, list):
                raise InputError("List.items must be a list", Location(file=file, document=index, field="items"))
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    raise InputError("list item is not a mapping", Location(file=file, document=index, field=f"items[{i}]"))
                out.append((item, Location(file=file, document=index, line=line, field=f"items[{i}]")))
        else:
            out.append((doc, loc))
    return out


def resource_from_document(doc: dict[str, Any], loc: Location, validate: bool = True) -> Resource:
    for required in ("apiVersion", "kind"):
        if not doc.get(required):
            raise InputError(f"missing {required}", Location(loc.file, loc.document, loc.line, required))
    for section in ("metadata", "spec", "status"):
        if doc.get(section) is not None and not isinstance(doc[section], dict):
            raise InputError(f"{section} must be a mapping, not {type(doc[section]).__name__}",
                             Location(loc.file, loc.document, loc.line, section))
    bad_number = _non_finite(doc)
    if bad_number is not None:
        raise InputError("not a finite number (NaN and infinity cannot be stored)",
                         Location(loc.file, loc.document, loc.line, bad_number))
    res = Resource.from_dict(doc)
    try:
        res.info  # noqa: B018 - resolves apiVersion/kind or raises
    except InputError as exc:
        raise InputError(exc.message, Location(loc.file, loc.document, loc.line, "kind")) from None
    if validate:
        from calicotool.model.validate import validate_resource

        errors = validate_resource(res, loc)
        if errors:
            raise ValidationFailed(errors)
    return res


def _non_finite(doc: Any) -> str | None:
    """The field path of the first NaN/infinite float in `doc` (JSON, etcd and the API server cannot hold one)."""
    stack: list[tuple[Any, str]] = [(doc, "")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return path
        if isinstance(value, dict):
            stack.extend((v, f"{path}.{k}" if path else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))
    return None


def load_text(text: str, file: str = "<stdin>", validate: bool = True) -> list[LoadedResource]:
    out: list[LoadedResource] = []
    errors: list[InputError] = []
    for doc, loc in parse_documents(text, file):
        try:
            out.append(LoadedResource(resource_from_document(doc, loc, validate), loc))
        except ValidationFailed as exc:
            errors.extend(_with_lines(exc.errors, text, loc))
        except InputError as exc:
            errors.append(exc)
    if errors:
        raise ValidationFailed(errors)
    return out


def _with_lines(errors: list[InputError], text: str, loc: Location) -> list[InputError]:
    """Point each error at the line of its field, when the document is YAML we can re-read."""
    if loc.document is None or (loc.file or "").endswith(".json"):
        return errors
    out = []
    for err in errors:
        path = getattr(err, "path", None)
        if path and err.location is not None and err.location.field and "items[" not in (loc.field or ""):
            line = yamlio.line_of(text, loc.document, list(path))
            if line is not None:
                old = err.location
                err = InputError(err.message, Location(old.file, old.document, line, old.field))
        out.append(err)
    return out


def load_paths(paths: list[Path], validate: bool = True) -> list[LoadedResource]:
    """Load every manifest under `paths`; all problems are collected and raised together; duplicates rejected."""
    out: list[LoadedResource] = []
    errors: list[InputError] = []
    seen: dict[object, Location] = {}
    for path in paths:
        for file in manifest_files(path):
            try:
                text = file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(InputError(f"cannot read: {exc}", Location(file=str(file))))
                continue
            try:
                loaded = load_text(text, str(file), validate)
            except ValidationFailed as exc:
                errors.extend(exc.errors)
                continue
            except InputError as exc:
                errors.append(exc)
                continue
            for item in loaded:
                key = item.resource.key
                if key in seen:
                    errors.append(InputError(f"duplicate {key} (first defined at {seen[key]})", item.location))
                else:
                    seen[key] = item.location
                    out.append(item)
    if errors:
        raise ValidationFailed(errors)
    return out
