"""Top-level `get`, `apply` and `diff`, kubectl-style, over any datastore."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from calicotool.cli.context import AppContext, app_context
from calicotool.cli.exitstatus import ExitStatus
from calicotool.cli.output import OutputFormat, OutputOption, print_text, render_data, render_list, render_resources
from calicotool.cli.progress import ProgressFn, progress_for
from calicotool.datastore.base import Store
from calicotool.datastore.plan import ApplyPlan, plan_diff
from calicotool.datastore.sync import execute, plan_against
from calicotool.errors import InputError, NotFound
from calicotool.model.kinds import kind_info
from calicotool.model.loader import load_paths
from calicotool.model.resource import Resource
from calicotool.wording import plural

if TYPE_CHECKING:
    from calicotool.model.applyset import ApplySetRef

FilesOption = Annotated[
    list[Path], typer.Option("--filename", "-f", help="Manifest file or directory (repeatable).", show_default=False)
]


ApplySetOption = Annotated[
    str | None,
    typer.Option("--applyset", help="Kubernetes only: record the objects as one ApplySet (kubectl's KEP-3659 labels) "
                 "whose parent is [secret/|configmap/]NAME; with --prune, prune exactly the set's members, in every "
                 "kind it ever held.", show_default=False),
]
ApplySetNamespaceOption = Annotated[
    str, typer.Option("--applyset-namespace", help="Namespace of the ApplySet's parent.")
]


def applyset_ref(applyset: str | None, namespace: str) -> ApplySetRef | None:
    from calicotool.model.applyset import parse_ref

    return parse_ref(applyset, namespace) if applyset else None


PruneSelectorOption = Annotated[
    str | None,
    typer.Option("--selector", "-l", help="With --prune: only prune objects whose labels match (kubectl -l syntax)."),
]


def get(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="Kind, e.g. NetworkPolicy, bgppeers, Node.")],
    name: Annotated[str | None, typer.Argument(help="Object name; omit to list.")] = None,
    namespace: Annotated[str | None, typer.Option("--namespace", "-n", help="Namespace (namespaced kinds).")] = None,
    selector: Annotated[str | None, typer.Option("--selector", "-l", help="Label selector, e.g. app=web,tier!=db.")] = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Show Calico resources from the datastore."""
    app = app_context(ctx)
    info = kind_info(kind)
    store = app.store()
    if name:
        items = [store.get(info.name, name, namespace if info.namespaced else None)]
    else:
        items = store.list(info.name, namespace if info.namespaced else None, selector)
    if not items and output == OutputFormat.table:
        render_list(app, items, output, [], [], info.plural)  # the one rendering of an empty listing
        return
    render_resources(app, items, output, as_list=name is None)


def report_plan(app: AppContext, plan: ApplyPlan, dry_run: bool, output: OutputFormat) -> None:
    rows = [(c.op.value, c.resource.kind, c.resource.namespace, c.resource.name) for c in plan.changes]
    data = {
        "dryRun": dry_run,
        "summary": plan.summary(),
        "changes": [{"op": r[0], "kind": r[1], "namespace": r[2], "name": r[3]} for r in rows],
    }
    if output == OutputFormat.table:
        verb = "would " if dry_run else ""
        for op, kind, ns, name in rows:
            print_text(app, f"{kind}/{ns + '/' if ns else ''}{name} {verb}{op}")
        s = plan.summary()
        print_text(
            app,
            f"{'(dry run) ' if dry_run else ''}{s['create']} created, {s['update']} updated, "
            f"{s['delete']} deleted, {s['unchanged']} unchanged",
        )
    else:
        render_data(app, data, output)


def apply_resources(
    app: AppContext,
    desired: list[Resource],
    dry_run: bool,
    prune: bool,
    output: OutputFormat,
    prune_kinds: set[str] | None = None,
    prune_selector: str | None = None,
    applyset: ApplySetRef | None = None,
) -> ApplyPlan:
    """Plan and (unless dry-run) apply `desired`; report what happened. Shared by every apply command."""
    store = app.store()  # opened first: a datastore error is reported without a progress line before it
    with progress_for(app, "apply") as progress:
        kinds = {r.info.name for r in desired} | (prune_kinds or set())
        progress(f"reading current state ({plural(len(kinds), 'kind')}) and planning {plural(len(desired), 'object')}",
                 0, 0)
        if applyset is not None:
            plan = _apply_applyset(app, applyset, desired, dry_run, prune, prune_kinds, prune_selector, progress)
        else:
            plan, _ = plan_against(store, desired, prune=prune, prune_kinds=prune_kinds,
                                   prune_selector=prune_selector)
            write_changes(store, plan, dry_run, progress)
    report_plan(app, plan, dry_run, output)
    return plan


