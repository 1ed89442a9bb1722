"""Docs that run: every command block of README.md and docs/*.md is executed, in order, in one shell per
document, in a scratch copy of the sample inputs (policies/, topologies/, deploy/, docs/examples/), with the
project's calicotool first on PATH and no Graphviz on PATH. Blocks marked `etcd` get a fresh etcd, `kernel`
blocks need root (as CI has), `checkout` blocks run in the checkout itself (the quickstart), and a short list of
`skip: REASON` blocks is illustrative only. Marker syntax: tests/docs/blocks.py and docs/conventions.md."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.blocks import Block, extract
from tests.fixtures.etcd import etcd_available, etcd_server  # noqa: F401
from tests.fixtures.netns import kernel_available

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SAMPLES = ("policies", "topologies", "deploy", "docs/examples")
GRAPHVIZ = {"dot", "fdp", "neato", "sfdp", "twopi", "circo", "osage", "patchwork"}
DOC_ETCD = "http://127.0.0.1:2379"
MAX_SKIPPED = 6  # illustrative blocks stay few: each one is a place where the docs can rot
DROP_ENV = ("CALICOTOOL_", "DATASTORE_TYPE", "ETCD_", "KUBECONFIG", "K8S_")


def _blocks(doc: Path) -> list[Block]:
    return extract(doc.read_text(), str(doc.relative_to(REPO)))


def _docs_with_blocks() -> list[Path]:
    return [d for d in DOCS if any("skip" not in b.markers for b in _blocks(d))]


def _path_without_graphviz(bin_dir: Path) -> str:
    """A PATH whose only directory holds links to every program on the real PATH except Graphviz's."""
    bin_dir.mkdir()
    for d in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep):
        if not os.path.isdir(d):
            continue
        for entry in sorted(os.listdir(d)):
            link = bin_dir / entry
            if entry in GRAPHVIZ or link.exists() or link.is_symlink():
                continue
            target = os.path.join(d, entry)
            if os.path.isfile(target) and os.access(target, os.X_OK):
                link.symlink_to(target)
    return str(bin_dir)


def _script(blocks: list[Block], etcd_url: str | None, checkout_env: dict[str, str]) -> str:
    """One bash script: shell blocks run with errexit, console commands one by one with their status checked."""
    out = ["set -o pipefail"]
    for i, b in enumerate(blocks):
        body = b.body if etcd_url is None else b.body.replace(DOC_ETCD, etcd_url)
        out.append(f"echo '@@DOCS-BLOCK {i}'")
        if b.lang == "console":
            for j, cmd in enumerate(b.commands()):
                text = cmd.text if etcd_url is None else cmd.text.replace(DOC_ETCD, etcd_url)
                out.append(f"echo '@@DOCS-CMD {i} {j}'")
                out.append(text)
                out.append(f"__rc=$?; if [ $__rc -ne 0 ]; then echo \"@@DOCS-FAIL {i} exit $__rc\"; exit 1; fi")
        elif "checkout" in b.markers:
            exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in checkout_env.items())
            out.append(f"( set -e; cd {shlex.quote(str(REPO))}; export {exports}\n{body})"
                       f" || {{ echo \"@@DOCS-FAIL {i} exit $?\"; exit 1; }}")
        else:
            out.append(f"set -e\n{body}set +e")
    out.append("echo '@@DOCS-END'")
    return "\n".join(out) + "\n"


def _segments(output: str) -> dict[tuple[int, int], list[str]]:
    """Console command (block, index) -> the lines it printed."""
    segs: dict[tuple[int, int], list[str]] = {}
    current: list[str] | None = None
    for line in output.splitlines():
        if line.startswith("@@DOCS-CMD "):
            _, i, j = line.split()
            current = segs.setdefault((int(i), int(j)), [])
        elif line.startswith("@@DOCS-"):
            current = None
        elif current is not None:
            current.append(line.rstrip())
    return segs


