"""YAML in and out: deterministic dumps (no timestamps, declared key order, block style) and loads that keep
line numbers so errors can say where they are."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from calicotool.errors import InputError, Location

# the C loader is ~10x faster for big directories; fall back when libyaml is missing
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def dump(data: Any) -> str:
    """One YAML document, keys in insertion order (so Calico rules and apiVersion/kind/metadata/spec stay put)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)


def dump_all(docs: list[Any]) -> str:
    return "".join("---\n" + dump(d) for d in docs)


# Limits a manifest never comes near, so a crafted file cannot hang or crash the loader: aliases expanding to
# millions of nodes (the "billion laughs"), nesting that exhausts recursion, an alias that contains itself.
MAX_EXPANDED_NODES = 1_000_000
MAX_DEPTH = 200


def needs_safe_parser(text: str | bytes) -> bool:
    """True when `text` holds enough flow brackets to nest deeper than MAX_DEPTH. libyaml composes on the C
    stack, so a crafted `[[[[...` crashes the process (SIGSEGV); the pure-Python loader raises RecursionError
    instead, which load_text turns into a located error. Ordinary manifests never get near the threshold."""
    if isinstance(text, bytes):
        return text.count(b"[") + text.count(b"{") > MAX_DEPTH
    return text.count("[") + text.count("{") > MAX_DEPTH


def check_depth(value: Any, file: str | None = None, what: str = "JSON") -> None:
    """check_node for data parsed elsewhere (json.loads): refuse nesting deeper than MAX_DEPTH, iteratively."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(f"{what} nested more than {MAX_DEPTH} levels deep", Location(file=file))
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)


def _loader_for(text: str | bytes) -> Any:
    return yaml.SafeLoader if needs_safe_parser(text) else _Loader


def check_node(root: yaml.Node, file: str | None = None) -> None:
    """Refuse a composed document that is a YAML bomb, nests absurdly deep, or repeats a mapping key (kubectl
    rejects duplicate keys; silently keeping the last one hides mistakes). Iterative, so it cannot recurse."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        children = _children(node)
        if done:
            active.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            if sizes[id(node)] > MAX_EXPANDED_NODES:
                raise InputError(f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes",
                                 _where(node, file))
            continue
        if id(node) in sizes:
            continue
        if depth > MAX_DEPTH:
            raise InputError(f"YAML nested more than {MAX_DEPTH} levels deep", _where(node, file))
        if isinstance(node, yaml.MappingNode):
            _check_keys(node, file)
        active.add(id(node))
        stack.append((node, depth, True))
        for child in children:
            if id(child) in active:
                raise InputError("recursive YAML alias (a node that contains itself)", _where(child, file))
            if id(child) not in sizes:
                stack.append((child, depth + 1, False))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_keys(node: yaml.MappingNode, file: str | None) -> None:
    seen: dict[tuple[str, str], int] = {}
    for key, _ in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        if (key.tag, key.value) in seen:
            first = seen[(key.tag, key.value)]
            raise InputError(f"duplicate key {key.value!r} (first at line {first})", _where(key, file))
        seen[(key.tag, key.value)] = key.start_mark.line + 1


def _where(node: yaml.Node, file: str | None) -> Location:
    return Location(file=file, line=node.start_mark.line + 1, column=node.start_mark.column + 1)


def load_text(text: str, file: str | None = None) -> Iterator[tuple[int, int, Any]]:
    """Yield (document index, first line, parsed document) for every non-empty document in `text`.

    Raises InputError with file:line:column on a syntax error."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_loader_for(text)))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        raise InputError(f"malformed YAML: {problem}", Location(file=file, line=line, column=col)) from None
    except RecursionError:
        raise InputError(f"YAML nested more than {MAX_DEPTH} levels deep", Location(file=file)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", Location(file=file)) from None
    constructor = _Loader("")
    for index, node in enumerate(nodes):
        if node is None:
            continue
        check_node(node, file)
        try:
            doc = constructor.construct_document(node)
        except yaml.YAMLError as exc:  # pragma: no cover - compose succeeded, construct rarely fails
            raise InputError(f"malformed YAML: {exc}", Location(file=file, document=index)) from None
        if doc is None:
            continue
        yield index, node.start_mark.line + 1, doc


def load_single(text: str, file: str | None = None) -> tuple[yaml.Node | None, Any]:
    """(node, data) of the one document in `text`, for hand-written files that report errors by line (topology
    files). Composes with the pure-Python loader, then refuses what check_node refuses. Syntax errors propagate
    as yaml.YAMLError for the caller to word; nesting that exhausts the parser becomes a located InputError."""
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, None
            check_node(node, file)
            return node, loader.construct_document(node)
        finally:
            loader.dispose()
    except RecursionError:
        raise InputError("YAML nested too deeply", Location(file=file)) from None


def load_one(text: str | bytes) -> Any:
    """Fast path for files known to hold one document (the directory datastore's own files)."""
    return yaml.load(text, Loader=_loader_for(text))  # both are safe loaders


def line_of(text: str, document: int, path: list[str | int]) -> int | None:
    """Best-effort line number of `path` (keys / list indexes) inside document `document` of `text`."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_loader_for(text)))
    except (yaml.YAMLError, RecursionError):
        return None
    if document >= len(nodes) or nodes[document] is None:
        return None
    node: yaml.Node | None = nodes[document]
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(step):
                    nxt, line = v, k.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
        if node is None:
            break
    return line
