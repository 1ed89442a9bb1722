"""Benchmark the policy evaluator; compare with network-config-analyzer (NCA) on a policy set both express.

    python benchmarks/bench_policy_eval.py            # small: 200 policies x 10 rules, 10,000 flows (seconds)
    python benchmarks/bench_policy_eval.py --full     # the issue's figure: 1,000 policies x 10 rules, 100,000 flows

Part 1 prints verdicts per second with the selector index and with a naive scan of every policy (the naive scan
runs on a sample of the flows in --full mode, it is slow by design), and checks both give the same verdicts.
Part 2 (150 pods, 150 policies with --full) computes calicotool's all-port matrix (every ordered pod pair, every
TCP and UDP port, through endpoint classes), checks it against the pairwise evaluator at one port per atom of each
pair (which covers every port), then asks NCA (`nca --connectivity ... -o txt_no_fw_rules`, a subprocess) for its
connectivity map of the same policy set and compares wall times and port ranges. If NCA is missing or fails,
Part 2 says why and times the old path (every pair x 20 probe ports) for a ratio instead (--probe-path: always).
Part 3 (2,000 pods, 1,000 policies with --full) prints the cluster matrix's time, peak memory and class count.
"""

from __future__ import annotations

import argparse
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.matrix import port_matrix
from calicotool.evaluate.model import Flow
from calicotool.evaluate.portset import MAX_PORT, Ranges, format_ranges, intersect, merge
from calicotool.evaluate.symbolic import probe_ports
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import Endpoint, EndpointKind, NamedPort
from calicotool.selector import parse as selector_parse

TCP, UDP = 6, 17
PORTS = [80, 443, 5432, 6379, 8080, 9090, 53, 3306]


# -- part 1: synthetic policy set -------------------------------------------------------------------------------
Intended = dict[int, list[tuple[int, int]]]  # app index -> (peer app index, port) its ingress allows


