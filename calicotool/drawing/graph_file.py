"""Write a DOT picture to a file: .dot/.gv as is, .svg/.png through Graphviz when it is installed, .svg through
the built-in layout (drawing.svg) when it is not. The one place that runs Graphviz."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from calicotool.drawing import dot_subset, svg
from calicotool.errors import InputError

GRAPH_SUFFIXES = ("dot", "gv", "svg", "png")


def check_graph_path(path: Path) -> None:
    """Fail before any work on a suffix we cannot draw or a directory that is not there."""
    if path.suffix.lower().lstrip(".") not in GRAPH_SUFFIXES:
        raise InputError(f"--graph wants a .svg, .png or .dot file, got {path.name!r}")
    if not path.parent.is_dir():
        raise InputError(f"--graph: directory {str(path.parent)!r} does not exist")


def render(text: str, fmt: str, engines: Sequence[str] = ("dot",), timeout: float = 60) -> tuple[bytes, str]:
    """(file bytes, renderer name) for DOT `text` in `fmt`; renderer is a Graphviz engine or "built-in"."""
    if fmt in ("dot", "gv"):
        return text.encode(), "dot-text"
    engine = next((path for e in engines if (path := shutil.which(e))), None)
    if engine is None:
        if fmt == "png":
            raise InputError("--graph: .png needs Graphviz (`apt-get install graphviz`); "
                             ".svg and .dot work without it")
        return svg.to_svg(dot_subset.parse(text)).encode(), "built-in"
    try:
        proc = subprocess.run([engine, f"-T{fmt}"], input=text.encode(), capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise InputError(f"--graph: graphviz took over {timeout:.0f} s to lay out the picture; "
                         "write a .dot file instead") from None
    if proc.returncode != 0:
        raise InputError(f"--graph: graphviz failed: {proc.stderr.decode(errors='replace').strip()[:300]}")
    return proc.stdout, Path(engine).name


def write_graph_file(text: str, path: Path, engines: Sequence[str] = ("dot",), timeout: float = 60) -> str:
    """Render `text` (DOT) into `path` by its suffix; returns the renderer used. InputError on a bad suffix, a
    missing directory, a Graphviz failure or an unwritable file (nothing half-written: temp file + rename)."""
    check_graph_path(path)
    data, renderer = render(text, path.suffix.lower().lstrip("."), engines, timeout)
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as exc:
        if tmp.is_file():
            tmp.unlink()
        raise InputError(f"--graph: cannot write {str(path)!r}: {exc.strerror or exc}") from None
    return renderer
