"""Validation before any write: every problem found, each at its file, row and column."""

from __future__ import annotations

import pytest

import loaders
from loaders import Limits
from maillage.errors import ValidationFailed

from .factory import ORGS_EN, known_ids_of, problem_at, refused, write

ORGS = "id,name,type\nA,Acme,company\nB,Beta,company\nC,Gamma,structure\n"


def case(id, files, expected, **options):
    """One broken input: ``files`` (name → text or bytes), and the problems expected as
    ``(file, row, column, words in the message)``."""
    return pytest.param(files, expected, options, id=id)


BROKEN = [
    case("missing required column",
         {"membres.csv": "identifiant,org,type\nA,Acme,company\n"},
         [("membres.csv", None, "name",
           'Column "name" missing from membres.csv (found: identifiant, org, type)')]),
    case("missing required columns all listed",
         {"membres.csv": "identifiant,org\nA,Acme\n"},
         [("membres.csv", None, "name", 'Column "name" missing'),
          ("membres.csv", None, "type", 'Column "type" missing')]),
    case("missing relationship column",
         {"o.csv": ORGS, "r.csv": "source,cible\nA,B\n"},
         [("r.csv", None, "relationship", 'Column "relationship" missing')]),
    case("missing value",
         {"o.csv": "id,name,type\nA,,company\n,Beta,company\n"},
         [("o.csv", 2, "name", "missing name"), ("o.csv", 3, "id", "missing id")]),
    case("unknown type lists accepted values",
         {"o.csv": "id,nom,type\nA,Acme,fondation\nB,Beta,entrepise\n"},
         [("o.csv", 2, "type", 'unknown type "fondation": expected one of company, '
                               "association, workforce_committee, government, institution, "
                               "structure (in French: entreprise"),
          ("o.csv", 3, "type", 'Did you mean "entreprise"?')]),
    case("duplicate id names both rows",
         {"o.csv": "id,name,type\nA,Acme,company\nB,Beta,company\nA,Alpha,company\n"},
         [("o.csv", 2, "id", 'duplicate id "A": also on o.csv row 4'),
          ("o.csv", 4, "id", 'duplicate id "A": also on o.csv row 2')]),
    case("duplicate id across files",
         {"a.csv": "id,name,type\nA,Acme,company\n", "b.csv": "identifiant,nom,type\nA,Alpha,PME\n"},
         [("a.csv", 2, "id", "also on b.csv row 2"),
          ("b.csv", 2, "identifiant", "also on a.csv row 2")]),
    case("ids colliding after normalisation",
         {"o.csv": "id,name,type\nORG-1,Acme,company\norg-1,Beta,company\nÉ 2,C,company\ne2,D,company\n"},
         [("o.csv", 2, "id", 'id "ORG-1" differs from "org-1" (o.csv row 3) only by case'),
          ("o.csv", 3, "id", 'id "org-1" differs from "ORG-1"'),
          ("o.csv", 4, "id", 'id "É 2" differs from "e2"'),
          ("o.csv", 5, "id", 'id "e2" differs from "É 2"')]),
    case("relationship to nowhere",
         {"o.csv": ORGS, "r.csv": "source,target,relationship\nA,Z,partner\nY,B,partner\n"},
         [("r.csv", 2, "target", 'no organization "Z" in the files or in the graph'),
          ("r.csv", 3, "source", 'no organization "Y"')]),
    case("relationship end differing by case gets a hint",
         {"o.csv": ORGS, "r.csv": "source,target,relationship\nA,b,partner\n"},
         [("r.csv", 2, "target", 'Did you mean "B"?')]),
    case("ambiguous name as an end",
         {"o.csv": "id,name,type\nA,Acme,company\nB,Acme,company\nC,Beta,company\n",
          "r.csv": "source,target,relationship\nC,acme,partner\n"},
         [("r.csv", 2, "target", '"acme" is the name of several organizations (A, B)')]),
    case("unknown relationship type",
         {"o.csv": ORGS, "r.csv": "source,target,relationship\nA,B,friend of\n"},
         [("r.csv", 2, "relationship", 'unknown relationship "friend of": expected one of '
                                       "MEMBER_OF, PARTNERS_WITH")]),
    case("self-loop",
         {"o.csv": ORGS, "r.csv": "source,target,relationship\nA,A,partner\n"},
         [("r.csv", 2, "target", "linked to itself")]),
    case("part of an unknown cluster",
         {"o.csv": ORGS, "r.csv": "source,target,relationship\nA,Aérospatiale,part of\n"},
         [("r.csv", 2, "target", 'no cluster "Aérospatiale"')]),
    case("bad number, negative number, bad date, month first, end before start",
         {"o.csv": ORGS, "r.csv": "source;target;relationship;weight;since;until\n"
                                  "A;B;partner;beaucoup;;\n"
                                  "A;C;member of;-1;;\n"
                                  "B;C;member of;;hier;\n"
                                  "C;A;funds;;03/25/2021;\n"
                                  "B;A;funds;;2022;2020\n"},
         [("r.csv", 2, "weight", 'expected a number such as 0.5 or 0,5, found "beaucoup"'),
          ("r.csv", 3, "weight", "expected a number of zero or more"),
          ("r.csv", 4, "since", 'expected a date as 2021-03-04, 04/03/2021 (day/month/year) or '
                                '2021, found "hier"'),
          ("r.csv", 5, "since", "reads as month/day/year"),
          ("r.csv", 6, "until", "ends (2020-01-01) before it starts (2022-01-01)")]),
    case("impossible date",
         {"o.csv": ORGS, "r.csv": "source,target,relationship,since\nA,B,partner,31/02/2021\n"},
         [("r.csv", 2, "since", '"31/02/2021" is not a real date')]),
    case("repeated relationship with other values",
         {"o.csv": ORGS, "r.csv": "source,target,relationship,weight\nA,B,partner,1\nB,A,partner,2\n"},
         [("r.csv", 3, None, "is also on r.csv row 2 with different values")]),
    case("cell too long",
         {"o.csv": "id,name,type,mandate\nA,Acme,company," + "x" * 101 + "\n"},
         [("o.csv", 2, "mandate", "this cell has 101 characters; the limit is 100")],
         limits=Limits(max_cell_chars=100)),
    case("too many columns",
         {"o.csv": "id,name,type," + ",".join(f"c{i}" for i in range(10)) + "\nA,Acme,company\n"},
         [("o.csv", 1, None, "too many columns: 13 (the limit is 12)")],
         limits=Limits(max_columns=12)),
    case("file too big",
         {"o.csv": ORGS},
         [("o.csv", None, None, "larger than the limit of 20 bytes")],
         limits=Limits(max_file_bytes=20)),
    case("empty file", {"o.csv": ""}, [("o.csv", None, None, "the file is empty")]),
    case("blank file", {"o.csv": "\n \r\n\t\n"}, [("o.csv", None, None, "the file is empty")]),
    case("only separators", {"o.csv": ",,,\n,,\n"}, [("o.csv", None, None, "the file is empty")]),
    case("binary file",
         {"o.csv": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4},
         [("o.csv", None, None, "it looks like a PNG image")]),
    case("workbook named csv",
         {"o.csv": b"PK\x03\x04" + b"\0" * 100},
         [("o.csv", None, None, "give it a .xlsx name")]),
    case("undecodable bytes in a UTF-8 file",
         {"o.csv": "id,name,type\nA,Montréal inc.,company\nB,Caf".encode() + b"\xe9 Beta,company\n"},
         [("o.csv", 3, "name", "bytes E9 are not valid UTF-8")]),
    case("truncated UTF-8",
         {"o.csv": "id,name,type\nA,Acme,company\nB,Beta,company €".encode()[:-1]},
         [("o.csv", 3, "type", "bytes E2 82 are not valid UTF-8")]),
    case("row longer than the header",
         {"o.csv": "id,name,type\nA,Acme,company,extra,more\n"},
         [("o.csv", 2, None, "this row has 5 values but the header names only 3 columns")]),
    case("values under a blank header",
         {"o.csv": "id,name,type,,note\nA,Acme,company,oops,\n"},
         [("o.csv", 2, "column 4", "this column has values but no header")]),
    case("two columns for one field",
         {"o.csv": "id,name,Name ,type\nA,Acme,Acme,company\n"},
         [("o.csv", None, "Name", 'two columns mean "name"')]),
    case("two columns for one property",
         {"o.csv": "id,name,type,Code postal,code-postal\nA,Acme,company,H2X,H2X\n"},
         [("o.csv", None, "code-postal", 'both become the property "codePostal"')]),
    case("table of unknown kind",
         {"o.csv": "alpha,beta\n1,2\n"},
         [("o.csv", 1, None, "cannot tell whether this table holds organizations or "
                             "relationships")]),
    case("unterminated quote",
         {"o.csv": 'id,name,type\nA,"Acme,company\nB,Beta,company\n'},
         [("o.csv", 2, None, "a quoted cell is never closed")]),
    case("text after a closing quote",
         {"o.csv": 'id,name,type\nA,"Acme" inc,company\nB,Beta,company\n'},
         [("o.csv", 2, None, "text follows the quote")]),
    case("unsupported format",
         {"o.xls": b"\xd0\xcf\x11\xe0"},
         [("o.xls", None, None, "old Excel (.xls) workbooks are not read")]),
    case("nested value where one is expected",
         {"o.json": '[{"id": "A", "name": {"fr": "Acme"}, "type": "company"}]'},
         [("o.json", 1, "name", "expected one name, found a nested object")]),
]


