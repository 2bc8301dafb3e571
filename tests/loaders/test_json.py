"""JSON and JSON Lines: objects told apart by their keys, rows numbered by position or line."""

from __future__ import annotations

import json

import pytest

import loaders

from .factory import problem_at, refused, write

ORGS = [
    {"id": "UDEM", "name": "Université de Montréal", "type": "université",
     "sectors": ["Santé", "Recherche"], "clusters": "Sciences de la vie", "budget": 12.5,
     "public": True},
    {"id": "ACME", "nom": "Acme inc.", "type": "PME", "address": {"city": "Laval"}},
]
RELS = [
    {"source": "ACME", "target": "UDEM", "relationship": "partenaire", "weight": 0.5,
     "since": "2020-01-31"},
]


def test_json_list_of_mixed_objects_is_split_by_keys(tmp_path):
    path = write(tmp_path, "data.json", json.dumps(ORGS + RELS, ensure_ascii=False))
    plan = loaders.prepare_import(path)
    udem, acme = plan.organizations
    assert udem.sectors == ("Santé", "Recherche")
    assert udem.clusters == ("Sciences de la vie",)
    assert udem.extra == {"budget": 12.5, "public": True, "typeLabel": "université"}
    assert (udem.source_file, udem.row, acme.row) == ("data.json", 1, 2)
    assert acme.name == "Acme inc."
    # A nested object has no graph property type: kept as its JSON text, with a warning.
    assert acme.extra["address"] == '{"city": "Laval"}'
    assert "nested object" in problem_at(plan.warnings, "data.json", 2, "address").message
    (rel,) = plan.relationships
    assert (rel.source, rel.target, rel.type, rel.weight, rel.row) == (
        "ACME", "UDEM", "PARTNERS_WITH", 0.5, 3)


def test_json_object_with_organizations_and_relationships_lists(tmp_path):
    doc = {"organisations": ORGS, "relations": RELS, "version": 2}
    plan = loaders.prepare_import(write(tmp_path, "data.json", json.dumps(doc)))
    assert [(o.source_file, o.row) for o in plan.organizations] == [
        ("data.json:organisations", 1), ("data.json:organisations", 2)]
    assert plan.relationships[0].source_file == "data.json:relations"
    assert 'key "version" ignored' in plan.warnings[0].message


def test_json_lines_carry_their_line_numbers(tmp_path):
    lines = [json.dumps(o, ensure_ascii=False) for o in ORGS + RELS]
    text = lines[0] + "\n\n" + "\n".join(lines[1:]) + "\n"
    plan = loaders.prepare_import(write(tmp_path, "data.jsonl", text))
    assert [o.row for o in plan.organizations] == [1, 3]
    assert plan.relationships[0].row == 4


def test_json_lines_problems_name_the_line(tmp_path):
    text = ('{"id": "A", "name": "Acme", "type": "company"}\n'
            '{"id": "B", "name": "Beta", "type": "company"\n'
            '{"id": "C", "name": ["x", "y"], "type": "company"}\n'
            '42\n')
    problems = refused(write(tmp_path, "data.jsonl", text))
    assert "invalid JSON" in problem_at(problems, "data.jsonl", 2).message
    assert "expected one name" in problem_at(problems, "data.jsonl", 3, "name").message
    assert "expected an object" in problem_at(problems, "data.jsonl", 4).message


@pytest.mark.parametrize("text, expected", [
    ('[{"id": "A", "name": "Acme", "type": "company"}', "invalid JSON at line 1"),
    ("42", "expected a list of objects"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"organizations": {"id": "A"}}', "expected a list of objects"),
    ("", "empty"),
])
def test_broken_json_is_refused_with_a_clear_problem(tmp_path, text, expected):
    problems = refused(write(tmp_path, "data.json", text))
    assert any(expected in p.message for p in problems), problems


@pytest.mark.parametrize("name, text, words", [
    ("data.json", '[{"id": "A", "name": "Acme', "closing quote"),
    ("data.json", '[{"id": "A", "name": "Ac\nme"}]', "raw line break"),
    ("data.jsonl", '{"id": "A", "name": "Acme\n', "closing quote"),
])
def test_json_syntax_errors_are_whole_sentences(tmp_path, name, text, words):
    (problem,) = refused(write(tmp_path, name, text))
    assert problem.message.startswith("invalid JSON at ") and words in problem.message
    # json's own "Unterminated string starting at" ends where it expects a position.
    assert not problem.message.endswith((" at", " at:"))


def test_json_numbers_and_lists_become_text_where_text_is_expected(tmp_path):
    doc = [{"id": 7, "name": "Acme", "type": "company", "sectors": ["TI", 3]},
           {"id": 8, "name": "Beta", "type": "company"},
           {"source": 7, "target": 8, "relationship": "funds", "weight": "1,5", "until": 2024}]
    plan = loaders.prepare_import(write(tmp_path, "d.json", json.dumps(doc)))
    assert [o.id for o in plan.organizations] == ["7", "8"]
    assert plan.organizations[0].sectors == ("TI", "3")
    rel = plan.relationships[0]
    assert (rel.source, rel.target, rel.weight, rel.until.year) == ("7", "8", 1.5, 2024)


@pytest.mark.parametrize("value, words", [
    ("1e999999", "a number too large to hold"),
    ("NaN", "NaN is not a JSON number"),
    ("-Infinity", "-Infinity is not a JSON number"),
])
def test_numbers_json_does_not_have_are_refused(tmp_path, value, words):
    text = f'[{{"id": "A", "name": "Acme", "type": "company", "budget": {value}}}]'
    problems = refused(write(tmp_path, "d.json", text))
    assert any(words in p.message for p in problems), problems
