"""`calicotool policy validate|generate|lint|import|diff|apply`: rule sets in `policies/` as Calico resources.

Thin: each command resolves paths, calls one function of calicotool.policy, renders the result. Writing the
generated directory is calicotool.policy.output_dir's job; which live objects a rule set owns is policy.ownership's.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from calicotool.cli.context import AppContext, app_context
from calicotool.cli.exitstatus import ExitStatus
from calicotool.cli.output import (
    DocumentFormat,
    DocumentOutputOption,
    OutputFormat,
    OutputOption,
    print_text,
    render_data,
    to_yaml_documents,
)
from calicotool.datastore.plan import ApplyPlan
from calicotool.errors import Findings, InputError, Location
from calicotool.model.resource import Resource
from calicotool.wording import plural

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(metavar="PATH", help="Rule-set files or directories (default: ./policies).", show_default=False),
]
EnvOption = Annotated[str | None, typer.Option("--env", "-e", help="Layer env/<ENV>.yaml overlays (e.g. prod).")]
VersionOption = Annotated[str, typer.Option("--calico-version", help="Target Calico MAJOR.MINOR (policy naming: "
                                                                     "'<tier>.<name>' up to 3.31, plain from 3.32).")]
TargetVersionOption = Annotated[str | None, typer.Option(
    "--calico-version", help="Target Calico MAJOR.MINOR (default: the version the datastore reports, else 3.32; one "
                             "that contradicts the datastore's naming rule is refused).", show_default=False)]
StagedOption = Annotated[bool, typer.Option("--staged", help="Emit StagedNetworkPolicy/StagedGlobalNetworkPolicy.")]


def _paths(app: AppContext, paths: list[Path] | None) -> list[Path]:
    chosen = list(paths or [Path("policies")])
    return [p if p.is_absolute() else app.env.cwd / p for p in chosen]


def _generate(app: AppContext, paths: list[Path] | None, env: str | None, version: str | None,
              staged: bool) -> tuple[list[Resource], str]:
    """Load the rule sets (every input error first), then render them for `version`; None means the version the
    datastore reports (see _target_version)."""
    from calicotool.policy.generate import render_ruleset
    from calicotool.policy.loader import load_ruleset

    ruleset = load_ruleset(_paths(app, paths), env)
    return render_ruleset(ruleset, version or _target_version(app, None), staged), ruleset.name


def validate(ctx: typer.Context, paths: PathsArg = None, env: EnvOption = None,
             calico_version: VersionOption = "3.32", output: OutputOption = OutputFormat.table) -> None:
    """Check rule sets (schema, references, ports, selectors) and the objects they generate. Exit 2 if invalid.

    Errors go to stderr, one located line each, in every format; -o json|yaml prints the verdict on stdout."""
    app = app_context(ctx)
    resources, name = _generate(app, paths, env, calico_version, False)
    if output == OutputFormat.table:
        app.info(f"rule set {name}: ok ({plural(len(resources), 'object')})")
        return
    kinds: dict[str, int] = {}
    for res in resources:
        kinds[res.kind] = kinds.get(res.kind, 0) + 1
    render_data(app, {"ruleset": name, "valid": True, "env": env, "calicoVersion": calico_version,
                      "objects": len(resources), "kinds": kinds}, output)


def generate(
    ctx: typer.Context,
    paths: PathsArg = None,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", "-o", help="Write one file per resource plus "
                                                 "kustomization.yaml here (default: print a YAML stream).")] = None,
    env: EnvOption = None,
    calico_version: VersionOption = "3.32",
    staged: StagedOption = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="With -o: list what would change, write nothing.")] = False,
) -> None:
    """Generate Calico manifests (Tier, (Global)NetworkPolicy, (Global)NetworkSet, HostEndpoint) from rule sets."""
    from calicotool.policy.generate import output_files
    from calicotool.policy.output_dir import planned_changes, write_output_dir

    app = app_context(ctx)
    resources, name = _generate(app, paths, env, calico_version, staged)
    if out_dir is None:
        print_text(app, to_yaml_documents([r.to_dict(server_fields=False) for r in resources]))
        return
    target = out_dir if out_dir.is_absolute() else app.env.cwd / out_dir
    if str(out_dir) in ("yaml", "json", "table") and not target.exists():
        raise InputError(f"-o is generate's output directory, not a format: refusing to create ./{out_dir}/ "
                         f"(without -o, generate prints a YAML stream; give a longer path, e.g. {target}, to mean the directory)",
                         Location(field="--out-dir"))
    files = output_files(resources, name, env)
    if dry_run:
        changed, removed = planned_changes(target, files)
    else:
        changed, removed = write_output_dir(target, files)
    verb = "would write" if dry_run else "wrote"
    for file in changed:
        print_text(app, f"{verb} {target / file}")
    for file in removed:
        print_text(app, f"{'would remove' if dry_run else 'removed'} {target / file}")
    app.info(f"{plural(len(resources), 'object')}, {plural(len(changed), 'file')} "
             f"{'to change' if dry_run else 'changed'}, {len(removed)} removed")


class ImportSource(str, Enum):
    aws = "aws"
    gcp = "gcp"
    k8s = "k8s"


def import_(
    ctx: typer.Context,
    source: Annotated[ImportSource, typer.Argument(help="aws (describe-security-groups JSON), gcp (firewall-rules "
                                                        "list --format=json) or k8s (NetworkPolicy YAML).")],
    file: Annotated[Path, typer.Argument(help="The export to convert.")],
    namespace: Annotated[str, typer.Option("--namespace", "-n", help="Namespace for imported groups.")] = "default",
    output: DocumentOutputOption = DocumentFormat.yaml,
) -> None:
    """Convert a cloud firewall export into a rule set; print it; report what cannot be expressed on stderr."""
    from calicotool.policy.importers import import_file

    app = app_context(ctx)
    path = file if file.is_absolute() else app.env.cwd / file
    result = import_file(source.value, path, namespace)
    for note in result.notes:
        app.warn(note)
    render_data(app, result.document, output)


def lint(
    ctx: typer.Context,
    paths: PathsArg = None,
    env: EnvOption = None,
    endpoints: Annotated[Path | None, typer.Option("--endpoints", help="YAML list of known endpoints ({namespace, "
                                                   "labels}) to check that every group selects something.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Find shadowed rules, empty groups, open sensitive ports, missing default deny... Exit 1 on findings."""
    from calicotool.policy.lint import lint_ruleset, load_known_endpoints
    from calicotool.policy.loader import load_ruleset

    app = app_context(ctx)
    ruleset = load_ruleset(_paths(app, paths), env)
    known = load_known_endpoints(endpoints if endpoints is None or endpoints.is_absolute()
                                 else app.env.cwd / endpoints) if endpoints else None
    findings = lint_ruleset(ruleset, known)
    rows = [(f.check, str(f.location), f.message) for f in findings]
    data = [{"check": f.check, "location": str(f.location), "message": f.message} for f in findings]
    if findings or output != OutputFormat.table:
        render_data(app, data, output, columns=["CHECK", "WHERE", "FINDING"], rows=rows)
    if findings:
        raise Findings(plural(len(findings), "lint finding"))
    app.info("no findings")


