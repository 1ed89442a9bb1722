"""Where the evaluator's resources and endpoints come from: a rule set (through the generator), manifest files, or
a datastore (read through its Store). Reading input files and the store's list calls are the only I/O here.

Manifests and datastores also give the cluster's own endpoints (workloads.py): v1 Pods, Namespaces and
ServiceAccounts (files, the Kubernetes API) or Calico WorkloadEndpoints and Profiles (files, etcd).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from calicotool.errors import InputError, Location, ValidationFailed
from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.workloads import Workloads, build_workloads, is_workload_document
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import Endpoint

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
    workloads: Workloads = field(default_factory=Workloads)  # the cluster's own pods / workload endpoints


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
    resources, docs = read_manifests(paths)
    return _with_workloads(resources, docs, [])


def read_manifests(paths: list[Path]) -> tuple[list[Resource], list[dict[str, Any]]]:
    """Calico / Kubernetes policy resources (validated, located errors) and the raw workload documents."""
    from calicotool.model.loader import load_paths, manifest_files, parse_documents, resource_from_document

    plain: list[Path] = []
    resources: list[Resource] = []
    docs: list[dict[str, Any]] = []
    errors: list[InputError] = []
    for path in paths:
        for file in manifest_files(path):
            try:
                parsed = parse_documents(file.read_text(encoding="utf-8"), str(file))
            except (OSError, UnicodeDecodeError) as exc:
                errors.append(InputError(f"cannot read: {exc}", Location(file=str(file))))
                continue
            except InputError as exc:
                errors.append(exc)
                continue
            if not any(is_workload_document(doc) for doc, _ in parsed):
                plain.append(file)  # the common case: the loader's own checks, duplicates and line numbers
                continue
            for doc, loc in parsed:
                if is_workload_document(doc):
                    docs.append(doc)
                    continue
                try:
                    resources.append(resource_from_document(doc, loc))
                except ValidationFailed as exc:
                    errors.extend(exc.errors)
                except InputError as exc:
                    errors.append(exc)
    try:
        resources = [lr.resource for lr in load_paths(plain)] + resources if plain else resources
    except ValidationFailed as exc:
        errors = list(exc.errors) + errors
    if errors:
        raise ValidationFailed(errors)
    return resources, docs


def from_resources(resources: Sequence[Resource]) -> EvalSource:
    return EvalSource(PolicySet(resources))


def _with_workloads(resources: Sequence[Resource], docs: list[dict[str, Any]], notes: list[str]) -> EvalSource:
    """A source whose PolicySet also knows the namespaces the workload documents describe."""
    workloads = build_workloads(docs)
    known = {r.name for r in resources if r.kind == "Namespace"}
    extra = [Resource.new("Namespace", ns, labels=labels or None, api_version="v1")
             for ns, labels in sorted(workloads.namespaces.items()) if ns not in known]
    source = EvalSource(PolicySet([*extra, *resources]), workloads=workloads)
    source.policy_set.warnings.extend(notes)
    if workloads.skipped:
        source.policy_set.warnings.append(f"{len(workloads.skipped)} pod(s) without a workload endpoint left out "
                                          f"(e.g. {workloads.skipped[0]})")
    return source


def from_store(store: Store) -> EvalSource:
    """Everything the evaluator reads from a datastore, Kubernetes NetworkPolicies included where it keeps them,
    and the cluster's endpoints (Pods / Namespaces / ServiceAccounts, or WorkloadEndpoints / Profiles)."""
    from calicotool.datastore.endpoints_source import workload_documents

    resources = [res for kind in EVAL_KINDS for res in store.list(kind)]
    notes: list[str] = []
    for kind in K8S_EVAL_KINDS:
        try:
            resources.extend(store.list(kind))
        except InputError:
            # Only etcd refuses the kind, and nothing is missing there: Calico's kube-controllers (policy controller)
            # copies each Kubernetes NetworkPolicy into etcd as a Calico NetworkPolicy, read above. No warning.
            pass
    docs, missing = workload_documents(store)
    return _with_workloads(resources, docs, notes + missing)
