"""Where the evaluator's resources come from: a rule set (through the generator), manifest files, or a list
already read from a datastore. Reading input files is the only I/O here."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from calicotool.errors import InputError
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import Endpoint
from calicotool.policy.evaluator import PolicySet

# Kinds the evaluator reads from a datastore.
EVAL_KINDS = ("Tier", "GlobalNetworkPolicy", "NetworkPolicy", "StagedGlobalNetworkPolicy", "StagedNetworkPolicy",
              "GlobalNetworkSet", "NetworkSet", "HostEndpoint", "FelixConfiguration")


@dataclass
class EvalSource:
    policy_set: PolicySet
    groups: Callable[[], Sequence[Endpoint]] | None = None  # the rule set's groups, one endpoint each


def _generator() -> ModuleType:
    try:
        return importlib.import_module("calicotool.policy.generate")
    except ImportError as exc:
        raise InputError(f"--policies needs the rule-set generator (calicotool.policy.generate): {exc}") from None


def _api(name: str, modules: tuple[str, ...]) -> Any:
    for module in modules:
        try:
            found = getattr(importlib.import_module(module), name, None)
        except ImportError:
            continue
        if found is not None:
            return found
    raise InputError(f"the rule-set tooling does not offer {name}() yet")


def _representatives(paths: list[Path], env: str | None) -> Callable[[], Sequence[Endpoint]]:
    def groups() -> Sequence[Endpoint]:
        load = _api("load_ruleset", ("calicotool.policy.generate", "calicotool.policy.loader"))
        rep = _api("representative_endpoints", ("calicotool.policy.generate", "calicotool.policy.endpoints"))
        return list(rep(load(paths, env)))

    return groups


def from_policies(paths: list[Path], env: str | None = None, staged: bool = False) -> EvalSource:
    gen = _generator()
    resources = gen.generate_resources(paths, env=env, staged=staged)
    return EvalSource(PolicySet(resources), _representatives(paths, env))


def from_manifests(paths: list[Path]) -> EvalSource:
    from calicotool.model.loader import load_paths

    return EvalSource(PolicySet([lr.resource for lr in load_paths(paths)]))


def from_resources(resources: Sequence[Resource]) -> EvalSource:
    return EvalSource(PolicySet(resources))
