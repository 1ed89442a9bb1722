"""`calicotool host`: enroll non-Kubernetes hosts into the Calico overlay, keep them in sync, take them out.

Exit codes: 0 ok / nothing to do, 1 drift (status), 2 bad input, 3 datastore (unreachable, conflict, pool
exhausted), 4 host (not root, netlink refused).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from calicotool.cli.context import app_context
from calicotool.cli.output import OutputFormat, OutputOption, print_text, render_data, render_list, to_yaml_documents
from calicotool.errors import Findings, InputError, Location
from calicotool.overlay import dns
from calicotool.wording import plural

# hostops/enroll are imported inside the commands: they load pyroute2 (~0.1 s), which no other command needs.

app = typer.Typer(help="Enroll non-Kubernetes hosts into the Calico overlay.", no_args_is_help=True)

NetnsOption = Annotated[str | None, typer.Option("--netns", help="Network namespace of the host side (enroll records "
                                                  "it; later commands use the recorded one).")]
DryRunOption = Annotated[bool, typer.Option("--dry-run", help="Show what would change; write nothing.")]


@app.command("enroll")
def enroll_cmd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Host name (becomes the Calico Node and HostEndpoint name).")],
    address: Annotated[str, typer.Option("--address", "-a", help="Underlay address UNDERLAY_IP/PREFIX.")],
    interface: Annotated[str | None, typer.Option("--interface", "-i", help="Underlay interface (default: the "
                                                     "one holding --address).")] = None,
    mode: Annotated[str | None, typer.Option("--mode", help="vxlan or ipip (default: what the IPPool enables).")] = None,
    labels: Annotated[list[str] | None, typer.Option("--labels", "-l", help="k=v labels for the HostEndpoint "
                                                        "and Node; repeat or comma-separate.")] = None,
    netns: NetnsOption = None,
    pool: Annotated[str | None, typer.Option("--pool", help="IPPool name (default: first usable).")] = None,
    forwarding: Annotated[bool, typer.Option("--forwarding/--no-forwarding", help="Set net.ipv4.ip_forward=1 "
                                             "(restored on unenroll).")] = True,
    dry_run: DryRunOption = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Enroll NAME: claim IPAM, register Node + HostEndpoint, program vxlan.calico/tunl0. Idempotent."""
    from calicotool.cli.progress import progress_for
    from calicotool.overlay import enroll as enrollment

    app = app_context(ctx)
    req = enrollment.EnrollRequest(name, address, interface, mode, enrollment.parse_labels(labels or []), netns,
                                   pool, dry_run, forwarding)
    with progress_for(app, f"host enroll {name}") as progress:
        result = enrollment.enroll(app.store(), req, warn=app.warn, progress=progress)
    data = asdict(result) | {"changed": result.changed}
    if output != OutputFormat.table:
        render_data(app, data, output)
        return
    if not result.changed:
        print_text(app, f"nothing to do: host {name} is enrolled and in sync (host IP {result.host_ip}, tunnel "
                        f"{result.tunnel_ip} on {result.device})")
        return
    verb = "would enroll" if dry_run else "enrolled"
    lines = [f"{verb} {name}: host IP {result.host_ip}, tunnel {result.tunnel_ip} on {result.device} "
             f"({result.mode}, underlay {result.underlay} dev {result.interface})"]
    lines += [f"  datastore: {w}" for w in result.datastore_writes]
    lines += [f"  kernel: {op}" for op in result.kernel_ops]
    lines.append(f"{plural(len(result.datastore_writes), 'datastore write')}, "
                 f"{plural(len(result.kernel_ops), 'kernel change')}"
                 + ("" if dry_run else f", {plural(result.netlink_writes, 'netlink write')}"))
    print_text(app, "\n".join(lines))


@app.command("status")
def status_cmd(ctx: typer.Context, name: str, netns: NetnsOption = None, output: OutputOption = OutputFormat.table) -> None:
    """Compare the datastore with the kernel; exit 1 on drift."""
    from calicotool.overlay import hostops

    app = app_context(ctx)
    report = hostops.status(app.store(), name, netns)
    data: dict[str, Any] = {"name": name, "drift": report.drift, "datastoreProblems": report.datastore_problems,
                            "kernelDrift": report.kernel_drift, "kernel": report.counts,
                            "hostIP": report.enrollment.host_ip, "tunnelIP": report.enrollment.tunnel_ip,
                            "netns": report.enrollment.netns, "interface": report.enrollment.interface,
                            "controllers": report.controllers}
    if output != OutputFormat.table:
        render_data(app, data, output)
    else:
        lines = [f"host {name}: host IP {report.enrollment.host_ip}, tunnel {report.enrollment.tunnel_ip}, "
                 + ", ".join(f"{v} {k}" for k, v in report.counts.items())]
        lines += [f"  datastore: {p}" for p in report.datastore_problems]
        lines += [f"  cluster: {c}" for c in report.controllers]
        lines += [f"  kernel would {op}" for op in report.kernel_drift]
        print_text(app, "\n".join(lines))
    if report.drift:
        raise Findings(f"host {name} has drifted: {plural(len(report.kernel_drift), 'kernel difference')}, "
                       f"{plural(len(report.datastore_problems), 'datastore problem')}; "
                       f"run `calicotool host sync {name}`")
    if output == OutputFormat.table:
        print_text(app, "in sync")


