"""Reading import files into raw tables: bytes in, header and cells out, nothing interpreted.

Accepted inputs (see ``loaders/SCHEMA.md``): CSV (also ``.tsv`` and ``.txt``), XLSX workbooks,
JSON and JSON Lines, given as files, folders of such files, or :class:`InputFile` (a name and
its bytes, for uploads). Every table read keeps, for each data row, the row number the user
sees in a spreadsheet: the header is row 1 of a CSV file; a sheet's rows are its own numbers;
a JSON list's objects are numbered from 1; a JSON Lines object carries its line number.

Whatever a file holds, reading it is bounded (see :class:`~loaders.limits.Limits`) and ends in
tables or in problems, never in an exception: a file above the size limit is refused before
it is read, binary content and undecodable bytes are named with their place, and the third
party parsers (openpyxl, zipfile) are fenced so that a damaged workbook is a problem too.

CSV specifics. The delimiter is whichever of ``,``, ``;`` and tab splits the first lines into
the most consistent columns (Excel's ``sep=;`` first line is honoured). The encoding is
UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else Windows-1252, else
Latin-1; a file that is mostly valid UTF-8 with a few bad bytes is read as UTF-8 and the bad
bytes are reported at their cell, rather than silently turning every accent into mojibake.
Quoted cells may hold delimiters and line breaks; a quoted cell counts as one spreadsheet row
however many lines it spans. Empty trailing columns are dropped. A regular file (every quote
where CSV puts quotes, no NUL, no damaged byte: the usual case, and every large export) is
read by pandas' C parser a chunk of rows at a time; any other by the csv module, record by
record, which names each problem where it is. Both give the same tables and problems.

A table's columns are :class:`Column` objects: each distinct text once, and a code per row,
so that ten million rows of relationships hold a few hundred thousand strings.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import io
import json
import os
import re
import stat
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from loaders._problems import ProblemLog
from loaders.limits import DEFAULT_LIMITS, Limits
from loaders.vocabulary import header_field

__all__ = [
    "InputFile",
    "FileInfo",
    "Column",
    "RawTable",
    "SUPPORTED_SUFFIXES",
    "read_inputs",
    "table_kind",
    "decode",
    "sniff_delimiter",
]

#: File name endings read, and the format each is read as.
SUPPORTED_SUFFIXES: dict[str, str] = {
    ".csv": "csv", ".tsv": "csv", ".txt": "csv",
    ".xlsx": "xlsx", ".xlsm": "xlsx",
    ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
}
# Spreadsheet formats not read; in a folder they are refused rather than skipped.
_SPREADSHEETS = {".xls", ".xlsb", ".ods", ".numbers"}
# Excel cannot hold more rows than this; a workbook claiming more is damaged or hostile.
_EXCEL_MAX_ROWS = 1_048_576
# Rows looked at to find the header (a title row or two above it is common in workbooks).
_HEADER_SEARCH = 10
# Known binary formats, recognised by their first bytes, with what to do instead.
_MAGIC: list[tuple[bytes, str]] = [
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook: give it a .xlsx name, or save it as CSV"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or password-protected workbook: save it as .xlsx "
                          "without a password, or as CSV UTF-8"),
    (b"%PDF", "a PDF document: export the table as CSV or XLSX"),
    (b"\x1f\x8b", "a gzip archive: decompress it first"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"SQLite format 3", "an SQLite database: export the table as CSV"),
]


@dataclass(frozen=True, slots=True)
class InputFile:
    """A file given as its name and bytes (an upload) rather than a path.

    Examples
    --------
    >>> InputFile("membres.csv", b"id,name,type\\nA,Acme,company\\n").name
    'membres.csv'
    """

    name: str
    data: bytes


@dataclass
class FileInfo:
    """What was read from one input file.

    ``label`` names the file in problems and in provenance (``source_file``); ``format`` is
    ``csv``, ``xlsx``, ``json`` or ``jsonl``; ``encoding`` and ``delimiter`` are what was
    detected (CSV); ``tables`` maps each table's label to its kind and data row count.
    """

    path: str
    label: str
    format: str
    size: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    tables: dict[str, tuple[str, int]] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.label


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table: row ``i`` holds ``values[codes[i]]``, or None where ``codes[i]``
    is -1.

    A column of text (every CSV column, and most columns of workbooks and JSON) is
    *factorized*: each distinct value is kept once, in order of first appearance, so that a
    relationship type or a date repeated on a million rows is read, cleaned and checked once.
    A column holding other values (numbers, dates, lists) keeps one value per row.

    Examples
    --------
    >>> col = Column.of(["a", None, "b", "a"])
    >>> col.values, col.codes.tolist(), col.tolist()
    (['a', 'b'], [0, -1, 1, 0], ['a', None, 'b', 'a'])
    """

    codes: np.ndarray
    values: list[Any]

    def __len__(self) -> int:
        return len(self.codes)

    def tolist(self) -> list[Any]:
        """The value of each row."""
        values = self.values + [None]  # code -1 reads the None at the end
        return [values[c] for c in self.codes.tolist()]

    @classmethod
    def of(cls, values: list[Any]) -> "Column":
        """A column of ``values`` (one per row): factorized when each is text or None."""
        if all(v is None or type(v) is str for v in values):
            codes, distinct = pd.factorize(np.array(values, dtype=object))
            return cls(codes.astype(np.int32 if len(values) < 2**31 else np.int64),
                       distinct.tolist())
        return cls(np.arange(len(values), dtype=np.int64), list(values))