@pytest.mark.parametrize("files, expected, options", BROKEN)
def test_broken_input_is_refused_at_the_right_file_row_and_column(tmp_path, files, expected, options):
    for name, content in files.items():
        write(tmp_path, name, content)
    problems = refused(tmp_path, **options)
    for file, row, column, words in expected:
        problem = problem_at(problems, file, row, column)
        assert words in problem.message, problem
    assert len(problems) == len(expected), problems


def test_a_header_without_rows_is_nothing_to_import(tmp_path):
    path = write(tmp_path, "o.csv", "id,name,type\n")
    problem = problem_at(refused(path), "o.csv", None)
    assert problem.message.startswith("nothing to import")


def test_every_problem_of_every_file_is_collected(tmp_path):
    write(tmp_path, "a.csv", "id,name,type\nA,,company\nB,Beta,fondation\nC,Gamma,company\n")
    write(tmp_path, "b.csv", "source,target,relationship\nA,Z,partner\nA,C,friend\n")
    problems = refused(tmp_path)
    assert [(p.file, p.row, p.column) for p in problems] == [
        ("a.csv", 2, "name"), ("a.csv", 3, "type"), ("b.csv", 3, "relationship"),
        ("b.csv", 2, "target")]


def test_the_error_list_is_capped_and_says_so(tmp_path):
    rows = "".join(f"X{i},Name {i},fondation\n" for i in range(50))
    problems = refused(write(tmp_path, "o.csv", "id,name,type\n" + rows),
                       limits=Limits(max_problems=10))
    assert len(problems) == 11
    assert "stopped after 10 problems" in problems[-1].message


