"""Layering rule-set documents: base files of one directory are unioned, then environment overlays
(`env/<name>.yaml`, which may `extends:` other environments) are merged on top, the way Helm values files are.

Merge rules: mappings merge key by key (a `null` value deletes the key, e.g. a group); `tiers` and `policies`
merge by `name` (an entry with `delete: true` removes it); any other list or scalar is replaced.
Pure apart from reading the overlay files it is pointed at.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from calicotool.errors import InputError, Location
from calicotool.policy.located import LocDict, LocList, error_at, load_located

NAMED_LISTS = ("tiers", "policies")
SCALARS = ("apiVersion", "kind", "name", "namespace", "defaultDenyTier", "defaultDenyOrder")


def _copy_into(out: LocDict, key: str, value: Any, origin: tuple[str, int]) -> None:
    out[key] = value
    out.key_origins[key] = origin


def deep_merge(base: Any, top: Any) -> Any:
    """`top` layered over `base`, keeping each value's origin."""
    if not (isinstance(base, LocDict) and isinstance(top, LocDict)):
        return top
    out = LocDict(origin=base.origin)
    for key, value in base.items():
        _copy_into(out, key, value, base.where(key))
    for key, value in top.items():
        if value is None:
            out.pop(key, None)
            out.key_origins.pop(key, None)
        elif key in out:
            _copy_into(out, key, deep_merge(out[key], value), top.where(key))
        else:
            _copy_into(out, key, value, top.where(key))
    return out


def merge_named(base: LocList, top: LocList, field: str, root: LocDict) -> LocList:
    """Merge two lists of `{name: ...}` entries by name: update in place, append new, drop `delete: true`."""
    out = LocList(list(base), origin=base.origin)
    out.item_origins = list(base.item_origins) + [base.origin] * (len(base) - len(base.item_origins))
    for i, item in enumerate(top):
        if not isinstance(item, LocDict) or "name" not in item:
            raise error_at(root, (field, i), f"{field} entries in an overlay need a name")
        names = [e.get("name") if isinstance(e, dict) else None for e in out]
        if item["name"] in names:
            at = names.index(item["name"])
            if item.get("delete"):
                del out[at]
                del out.item_origins[at]
                continue
            merged = deep_merge(out[at], item)
            merged.pop("delete", None)
            out[at] = merged
        elif item.get("delete"):
            singular = {"tiers": "tier", "policies": "policy"}.get(field, field)
            raise error_at(root, (field, i, "delete"), f"cannot delete {singular} {item['name']!r}: it is not defined")
        else:
            out.append(item)
            out.item_origins.append(top.where(i))
    return out


def apply_overlay(base: LocDict, top: LocDict) -> LocDict:
    out = LocDict(origin=base.origin)
    for key, value in base.items():
        _copy_into(out, key, value, base.where(key))
    for key, value in top.items():
        if key == "extends":
            continue
        if key in NAMED_LISTS and isinstance(value, LocList):
            current = out.get(key)
            merged = merge_named(current if isinstance(current, LocList) else LocList(origin=top.where(key)), value, key,
                                 top)
            _copy_into(out, key, merged, top.where(key))
        elif key == "groups" and value is None:
            raise error_at(top, (key,), "groups: null would delete every group; delete groups one by one")
        elif value is None:
            out.pop(key, None)
        else:
            _copy_into(out, key, deep_merge(out.get(key), value), top.where(key))
    return out


def union_fragments(docs: list[LocDict]) -> LocDict:
    """Base documents of one directory, unioned; a name defined twice is an error naming both places."""
    if not docs:
        return LocDict()
    out = LocDict(origin=docs[0].origin)
    for doc in docs:
        for key, value in doc.items():
            if key == "extends":
                raise error_at(doc, (key,), "extends is only allowed in environment overlays (env/<name>.yaml)")
            if key in SCALARS:
                if key in out and out[key] != value:
                    file, line = out.where(key)
                    raise error_at(doc, (key,), f"{key} {value!r} conflicts with {out[key]!r} set at {file}:{line}")
                _copy_into(out, key, value, doc.where(key))
            elif key == "groups" and isinstance(value, LocDict):
                groups = out.setdefault("groups", LocDict(origin=doc.where(key)))
                out.key_origins.setdefault("groups", doc.where(key))
                for name, group in value.items():
                    if name in groups:
                        file, line = groups.where(name)
                        raise error_at(value, (name,), f"duplicate group {name!r} (first defined at {file}:{line})")
                    _copy_into(groups, name, group, value.where(name))
            elif key in NAMED_LISTS and isinstance(value, LocList):
                items = out.setdefault(key, LocList(origin=doc.where(key)))
                out.key_origins.setdefault(key, doc.where(key))
                for i, item in enumerate(value):
                    items.append(item)
                    items.item_origins.append(value.where(i))
            else:
                _copy_into(out, key, value, doc.where(key))
    return out


def _read_overlay(path: Path) -> LocDict:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read overlay: {exc.strerror}", Location(file=str(path))) from None
    docs = load_located(text, str(path))
    if len(docs) != 1 or not isinstance(docs[0], LocDict):
        raise InputError("an overlay file holds exactly one mapping", Location(file=str(path)))
    return docs[0]


def overlay_chain(env_dir: Path, env: str) -> list[LocDict]:
    """The overlays to apply for `env`, innermost first (`extends` targets before the overlay itself)."""
    chain: list[LocDict] = []
    done: set[str] = set()

    def visit(name: str, stack: list[str], cause: tuple[LocDict, tuple[str | int, ...]] | None) -> None:
        if name in stack:
            cycle = " -> ".join([*stack[stack.index(name):], name])
            msg = f"overlay cycle: {cycle}"
            raise error_at(cause[0], cause[1], msg) if cause else InputError(msg)
        if name in done:
            return
        path = env_dir / f"{name}.yaml"
        if not path.is_file():
            msg = f"no overlay {name!r} (looked for {path})"
            raise error_at(cause[0], cause[1], msg) if cause else InputError(msg)
        doc = _read_overlay(path)
        parents = doc.get("extends") or []
        parents_list = [parents] if isinstance(parents, str) else list(parents)
        for i, parent in enumerate(parents_list):
            where: tuple[str | int, ...] = ("extends",) if isinstance(parents, str) else ("extends", i)
            visit(str(parent), [*stack, name], (doc, where))
        done.add(name)
        chain.append(doc)

    visit(env, [], None)
    return chain
