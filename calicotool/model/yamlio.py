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


def load_text(text: str, file: str | None = None) -> Iterator[tuple[int, int, Any]]:
    """Yield (document index, first line, parsed document) for every non-empty document in `text`.

    Raises InputError with file:line:column on a syntax error."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        problem = exc.problem or str(exc)
        raise InputError(f"malformed YAML: {problem}", Location(file=file, line=line, column=col)) from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", Location(file=file)) from None
    constructor = _Loader("")
    for index, node in enumerate(nodes):
        if node is None:
            continue
        try:
            doc = constructor.construct_document(node)
        except yaml.YAMLError as exc:  # pragma: no cover - compose succeeded, construct rarely fails
            raise InputError(f"malformed YAML: {exc}", Location(file=file, document=index)) from None
        if doc is None:
            continue
        yield index, node.start_mark.line + 1, doc


def load_one(text: str | bytes) -> Any:
    """Fast path for files known to hold one document (the directory datastore's own files)."""
    return yaml.load(text, Loader=_Loader)


def line_of(text: str, document: int, path: list[str | int]) -> int | None:
    """Best-effort line number of `path` (keys / list indexes) inside document `document` of `text`."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.YAMLError:
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