@dataclass
class RawTable:
    """One table as read: headers, the spreadsheet row number of each data row, and cells.

    ``cells[j]`` is the :class:`Column` under ``headers[j]``; its values are str (CSV, and
    text in workbooks and JSON), int, float, bool, date or datetime (workbooks, JSON), list
    or dict (JSON), or None. ``rows`` is an integer array. ``kind`` is ``"organizations"``
    or ``"relationships"`` when the headers tell, else None. ``columns`` names each column
    for problems: the header, or ``column N`` when blank.
    """

    label: str
    headers: list[str]
    rows: np.ndarray
    cells: list[Column]
    kind: str | None = None

    @property
    def columns(self) -> list[str]:
        """Each column's name as problems show it."""
        return [h if h else f"column {j + 1}" for j, h in enumerate(self.headers)]


def _raw_table(label: str, headers: list[str], rows: list[int], cells: list[list[Any]],
               kind: str | None) -> RawTable:
    """A RawTable from rows of cells (each as wide as ``headers``)."""
    columns = [Column.of(list(col)) for col in zip(*cells)] if cells else \
        [Column.of([]) for _ in headers]
    return RawTable(label, headers, np.asarray(rows, dtype=np.int64), columns, kind)


def table_kind(headers: Iterable[str]) -> str | None:
    """Return which kind of table ``headers`` describe: ``"relationships"`` when both a
    source and a target column are present, ``"organizations"`` when an id, name or type
    column is, else None.

    Examples
    --------
    >>> table_kind(["Source", "Cible", "Relation"])
    'relationships'
    >>> table_kind(["identifiant", "nom", "type"])
    'organizations'
    >>> table_kind(["a", "b"]) is None
    True
    """
    headers = [h for h in headers if h]
    rel = {f[0] for h in headers if (f := header_field(h, "relationships"))}
    if {"source", "target"} <= rel:
        return "relationships"
    org = {f[0] for h in headers if (f := header_field(h, "organizations"))}
    if org & {"id", "name", "type"}:
        return "organizations"
    return None


def _header_score(cells: list[Any]) -> int:
    """How many cells of a row are known headers (of either kind)."""
    return sum(1 for c in cells if isinstance(c, str) and c.strip() and (
        header_field(c, "organizations") or header_field(c, "relationships")))


