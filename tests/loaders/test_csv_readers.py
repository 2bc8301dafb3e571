"""The two CSV readers agree: pandas' C parser (regular files, and every large one) and the
csv module (the others) give the same records, rows and problems, in the same order.

Each input is imported twice, once as it is and once with the C parser turned off; the
plans, or the problems of the refusals, must be equal. Inputs are built from pieces that
make files regular (quoted cells, doubled quotes, line breaks in quotes, blank and title
rows, trailing delimiters) and pieces that do not (stray quotes, NUL), so that both the
C parser and the hand-over to the csv module are exercised.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import loaders
from loaders import InputFile, Limits, read
from maillage.errors import ValidationFailed

from .factory import ORGS_EN, ORGS_FR, RELS_EN, RELS_FR

READERS = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def outcome(files, **options):
    """Everything an import says, as plain values."""
    try:
        plan = loaders.prepare_import(files, **options)
    except ValidationFailed as err:
        return "refused", err.problems, err.warnings  # type: ignore[attr-defined]
    return ("loaded", [dataclasses.astuple(o) for o in plan.organizations],
            [dataclasses.astuple(r) for r in plan.relationships],
            plan.duplicates.astype(object).to_dict("split"), plan.warnings,
            [(f.label, f.encoding, f.delimiter, f.tables) for f in plan.files])


def make_outcomes(files, **options):
    """The outcome with the C parser, the outcome without, and how many files it read."""
    calls = {"regular": 0}
    original = read._read_regular_csv

    def counted(*args, **kwargs):
        table = original(*args, **kwargs)
        calls["regular"] += table is not read._SLOW
        return table

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(read, "_read_regular_csv", counted)
        fast = outcome(files, **options)
        patch.setattr(read, "_read_regular_csv", lambda *args, **kwargs: read._SLOW)
        slow = outcome(files, **options)
    return fast, slow, calls["regular"]


CELLS = ["A", "B", "ACME", "POLY", "UDEM", "Acme", "Beta", "PME", "cégep", "partner", "membre de",
         "funds", "part of", "Aérospatiale", "0,5", "1", "-1", "2021", "04/03/2021", "hier",
         "", " ", "  x  ", "=1+1", "a|b; c", "Montréal", "Comité sectoriel de main-d'œuvre",
         "\x07", "\u00a0", "e\u0301"]
QUOTED = ['"a, b"', '"say ""hi"""', '"two\nlines"', '"x;\r\ny"', '""', '"A"', '"\t"']
BROKEN = ['"open', 'a"b', '"a"b', '"', "\x00", ' "q"']
HEADERS = ["id,name,type", "identifiant;nom;type", "id\tname\ttype\tsectors\tclusters",
           "source,target,relationship,weight,since,until", "Source;Cible;Relation;Poids;Depuis",
           "id,name,type,,note", "id,name,type,Code postal,source", "Liste des membres\n\nid,nom,type",
           "id,name"]


@st.composite
def csv_text(draw, broken: bool = True) -> str:
    header = draw(st.sampled_from(HEADERS))
    delimiter = {",": ",", ";": ";", "\t": "\t"}[draw(st.sampled_from([",", ";", "\t"]))]
    pieces = CELLS + QUOTED + (BROKEN if broken else [])
    lines = [header.replace(",", delimiter).replace(";", delimiter).replace("\t", delimiter)]
    for _ in range(draw(st.integers(0, 12))):
        width = draw(st.integers(0, 8))
        lines.append(delimiter.join(draw(st.sampled_from(pieces)) for _ in range(width)))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    return newline.join(lines) + draw(st.sampled_from(["", newline, newline * 2]))


@READERS
@given(st.data())
def test_random_files_give_the_same_outcome_with_either_reader(data):
    text = data.draw(csv_text())
    options = data.draw(st.sampled_from([{}, {"limits": Limits(max_problems=2)},
                                         {"limits": Limits(max_cell_chars=3)}]))
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    files = [InputFile("o.csv", text.encode(encoding, "replace"))]
    if data.draw(st.booleans()):
        files.append(InputFile("r.csv", data.draw(csv_text()).encode()))
    fast, slow, _ = make_outcomes(files, **options)
    assert fast == slow


@READERS
@given(st.data())
def test_regular_files_are_read_by_the_c_parser(data):
    text = data.draw(csv_text(broken=False))
    fast, slow, regular = make_outcomes([InputFile("o.csv", text.encode())])
    assert fast == slow
    # Unless a row is wider than the header (a problem the csv module reports), the C
    # parser read it.
    assert regular == 1 or fast[0] == "refused"


@pytest.mark.parametrize("files", [
    [("membres.csv", ORGS_FR.encode("cp1252")), ("relations.csv", RELS_FR.encode("cp1252"))],
    [("o.csv", ORGS_EN.encode()), ("r.csv", RELS_EN.encode())],
    [("o.csv", b"\nid,name,type,,,\n\nA,Acme,company,,\n\n\nB,Beta,fondation,,,,,,,\n")],
    [("o.csv", b"Title,,\n,,\nid,nom,type\nA,Acme,PME\nB,,PME,x\n")],
    [("o.csv", b'id,name,type,mandate\nA,Acme,company,"a\nb"\nB,Beta,company,"c ""d"""\n')],
    [("o.csv", b"sep=;\nid;name;type\nA;Acme;company\n")],
    [("o.csv", b"id,name,type,,note\nA,Acme,company,oops,\nB,Beta,company,again,\n")],
])
def test_the_documented_and_odd_layouts_give_the_same_outcome(files):
    fast, slow, regular = make_outcomes([InputFile(n, d) for n, d in files])
    assert fast == slow
    assert regular >= 1


def test_a_wide_row_past_the_first_ones_is_read_by_the_c_parser_too():
    rows = "".join(f"O{i},Org {i},company\n" for i in range(50))
    text = "id,name,type\n" + rows + "Z,Zed,company,,,,\n" + "Y,Why,company,x,,\n"
    fast, slow, regular = make_outcomes([InputFile("o.csv", text.encode())])
    assert fast == slow and regular == 1
    assert fast[0] == "refused"
    assert [(p.row, p.message[:28]) for p in fast[1]] == [(53, "this row has 4 values but th")]