@app.command("sync")
def sync_cmd(ctx: typer.Context, name: str, netns: NetnsOption = None, dry_run: DryRunOption = False,
             output: OutputOption = OutputFormat.table) -> None:
    """Re-read remote nodes and blocks; write only the difference to the kernel."""
    from calicotool.cli.progress import progress_for
    from calicotool.overlay import hostops

    app = app_context(ctx)
    with progress_for(app, f"host sync {name}") as progress:
        result = hostops.sync(app.store(), name, netns, dry_run=dry_run, progress=progress)
    if output != OutputFormat.table:
        render_data(app, asdict(result), output)
        return
    lines = [f"  {op}" for op in result.kernel_ops]
    tail = "would change" if dry_run else "changed"
    lines.append(f"host {name}: {plural(len(result.kernel_ops), 'kernel object')} {tail}, "
                 f"{plural(result.netlink_writes, 'netlink write')}"
                 if result.kernel_ops else f"host {name}: in sync, 0 netlink writes")
    print_text(app, "\n".join(lines))


@app.command("unenroll")
def unenroll_cmd(
    ctx: typer.Context,
    name: str,
    netns: NetnsOption = None,
    force: Annotated[bool, typer.Option("--force", help="When this host no longer matches the enrollment (address "
                                        "gone, namespace deleted), remove only the datastore records.")] = False,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Remove everything enrollment created and release the host's addresses."""
    from calicotool.overlay import hostops

    app = app_context(ctx)
    result = hostops.unenroll(app.store(), name, netns, force=force, environ=app.env.environ)
    if output != OutputFormat.table:
        render_data(app, asdict(result), output)
        return
    lines = [f"  kernel: {op}" for op in result.kernel_ops] + [f"  datastore: {w}" for w in result.datastore_writes]
    lines.append(f"unenrolled {name}: released {plural(result.released, 'address', 'addresses')}, "
                 f"freed {plural(len(result.freed_blocks), 'block')}")
    print_text(app, "\n".join(lines))


@app.command("list")
def list_cmd(ctx: typer.Context, output: OutputOption = OutputFormat.table) -> None:
    """Enrolled hosts."""
    from calicotool.overlay import hostops

    app = app_context(ctx)
    hosts = hostops.list_hosts(app.store())
    rows = [(h.name, h.underlay, h.interface, h.mode, h.tunnel_ip, h.host_ip,
             ",".join(f"{k}={v}" for k, v in h.labels)) for h in hosts]
    render_list(app, [asdict(h) for h in hosts], output,
                ["NAME", "UNDERLAY", "INTERFACE", "MODE", "TUNNEL-IP", "HOST-IP", "LABELS"], rows, "enrolled hosts")


@app.command("dns")
def dns_cmd(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Hosts (default: all enrolled).")] = None,
    style: Annotated[str, typer.Option("--format", help="coredns | kubernetes | resolver | resolv.conf")] = "coredns",
    zone: Annotated[str, typer.Option("--zone", help="DNS zone for the CoreDNS hosts block.")] = dns.DEFAULT_ZONE,
    namespace: Annotated[str, typer.Option("--namespace", help="Namespace of the Service/EndpointSlice.")] = (
        dns.DEFAULT_NAMESPACE),
    cluster_dns: Annotated[list[str] | None, typer.Option("--cluster-dns", help="DNS server IPs the host "
                                                             "should use for the cluster domain.")] = None,
    domain: Annotated[str, typer.Option("--domain", help="Cluster domain.")] = dns.DEFAULT_DOMAIN,
    apply: Annotated[bool, typer.Option("--apply", help="Write instead of printing: the Service + EndpointSlice "
                                        "through the Kubernetes API (--datastore kubernetes), or with --format "
                                        "resolver the systemd-resolved drop-in; unenroll removes them.")] = False,
) -> None:
    """Print name-resolution config: CoreDNS hosts block, Service+EndpointSlice, or the host's resolver snippet."""
    from calicotool.overlay import hostops

    app = app_context(ctx)
    dns.check_options(style, zone, namespace, domain, cluster_dns or [])
    if style in ("resolver", "resolv.conf"):
        if not cluster_dns:
            raise InputError("--cluster-dns IP is required for the resolver snippet (CoreDNS pod IPs or a routable "
                             "kube-dns address)")
        text = dns.resolver_snippet(cluster_dns, domain, "systemd-resolved" if style == "resolver" else "resolv.conf")
        if not apply:
            print_text(app, text)
            return
        if style != "resolver":
            raise InputError("--apply installs the systemd-resolved drop-in (--format resolver); /etc/resolv.conf "
                             "belongs to whatever manages it: print the fragment and merge it there",
                             Location(field="--apply"))
        from calicotool.overlay import resolver

        done = resolver.install(text, app.env.environ)
        print_text(app, done or f"nothing to do: {resolver.drop_in(app.env.environ)} is in place")
        return
    hosts = hostops.list_hosts(app.store())
    if names:
        missing = sorted(set(names) - {h.name for h in hosts})
        if missing:
            raise InputError(f"not enrolled: {', '.join(missing)}")
        hosts = [h for h in hosts if h.name in names]
    if apply:
        writes = hostops.apply_dns(app.store(), hosts, namespace)
        print_text(app, "\n".join([*writes, f"{len(writes)} writes: pods resolve "
                                    + ", ".join(f"{h.name}.{namespace}.svc.{domain}" for h in hosts)]))
        return
    if style == "coredns":
        print_text(app, dns.coredns_hosts_block(hosts, zone))
    elif style == "kubernetes":
        print_text(app, to_yaml_documents([doc for h in hosts for doc in dns.kubernetes_manifests(h, namespace)]))
    else:
        raise InputError(f"--format must be coredns, kubernetes, resolver or resolv.conf, not {style!r}")