def _clean_header(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    # Headers are compared folded anyway; only invisible characters would surprise.
    text = "".join(c for c in text if c.isprintable() or c == " ")
    return " ".join(text.replace("\ufeff", "").split())


# ---- files ---------------------------------------------------------------------------------

@dataclass
class _Input:
    path: str
    name: str
    fmt: str
    data: bytes | None = None  # an InputFile's bytes; else read from path


def _labels(inputs: list[_Input]) -> list[str]:
    """Base names, made longer only where two inputs share one (a/membres.csv, b/membres.csv)."""
    labels = [i.name for i in inputs]
    depth = 1
    while len(set(labels)) < len(labels) and depth < 8:
        depth += 1
        labels = ["/".join(Path(i.path).parts[-depth:]) if i.data is None else i.name
                  for i in inputs]
    seen: dict[str, int] = {}
    for k, label in enumerate(labels):
        seen[label] = seen.get(label, 0) + 1
        if seen[label] > 1:  # two uploads of one name
            labels[k] = f"{label}#{seen[label]}"
    return labels


def _discover(paths: Iterable[Any], log: ProblemLog) -> list[_Input]:
    found: list[_Input] = []
    for p in paths:
        if isinstance(p, InputFile):
            name = os.path.basename(p.name.replace("\\", "/")) or "upload"
            fmt = SUPPORTED_SUFFIXES.get(Path(name).suffix.lower())
            if fmt is None:
                log.error(name, None, None, _unsupported(name))
            else:
                found.append(_Input(name, name, fmt, bytes(p.data)))
            continue
        path = Path(os.fsdecode(p))
        shown = str(path)
        if path.is_dir():
            entries = sorted(e for e in path.iterdir()
                             if not e.name.startswith((".", "~$")))
            inputs = [e for e in entries if e.is_file()
                      and e.suffix.lower() in SUPPORTED_SUFFIXES]
            for e in entries:
                if e in inputs or not e.is_file():
                    continue
                if e.suffix.lower() in _SPREADSHEETS:
                    # A spreadsheet the user meant to import: refusing beats ignoring it.
                    log.error(e.name, None, None, _unsupported(e.name))
                else:
                    log.warn(f"{path.name}/", None, None,
                             f'ignored "{e.name}": not a CSV, XLSX or JSON file')
            if not inputs and not any(e.suffix.lower() in _SPREADSHEETS for e in entries):
                log.error(f"{path.name}/", None, None,
                          f'the folder "{shown}" holds no CSV, XLSX or JSON file')
            found.extend(_Input(str(e), e.name, SUPPORTED_SUFFIXES[e.suffix.lower()])
                         for e in inputs)
        elif not path.exists():
            log.error(path.name or shown, None, None, f'no such file or folder: "{shown}"')
        else:
            fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
            if fmt is None:
                log.error(path.name, None, None, _unsupported(path.name))
            else:
                found.append(_Input(shown, path.name, fmt))
    return found


def _unsupported(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix == ".xls":
        return "old Excel (.xls) workbooks are not read: save it as .xlsx, or as CSV UTF-8"
    if suffix in (".ods", ".numbers", ".xlsb"):
        return "this spreadsheet format is not read: save it as .xlsx or CSV UTF-8"
    return (f'"{name}" is not a format maillage reads: give CSV (.csv, .tsv, .txt), '
            "Excel (.xlsx), JSON (.json) or JSON Lines (.jsonl)")


def _read_bytes(inp: _Input, label: str, limits: Limits, log: ProblemLog) -> bytes | None:
    """The file's bytes, or None after logging why not. Never reads past the size limit."""
    limit = limits.max_file_bytes
    too_big = (f"the file is larger than the limit of {limit:,} bytes: split it into smaller files, "
               "or raise MAILLAGE_IMPORT_MAX_BYTES")
    if inp.data is not None:
        if len(inp.data) > limit:
            log.error(label, None, None, too_big)
            return None
        return inp.data
    try:
        st = os.stat(inp.path)
        if not stat.S_ISREG(st.st_mode):
            # A pipe or device would block or never end.
            log.error(label, None, None, "not a regular file")
            return None
        if st.st_size > limit:
            log.error(label, None, None, too_big + f" (this one has {st.st_size:,})")
            return None
        with open(inp.path, "rb") as f:
            # Ask for what stat promised (read(limit) would allocate the whole limit), then
            # keep reading in chunks in case the file grew meanwhile.
            parts = [f.read(st.st_size + 1)]
            total = len(parts[0])
            while total > st.st_size and total <= limit:
                chunk = f.read(1 << 20)
                if not chunk:
                    break
                parts.append(chunk)
                total += len(chunk)
            data = parts[0] if len(parts) == 1 else b"".join(parts)
    except OSError as err:
        log.error(label, None, None, f"cannot be read: {err.strerror or err}")
        return None
    if len(data) > limit:  # grew while we looked
        log.error(label, None, None, too_big)
        return None
    return data


def read_inputs(paths: Iterable[Any], *, limits: Limits = DEFAULT_LIMITS,
                log: ProblemLog) -> tuple[list[FileInfo], list[RawTable]]:
    """Read every input into raw tables, logging what cannot be read.

    Parameters
    ----------
    paths : iterable of str, PathLike or InputFile
        Files, folders (their CSV, XLSX and JSON files, in name order) and uploads.
    limits : Limits
        Size bounds.
    log : ProblemLog
        Receives errors and warnings.

    Returns
    -------
    (list[FileInfo], list[RawTable])
        One FileInfo per file read and the tables found, in input order.
    """
    inputs = _discover(paths, log)
    infos: list[FileInfo] = []
    tables: list[RawTable] = []
    for inp, label in zip(inputs, _labels(inputs)):
        if log.full:
            break
        data = _read_bytes(inp, label, limits, log)
        if data is None:
            continue
        info = FileInfo(path=inp.path, label=label, format=inp.fmt, size=len(data))
        found = _READERS[inp.fmt](data, label, info, limits, log)
        for t in found:
            info.tables[t.label] = (t.kind or "unknown", len(t.rows))
        infos.append(info)
        tables.extend(found)
    return infos, tables


# ---- text ------------------------------------------------------------------------------------

_SURROGATE = re.compile("[\udc80-\udcff]")
_GOOD_NON_ASCII = re.compile("[^\x00-\x7f\udc80-\udcff]")


def _count(pattern: re.Pattern[str], text: str, cap: int = 10_000) -> int:
    n = 0
    for _ in pattern.finditer(text):
        n += 1
        if n >= cap:
            break
    return n


def _only(data: bytes, chars: bytes) -> bool:
    """Whether ``data`` holds no byte but those of ``chars`` (a large file is not copied
    unless its beginning already is only those)."""
    if data[:4096].translate(None, chars):
        return False
    return not data.translate(None, chars)


def _binary(data: bytes) -> str | None:
    """Say what binary content ``data`` looks like, or None if it looks like text."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    head = data[:65536]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None
    controls = sum(head.count(bytes([b])) for b in range(32) if b not in (9, 10, 12, 13))
    # Text has no NUL and almost no other control byte; a few are dirt, many are binary.
    # Nothing but NUL bytes (and blanks) is binary too: a file of zeros is no table.
    nul = head.count(b"\0")
    if ((nul > 16 and nul > len(head) // 100) or (controls > 32 and controls > len(head) // 10)
            or (nul and _only(head, b"\0 \t\r\n"))):
        return ("binary content, not text (if it is UTF-16 text without a byte-order mark, "
                "save it as CSV UTF-8)")
    return None


def decode(data: bytes, label: str, log: ProblemLog) -> tuple[str, str] | None:
    """Return ``(text, encoding)`` of a text file's bytes, or None after logging why not.

    Bytes that are not valid in the detected UTF-8 are kept as lone surrogates
    (``surrogateescape``) so that the cell holding them can be named later.

    Examples
    --------
    >>> log = ProblemLog()
    >>> decode("Montréal".encode("cp1252"), "f.csv", log)
    ('Montréal', 'cp1252')
    >>> decode(codecs.BOM_UTF8 + "Montréal".encode(), "f.csv", log)
    ('Montréal', 'utf-8-sig')
    """
    decoded = _decode(data, label, log)
    return None if decoded is None else decoded[:2]


def _decode(data: bytes, label: str, log: ProblemLog) -> tuple[str, str, bool] | None:
    """:func:`decode`, and whether the text holds bytes kept as lone surrogates."""
    what = _binary(data)
    if what is not None:
        log.error(label, None, None, f"this file is not a text table: it looks like {what}")
        return None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16", False
        except UnicodeDecodeError as err:
            log.error(label, None, None, f"invalid UTF-16 text at byte {err.start:,}: "
                      "save the file again as CSV UTF-8")
            return None
    encoding = "utf-8"
    start = 0
    if data.startswith(codecs.BOM_UTF8):
        start, encoding = 3, "utf-8-sig"
    try:
        return codecs.decode(memoryview(data)[start:], "utf-8"), encoding, False
    except UnicodeDecodeError as err:
        # A file cut short inside a character is UTF-8 with a truncated end.
        truncated = err.reason == "unexpected end of data" and err.end == len(data) - start
    data = data[start:]
    text = data.decode("utf-8", "surrogateescape")
    good = _count(_GOOD_NON_ASCII, text)
    # Valid multi-byte UTF-8 almost never happens by chance in Windows-1252 text, so a file
    # with as many valid sequences as bad bytes is UTF-8 with damage.
    if truncated or encoding == "utf-8-sig" or (good and good >= _count(_SURROGATE, text)):
        # Mostly valid UTF-8: the bad bytes are damage, reported where they are.
        return text, encoding, True
    for legacy in ("cp1252", "latin-1"):
        try:
            return data.decode(legacy), legacy, False
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")  # pragma: no cover


# ---- CSV -------------------------------------------------------------------------------------

_DELIMITERS = (",", ";", "\t")
_SEP_LINE = re.compile(r"\A\s*sep=(.)\s*?(\r\n|\n|\r)", re.IGNORECASE)
# Rows per chunk of the C parser: its cells become Python strings a chunk at a time.
_CHUNK_ROWS = 1 << 18


def sniff_delimiter(sample: str) -> str:
    """Return the delimiter among ``,`` ``;`` and tab that splits ``sample`` most regularly.

    Each candidate splits the first records; the winner gives the most records with as
    many fields as the first non-blank one, then the widest header, then comes first in
    ``, ; tab`` order.

    Examples
    --------
    >>> sniff_delimiter("id;nom;type\\nA;Acme, inc.;entreprise\\n")
    ';'
    >>> sniff_delimiter("id,name,type\\nA,Acme,company\\n")
    ','
    >>> sniff_delimiter("id\\tname\\nA\\tAcme; Inc\\n")
    '\\t'
    """
    best: tuple[float, int, int] | None = None
    chosen = ","
    for rank, d in enumerate(_DELIMITERS):
        widths: list[int] = []
        try:
            for rec in csv.reader(io.StringIO(sample, newline=""), delimiter=d):
                if any(c.strip() for c in rec):
                    while rec and not rec[-1].strip():
                        rec.pop()
                    widths.append(len(rec))
                if len(widths) >= 30:
                    break
        except csv.Error:
            pass
        if len(widths) > 1 and not sample.endswith(("\n", "\r")):
            widths.pop()  # the sample may cut the last record short
        if not widths:
            continue
        # A header of one field split by nothing tells nothing.
        regular = sum(1 for w in widths[1:] if w == widths[0]) / max(len(widths) - 1, 1)
        score = (regular if widths[0] > 1 else 0.0, widths[0], -rank)
        if best is None or score > best:
            best, chosen = score, d
    return chosen


def _blank_text(text: str) -> bool:
    chars = " \t\r\n,;\""
    return not text[:4096].strip(chars) and not text.strip(chars)


def _read_csv(data: bytes, label: str, info: FileInfo, limits: Limits,
              log: ProblemLog) -> list[RawTable]:
    if _only(data, b" \t\r\n" + codecs.BOM_UTF8):
        log.error(label, None, None, "the file is empty: it needs a header row and data rows")
        return []
    decoded = _decode(data, label, log)
    if decoded is None:
        return []
    text, info.encoding, damaged = decoded
    text = text.lstrip("\ufeff")
    if _blank_text(text):
        log.error(label, None, None, "the file is empty: it needs a header row and data rows")
        return []
    sep = _SEP_LINE.match(text)
    if sep and sep.group(1) in ",;\t|":
        # Excel's own hint line; Excel hides it, so the header is still row 1.
        delimiter, text = sep.group(1), text[sep.end():]
    else:
        delimiter = sniff_delimiter(text[:65536])
    info.delimiter = delimiter
    # A regular file (the usual case, and every large one) is read by pandas' C parser; the
    # rest (damaged bytes, NUL, broken quotes, cells past the csv module's limit ...) by
    # the csv module, record by record, which names each problem where it is.
    table = _SLOW if damaged or "\0" in text else _read_regular_csv(text, delimiter, label,
                                                                     limits, log)
    if table is _SLOW:
        table = _table_from_records(_csv_records(_csv_reader(text, delimiter), label, log),
                                    label, limits, log)
    if table is _EMPTY:
        log.error(label, None, None, "the file is empty: it needs a header row and data rows")
        return []
    return [table] if table is not None else []


def _csv_reader(text: str, delimiter: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quotechar='"',
                      doublequote=True, strict=True)


def _csv_records(reader: Iterator[list[str]], label: str,
                 log: ProblemLog) -> Iterator[tuple[int, list[Any]]]:
    """Yield ``(row number, fields)`` per CSV record, turning parser errors into problems."""
    row = 0
    while True:
        row += 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            message = str(err)
            if "field larger than field limit" in message:
                message = (f"a cell longer than {csv.field_size_limit():,} characters: "
                           "is a quote (\") left open above?")
            elif "unexpected end of data" in message:
                message = ('a quoted cell is never closed: a quote (") is missing, so the '
                           "rest of the file was read as one cell")
            elif "expected after" in message:
                message = ('text follows the quote (") that closes a cell: quote the whole '
                           'cell and double the quotes inside it ("")')
            log.error(label, row, None, f"cannot be read as CSV: {message}")
            if log.full:
                return
            continue
        yield row, fields


_EMPTY: Any = object()  # what _table_from_records returns for a table without any value
_SLOW: Any = object()  # what _read_regular_csv returns for a file it leaves to the csv module


class _Irregular(Exception):
    """Raised inside :func:`_read_regular_csv` when the file needs the csv module."""


def _quoted_cells(delimiter: str) -> re.Pattern[str]:
    d = re.escape(delimiter)
    # A quote opening a cell (at the start of the text, a line or a cell), the cell's text
    # with its quotes doubled, and the quote closing it (before a delimiter, a line break or
    # the end of the text).
    return re.compile(f'"(?<![^{d}\\r\\n]")[^"]*(?:""[^"]*)*"(?=[{d}\\r\\n]|\\Z)')


def _quotes_regular(text: str, delimiter: str) -> bool:
    """Whether every quote of ``text`` opens or closes (or is doubled in) a quoted cell.

    Then pandas' C parser reads the file as the csv module does; the csv module reads the
    other files itself (it names the rows where quotes go wrong, and refuses text after a
    closing quote, which the C parser would take silently).
    """
    if '"' not in text:
        return True
    rest = _quoted_cells(delimiter).sub("", text)
    return '"' not in rest


class _Factorizer:
    """Builds one :class:`Column` from chunks of cells (strings), distinct values once."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.parts: list[np.ndarray] = []

    def add(self, cells: np.ndarray) -> None:
        codes, distinct = pd.factorize(cells)
        values = distinct.tolist()
        if len(codes) and codes.min() < 0:
            raise _Irregular("a missing cell")  # not with na_filter=False; never guessed
        if values and max(map(len, values)) > csv.field_size_limit():
            raise _Irregular("a cell longer than the csv module reads")
        index = self.index
        to_index = np.fromiter((index.setdefault(v, len(index)) for v in values), np.int64,
                               len(values))
        self.parts.append(to_index[codes].astype(np.int32))

    def column(self) -> Column:
        codes = np.concatenate(self.parts) if self.parts else np.empty(0, np.int32)
        return Column(codes, list(self.index))


def _parse_columns(text: str, delimiter: str, width: int) -> list[Column]:
    """Every record of ``text`` by pandas' C parser: ``width`` columns, record ``i`` (from
    0) at row ``i``, a blank record as a row of empty cells, a short record padded with
    empty cells. A record wider than ``width`` raises ParserError."""
    parts = [_Factorizer() for _ in range(width)]
    with pd.read_csv(io.StringIO(text), sep=delimiter, header=None, names=range(width),
                     index_col=False, dtype=object, na_filter=False, keep_default_na=False,
                     skip_blank_lines=False, quotechar='"', doublequote=True,
                     quoting=csv.QUOTE_MINIMAL, escapechar=None, comment=None,
                     skipinitialspace=False, engine="c", chunksize=_CHUNK_ROWS) as chunks:
        for chunk in chunks:
            for j in range(width):
                parts[j].add(chunk[j].to_numpy(dtype=object))
    return [p.column() for p in parts]


_WIDER = re.compile(r"Expected \d+ fields in line \d+, saw (\d+)")


def _read_regular_csv(text: str, delimiter: str, label: str, limits: Limits,
                      log: ProblemLog) -> RawTable | None:
    """Read a regular CSV file column by column with pandas' C parser, with the same
    header, rows and problems as :func:`_table_from_records`; or return ``_SLOW`` for a file
    that is not regular (see :func:`_quotes_regular`), leaving ``log`` untouched."""
    if not _quotes_regular(text, delimiter):
        return _SLOW
    # The header is found as the csv module finds it, in the first records; its problems
    # are held back until the file is known to be regular.
    first = ProblemLog(limits.max_problems)
    found = _find_header(_csv_records(_csv_reader(text, delimiter), label, first), label,
                         limits, first)
    if first.errors:
        return _SLOW
    if found is None or found is _EMPTY:
        return found
    head, at = found
    width = max(len(cells) for _, cells in head)
    for _ in range(4):
        try:
            columns = _parse_columns(text, delimiter, width)
            break
        except pd.errors.ParserError as err:
            wider = _WIDER.search(str(err))
            if not wider or int(wider[1]) <= width:
                return _SLOW
            width = int(wider[1])
        except _Irregular:
            return _SLOW
    else:
        return _SLOW
    n = len(columns[0])
    # Both parsers must agree on the records the header search saw.
    for row, cells in head:
        if row > n or [c.values[c.codes[row - 1]] for c in columns[:len(cells)]] != cells or \
                any(c.values[c.codes[row - 1]] for c in columns[len(cells):]):
            return _SLOW
    headers, width_named = _header_of(head, at, label, first)
    for w in first.warnings:
        log.warn(w.file, w.row, w.column, w.message)
    header_row = head[at][0]
    # A row is kept when one of its cells is filled; cells right of the header must be empty.
    record = np.arange(1, n + 1, dtype=np.int64)
    filled = [np.fromiter((bool(v.strip()) for v in c.values), bool, len(c.values))[c.codes]
              for c in columns]
    keep = np.logical_or.reduce(filled) & (record > header_row)
    problems: list[tuple[int, int, str | None, str]] = []  # (row, order, column, message)
    if len(columns) > width_named:
        beyond = np.logical_or.reduce(filled[width_named:]) & keep
        for i in np.flatnonzero(beyond).tolist():
            last = max(j for j in range(width_named, len(columns)) if filled[j][i])
            problems.append((i + 1, -1, None,
                             f"this row has {last + 1} values but the header names only "
                             f"{width_named} columns: check the delimiter and the quotes, or "
                             "name the extra columns"))
    for j, h in enumerate(headers):
        if not h:
            hits = np.flatnonzero(filled[j] & keep)
            if len(hits):
                problems.append((int(hits[0]) + 1, j, f"column {j + 1}",
                                 "this column has values but no header: name it in the header "
                                 "row or delete it"))
    # At the problem cap the line-by-line reader stops after the row that reached it (or,
    # when a row of the header search did, after the record that follows them).
    stop = None
    for row, _, column, message in sorted(problems):
        if stop is not None and row > stop:
            break
        log.error(label, row, column, message)
        if log.full and stop is None:
            stop = max(row, head[-1][0] + 1)
    if stop is not None:
        keep &= record <= stop
    at_rows = np.flatnonzero(keep)
    cells = [Column(c.codes[at_rows], c.values) for c in columns[:width_named]]
    return RawTable(label, headers, record[at_rows], cells, table_kind(headers))


def _find_header(records: Iterator[tuple[int, list[Any]]], label: str, limits: Limits,
                 log: ProblemLog) -> tuple[list[tuple[int, list[Any]]], int] | None:
    """Find the header among the first records: ``(head, at)``, the non-blank records read
    and the header's place among them; None after logging a problem, or ``_EMPTY`` when
    there is no value at all.

    A row wider than ``limits.max_columns`` before the header stops reading before any data
    row is kept.
    """
    head: list[tuple[int, list[Any]]] = []
    for row, cells in records:
        if any(_filled(c) for c in cells):
            width = len(cells)
            while width and not _filled(cells[width - 1]):
                width -= 1
            if width > limits.max_columns:
                # Checked before anything else looks at the cells: 100,000 of them would
                # make even the header search slow.
                log.error(label, row, None,
                          f"too many columns: {width:,} (the limit is {limits.max_columns:,}); "
                          "is this the right file, or the right delimiter?")
                return None
            head.append((row, cells))
            if len(head) >= _HEADER_SEARCH or _header_score(cells) >= 2:
                break
    if not head:
        return _EMPTY
    # The header is the first row naming at least two known columns (a title row above it
    # is skipped with a warning); if none does, the first non-blank row.
    at = next((i for i, (_, cells) in enumerate(head) if _header_score(cells) >= 2), 0)
    return head, at


def _header_of(head: list[tuple[int, list[Any]]], at: int, label: str,
               log: ProblemLog) -> tuple[list[str], int]:
    """The headers found by :func:`_find_header`, and their number (trailing blanks cut)."""
    header_row, header_cells = head[at]
    if at:
        log.warn(label, header_row, None,
                 f"the header is on row {header_row}; rows above it were ignored")
    while header_cells and not _filled(header_cells[-1]):
        header_cells = header_cells[:-1]
    headers = [_clean_header(c) for c in header_cells]
    return headers, len(headers)


def _table_from_records(records: Iterator[tuple[int, list[Any]]], label: str,
                        limits: Limits, log: ProblemLog) -> RawTable | None:
    """Find the header among the first records, then collect the data rows under it.

    Shared by CSV and workbook sheets: a row is a list of cell values, blank rows are
    skipped (their numbers are not), trailing empty cells are dropped, and a row wider
    than ``limits.max_columns`` before the header stops reading before any data row is
    kept. Returns None after logging a problem, or ``_EMPTY`` when there is no value at all.
    """
    found = _find_header(records, label, limits, log)
    if found is None or found is _EMPTY:
        return found
    head, at = found
    headers, width = _header_of(head, at, label, log)
    rows: list[int] = []
    cells_out: list[list[Any]] = []
    unnamed_reported: set[int] = set()

    def take(row: int, cells: list[Any]) -> None:
        if not any(_filled(c) for c in cells):
            return
        if len(cells) > width:
            extra = [j for j in range(width, len(cells)) if _filled(cells[j])]
            if extra:
                log.error(label, row, None,
                          f"this row has {extra[-1] + 1} values but the header names only "
                          f"{width} columns: check the delimiter and the quotes, or name "
                          "the extra columns")
            cells = cells[:width]
        elif len(cells) < width:
            cells = list(cells) + [None] * (width - len(cells))
        for j, h in enumerate(headers):
            if not h and j not in unnamed_reported and _filled(cells[j]):
                unnamed_reported.add(j)
                log.error(label, row, f"column {j + 1}",
                          "this column has values but no header: name it in the header row "
                          "or delete it")
        rows.append(row)
        cells_out.append(list(cells))

    for row, cells in head[at + 1:]:
        take(row, cells)
    for row, cells in records:
        take(row, cells)
        if log.full:
            break
    return _raw_table(label, headers, rows, cells_out, table_kind(headers))


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


# ---- XLSX ------------------------------------------------------------------------------------

def _read_xlsx(data: bytes, label: str, info: FileInfo, limits: Limits,
               log: ProblemLog) -> list[RawTable]:
    if not data:
        log.error(label, None, None, "the file is empty")
        return []
    if not data.startswith(b"PK\x03\x04"):
        what = _binary(data)
        hint = f"it looks like {what}" if what else "it looks like text: give it a .csv name"
        log.error(label, None, None, f"this is not an Excel workbook (.xlsx): {hint}")
        return []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            unpacked = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as err:
        # NotImplementedError: zipfile's answer to a damaged "version needed to extract".
        log.error(label, None, None, f"this workbook is damaged (not a valid .xlsx file: {err})")
        return []
    if unpacked > limits.max_unpacked_bytes:
        log.error(label, None, None,
                  f"this workbook unpacks to {unpacked:,} bytes, above the limit of "
                  f"{limits.max_unpacked_bytes:,}: split it, or save its sheets as CSV")
        return []
    import openpyxl

    tables: list[RawTable] = []
    try:
        # openpyxl warns about features it drops (data validation, styles): not our user's
        # concern, and under pytest's warnings-as-errors it would abort the read.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            try:
                for ws in wb.worksheets:
                    if log.full:
                        break
                    sheet_label = f"{label}:{ws.title}"
                    # The stored dimension may lie (or claim a million rows): read what is there.
                    ws.reset_dimensions()
                    rows = _sheet_records(ws, sheet_label, log)
                    found = _table_from_records(rows, sheet_label, limits, log)
                    if found is _EMPTY:
                        log.warn(sheet_label, None, None, "empty sheet, ignored")
                    elif found is not None:
                        tables.append(found)
            finally:
                wb.close()
    except Exception as err:  # noqa: BLE001 - a damaged workbook can fail anywhere inside openpyxl
        log.error(label, None, None,
                  f"this workbook cannot be read ({type(err).__name__}: {err}); open it in "
                  "Excel and save it again as .xlsx, or save its sheets as CSV")
        return []
    kept = [t for t in tables if t.kind is not None]
    for t in tables:
        if t.kind is None:
            log.warn(t.label, None, None,
                     "sheet ignored: its headers name neither organizations (id, name, type) "
                     f"nor relationships (source, target, relationship); found: "
                     f"{', '.join(h for h in t.headers if h) or 'nothing'}")
    if not kept:
        log.error(label, None, None,
                  "no sheet of this workbook has the headers of organizations (id, name, "
                  "type) or relationships (source, target, relationship)")
    return kept


def _sheet_records(ws: Any, label: str, log: ProblemLog) -> Iterator[tuple[int, list[Any]]]:
    # Rows come padded to the widest row seen; cells beyond the column limit are cut by the
    # header check, so there is no need to ask openpyxl for fewer.
    for row, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if row > _EXCEL_MAX_ROWS:
            log.error(label, None, None, f"the sheet claims more than {_EXCEL_MAX_ROWS:,} rows, "
                      "more than Excel allows: the workbook is damaged")
            return
        cells = list(values)
        for j, v in enumerate(cells):
            if isinstance(v, _dt.time):
                cells[j] = v.isoformat()
            elif isinstance(v, _dt.timedelta):
                cells[j] = str(v)
        yield row, cells


# ---- JSON ------------------------------------------------------------------------------------

_ORG_KEYS = {"organizations", "organisations", "orgs", "stakeholders", "acteurs", "nodes",
             "noeuds", "membres", "members", "parties prenantes"}
_REL_KEYS = {"relationships", "relations", "links", "liens", "edges", "aretes", "arêtes"}


def _no_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON does not have.
    raise ValueError(f"{name} is not a JSON number")


def _object_kind(obj: dict[str, Any]) -> str:
    return "relationships" if table_kind(list(obj)) == "relationships" else "organizations"


def _tables_from_objects(objects: list[tuple[int, Any]], label: str, kind: str | None,
                         log: ProblemLog, limits: Limits) -> list[RawTable]:
    """Tables (one per kind) from ``(row, object)`` pairs; a non-object is a problem."""
    grouped: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for row, obj in objects:
        if not isinstance(obj, dict):
            log.error(label, row, None,
                      f"expected an object {{...}} with the fields of an organization or a "
                      f"relationship, found {_json_type(obj)}")
            continue
        k = kind or _object_kind(obj)
        grouped.setdefault(k, []).append((row, _canonical_keys(obj, k)))
    tables = []
    for k in ("organizations", "relationships"):
        if k not in grouped:
            continue
        headers: dict[str, int] = {}
        for _, obj in grouped[k]:
            for key in obj:
                if key not in headers:
                    if len(headers) >= limits.max_columns:
                        log.error(label, None, None,
                                  f"too many different fields (more than {limits.max_columns:,})")
                        return tables
                    headers[key] = len(headers)
        cells = [[obj.get(h) for h in headers] for _, obj in grouped[k]]
        tables.append(_raw_table(label, [_clean_header(h) for h in headers],
                                 [r for r, _ in grouped[k]], cells, k))
    return tables


def _canonical_keys(obj: dict[str, Any], kind: str) -> dict[str, Any]:
    """Rename the keys naming a field to the field's English name.

    Objects of one JSON list may spell a field differently ("name" here, "nom" there);
    unlike a table's header, each object has its own keys, so they are aligned one by one.
    A key naming a field the object already has keeps its own spelling.
    """
    out: dict[str, Any] = {}
    renamed: dict[str, str] = {}
    for key in obj:
        found = header_field(key, kind) if isinstance(key, str) else None
        if found and found[0] not in obj and found[0] not in renamed.values():
            renamed[key] = found[0]
    for key, value in obj.items():
        out[renamed.get(key, key)] = value
    return out


# json's messages that end in "at", expecting the position after them.
_JSON_MESSAGES = {
    "Unterminated string starting at": 'a text starts here but never ends: its closing quote (") '
                                       "is missing",
    "Invalid control character at": "a text holds a raw line break, tab or other control "
                                    "character: write it as \\n or \\t",
}


def _json_error(err: json.JSONDecodeError) -> str:
    """json's message for ``err`` as a whole sentence (its position is given beside it).

    Examples
    --------
    >>> try:
    ...     json.loads('{"name": "Acme')
    ... except json.JSONDecodeError as err:
    ...     print(_json_error(err))
    a text starts here but never ends: its closing quote (") is missing
    """
    msg = err.msg
    if msg in _JSON_MESSAGES:
        return _JSON_MESSAGES[msg]
    return msg[:-3] if msg.endswith(" at") else msg


def _json_type(value: Any) -> str:
    return {list: "a list", str: "a text", bool: "true/false", type(None): "null",
            int: "a number", float: "a number", dict: "an object"}.get(type(value), "a value")


def _read_json(data: bytes, label: str, info: FileInfo, limits: Limits,
               log: ProblemLog) -> list[RawTable]:
    text = _json_text(data, label, info, log)
    if text is None:
        return []
    try:
        doc = json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as err:
        log.error(label, None, None, f"invalid JSON at line {err.lineno}, column {err.colno}: "
                  f"{_json_error(err)}")
        return []
    except ValueError as err:
        log.error(label, None, None, f"invalid JSON: {err}")
        return []
    except RecursionError:
        log.error(label, None, None, "invalid JSON: nested too deeply")
        return []
    if isinstance(doc, list):
        return _tables_from_objects(list(enumerate(doc, start=1)), label, None, log, limits)
    if isinstance(doc, dict) and str(doc.get("format", "")).startswith("maillage-"):
        # maillage's own files (the demo's ground truth, a memory store) often sit beside
        # the data in a folder: they are not import data.
        log.warn(label, None, None, f'skipped: a maillage "{doc["format"]}" file, not import data')
        return []
    if isinstance(doc, dict):
        tables: list[RawTable] = []
        found = False
        for key, value in doc.items():
            folded = key.strip().casefold()
            kind = ("organizations" if folded in _ORG_KEYS
                    else "relationships" if folded in _REL_KEYS else None)
            if kind is None:
                log.warn(label, None, None, f'key "{key}" ignored: expected "organizations" '
                         'and "relationships"')
                continue
            found = True
            sub = f"{label}:{key}"
            if not isinstance(value, list):
                log.error(sub, None, None, f"expected a list of objects, found {_json_type(value)}")
                continue
            tables.extend(_tables_from_objects(list(enumerate(value, start=1)), sub, kind,
                                               log, limits))
        if not found:
            # A single object is read as a one-row list.
            return _tables_from_objects([(1, doc)], label, None, log, limits)
        return tables
    log.error(label, None, None, f"expected a list of objects, or an object with "
              f'"organizations" and "relationships" lists; found {_json_type(doc)}')
    return []


def _json_text(data: bytes, label: str, info: FileInfo, log: ProblemLog) -> str | None:
    if not data.strip(b" \t\r\n" + codecs.BOM_UTF8):
        log.error(label, None, None, "the file is empty")
        return None
    decoded = decode(data, label, log)
    if decoded is None:
        return None
    text, info.encoding = decoded
    bad = _SURROGATE.search(text)
    if bad:
        line = text.count("\n", 0, bad.start()) + 1
        log.error(label, line if info.format == "jsonl" else None, None,
                  f"bytes that are not valid UTF-8 (line {line}): save the file as UTF-8")
        return None
    return text.lstrip("\ufeff")


def _read_jsonl(data: bytes, label: str, info: FileInfo, limits: Limits,
                log: ProblemLog) -> list[RawTable]:
    text = _json_text(data, label, info, log)
    if text is None:
        return []
    objects: list[tuple[int, Any]] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            objects.append((line_no, json.loads(line, parse_constant=_no_constant)))
        except json.JSONDecodeError as err:
            log.error(label, line_no, None, f"invalid JSON at column {err.colno}: "
                      f"{_json_error(err)}")
        except ValueError as err:
            log.error(label, line_no, None, f"invalid JSON: {err}")
        except RecursionError:
            log.error(label, line_no, None, "invalid JSON: nested too deeply")
        if log.full:
            break
    return _tables_from_objects(objects, label, None, log, limits)


_READERS = {"csv": _read_csv, "xlsx": _read_xlsx, "json": _read_json, "jsonl": _read_jsonl}
