"""Calico's own CRD schemas (vendored from ../shared/calico) as jsonschema validators, plus their CEL rules.

Kubernetes prunes unknown fields silently and Felix ignores what it cannot parse, so a typo fails open. Here an
object with `properties` is closed unless the schema says `x-kubernetes-preserve-unknown-fields`."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import jsonschema


@dataclass(frozen=True)
class SchemaProblem:
    path: tuple[str | int, ...]
    message: str


def _close(node: Any) -> Any:
    """Return a copy of an OpenAPI v3 schema with objects closed and `nullable` made explicit."""
    if isinstance(node, list):
        return [_close(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _close(v) for k, v in node.items() if k != "x-kubernetes-validations"}
    if "properties" in node and "additionalProperties" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    if node.get("nullable") and isinstance(node.get("type"), str):
        out["type"] = [node["type"], "null"]
    if node.get("x-kubernetes-int-or-string") and "anyOf" not in node:
        out["type"] = ["integer", "string"]
    return out


@cache
def raw_schema(kind_name: str) -> dict[str, Any] | None:
    ref = resources.files("calicotool.model") / "schemas" / f"{kind_name}.json"
    if not ref.is_file():
        return None
    data: dict[str, Any] = json.loads(ref.read_text(encoding="utf-8"))
    return data


@cache
def _validator(kind_name: str) -> jsonschema.protocols.Validator | None:
    schema = raw_schema(kind_name)
    if schema is None:
        return None
    closed = _close(copy.deepcopy(schema))
    cls = jsonschema.validators.validator_for(closed, default=jsonschema.Draft7Validator)
    return cls(closed)


def _describe(err: jsonschema.ValidationError) -> str:
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = set((err.schema.get("properties") or {}).keys())
        unknown = sorted(k for k in err.instance if k not in allowed)
        return f"unknown field {unknown[0]!r}" if len(unknown) == 1 else f"unknown fields {unknown}"
    if err.validator == "enum":
        return f"{err.instance!r} is not one of {', '.join(map(str, err.validator_value))}"
    if err.validator == "type":
        return f"{err.instance!r} is not of type {err.validator_value}"
    if err.validator == "required":
        return err.message.replace("is a required property", "is required")
    return err.message


def schema_problems(kind_name: str, doc: dict[str, Any]) -> Iterator[SchemaProblem]:
    validator = _validator(kind_name)
    if validator is None:
        return
    for err in sorted(validator.iter_errors(doc), key=lambda e: [str(p) for p in e.absolute_path]):
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set((err.schema.get("properties") or {}).keys())
            for k in sorted(k for k in err.instance if k not in allowed):
                yield SchemaProblem(path + (k,), f"unknown field {k!r}")
            continue
        yield SchemaProblem(path, _describe(err))


# -- CEL (x-kubernetes-validations) -------------------------------------------------------------------------------


@cache
def _cel_rules(kind_name: str) -> tuple[tuple[tuple[str, ...], str, str], ...]:
    """(schema path with '*' for list items, rule, message) for every CEL rule that does not need oldSelf."""
    schema = raw_schema(kind_name)
    found: list[tuple[tuple[str, ...], str, str]] = []

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if not isinstance(node, dict):
            return
        for rule in node.get("x-kubernetes-validations") or []:
            text = rule.get("rule", "")
            if "oldSelf" not in text:
                found.append((path, text, rule.get("message") or f"failed rule: {text}"))
        for name, sub in (node.get("properties") or {}).items():
            walk(sub, path + (name,))
        if isinstance(node.get("items"), dict):
            walk(node["items"], path + ("*",))

    if schema is not None:
        walk(schema, ())
    return tuple(found)


@cache
def _cel_program(rule: str) -> Any:
    import celpy

    env = celpy.Environment()
    return env.program(env.compile(rule))


def _top_level_disjuncts(rule: str) -> list[str]:
    """`a || (b || c) || d` -> [a, b, c, d] (parenthesised ORs flattened); other shapes are kept whole."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(rule):
        ch = rule[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch in "'\"":
            end = rule.find(ch, i + 1)
            i = end if end != -1 else len(rule)
        elif rule.startswith("||", i) and depth == 0:
            parts.append(rule[start:i].strip())
            start = i + 2
            i += 1
        i += 1
    parts.append(rule[start:].strip())
    out: list[str] = []
    for part in parts:
        if len(parts) > 1 and part.startswith("(") and part.endswith(")") and _balanced(part[1:-1]):
            out.extend(_top_level_disjuncts(part[1:-1]))
        else:
            out.append(part)
    return out


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


_ABSENT_GUARD = re.compile(r"^!has\(self\.([A-Za-z0-9_.]+)\)$")


@cache
def _absent_guards(rule: str) -> tuple[tuple[str, ...], ...]:
    """Field paths whose absence alone makes `rule` true (a top-level `!has(self.x.y)` disjunct). Checking them
    first skips the CEL interpreter for the common case, with exactly the same verdict."""
    guards = []
    for part in _top_level_disjuncts(rule):
        m = _ABSENT_GUARD.match(part)
        if m:
            guards.append(tuple(m.group(1).split(".")))
    return tuple(guards)


def _has_path(value: Any, path: tuple[str, ...]) -> bool:
    for step in path:
        if not isinstance(value, dict) or step not in value:
            return False
        value = value[step]
    return True


def _at(doc: Any, path: tuple[str, ...], here: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if not path:
        yield here, doc
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(doc, list):
            for i, item in enumerate(doc):
                yield from _at(item, rest, here + (i,))
    elif isinstance(doc, dict) and head in doc:
        yield from _at(doc[head], rest, here + (head,))


def cel_problems(kind_name: str, doc: dict[str, Any]) -> Iterator[SchemaProblem]:
    """Evaluate the CRD's CEL rules with cel-python. A rule the library cannot compile is skipped (the
    JSON-schema part still applies)."""
    rules = _cel_rules(kind_name)
    if not rules:
        return
    import celpy

    for path, rule, message in rules:
        guards = _absent_guards(rule)
        for where, value in _at(doc, path):
            if any(not _has_path(value, g) for g in guards):
                continue  # a `!has(...)` disjunct is true: the rule holds
            try:
                program = _cel_program(rule)
                ok = program.evaluate({"self": celpy.json_to_cel(value)})
            except Exception:
                continue
            if ok is False or (hasattr(ok, "__bool__") and not isinstance(ok, Exception) and not bool(ok)):
                yield SchemaProblem(where, message)
