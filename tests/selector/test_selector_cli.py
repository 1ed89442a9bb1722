"""End to end: `calicotool policy selector` through the real CLI entry point with an injected environment."""

from __future__ import annotations

import io
import json

import pytest
import yaml

from calicotool.cli.context import Environment
from calicotool.cli.main import main


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    rc = main(["policy", "selector", *args], env=Environment(stdout=out, stderr=err, environ={}))
    return rc, out.getvalue(), err.getvalue()


def test_json_without_labels_has_null_matches() -> None:
    rc, out, err = run("app=='web'  &&  has( tier )", "-o", "json")
    assert rc == 0, err
    assert json.loads(out) == {"canonical": '(app == "web" && has(tier))', "matches": None}


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        (["--labels", "app=web", "--labels", "tier=fe"], True),
        (["-l", "app=web,tier=fe"], True),
        (["--labels", "app=web"], False),
        (["--labels", "app=db,tier=fe"], False),
    ],
)
def test_json_with_labels(labels: list[str], expected: bool) -> None:
    rc, out, err = run("app == 'web' && has(tier)", *labels, "-o", "json")
    assert rc == 0, err
    assert json.loads(out) == {"canonical": '(app == "web" && has(tier))', "matches": expected}


def test_ne_matches_when_label_absent() -> None:
    rc, out, _ = run("env != 'prod'", "--labels", "app=web", "--output", "json")
    assert rc == 0 and json.loads(out)["matches"] is True


def test_yaml_output() -> None:
    rc, out, _ = run("a in {'z', 'y'}", "-l", "a=y", "-o", "yaml")
    assert rc == 0
    assert yaml.safe_load(out) == {"canonical": 'a in {"y", "z"}', "matches": True}


def test_table_output_keeps_selector_verbatim() -> None:
    rc, out, _ = run("x in {'[b]'} && " + " && ".join(f"k{i} == 'v{i}'" for i in range(12)), "-l", "x=[b]")
    assert rc == 0
    lines = out.splitlines()
    assert lines[0].startswith('canonical  (x in {"[b]"} && k0 == "v0"')
    assert lines[0].endswith('k11 == "v11")')
    assert lines[1].split() == ["matches", "false"]


def test_table_without_labels_prints_only_canonical() -> None:
    rc, out, _ = run("")
    assert rc == 0 and out == "canonical  all()\n"


def test_global_flag() -> None:
    assert json.loads(run("global()", "-l", "a=b", "-o", "json")[1])["matches"] is False
    assert json.loads(run("global()", "-l", "a=b", "--global", "-o", "json")[1])["matches"] is True


def test_invalid_selector_exits_2_with_column() -> None:
    rc, out, err = run("(app == 'web'", "-o", "json")
    assert rc == 2
    assert out == ""
    assert "invalid selector at column 14: expected ')'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("bad", ["app", "=web", "a=b,c"])
def test_bad_labels_exit_2(bad: str) -> None:
    rc, out, err = run("has(app)", "--labels", bad)
    assert rc == 2
    assert out == ""
    assert "KEY=VALUE" in err


def test_label_value_may_be_empty_or_hold_equals() -> None:
    rc, out, _ = run("a == '' && b == 'x=y'", "-l", "a=", "-l", "b=x=y", "-o", "json")
    assert rc == 0 and json.loads(out)["matches"] is True
