"""Where the evaluator's resources come from: a rule set (through the generator), manifest files, or a datastore
(read through its Store). Reading input files and the store's list calls are the only I/O here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from calicotool.errors import DatastoreError, InputError
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import Endpoint
from calicotool.policy.evaluator import PolicySet

if TYPE_CHECKING:
    from calicotool.datastore.base import Store

# Kinds the evaluator reads from a datastore.
EVAL_KINDS = ("Tier", "GlobalNetworkPolicy", "NetworkPolicy", "StagedGlobalNetworkPolicy", "StagedNetworkPolicy",
              "GlobalNetworkSet", "NetworkSet", "HostEndpoint", "FelixConfiguration")

# Kubernetes kinds Calico enforces too; a datastore without them (etcd) answers InputError, which is not fatal.
K8S_EVAL_KINDS = ("KubernetesNetworkPolicy",)


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


def from_store(store: Store) -> EvalSource:
    """Everything the evaluator reads from a datastore, Kubernetes NetworkPolicies included where it keeps them."""
    resources = [res for kind in EVAL_KINDS for res in store.list(kind)]
    notes: list[str] = []
    namespaces = getattr(store, "namespaces", None)  # the kubernetes datastore: Namespace labels for selectors
    if callable(namespaces):
        try:
            resources = list(namespaces()) + resources
        except DatastoreError as exc:  # e.g. no RBAC to list namespaces: selectors see only the name label
            notes.append(f"Namespace labels not read ({exc.message}): namespaceSelectors see only the namespace name")
    for kind in K8S_EVAL_KINDS:
        try:
            resources.extend(store.list(kind))
        except InputError:
            # Only etcd refuses the kind, and nothing is missing there: Calico's kube-controllers (policy controller)
            # copies each Kubernetes NetworkPolicy into etcd as a Calico NetworkPolicy, read above. No warning.
            pass
    source = from_resources(resources)
    source.policy_set.warnings.extend(notes)
    return source