def test_validation_failed_carries_the_warnings_and_reads_well(tmp_path):
    write(tmp_path, "o.csv", "id,name,type\nA,Ac\x07me,company\nB,Beta,fondation\n")
    with pytest.raises(ValidationFailed) as caught:
        loaders.prepare_import(tmp_path)
    err = caught.value
    assert [str(w) for w in err.warnings] == [
        'o.csv, row 2, column "name": removed invisible control characters (U+0007)']
    assert str(err).startswith("1 problem(s) found, nothing was written:\n"
                               '  - o.csv, row 3, column "type": unknown type "fondation"')
    text = loaders.format_problems(err.problems)
    assert text.splitlines()[:2] == ["o.csv", '  row 3, column "type": unknown type '
                                              '"fondation": ' + err.problems[0].message.split(": ", 1)[1]]


def test_relationship_ends_in_the_graph_are_accepted_with_one_lookup(tmp_path):
    write(tmp_path, "o.csv", ORGS)
    write(tmp_path, "r.csv", "source,target,relationship\nA,OLD-1,partner\nOLD-2,B,funds\n"
                             "C,OLD-1,coordinates\nA,aerospatiale,part of\n")
    known = known_ids_of({"OLD-1", "OLD-2", "aerospatiale", "X"})
    plan = loaders.prepare_import(tmp_path, known_ids=known)
    assert [(r.source, r.target, r.target_kind) for r in plan.relationships] == [
        ("A", "OLD-1", "Organization"), ("OLD-2", "B", "Organization"),
        ("C", "OLD-1", "Organization"), ("A", "aerospatiale", "Cluster")]
    assert known.calls == [["OLD-1", "OLD-2", "aerospatiale"]]


