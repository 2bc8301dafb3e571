"""Turning raw tables into validated records: cells cleaned, fields converted, rows checked.

Every cell is cleaned the same way: surrounding whitespace stripped, Unicode put in NFC (so
that an "é" typed on a Mac and one typed on Windows are one letter), control characters
(NUL bytes included) removed *with a warning* naming the cell, since they are invisible
dirt that would otherwise make two equal ids differ; bytes that were not valid in the file's
encoding are an *error* naming the cell (the text cannot be trusted). A cell longer than
:attr:`~loaders.limits.Limits.max_cell_chars` is an error. A cell starting with ``=`` is kept
as inert text, with a warning (maillage never computes formulas, and exports neutralise them).

Only this module's :func:`table_records` knows the columns; it reports every problem of a
table, in row order, before any record leaves it. Each check runs once per distinct value of
its column (a type, a date or an id repeated on many rows is checked once) and its result and
problems go to every row holding that value.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from maillage.model import OrganizationRecord, cluster_id
from loaders._problems import ProblemLog
from loaders.limits import DEFAULT_LIMITS, Limits
from loaders.read import Column, RawTable
from loaders.vocabulary import (
    FIELD_NAMES_FR,
    REQUIRED,
    RESERVED_PROPERTIES,
    TYPE_NAMES_FR,
    RELATIONSHIP_NAMES_FR,
    closest,
    compact,
    header_field,
    property_key,
    relationship_type,
    split_list,
    stakeholder_type,
)

__all__ = ["TableRecords", "RelationshipColumns", "table_records", "parse_weight", "parse_date"]

# C0 controls but tab and line breaks, DEL, C1 controls, and invisible format characters that
# only ever arrive by accident (BOM, zero-width space).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\u200b]")
_SURROGATE = re.compile("[\udc80-\udcff]+")
# Either of the above: one search decides whether a cell needs the slow path.
_SUSPECT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\u200b\udc80-\udcff]")
_TOO_BIG = "a number too large to hold (it overflows to infinity)"
_THOUSANDS = re.compile(r"[\s\u00a0\u202f']")
_SPACES = re.compile(r"\s+")


# Cluster names repeat on every row; their ids are computed once.
_cluster_id = functools.lru_cache(maxsize=1 << 16)(cluster_id)


@dataclass
class RelationshipColumns:
    """The relationships of one table before their ends are resolved, one array per field.

    Row ``i`` of the table is the relationship from ``source.values[source.codes[i]]`` to
    ``target.values[target.codes[i]]`` (the ends as typed, cleaned; ``""`` when missing or
    refused) of canonical type ``type[i]`` (``""`` when unknown), found on spreadsheet row
    ``rows[i]``. A relationship repeated on a million rows keeps one copy of each value.
    """

    label: str
    rows: np.ndarray
    source: Column
    target: Column
    type: np.ndarray
    weight: np.ndarray
    since: np.ndarray
    until: np.ndarray
    #: One dict per row of the extra columns' values, or None when the table has none.
    extra: list[dict[str, Any]] | None
    source_column: str
    target_column: str

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class TableRecords:
    """What one table gave: organizations or relationships, and where ids came from."""

    organizations: list[OrganizationRecord] = field(default_factory=list)
    relationships: RelationshipColumns | None = None
    #: The header of the id column (for problems about duplicate ids).
    id_column: str = "id"


class _Cells:
    """Cleans the cells of one table, logging what it changes or refuses."""

    def __init__(self, table: RawTable, limits: Limits, log: ProblemLog):
        self.label = table.label
        self.limits = limits
        self.log = log

    def text(self, value: Any, row: int, column: str, *, one_line: bool = False) -> str | None:
        """Return a cell as clean text: "" when empty, None when refused (problem logged),
        so that a refused cell is not reported a second time as missing or invalid."""
        if value is None:
            return ""
        if not isinstance(value, str):
            if isinstance(value, float) and math.isinf(value):
                self.log.error(self.label, row, column, _TOO_BIG)
                return None
            value = _scalar_text(value)
            if value is None:
                return ""
        printable = value.isprintable()
        if not (printable and value.isascii()):
            if _SUSPECT.search(value):
                value = self._scrub(value, row, column)
                if value is None:
                    return None
            elif not unicodedata.is_normalized("NFC", value):
                value = unicodedata.normalize("NFC", value)
        value = value.strip()
        if one_line and (not printable or "  " in value):
            value = _SPACES.sub(" ", value)
        if len(value) > self.limits.max_cell_chars:
            self.log.error(self.label, row, column,
                           f"this cell has {len(value):,} characters; the limit is "
                           f"{self.limits.max_cell_chars:,}")
            return None
        if value.startswith("=") and len(value) > 1:
            self.log.warn(self.label, row, column,
                          f"starts with '=' like a spreadsheet formula; kept as text "
                          f"({value[:40]!r}), never computed", kind="formula")
        return value

    def _scrub(self, value: str, row: int, column: str) -> str | None:
        bad = _SURROGATE.search(value)
        if bad:
            raw = bytes(ord(c) - 0xDC00 for c in bad.group())
            self.log.error(self.label, row, column,
                           f"bytes {raw.hex(' ').upper()} are not valid UTF-8 (the file is "
                           "damaged, cut short, or mixes encodings): save it again as CSV UTF-8")
            return None
        if _CONTROL.search(value):
            removed = sorted({f"U+{ord(c):04X}" for c in _CONTROL.findall(value)})
            value = _CONTROL.sub("", value)
            self.log.warn(self.label, row, column,
                          f"removed invisible control characters ({', '.join(removed[:3])})",
                          kind="control characters")
        return unicodedata.normalize("NFC", value)


def _scalar_text(value: Any) -> str | None:
    """Text of a non-text cell (a number in a workbook, a JSON number); None for NaN."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    if isinstance(value, _dt.datetime):
        return value.date().isoformat() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


