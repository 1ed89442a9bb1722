"""Bad input across the CLI, the way a demanding SRE tries it: every row must end in a one-line located error
with the documented exit code (2 bad input, 3 datastore, 4 host, 1 findings), never a traceback or exit 70,
and must leave the working directory (datastore, output dirs) exactly as it was.

Each row is argv (with {w} = the prepared work dir, {port} = a closed 127.0.0.1 port), an optional environment,
the expected exit code and a fragment the last stderr line must contain. No kernel, BIRD or etcd is needed:
unreachable datastores are closed ports on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import os
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from calicotool.cli.context import Environment
from calicotool.cli.main import main

TIER = "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: security}\nspec: {order: 100}\n"
GNP = "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: {name: p}\nspec:\n  selector: all()\n"
RULESET = "apiVersion: calicotool.io/v1alpha1\nkind: RuleSet\nname: t\nnamespace: shop\n"
GROUPS = "groups:\n  web: {selector: app == 'web'}\n  db: {selector: app == 'db'}\n"


def _policy(rule: str) -> str:
    return RULESET + GROUPS + f"policies:\n  - name: p\n    appliesTo: db\n    ingress:\n      - {rule}\n"


def _kubeconfig(server: str) -> str:
    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters: [{{name: c, cluster: {{server: '{server}', insecure-skip-tls-verify: true}}}}]\n"
        "users: [{name: u, user: {token: abc}}]\n"
        "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
    )


# Files every row can use, relative to the work dir. bytes are written as-is.
FILES: dict[str, str | bytes] = {
    "good.yaml": TIER,
    "malformed.yaml": "kind: [unclosed\n  foo: : bar\n",
    "unknown-kind.yaml": "apiVersion: projectcalico.org/v3\nkind: Frobnicator\nmetadata: {name: x}\nspec: {}\n",
    "unknown-field.yaml": "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: x}\nspec: {order: 1, bogus: 2}\n",
    "empty.yaml": "",
    "binary.yaml": b"\x00\x01\xff\xfe\x80garbage\x00",
    "latin1.yaml": TIER.replace("security", "caf\xe9").encode("latin-1"),
    "list.yaml": "- a\n- b\n",
    "duplicate.yaml": TIER + "---\n" + TIER,
    "huge-port.yaml": GNP + "  ingress: [{action: Allow, protocol: TCP, destination: {ports: [70000]}}]\n",
    "reversed-port.yaml": GNP + "  ingress: [{action: Allow, protocol: TCP, destination: {ports: ['90:80']}}]\n",
    "bad-selector.yaml": GNP.replace("all()", "\"app == \""),
    "bad-cidr.yaml": "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\nmetadata: {name: s}\n"
    "spec: {nets: [10.0.0.0/33]}\n",
    "readme-only/README.md": "# nothing to apply\n",
    "emptydir/.keep": "",
    "regular": "a regular file\n",
    "rs/ok/ruleset.yaml": _policy("{from: web, protocol: TCP, ports: [5432]}"),
    "rs/unknown-group/ruleset.yaml": _policy("{from: nosuch, protocol: TCP, ports: [5432]}"),
    "rs/dup-policy/ruleset.yaml": RULESET + GROUPS + "policies:\n  - {name: p, appliesTo: db, ingress: [{from: web}]}\n"
    "  - {name: p, appliesTo: db, ingress: [{from: web}]}\n",
    "rs/dup-key/ruleset.yaml": RULESET + "groups:\n  web: {selector: a == 'b'}\n  web: {selector: a == 'c'}\n",
    "rs/port-70000/ruleset.yaml": _policy("{from: web, protocol: TCP, ports: [70000]}"),
    "rs/port-negative/ruleset.yaml": _policy("{from: web, protocol: TCP, ports: [-5]}"),
    "rs/port-reversed/ruleset.yaml": _policy("{from: web, protocol: TCP, ports: ['90:80']}"),
    "rs/port-icmp/ruleset.yaml": _policy("{from: web, protocol: ICMP, ports: [80]}"),
    "rs/port-no-protocol/ruleset.yaml": _policy("{from: web, ports: [80]}"),
    "rs/mixed-families/ruleset.yaml": _policy("{from: [10.0.0.0/8, 'fd00::/8'], protocol: TCP, ports: [1]}"),
    "rs/bad-cidr/ruleset.yaml": RULESET + "groups:\n  n: {nets: [10.0.0.0/33]}\n",
    "rs/bad-selector/ruleset.yaml": RULESET + "groups:\n  db: {selector: \"app == \"}\n",
    "rs/unknown-field/ruleset.yaml": RULESET + GROUPS + "frobnicate: 1\n",
    "rs/malformed/ruleset.yaml": RULESET + "groups: [\n",
    "rs/binary/ruleset.yaml": b"\xff\xfe\x00bad",
    "rs/cycle/ruleset.yaml": _policy("{from: web}"),
    "rs/cycle/env/a.yaml": "kind: RuleSetOverlay\nextends: b\n",
    "rs/cycle/env/b.yaml": "kind: RuleSetOverlay\nextends: a\n",
    "k8s-reversed-endport.yaml": "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\n"
    "spec: {podSelector: {}, ingress: [{ports: [{port: 80, endPort: 70}]}]}\n",
    "aws-shape.json": '{"SecurityGroups": 5}',
    "kube/garbage": "{{{ not yaml",
    "kube/binary": b"\xff\xfe\x00\x00garbage",
    "kube/empty": "",
    "kube/list": "- a\n- b\n",
    "kube/no-context": "apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n",
    "kube/no-server": "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {}}]\nusers: [{name: u, user: {}}]\n"
    "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
    "kube/dangling": "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\n"
    "contexts: [{name: x, context: {cluster: nosuch, user: nouser}}]\ncurrent-context: x\n",
    "labs-garbage/lab.json": "{garbage",
    "labs-directory/lab.json/.keep": "",
    "topology-binary.yaml": b"\xff\xfe\x00bad",
    # the "billion laughs": 9 aliases of 9 aliases... nine levels deep
    "alias-bomb.yaml": "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)) + TIER,
    "alias-recursive.yaml": "a: &a [1, *a]\n",
    "deep-nesting.yaml": "a: " + "[" * 300 + "]" * 300 + "\n",
    # deep flow nesting: libyaml composes on the C stack (a crash, not an exception) and json.loads recurses
    "deep-flow.yaml": '{"a":' * 100_000 + "1" + "}" * 100_000 + "\n",
    "deep.json": "[" * 100_000 + "]" * 100_000,
    "deep-900.json": '{"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "x"}, '
    '"spec": {"order": 1, "x": ' + "[" * 900 + "]" * 900 + "}}",
    "duplicate-key.yaml": TIER.replace("metadata: {name: security}", "metadata: {name: a}\nmetadata: {name: b}"),
    "metadata-list.yaml": "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: [1]\nspec: {order: 1}\n",
    "spec-list.yaml": "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: x}\nspec: [1]\n",
    "long-name.yaml": "apiVersion: projectcalico.org/v3\nkind: GlobalNetworkSet\n"
    f"metadata: {{name: {'a' * 252}}}\nspec: {{nets: [10.0.0.0/8]}}\n",
    # hand-edited GitOps directories: a broken file, a file holding another object, a non-mapping metadata
    "store-malformed/tiers/security.yaml": "kind: [\n",
    "store-binary/tiers/security.yaml": b"\xff\xfe\x00",
    "store-other-name/tiers/security.yaml": TIER.replace("name: security", "name: other"),
    "store-metadata-list/tiers/security.yaml": "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: [1]\n",
    "store-directory/tiers/security.yaml/.keep": "",
    "store-deep/tiers/security.yaml": "apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: {name: security}\n"
    "spec: {order: 1, x: " + '{"a":' * 100_000 + "1" + "}" * 100_000 + "}\n",  # a directory where a manifest file belongs
    "nan.json": '{"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "x"}, '
    '"spec": {"order": NaN}}',
    "rs/alias-bomb/ruleset.yaml": "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
    + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)),
    "rs/deep/ruleset.yaml": RULESET + "groups: " + "[" * 300 + "]" * 300 + "\n",
}


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    code: int
    message: str
    environ: dict[str, str] = field(default_factory=dict)  # replaces CALICOTOOL_DATASTORE=dir:{w}/cluster


def c(id: str, argv: str | list[str], code: int, message: str, **environ: str) -> Case:
    return Case(id, tuple(argv.split() if isinstance(argv, str) else argv), code, message, environ)


ETCD_DOWN = "--datastore etcdv3:http://127.0.0.1:{port}"
KUBE = {"DATASTORE_TYPE": "kubernetes", "HOME": "{w}"}

CASES = [
    # get / apply / diff / delete
    c("get-missing-kind", "get", 2, "Missing argument"),
    c("get-unknown-kind", "get frob", 2, "unknown kind 'frob'"),
    c("get-bad-output", "get tiers -o xml", 2, "'xml' is not one of"),
    c("get-bad-label-selector", "get tiers -l !!", 2, "label selector"),
    c("apply-no-filename", "apply", 2, "Missing option '--filename'"),
    c("apply-missing-file", "apply -f {w}/missing.yaml", 2, "no such file or directory"),
    c("apply-malformed", "apply -f {w}/malformed.yaml", 2, "malformed.yaml:2:6: malformed YAML"),
    c("apply-unknown-kind", "apply -f {w}/unknown-kind.yaml", 2, "field kind: unknown kind 'Frobnicator'"),
    c("apply-unknown-field", "apply -f {w}/unknown-field.yaml", 2, "field spec.bogus: Tier x: unknown field"),
    c("apply-empty-file", "apply -f {w}/empty.yaml", 2, "no Calico resources in"),
    c("apply-binary", "apply -f {w}/binary.yaml", 2, "binary.yaml: cannot read"),
    c("apply-latin1", "apply -f {w}/latin1.yaml", 2, "latin1.yaml: cannot read"),
    c("apply-list-document", "apply -f {w}/list.yaml", 2, "expected a mapping"),
    c("apply-duplicate", "apply -f {w}/duplicate.yaml", 2, "duplicate Tier/security"),
    c("apply-huge-port", "apply -f {w}/huge-port.yaml", 2, "port 70000 out of range"),
    c("apply-reversed-port", "apply -f {w}/reversed-port.yaml", 2, "is reversed"),
    c("apply-bad-selector", "apply -f {w}/bad-selector.yaml", 2, "field spec.selector"),
    c("apply-bad-cidr", "apply -f {w}/bad-cidr.yaml", 2, "invalid CIDR '10.0.0.0/33'"),
    c("apply-empty-dir", "apply -f {w}/emptydir", 2, "no Calico resources in"),
    c("apply-dir-without-manifests", "apply -f {w}/readme-only --prune", 2, "no Calico resources in"),
    c("apply-alias-bomb", "apply -f {w}/alias-bomb.yaml", 2, "YAML aliases expand to more than"),
    c("apply-recursive-alias", "apply -f {w}/alias-recursive.yaml", 2, "recursive YAML alias"),
    c("apply-deep-nesting", "apply -f {w}/deep-nesting.yaml", 2, "nested more than 200 levels"),
    c("apply-deep-flow-yaml", "apply -f {w}/deep-flow.yaml", 2, "YAML nested more than 200 levels deep"),
    c("apply-deep-json", "apply -f {w}/deep.json", 2, "JSON nested more than 200 levels deep"),
    c("apply-deep-900-json", "apply -f {w}/deep-900.json", 2, "JSON nested more than 200 levels deep"),
    c("policy-deep-flow-yaml", "policy validate {w}/deep-flow.yaml", 2, "YAML nested more than 200 levels deep"),
    c("import-deep-json", "policy import aws {w}/deep.json", 2, "nested too deeply"),
    c("import-k8s-deep-flow", "policy import k8s {w}/deep-flow.yaml", 2, "YAML nested more than 200 levels deep"),
    c("store-deep-flow", "--datastore dir:{w}/store-deep get tiers", 3, "nested more than 200 levels deep"),
    c("apply-duplicate-key", "apply -f {w}/duplicate-key.yaml", 2, "duplicate-key.yaml:4:1: duplicate key 'metadata'"),
    c("apply-metadata-list", "apply -f {w}/metadata-list.yaml", 2, "field metadata: metadata must be a mapping"),
    c("apply-spec-list", "apply -f {w}/spec-list.yaml --dry-run", 2, "field spec: spec must be a mapping"),
    c("apply-nan", "apply -f {w}/nan.json", 2, "field spec.order: not a finite number"),
    c("apply-bad-output", "apply -f {w}/good.yaml -o xml", 2, "'xml' is not one of"),
    c("diff-empty-dir", "diff -f {w}/emptydir", 2, "no Calico resources in"),
    c("diff-malformed", "diff -f {w}/malformed.yaml", 2, "malformed YAML"),
    c("delete-missing-name", "delete tier", 2, "Missing argument 'name'"),
    c("delete-unknown-kind", "delete frob x", 2, "unknown kind 'frob'"),
    c("delete-not-found", "delete tier nosuch", 3, "Tier nosuch not found"),
    c("get-name-too-long", ["get", "gnp", "a" * 300], 3, "a file name holds at most 250"),
    c("apply-name-too-long", "apply -f {w}/long-name.yaml", 3, "a file name holds at most 250"),
    c("get-namespace-traversal", "get networkpolicies passwd -n ../../../etc", 3, "namespace '../../../etc'"),
    c("list-namespace-traversal", "get networkpolicies -n ../../../etc", 3, "namespace '../../../etc'"),
    c("list-namespace-glob", ["get", "networkpolicies", "-n", "*"], 3, "namespace '*'"),
    c("delete-namespace-traversal", "delete networkpolicies passwd -n ../../../etc", 3, "namespace '../../../etc'"),
    # datastore selection and reachability
    c("store-malformed-get", "--datastore dir:{w}/store-malformed get tiers", 3,
      "security.yaml: cannot parse stored resource: line 2:"),
    c("store-malformed-apply", "--datastore dir:{w}/store-malformed apply -f {w}/good.yaml", 3,
      "cannot parse stored resource"),
    c("store-binary-get", "--datastore dir:{w}/store-binary get tiers security", 3, "cannot parse stored resource"),
    c("store-other-name-get", "--datastore dir:{w}/store-other-name get tiers", 3,
      "holds Tier other, expected Tier security"),
    c("store-other-name-delete", "--datastore dir:{w}/store-other-name delete tier security", 3,
      "holds Tier other, expected Tier security"),
    c("store-metadata-list-explain", "--datastore dir:{w}/store-metadata-list policy explain --src ip:10.0.0.1 "
      "--dst ip:10.0.0.2", 3, "metadata that is not a mapping"),
    c("store-directory-apply", "--datastore dir:{w}/store-directory apply -f {w}/good.yaml", 3,
      "security.yaml: cannot read stored resource: Is a directory"),
    c("store-directory-list", "--datastore dir:{w}/store-directory get tiers", 3, "Is a directory"),
    c("bad-datastore-scheme", "--datastore bogus:x get tiers", 2, "bad datastore 'bogus:x'"),
    c("etcd-no-endpoints", "--datastore etcdv3: get tiers", 2, "needs endpoints"),
    c("etcd-bad-port", "--datastore etcdv3:http://127.0.0.1:99999 get tiers", 2, "the port is not a number"),
    c("etcd-bad-scheme", "--datastore etcdv3:ftp://x:1 get tiers", 2, "bad etcd endpoint"),
    c("etcd-down-get", f"{ETCD_DOWN} get tiers", 3, "cannot reach etcd"),
    c("etcd-down-check", f"{ETCD_DOWN} datastore check", 3, "connection refused"),
    c("etcd-down-apply", f"{ETCD_DOWN} apply -f {{w}}/good.yaml", 3, "cannot reach etcd"),
    c("etcd-env-down", "datastore check", 3, "cannot reach etcd", DATASTORE_TYPE="etcdv3",
      ETCD_ENDPOINTS="http://127.0.0.1:{port}"),
    c("datastore-type-unknown", "datastore check", 2, "DATASTORE_TYPE='frob'", DATASTORE_TYPE="frob"),
    c("dir-is-a-file", "--datastore dir:{w}/regular get tiers", 3, "is not a directory"),
    c("dir-under-a-file", "--datastore dir:{w}/regular/sub apply -f {w}/good.yaml", 3,
      "regular/sub cannot exist: {w}/regular is not a directory"),
    c("dir-under-a-file-read", "--datastore dir:{w}/regular/sub get tiers", 3, "is not a directory"),
    c("dir-under-a-file-policy-diff", "--datastore dir:{w}/regular/sub policy diff {w}/rs/ok", 3, "is not a directory"),
    c("etcd-port-0", "--datastore etcdv3:http://127.0.0.1:0 get tiers", 2, "port 0"),
    c("dir-empty-path", "--datastore dir: get tiers", 2, "dir: needs a path"),
    c("datastore-check-bad-output", "datastore check -o xml", 2, "'xml' is not one of"),
    c("kube-api-down", "datastore check", 3, "cannot reach Kubernetes API server", KUBECONFIG="{w}/kube/closed", **KUBE),
    c("kube-config-missing", "datastore check", 3, "no kubeconfig found", KUBECONFIG="{w}/kube/nope", **KUBE),
    c("kube-config-garbage", "datastore check", 2, "not valid YAML", KUBECONFIG="{w}/kube/garbage", **KUBE),
    c("kube-config-binary", "datastore check", 2, "cannot read kubeconfig", KUBECONFIG="{w}/kube/binary", **KUBE),
    c("kube-config-empty", "datastore check", 2, "cannot read kubeconfig", KUBECONFIG="{w}/kube/empty", **KUBE),
    c("kube-config-list", "datastore check", 2, "cannot read kubeconfig", KUBECONFIG="{w}/kube/list", **KUBE),
    c("kube-config-no-context", "datastore check", 2, "sets no current-context", KUBECONFIG="{w}/kube/no-context",
      **KUBE),
    c("kube-config-no-server", "datastore check", 2, "sets no server", KUBECONFIG="{w}/kube/no-server", **KUBE),
    c("kube-config-dangling-context", "datastore check", 2, "Expected object with name nosuch",
      KUBECONFIG="{w}/kube/dangling", **KUBE),
    c("kube-unknown-context", "--context nosuch datastore check", 2, "context 'nosuch' not found",
      KUBECONFIG="{w}/kube/closed", **KUBE),
    # policy: rule sets
    c("policy-unknown-group", "policy validate {w}/rs/unknown-group", 2,
      "field policies[0].ingress[0].from: unknown group 'nosuch'"),
    c("policy-duplicate-policy", "policy validate {w}/rs/dup-policy", 2, "duplicate policy 'p'"),
    c("policy-duplicate-key", "policy validate {w}/rs/dup-key", 2, "duplicate key 'web'"),
    c("policy-port-70000", "policy validate {w}/rs/port-70000", 2, "port 70000 out of range"),
    c("policy-port-negative", "policy validate {w}/rs/port-negative", 2, "port -5 out of range"),
    c("policy-port-reversed", "policy validate {w}/rs/port-reversed", 2, "is reversed"),
    c("policy-port-icmp", "policy validate {w}/rs/port-icmp", 2, "ports need protocol TCP, UDP or SCTP"),
    c("policy-port-no-protocol", "policy validate {w}/rs/port-no-protocol", 2, "protocol is unset"),
    c("policy-mixed-families", "policy validate {w}/rs/mixed-families", 2, "mixes IPv4 and IPv6"),
    c("policy-bad-cidr", "policy validate {w}/rs/bad-cidr", 2, "invalid CIDR '10.0.0.0/33'"),
    c("policy-bad-selector", "policy validate {w}/rs/bad-selector", 2, "field groups.db.selector: invalid selector"),
    c("policy-unknown-field", "policy validate {w}/rs/unknown-field", 2, "unknown field 'frobnicate'"),
    c("policy-malformed", "policy validate {w}/rs/malformed", 2, "malformed YAML"),
    c("policy-binary", "policy validate {w}/rs/binary", 2, "cannot read"),
    c("policy-overlay-cycle", "policy validate {w}/rs/cycle --env a", 2, "overlay cycle: a -> b -> a"),
    c("policy-alias-bomb", "policy validate {w}/rs/alias-bomb", 2, "YAML aliases expand to more than"),
    c("policy-deep-nesting", "policy validate {w}/rs/deep", 2, "nested more than 200 levels"),
    c("policy-env-missing", "policy validate {w}/rs/ok --env nosuch", 2, "no overlay for environment 'nosuch'"),
    c("policy-empty-dir", "policy validate {w}/emptydir", 2, "no rule-set files"),
    c("policy-missing-path", "policy validate {w}/nope", 2, "no such file or directory"),
    c("policy-calico-manifest", "policy validate {w}/good.yaml", 2, "is not one of ['RuleSet', 'RuleSetOverlay']"),
    c("policy-bad-calico-version", "policy validate {w}/rs/ok --calico-version banana", 2, "expected MAJOR.MINOR"),
    c("policy-calico-version-2", "policy validate {w}/rs/ok --calico-version 2.6", 2, "for Calico 3.x"),
    c("generate-unknown-group", "policy generate {w}/rs/unknown-group -o {w}/out", 2, "unknown group 'nosuch'"),
    c("generate-under-a-file", "policy generate {w}/rs/ok -o {w}/regular/sub", 2, "is not a directory"),
    c("generate-dry-run-under-a-file", "policy generate {w}/rs/ok -o {w}/regular/sub --dry-run", 2,
      "is not a directory"),
    c("generate-into-a-file", "policy generate {w}/rs/ok -o {w}/regular", 2, "is not a directory"),
    c("generate-o-is-not-a-format", "policy generate {w}/rs/ok -o yaml", 2, "-o is generate's output directory"),
    c("generate-unwritable", "policy generate {w}/rs/ok -o /proc/calicotool-nope", 2,
      "cannot create the output directory"),
    c("lint-bad-output", "policy lint {w}/rs/ok -o xml", 2, "'xml' is not one of"),
    c("lint-endpoints-binary", "policy lint {w}/rs/ok --endpoints {w}/binary.yaml", 2, "not UTF-8"),
    c("lint-endpoints-malformed", "policy lint {w}/rs/ok --endpoints {w}/malformed.yaml", 2,
      "malformed.yaml:2:6: malformed YAML"),
    c("lint-endpoints-dir", "policy lint {w}/rs/ok --endpoints {w}/emptydir", 2, "cannot read endpoints"),
    c("policy-diff-malformed", "policy diff {w}/rs/malformed", 2, "malformed YAML"),
    c("policy-apply-unknown-group", "policy apply {w}/rs/unknown-group", 2, "unknown group 'nosuch'"),
    c("policy-apply-etcd-down", f"{ETCD_DOWN} policy apply {{w}}/rs/ok", 3, "cannot reach etcd"),
    # policy selector
    c("selector-missing", "policy selector", 2, "Missing argument 'EXPR'"),
    c("selector-invalid", ["policy", "selector", "app == "], 2, "column 8"),
    c("selector-deep-nesting", ["policy", "selector", "(" * 2000 + "all()" + ")" * 2000], 2, "nested more than"),
    c("selector-bad-label", ["policy", "selector", "a == 'x'", "-l", "novalue"], 2, "expected KEY=VALUE"),
    # policy import
    c("import-missing-args", "policy import", 2, "Missing argument"),
    c("import-unknown-source", "policy import frob {w}/good.yaml", 2, "'frob' is not one of"),
    c("import-malformed-json", "policy import aws {w}/malformed.yaml", 2, "malformed JSON"),
    c("import-binary", "policy import gcp {w}/binary.yaml", 2, "not UTF-8"),
    c("import-aws-shape", "policy import aws {w}/aws-shape.json", 2, "SecurityGroups list"),
    c("import-k8s-malformed", "policy import k8s {w}/malformed.yaml", 2, "malformed.yaml:2:6: malformed YAML"),
    c("import-k8s-reversed-endport", "policy import k8s {w}/k8s-reversed-endport.yaml", 2, "'80:70' is reversed"),
    # policy explain / matrix
    c("explain-missing-src", "policy explain", 2, "Missing option '--src'"),
    c("explain-unknown-group", "policy explain --src nosuch --dst db -p {w}/rs/ok", 2, "no group of that name"),
    c("explain-port-70000", "policy explain --src web --dst db -p {w}/rs/ok --port 70000/TCP", 2, "out of range"),
    c("explain-bad-protocol", "policy explain --src web --dst db -p {w}/rs/ok --port 80/FROB", 2, "unknown protocol"),
    c("explain-icmp-with-port", "policy explain --src web --dst db -p {w}/rs/ok --port 80/ICMP", 2, "ICMP has no ports"),
    c("explain-icmp-type-300", "policy explain --src web --dst db -p {w}/rs/ok --port ICMP:300", 2,
      "ICMP type 300 out of range"),
    c("explain-icmp-code-999", "policy explain --src web --dst db -p {w}/rs/ok --port ICMP:3/999", 2,
      "ICMP code 999 out of range"),
    c("explain-src-port-70000", "policy explain --src web --dst db -p {w}/rs/ok --src-port 70000", 2,
      "--src-port 70000 out of range"),
    c("explain-mixed-families", "policy explain --src ip:10.0.0.1 --dst ip:fd00::1 -m {w}/good.yaml", 2,
      "a flow stays within one IP version"),
    c("explain-icmpv6-between-ipv4", "policy explain --src ip:10.0.0.1 --dst ip:10.0.0.2 -m {w}/good.yaml "
      "--port ICMPv6:128", 2, "ICMPv6 cannot flow between IPv4 addresses"),
    c("explain-bad-ip", "policy explain --src ip:999.1.1.1 --dst db -p {w}/rs/ok", 2, "invalid IP address"),
    c("explain-both-sources", "policy explain --src web --dst db -p {w}/rs/ok -m {w}/good.yaml", 2, "not both"),
    c("explain-etcd-down", f"{ETCD_DOWN} policy explain --src ip:10.0.0.1 --dst ip:10.0.0.2", 3, "cannot reach etcd"),
    c("matrix-bad-port", "policy matrix -p {w}/rs/ok --port 70000/TCP", 2, "out of range"),
    c("matrix-unknown-endpoint", "policy matrix -p {w}/rs/ok --endpoint nosuch", 2, "no group of that name"),
    c("matrix-nothing-to-compare", "policy matrix -m {w}/emptydir", 2, "no endpoints to compare"),
    # host (input checks happen before any kernel or datastore write)
    c("enroll-missing-address", "host enroll h1", 2, "Missing option '--address'"),
    c("enroll-bad-address", "host enroll h1 --address garbage", 2, "expected UNDERLAY_IP/PREFIX"),
    c("enroll-prefix-33", "host enroll h1 --address 10.0.0.1/33", 2, "bad --address"),
    c("enroll-ipv6", "host enroll h1 --address fd00::1/64", 2, "expected an IPv4"),
    c("enroll-bad-name", "host enroll Bad_Name! --address 127.0.0.1/8", 2, "not a DNS-1123 subdomain"),
    c("enroll-bad-mode", "host enroll h1 --address 127.0.0.1/8 --mode gre", 2, "--mode must be one of"),
    c("enroll-bad-label", "host enroll h1 --address 127.0.0.1/8 --labels novalue", 2, "expected key=value"),
    c("enroll-bad-label-key", ["host", "enroll", "h1", "--address", "127.0.0.1/8", "--labels", "bad key=v"], 2,
      "invalid label key 'bad key'"),
    c("enroll-unknown-interface", "host enroll h1 --address 127.0.0.1/8 --interface nosuch0", 2, "unknown interface"),
    c("enroll-address-not-local", "host enroll h1 --address 10.99.0.1/24", 2, "is not configured on any interface"),
    c("enroll-no-pool", "host enroll h1 --address 127.0.0.1/8 --dry-run", 2, "no enabled IPv4 IPPool"),
    c("enroll-missing-netns", "host enroll h1 --address 127.0.0.1/8 --netns calicotool-nosuch", 2,
      "no network namespace"),
    c("enroll-etcd-down", f"{ETCD_DOWN} host enroll h1 --address 127.0.0.1/8", 3, "cannot reach etcd"),
    c("status-not-enrolled", "host status nosuch", 2, "is not enrolled"),
    c("sync-not-enrolled", "host sync nosuch --dry-run", 2, "is not enrolled"),
    c("unenroll-not-enrolled", "host unenroll nosuch", 2, "is not enrolled"),
    c("list-etcd-down", f"{ETCD_DOWN} host list", 3, "cannot reach etcd"),
    c("list-bad-output", "host list -o xml", 2, "'xml' is not one of"),
    c("dns-not-enrolled", "host dns nosuch", 2, "not enrolled: nosuch"),
    c("dns-bad-format", "host dns --format frob", 2, "--format must be"),
    c("dns-bad-cluster-dns", "host dns --format resolver --cluster-dns zz", 2, "is not an IP address"),
    c("dns-resolver-needs-server", "host dns --format resolver", 2, "--cluster-dns IP is required"),
    c("dns-bad-zone", "host dns --zone bad!zone", 2, "is not a DNS name"),
    c("dns-bad-namespace", "host dns --format kubernetes --namespace BAD_NS", 2, "is not a valid namespace"),
    # lab (refused before any namespace or BIRD is started)
    c("lab-nothing", "lab up", 2, "give exactly one of --topology FILE or --nodes N"),
    c("lab-nodes-0", "lab up --nodes 0", 2, "--nodes must be 2..200"),
    c("lab-nodes-huge", "lab up --nodes 100000", 2, "--nodes must be 2..200"),
    c("lab-nodes-not-int", "lab up --nodes abc", 2, "Invalid value for '--nodes'"),
    c("lab-topology-missing", "lab up --topology {w}/nope.yaml", 2, "cannot read topology"),
    c("lab-topology-malformed", "lab up --topology {w}/malformed.yaml", 2, "not valid YAML"),
    c("lab-topology-binary", "lab up --topology {w}/topology-binary.yaml", 2, "not UTF-8"),
    c("lab-topology-dir", "lab up --topology {w}/emptydir", 2, "cannot read topology"),
    c("lab-bad-rr", "lab up --nodes 3 --rr frob", 2, "--rr must be current, mesh or auto"),
    c("lab-bad-name", "lab up --nodes 3 --name ../x", 2, "must be 1-16 lowercase letters or digits"),
    c("lab-negative-timeout", "lab up --nodes 3 --timeout -5", 2, "--timeout must be a number of seconds >= 0"),
    c("lab-nan-timeout", "lab up --nodes 3 --timeout nan", 2, "--timeout must be a number of seconds >= 0"),
    c("lab-k-0", "lab up --nodes 3 --rr auto --k 0", 2, "k must be >= 1"),
    c("lab-bad-output", "lab up --nodes 3 -o xml", 2, "'xml' is not one of"),
    c("lab-status-bad-name", "lab status --name BAD", 2, "must be 1-16 lowercase letters or digits"),
    c("lab-status-negative-wait", "lab status --wait -1", 2, "--wait must be a number of seconds >= 0"),
    c("lab-status-damaged-state", "lab status", 2, "lab state file is damaged", CALICOTOOL_LAB_DIR="{w}/labs-garbage"),
    c("lab-status-state-is-a-directory", "lab status", 2, "lab state file is damaged: Is a directory",
      CALICOTOOL_LAB_DIR="{w}/labs-directory"),
    c("lab-down-bad-name", "lab down --name ../x", 2, "must be 1-16 lowercase letters or digits"),
]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _snapshot(root: Path) -> dict[str, str]:
    """Every path under root with a content hash: what 'nothing written' is checked against. The directory
    store's empty lock file in a store that already exists is not data, so it does not count."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
        if p.name != ".calicotool.lock"
    }


