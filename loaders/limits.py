"""The limits that keep an import bounded in memory and time, whatever the file holds.

A file above :attr:`Limits.max_file_bytes` is refused before a byte of it is read; a workbook
whose compressed parts would unpack beyond :attr:`Limits.max_unpacked_bytes` is refused
before it is opened; a header wider than :attr:`Limits.max_columns` stops the reading of that
file at its first row. The defaults suit member and partnership lists of a whole metropolitan
region (a 100,000-organization CSV is about 15 MB).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits", "DEFAULT_LIMITS"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds applied while reading import files.

    Parameters
    ----------
    max_file_bytes : int
        Largest file accepted, in bytes (default 100 MiB). Checked with ``stat`` before
        reading, and again while reading (a pipe or a device reports no size).
    max_unpacked_bytes : int
        Largest total size of the parts of an XLSX workbook once unzipped (default 1 GiB):
        a defence against "zip bombs".
    max_columns : int
        Most columns a table may have (default 500).
    max_cell_chars : int
        Longest cell, in characters (default 10,000: a long mandate fits, a pasted document
        does not).
    max_problems : int
        Most problems collected before reading stops (default 10,000), so that a file that is
        wrong on every one of its million rows cannot exhaust memory with its own error list.

    Examples
    --------
    >>> Limits(max_file_bytes=1_000_000).max_columns
    500
    """

    max_file_bytes: int = 100 * 2**20
    max_unpacked_bytes: int = 2**30
    max_columns: int = 500
    max_cell_chars: int = 10_000
    max_problems: int = 10_000


DEFAULT_LIMITS = Limits()
