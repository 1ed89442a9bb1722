"""Shell completion without Typer. Answers the protocol of the scripts `calicotool --install-completion` installs
(bash, zsh, fish, PowerShell) from the start-up cache's command tree, plus values read at TAB time: Calico kinds,
the environments of the rule sets on the command line (or ./policies), lab names, and the nodes of the lab named
by --name. Reads files only; never the datastore (a TAB must not hang on a network)."""

from __future__ import annotations

import json
import os

TYPE_CHECKING = False  # typing and dataclasses cost more than the rest of a TAB press: kept out of it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

COMPLETE_VAR = "_CALICOTOOL_COMPLETE"
ENV_DIR = "env"  # the overlay directory of a rule set (see calicotool.policy.loader)
DEFAULT_LAB_DIR = "/run/calicotool-lab"  # as calicotool.cli.lab


class Request:
    """What the shell asks: the words before the cursor and the word being completed."""

    def __init__(self, shell: str, args: list[str], incomplete: str) -> None:
        self.shell, self.args, self.incomplete = shell, args, incomplete


class Position:
    """Where the words before the cursor leave us: the command node, option values seen, the option awaiting a
    value (if any), and the index of the next positional argument."""

    def __init__(self, node: dict[str, Any], values: dict[str, list[str]] | None = None) -> None:
        self.node = node
        self.values: dict[str, list[str]] = {} if values is None else values
        self.expect: dict[str, Any] | None = None
        self.arg_index = 0


def _split(line: str) -> list[str]:
    if any(q in line for q in "'\"\\"):
        import shlex

        try:
            return shlex.split(line)
        except ValueError:  # an open quote: the word being typed
            pass
    return line.split()


def parse_request(environ: Mapping[str, str]) -> Request | None:
    """What the shell asks: the words before the cursor and the word being completed."""
    shell = environ.get(COMPLETE_VAR, "").partition("_")[2]
    if shell == "bash":
        words = _split(environ.get("COMP_WORDS", ""))
        cword = int(environ.get("COMP_CWORD", "0") or 0)
        return Request(shell, words[1:cword], words[cword] if cword < len(words) else "")
    if shell in ("zsh", "fish"):
        line = environ.get("_TYPER_COMPLETE_ARGS", "")
        args = _split(line)[1:]
        incomplete = args.pop() if args and not line.endswith(" ") else ""
        return Request(shell, args, incomplete)
    if shell in ("powershell", "pwsh"):
        incomplete = environ.get("_TYPER_COMPLETE_WORD_TO_COMPLETE", "")
        words = _split(environ.get("_TYPER_COMPLETE_ARGS", ""))
        return Request(shell, words[1:-1] if incomplete else words[1:], incomplete)
    return None


def walk(tree: dict[str, Any], args: list[str]) -> Position | None:
    """Follow `args` through the command tree; None when they name no command."""
    pos = Position(tree)
    only_args = False
    for word in args:
        if pos.expect is not None:
            pos.values.setdefault(pos.expect["dest"], []).append(word)
            pos.expect = None
        elif not only_args and word == "--":
            only_args = True
        elif not only_args and word.startswith("-") and word != "-":
            name, eq, value = word.partition("=")
            option = pos.node["options"].get(name)
            if option and option["value"]:
                if eq:
                    pos.values.setdefault(option["dest"], []).append(value)
                else:
                    pos.expect = option
        elif "commands" in pos.node:
            if word not in pos.node["commands"]:
                return None
            pos = Position(pos.node["commands"][word], pos.values)
        else:
            arguments = pos.node["args"]
            if arguments:
                arg = arguments[min(pos.arg_index, len(arguments) - 1)]
                pos.values.setdefault(arg["dest"], []).append(word)
            pos.arg_index += 1
    return pos