@pytest.fixture(scope="module")
def closed_port() -> int:
    return _closed_port()


@pytest.fixture
def workdir(tmp_path: Path, closed_port: int) -> Path:
    for rel, content in FILES.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    (tmp_path / "kube" / "closed").write_text(_kubeconfig(f"https://127.0.0.1:{closed_port}"))
    return tmp_path


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case: Case, workdir: Path, closed_port: int) -> None:
    def fill(text: str) -> str:
        return text.replace("{w}", str(workdir)).replace("{port}", str(closed_port))

    argv = [fill(a) for a in case.argv]
    environ = {k: fill(v) for k, v in case.environ.items()} or {"CALICOTOOL_DATASTORE": f"dir:{workdir / 'cluster'}"}
    environ.setdefault("HOME", str(workdir))
    environ.setdefault("CALICOTOOL_LAB_DIR", str(workdir / "labs"))  # never look at a real lab's state
    before = _snapshot(workdir)
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, env=Environment(stdout=out, stderr=err, environ=environ, cwd=workdir))
    stderr = err.getvalue()
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    assert code == case.code, f"exit {code}, stderr: {stderr}"
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines, f"no message on stderr; stdout: {out.getvalue()}"
    assert fill(case.message) in stderr, stderr
    if not lines[0].startswith(("Usage:", "Error:")):  # click's usage banner aside: one located error per line
        assert all(line.startswith(("error: ", "datastore error: ", "host error: ")) for line in lines), stderr
        assert any(fill(case.message) in line for line in lines), stderr
    assert _snapshot(workdir) == before, "bad input changed files under the work dir"


