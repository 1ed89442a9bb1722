from __future__ import annotations

import pytest

from calicotool.datastore.factory import parse_spec, resolve_spec
from calicotool.datastore.labelselector import parse_label_selector
from calicotool.errors import InputError


@pytest.mark.parametrize(
    "cli, env, expected",
    [
        ("dir:/x", {"CALICOTOOL_DATASTORE": "kubernetes"}, "dir:/x"),
        (None, {"CALICOTOOL_DATASTORE": "etcdv3:http://a:1"}, "etcdv3:http://a:1"),
        (None, {"DATASTORE_TYPE": "etcdv3", "ETCD_ENDPOINTS": "http://e:2379"}, "etcdv3:http://e:2379"),
        (None, {"DATASTORE_TYPE": "kubernetes", "ETCD_ENDPOINTS": "http://e:2379"}, "kubernetes"),
        (None, {"ETCD_ENDPOINTS": "http://e:2379"}, "etcdv3:http://e:2379"),
        (None, {"KUBECONFIG": "/k"}, "kubernetes"),
        (None, {}, "dir:./cluster"),
    ],
)
def test_resolution_order(cli: str | None, env: dict[str, str], expected: str) -> None:
    assert resolve_spec(cli, env) == expected


@pytest.mark.parametrize("spec", ["foo:bar", "dir:", "etcdv3:", "http://x"])
def test_bad_specs(spec: str) -> None:
    with pytest.raises(InputError, match="bad datastore"):
        parse_spec(spec)


def test_bad_datastore_type() -> None:
    with pytest.raises(InputError, match="DATASTORE_TYPE"):
        resolve_spec(None, {"DATASTORE_TYPE": "consul"})


@pytest.mark.parametrize(
    "selector, labels, matches",
    [
        ("a=b", {"a": "b"}, True),
        ("a==b", {"a": "c"}, False),
        ("a!=b", {}, True),
        ("a in (x, y)", {"a": "y"}, True),
        ("a notin (x)", {}, True),
        ("a,!b", {"a": "1"}, True),
        ("a,!b", {"a": "1", "b": "2"}, False),
        ("example.com/role=rr", {"example.com/role": "rr"}, True),
    ],
)
def test_label_selector(selector: str, labels: dict[str, str], matches: bool) -> None:
    assert parse_label_selector(selector).matches(labels) is matches


@pytest.mark.parametrize("selector", ["a=b,", "=b", "a in (x,,y)", "a b"])
def test_bad_label_selectors(selector: str) -> None:
    with pytest.raises(InputError):
        parse_label_selector(selector)
