"""Rendering results as yaml, json or a Rich table. Deterministic: no timestamps, stable key order."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from calicotool.cli.context import AppContext
from calicotool.model import yamlio
from calicotool.model.resource import Resource


class OutputFormat(str, Enum):
    yaml = "yaml"
    json = "json"
    table = "table"


OutputOption = Annotated[
    OutputFormat, typer.Option("--output", "-o", help="Output format: yaml, json or table.", case_sensitive=False)
]


class DocumentFormat(str, Enum):
    """For commands whose result is a document (a rule set, a manifest), which a table cannot show."""

    yaml = "yaml"
    json = "json"


DocumentOutputOption = Annotated[
    DocumentFormat, typer.Option("--output", "-o", help="Output format: yaml or json.", case_sensitive=False)
]


def to_yaml(data: Any) -> str:
    return yamlio.dump(data)


def to_yaml_documents(docs: Iterable[Any]) -> str:
    return yamlio.dump_all(list(docs))


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, default=str)


def print_text(app: AppContext, text: str) -> None:
    app.env.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    app.env.stdout.flush()


def render_table(app: AppContext, columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> None:
    table = Table(title=title, show_edge=False, header_style="bold", pad_edge=False)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*[Text("" if v is None else str(v)) for v in row])
    app.out.print(table)


def render_data(
    app: AppContext,
    data: Any,
    fmt: OutputFormat | DocumentFormat,
    columns: Sequence[str] | None = None,
    rows: Iterable[Sequence[Any]] | None = None,
    title: str | None = None,
) -> None:
    """Print `data` as yaml/json; for table, print `columns`/`rows` (or a key/value table of a flat dict)."""
    if fmt.value == "json":
        print_text(app, to_json(data))
    elif fmt.value == "yaml":
        print_text(app, to_yaml(data))
    elif columns is not None and rows is not None:
        render_table(app, columns, rows, title=title)
    elif isinstance(data, dict):
        render_table(app, ["FIELD", "VALUE"], [(k, _cell(v)) for k, v in data.items()], title=title)
    else:
        print_text(app, to_yaml(data))


def render_list(
    app: AppContext, items: Sequence[Any], fmt: OutputFormat, columns: Sequence[str], rows: Iterable[Sequence[Any]],
    noun: str,
) -> None:
    """A listing, rendered the same way by every command: yaml/json print the (possibly empty) list; a table of
    nothing prints no header, just `No <noun> found.` on stderr (as kubectl does), so stdout stays empty."""
    if not items and fmt == OutputFormat.table:
        app.info(f"No {noun} found.")
        return
    render_data(app, list(items), fmt, columns, rows)


def _cell(v: Any) -> str:
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True)
    return str(v)


def render_resources(app: AppContext, resources: Sequence[Resource], fmt: OutputFormat, as_list: bool = False) -> None:
    """kubectl-like: a named object prints bare; a listing prints as a List (so `jq .items[]` always works)."""
    docs = [r.to_dict() for r in resources]
    bare = len(docs) == 1 and not as_list
    if fmt == OutputFormat.json:
        print_text(app, to_json(docs[0] if bare else {"apiVersion": "v1", "kind": "List", "items": docs}))
    elif fmt == OutputFormat.yaml:
        print_text(app, to_yaml(docs[0] if bare else {"apiVersion": "v1", "kind": "List", "items": docs}))
    else:
        render_table(
            app,
            ["KIND", "NAMESPACE", "NAME", "LABELS"],
            [(r.kind, r.namespace, r.name, ",".join(f"{k}={v}" for k, v in sorted(r.labels.items()))) for r in resources],
        )
