"""The one error the selector engine raises: where in the expression it went wrong, and why."""

from __future__ import annotations

from calicotool.errors import InputError


class SelectorError(InputError):
    """An invalid selector. `column` is 1-based into `text`; `reason` is the message without the position.

    Callers that know where the selector came from (file, field) re-raise with their own Location and can reuse
    `message`, which already names the column: ``invalid selector at column 7: expected ')'``.
    """

    def __init__(self, text: str, column: int, reason: str) -> None:
        super().__init__(f"invalid selector at column {column}: {reason}")
        self.text = text
        self.column = column
        self.reason = reason

    def __reduce__(self) -> tuple[type[SelectorError], tuple[str, int, str]]:
        return (SelectorError, (self.text, self.column, self.reason))
