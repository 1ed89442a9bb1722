"""YAML that remembers where every value came from, so rule-set errors can name file, line and field.

Mappings load as LocDict and sequences as LocList: plain dict/list subclasses that also carry the (file, line)
of each key or item. Merging overlays keeps those objects, so a value set by `env/prod.yaml` is reported there.
"""

from __future__ import annotations

from typing import Any

import yaml

from calicotool.errors import InputError, Location
from calicotool.model.yamlio import MAX_DEPTH, check_node, needs_safe_parser

Origin = tuple[str, int]  # (file, 1-based line)
FieldPath = tuple[str | int, ...]


class LocDict(dict[str, Any]):
    """A mapping plus where it starts (`origin`) and where each key is (`key_origins`)."""

    origin: Origin
    key_origins: dict[str, Origin]

    def __init__(self, *args: Any, origin: Origin = ("", 0), **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.origin = origin
        self.key_origins = {}

    def where(self, key: str) -> Origin:
        return self.key_origins.get(key, self.origin)


class LocList(list[Any]):
    """A sequence plus where it starts and where each item is."""

    origin: Origin
    item_origins: list[Origin]

    def __init__(self, *args: Any, origin: Origin = ("", 0)) -> None:
        super().__init__(*args)
        self.origin = origin
        self.item_origins = []

    def where(self, index: int) -> Origin:
        return self.item_origins[index] if 0 <= index < len(self.item_origins) else self.origin


def format_path(path: FieldPath) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def origin_of(root: Any, path: FieldPath) -> Origin | None:
    """(file, line) of the value at `path` under `root`, or of its nearest located ancestor."""
    node = root
    best: Origin | None = getattr(root, "origin", None)
    for step in path:
        if isinstance(node, LocDict) and isinstance(step, str):
            best = node.where(step)
            node = node.get(step)
        elif isinstance(node, LocList) and isinstance(step, int):
            best = node.where(step)
            node = node[step] if 0 <= step < len(node) else None
        else:
            break
    return best


def locate(root: Any, path: FieldPath) -> Location:
    """A Location (file, line, field path) for `path` under `root`."""
    origin = origin_of(root, path)
    file, line = origin if origin else (None, None)
    return Location(file=file or None, line=line or None, field=format_path(path) or None)


def error_at(root: Any, path: FieldPath, message: str) -> InputError:
    return InputError(message, locate(root, path))


_Base: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml composes ~10x faster, same marks


class _Loader(_Base):  # type: ignore[misc,valid-type]
    pass


class _SafeLoader(yaml.SafeLoader):
    """Pure Python: deep flow nesting raises RecursionError instead of crashing libyaml (see yamlio)."""


def _build(node: yaml.Node, loader: yaml.SafeLoader, file: str) -> Any:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out = LocDict(origin=(file, line))
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            key_line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int, float, bool)):
                raise InputError("mapping keys must be scalars", Location(file=file, line=key_line))
            key = str(key)
            if key in out:
                first = out.key_origins[key][1]
                raise InputError(f"duplicate key {key!r} (first at line {first})", Location(file=file, line=key_line))
            out[key] = _build(value_node, loader, file)
            out.key_origins[key] = (file, key_line)
        return out
    if isinstance(node, yaml.SequenceNode):
        seq = LocList(origin=(file, line))
        for item in node.value:
            seq.append(_build(item, loader, file))
            seq.item_origins.append((file, item.start_mark.line + 1))
        return seq
    return loader.construct_object(node, deep=True)


def load_located(text: str, file: str) -> list[Any]:
    """Every non-empty document in `text`, as LocDict/LocList trees; malformed YAML -> located InputError."""
    try:
        loader = _SafeLoader(text) if needs_safe_parser(text) else _Loader(text)
        docs = []
        try:
            while loader.check_node():
                node = loader.get_node()
                if node is not None:
                    check_node(node, file)  # bombs, absurd nesting, self-containing aliases
                    docs.append(_build(node, loader, file))
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise InputError(
            f"malformed YAML: {exc.problem or exc}",
            Location(file=file, line=mark.line + 1 if mark else None, column=mark.column + 1 if mark else None),
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", Location(file=file)) from None
    except RecursionError:
        raise InputError(f"YAML nested more than {MAX_DEPTH} levels deep", Location(file=file)) from None
    return [d for d in docs if d is not None]


def plain(value: Any) -> Any:
    """Strip location wrappers (for json/yaml dumping and for jsonschema)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
