"""One convention across commands, through the real CLI: output options, empty listings, port bounds, counted
nouns, session counts, quiet etcd evaluation."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from calicotool.cli.lab import lab_label
from calicotool.lab.checks import LabReport, NodeReport, check_sessions
from calicotool.lab.runner import wait_phase
from calicotool.lab.sources import RrMode, lab_topology
from calicotool.wording import labelled, plural
from tests.conftest import CliRunner
from tests.datastore.backend_etcd import EtcdStoreFactory, etcd_store_factory  # noqa: F401 - fixture

REPO = Path(__file__).resolve().parents[2]
AWS = REPO / "tests" / "policy" / "fixtures" / "import" / "aws-security-groups.json"
SHOP = REPO / "policies" / "shop"


def test_import_offers_only_the_formats_it_can_print(cli: CliRunner) -> None:
    assert "yaml or json" in cli("policy", "import", "--help").stdout
    table = cli("policy", "import", "aws", str(AWS), "-o", "table")
    assert table.exit_code == 2 and table.stdout == "" and "'table' is not one of 'yaml', 'json'" in table.stderr
    as_json = cli("policy", "import", "aws", str(AWS), "-o", "json")
    assert as_json.exit_code == 0 and json.loads(as_json.stdout)["groups"]


def test_validate_has_an_output_option(cli: CliRunner, tmp_path: Path) -> None:
    human = cli("policy", "validate", str(SHOP))
    assert human.exit_code == 0 and human.stdout == "" and re.fullmatch(r"rule set \S+: ok \(\d+ objects\)\n", human.stderr)
    machine = cli("policy", "validate", str(SHOP), "--env", "prod", "-o", "json")
    assert machine.exit_code == 0, machine.stderr
    verdict = json.loads(machine.stdout)
    assert verdict["valid"] is True and verdict["env"] == "prod" and verdict["objects"] == sum(verdict["kinds"].values())
    assert verdict["objects"] == int(re.findall(r"\d+", human.stderr.split("ok")[1])[0])
    bad = tmp_path / "bad"
    shutil_copy(SHOP, bad)
    ruleset = bad / "ruleset.yaml"
    ruleset.write_text(ruleset.read_text().replace("policies:", "colour: red\npolicies:", 1))
    refused = cli("policy", "validate", str(bad), "-o", "yaml")
    assert refused.exit_code == 2 and refused.stdout == "" and "colour" in refused.stderr
    assert "Traceback" not in refused.stderr


def shutil_copy(src: Path, dst: Path) -> None:
    import shutil

    shutil.copytree(src, dst)


def test_empty_listings_render_alike(cli: CliRunner, tmp_path: Path) -> None:
    environ = {"CALICOTOOL_DATASTORE": f"dir:{tmp_path / 'cluster'}", "CALICOTOOL_LAB_DIR": str(tmp_path / "labs")}
    said = {args: cli(*args.split(), environ=environ) for args in ("get tiers", "host list", "lab list")}
    assert {args: (r.exit_code, r.stdout, r.stderr) for args, r in said.items()} == {
        "get tiers": (0, "", "No tiers found.\n"),
        "host list": (0, "", "No enrolled hosts found.\n"),
        "lab list": (0, "", "No labs found.\n"),
    }
    for args in ("host list", "lab list"):
        as_json = cli(*args.split(), "-o", "json", environ=environ)
        assert (as_json.exit_code, json.loads(as_json.stdout)) == (0, [])
    listing = json.loads(cli("get", "tiers", "-o", "json", environ=environ).stdout)
    assert listing["items"] == []  # get keeps kubectl's List envelope, empty


PORT_MANIFEST = """\
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {{name: p}}
spec:
  selector: all()
  ingress:
  - action: Allow
    protocol: TCP
    destination: {{ports: [{port}]}}
"""


@pytest.mark.parametrize(("port", "accepted"), [("1", True), ("65535", True), ('"1:1023"', True), ("0", False),
                                                ('"0:1023"', False), ('"0"', False), ("65536", False)])
def test_manifests_and_rule_sets_share_calicos_port_bounds(cli: CliRunner, tmp_path: Path, port: str,
                                                           accepted: bool) -> None:
    """Calico's validator refuses port 0 (numbers are 1-65535): manifests and rule sets both say so."""
    manifest = tmp_path / "p.yaml"
    manifest.write_text(PORT_MANIFEST.format(port=port))
    res = cli("apply", "-f", str(manifest), "--dry-run")
    assert res.exit_code == (0 if accepted else 2), res.stderr
    if not accepted:
        assert "out of range 1-65535" in res.stderr and "p.yaml" in res.stderr
    rules = tmp_path / "rules"
    shutil_copy(SHOP, rules)
    ruleset = rules / "ruleset.yaml"
    text = ruleset.read_text()
    first_ports = re.search(r"ports: \[[^\]]*\]", text)
    assert first_ports is not None
    ruleset.write_text(text.replace(first_ports.group(0), f"ports: [{port}]", 1))
    checked = cli("policy", "validate", str(rules))
    assert checked.exit_code == (0 if accepted else 2), checked.stderr
    if not accepted:
        assert "1-65535" in checked.stderr