def _apply_applyset(
    app: AppContext, ref: ApplySetRef, desired: list[Resource], dry_run: bool, prune: bool,
    prune_kinds: set[str] | None, prune_selector: str | None, progress: ProgressFn,
) -> ApplyPlan:
    from calicotool.datastore.kube_applyset import KubeApplySet

    aset = KubeApplySet.open(app.store(), ref)
    members, plan, _ = aset.plan(desired, prune, prune_kinds, prune_selector)
    if dry_run:
        progress(f"planned {plural(len(plan.changes), 'change')}", 0, 0)
    elif aset.apply(members, plan, prune, progress):
        app.info(f"ApplySet {ref}: {ref.id}")
    return plan


def write_changes(store: Store, plan: ApplyPlan, dry_run: bool, progress: ProgressFn) -> None:
    """Execute `plan` (unless dry-run), telling `progress` the count before and after the one batch."""
    count = len(plan.changes)
    if dry_run or not count:
        progress(f"planned {plural(count, 'change')}", 0, 0)
        return
    progress("writing changes", 0, count)
    execute(store, plan)
    progress("writing changes", count, count)


def diff_resources(
    app: AppContext,
    desired: list[Resource],
    prune: bool = False,
    prune_kinds: set[str] | None = None,
    prune_selector: str | None = None,
    applyset: ApplySetRef | None = None,
) -> int:
    """Print a unified diff live -> desired; return 1 on drift, like `kubectl diff`."""
    if applyset is not None:
        from calicotool.datastore.kube_applyset import KubeApplySet

        _, plan, current = KubeApplySet.open(app.store(), applyset).plan(desired, prune, prune_kinds, prune_selector)
    else:
        plan, current = plan_against(app.store(), desired, prune=prune, prune_kinds=prune_kinds,
                                     prune_selector=prune_selector)
    text = plan_diff(plan, current)
    if text:
        print_text(app, text)
    return ExitStatus.FINDINGS if plan.changes else ExitStatus.OK


def _load_manifests(paths: list[Path]) -> list[Resource]:
    """The resources under `paths`; nothing at all is a mistake (a wrong path or an empty file), as in kubectl."""
    desired = [item.resource for item in load_paths(paths)]
    if not desired:
        where = ", ".join(str(p) for p in paths)
        raise InputError(f"no Calico resources in {where} (no *.yaml/*.yml/*.json manifests, or only empty ones)")
    return desired


def apply(
    ctx: typer.Context,
    filename: FilesOption,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Delete managed objects (managed-by: calicotool) of the applied kinds that the manifests no longer "
            "contain. Objects another calicotool command owns (an enrolled host, the RR peers, another rule set) "
            "are never pruned by manifests that do not carry the same owner label.",
        ),
    ] = False,
    selector: PruneSelectorOption = None,
    applyset: ApplySetOption = None,
    applyset_namespace: ApplySetNamespaceOption = "default",
    output: OutputOption = OutputFormat.table,
) -> None:
    """Create or update resources from manifests (all-or-nothing where the datastore allows)."""
    app = app_context(ctx)
    ref = applyset_ref(applyset, applyset_namespace)
    desired = _load_manifests(list(filename))
    apply_resources(app, desired, dry_run, prune, output, prune_selector=selector, applyset=ref)


def diff(
    ctx: typer.Context,
    filename: FilesOption,
    prune: Annotated[bool, typer.Option("--prune", help="Also show managed objects apply --prune would delete.")] = False,
    selector: PruneSelectorOption = None,
    applyset: ApplySetOption = None,
    applyset_namespace: ApplySetNamespaceOption = "default",
) -> None:
    """Unified diff between the datastore and manifests. Exit 1 when they differ."""
    app = app_context(ctx)
    ref = applyset_ref(applyset, applyset_namespace)
    desired = _load_manifests(list(filename))
    raise typer.Exit(diff_resources(app, desired, prune=prune, prune_selector=selector, applyset=ref))


def delete(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help="Kind.")],
    name: Annotated[str, typer.Argument(help="Object name.")],
    namespace: Annotated[str | None, typer.Option("--namespace", "-n", help="Namespace (namespaced kinds).")] = None,
    ignore_not_found: Annotated[
        bool, typer.Option("--ignore-not-found", help="Exit 0 when the object does not exist (as kubectl).")
    ] = False,
) -> None:
    """Delete one resource."""
    app = app_context(ctx)
    info = kind_info(kind)
    try:
        app.store().delete(info.name, name, namespace if info.namespaced else None)
    except NotFound:
        if not ignore_not_found:
            raise
        return  # nothing was deleted: say nothing, as kubectl
    app.info(f"{info.kind}/{name} deleted")


app = typer.Typer()
app.command()(get)
app.command()(apply)
app.command()(diff)
app.command()(delete)
