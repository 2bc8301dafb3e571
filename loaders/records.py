"""Turning raw tables into validated records: cells cleaned, fields converted, rows checked.

Every cell is cleaned the same way: surrounding whitespace stripped, Unicode put in NFC (so
that an "é" typed on a Mac and one typed on Windows are one letter), control characters
(NUL bytes included) removed *with a warning* naming the cell, since they are invisible
dirt that would otherwise make two equal ids differ; bytes that were not valid in the file's
encoding are an *error* naming the cell (the text cannot be trusted). A cell longer than
:attr:`~loaders.limits.Limits.max_cell_chars` is an error. A cell starting with ``=`` is kept
as inert text, with a warning (maillage never computes formulas, and exports neutralise them).

Only this module's :func:`table_records` knows the columns; it reports every problem of a
table, row by row, before any record leaves it.
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

from maillage.model import ORGANIZATION, OrganizationRecord, RelationshipRecord, cluster_id
from loaders._problems import ProblemLog
from loaders.limits import DEFAULT_LIMITS, Limits
from loaders.read import RawTable
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

__all__ = ["TableRecords", "table_records", "parse_weight", "parse_date", "ParsedRelationship"]

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
class ParsedRelationship:
    """A relationship row before its ends are resolved: ends as typed, type canonical."""

    source: str
    target: str
    type: str
    weight: float | None
    since: _dt.date | None
    until: _dt.date | None
    extra: dict[str, Any]
    source_file: str
    row: int
    source_column: str
    target_column: str

    def record(self, source: str, target: str, target_kind: str = ORGANIZATION
               ) -> RelationshipRecord:
        """The record, with ends resolved to ids."""
        return RelationshipRecord(
            source=source, target=target, type=self.type, weight=self.weight,
            since=self.since, until=self.until, extra=self.extra,
            source_file=self.source_file, row=self.row, target_kind=target_kind)


@dataclass
class TableRecords:
    """What one table gave: organizations or parsed relationships, and where ids came from."""

    organizations: list[OrganizationRecord] = field(default_factory=list)
    relationships: list[ParsedRelationship] = field(default_factory=list)
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


# ---- tables ---------------------------------------------------------------------------------

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
    cells = _Cells(table, limits, log)
    if table.kind == "organizations":
        return _organizations(table, columns, cells, log)
    return _relationships(table, columns, cells, log)


def _column_getter(table: RawTable, columns: _Columns, name: str) -> Callable[[int], Any]:
    j = columns.fields.get(name)
    if j is None:
        return lambda i: None
    col = table.cells[j].tolist()
    return col.__getitem__


def _extra_columns(table: RawTable, columns: _Columns) -> list[tuple[str, str, list[Any]]]:
    names = table.columns
    return [(key, names[j], table.cells[j].tolist()) for key, j in columns.extras]


def _extras(extra_columns: list[tuple[str, str, list[Any]]], cells: _Cells, i: int, row: int
            ) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for key, column, values in extra_columns:
        v = _extra_value(cells, values[i], row, column)
        if v is not None and v != "" and v != []:
            extra[key] = v
    return extra


def _organizations(table: RawTable, columns: _Columns, cells: _Cells, log: ProblemLog
                   ) -> TableRecords:
    out = TableRecords()
    names = table.columns
    header = {f: names[j] for f, j in columns.fields.items()}
    out.id_column = header.get("id", "id")
    get = {f: _column_getter(table, columns, f) for f in
           ("id", "name", "type", "sectors", "clusters", "region", "mandate")}
    has = set(columns.fields)
    extra_columns = _extra_columns(table, columns)
    type_cache: dict[str, str | None] = {}
    for i, row in enumerate(table.rows):
        if log.full:
            break
        id_ = _single(cells, get["id"](i), row, header.get("id", "id"), "id")
        name = _single(cells, get["name"](i), row, header.get("name", "name"), "name")
        type_text = _single(cells, get["type"](i), row, header.get("type", "type"), "type")
        if "id" in has and id_ == "":
            log.error(table.label, row, header["id"],
                      "missing id: every organization needs a unique id (identifiant)")
        if "name" in has and name == "":
            log.error(table.label, row, header["name"], "missing name (nom)")
        canonical = None
        if "type" in has and type_text is not None:
            if not type_text:
                log.error(table.label, row, header["type"],
                          "missing type: " + _accepted_types())
            else:
                if type_text not in type_cache:
                    type_cache[type_text] = stakeholder_type(type_text)
                canonical = type_cache[type_text]
                if canonical is None:
                    near = closest(type_text, "type")
                    hint = f' Did you mean "{near}"?' if near else ""
                    log.error(table.label, row, header["type"],
                              f'unknown type "{type_text}": {_accepted_types()}.{hint}')
        sectors = _list_value(cells, get["sectors"](i), row, header.get("sectors", "sectors"))
        clusters = _list_value(cells, get["clusters"](i), row, header.get("clusters", "clusters"))
        for c in clusters:
            if not _cluster_id(c):
                log.error(table.label, row, header["clusters"],
                          f'cluster name "{c}" has no letter or digit')
        region = _single(cells, get["region"](i), row, header.get("region", "region"), "region")
        id_, name, type_text = id_ or "", name or "", type_text or ""
        mandate = cells.text(get["mandate"](i), row, header.get("mandate", "mandate"))
        extra = _extras(extra_columns, cells, i, row)
        if canonical is not None and compact(type_text) not in (compact(canonical),
                                                                 compact(canonical) + "s"):
            # The words people used ("cégep", "PME") say more than the canonical type.
            extra["typeLabel"] = type_text
        out.organizations.append(OrganizationRecord(
            id=id_, name=name, type=canonical or "", sectors=tuple(sectors),
            clusters=tuple(clusters), region=region or None, mandate=mandate or None,
            extra=extra, source_file=table.label, row=row))
    return out


def _relationships(table: RawTable, columns: _Columns, cells: _Cells, log: ProblemLog
                   ) -> TableRecords:
    out = TableRecords()
    names = table.columns
    header = {f: names[j] for f, j in columns.fields.items()}
    get = {f: _column_getter(table, columns, f) for f in
           ("source", "target", "relationship", "weight", "since", "until")}
    has = set(columns.fields)
    extra_columns = _extra_columns(table, columns)
    type_cache: dict[str, str | None] = {}
    for i, row in enumerate(table.rows):
        if log.full:
            break
        ends = {}
        for end in ("source", "target"):
            ends[end] = _single(cells, get[end](i), row, header.get(end, end), end)
            if end in has and ends[end] == "":
                log.error(table.label, row, header[end],
                          f"missing {end}: give the id (or the exact name) of an organization")
        rel_text = _single(cells, get["relationship"](i), row,
                           header.get("relationship", "relationship"), "relationship")
        rel = None
        if "relationship" in has and rel_text is not None:
            if not rel_text:
                log.error(table.label, row, header["relationship"],
                          "missing relationship type: " + _accepted_relationships())
            else:
                if rel_text not in type_cache:
                    type_cache[rel_text] = relationship_type(rel_text)
                rel = type_cache[rel_text]
                if rel is None:
                    near = closest(rel_text, "relationship")
                    hint = f' Did you mean "{near}"?' if near else ""
                    log.error(table.label, row, header["relationship"],
                              f'unknown relationship "{rel_text}": '
                              f"{_accepted_relationships()}.{hint}")
        weight = None
        raw = get["weight"](i)
        if raw is not None and not (isinstance(raw, str) and not raw.strip()):
            text = raw if not isinstance(raw, str) else cells.text(raw, row, header["weight"])
            if text:
                try:
                    weight = parse_weight(text)
                except ValueError as err:
                    log.error(table.label, row, header["weight"], str(err))
        dates: dict[str, _dt.date | None] = {}
        for end in ("since", "until"):
            dates[end] = None
            raw = get[end](i)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            text = raw if not isinstance(raw, str) else cells.text(raw, row, header[end])
            if not text:
                continue
            try:
                dates[end] = parse_date(text)
            except ValueError as err:
                log.error(table.label, row, header[end], str(err))
        if dates["since"] and dates["until"] and dates["since"] > dates["until"]:
            log.error(table.label, row, header["until"],
                      f"ends ({dates['until']}) before it starts ({dates['since']})")
        out.relationships.append(ParsedRelationship(
            source=ends["source"] or "", target=ends["target"] or "", type=rel or "",
            weight=weight, since=dates["since"], until=dates["until"],
            extra=_extras(extra_columns, cells, i, row), source_file=table.label, row=row,
            source_column=header.get("source", "source"),
            target_column=header.get("target", "target")))
    return out
