"""Property-style checks over random selectors (seeded, fast): an independent oracle, round-trips, soundness.

The generator builds each selector's text together with its meaning as a Python function written here, so
the engine is checked against an oracle that shares none of its code.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from calicotool.selector import parse

Oracle = Callable[[dict[str, str], bool], bool]
KEYS = ["a", "b", "app", "x.io/y"]
VALUES = ["", "v", "web", "we", "b'q", 'd"q']


def _q(rng: random.Random, value: str) -> str:
    if '"' in value:
        return f"'{value}'"
    if "'" in value:
        return f'"{value}"'
    return rng.choice(["'", '"']).join(["", value, ""])


def _ws(rng: random.Random) -> str:
    return rng.choice(["", " ", "  ", "\t"])


def _leaf(rng: random.Random) -> tuple[str, Oracle]:
    k, v = rng.choice(KEYS), rng.choice(VALUES)
    w = _ws(rng)
    pick = rng.randrange(10)
    if pick == 0:
        return f"has({w}{k}{w})", lambda lb, g: k in lb
    if pick == 1:
        return "all()", lambda lb, g: True
    if pick == 2:
        return "global()", lambda lb, g: g
    if pick == 3:
        return f"{k}{w}=={w}{_q(rng, v)}", lambda lb, g: k in lb and lb[k] == v
    if pick == 4:
        return f"{k}{w}!={w}{_q(rng, v)}", lambda lb, g: k not in lb or lb[k] != v
    if pick == 5:
        return f"{k} contains {_q(rng, v)}", lambda lb, g: k in lb and v in lb[k]
    if pick == 6:
        return f"{k} starts with {_q(rng, v)}", lambda lb, g: k in lb and lb[k].startswith(v)
    if pick == 7:
        return f"{k} ends with {_q(rng, v)}", lambda lb, g: k in lb and lb[k].endswith(v)
    vals = rng.sample(VALUES, rng.randrange(0, 4))
    body = "{" + ",".join(w + _q(rng, x) for x in vals) + w + "}"
    if pick == 8:
        return f"{k} in {body}", lambda lb, g: k in lb and lb[k] in vals
    return f"{k} not in {body}", lambda lb, g: k not in lb or lb[k] not in vals


def _all_of(fns: list[Oracle]) -> Oracle:
    return lambda lb, g: all(f(lb, g) for f in fns)


def _any_of(fns: list[Oracle]) -> Oracle:
    return lambda lb, g: any(f(lb, g) for f in fns)


def _negate(fn: Oracle) -> Oracle:
    return lambda lb, g: not fn(lb, g)


def _expr(rng: random.Random, depth: int) -> tuple[str, Oracle]:
    if depth == 0 or rng.random() < 0.3:
        text, fn = _leaf(rng)
    else:
        parts = [_expr(rng, depth - 1) for _ in range(rng.randrange(2, 4))]
        if rng.random() < 0.5:
            text = "(" + " && ".join(p[0] for p in parts) + ")"
            fn = _all_of([p[1] for p in parts])
        else:
            text = "(" + " || ".join(p[0] for p in parts) + ")"
            fn = _any_of([p[1] for p in parts])
    nots = rng.choice([0, 0, 0, 1, 2, 3])
    if nots:
        text = "!" * nots + _ws(rng) + text
        if nots % 2:
            fn = _negate(fn)
    return text, fn


def _labels(rng: random.Random) -> dict[str, str]:
    return {k: rng.choice(VALUES) for k in KEYS if rng.random() < 0.6}


CASES = [_expr(random.Random(seed), 3) for seed in range(300)]


@pytest.mark.parametrize("seed", range(0, 300, 30))
def test_random_selectors_agree_with_oracle(seed: int) -> None:
    rng = random.Random(seed * 7919)
    for text, oracle in CASES[seed : seed + 30]:
        sel = parse(text)
        again = parse(sel.canonical)
        assert again == sel, text
        assert again.canonical == sel.canonical
        for _ in range(20):
            labels, is_global = _labels(rng), rng.random() < 0.3
            expected = oracle(labels, is_global)
            assert sel.matches(labels, is_global=is_global) is expected, (text, labels, is_global)
            assert again.matches(labels, is_global=is_global) is expected


def test_restrictions_are_necessary_conditions() -> None:
    rng = random.Random(4242)
    checked = 0
    for text, _ in CASES:
        sel = parse(text)
        restrictions = sel.label_restrictions()
        for _ in range(30):
            labels = _labels(rng)
            if not sel.matches(labels, is_global=rng.random() < 0.5):
                continue
            checked += 1
            for key, r in restrictions.items():
                if r.must_be_present:
                    assert key in labels, (text, labels, key)
                if r.must_be_absent:
                    assert key not in labels, (text, labels, key)
                if r.one_of is not None:
                    assert labels.get(key) in r.one_of, (text, labels, key)
    assert checked > 500  # the check ran on a real number of matches


def test_label_keys_cover_every_key_in_the_text() -> None:
    for text, _ in CASES[:100]:
        keys = parse(text).label_keys()
        for key in KEYS:
            mentioned = any(f"{key}{sep}" in text for sep in (" ", "=", "!", "\t", ")"))
            assert (key in keys) == mentioned, (text, key)
