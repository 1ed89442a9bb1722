"""Loading manifests: every bad input gets file, document index, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from calicotool.errors import InputError, ValidationFailed
from calicotool.model.loader import load_paths

GOOD = """\
apiVersion: projectcalico.org/v3
kind: Tier
metadata:
  name: security
spec:
  order: 100
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: web
  namespace: prod
spec:
  selector: app == 'web'
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_loads_multi_document_yaml_and_lists(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(
        tmp_path,
        "b.json",
        '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "projectcalico.org/v3", '
        '"kind": "BGPPeer", "metadata": {"name": "tor"}, "spec": {"peerIP": "192.0.2.1"}}]}',
    )
    write(tmp_path, "kustomization.yaml", "resources: [a.yaml]\n")
    loaded = load_paths([tmp_path])
    assert [(x.resource.kind, x.resource.name) for x in loaded] == [
        ("Tier", "security"),
        ("NetworkPolicy", "web"),
        ("BGPPeer", "tor"),
    ]
    assert loaded[1].location.document == 1
    assert loaded[2].location.field == "items[0]"


@pytest.mark.parametrize(
    "text, expect",
    [
        ("kind: Tier\n  bad: [\n", "malformed YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        ("apiVersion: projectcalico.org/v3\nmetadata: {name: x}\n", "missing kind"),
        ("apiVersion: projectcalico.org/v3\nkind: Firewall\nmetadata: {name: x}\n", "unknown kind 'Firewall'"),
        ("apiVersion: example.com/v1\nkind: Tier\nmetadata: {name: x}\n", "unsupported apiVersion"),
        ("apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: x}\nspec:\n  ordr: 1\n", "unknown field 'ordr'"),
    ],
)
def test_bad_documents(tmp_path: Path, text: str, expect: str) -> None:
    write(tmp_path, "bad.yaml", text)
    with pytest.raises(InputError) as info:
        load_paths([tmp_path])
    assert expect in str(info.value)
    assert "bad.yaml" in str(info.value)


def test_error_points_at_line_of_field(tmp_path: Path) -> None:
    write(
        tmp_path,
        "p.yaml",
        GOOD + "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata:\n"
        "  name: x\nspec:\n  ingress:\n  - action: Allow\n    protocol: TCP\n"
        "    destination:\n      ports: [99999]\n",
    )
    with pytest.raises(ValidationFailed) as info:
        load_paths([tmp_path])
    err = info.value.errors[0]
    assert err.location.document == 2
    assert err.location.line == 25
    assert err.location.field == "spec.ingress[0].destination.ports[0]"
    assert str(err).startswith(f"{tmp_path / 'p.yaml'}:25, document 2, field spec.ingress[0].destination.ports[0]")


def test_all_errors_reported_together_and_duplicates(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD.replace("order: 100", "order: many"))
    write(tmp_path, "c.yaml", GOOD.split("---")[1])
    with pytest.raises(ValidationFailed) as info:
        load_paths([tmp_path])
    messages = info.value.details()
    assert any("not of type" in m for m in messages)
    assert any("duplicate NetworkPolicy/prod/web" in m for m in messages)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_paths([tmp_path / "nope"])