def _plan(app: AppContext, resources: list[Resource], ruleset: str, prune: bool) -> tuple[ApplyPlan, list[Resource]]:
    """Plan against the store: read the policy kinds once, let the policy package decide what this rule set owns."""
    from calicotool.datastore.sync import fetch_current
    from calicotool.policy.generate import POLICY_PRUNE_KINDS
    from calicotool.policy.ownership import plan_ruleset

    return plan_ruleset(fetch_current(app.store(), POLICY_PRUNE_KINDS), resources, ruleset, prune)


def _target_version(app: AppContext, explicit: str | None) -> str:
    """The Calico version to generate for when writing to the datastore (see model.policy_names)."""
    from calicotool.datastore.calico_version import reported_calico_version
    from calicotool.datastore.directory import DirectoryStore
    from calicotool.model.policy_names import choose_calico_version

    store = app.store()
    version, note = choose_calico_version(explicit, reported_calico_version(store))
    if note and not isinstance(store, DirectoryStore):  # a GitOps directory has no calico-node to report one
        app.info(note)
    return version


def diff(ctx: typer.Context, paths: PathsArg = None, env: EnvOption = None, calico_version: TargetVersionOption = None,
         staged: StagedOption = False,
         prune: Annotated[bool, typer.Option("--prune", help="Also show managed objects apply --prune would delete.")]
         = False) -> None:
    """Unified diff between the datastore and the generated policy. Exit 1 when they differ."""
    from calicotool.datastore.plan import plan_diff

    app = app_context(ctx)
    if calico_version is not None:
        _target_version(app, calico_version)  # refuse a contradiction before reading rule sets
    resources, name = _generate(app, paths, env, calico_version, staged)
    plan, current = _plan(app, resources, name, prune)
    text = plan_diff(plan, current)
    if text:
        print_text(app, text)
    raise typer.Exit(ExitStatus.FINDINGS if plan.changes else ExitStatus.OK)


def apply(ctx: typer.Context, paths: PathsArg = None, env: EnvOption = None, calico_version: TargetVersionOption = None,
          staged: StagedOption = False,
          dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
          prune: Annotated[bool, typer.Option("--prune", help="Delete objects this rule set generated before but no "
                                                              "longer produces (never unmanaged objects).")] = False,
          output: OutputOption = OutputFormat.table) -> None:
    """Apply the generated policy to the datastore (all-or-nothing where the backend allows)."""
    from calicotool.cli.generic import report_plan, write_changes
    from calicotool.cli.progress import progress_for

    app = app_context(ctx)
    with progress_for(app, "policy apply") as progress:
        progress("generating policy", 0, 0)
        if calico_version is not None:
            _target_version(app, calico_version)  # a contradiction is refused before anything else
        resources, name = _generate(app, paths, env, calico_version, staged)
        progress(f"reading current state and planning {plural(len(resources), 'object')}", 0, 0)
        plan, _ = _plan(app, resources, name, prune)
        write_changes(app.store(), plan, dry_run, progress)
    report_plan(app, plan, dry_run, output)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `policy` group."""
    app.command()(validate)
    app.command()(generate)
    app.command()(lint)
    app.command("import")(import_)
    app.command()(diff)
    app.command()(apply)