# ---- numbers and dates ---------------------------------------------------------------------

_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def parse_weight(value: Any) -> float:
    """Return a weight as a float: a number, or text with a decimal point or comma.

    Spaces (thousands separators) are ignored; when both ``.`` and ``,`` appear, the last
    one is the decimal mark.

    Raises
    ------
    ValueError
        With a message saying what was expected.

    Examples
    --------
    >>> parse_weight("0,75")
    0.75
    >>> parse_weight("1 234,5")
    1234.5
    >>> parse_weight("1,234.5")
    1234.5
    >>> parse_weight(3)
    3.0
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a number, found {value!r}")
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = _THOUSANDS.sub("", str(value))
        if "," in text and "." in text:
            if text.rfind(",") > text.rfind("."):
                text = text.replace(".", "").replace(",", ".")
            else:
                text = text.replace(",", "")
        elif text.count(",") == 1:
            text = text.replace(",", ".")
        if not _NUMBER.fullmatch(text):
            hint = " (a formula? paste the values instead)" if str(value).startswith("=") else ""
            raise ValueError(f'expected a number such as 0.5 or 0,5, found "{value}"{hint}')
        number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"expected a finite number, found {value!r}")
    if number < 0:
        raise ValueError(f"expected a number of zero or more, found {value}")
    return number


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d\d:?\d\d)?)?")
_DMY = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_YMD_SLASH = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
_YEAR_MONTH = re.compile(r"(\d{4})-(\d{1,2})")
_YEAR = re.compile(r"\d{4}")


def parse_date(value: Any) -> _dt.date:
    """Return a date from a workbook date, an ISO date, day/month/year or a year alone.

    ``2021-03-04``, ``2021/03/04``, ``04/03/2021`` (day first, as in Québec and France),
    ``04-03-2021``, ``04.03.2021``, ``2021-03`` (the first of the month) and ``2021`` (the
    first of January) are accepted. A date like ``03/25/2021`` (month first) is refused
    rather than guessed.

    Raises
    ------
    ValueError
        With a message saying what was expected.

    Examples
    --------
    >>> parse_date("2021-03-04")
    datetime.date(2021, 3, 4)
    >>> parse_date("04/03/2021")
    datetime.date(2021, 3, 4)
    >>> parse_date("2019")
    datetime.date(2019, 1, 1)
    >>> parse_date(2019)
    datetime.date(2019, 1, 1)
    """
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, bool):
        raise ValueError(f"expected a date, found {value!r}")
    if isinstance(value, (int, float)) and float(value).is_integer() and 1000 <= value <= 9999:
        return _dt.date(int(value), 1, 1)
    text = str(value).strip()
    expected = ('expected a date as 2021-03-04, 04/03/2021 (day/month/year) or 2021, '
                f'found "{text}"')
    try:
        if m := _ISO.fullmatch(text):
            return _dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _YMD_SLASH.fullmatch(text):
            return _dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m := _DMY.fullmatch(text):
            day, month = int(m[1]), int(m[2])
            if month > 12 and day <= 12:
                raise ValueError(f'"{text}" reads as month/day/year; write day/month/year '
                                 "or 2021-03-04")
            return _dt.date(int(m[3]), month, day)
        if m := _YEAR_MONTH.fullmatch(text):
            return _dt.date(int(m[1]), int(m[2]), 1)
        if _YEAR.fullmatch(text):
            return _dt.date(int(text), 1, 1)
    except ValueError as err:
        if "reads as" in str(err):
            raise
        raise ValueError(f'"{text}" is not a real date ({err})') from None
    raise ValueError(expected)


# ---- columns ----------------------------------------------------------------------------

@dataclass
class _Columns:
    fields: dict[str, int]            # field -> column position
    extras: list[tuple[str, int]]     # (property key, column position)


def _map_columns(table: RawTable, kind: str, log: ProblemLog) -> _Columns:
    """Decide what each column is: a field of ``kind``, an extra property, or nothing."""
    names = table.columns
    fields: dict[str, tuple[int, int]] = {}  # field -> (rank, position)
    extras: list[tuple[str, int]] = []
    demoted: list[int] = []
    for j, header in enumerate(table.headers):
        if not header:
            continue  # blank header: read.py refused the column if it holds values
        found = header_field(header, kind)
        if found is None:
            continue
        f, rank = found
        if f in fields:
            other_rank, other = fields[f]
            if rank == other_rank:
                log.error(table.label, None, header,
                          f'two columns mean "{f}": "{names[other]}" (column {other + 1}) and '
                          f'"{header}" (column {j + 1}); keep one')
                continue
            if rank < other_rank:
                demoted.append(other)
                fields[f] = (rank, j)
            else:
                demoted.append(j)
            continue
        fields[f] = (rank, j)
    used = {j for _, j in fields.values()}
    keys: dict[str, int] = {}
    for j, header in enumerate(table.headers):
        if not header or j in used:
            continue
        key = property_key(header) or f"column{j + 1}"
        if key in RESERVED_PROPERTIES:
            renamed = key + "Column"
            log.warn(table.label, None, header,
                     f'kept as the property "{renamed}": "{key}" is a name maillage uses itself')
            key = renamed
        if key in keys:
            log.error(table.label, None, header,
                      f'columns "{names[keys[key]]}" and "{header}" both become the property '
                      f'"{key}": rename one')
            continue
        keys[key] = j
        extras.append((key, j))
    return _Columns({f: j for f, (_, j) in fields.items()}, extras)


def _missing_columns(table: RawTable, kind: str, columns: _Columns, log: ProblemLog) -> None:
    found = ", ".join(h for h in table.headers if h) or "no header"
    for f in REQUIRED[kind]:
        if f not in columns.fields:
            fr = FIELD_NAMES_FR[f]
            also = f' (or "{fr}")' if fr != f else ""
            log.error(table.label, None, f,
                      f'Column "{f}" missing from {table.label} (found: {found}); add a '
                      f'column "{f}"{also}')


# ---- values ---------------------------------------------------------------------------------

def _extra_value(cells: _Cells, value: Any, row: int, column: str) -> Any:
    """An extra column's value as a property: text, number, true/false, or a list of them."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        # A graph property integer has 64 bits; a longer one (a JSON big number) stays exact
        # as text.
        return value if -2**63 <= value < 2**63 else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            cells.log.error(cells.label, row, column, _TOO_BIG)
            return None
        return value
    if isinstance(value, (_dt.date, _dt.datetime)):
        return _scalar_text(value)
    if isinstance(value, list):
        items = [_extra_value(cells, v, row, column) for v in value]
        items = [v for v in items if v is not None and v != ""]
        if any(isinstance(v, (list, dict)) for v in items):
            return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        # A graph property list holds one type.
        if len({type(v) for v in items}) > 1:
            items = [_scalar_text(v) if not isinstance(v, str) else v for v in items]
        return items or None
    if isinstance(value, dict):
        cells.log.warn(cells.label, row, column,
                       "a nested object is kept as its JSON text", kind="nested object")
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
        return cells.text(text, row, column) or None
    return cells.text(value, row, column) or None


