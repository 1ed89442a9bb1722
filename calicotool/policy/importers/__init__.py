"""Importers: cloud firewall exports and Kubernetes NetworkPolicies -> rule-set documents."""

from __future__ import annotations

import json
from pathlib import Path

from calicotool.errors import InputError, Location
from calicotool.model import yamlio
from calicotool.policy.importers.aws import import_aws
from calicotool.policy.importers.builder import ImportResult
from calicotool.policy.importers.gcp import import_gcp
from calicotool.policy.importers.k8s import import_k8s

__all__ = ["ImportResult", "import_aws", "import_file", "import_gcp", "import_k8s"]


def import_file(source: str, path: Path, namespace: str = "default") -> ImportResult:
    """Read `path` and convert it with the `source` importer (aws, gcp, k8s)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else f"not UTF-8 text ({exc.reason} at byte {exc.start})"
        raise InputError(f"cannot read: {why}", Location(file=str(path))) from None
    try:
        if source == "k8s":
            docs = [d for _, _, d in yamlio.load_text(text, str(path))]
            result = import_k8s(docs, namespace)
        else:
            data = json.loads(text)
            yamlio.check_depth(data, str(path))
            result = import_aws(data, namespace) if source == "aws" else import_gcp(data, namespace)
    except RecursionError:
        raise InputError("nested too deeply to be an export", Location(file=str(path))) from None
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg}", Location(file=str(path), line=exc.lineno, column=exc.colno)) \
            from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"unexpected {source} export shape: {type(exc).__name__}: {exc}",
                         Location(file=str(path))) from None
    except InputError as exc:
        if exc.location is None:
            raise InputError(exc.message, Location(file=str(path))) from None
        raise
    _refuse_invalid(result, source, path)
    return result


def _refuse_invalid(result: ImportResult, source: str, path: Path) -> None:
    """Never print a rule set `policy validate` would reject (a bad CIDR, a reversed endPort range...)."""
    from calicotool.policy.loader import check_document

    errors = check_document(result.document, "<imported rule set>")
    if errors:
        first = errors[0]
        field = first.location.field if first.location is not None and first.location.field else ""
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise InputError(f"this {source} export converts to an invalid rule set: "
                         f"{field + ': ' if field else ''}{first.message}{more}", Location(file=str(path)))
