"""The start-up cache: every help text and the completion tree, computed once from the Typer app and kept in
`$XDG_CACHE_HOME/calicotool/` (or `$CALICOTOOL_CACHE_DIR`), so `--help` and a TAB press answer without importing
Typer, Rich or any command module (~20 ms instead of ~0.3 s).

The file name carries a fingerprint of the installed code (calicotool's files, Typer's, the Python version): an
upgrade or an edited checkout gets a new file on its next run; a stale answer is never served. No HOME and no
cache directory: nothing is cached and every answer comes from Typer, as before. Stdlib only at import time."""

from __future__ import annotations

import json
import os
import sys
import zlib

import calicotool

TYPE_CHECKING = False  # typing costs more than the rest of a cached --help: kept out of it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

FORMAT = 1  # bump when the cached structure changes


def cache_dir(environ: Mapping[str, str]) -> str | None:
    if environ.get("CALICOTOOL_CACHE_DIR"):
        return environ["CALICOTOOL_CACHE_DIR"]
    if environ.get("XDG_CACHE_HOME"):
        return os.path.join(environ["XDG_CACHE_HOME"], "calicotool")
    if environ.get("HOME"):
        return os.path.join(environ["HOME"], ".cache", "calicotool")
    return None


def code_roots() -> list[str]:
    """The directories whose code decides the help texts and the command tree: calicotool's and Typer's."""
    roots = [os.path.dirname(calicotool.__file__)]
    typer_dir = _package_dir("typer")
    return [*roots, typer_dir] if typer_dir else roots


def cache_writable(environ: Mapping[str, str]) -> bool:
    """Could a cache be written (the directory, or its first existing ancestor, is writable)? If not, building one
    after a --help would only double its cost."""
    directory = cache_dir(environ)
    while directory and not os.path.isdir(directory):
        parent = os.path.dirname(directory)
        if parent == directory:
            return False
        directory = parent
    return bool(directory) and os.access(str(directory), os.W_OK)


def fingerprint(roots: list[str] | None = None) -> str:
    """Changes whenever a file under `roots` changes (mtime or size), or the Python version or FORMAT does."""
    parts = [calicotool.__version__, sys.version, str(FORMAT)]
    for root in code_roots() if roots is None else roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.startswith("."))
            for name in sorted(filenames):
                if name.endswith((".py", ".json")):
                    st = os.stat(os.path.join(dirpath, name))
                    parts.append(f"{dirpath}/{name}:{st.st_mtime_ns}:{st.st_size}")
    return f"{zlib.crc32(chr(0).join(parts).encode()):08x}"


def _package_dir(name: str) -> str | None:
    for entry in sys.path:
        candidate = os.path.join(entry or ".", name)
        if os.path.isfile(os.path.join(candidate, "__init__.py")):
            return candidate
    return None


def cache_file(environ: Mapping[str, str]) -> str | None:
    directory = cache_dir(environ)
    return os.path.join(directory, f"cli-{fingerprint()}.json") if directory else None


def load(environ: Mapping[str, str]) -> dict[str, Any] | None:
    """The cached help and tree for the installed code, or None (no cache directory, first run, stale, damaged)."""
    path = cache_file(environ)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def build_and_save(environ: Mapping[str, str]) -> dict[str, Any]:
    """Compute the cache from the Typer app (imports everything) and write it atomically where it belongs, if
    anywhere; older files of other fingerprints go. A read-only home is not an error: the data is returned."""
    from calicotool.cli.cli_tree import build

    data = {"format": FORMAT, **build()}
    path = cache_file(environ)
    if path is None:
        return data
    directory = os.path.dirname(path)
    try:
        os.makedirs(directory, exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))
        os.replace(tmp, path)
        for name in os.listdir(directory):
            if name.startswith("cli-") and name.endswith(".json") and os.path.join(directory, name) != path:
                os.unlink(os.path.join(directory, name))
    except OSError:
        pass
    return data


def terminal_columns() -> int:
    """Columns as click sees them through shutil (COLUMNS, else the terminal on stdout, else 80)."""
    try:
        columns = int(os.environ["COLUMNS"])
        if columns > 0:
            return columns
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno() if sys.__stdout__ else 1).columns
    except (OSError, ValueError, AttributeError):
        return 80


def cached_help(path: list[str], environ: Mapping[str, str], groups_only: bool = False) -> str | None:
    """The help of `calicotool PATH --help` from the cache, when click would print exactly that text. With
    `groups_only`, only for a command group (what `calicotool PATH` alone prints, groups needing a command)."""
    if any(word.startswith("-") for word in path) or terminal_columns() < 80:
        return None
    data = load(environ)
    if data is None:
        return None
    if groups_only:
        node = data["tree"]
        for word in path:
            node = node.get("commands", {}).get(word)
            if node is None:
                return None
        if "commands" not in node:
            return None
    text = data["help"].get(" ".join(path))
    return text if isinstance(text, str) else None
