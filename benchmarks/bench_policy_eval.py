"""Benchmark the policy evaluator; compare with network-config-analyzer (NCA) on a policy set both express.

    python benchmarks/bench_policy_eval.py            # small: 200 policies x 10 rules, 10,000 flows (seconds)
    python benchmarks/bench_policy_eval.py --full     # the issue's figure: 1,000 policies x 10 rules, 100,000 flows

Part 1 prints verdicts per second with the selector index and with a naive scan of every policy (the naive scan
runs on a sample of the flows in --full mode, it is slow by design), and checks both give the same verdicts.
Part 2 writes a Calico policy set + pod and namespace lists, asks NCA (`nca --connectivity ... -o
txt_no_fw_rules`, run as a subprocess) for the connectivity map, asks our evaluator the same question for every
pod pair and probe port, and reports the speed ratio and every verdict difference. If NCA is missing or fails,
Part 2 says why.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calicotool.evaluate.evaluator import PolicySet
from calicotool.evaluate.model import Flow
from calicotool.model.resource import Resource
from calicotool.policy.endpoint import Endpoint, EndpointKind

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


def nca_allows(conns: list[tuple[set[str] | None, list[tuple[int, int]] | None]], proto: str, port: int) -> bool:
    for protos, ranges in conns:
        if protos is not None and proto not in protos:
            continue
        if ranges is None or any(lo <= port <= hi for lo, hi in ranges):
            return True
    return False


def part2(args: argparse.Namespace) -> None:
    print(f"== Part 2: network-config-analyzer on {args.nca_pods} pods, {args.nca_policies} policies")
    nca = shutil.which("nca")
    if nca is None:
        print("NCA not run: the `nca` command is not installed (pip install network-config-analyzer into the "
              "environment, not into pyproject)")
        return
    rng = random.Random(args.seed + 1)
    ns_docs, pods, policies = nca_policy_set(args.nca_pods, args.nca_policies, rng)
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
            print(f"NCA not compared: it did not finish within {args.nca_timeout} s")
            return
        nca_wall = time.perf_counter() - start
        if proc.returncode not in (0, 1) or "=>" not in proc.stdout:
            print(f"NCA failed (exit {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-500:]}")
            return
    reported = re.search(r"Total run time:\s*([\d.]+)", proc.stdout + proc.stderr)
    conns, unparsed = parse_connections(proc.stdout)
    # our side: the same resources, every ordered pod pair (NCA always allows a pod to itself), every probe port
    resources = [Resource.from_dict(p) for p in policies]
    ns_labels = {d["metadata"]["name"]: d["metadata"]["labels"] for d in ns_docs}
    eps = [Endpoint(EndpointKind.POD, p["metadata"]["name"], ips=(p["status"]["podIP"],),
                    namespace=p["metadata"]["namespace"], labels=p["metadata"]["labels"],
                    namespace_labels=ns_labels[p["metadata"]["namespace"]]) for p in pods]
    probes = sorted({(proto, port) for proto in ("TCP", "UDP") for port in PORTS + [8050, 12345]})
    start = time.perf_counter()
    first = PolicySet(resources).evaluate(Flow(eps[0], eps[1], TCP, PORTS[0]))
    first_answer = time.perf_counter() - start
    start = time.perf_counter()
    ps = PolicySet(resources)
    ours: dict[tuple[str, str, str, int], bool] = {}
    for s in eps:
        for t in eps:
            if s is t:
                continue
            for proto, port in probes:
                ours[(f"{s.namespace}/{s.name}", f"{t.namespace}/{t.name}", proto, port)] = ps.evaluate(
                    Flow(s, t, TCP if proto == "TCP" else UDP, port)).allowed
    our_time = time.perf_counter() - start
    diffs = [(k, v) for k, v in ours.items() if nca_allows(conns.get((k[0], k[1]), []), k[2], k[3]) != v]
    print(f"NCA connectivity map      : {nca_wall:.2f} s wall (its own 'Total run time': "
          f"{reported[1] + ' s' if reported else 'not printed'}), {len(conns):,} pod pairs with connections")
    print(f"calicotool, {len(ours):,} verdicts: {our_time:.2f} s in-process ({len(ours) / our_time:,.0f} verdicts/s) "
          f"for {len(eps) * (len(eps) - 1):,} pairs x {len(probes)} probe ports")
    print(f"speed ratio (NCA wall / calicotool) : {nca_wall / our_time:.1f}x  (NCA answers all ports symbolically; we "
          f"answer {len(probes)} probe ports per pair; NCA wall includes its interpreter start-up)")
    print(f"one question (compile + evaluate {first.flow.describe()}): calicotool {first_answer * 1000:.1f} ms; "
          f"NCA has no per-flow query, it computes the whole map ({nca_wall:.2f} s)")
    print(f"verdict differences: {len(diffs)} of {len(ours):,}; NCA lines not parsed: {unparsed}")
    for (src, dst, proto, port), mine in diffs[:10]:
        print(f"  {src} -> {dst} {port}/{proto}: calicotool {'allow' if mine else 'deny'}, "
              f"NCA {'deny' if mine else 'allow'}")


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
    p.add_argument("--seed", type=int, default=7)
    args = p.parse_args()
    args.policies = args.policies or (1000 if args.full else 200)
    args.flows = args.flows or (100_000 if args.full else 10_000)
    args.naive_sample = args.naive_sample or (10_000 if args.full else args.flows)
    args.nca_pods = args.nca_pods or (150 if args.full else 45)
    args.nca_policies = args.nca_policies or (150 if args.full else 40)
    part1(args)
    if not args.no_nca:
        part2(args)


if __name__ == "__main__":
    main()
