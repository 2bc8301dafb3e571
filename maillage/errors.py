"""Every error maillage raises on purpose, with the HTTP status the web view answers with.

::

    MaillageError (500)
    ├── ConfigError (500)          a bad setting; names the variable and the fix
    ├── InputError (400)           something a user gave us is wrong
    │   ├── ValidationFailed (422) an import refused; carries every Problem found
    │   ├── QueryRefused (400)     the Cypher console refused or stopped a query
    │   └── NotFound (404)
    ├── AccessDenied (403)
    │   └── LoginRequired (401)    no valid token or login: sign in first
    └── StoreError (503)           the graph store cannot do what was asked
        ├── StoreUnavailable (503) Neo4j cannot be reached
        ├── CypherUnavailable (501) the memory store has no Cypher
        └── ImportFailed (500)     an import was rolled back; nothing of it remains

A single handler in ``api/`` turns these into JSON or an HTML page; the CLI prints the message
and exits non-zero.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "MaillageError",
    "ConfigError",
    "InputError",
    "ValidationFailed",
    "Problem",
    "QueryRefused",
    "NotFound",
    "AccessDenied",
    "LoginRequired",
    "StoreError",
    "StoreUnavailable",
    "CypherUnavailable",
    "ImportFailed",
]


class MaillageError(Exception):
    """Base of maillage's errors; ``status`` is the HTTP status that fits."""

    status = 500


class ConfigError(MaillageError):
    """A setting is missing or invalid."""


class InputError(MaillageError):
    """Something a user gave us (a file, a query, a parameter) is wrong."""

    status = 400


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in an input file, located as the user sees it.

    ``row`` is the row number as the user's spreadsheet shows it (header = 1), or ``None``
    for a problem with the whole file or a column.
    """

    file: str
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f'column "{self.column}"')
        return f"{', '.join(where)}: {self.message}"


class ValidationFailed(InputError):
    """An import was refused before anything was written; ``problems`` lists them all."""

    status = 422

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        shown = "\n".join(f"  - {p}" for p in self.problems[:50])
        more = len(self.problems) - 50
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"{len(self.problems)} problem(s) found, nothing was written:\n{shown}{tail}")


class QueryRefused(InputError):
    """The Cypher console refused a query (a write, a syntax error, a timeout)."""


class NotFound(InputError):
    """The thing asked for does not exist."""

    status = 404


class AccessDenied(MaillageError):
    """The caller's role does not allow this."""

    status = 403


class LoginRequired(AccessDenied):
    """The caller gave no valid token or login; signing in may help."""

    status = 401


class StoreError(MaillageError):
    """The graph store could not do what was asked."""

    status = 503


class StoreUnavailable(StoreError):
    """Neo4j cannot be reached or refused our credentials."""


class CypherUnavailable(StoreError):
    """The memory store was asked for Cypher, which needs Neo4j."""

    status = 501


class ImportFailed(StoreError):
    """An import failed while writing and was rolled back whole."""

    status = 500
