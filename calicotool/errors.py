"""The error hierarchy every layer raises; only the CLI turns these into messages and exit codes.

Callers catch meaning, not transport codes: a datastore adapter maps HTTP 404/409/422, etcd compare failures
and connection errors onto NotFound / Conflict / AlreadyExists / Invalid / Unavailable.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a bad input sits: file, document index in that file, line, field path (JSON-pointer-ish)."""

    file: str | None = None
    document: int | None = None
    line: int | None = None
    field: str | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.document is not None:
            parts.append(f"document {self.document}")
        if self.field:
            parts.append(f"field {self.field}")
        elif self.column is not None and not self.file:
            parts.append(f"column {self.column}")
        return ", ".join(parts)


class CalicotoolError(Exception):
    """Base of everything calicotool raises on purpose."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        if self.location is not None and str(self.location):
            return f"{self.location}: {self.message}"
        return self.message


class InputError(CalicotoolError):
    """Bad user input: malformed YAML, unknown kind/field, invalid selector/CIDR/port, bad options. Exit 2."""


class ValidationFailed(InputError):
    """Several located problems found at once (validation reports them all, not just the first)."""

    def __init__(self, errors: list[InputError]) -> None:
        self.errors = errors
        first = errors[0] if errors else InputError("validation failed")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(first.message + more, first.location)

    def details(self) -> list[str]:
        return [str(e) for e in self.errors]


class DatastoreError(CalicotoolError):
    """Anything the datastore said no to. Exit 3 unless a subclass says otherwise."""


class NotFound(DatastoreError):
    """The object does not exist."""


class AlreadyExists(DatastoreError):
    """create() of an object that exists."""


class Conflict(DatastoreError):
    """resourceVersion / mod-revision mismatch: someone else wrote first (lost update prevented)."""


class Invalid(DatastoreError):
    """The datastore rejected the object as invalid (HTTP 422)."""


class Unavailable(DatastoreError):
    """The datastore cannot be reached (connection refused, timeout, TLS failure, auth failure)."""


class HostError(CalicotoolError):
    """The host or kernel refused: netlink errors, missing devices, not root. Exit 4."""


class Findings(CalicotoolError):
    """Not an error as such: a check found problems or drift (lint findings, diff drift). Exit 1."""