def candidates(tree: dict[str, Any], req: Request, environ: Mapping[str, str], cwd: str) -> list[tuple[str, str]]:
    """(value, help) pairs for the word being completed."""
    pos = walk(tree, req.args)
    if pos is None:
        return []
    word = req.incomplete
    if pos.expect is not None:
        return _values(pos.expect["complete"], word, pos.values, environ, cwd)
    if word.startswith("--") and "=" in word:
        name, _, part = word.partition("=")
        option = pos.node["options"].get(name)
        if not option or not option["value"]:
            return []
        return [(f"{name}={v}", h) for v, h in _values(option["complete"], part, pos.values, environ, cwd)]
    if word.startswith("-"):
        return [(name, o["help"]) for name, o in pos.node["options"].items() if name.startswith(word)]
    if "commands" in pos.node:
        return [(name, c["help"]) for name, c in pos.node["commands"].items() if name.startswith(word)]
    arguments = pos.node["args"]
    if pos.arg_index < len(arguments) or (arguments and arguments[-1]["nargs"] == -1):
        arg = arguments[min(pos.arg_index, len(arguments) - 1)]
        return _values(arg["complete"], word, pos.values, environ, cwd)
    return []


def _values(source: Any, word: str, values: dict[str, list[str]], environ: Mapping[str, str],
            cwd: str) -> list[tuple[str, str]]:
    if isinstance(source, list):
        found = source
    elif source == "envs":
        found = environments(values.get("paths") or values.get("policies") or ["policies"], cwd)
    elif source == "labs":
        found = labs(environ)
    elif source == "nodes":
        found = lab_nodes(environ, (values.get("name") or ["lab"])[-1])
    else:  # a path, or free text: the shell's own completion
        found = []
    return [(v, "") for v in found if v.startswith(word)]


def environments(paths: list[str], cwd: str) -> list[str]:
    """Overlay names (`env/NAME.yaml`) next to the rule sets under `paths`."""
    names: set[str] = set()
    for path in paths:
        top = path if os.path.isabs(path) else os.path.join(cwd, path)
        top = top if os.path.isdir(top) else os.path.dirname(top)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            if os.path.basename(dirpath) == ENV_DIR:
                names.update(f[: -len(".yaml")] for f in filenames if f.endswith(".yaml"))
    return sorted(names)


def _lab_dir(environ: Mapping[str, str]) -> str:
    return environ.get("CALICOTOOL_LAB_DIR", DEFAULT_LAB_DIR)


def labs(environ: Mapping[str, str]) -> list[str]:
    try:
        return sorted(f[: -len(".json")] for f in os.listdir(_lab_dir(environ)) if f.endswith(".json"))
    except OSError:
        return []


def lab_nodes(environ: Mapping[str, str], lab: str) -> list[str]:
    try:
        with open(os.path.join(_lab_dir(environ), f"{lab}.json"), encoding="utf-8") as fh:
            nodes = json.load(fh)["topology"]["nodes"]
        return [str(n["name"]) for n in nodes]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _zsh_escape(text: str) -> str:
    return text.replace('"', '""').replace("'", "''").replace("$", "\\$").replace("`", "\\`").replace(":", r"\\:")


def format_answer(req: Request, items: list[tuple[str, str]], environ: Mapping[str, str]) -> tuple[str, int]:
    """The text and exit status each shell's script expects (as Typer's completion classes produce them)."""
    if req.shell == "bash":
        return "\n".join(v for v, _ in items), 0
    if req.shell == "zsh":
        if not items:
            return "_files", 0
        lines = [f'"{_zsh_escape(v)}":"{_zsh_escape(h)}"' if h else f'"{_zsh_escape(v)}"' for v, h in items]
        joined = "\n".join(lines)
        return f"_arguments '*: :(({joined}))'", 0
    if req.shell == "fish":
        if environ.get("_TYPER_COMPLETE_FISH_ACTION") == "is-args":
            return "", 0 if items else 1
        return "\n".join(f"{v}\t{' '.join(h.split())}" if h else v for v, h in items), 0
    return "\n".join(f"{v}:::{h or ' '}" for v, h in items), 0


def complete(tree: dict[str, Any], environ: Mapping[str, str], cwd: str) -> tuple[str, int] | None:
    """The answer to the completion request in `environ`, or None when it is not one this module speaks."""
    req = parse_request(environ)
    if req is None:
        return None
    return format_answer(req, candidates(tree, req, environ, cwd), environ)
