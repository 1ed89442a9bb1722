"""What a reconcile run did, as data (`-o json/yaml`, complete), as tables (`--once`) and as one log line per
run (`--interval`). Pure: the CLI prints what these return."""

from __future__ import annotations

from collections import Counter
from typing import Any

from calicotool.bgp.reconcile import ReconcileResult
from calicotool.bgp.report import TableView
from calicotool.wording import plural

CHANGE_ROWS = 50  # the table lists this many changes; -o yaml/json lists them all


def _split(described: str) -> tuple[str, str, str]:
    """`update Node/n1` -> ("update", "Node", "n1")."""
    op, _, key = described.partition(" ")
    kind, _, name = key.partition("/")
    return op, kind, name


def counts_by_kind(described: list[str]) -> dict[str, int]:
    """{"create BGPPeer": 2, "update Node": 12}, in a stable order (op, then kind)."""
    counts = Counter(" ".join(_split(d)[:2]) for d in described)
    return dict(sorted(counts.items()))


def reconcile_record(result: ReconcileResult, run: int = 1) -> dict[str, Any]:
    """Everything about one run (what `-o json` / `-o yaml` print)."""
    planned = [{"phase": phase, "change": c.describe()}
               for phase, items in (("make", result.planned.make), ("break", result.planned.break_)) for c in items]
    applied = [{"phase": phase, "change": d} for phase, d in zip(result.applied_phases, result.applied, strict=True)]
    sessions = None
    if result.sessions is not None:
        sessions = {"established": result.sessions.established, "missing": len(result.sessions.missing),
                    "missingExamples": [list(s) for s in result.sessions.missing[:10]]}
    return {
        "run": run,
        "dryRun": result.dry_run,
        "converged": result.converged,
        "stuck": result.stuck,
        "stopped": result.stopped,
        "writes": result.writes,
        "writesByKind": counts_by_kind(result.applied),
        "pending": result.pending,
        "sessions": sessions,
        "reflectors": result.plan.reflectors,
        "planned": planned,
        "applied": applied,
    }


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in counts.items())


def outcome(record: dict[str, Any]) -> str:
    if record["dryRun"]:
        n = len(record["planned"])
        return f"dry run: {plural(n, 'change')} would be made" if n else "dry run: in sync, nothing to change"
    if record["converged"]:
        return "converged" if record["writes"] else "in sync, no writes"
    return f"NOT converged: {record['stopped'] or plural(record['pending'], 'change') + ' pending'}"


def run_line(record: dict[str, Any]) -> str:
    """One log line for a run: outcome, writes by kind, what is pending, session check (or why it failed)."""
    if "error" in record:
        retry = record.get("retryInSeconds")
        tail = f"; retrying in {retry:g}s" if isinstance(retry, float | int) else ""
        return f"run {record['run']}: failed ({record['errorKind']}: {record['error']}){tail}"
    parts = [f"run {record['run']}: {outcome(record)}"]
    if record["writes"]:
        parts.append(f"{plural(record['writes'], 'write')} ({_counts_text(record['writesByKind'])})")
    if record["pending"] and not record["dryRun"]:
        parts.append(f"{record['pending']} pending")
    s = record["sessions"]
    if s is not None:
        parts.append(f"sessions Established {s['established']}/{s['established'] + s['missing']}")
    return "; ".join(parts)


def reconcile_tables(record: dict[str, Any]) -> list[TableView]:
    """A summary and the changes one per line (at most CHANGE_ROWS; the rest are counted)."""
    rows: list[tuple[Any, ...]] = [("result", outcome(record))]
    changes = record["planned"] if record["dryRun"] else record["applied"]
    counts = counts_by_kind([c["change"] for c in changes])
    label = "changes planned" if record["dryRun"] else "writes"
    rows.append((label, f"{len(changes)}" + (f" ({_counts_text(counts)})" if counts else "")))
    if not record["dryRun"]:
        rows.append(("pending for a later run", record["pending"]))
    s = record["sessions"]
    if s is not None:
        rows.append(("new sessions Established", f"{s['established']}/{s['established'] + s['missing']}"))
        if s["missingExamples"]:
            rows.append(("not Established, e.g.", ", ".join(" - ".join(p) for p in s["missingExamples"][:3])))
    rows.append(("route reflectors", len(record["reflectors"])))
    out = [TableView(f"rr reconcile, run {record['run']}" + (" (dry run)" if record["dryRun"] else ""),
                     ["FIELD", "VALUE"], rows)]
    if changes:
        shown = [(c["phase"], *_split(c["change"])) for c in changes[:CHANGE_ROWS]]
        if len(changes) > CHANGE_ROWS:
            shown.append(("", "", f"... {len(changes) - CHANGE_ROWS} more", "(-o yaml lists all)"))
        out.append(TableView("Changes" + (" planned" if record["dryRun"] else " applied"),
                             ["PHASE", "OP", "KIND", "NAME"], shown))
    return out