def synthetic(n_policies: int, n_rules: int, rng: random.Random) -> tuple[list[Resource], list[Endpoint], Intended]:
    """n_policies policies (half namespaced, a tenth in a security tier that Passes), each n_rules rules: ingress
    from neighbouring apps on one port each, a Deny, a nets rule; egress DNS, pod network on service ports, a Deny.
    Two pods per app. Also returns, per app, the (peer app, port) pairs its ingress allows (to aim flows)."""
    namespaces = [f"ns{i}" for i in range(10)]
    res: list[Resource] = [Resource.new("Tier", "security", {"order": 100})]
    endpoints: list[Endpoint] = []
    intended: Intended = {}
    n_out = max(1, n_rules * 3 // 10)
    for i in range(n_policies):
        ns = namespaces[i % len(namespaces)]
        rules_in: list[dict[str, Any]] = []
        for k in range(1, n_rules - n_out + 1):
            peer, port = (i + k) % n_policies, rng.choice(PORTS[:6])
            if k == 3:
                rules_in.append({"action": "Deny", "protocol": "TCP", "source": {"selector": f"app == 'app{peer}'"}})
            elif k == 5:
                rules_in.append({"action": "Allow", "protocol": "TCP", "source": {"nets": [f"10.{rng.randrange(8)}.0.0/16"]},
                                 "destination": {"ports": ["8000:8100"]}})
            else:
                rules_in.append({"action": "Allow", "protocol": "TCP", "source": {"selector": f"app == 'app{peer}'"},
                                 "destination": {"ports": [port]}})
                intended.setdefault(i, []).append((peer, port))
        rules_out: list[dict[str, Any]] = [
            {"action": "Allow", "protocol": "UDP", "destination": {"ports": [53]}},
            {"action": "Deny", "protocol": "TCP", "destination": {"ports": [3306]}},
            {"action": "Allow", "protocol": "TCP", "destination": {"nets": ["10.0.0.0/8"], "ports": PORTS[:6]}},
        ][:n_out]
        spec: dict[str, Any] = {"selector": f"app == 'app{i}'", "order": rng.randrange(1, 100),
                                "ingress": rules_in, "egress": rules_out}
        if i % 10 == 0:
            spec["tier"] = "security"
            spec["ingress"] = [*rules_in[:-1], {"action": "Pass"}]
            spec["egress"] = [*rules_out[:-1], {"action": "Pass"}]
            res.append(Resource.new("GlobalNetworkPolicy", f"security.p{i}", spec))
        elif i % 2:
            res.append(Resource.new("NetworkPolicy", f"p{i}", spec, namespace=ns))
        else:
            res.append(Resource.new("GlobalNetworkPolicy", f"p{i}", spec))
        for k in range(2):
            n = 2 * i + k
            endpoints.append(Endpoint(EndpointKind.POD, f"app{i}-{k}",
                                      ips=(f"10.{n // 65025 % 8}.{n // 255 % 255}.{n % 255 + 1}",),
                                      namespace=ns, labels={"app": f"app{i}", "zone": f"z{k}"}))
    return res, endpoints, intended


def flows(endpoints: list[Endpoint], intended: Intended, count: int,
          rng: random.Random) -> list[Flow]:
    """Half aimed at an ingress Allow rule (which the source's egress or namespace scoping may still deny), the
    rest random pod pairs and ports, 5% from outside addresses."""
    out = []
    outside = [Endpoint(EndpointKind.IP, f"203.0.113.{i}", ips=(f"203.0.113.{i}",)) for i in range(1, 50)]
    for _ in range(count):
        dst_i = rng.randrange(len(endpoints) // 2)
        dst = endpoints[2 * dst_i + rng.randrange(2)]
        if rng.random() < 0.5 and intended.get(dst_i):
            peer, port = rng.choice(intended[dst_i])
            out.append(Flow(endpoints[2 * peer + rng.randrange(2)], dst, TCP, port))
            continue
        src = rng.choice(outside) if rng.random() < 0.05 else rng.choice(endpoints)
        out.append(Flow(src, dst, TCP if rng.random() < 0.8 else UDP, rng.choice(PORTS + [8050])))
    return out


def timed(ps: PolicySet, fl: list[Flow]) -> tuple[float, list[bool]]:
    start = time.perf_counter()
    verdicts = [ps.evaluate(f).allowed for f in fl]
    return time.perf_counter() - start, verdicts


def part1(args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    resources, endpoints, intended = synthetic(args.policies, args.rules, rng)
    fl = flows(endpoints, intended, args.flows, rng)
    t0 = time.perf_counter()
    indexed = PolicySet(resources, cache_endpoints=False)
    compile_s = time.perf_counter() - t0
    print(f"== Part 1: {args.policies} policies x {args.rules} rules, {len(endpoints)} pods, {len(fl)} flows")
    n_rules = sum(len(p.ingress) + len(p.egress) for p in indexed.policies)
    unindexed = indexed.index.unindexed if indexed.index else "-"
    print(f"compile: {compile_s:.2f} s for {n_rules:,} rules; policies the index cannot place: {unindexed}")
    t_idx, v_idx = timed(indexed, fl)
    cached = PolicySet(resources, cache_endpoints=True)
    t_cache, v_cache = timed(cached, fl)
    sample = fl[: min(len(fl), args.naive_sample)]
    naive = PolicySet(resources, use_index=False, cache_endpoints=False)
    t_naive, v_naive = timed(naive, sample)
    rate_idx, rate_naive = len(fl) / t_idx, len(sample) / t_naive
    print(f"index, no endpoint cache : {rate_idx:10,.0f} verdicts/s  ({t_idx:.2f} s for {len(fl):,} flows)")
    print(f"index + endpoint cache   : {len(fl) / t_cache:10,.0f} verdicts/s  ({t_cache:.2f} s)")
    print(f"naive scan, no cache     : {rate_naive:10,.0f} verdicts/s  ({t_naive:.2f} s for {len(sample):,} flows"
          f"{' - a sample' if len(sample) < len(fl) else ''})")
    print(f"index / naive speed-up   : {rate_idx / rate_naive:.1f}x")
    mismatches = sum(a != b for a, b in zip(v_idx, v_naive, strict=False))
    mismatches += sum(a != b for a, b in zip(v_idx, v_cache, strict=True))
    print(f"verdicts allowed: {sum(v_idx):,} / {len(fl):,}; index vs naive vs cached mismatches: {mismatches}")


# -- part 2: the same question through network-config-analyzer --------------------------------------------------
def nca_policy_set(n_pods: int, n_policies: int, rng: random.Random) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                                                                list[dict[str, Any]]]:
    """Pods in 3 namespaces; Calico (Global)NetworkPolicies with ordered Allow/Deny rules on selectors, namespace
    selectors, TCP/UDP ports and ranges: features both tools model. No tiers, nets, HostEndpoints or named ports."""
    nss = ["alpha", "beta", "gamma"]
    apps = [f"a{i}" for i in range(max(2, n_pods // 3))]
    ns_docs = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": {"team": ns}}} for ns in nss]
    pods = []
    for i in range(n_pods):
        app, ns = apps[i % len(apps)], nss[i % len(nss)]
        pods.append({"apiVersion": "v1", "kind": "Pod",
                     "metadata": {"name": f"{app}-{i}", "namespace": ns, "labels": {"app": app, "tier": f"t{i % 4}"}},
                     "spec": {"containers": [{"name": "c", "image": "x"}]},
                     "status": {"podIP": f"10.{i // 250}.{i % 250}.{7}", "hostIP": "192.168.0.1", "phase": "Running"}})
    policies = []
    for i in range(n_policies):
        target = rng.choice(apps)
        rules = []
        for r in range(rng.randint(1, 4)):
            peer: dict[str, Any] = {"selector": f"app == '{rng.choice(apps)}'"}
            if rng.random() < 0.3:
                peer["namespaceSelector"] = f"team == '{rng.choice(nss)}'"
            ports: list[Any] = [rng.choice(PORTS)] if rng.random() < 0.8 else ["8000:8100"]
            rules.append({"action": "Deny" if r == 0 and rng.random() < 0.3 else "Allow",
                          "protocol": rng.choice(["TCP", "TCP", "UDP"]), "source": peer, "destination": {"ports": ports}})
        spec: dict[str, Any] = {"selector": f"app == '{target}'", "order": rng.randrange(1, 50),
                                "types": ["Ingress"], "ingress": rules}
        if rng.random() < 0.25:
            policies.append({"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
                             "metadata": {"name": f"g{i}"}, "spec": spec})
        else:
            policies.append({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
                             "metadata": {"name": f"p{i}", "namespace": rng.choice(nss)}, "spec": spec})
    return ns_docs, pods, policies


_PAIR = re.compile(r"^(\S+)/(\S+)\[Pod\] => (\S+)/(\S+)\[Pod\] : (.*)$")


def parse_connections(text: str) -> tuple[dict[tuple[str, str], list[tuple[set[str] | None, list[tuple[int, int]] | None]]], int]:
    """NCA `txt_no_fw_rules` lines -> {(src, dst): [(protocols or None=all, port ranges or None=all)]}."""
    out: dict[tuple[str, str], list[tuple[set[str] | None, list[tuple[int, int]] | None]]] = {}
    unparsed = 0
    for line in text.splitlines():
        m = _PAIR.match(line.strip())
        if not m:
            continue
        key = (f"{m[1]}/{m[2]}", f"{m[3]}/{m[4]}")
        conn = m[5].strip()
        if conn == "All connections":
            out.setdefault(key, []).append((None, None))
            continue
        if conn == "No connections":
            continue
        body = conn.strip("{}")
        other_keys = re.search(r"(src_ports|icmp|methods|paths|hosts):", body)
        if not conn.startswith("{") or not body.startswith("protocols:") or other_keys:
            unparsed += 1
            continue
        proto_part, _, port_part = body[len("protocols:"):].partition("dst_ports:")
        protos = {p for p in proto_part.strip(",").split(",") if p}
        ranges = None
        if port_part:
            ranges = []
            for item in port_part.split(","):
                lo, _, hi = item.partition("-")
                ranges.append((int(lo), int(hi or lo)))
        out.setdefault(key, []).append((protos, ranges))
    return out, unparsed


def nca_ranges(conns: list[tuple[set[str] | None, list[tuple[int, int]] | None]], proto: str) -> Ranges:
    """NCA's allowed destination ports of one protocol for one pod pair, as merged ranges."""
    out: list[tuple[int, int]] = []
    for protos, ranges in conns:
        if protos is None or proto in protos:
            out.extend(ranges if ranges is not None else [(0, MAX_PORT)])
    return merge(out)


def run_nca(args: argparse.Namespace, ns_docs: list[dict[str, Any]], pods: list[dict[str, Any]],
            policies: list[dict[str, Any]]) -> tuple[float, str] | str:
    """(wall seconds, stdout) of NCA's connectivity map, or why it did not run."""
    nca = shutil.which("nca")
    if nca is None:
        return ("the `nca` command is not installed (pip install network-config-analyzer into the environment, "
                "not into pyproject)")
    with tempfile.TemporaryDirectory(prefix="bench-nca-") as tmp:
        d = Path(tmp)
        (d / "ns.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "NamespaceList", "items": ns_docs}))
        (d / "pods.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "PodList", "items": pods}))
        (d / "policies.yaml").write_text(yaml.safe_dump_all(policies))
        cmd = [nca, "--connectivity", str(d / "policies.yaml"), "--pod_list", str(d / "pods.yaml"),
               "--ns_list", str(d / "ns.yaml"), "--output_format", "txt_no_fw_rules"]
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.nca_timeout)
        except subprocess.TimeoutExpired:
            return f"it did not finish within {args.nca_timeout} s"
        wall = time.perf_counter() - start
    if proc.returncode not in (0, 1) or "=>" not in proc.stdout:
        return f"it failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-500:]}"
    return wall, proc.stdout


def pod_endpoints(ns_docs: list[dict[str, Any]], pods: list[dict[str, Any]]) -> list[Endpoint]:
    ns_labels = {d["metadata"]["name"]: d["metadata"]["labels"] for d in ns_docs}
    return [Endpoint(EndpointKind.POD, p["metadata"]["name"], ips=(p["status"]["podIP"],),
                     namespace=p["metadata"]["namespace"], labels=p["metadata"]["labels"],
                     namespace_labels=ns_labels[p["metadata"]["namespace"]]) for p in pods]


def part2(args: argparse.Namespace) -> None:
    print(f"== Part 2: the whole connectivity map, every TCP/UDP port, {args.nca_pods} pods, {args.nca_policies} "
          f"policies: calicotool's class matrix vs network-config-analyzer")
    rng = random.Random(args.seed + 1)
    ns_docs, pods, policies = nca_policy_set(args.nca_pods, args.nca_policies, rng)
    resources = [Resource.from_dict(p) for p in policies]
    eps = pod_endpoints(ns_docs, pods)
    keys = [f"{ep.namespace}/{ep.name}" for ep in eps]
    # ours, timed end to end (median of 3, cold selector cache): compile, classes, class matrix, every pod pair
    times = []
    for _ in range(3):
        selector_parse.cache_clear()  # each run parses its selectors afresh, as one CLI call would
        start = time.perf_counter()
        ps = PolicySet(resources)
        matrix = port_matrix(ps, eps, (TCP, UDP))
        ours = {(keys[i], keys[j]): matrix.ports(i, j) for i in range(len(eps)) for j in range(len(eps)) if i != j}
        times.append(time.perf_counter() - start)
    our_time = sorted(times)[1]
    print(f"calicotool all-port matrix: {our_time:.3f} s (median of 3; {min(times):.3f}-{max(times):.3f}) for "
          f"{len(ours):,} pod pairs x all TCP/UDP ports ({len(matrix.classes)} endpoint classes)")
    # the same answer, checked against the pairwise evaluator at one port per atom of each pair (= every port)
    start = time.perf_counter()
    checked = pairwise_diffs = 0
    for i, s in enumerate(eps):
        for j, t in enumerate(eps):
            if i == j:
                continue
            got = ours[(keys[i], keys[j])]
            for proto in (TCP, UDP):
                for port in probe_ports(ps, s, t, proto):
                    checked += 1
                    if ps.evaluate(Flow(s, t, proto, port)).allowed != got.allows(proto, port):
                        pairwise_diffs += 1
    print(f"vs the pairwise evaluator (explain): {pairwise_diffs} verdict differences on all ports "
          f"({checked:,} pairwise verdicts, one per port atom, {time.perf_counter() - start:.1f} s)")
    if args.probe_path:
        probe_path(ps, eps, our_time)
    if args.no_nca:
        print("NCA not run (--no-nca)")
        return
    nca = run_nca(args, ns_docs, pods, policies)
    if isinstance(nca, str):
        print(f"NCA not run: {nca}")
        if not args.probe_path:
            probe_path(ps, eps, our_time)
        return
    nca_wall, text = nca
    reported = re.search(r"Total run time:\s*([\d.]+)", text)
    conns, unparsed = parse_connections(text)
    pair_diffs = port_diffs = 0
    examples: list[str] = []
    for (src, dst), mine in ours.items():
        for proto, name in ((TCP, "TCP"), (UDP, "UDP")):
            theirs, have = nca_ranges(conns.get((src, dst), []), name), mine.ranges(proto)
            if theirs != have:
                pair_diffs += 1
                both = sum(hi - lo + 1 for lo, hi in intersect(theirs, have))
                port_diffs += sum(hi - lo + 1 for lo, hi in (*theirs, *have)) - 2 * both
                if len(examples) < 5:
                    examples.append(f"  {src} -> {dst} {name}: calicotool {format_ranges(have) or '-'}, "
                                    f"NCA {format_ranges(theirs) or '-'}")
    print(f"NCA connectivity map      : {nca_wall:.2f} s wall (its own 'Total run time': "
          f"{reported[1] + ' s' if reported else 'not printed'}), {len(conns):,} pod pairs with connections")
    print(f"speed ratio (NCA wall / calicotool all-port matrix): {nca_wall / our_time:.1f}x")
    print(f"vs NCA: {pair_diffs} (pair, protocol) differences, {port_diffs} differing ports over "
          f"{len(ours) * 2 * 65536:,} (pair, protocol, port) verdicts; NCA lines not parsed: {unparsed}")
    for line in examples:
        print(line)


def probe_path(ps: PolicySet, eps: list[Endpoint], our_time: float) -> None:
    """The old way: one pairwise evaluation per pod pair and probe port (20 ports), for the ratio."""
    probes = sorted({(proto, port) for proto in (TCP, UDP) for port in PORTS + [8050, 12345]})
    start = time.perf_counter()
    n = 0
    for s in eps:
        for t in eps:
            if s is not t:
                for proto, port in probes:
                    ps.evaluate(Flow(s, t, proto, port))
                    n += 1
    old = time.perf_counter() - start
    print(f"old probe-port path       : {old:.2f} s for {n:,} verdicts ({len(probes)} probe ports per pair); "
          f"all-port class matrix is {old / our_time:.1f}x faster and answers every port")


# -- part 3: a cluster-sized matrix ----------------------------------------------------------------------------
def cluster(n_pods: int, n_policies: int, rng: random.Random) -> tuple[list[Resource], list[Endpoint]]:
    """Deployments of 1-6 replicas in 40 namespaces (pod-template-hash and pod-name labels no selector reads),
    named ports; policies with ingress and egress, namespace selectors, port ranges, named ports, Deny and Pass
    rules, a security tier and a platform tier that passes by default."""
    nss = [f"team{i}" for i in range(40)]
    eps: list[Endpoint] = []
    apps: list[tuple[str, str]] = []
    while len(eps) < n_pods:
        ns, app, tier = rng.choice(nss), f"svc{len(apps)}", rng.choice(["web", "api", "db"])
        apps.append((ns, app))
        named = (NamedPort("http", rng.choice([80, 8080])), NamedPort("metrics", 9100 + len(apps) % 3))
        for r in range(min(rng.randint(1, 6), n_pods - len(eps))):
            n = len(eps)
            eps.append(Endpoint(EndpointKind.POD, f"{app}-{r}", ips=(f"10.{n // 65025}.{n // 255 % 255}.{n % 255 + 1}",),
                                namespace=ns, labels={"app": app, "tier": tier, "pod-template-hash": f"h{len(apps)}",
                                                      "pod-name": f"{app}-{r}"},
                                namespace_labels={"team": ns, "env": "prod" if ns < "team20" else "dev"},
                                ports=named))
    res = [Resource.new("Tier", "security", {"order": 100}),
           Resource.new("Tier", "platform", {"order": 200, "defaultAction": "Pass"})]
    for i in range(n_policies):
        ns, app = rng.choice(apps)
        ingress: list[dict[str, Any]] = []
        for _ in range(rng.randint(1, 4)):
            peer_ns, peer = rng.choice(apps)
            src: dict[str, Any] = {"selector": f"app == '{peer}'"}
            if peer_ns != ns:
                src["namespaceSelector"] = f"team == '{peer_ns}'"
            ports: list[Any] = rng.choice([[rng.choice(PORTS)], ["http"], ["8000:8100"], ["metrics", 443]])
            ingress.append({"action": rng.choice(["Allow"] * 4 + ["Deny"]), "protocol": rng.choice(["TCP", "UDP"]),
                            "source": src, "destination": {"ports": ports}})
        egress = [{"action": "Allow", "protocol": "UDP", "destination": {"ports": [53]}},
                  {"action": "Allow", "protocol": "TCP", "destination": {"namespaceSelector": "env == 'prod'"}}]
        spec: dict[str, Any] = {"selector": f"app == '{app}'", "order": rng.randrange(1, 100), "ingress": ingress}
        if i % 10 == 0:
            spec.update({"tier": "security", "selector": f"tier == '{rng.choice(['web', 'api', 'db'])}'",
                         "ingress": [{"action": "Deny", "source": {"nets": ["10.7.0.0/16"]}}, {"action": "Pass"}]})
            res.append(Resource.new("GlobalNetworkPolicy", f"security.g{i}", spec))
        elif i % 10 == 1:
            spec.update({"tier": "platform", "namespaceSelector": "env == 'dev'", "selector": "all()",
                         "types": ["Egress"], "egress": egress, "ingress": []})
            res.append(Resource.new("GlobalNetworkPolicy", f"platform.g{i}", spec))
        else:
            res.append(Resource.new("NetworkPolicy", f"p{i}", spec, namespace=ns))
    return res, eps


def part3(args: argparse.Namespace) -> None:
    print(f"== Part 3: cluster matrix, {args.cluster_pods:,} pods, {args.cluster_policies:,} policies, every TCP/UDP "
          f"port")
    resources, eps = cluster(args.cluster_pods, args.cluster_policies, random.Random(args.seed + 2))
    start = time.perf_counter()
    ps = PolicySet(resources)
    matrix = port_matrix(ps, eps, (TCP, UDP))
    k = len(matrix.classes)
    sizes = [len(c.members) for c in matrix.classes]
    allowed_pairs = allowed_classes = 0
    for s in range(k):
        for t in range(k):
            if matrix.answer.ports(s, t):
                allowed_classes += 1
                allowed_pairs += sizes[s] * sizes[t]
    elapsed = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()
    port_matrix(PolicySet(resources), eps, (TCP, UDP))
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"classes: {k:,} for {len(eps):,} pods; class pairs: {k * k:,} ({allowed_classes:,} with an allowed port); "
          f"pod pairs with an allowed port: {allowed_pairs:,} of {len(eps) ** 2:,}")
    print(f"time: {elapsed:.2f} s (compile, classes, class matrix, every class pair's port set)")
    print(f"peak memory: {peak:.0f} MiB allocated by the matrix (tracemalloc, second run); process peak RSS "
          f"{rss_mb:.0f} MiB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--full", action="store_true", help="1,000 policies, 100,000 flows, larger NCA comparison")
    p.add_argument("--policies", type=int)
    p.add_argument("--rules", type=int, default=10)
    p.add_argument("--flows", type=int)
    p.add_argument("--naive-sample", type=int, help="flows for the naive scan (default: all in small mode)")
    p.add_argument("--nca-pods", type=int)
    p.add_argument("--nca-policies", type=int)
    p.add_argument("--nca-timeout", type=float, default=600)
    p.add_argument("--no-nca", action="store_true")
    p.add_argument("--probe-path", action="store_true", help="also time the old pairs x probe ports path")
    p.add_argument("--cluster-pods", type=int)
    p.add_argument("--cluster-policies", type=int)
    p.add_argument("--skip", default="", help="comma-separated parts to skip: 1,2,3")
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    args.policies = args.policies or (1000 if args.full else 200)
    args.flows = args.flows or (100_000 if args.full else 10_000)
    args.naive_sample = args.naive_sample or (10_000 if args.full else args.flows)
    args.nca_pods = args.nca_pods or (150 if args.full else 45)
    args.nca_policies = args.nca_policies or (150 if args.full else 40)
    args.cluster_pods = args.cluster_pods or (2000 if args.full else 300)
    args.cluster_policies = args.cluster_policies or (1000 if args.full else 150)
    skip = set(args.skip.split(","))
    if "1" not in skip:
        part1(args)
    if "2" not in skip:
        part2(args)
    if "3" not in skip:
        part3(args)


if __name__ == "__main__":
    main()
