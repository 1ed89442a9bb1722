"""Hostile topology files end in a located exit-2 error, never an internal error."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CliRunner


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"\xff\xfe\x00binary" * 50, "not utf-8"),
        (b'{"a":' * 20000, "nested"),
        (b"a: &a [x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
         b"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
         b"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n", "alias"),
        (b"kind: Topology\nkind: Topology\n", "duplicate"),
    ],
    ids=["binary", "deep-nesting", "alias-bomb", "duplicate-key"],
)
def test_rr_plan_rejects_hostile_topology(cli: CliRunner, tmp_path: Path, content: bytes, fragment: str) -> None:
    topo = tmp_path / "topo.yaml"
    topo.write_bytes(content)
    res = cli("rr", "plan", "--topology", str(topo))
    assert res.exit_code == 2, res.stderr
    assert fragment in res.stderr.lower() and str(topo) in res.stderr
    assert "Traceback" not in res.stderr