@pytest.mark.parametrize(("count", "noun", "many", "said"), [
    (0, "group", None, "0 groups"), (1, "group", None, "1 group"), (2, "group", None, "2 groups"),
    (1, "policy", "policies", "1 policy"), (3, "address", "addresses", "3 addresses"),
])
def test_plural(count: int, noun: str, many: str | None, said: str) -> None:
    assert plural(count, noun, many) == said


@pytest.mark.parametrize(("label", "name", "said"), [
    ("zone", "zone-a", "zone-a"), ("zone", "a", "zone a"), ("zone", "", "zone (none)"), ("zone", "zoned", "zone zoned"),
    ("lab", "lab", "lab"), ("lab", "big", "lab big"),
])
def test_labelled(label: str, name: str, said: str) -> None:
    assert labelled(label, name) == said
    assert lab_label(name) == labelled("lab", name)


def test_rr_warnings_name_zones_once(cli: CliRunner) -> None:
    res = cli("rr", "plan", "-t", str(REPO / "topologies" / "problems.yaml"))
    assert res.exit_code == 0 and "sit in zone-a" in res.stderr and "zone zone" not in res.stderr + res.stdout


@pytest.mark.parametrize("mode", [RrMode.mesh, RrMode.auto])
@pytest.mark.parametrize("nodes", [3, 12])
def test_lab_wait_counts_sessions_as_lab_up_announces_them(mode: RrMode, nodes: int) -> None:
    """`lab up` says N sessions (pairs of peers); the wait counts to the same N, not to the 2N session ends."""
    topo = lab_topology(None, nodes, mode)
    alive = {n.name for n in topo.nodes}
    down = LabReport(tuple(NodeReport(n.name, True, n.is_reflector, **check_sessions(n, topo, {}, alive))
                           for n in topo.nodes))
    phase, done, total = wait_phase(down)
    assert (phase, done, total) == ("waiting for sessions Established", 0, len(topo.sessions()))


@pytest.mark.etcd
def test_explain_on_etcd_prints_no_warning(cli: CliRunner, tmp_path: Path,
                                           etcd_store_factory: EtcdStoreFactory) -> None:  # noqa: F811
    """etcd keeps no Kubernetes NetworkPolicy (kube-controllers copies each into etcd as a Calico policy): nothing
    is missing, so explain says nothing about it, on any run."""
    environ = {"CALICOTOOL_DATASTORE": f"etcdv3:{etcd_store_factory.server.client_url}"}
    manifest = tmp_path / "p.yaml"
    manifest.write_text(PORT_MANIFEST.format(port=5432).replace("selector: all()", "selector: app == 'db'"))
    assert cli("apply", "-f", str(manifest), environ=environ).exit_code == 0
    for _ in range(2):
        res = cli("policy", "explain", "--src", "pod:prod/web:app=web", "--dst", "pod:prod/db:app=db", "--port",
                  "5432/TCP", environ=environ)
        assert res.exit_code == 0, res.stderr
        assert res.stderr == "" and "allow" in res.stdout.lower()


ROUGH = re.compile(r"\(s\)|\b1 (?!\w+ss\b)[a-z]+s\b|\bzone zone\b|\blab lab\b")


def test_messages_count_their_nouns(cli: CliRunner, tmp_path: Path) -> None:
    """No "(s)", no "1 nodes", no "zone zone-a" in what a handful of counting commands print."""
    topo = REPO / "topologies" / "small-3zone.yaml"
    runs = [
        cli("rr", "plan", "-t", str(REPO / "topologies" / "problems.yaml")),
        cli("rr", "seed", "-t", str(topo)),
        cli("rr", "reconcile", "--once", "--dry-run"),
        cli("lab", "render", "--nodes", "2", "--out", str(tmp_path / "bird")),
        cli("policy", "generate", str(SHOP), "-o", str(tmp_path / "out")),
        cli("policy", "validate", str(SHOP), "--env", "prod"),
    ]
    assert [r.exit_code for r in runs] == [0, 0, 1, 0, 0, 0], [r.stderr for r in runs]
    assert "wrote BIRD configs for 2 nodes to" in runs[3].stderr
    assert "changes would be made" in runs[2].stderr
    for res in runs:
        assert not ROUGH.search(res.stdout + res.stderr), ROUGH.search(res.stdout + res.stderr)
