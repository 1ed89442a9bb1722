"""Where the evaluator's resources come from: a rule set (through the generator), manifest files, or a list
already read from a datastore. Reading input files is the only I/O here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

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


def from_policies(paths: list[Path], env: str | None = None, staged: bool = False) -> EvalSource:
    """Evaluate what the rule sets under `paths` generate; the rule set is read once and also gives the groups."""
    from calicotool.policy.endpoints import representative_endpoints
    from calicotool.policy.generate import render_ruleset
    from calicotool.policy.loader import load_ruleset

    ruleset = load_ruleset([Path(p) for p in paths], env)
    resources = render_ruleset(ruleset, staged=staged)

    def groups() -> Sequence[Endpoint]:
        return list(representative_endpoints(ruleset))

    return EvalSource(PolicySet(resources), groups)


def from_manifests(paths: list[Path]) -> EvalSource:
    from calicotool.model.loader import load_paths

    return EvalSource(PolicySet([lr.resource for lr in load_paths(paths)]))


def from_resources(resources: Sequence[Resource]) -> EvalSource:
    return EvalSource(PolicySet(resources))
