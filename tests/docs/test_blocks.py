"""The block extractor and marker syntax that tests/docs/test_docs_run.py relies on."""

from __future__ import annotations

import pytest

from tests.docs.blocks import extract, parse_markers

DOC = """# t
```sh
echo one
```
<!-- docs-test: skip: needs a real cluster -->
```sh
kubectl get nodes
```
text
<!-- docs-test: etcd, kernel -->
```console
$ calicotool x
line 1
...
$ calicotool y
```
```yaml
a: 1
```
"""


def test_extract_blocks_markers_and_console_commands() -> None:
    blocks = extract(DOC, "t.md")
    assert [(b.line, b.lang, b.markers) for b in blocks] == [
        (2, "sh", {}), (6, "sh", {"skip": "needs a real cluster"}), (11, "console", {"etcd": "", "kernel": ""})]
    cmds = blocks[2].commands()
    assert [(c.text, c.expected) for c in cmds] == [("calicotool x", ["line 1"]), ("calicotool y", [])]
    assert blocks[0].commands()[0].text == "echo one\n"


@pytest.mark.parametrize(("text", "message"), [
    ("skip", "needs a reason"),
    ("skip:", "needs a reason"),
    ("etcd, cluster", "unknown docs-test marker 'cluster'"),
])
def test_bad_markers_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_markers(text, "t.md:3")


def test_marker_on_a_block_that_never_runs_is_refused() -> None:
    with pytest.raises(ValueError, match="never runs"):
        extract("<!-- docs-test: etcd -->\n```yaml\na: 1\n```\n", "t.md")
