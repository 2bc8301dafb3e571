"""XLSX workbooks: sheets recognised by their headers, rows numbered as Excel shows them."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import openpyxl
import pytest

import loaders
from loaders import InputFile, Limits

from .factory import problem_at, refused, write


def make_workbook(path, sheets: dict[str, list[list]]) -> None:
    """Write a workbook with ``sheets`` (title → rows) built with openpyxl."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    wb.save(path)


def members_workbook(path, **overrides) -> None:
    sheets = {
        "Organisations": [
            ["Liste des membres 2024"],
            [],
            ["Identifiant", "Nom", "Type", "Grappes", "Budget", "Membre actif"],
            [101, "Acme inc.", "PME", "Aérospatiale", 12.5, True],
            [102, '=CONCAT("Beta";" Aéro")', "Entreprise", "Aérospatiale", None, False],
            [None, None, None, None, None, None],
            [103, "Cégep Alpha", "cégep", "Aérospatiale", 3, None],
        ],
        "Relations": [
            ["Source", "Cible", "Type de relation", "Depuis", "Poids"],
            [101, 103, "membre de", dt.datetime(2020, 5, 1), 0.5],
            [102, "Aérospatiale", "fait partie de", None, None],
            [103, 101, "partenaire", 2019, "0,25"],
        ],
        "Notes": [["Remarques", "Auteur"], ["À revoir", "MG"]],
    }
    sheets.update(overrides)
    make_workbook(path, sheets)


def test_workbook_sheets_are_recognised_by_their_headers(tmp_path):
    path = tmp_path / "membres.xlsx"
    members_workbook(path)
    plan = loaders.prepare_import(path)

    orgs = {o.id: o for o in plan.organizations}
    assert list(orgs) == ["101", "102", "103"]  # numeric ids become text
    acme = orgs["101"]
    assert (acme.type, acme.clusters, acme.source_file, acme.row) == (
        "company", ("Aérospatiale",), "membres.xlsx:Organisations", 4)
    assert acme.extra == {"budget": 12.5, "membreActif": True, "typeLabel": "PME"}
    assert orgs["102"].extra["membreActif"] is False
    assert orgs["103"].row == 7  # the blank row 6 keeps Excel's numbering
    rels = [(r.source, r.type, r.target, r.since, r.weight, r.row) for r in plan.relationships]
    assert rels == [
        ("101", "MEMBER_OF", "103", dt.date(2020, 5, 1), 0.5, 2),
        ("102", "PART_OF", "aerospatiale", None, None, 3),
        ("103", "PARTNERS_WITH", "101", dt.date(2019, 1, 1), 0.25, 4),
    ]
    assert plan.files[0].tables == {"membres.xlsx:Organisations": ("organizations", 3),
                                    "membres.xlsx:Relations": ("relationships", 3)}


def test_workbook_warnings_name_title_rows_formulas_and_ignored_sheets(tmp_path):
    path = tmp_path / "membres.xlsx"
    members_workbook(path)
    plan = loaders.prepare_import(path)
    assert "header is on row 3" in problem_at(plan.warnings, "membres.xlsx:Organisations", 3).message
    formula = problem_at(plan.warnings, "membres.xlsx:Organisations", 5, "Nom")
    assert "formula" in formula.message
    # The formula is kept as inert text, never computed.
    assert plan.organizations[1].name == '=CONCAT("Beta";" Aéro")'
    assert "sheet ignored" in problem_at(plan.warnings, "membres.xlsx:Notes", None).message


def test_workbook_problems_name_the_sheet_row_and_column(tmp_path):
    path = tmp_path / "membres.xlsx"
    members_workbook(path, Relations=[
        ["Source", "Cible", "Relation", "Poids"],
        [101, 103, "membre de", "beaucoup"],
        [101, 999, "partenaire", None],
    ])
    problems = refused(path)
    assert "expected a number" in problem_at(problems, "membres.xlsx:Relations", 2, "Poids").message
    assert 'no organization "999"' in problem_at(problems, "membres.xlsx:Relations", 3, "Cible").message


def test_english_sheet_names_and_headers_work_too(tmp_path):
    path = tmp_path / "stakeholders.xlsx"
    make_workbook(path, {
        "Stakeholders": [["id", "name", "type"], ["a", "Acme", "company"], ["b", "Beta", "firm"]],
        "Links": [["source", "target", "relationship"], ["a", "b", "PARTNERS_WITH"]],
    })
    plan = loaders.prepare_import(path)
    assert len(plan.organizations) == 2 and len(plan.relationships) == 1


def test_workbook_given_as_upload_bytes(tmp_path):
    path = tmp_path / "m.xlsx"
    members_workbook(path)
    plan = loaders.prepare_import(InputFile("m.xlsx", path.read_bytes()))
    assert plan.source == "m.xlsx" and len(plan.organizations) == 3


def test_workbook_without_a_recognisable_sheet_is_refused(tmp_path):
    path = tmp_path / "notes.xlsx"
    make_workbook(path, {"Feuil1": [["a", "b"], [1, 2]]})
    problem = problem_at(refused(path), "notes.xlsx", None)
    assert "no sheet of this workbook" in problem.message


def test_damaged_workbook_is_refused_without_a_traceback(tmp_path):
    good = tmp_path / "good.xlsx"
    members_workbook(good)
    data = good.read_bytes()
    path = write(tmp_path, "cut.xlsx", data[: len(data) // 2])
    problem = problem_at(refused(path), "cut.xlsx", None)
    assert "damaged" in problem.message or "cannot be read" in problem.message


def test_csv_text_named_xlsx_is_refused_with_a_hint(tmp_path):
    path = write(tmp_path, "members.xlsx", "id,name,type\nA,Acme,company\n")
    assert ".csv" in problem_at(refused(path), "members.xlsx", None).message


def test_workbook_that_unpacks_beyond_the_limit_is_refused_before_opening(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * 5_000_000)  # compresses to ~5 kB
    path = write(tmp_path, "bomb.xlsx", buffer.getvalue())
    problem = problem_at(refused(path, limits=Limits(max_unpacked_bytes=1_000_000)), "bomb.xlsx", None)
    assert "unpacks to 5,000,000 bytes" in problem.message


def test_empty_sheets_are_skipped_with_a_warning(tmp_path):
    path = tmp_path / "m.xlsx"
    make_workbook(path, {"Vide": [], "Orgs": [["id", "name", "type"], ["a", "Acme", "company"]]})
    plan = loaders.prepare_import(path)
    assert problem_at(plan.warnings, "m.xlsx:Vide", None).message == "empty sheet, ignored"


@pytest.mark.parametrize("value, expected", [
    (dt.datetime(2021, 3, 4), dt.date(2021, 3, 4)),
    (dt.date(2021, 3, 4), dt.date(2021, 3, 4)),
    ("04/03/2021", dt.date(2021, 3, 4)),
    (2021, dt.date(2021, 1, 1)),
])
def test_workbook_dates_as_dates_text_or_years(tmp_path, value, expected):
    path = tmp_path / "m.xlsx"
    make_workbook(path, {
        "Orgs": [["id", "name", "type"], ["a", "Acme", "company"], ["b", "Beta", "company"]],
        "Rels": [["source", "target", "relationship", "since"], ["a", "b", "partner", value]],
    })
    assert loaders.prepare_import(path).relationships[0].since == expected
