"""Benchmark: rule set -> Calico resources (load + validate + jinja2 render + parse back + object validation).

    python benchmarks/bench_policy_generate.py            # 100 groups / 1,000 rules (seconds)
    python benchmarks/bench_policy_generate.py --full     # 1,000 groups / 10,000 rules (the issue's figure)

Prints the time of each stage and rules/second. The synthetic rule set: label groups in 10 namespaces, one nets
group per 10 label groups, and one policy per label group whose rules reference other groups with TCP ports.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calicotool.policy.compile import CompileOptions, build_contexts
from calicotool.policy.generate import output_files, render_ruleset
from calicotool.policy.loader import load_ruleset


def synthetic_ruleset(groups: int, rules: int) -> str:
    lines = ["namespace: bench", "tiers:", "  - {name: app, order: 100}", "groups:"]
    label_groups = [f"g{i:04d}" for i in range(groups)]
    for i, name in enumerate(label_groups):
        lines.append(f"  {name}: {{selector: \"app == '{name}' && team in {{'a', 'b'}}\", namespace: ns{i % 10}, "
                     "defaultDeny: true}")
    nets = [f"n{i:04d}" for i in range(max(1, groups // 10))]
    for i, name in enumerate(nets):
        lines.append(f"  {name}: {{nets: [10.{i // 256}.{i % 256}.0/24, 172.16.{i % 256}.0/24]}}")
    lines.append("policies:")
    per_policy = max(1, rules // groups)
    for i, name in enumerate(label_groups):
        lines += [f"  - name: {name}", "    tier: app", f"    appliesTo: {name}", "    ingress:"]
        for j in range(per_policy):
            peer = label_groups[(i + j + 1) % groups] if j % 3 else nets[(i + j) % len(nets)]
            lines.append(f"      - {{from: {peer}, protocol: TCP, ports: [{1000 + j}, '{2000 + j}:{2010 + j}']}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="1,000 groups / 10,000 rules")
    parser.add_argument("--groups", type=int, default=None)
    parser.add_argument("--rules", type=int, default=None)
    args = parser.parse_args()
    groups = args.groups or (1000 if args.full else 100)
    rules = args.rules or (10000 if args.full else 1000)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ruleset.yaml"
        path.write_text(synthetic_ruleset(groups, rules))
        t0 = time.perf_counter()
        ruleset = load_ruleset([path])
        t1 = time.perf_counter()
        contexts = build_contexts(ruleset, CompileOptions())
        t2 = time.perf_counter()
        unvalidated = render_ruleset(ruleset, validate=False)
        t3 = time.perf_counter()
        resources = render_ruleset(ruleset, validate=True)
        t4 = time.perf_counter()
        files = output_files(resources, ruleset.name)
        t5 = time.perf_counter()
    n_rules = sum(len(p.ingress) + len(p.egress) for p in ruleset.policies)
    calico_rules = sum(len(r.spec.get("ingress", [])) + len(r.spec.get("egress", [])) for r in resources)
    total = (t1 - t0) + (t4 - t3) + (t5 - t4)
    print(f"rule set: {len(ruleset.groups)} groups, {len(ruleset.policies)} policies, {n_rules} rules "
          f"-> {len(resources)} objects, {calico_rules} Calico rules, {len(files)} files")
    print(f"load + schema + semantic checks : {t1 - t0:8.3f} s")
    print(f"compile to template contexts    : {t2 - t1:8.3f} s  ({len(contexts)} objects)")
    print(f"render + parse back (no checks) : {t3 - t2:8.3f} s  ({len(unvalidated)} objects)")
    print(f"render + validate every object  : {t4 - t3:8.3f} s")
    print(f"file layout + kustomization     : {t5 - t4:8.3f} s")
    print(f"end to end (load, generate+validate, layout): {total:.3f} s = {n_rules / total:,.0f} rules/s, "
          f"{len(resources) / total:,.0f} objects/s")


if __name__ == "__main__":
    main()