@pytest.fixture(scope="module")
def not_etcd() -> Iterator[str]:
    """An HTTP server on 127.0.0.1 that is not etcd: a web page for /version, a JSON list for everything else."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body, kind = (b"<html>hello</html>", "text/html") if self.path == "/version" else (b"[1, 2]", "application/json")
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, *args: object) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("argv", [["get", "tiers"], ["apply", "-f", "{w}/good.yaml"], ["host", "list"]])
def test_endpoint_that_is_not_etcd(argv: list[str], workdir: Path, not_etcd: str) -> None:
    before = _snapshot(workdir)
    err = io.StringIO()
    args = ["--datastore", f"etcdv3:{not_etcd}", *(a.replace("{w}", str(workdir)) for a in argv)]
    code = main(args, env=Environment(stdout=io.StringIO(), stderr=err, environ={"HOME": str(workdir)}, cwd=workdir))
    assert code == 3, err.getvalue()
    assert err.getvalue().count("\n") == 1 and "does not answer like etcd's v3 API" in err.getvalue()
    assert _snapshot(workdir) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="lab up refuses non-root users before it looks at its state directory")
def test_lab_state_dir_under_a_file(workdir: Path) -> None:
    """Refused before any namespace or BIRD is started (a failure later would be rolled back, but never gets here)."""
    before, err = _snapshot(workdir), io.StringIO()
    environ = {"CALICOTOOL_LAB_DIR": str(workdir / "regular" / "labs"), "HOME": str(workdir)}
    code = main(["lab", "up", "--nodes", "2", "--name", "sweep"],
                env=Environment(stdout=io.StringIO(), stderr=err, environ=environ, cwd=workdir))
    assert code == 2, err.getvalue()
    assert "cannot create the lab state directory" in err.getvalue() and err.getvalue().count("\n") == 1
    assert _snapshot(workdir) == before
    namespaces = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
    assert not [ns for ns in namespaces if "sweep" in ns]


def test_dir_datastore_expands_tilde(workdir: Path) -> None:
    """`--datastore dir:~/gitops`: the shell does not expand `~` after `dir:`; a literal ./~ directory is a trap."""
    home = workdir / "home"
    out, err = io.StringIO(), io.StringIO()
    code = main(["--datastore", "dir:~/gitops", "apply", "-f", str(workdir / "good.yaml")],
                env=Environment(stdout=out, stderr=err, environ={"HOME": str(home)}, cwd=workdir))
    assert code == 0, err.getvalue()
    assert (home / "gitops" / "tiers" / "security.yaml").is_file()
