"""Command blocks of the Markdown docs, and the small marker syntax that says how a block runs.

A fenced block is a command block when its info string is `sh`, `bash` or `console`. `sh`/`bash` blocks are
shell scripts; in `console` blocks the lines starting with `$ ` are commands and the lines after each are output
it must print (every line except `...` must appear in what the command printed). An HTML comment on the line
right before the fence changes how the block runs (see docs/conventions.md, "Docs that run"):

    <!-- docs-test: skip: REASON -->   illustrative only (e.g. needs a real cluster); the reason is required
    <!-- docs-test: etcd -->           a fresh etcd runs for the document; http://127.0.0.1:2379 points at it
    <!-- docs-test: kernel -->         needs root, network namespaces and BIRD (as CI has)
    <!-- docs-test: checkout -->       runs in the project checkout (not the scratch copy), without Graphviz

No I/O here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

FENCE = re.compile(r"^```(\w*)\s*$")
MARKER = re.compile(r"^<!--\s*docs-test:\s*(.*?)\s*-->\s*$")
MARKERS = ("skip", "etcd", "kernel", "checkout")
RUNNABLE = ("sh", "bash", "console")


@dataclass
class Command:
    text: str
    expected: list[str] = field(default_factory=list)  # console blocks: output lines that must appear


@dataclass
class Block:
    file: str
    line: int  # of the opening fence, 1-based
    lang: str
    body: str
    markers: dict[str, str]  # marker -> argument ("" when none)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def commands(self) -> list[Command]:
        """Console blocks: one Command per `$ ` line with its expected output. Shell blocks: one Command."""
        if self.lang != "console":
            return [Command(self.body)]
        out: list[Command] = []
        for line in self.body.splitlines():
            if line.startswith("$ "):
                out.append(Command(line[2:]))
            elif out and line.strip() and line.strip() != "...":
                out[-1].expected.append(line.rstrip())
        return out


def parse_markers(text: str, where: str) -> dict[str, str]:
    """`skip: reason` / `etcd` / `etcd, kernel` -> {name: argument}. ValueError on an unknown marker or a skip
    without a reason (a skipped block must say why)."""
    found: dict[str, str] = {}
    if text.startswith("skip"):
        reason = text[4:].lstrip(":").strip()
        if not reason:
            raise ValueError(f"{where}: docs-test skip needs a reason: <!-- docs-test: skip: WHY -->")
        return {"skip": reason}
    for part in filter(None, (p.strip() for p in text.split(","))):
        if part not in MARKERS:
            raise ValueError(f"{where}: unknown docs-test marker {part!r} (known: {', '.join(MARKERS)})")
        found[part] = ""
    return found


def extract(text: str, file: str) -> list[Block]:
    """Every runnable fenced block of a Markdown text, in order, with its markers."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        i += 1
        body: list[str] = []
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        i += 1
        prev = lines[start - 1] if start > 0 else ""
        mm = MARKER.match(prev)
        markers = parse_markers(mm.group(1), f"{file}:{start}") if mm else {}
        if mm and lang not in RUNNABLE:
            raise ValueError(f"{file}:{start}: docs-test marker on a ```{lang} block, which never runs")
        if lang in RUNNABLE:
            blocks.append(Block(file, start + 1, lang, "\n".join(body) + "\n", markers))
    return blocks
