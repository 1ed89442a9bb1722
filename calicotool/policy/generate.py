"""Rule sets -> Calico Resources through the jinja2 templates in calicotool/templates/policy, then the GitOps
file layout (one resource per file, numbered so tiers come first, plus kustomization.yaml). Pure apart from
reading the rule-set files and the packaged templates; writing the directory is output_dir.py's job.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2
import yaml

from calicotool.errors import ValidationFailed
from calicotool.model.resource import MANAGED_BY_LABEL, MANAGED_BY_VALUE, Resource
from calicotool.policy.compile import CompileOptions, ObjectContext, build_contexts
from calicotool.policy.endpoints import representative_endpoints
from calicotool.policy.loader import load_ruleset
from calicotool.policy.spec import RULESET_LABEL, RuleSet
from calicotool.policy.validate_rules import check_generated

__all__ = ["generate_resources", "load_ruleset", "representative_endpoints", "render_ruleset", "output_files",
           "SYNC_WAVE_ANNOTATION", "SYNC_WAVES", "POLICY_PRUNE_KINDS"]

SYNC_WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
# Tiers first, then what policies refer to, then policies; host endpoints last, because a HostEndpoint without
# its policies in place cuts the host off (default deny apart from failsafe ports).
SYNC_WAVES = {"Tier": -3, "GlobalNetworkSet": -2, "NetworkSet": -2, "GlobalNetworkPolicy": -1, "NetworkPolicy": -1,
              "StagedGlobalNetworkPolicy": -1, "StagedNetworkPolicy": -1, "HostEndpoint": 0}
POLICY_PRUNE_KINDS = ("Tier", "GlobalNetworkSet", "NetworkSet", "GlobalNetworkPolicy", "NetworkPolicy",
                      "StagedGlobalNetworkPolicy", "StagedNetworkPolicy", "HostEndpoint")
try:
    _YAML_LOADER: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _YAML_LOADER = yaml.SafeLoader


@functools.lru_cache(maxsize=1)
def template_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("calicotool", "templates/policy"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
    )


def _render(ctx: ObjectContext, rs: RuleSet) -> Resource:
    labels = {MANAGED_BY_LABEL: MANAGED_BY_VALUE, RULESET_LABEL: rs.name, **ctx.values.get("labels", {})}
    annotations = {SYNC_WAVE_ANNOTATION: str(SYNC_WAVES.get(ctx.kind, 0))}
    if ctx.values.get("description"):
        annotations["calicotool.io/description"] = str(ctx.values["description"])
    variables = {**ctx.values, "kind": ctx.kind, "name": ctx.name, "namespace": ctx.namespace,
                 "labels": dict(sorted(labels.items())), "annotations": dict(sorted(annotations.items()))}
    text = template_env().get_template(ctx.template).render(**variables)
    try:
        doc = yaml.load(text, Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:  # a template bug, not user input
        raise RuntimeError(f"template {ctx.template} rendered invalid YAML for {ctx.kind}/{ctx.name}: {exc}") from exc
    return Resource.from_dict(doc)


def render_ruleset(rs: RuleSet, calico_version: str = "3.32", staged: bool = False,
                   validate: bool = True) -> list[Resource]:
    """Render every object of `rs`; with `validate`, raise ValidationFailed if any would be rejected."""
    opts = CompileOptions(calico_version=calico_version, staged=staged)
    opts.version  # noqa: B018 - reject a malformed version before doing any work
    contexts = build_contexts(rs, opts)
    resources = [_render(ctx, rs) for ctx in contexts]
    if validate:
        errors = check_generated(resources, opts, [ctx.location for ctx in contexts])
        if errors:
            raise ValidationFailed(errors)
    return resources


def generate_resources(paths: list[Path], env: str | None = None, calico_version: str = "3.32",
                       staged: bool = False) -> list[Resource]:
    """Load the rule sets under `paths` (layering `env`) and return the Calico resources they describe."""
    return render_ruleset(load_ruleset([Path(p) for p in paths], env), calico_version, staged)


def resource_filename(index: int, res: Resource) -> str:
    ns = f"{res.namespace}." if res.namespace else ""
    return f"{index:04d}-{res.kind.lower()}-{ns}{res.name}.yaml"


def output_files(resources: list[Resource], ruleset: str = "", env: str | None = None) -> dict[str, str]:
    """The GitOps directory as {relative path: text}: one file per resource, numbered in apply order, plus
    kustomization.yaml listing them in that order. Deterministic for the same input."""
    from calicotool.model import yamlio

    ordered = sorted(enumerate(resources), key=lambda p: (SYNC_WAVES.get(p[1].kind, 0), p[0]))
    files: dict[str, str] = {}
    for i, (_, res) in enumerate(ordered):
        files[resource_filename(i, res)] = yamlio.dump(res.to_dict(server_fields=False))
    kust = template_env().get_template("kustomization.yaml.j2").render(files=list(files), ruleset=ruleset, env=env)
    files["kustomization.yaml"] = kust
    return files
