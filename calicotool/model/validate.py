"""One entry point that says whether Calico would accept a resource, and exactly where it would not."""

from __future__ import annotations

from calicotool.errors import InputError, Location
from calicotool.model import checks, schema
from calicotool.model.resource import Resource


def format_path(path: tuple[str | int, ...]) -> str:
    out = ""
    for step in path:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out


def validate_resource(res: Resource, location: Location | None = None) -> list[InputError]:
    """All problems with `res`: CRD schema (closed objects), CEL rules, and calicotool's own checks.

    Each InputError's location carries the field path; `error.path` keeps it as a tuple for line lookup."""
    loc = location or Location()
    try:
        info = res.info
    except InputError as exc:
        return [InputError(exc.message, Location(loc.file, loc.document, loc.line, "kind"))]
    doc = res.to_dict()
    problems: list[tuple[tuple[str | int, ...], str]] = []
    problems += [(p.path, p.message) for p in schema.schema_problems(info.name, doc)]
    if not problems:  # CEL rules assume a schema-valid object
        problems += [(p.path, p.message) for p in schema.cel_problems(info.name, doc)]
    problems += list(checks.check_name(info, res.metadata))
    problems += list(checks.check_labels(res.metadata))
    problems += list(checks.check_selectors(res.spec, ("spec",)))
    problems += list(checks.check_spec(info, res.spec))
    out: list[InputError] = []
    seen: set[tuple[tuple[str | int, ...], str]] = set()
    for path, message in problems:
        if (path, message) in seen:
            continue
        seen.add((path, message))
        err = InputError(
            f"{info.kind} {res.name or '<unnamed>'}: {message}",
            Location(loc.file, loc.document, loc.line, format_path(path) or None),
        )
        err.path = path  # type: ignore[attr-defined]
        out.append(err)
    return out
