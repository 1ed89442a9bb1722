"""Selector engine throughput: parse (uncached and cached) and evaluate, printing figures.

python benchmarks/bench_selector.py            # small: runs in about a second
python benchmarks/bench_selector.py --size 20000 --evals 1000000
"""

from __future__ import annotations

import argparse
import random
import time

from calicotool.selector import Selector, parse
from calicotool.selector.parser import parse_tree

KEYS = ["app", "tier", "env", "team", "projectcalico.org/name", "pci", "zone", "version"]
VALUES = ["web", "db", "api", "cache", "prod", "dev", "staging", "a", "b", "c"]


def make_selector(rng: random.Random, i: int) -> str:
    """A realistic policy selector: 1-4 clauses of the common operators, unique per `i`."""
    # The unique clause is always true for our labels, so evaluation walks the other clauses too.
    clauses = [f"uid != 'u{i}'"] if rng.random() < 0.5 else [f"!has(k{i})"]
    for _ in range(rng.randrange(0, 4)):
        k, v = rng.choice(KEYS), rng.choice(VALUES)
        clauses.append(
            rng.choice(
                [
                    f"{k} == '{v}'",
                    f"{k} != '{v}'",
                    f"{k} in {{'{v}', '{rng.choice(VALUES)}'}}",
                    f"{k} not in {{'{v}'}}",
                    f"has({k})",
                    f"!has({k})",
                    f"{k} starts with '{v[:1]}'",
                ]
            )
        )
    text = " && ".join(clauses)
    return f"({text}) || global()" if rng.random() < 0.1 else text


def make_labels(rng: random.Random) -> dict[str, str]:
    return {k: rng.choice(VALUES) for k in KEYS if rng.random() < 0.6}


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "inf/s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=2000, help="distinct selectors to parse (default 2000)")
    ap.add_argument("--evals", type=int, default=100_000, help="selector evaluations (default 100000)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    texts = [make_selector(rng, i) for i in range(args.size)]
    chars = sum(len(t) for t in texts)

    t0 = time.perf_counter()
    selectors = [Selector(parse_tree(t)) for t in texts]
    t_parse = time.perf_counter() - t0

    parse.cache_clear()
    for t in texts:
        parse(t)
    t0 = time.perf_counter()
    for t in texts:
        parse(t)
    t_cached = time.perf_counter() - t0

    label_sets = [make_labels(rng) for _ in range(256)]
    t0 = time.perf_counter()
    hits = 0
    n_sel, n_lab = len(selectors), len(label_sets)
    for i in range(args.evals):
        if selectors[i % n_sel].matches(label_sets[i % n_lab], is_global=(i & 7) == 0):
            hits += 1
    t_eval = time.perf_counter() - t0

    t0 = time.perf_counter()
    indexed = sum(1 for s in selectors if s.required_equalities() is not None)
    t_index = time.perf_counter() - t0

    print(f"selectors: {args.size:,} distinct, {chars / max(args.size, 1):.0f} chars average")
    print(f"parse (tokenize+parse+canonical+compile, uncached): {t_parse * 1000:.1f} ms, {rate(args.size, t_parse)}")
    print(f"parse (lru_cache hit): {rate(args.size, t_cached)}")
    print(f"evaluate: {args.evals:,} in {t_eval * 1000:.1f} ms, {rate(args.evals, t_eval)} ({hits:,} matched)")
    print(f"required_equalities: {indexed:,}/{args.size:,} indexable, {rate(args.size, t_index)}")


if __name__ == "__main__":
    main()