def _failure(blocks: list[Block], output: str, returncode: int) -> str:
    markers = [ln for ln in output.splitlines() if ln.startswith("@@DOCS-BLOCK ")]
    where = blocks[int(markers[-1].split()[1])].where if markers else "before the first block"
    tail = "\n".join(output.splitlines()[-60:])
    return f"docs block at {where} failed (shell exit {returncode}); last output:\n{tail}"


def _clean_up(env: dict[str, str], labs: Path) -> None:
    """Labs a doc left up, and the tour's namespace: gone whatever happened."""
    calicotool = str(Path(sys.executable).parent / "calicotool")
    if labs.is_dir():
        for lab in sorted(p.name for p in labs.iterdir() if p.is_dir()):
            subprocess.run([calicotool, "lab", "down", "--name", lab], env=env, capture_output=True, timeout=120)
    if os.geteuid() == 0 and shutil.which("ip"):
        names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
        for ns in names:
            if ns.startswith("ct-tour"):
                subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


@pytest.mark.slow
@pytest.mark.timeout(900)
@pytest.mark.parametrize("doc", _docs_with_blocks(), ids=lambda d: str(d.relative_to(REPO)))
def test_doc_commands_run(doc: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    blocks = [b for b in _blocks(doc) if "skip" not in b.markers]
    needs = {m for b in blocks for m in b.markers}
    if "kernel" in needs and (kernel_available() or not shutil.which("bird")):
        pytest.skip(kernel_available() or "needs BIRD (apt-get install bird)")
    if "etcd" in needs and not etcd_available():
        pytest.skip("needs Debian's etcd-server")
    if "checkout" in needs and sys.prefix == sys.base_prefix:
        pytest.skip("the quickstart block reuses the project's virtual environment: run pytest from .venv")
    work, labs = tmp_path / "work", tmp_path / "labs"
    work.mkdir()
    (tmp_path / "home").mkdir()
    for sample in SAMPLES:
        if (REPO / sample).is_dir():
            shutil.copytree(REPO / sample, work / sample)
    path = _path_without_graphviz(tmp_path / "bin")
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROP_ENV)}
    env.update(PATH=f"{Path(sys.executable).parent}{os.pathsep}{path}", HOME=str(tmp_path / "home"),
               CALICOTOOL_LAB_DIR=str(labs), CALICOTOOL_PROGRESS="off", COLUMNS="130")
    env.pop("NO_COLOR", None)  # not needed: output is a pipe, and nothing may colour a pipe
    etcd_url = None
    if "etcd" in needs:
        etcd = request.getfixturevalue("etcd_server")
        etcd.wipe()  # each document starts from an empty Calico datastore, whatever ran before
        etcd_url = etcd.client_url
    checkout_env = {"CALICOTOOL_VENV": sys.prefix}
    try:
        proc = subprocess.run(["bash", "-c", _script(blocks, etcd_url, checkout_env)], cwd=work, env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=840)
    finally:
        _clean_up(env, labs)
    output = proc.stdout if etcd_url is None else proc.stdout.replace(etcd_url, DOC_ETCD)
    output = output.replace(env["HOME"], "~")  # docs show paths under the reader's home as ~/...
    assert proc.returncode == 0 and output.rstrip().endswith("@@DOCS-END"), _failure(blocks, output, proc.returncode)
    assert "\x1b[" not in output, "terminal escape codes written to a pipe: colour only on a terminal"
    segs = _segments(output)
    for i, b in enumerate(blocks):
        for j, cmd in enumerate(b.commands()):
            missing = [line for line in cmd.expected if line not in segs.get((i, j), [])]
            assert not missing, (f"{b.where}: `{cmd.text}` did not print {missing!r}; it printed:\n"
                                 + "\n".join(segs.get((i, j), [])))


def test_illustrative_blocks_are_few_and_say_why() -> None:
    skipped = [(b.where, b.markers["skip"]) for d in DOCS for b in _blocks(d) if "skip" in b.markers]
    assert len(skipped) <= MAX_SKIPPED, skipped
    assert all(len(reason) > 10 for _, reason in skipped), skipped