def test_a_stored_cluster_is_not_an_organization_end(tmp_path):
    write(tmp_path, "o.csv", ORGS)
    write(tmp_path, "r.csv", "source,target,relationship\nA,aerospatiale,partner\n")
    problems = refused(tmp_path, known_ids=known_ids_of({"aerospatiale", "OLD"}),
                       known_organizations=lambda: [("OLD", "Old", "company")])
    assert "is a cluster, not an organization" in problem_at(problems, "r.csv", 2, "target").message


def test_relationship_ends_may_name_a_stored_organization(tmp_path):
    write(tmp_path, "o.csv", ORGS)
    write(tmp_path, "r.csv", "source,target,relationship\nA,Université de Montréal,partner\n")
    plan = loaders.prepare_import(
        tmp_path, known_organizations=lambda: [("UDEM", "Université de Montréal", "institution")])
    assert plan.relationships[0].target == "UDEM"


def test_a_relationships_only_file_can_link_stored_organizations(tmp_path):
    path = write(tmp_path, "r.csv", "source,target,relationship\nA,B,partner\n")
    plan = loaders.prepare_import(path, known_ids=known_ids_of({"A", "B"}))
    assert plan.organizations == [] and len(plan.relationships) == 1
    assert refused(path)[0].row == 2  # without the graph, both ends are unknown


def test_identical_repeated_relationship_is_kept_once_with_a_warning(tmp_path):
    write(tmp_path, "o.csv", ORGS)
    write(tmp_path, "r.csv", "source,target,relationship\nA,B,partner\nB,A,partenaire\n"
                             "A,C,member of\nA,C,membre de\n")
    plan = loaders.prepare_import(tmp_path)
    assert [(r.source, r.type, r.target) for r in plan.relationships] == [
        ("A", "PARTNERS_WITH", "B"), ("A", "MEMBER_OF", "C")]
    assert [w.row for w in plan.warnings] == [3, 5]


def test_cycles_are_a_clean_load(tmp_path):
    write(tmp_path, "o.csv", ORGS)
    write(tmp_path, "r.csv", "source,target,relationship\nA,B,member of\nB,C,member of\nC,A,member of\n")
    assert len(loaders.prepare_import(tmp_path).relationships) == 3


def test_stored_id_differing_only_by_case_is_a_warning(tmp_path):
    plan = loaders.prepare_import(write(tmp_path, "o.csv", ORGS),
                                  known_organizations=lambda: [("a", "Acme", "company")])
    assert 'differs from the stored id "a"' in problem_at(plan.warnings, "o.csv", 2, "id").message


def test_missing_paths_and_empty_folders_are_problems(tmp_path):
    (tmp_path / "empty").mkdir()
    problems = refused([tmp_path / "nope.csv", tmp_path / "empty"])
    assert [p.message.split(":")[0] for p in problems] == ["no such file or folder",
                                                           'the folder "' + str(tmp_path / "empty") + '" holds no CSV, XLSX or JSON file']


def test_a_good_file_beside_a_broken_one_is_not_imported_alone(tmp_path):
    write(tmp_path, "good.csv", ORGS_EN)
    write(tmp_path, "bad.csv", "id,name,type\nX,Xeno,fondation\n")
    problems = refused(tmp_path)
    assert [p.file for p in problems] == ["bad.csv"]
