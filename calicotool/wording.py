"""Small helpers for messages people read: counted nouns and labelled names, so output never says "1 groups",
"zone zone-a" or "lab lab:". No I/O."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` and the noun in the right number: plural(1, "group") -> "1 group", plural(3, "policy", "policies")."""
    return f"{count} {noun if count == 1 else (many or noun + 's')}"


def labelled(label: str, name: str) -> str:
    """`label name`, unless the name already says what it is: ("zone", "zone-a") -> "zone-a", ("lab", "lab") -> "lab"."""
    if not name:
        return f"{label} (none)"
    return name if name == label or name.lower().startswith(label.lower() + "-") else f"{label} {name}"
