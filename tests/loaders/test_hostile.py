"""Hostile files: each gives a clear problem or a clean load, never a traceback or a hang,
and reading stays bounded in time and memory."""

from __future__ import annotations

import io
import os
import random
import time
import tracemalloc
import zipfile

import openpyxl
import pytest

import loaders
from loaders import InputFile, Limits
from maillage.errors import ValidationFailed

from .factory import problem_at, refused, write

ORGS = "id,name,type\nA,Acme,company\nB,Beta,company\n"


def outcome(paths, **options):
    """Return the plan, or the problems of a refusal; any other exception fails the test."""
    try:
        return loaders.prepare_import(paths, **options)
    except ValidationFailed as err:
        assert err.problems
        return err.problems


def random_bytes(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def xlsx_bytes(rows) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["o.csv", "o.xlsx", "o.json", "o.jsonl"])
def test_empty_file_is_refused(tmp_path, name):
    problem = problem_at(refused(write(tmp_path, name, b"")), name, None)
    assert "empty" in problem.message


@pytest.mark.parametrize("name", ["o.csv", "o.xlsx", "o.json", "o.jsonl", "o.tsv"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_binary_is_refused(tmp_path, name, seed):
    problems = refused(write(tmp_path, name, random_bytes(4096, seed)))
    assert {p.file for p in problems} == {name}


@pytest.mark.parametrize("name, content", [
    ("o.csv", "id,name,type\nA,Acme,company\nB,Béta,company\n"),
    ("o.json", '[{"id": "A", "name": "Béta", "type": "company"}]'),
    ("o.jsonl", '{"id": "A", "name": "Béta", "type": "company"}\n'),
])
def test_truncated_utf8_is_refused_where_it_is_cut(tmp_path, name, content):
    data = content.encode()
    cut = data[: data.rindex("é".encode()) + 1]  # inside the two bytes of é
    problems = refused(write(tmp_path, name, cut))
    assert all(p.file == name for p in problems)
    assert any("not valid UTF-8" in p.message for p in problems)


@pytest.mark.parametrize("text", [
    "id;name,type\nA,Acme;company\nB;Beta,company\n",
    "id,name,type\nA;Acme;company\nB,Beta,company\n",
    "id\tname;type\nA\tAcme;company\n",
])
def test_mixed_delimiters_give_a_clear_problem(tmp_path, text):
    problems = refused(write(tmp_path, "o.csv", text))
    assert all(p.file == "o.csv" and p.message for p in problems)


def test_a_hundred_thousand_columns_are_refused_quickly_in_bounded_memory(tmp_path):
    header = ",".join(f"column{i}" for i in range(100_000))
    row = ",".join("x" for _ in range(100_000))
    path = write(tmp_path, "wide.csv", header + "\n" + (row + "\n") * 20)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        problems = refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 10
    # The file is 4.6 MB; reading stops at its first row rather than building a
    # 20 x 100,000 frame.
    assert peak < 60 * 2**20
    assert "too many columns: 100,000 (the limit is 500)" in problem_at(problems, "wide.csv", 1).message


def test_a_json_object_with_a_hundred_thousand_keys_is_refused(tmp_path):
    obj = "{" + ",".join(f'"k{i}": {i}' for i in range(100_000)) + "}"
    problems = refused(write(tmp_path, "wide.json", f'[{{"id": "A", "name": "N", "type": "company"}}, {obj}]'))
    assert "too many different fields" in problems[0].message


@pytest.mark.parametrize("name", ["big.csv", "big.xlsx", "big.json"])
def test_a_one_gigabyte_file_is_refused_before_it_is_read(tmp_path, name):
    path = tmp_path / name
    with open(path, "wb") as f:
        f.truncate(2**30)  # sparse: takes no disk, but stat says 1 GiB
    tracemalloc.start()
    started = time.perf_counter()
    try:
        problems = refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2
    assert peak < 5 * 2**20
    assert "larger than the limit of 104,857,600 bytes" in problem_at(problems, name, None).message


def test_upload_above_the_limit_is_refused(tmp_path):
    problems = refused(InputFile("o.csv", ORGS.encode()), limits=Limits(max_file_bytes=10))
    assert "larger than the limit" in problems[0].message


def test_a_named_pipe_is_refused_without_blocking(tmp_path):
    path = tmp_path / "pipe.csv"
    os.mkfifo(path)
    assert problem_at(refused(path), "pipe.csv", None).message == "not a regular file"


@pytest.mark.parametrize("cell", [
    '=HYPERLINK("http://evil.example","clic")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)",
    "<script>alert(1)</script>", "MATCH (n) DETACH DELETE n", "{{ 7*7 }}", "'; DROP TABLE x;--",
])
def test_formula_script_and_query_text_is_kept_as_inert_text(tmp_path, cell):
    quoted = '"' + cell.replace('"', '""') + '"'
    plan = loaders.prepare_import(write(tmp_path, "o.csv", f"id,name,type,mandate\nA,Acme,company,{quoted}\n"))
    assert plan.organizations[0].mandate == cell
    formula_warnings = [w for w in plan.warnings if "formula" in w.message]
    assert len(formula_warnings) == (1 if cell.startswith("=") else 0)


def test_formula_cells_in_a_workbook_are_kept_as_their_text(tmp_path):
    data = xlsx_bytes([["id", "name", "type", "mandate"],
                       ["A", "Acme", "company", '=HYPERLINK("http://evil.example","x")'],
                       ["B", "=1+1", "company", "=A1"]])
    plan = loaders.prepare_import(InputFile("o.xlsx", data))
    assert plan.organizations[0].mandate == '=HYPERLINK("http://evil.example","x")'
    assert plan.organizations[1].name == "=1+1"
    assert len([w for w in plan.warnings if "formula" in w.message]) == 3


def test_a_few_null_bytes_are_removed_with_warnings(tmp_path):
    path = write(tmp_path, "o.csv", b"id,name,type\nA,Ac\x00me,company\nB\x00,Beta,company\n")
    plan = loaders.prepare_import(path)
    assert [(o.id, o.name) for o in plan.organizations] == [("A", "Acme"), ("B", "Beta")]
    assert [(w.row, w.column) for w in plan.warnings] == [(2, "name"), (3, "id")]


def test_a_file_full_of_null_bytes_is_binary(tmp_path):
    path = write(tmp_path, "o.csv", b"id,name,type\n" + b"A\x00\x00\x00,Acme,company\n" * 100)
    assert "binary" in problem_at(refused(path), "o.csv", None).message


@pytest.mark.parametrize("name", ["o.csv", "o.tsv", "o.json", "o.jsonl", "o.xlsx"])
@pytest.mark.parametrize("content", [b"\0", b"\0" * 5, b"\0" * 100_000, b"\0\0\n\0\r\n"])
def test_a_file_of_nothing_but_null_bytes_is_binary_not_empty(tmp_path, name, content):
    problem = problem_at(refused(write(tmp_path, name, content)), name, None)
    assert "binary" in problem.message and "empty" not in problem.message


def test_ids_colliding_after_normalisation_are_refused(tmp_path):
    decomposed = "Cafe\u0301-1"  # "Café-1" in two code points
    text = f"id,name,type\nCafé-1,Acme,company\n{decomposed},Beta,company\nx 1,C,company\nX1,D,company\n"
    problems = refused(write(tmp_path, "o.csv", text))
    # NFC makes the first two one id: a duplicate; "x 1" and "X1" collide once folded.
    assert 'duplicate id "Café-1"' in problem_at(problems, "o.csv", 2).message
    assert 'duplicate id "Café-1"' in problem_at(problems, "o.csv", 3).message
    assert "only by case, accents or spaces" in problem_at(problems, "o.csv", 4).message
    assert "only by case, accents or spaces" in problem_at(problems, "o.csv", 5).message


def test_cycles_load_but_self_loops_and_relationships_to_nowhere_are_refused(tmp_path):
    write(tmp_path, "o.csv", ORGS)
    write(tmp_path, "r.csv", "source,target,relationship\nA,B,member of\nB,A,member of\n")
    assert len(loaders.prepare_import(tmp_path).relationships) == 2
    write(tmp_path, "r.csv", "source,target,relationship\nA,A,partner\nA,NOWHERE,partner\n")
    problems = refused(tmp_path)
    assert "linked to itself" in problem_at(problems, "r.csv", 2).message
    assert 'no organization "NOWHERE"' in problem_at(problems, "r.csv", 3).message


def test_a_cell_longer_than_the_csv_parser_allows_is_a_problem(tmp_path):
    path = write(tmp_path, "o.csv", 'id,name,type\nA,"' + "x" * 200_000 + '",company\nB,Beta,company\n')
    problem = problem_at(refused(path), "o.csv", 2)
    assert "longer than 131,072 characters" in problem.message


def test_an_unclosed_quote_does_not_swallow_the_file_silently(tmp_path):
    path = write(tmp_path, "o.csv", 'id,name,type\nA,"Acme,company\n' + "B,Beta,company\n" * 1000)
    assert "never closed" in problem_at(refused(path), "o.csv", 2).message


@pytest.mark.parametrize("newline", ["\r", "\r\n", "\n"])
def test_any_line_ending_loads(tmp_path, newline):
    plan = loaders.prepare_import(write(tmp_path, "o.csv", ORGS.replace("\n", newline)))
    assert [o.row for o in plan.organizations] == [2, 3]


def test_a_workbook_claiming_rows_beyond_excel_is_refused(tmp_path):
    source = xlsx_bytes([["id", "name", "type"], ["A", "Acme", "company"]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(source)) as zin, zipfile.ZipFile(out, "w") as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b'<row r="2"', b'<row r="2000000"').replace(b'r="A2"', b'r="A2000000"')
                data = data.replace(b'r="B2"', b'r="B2000000"').replace(b'r="C2"', b'r="C2000000"')
            zout.writestr(item, data)
    started = time.perf_counter()
    problems = refused(InputFile("o.xlsx", out.getvalue()))
    assert time.perf_counter() - started < 20
    assert any("more than 1,048,576 rows" in p.message for p in problems), problems


def test_deeply_nested_json_lines_are_refused(tmp_path):
    path = write(tmp_path, "o.jsonl", "[" * 100_000 + "]" * 100_000 + "\n")
    assert "nested too deeply" in problem_at(refused(path), "o.jsonl", 1).message


def test_hostile_file_names_in_uploads_are_reduced_to_their_base_name():
    plan = loaders.prepare_import(InputFile("../../etc/o.csv", ORGS.encode()))
    assert plan.organizations[0].source_file == "o.csv"
    assert plan.source == "o.csv"
