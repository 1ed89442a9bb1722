"""Reading rule sets from `policies/`: find the files, layer environment overlays, check the JSON Schema, build
the model. Every problem is collected and raised together as ValidationFailed (exit 2), each with file, line
and field path.

Layout: a directory's `*.yaml` files (recursively, skipping `env/` and hidden directories) are base files;
`--env NAME` layers `<dir>/env/NAME.yaml` over the base files of that directory.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from calicotool.errors import InputError, Location, ValidationFailed
from calicotool.policy.located import LocDict, error_at, load_located, plain
from calicotool.policy.overlay import apply_overlay, overlay_chain, union_fragments
from calicotool.policy.parse import build_ruleset
from calicotool.policy.spec import RuleSet

SUFFIXES = (".yaml", ".yml")
ENV_DIR = "env"


@lru_cache(maxsize=1)
def ruleset_schema() -> dict[str, Any]:
    text = resources.files("calicotool.policy").joinpath("ruleset.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def ruleset_files(path: Path) -> list[Path]:
    """Base rule-set files under `path` (itself if a file), sorted."""
    if not path.exists():
        raise InputError(f"no such file or directory: {path}")
    if path.is_file():
        return [path]
    out = []
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).parts
        if p.is_file() and p.suffix in SUFFIXES and p.name not in ("kustomization.yaml", "kustomization.yml") \
                and not any(part.startswith(".") or part == ENV_DIR for part in rel[:-1]) \
                and not p.name.startswith("."):
            out.append(p)
    return out


def _read(path: Path) -> list[LocDict]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", Location(file=str(path))) from None
    docs = load_located(text, str(path))
    for doc in docs:
        if not isinstance(doc, LocDict):
            raise InputError("a rule-set document must be a mapping", Location(file=str(path), line=doc.origin[1]
                                                                             if hasattr(doc, "origin") else None))
    return docs


def schema_errors(doc: LocDict) -> list[InputError]:
    """JSON Schema problems (unknown fields, wrong types, bad enums), each located at its line."""
    validator = jsonschema.Draft202012Validator(ruleset_schema())
    out = []
    for top in sorted(validator.iter_errors(plain(doc)), key=lambda e: [str(p) for p in e.absolute_path]):
        err = _innermost(top)
        path = tuple(err.absolute_path)
        if err.validator == "additionalProperties":
            extra = sorted(set(err.instance) - set(err.schema.get("properties", {})))
            for key in extra:
                out.append(error_at(doc, (*path, key), f"unknown field {key!r}"))
            continue
        out.append(error_at(doc, path, err.message))
    return out


def _innermost(err: jsonschema.ValidationError) -> jsonschema.ValidationError:
    """For anyOf/oneOf failures, the branch error that says the most (skipping 'is not of type null')."""
    while err.validator in ("anyOf", "oneOf") and err.context:
        useful = [e for e in err.context if not (e.validator == "type" and e.validator_value == "null")]
        err = max(useful or err.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    return err


def resolve_documents(paths: list[Path], env: str | None) -> list[LocDict]:
    """One merged document per directory (or file) named in `paths`, with `env` overlays applied."""
    merged: list[LocDict] = []
    found_env = env is None
    for path in paths:
        files = ruleset_files(path)
        if not files:
            raise InputError("no rule-set files (*.yaml) found", Location(file=str(path)))
        by_dir: dict[Path, list[Path]] = {}
        for f in files:
            by_dir.setdefault(f.parent, []).append(f)
        for directory, dir_files in sorted(by_dir.items()):
            docs = [doc for f in dir_files for doc in _read(f)]
            base = union_fragments(docs)
            if env is not None and (directory / ENV_DIR / f"{env}.yaml").is_file():
                found_env = True
                for overlay in overlay_chain(directory / ENV_DIR, env):
                    base = apply_overlay(base, overlay)
            merged.append(base)
    if not found_env:
        raise InputError(f"no overlay for environment {env!r} (expected env/{env}.yaml next to the rule set)")
    return merged


def _push_namespace(doc: LocDict) -> None:
    """Before unioning several directories, give their label groups their own directory's default namespace."""
    ns = doc.pop("namespace", None)
    doc.pop("name", None)
    groups = doc.get("groups")
    if ns is None or not isinstance(groups, LocDict):
        return
    for group in groups.values():
        if isinstance(group, LocDict) and "selector" in group and "namespace" not in group \
                and "namespaceSelector" not in group:
            group["namespace"] = ns
            group.key_origins["namespace"] = doc.where("namespace")


def load_ruleset(paths: list[Path], env: str | None = None) -> RuleSet:
    """Load, layer, validate and build the rule set from `paths`; raise ValidationFailed with every problem."""
    docs = resolve_documents([Path(p) for p in paths], env)
    if len(docs) > 1:
        for d in docs:
            _push_namespace(d)
    doc = union_fragments(docs) if len(docs) > 1 else docs[0]
    errors = schema_errors(doc)
    if errors:
        raise ValidationFailed(errors)
    ruleset, problems = build_ruleset(doc, env)
    if problems:
        raise ValidationFailed(problems)
    ruleset.sources = tuple(str(f) for p in paths for f in ruleset_files(Path(p)))
    return ruleset


def check_document(doc: dict[str, Any], file: str) -> list[InputError]:
    """Every problem of one rule-set document held in memory (an importer's output), as load_ruleset sees it."""
    from calicotool.model import yamlio

    located = union_fragments(load_located(yamlio.dump(doc), file))
    errors = schema_errors(located)
    return errors or build_ruleset(located)[1]