def _list_value(cells: _Cells, value: Any, row: int, column: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        out: list[str] = []
        for v in value:
            if isinstance(v, (list, dict)):
                cells.log.error(cells.label, row, column,
                                "expected a list of names, found a nested list or object")
                return []
            for part in split_list(cells.text(v, row, column, one_line=True) or ""):
                if part not in out:
                    out.append(part)
        return out
    if isinstance(value, dict):
        cells.log.error(cells.label, row, column, "expected names separated by ; or |, "
                        "found an object")
        return []
    return split_list(cells.text(value, row, column) or "")


def _single(cells: _Cells, value: Any, row: int, column: str, what: str) -> str | None:
    """One value as text on one line; None when refused (the problem is logged)."""
    if isinstance(value, (list, dict)):
        cells.log.error(cells.label, row, column, f"expected one {what}, found a "
                        f"{'list' if isinstance(value, list) else 'nested object'}")
        return None
    return cells.text(value, row, column, one_line=True)


def _accepted_types() -> str:
    en = ", ".join(TYPE_NAMES_FR)
    fr = ", ".join(TYPE_NAMES_FR.values())
    return f"expected one of {en} (in French: {fr}), or a synonym listed in SCHEMA.md"


def _accepted_relationships() -> str:
    en = ", ".join(RELATIONSHIP_NAMES_FR)
    fr = ", ".join(RELATIONSHIP_NAMES_FR.values())
    return f"expected one of {en} (in French: {fr}), or a synonym listed in SCHEMA.md"



def _vocabulary_value(rec: "_Recorder", label: str, column: str, text: str, kind: str, *,
                      missing: str, unknown: str) -> str | None:
    """The canonical name of ``text``, a ``kind`` ("type" or "relationship") written in
    ``column``; None after recording why not (empty, or not a known spelling, with the
    nearest one when there is one)."""
    accepted = _accepted_types if kind == "type" else _accepted_relationships
    if not text:
        rec.error(label, None, column, f"{missing}: {accepted()}")
        return None
    canonical = stakeholder_type(text) if kind == "type" else relationship_type(text)
    if canonical is None:
        near = closest(text, kind)
        hint = f' Did you mean "{near}"?' if near else ""
        rec.error(label, None, column, f'{unknown} "{text}": {accepted()}.{hint}')
    return canonical


# ---- tables ---------------------------------------------------------------------------------
#
# A table is checked column by column rather than row by row: each check runs once per
# distinct value of its column (a relationship type or a date repeated on a million rows is
# parsed once), and its result and problems are then given to every row holding that value.
# The problems are logged in the order a row-by-row reading would log them: by row, then by
# the step of the row's checks that found them (each check says at which step it is).

class _Recorder:
    """Stands in for the ProblemLog while one value is checked: keeps what it would log,
    and at which step of a row's checks, for every row holding that value."""

    full = False

    def __init__(self) -> None:
        self.items: list[tuple[int, bool, str | None, str, str | None]] = []
        self.step = 0

    def error(self, file: str, row: int | None, column: str | None, message: str) -> None:
        self.items.append((self.step, True, column, message, None))

    def warn(self, file: str, row: int | None, column: str | None, message: str,
             kind: str | None = None) -> None:
        self.items.append((self.step, False, column, message, kind))


class _Checked:
    """A check's result for every row of a column, computed once per distinct value."""

    def __init__(self, column: Column | None, n: int, check: Callable[[Any], Any],
                 recorder: _Recorder, plain_chars: int = 0):
        if column is None:  # the column is absent: every cell is None
            values: list[Any] = [None]
            codes = np.zeros(n, np.int32)
        else:
            values = column.values + [None]
            codes = np.where(column.codes < 0, len(values) - 1, column.codes)
        results: list[Any] = []
        problems: list[tuple[Any, ...]] = []
        for v in values:
            if plain_chars and _plain(v, plain_chars):
                # The check of a plain text keeps it as it is, without a problem.
                results.append(v)
                problems.append(())
                continue
            recorder.items = []
            results.append(check(v))
            problems.append(tuple(recorder.items))
        #: Row i's result is ``results[codes[i]]``.
        self.codes = codes
        self.results = results
        self._problems = problems
        bad = np.fromiter((bool(p) for p in problems), bool, len(problems))
        self.problem_rows = np.flatnonzero(bad[codes])

    def at_rows(self, n: int) -> np.ndarray:
        """Each of the first ``n`` rows' result, as an object array."""
        results = np.empty(len(self.results), dtype=object)
        for k, r in enumerate(self.results):
            results[k] = r
        return results[self.codes[:n]]

    def problems_at(self, p: int) -> tuple[Any, ...]:
        """The problems of the ``p``-th row of :attr:`problem_rows`."""
        return self._problems[self.codes[self.problem_rows[p]]]


def _plain(value: Any, max_chars: int) -> bool:
    """Whether ``value`` is text that cleaning leaves as it is, without a problem: printable
    (no control or invisible character, no line break), in NFC, without surrounding or double
    spaces, not empty, not too long, not like a formula. Most ids, names and ends are."""
    return (type(value) is str and value.isprintable() and 0 < len(value) <= max_chars
            and value[0] != "=" and value[0] != " " and value[-1] != " " and "  " not in value
            and (value.isascii() or unicodedata.is_normalized("NFC", value)))


class _RowProblems:
    """Problems found by comparing the cells of a row (not by one cell alone)."""

    def __init__(self, rows: np.ndarray, problems: list[tuple[Any, ...]]):
        self.problem_rows = rows
        self._problems = problems

    def problems_at(self, p: int) -> tuple[Any, ...]:
        return self._problems[p]


_WINDOW = 1 << 16  # rows whose problems are ordered at once


def _log_in_row_order(sources: list[Any], rows: np.ndarray, label: str, log: ProblemLog) -> int:
    """Log every source's problems in row order, then step order; return how many rows a
    row-by-row reading would have kept (it stops at the first row that begins with the log
    full)."""
    n = len(rows)
    if log.full:
        return 0
    last = -1
    for lo in range(0, n, _WINDOW):
        hi = min(lo + _WINDOW, n)
        events = []
        for source in sources:
            found = source.problem_rows
            a, b = np.searchsorted(found, [lo, hi])
            for p in range(int(a), int(b)):
                i = int(found[p])
                for item in source.problems_at(p):
                    events.append((i, item[0], len(events), item))
        events.sort()
        for i, _, _, (_, is_error, column, message, kind) in events:
            if i != last:
                if log.full:
                    return last + 1
                last = i
            if is_error:
                log.error(label, int(rows[i]), column, message)
            else:
                log.warn(label, int(rows[i]), column, message, kind=kind)
        if log.full:
            return last + 1
    return n


def table_records(table: RawTable, *, limits: Limits = DEFAULT_LIMITS,
                  log: ProblemLog) -> TableRecords:
    """Validate one table and return its records, logging every problem of every row.

    Organizations need an id, a name and a type; relationships a source, a target and a
    relationship type. Records are built even when problems were logged (so that later
    checks, such as duplicate ids, still run); the caller refuses the import if the log
    holds any error.
    """
    assert table.kind in ("organizations", "relationships")
    columns = _map_columns(table, table.kind, log)
    _missing_columns(table, table.kind, columns, log)
    if table.kind == "organizations":
        return _organizations(table, columns, limits, log)
    return _relationships(table, columns, limits, log)


class _TableChecks:
    """What the checks of one table share: its columns, headers and a recorder."""

    def __init__(self, table: RawTable, columns: _Columns, limits: Limits):
        self.table = table
        self.columns = columns
        self.n = len(table.rows)
        names = table.columns
        self.header = {f: names[j] for f, j in columns.fields.items()}
        self.has = set(columns.fields)
        self.recorder = _Recorder()
        self.limits = limits
        self.cells = _Cells(table, limits, self.recorder)  # type: ignore[arg-type]
        self.checked: list[_Checked] = []

    def column(self, name: str) -> str:
        return self.header.get(name, name)

    def check(self, name: str, check: Callable[[Any], Any], *, keeps_plain: bool = False
              ) -> _Checked:
        """``check`` every value of the field's column; ``keeps_plain`` says that it returns a
        plain text (see :func:`_plain`) as it is, without a problem, so that such values
        need no call."""
        j = self.columns.fields.get(name)
        checked = _Checked(None if j is None else self.table.cells[j], self.n, check,
                           self.recorder, self.limits.max_cell_chars if keeps_plain else 0)
        self.checked.append(checked)
        return checked

    def extras(self, first_step: int) -> list[tuple[str, _Checked]]:
        """The extra columns' values as properties (None where a row has none)."""
        out = []
        names = self.table.columns
        for k, (key, j) in enumerate(self.columns.extras):
            column = names[j]

            def check(v: Any, step: int = first_step + k, column: str = column) -> Any:
                self.recorder.step = step
                value = _extra_value(self.cells, v, None, column)  # type: ignore[arg-type]
                return None if value is None or value == "" or value == [] else value

            # An extra text is kept as its cleaned text.
            checked = _Checked(self.table.cells[j], self.n, check, self.recorder,
                               self.limits.max_cell_chars)
            self.checked.append(checked)
            out.append((key, checked))
        return out


def _extra_dicts(extras: list[tuple[str, _Checked]], n: int,
                 labels: np.ndarray | None = None) -> list[dict[str, Any]]:
    """One dict per row of the extra columns' values (and of ``typeLabel`` when given)."""
    keys = [key for key, _ in extras]
    columns = [c.at_rows(n).tolist() for _, c in extras]
    if labels is None:
        return [{k: v for k, v in zip(keys, vals) if v is not None} for vals in zip(*columns)] \
            if columns else [{} for _ in range(n)]
    out = []
    for vals, label in zip(zip(*columns) if columns else ((),) * n, labels.tolist()):
        extra = {k: v for k, v in zip(keys, vals) if v is not None}
        if label is not None:
            extra["typeLabel"] = label
        out.append(extra)
    return out


def _organizations(table: RawTable, columns: _Columns, limits: Limits, log: ProblemLog
                   ) -> TableRecords:
    t = _TableChecks(table, columns, limits)
    cells, rec, has = t.cells, t.recorder, t.has

    def single(step: int, name: str, v: Any) -> str | None:
        rec.step = step
        return _single(cells, v, None, t.column(name), name)  # type: ignore[arg-type]

    def check_id(v: Any) -> str:
        id_ = single(0, "id", v)
        rec.step = 3
        if "id" in has and id_ == "":
            rec.error(table.label, None, t.header["id"],
                      "missing id: every organization needs a unique id (identifiant)")
        return id_ or ""

    def check_name(v: Any) -> str:
        name = single(1, "name", v)
        rec.step = 4
        if "name" in has and name == "":
            rec.error(table.label, None, t.header["name"], "missing name (nom)")
        return name or ""

    def check_type(v: Any) -> tuple[str, str | None]:
        type_text = single(2, "type", v)
        rec.step = 5
        canonical = None
        if "type" in has and type_text is not None:
            canonical = _vocabulary_value(rec, table.label, t.header["type"], type_text, "type",
                                          missing="missing type", unknown="unknown type")
        type_text = type_text or ""
        label = None
        if canonical is not None and compact(type_text) not in (compact(canonical),
                                                                 compact(canonical) + "s"):
            # The words people used ("cégep", "PME") say more than the canonical type.
            label = type_text
        return canonical or "", label

    def check_sectors(v: Any) -> tuple[str, ...]:
        rec.step = 6
        return tuple(_list_value(cells, v, None, t.column("sectors")))  # type: ignore[arg-type]

    def check_clusters(v: Any) -> tuple[str, ...]:
        rec.step = 7
        clusters = _list_value(cells, v, None, t.column("clusters"))  # type: ignore[arg-type]
        rec.step = 8
        for c in clusters:
            if not _cluster_id(c):
                rec.error(table.label, None, t.header["clusters"],
                          f'cluster name "{c}" has no letter or digit')
        return tuple(clusters)

    def check_region(v: Any) -> str | None:
        return single(9, "region", v) or None

    def check_mandate(v: Any) -> str | None:
        rec.step = 10
        return cells.text(v, None, t.column("mandate")) or None  # type: ignore[arg-type]

    ids = t.check("id", check_id, keeps_plain=True)
    names = t.check("name", check_name, keeps_plain=True)
    types = t.check("type", check_type)
    sectors = t.check("sectors", check_sectors)
    clusters = t.check("clusters", check_clusters)
    regions = t.check("region", check_region, keeps_plain=True)
    mandates = t.check("mandate", check_mandate, keeps_plain=True)
    extras = t.extras(11)
    n = _log_in_row_order(t.checked, table.rows, table.label, log)

    out = TableRecords()
    out.id_column = t.header.get("id", "id")
    type_pairs = types.at_rows(n)
    canonical = np.fromiter((p[0] for p in type_pairs), dtype=object, count=n)
    labels = np.fromiter((p[1] for p in type_pairs), dtype=object, count=n)
    out.organizations = list(map(
        OrganizationRecord, ids.at_rows(n).tolist(), names.at_rows(n).tolist(),
        canonical.tolist(), sectors.at_rows(n).tolist(), clusters.at_rows(n).tolist(),
        regions.at_rows(n).tolist(), mandates.at_rows(n).tolist(),
        _extra_dicts(extras, n, labels), [table.label] * n, table.rows[:n].tolist()))
    return out


def _relationships(table: RawTable, columns: _Columns, limits: Limits, log: ProblemLog
                   ) -> TableRecords:
    t = _TableChecks(table, columns, limits)
    cells, rec, has = t.cells, t.recorder, t.has

    def check_end(end: str, step: int) -> Callable[[Any], str]:
        def check(v: Any) -> str:
            rec.step = step
            value = _single(cells, v, None, t.column(end), end)  # type: ignore[arg-type]
            rec.step = step + 1
            if end in has and value == "":
                rec.error(table.label, None, t.header[end],
                          f"missing {end}: give the id (or the exact name) of an organization")
            return value or ""
        return check

    def check_relationship(v: Any) -> str:
        rec.step = 4
        rel_text = _single(cells, v, None, t.column("relationship"),  # type: ignore[arg-type]
                           "relationship")
        rec.step = 5
        rel = None
        if "relationship" in has and rel_text is not None:
            rel = _vocabulary_value(rec, table.label, t.header["relationship"], rel_text, "relationship",
                                    missing="missing relationship type", unknown="unknown relationship")
        return rel or ""

    def check_weight(raw: Any) -> float | None:
        rec.step = 6
        weight = None
        if raw is not None and not (isinstance(raw, str) and not raw.strip()):
            text = raw if not isinstance(raw, str) else \
                cells.text(raw, None, t.header["weight"])  # type: ignore[arg-type]
            if text:
                try:
                    weight = parse_weight(text)
                except ValueError as err:
                    rec.error(table.label, None, t.header["weight"], str(err))
        return weight

    def check_date(end: str, step: int) -> Callable[[Any], _dt.date | None]:
        def check(raw: Any) -> _dt.date | None:
            rec.step = step
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                return None
            text = raw if not isinstance(raw, str) else \
                cells.text(raw, None, t.header[end])  # type: ignore[arg-type]
            if not text:
                return None
            try:
                return parse_date(text)
            except ValueError as err:
                rec.error(table.label, None, t.header[end], str(err))
                return None
        return check

    sources = t.check("source", check_end("source", 0), keeps_plain=True)
    targets = t.check("target", check_end("target", 2), keeps_plain=True)
    types = t.check("relationship", check_relationship)
    weights = t.check("weight", check_weight)
    since = t.check("since", check_date("since", 7))
    until = t.check("until", check_date("until", 8))
    extras = t.extras(10)
    # A relationship that ends before it starts: the one check that compares two cells.
    start = np.array([d.toordinal() if d else -1 for d in since.results], np.int64)[since.codes]
    end = np.array([d.toordinal() if d else -1 for d in until.results], np.int64)[until.codes]
    backwards = np.flatnonzero((start >= 0) & (end >= 0) & (start > end))
    ends_before = _RowProblems(backwards, [
        ((9, True, t.header.get("until"),
          f"ends ({until.results[until.codes[i]]}) before it starts "
          f"({since.results[since.codes[i]]})", None),)
        for i in backwards.tolist()])
    n = _log_in_row_order([*t.checked, ends_before], table.rows, table.label, log)

    out = TableRecords()
    out.relationships = RelationshipColumns(
        label=table.label, rows=table.rows[:n],
        source=Column(sources.codes[:n], sources.results),
        target=Column(targets.codes[:n], targets.results),
        type=types.at_rows(n), weight=weights.at_rows(n), since=since.at_rows(n),
        until=until.at_rows(n), extra=_extra_dicts(extras, n) if extras else None,
        source_column=t.column("source"), target_column=t.column("target"))
    return out
