"""Start-up fast paths: `--version`, cached help and shell completion answer without importing Typer or Rich, and
answer exactly what the Typer app would."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from calicotool.cli import startup
from calicotool.cli.context import Environment
from calicotool.cli.main import main
from calicotool.lab.runner import LabState
from calicotool.lab.sources import RrMode, lab_topology
from calicotool.lab.underlay import UnderlayLayout
from tests.conftest import CliResult, CliRunner

PROBE = (
    "import json, sys\n"
    "from calicotool.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'typer', 'rich', 'click', 'yaml', 'pydantic'})\n"
    "sys.stderr.write(json.dumps({'code': code, 'heavy': heavy}))\n"
)


def probe(args: list[str], environ: dict[str, str], cwd: Path) -> tuple[int, str, list[str]]:
    """Run the CLI in a fresh interpreter: (exit status, stdout, heavy packages it imported)."""
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(Path(__file__).resolve().parents[2]), **environ}
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=120)
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["code"], proc.stdout, report["heavy"]


def run(args: list[str], environ: dict[str, str], cwd: Path) -> CliResult:
    out, err = io.StringIO(), io.StringIO()
    code = main(args, env=Environment(stdout=out, stderr=err, environ=environ, cwd=cwd))
    return CliResult(code, out.getvalue(), err.getvalue())


def test_version_imports_neither_typer_nor_rich(tmp_path: Path) -> None:
    code, out, heavy = probe(["--version"], {}, tmp_path)
    assert (code, out.strip(), heavy) == (0, "calicotool 0.1.0", [])


def test_help_and_completion_come_from_the_cache_after_the_first_run(tmp_path: Path) -> None:
    environ = {"CALICOTOOL_CACHE_DIR": str(tmp_path / "cache")}
    code, first, heavy = probe(["lab", "--help"], environ, tmp_path)
    assert code == 0 and "typer" in heavy  # the first run renders with Typer and writes the cache
    assert len(list((tmp_path / "cache").glob("cli-*.json"))) == 1
    code, again, heavy = probe(["lab", "--help"], environ, tmp_path)
    assert (code, again, heavy) == (0, first, [])
    code, out, heavy = probe(["lab"], environ, tmp_path)  # help on stderr, exit 2, still without Typer
    assert (code, out, heavy) == (2, "", [])
    tab = environ | {"_CALICOTOOL_COMPLETE": "complete_bash", "COMP_WORDS": "calicotool lab st", "COMP_CWORD": "2"}
    code, out, heavy = probe([], tab, tmp_path)
    assert (code, out.split(), heavy) == (0, ["status", "stop", "start"], [])


def test_cached_help_is_what_typer_prints_for_every_command(cli: CliRunner, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")  # click caps help at 78 columns on any terminal of 80 or more
    environ = {"CALICOTOOL_CACHE_DIR": str(tmp_path / "cache")}
    helps = startup.build_and_save(environ)["help"]
    assert {"", "get", "delete", "lab up", "policy validate", "rr plan", "host enroll"} <= set(helps)
    for path, text in helps.items():
        typer_said = cli(*path.split(), "--help")  # the fixture has no cache directory: Typer answers
        assert typer_said.exit_code == 0 and typer_said.stdout == text + "\n", path
        assert run([*path.split(), "-h"], environ, tmp_path).stdout == text + "\n", path
        assert "<bool>" not in text and "\\[" not in text, path  # plain help: no Rich labels or escapes
        if path in ("", "datastore", "policy", "rr", "host", "lab"):  # a group without its command: help, exit 2
            typer_said = cli(*path.split())
            cached = run(path.split(), environ, tmp_path)
            assert (cached.exit_code, cached.stdout, cached.stderr) == (2, "", text + "\n") == (
                typer_said.exit_code, typer_said.stdout, typer_said.stderr), path


def test_narrow_terminal_and_stale_cache_are_not_served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    environ = {"CALICOTOOL_CACHE_DIR": str(tmp_path / "cache")}
    startup.build_and_save(environ)
    monkeypatch.setenv("COLUMNS", "100")
    assert startup.cached_help(["lab"], environ) is not None
    monkeypatch.setenv("COLUMNS", "60")  # click wraps differently: Typer must answer
    assert startup.cached_help(["lab"], environ) is None
    assert startup.cached_help(["--debug", "lab"], environ) is None
    cache = Path(str(startup.cache_file(environ)))
    cache.write_text(json.dumps({"format": startup.FORMAT - 1, "help": {"lab": "old"}}))
    assert startup.load(environ) is None
    cache.write_text("{not json")
    assert startup.load(environ) is None
    assert startup.cache_file({}) is None  # no HOME, no cache directory: nothing is cached
    assert not startup.cache_writable({})
    assert startup.cache_writable({"CALICOTOOL_CACHE_DIR": str(tmp_path / "new" / "deeper")})  # created on write


def test_fingerprint_follows_the_code(tmp_path: Path) -> None:
    code = tmp_path / "pkg"
    code.mkdir()
    (code / "a.py").write_text("x = 1\n")
    before = startup.fingerprint([str(code)])
    assert startup.fingerprint([str(code)]) == before
    (code / "a.py").write_text("x = 22\n")
    assert startup.fingerprint([str(code)]) != before
    changed = startup.fingerprint([str(code)])
    (code / "b.py").write_text("")
    assert startup.fingerprint([str(code)]) != changed


class Tab:
    """Completion requests through main(), as the scripts of `--install-completion` send them."""

    def __init__(self, tmp_path: Path) -> None:
        self.cwd = tmp_path
        self.environ = {"CALICOTOOL_CACHE_DIR": str(tmp_path / "cache"), "CALICOTOOL_LAB_DIR": str(tmp_path / "labs")}

    def __call__(self, line: str, shell: str = "bash", **extra: str) -> CliResult:
        environ = self.environ | {"_CALICOTOOL_COMPLETE": f"complete_{shell}"} | extra
        if shell == "bash":
            words = line.split()
            environ |= {"COMP_WORDS": line, "COMP_CWORD": str(len(words) if line.endswith(" ") else len(words) - 1)}
        elif shell == "powershell":
            word = "" if line.endswith(" ") else line.split()[-1]
            environ |= {"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_WORD_TO_COMPLETE": word}
        else:
            environ["_TYPER_COMPLETE_ARGS"] = line
        return run([], environ, self.cwd)

    def words(self, line: str) -> list[str]:
        res = self(line)
        assert res.exit_code == 0, res.stderr
        return res.stdout.split()


@pytest.fixture
def tab(tmp_path: Path) -> Tab:
    return Tab(tmp_path)


def test_completes_commands_options_and_choices(tab: Tab) -> None:
    assert tab.words("calicotool ") == ["get", "apply", "diff", "delete", "datastore", "policy", "rr", "host", "lab"]
    assert tab.words("calicotool -d dir:x l") == ["lab"]  # a root option's value is skipped, not a command
    assert tab.words("calicotool lab up --n") == ["--nodes", "--name", "--no-wait"]
    assert tab.words("calicotool get -o ") == ["yaml", "json", "table"]
    assert tab.words("calicotool get --output=j") == ["--output=json"]
    assert tab.words("calicotool policy import ") == ["aws", "gcp", "k8s"]
    assert tab.words("calicotool nosuch ") == []
    assert tab.words("calicotool apply -f ") == []  # a path: the shell completes files


def test_completes_kinds(tab: Tab) -> None:
    kinds = tab.words("calicotool get ")
    assert {"globalnetworkpolicies", "networkpolicies", "tiers", "bgppeers", "ippools"} <= set(kinds)
    assert tab.words("calicotool delete glob") == ["globalnetworkpolicies", "globalnetworksets"]
    assert tab.words("calicotool get tiers ") == []  # object names would need the datastore: not on a TAB


def test_completes_environments_of_the_rule_sets_on_the_line(tab: Tab, tmp_path: Path) -> None:
    for rel in ("policies/shop/env/dev.yaml", "policies/shop/env/prod.yaml", "policies/db/env/staging.yaml",
                "other/env/lab.yaml", "policies/.hidden/env/secret.yaml"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}\n")
    assert tab.words("calicotool policy generate --env ") == ["dev", "prod", "staging"]
    assert tab.words("calicotool policy lint -e p") == ["prod"]
    assert tab.words("calicotool policy validate other --env ") == ["lab"]
    assert tab.words("calicotool policy diff policies/shop --env=") == ["--env=dev", "--env=prod"]


def test_completes_labs_and_their_nodes(tab: Tab, tmp_path: Path) -> None:
    assert tab.words("calicotool lab status --name ") == []  # no lab directory yet
    names = {}
    for name, nodes in (("lab", 3), ("big", 5)):
        topo = lab_topology(None, nodes, RrMode.mesh, zones=1)
        names[name] = [n.name for n in topo.nodes]
        layout = UnderlayLayout(name, f"ct-{name}-fab", {n.name: f"ct-{name}-{i}" for i, n in enumerate(topo.nodes)})
        (tmp_path / "labs").mkdir(exist_ok=True)
        LabState(name, topo, layout, tmp_path / "labs").save()
    assert tab.words("calicotool lab status --name ") == ["big", "lab"]
    assert tab.words("calicotool lab down -n b") == ["big"]
    assert tab.words("calicotool lab stop ") == names["lab"] and len(names["lab"]) == 3  # default --name lab
    assert tab.words("calicotool lab start --name big ") == names["big"] and len(names["big"]) == 5
    first = names["lab"][0]
    assert tab.words(f"calicotool lab probe {first} ") == names["lab"]  # DST: the same lab's nodes
    assert tab.words(f"calicotool lab probe {first} {first} ") == []


def test_shell_formats(tab: Tab) -> None:
    zsh = tab("calicotool la", shell="zsh")
    assert zsh.exit_code == 0
    assert zsh.stdout.strip() == "_arguments '*: :((\"lab\":\"Network-namespace lab with real BIRD and kernel datapaths.\"))'"
    assert tab("calicotool apply -f ", shell="zsh").stdout.strip() == "_files"
    fish = tab("calicotool get -o y", shell="fish", _TYPER_COMPLETE_FISH_ACTION="get-args")
    assert fish.stdout == "yaml\n"
    assert tab("calicotool get -o ", shell="fish", _TYPER_COMPLETE_FISH_ACTION="is-args").exit_code == 0
    assert tab("calicotool apply -f ", shell="fish", _TYPER_COMPLETE_FISH_ACTION="is-args").exit_code == 1
    assert tab("calicotool get -o t", shell="powershell").stdout == "table::: \n"
    assert tab("calicotool get", shell="tcsh").exit_code == 2


def test_real_bash_completes_through_the_installed_script(tmp_path: Path) -> None:
    """The script `--show-completion bash` prints, sourced into a real bash, gets our answers on a TAB."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    launcher = bindir / "calicotool"
    launcher.write_text(f"#!/bin/sh\nexec {sys.executable} -c "
                        "'import sys; from calicotool.cli.main import main; sys.exit(main())' \"$@\"\n")
    launcher.chmod(0o755)
    (tmp_path / "policies" / "shop" / "env").mkdir(parents=True)
    (tmp_path / "policies" / "shop" / "env" / "prod.yaml").write_text("{}\n")
    env = {"PATH": f"{bindir}:{os.environ.get('PATH', '')}", "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
           "CALICOTOOL_CACHE_DIR": str(tmp_path / "cache"), "HOME": str(tmp_path)}
    script = ('source <(calicotool --show-completion bash)\n'
              'COMP_WORDS=(calicotool policy generate --env ""); COMP_CWORD=4; _calicotool_completion calicotool\n'
              'echo "${COMPREPLY[@]}"\n'
              'COMP_WORDS=(calicotool get glo); COMP_CWORD=2; _calicotool_completion calicotool\n'
              'echo "${COMPREPLY[@]}"\n')
    proc = subprocess.run(["bash", "-c", script], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["prod", "globalnetworkpolicies globalnetworksets"]
