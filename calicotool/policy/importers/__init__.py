"""Importers: cloud firewall exports and Kubernetes NetworkPolicies -> rule-set documents."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from calicotool.errors import InputError, Location
from calicotool.policy.importers.aws import import_aws
from calicotool.policy.importers.common import ImportResult
from calicotool.policy.importers.gcp import import_gcp
from calicotool.policy.importers.k8s import import_k8s

__all__ = ["ImportResult", "import_aws", "import_file", "import_gcp", "import_k8s"]


def import_file(source: str, path: Path, namespace: str = "default") -> ImportResult:
    """Read `path` and convert it with the `source` importer (aws, gcp, k8s)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", Location(file=str(path))) from None
    try:
        if source == "k8s":
            docs = [d for d in yaml.safe_load_all(text) if d is not None]
            result = import_k8s(docs, namespace)
        else:
            data = json.loads(text)
            result = import_aws(data, namespace) if source == "aws" else import_gcp(data, namespace)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON: {exc.msg}", Location(file=str(path), line=exc.lineno, column=exc.colno)) \
            from None
    except yaml.YAMLError as exc:
        raise InputError(f"malformed YAML: {exc}", Location(file=str(path))) from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"unexpected {source} export shape: {type(exc).__name__}: {exc}",
                         Location(file=str(path))) from None
    except InputError as exc:
        if exc.location is None:
            raise InputError(exc.message, Location(file=str(path))) from None
        raise
    return result
