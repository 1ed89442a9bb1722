"""What `policy explain` and `policy matrix` evaluate: the shared input options (a rule set, manifests, or the
datastore) and the one function that turns them into an EvalSource."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from calicotool.cli.context import AppContext
from calicotool.errors import InputError
from calicotool.evaluate.source import EvalSource, from_manifests, from_policies, from_store
from calicotool.evaluate.specs import SPEC_HELP

HELP_SPEC_RICH = SPEC_HELP.replace("[", "\\[")  # Rich would read [..] as markup

PoliciesOption = Annotated[
    list[Path] | None,
    typer.Option("--policies", "-p", help="Rule-set files/directories (policies/): evaluate what they generate."),
]
EnvOption = Annotated[
    str | None, typer.Option("--env", "-e", help="Environment overlay of the rule set (dev, prod...).")
]
ManifestsOption = Annotated[
    list[Path] | None,
    typer.Option("--manifests", "-m",
                 help="Calico (and Kubernetes NetworkPolicy) manifests to evaluate; with v1 Pods, Namespaces, "
                      "ServiceAccounts or Calico WorkloadEndpoints, Profiles: the cluster's own endpoints."),
]
StagedOption = Annotated[bool, typer.Option("--staged", help="Generate the rule set as staged policies (preview).")]


def eval_source(app: AppContext, policies: list[Path] | None, env: str | None, manifests: list[Path] | None,
                staged: bool) -> EvalSource:
    """The evaluator's input: a rule set, manifest files, or (neither given) the datastore."""
    if policies and manifests:
        raise InputError("give --policies or --manifests, not both")
    if policies:
        return from_policies(list(policies), env, staged)
    if manifests:
        return from_manifests(list(manifests))
    return from_store(app.store())
