"""Files through prepare_import into the real stores (memory and Neo4j): what loads, what is
refused with the graph left exactly as it was, and re-imports that change only what changed."""

from __future__ import annotations

import codecs
import datetime as dt
import json

import openpyxl
import pytest

import loaders
from maillage.errors import ValidationFailed

from .factory import ORGS_EN, ORGS_FR, RELS_EN, RELS_FR, write


@pytest.fixture
def folder(tmp_path):
    """A folder for input files (the memory store keeps its own file in tmp_path)."""
    path = tmp_path / "in"
    path.mkdir()
    return path


def load(store, paths, **options):
    plan = loaders.prepare_import(paths, known_ids=store.existing_ids,
                                  known_organizations=store.organization_names, **options)
    summary = store.upsert(organizations=plan.organizations, relationships=plan.relationships,
                           source=plan.source)
    return plan, summary


def state(store):
    """Everything a snapshot holds, in a comparable form (import ids and times included)."""
    G = store.snapshot()
    nodes = sorted((n, json.dumps(d, sort_keys=True, default=str)) for n, d in G.nodes(data=True))
    edges = sorted((u, v, k, json.dumps(d, sort_keys=True, default=str))
                   for u, v, k, d in G.edges(keys=True, data=True))
    return nodes, edges


def french_files(folder):
    write(folder, "membres.csv", ORGS_FR, "cp1252")
    write(folder, "relations.csv", RELS_FR, "cp1252")
    return folder


def bom_files(folder):
    write(folder, "orgs.csv", codecs.BOM_UTF8 + ORGS_EN.encode())
    write(folder, "rels.csv", codecs.BOM_UTF8 + RELS_EN.encode())
    return folder


def workbook_file(folder):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Organisations"
    for line in ORGS_EN.splitlines():
        ws.append(line.split(","))
    rels = wb.create_sheet("Relations")
    for line in RELS_EN.splitlines():
        rels.append(line.split(","))
    wb.save(folder / "ecosysteme.xlsx")
    return folder / "ecosysteme.xlsx"


def json_lines_file(folder):
    rows = [line.split(",") for line in ORGS_EN.splitlines()]
    objects = [dict(zip(rows[0], r)) for r in rows[1:]]
    rel_rows = [line.split(",") for line in RELS_EN.splitlines()]
    objects += [dict(zip(rel_rows[0], r)) for r in rel_rows[1:]]
    return write(folder, "data.jsonl", "\n".join(json.dumps(o, ensure_ascii=False) for o in objects))


@pytest.mark.parametrize("make", [french_files, bom_files, workbook_file, json_lines_file])
def test_each_format_loads_into_the_store(store, folder, make):
    plan, summary = load(store, make(folder))
    assert summary.organizations_created == 4
    assert summary.relationships_created == 3
    G = store.snapshot()
    udem = G.nodes["UDEM"]
    assert udem["name"] == "Université de Montréal"
    assert udem["type"] == "institution"
    assert udem["source"] == plan.organizations[0].source_file
    assert udem["row"] == plan.organizations[0].row
    assert G.nodes["CSMO"]["type"] == "workforce_committee"
    assert G.has_edge("ACME", "CSMO", key="MEMBER_OF")
    assert G.edges["POLY", "ACME", "PARTNERS_WITH"]["weight"] == pytest.approx(0.5)
    assert G.edges["ACME", "CSMO", "MEMBER_OF"]["since"] == dt.date(2019, 1, 1)


def test_importing_twice_changes_nothing(store, folder):
    french_files(folder)
    load(store, folder)
    before = state(store)
    _, summary = load(store, folder)
    assert not summary.changed
    assert summary.organizations_unchanged == 4 and summary.relationships_unchanged == 3
    assert state(store) == before


def test_editing_one_row_changes_exactly_that_row(store, folder):
    french_files(folder)
    load(store, folder)
    write(folder, "membres.csv", ORGS_FR.replace("Usinage de précision", "Usinage et assemblage"),
          "cp1252")
    _, summary = load(store, folder)
    assert (summary.organizations_updated, summary.organizations_unchanged) == (1, 3)
    assert (summary.relationships_updated, summary.relationships_unchanged) == (0, 3)
    assert store.snapshot().nodes["ACME"]["mandate"] == "Usinage et assemblage"


BROKEN = {
    "unknown type": ("membres.csv", ORGS_FR.replace("PME", "Fondation")),
    "missing column": ("membres.csv", ORGS_FR.replace("Type d'organisation", "Genre")),
    "relationship to nowhere": ("relations.csv", RELS_FR + "ACME;NULLE-PART;partenaire;;;\n"),
    "bad weight": ("relations.csv", RELS_FR.replace("0,5", "moyen")),
    "duplicate id": ("membres.csv", ORGS_FR + "ACME;Autre;PME;;;;\n"),
}


@pytest.mark.parametrize("name, content", BROKEN.values(), ids=BROKEN.keys())
def test_broken_files_are_refused_and_the_graph_stays_as_it_was(store, folder, name, content):
    french_files(folder)
    load(store, folder)
    before = state(store)
    write(folder, name, content, "cp1252")
    with pytest.raises(ValidationFailed) as caught:
        load(store, folder)
    assert {p.file for p in caught.value.problems} == {name}
    assert state(store) == before


def test_relationships_may_point_at_what_the_graph_already_holds(store, folder):
    load(store, write(folder, "orgs.csv", ORGS_EN))
    plan, summary = load(store, write(folder, "later.csv",
                                      "source,target,relationship\nUDEM,ACME,funds\n"
                                      "UDEM,Aerospace,part of\n"))
    assert summary.relationships_created == 2
    assert plan.relationships[1].target == "aerospace"


def test_a_variant_name_of_a_stored_organization_is_reported_then_merged(store, folder):
    load(store, write(folder, "orgs.csv", ORGS_EN))
    variant = write(folder / "new", "more.csv",
                    "id,name,type\nU-NEW,UNIVERSITE DE MONTREAL,université\n")
    plan = loaders.prepare_import(variant, known_organizations=store.organization_names)
    row = plan.duplicates.iloc[0]
    assert (row.id_a, row.id_b, row["where"]) == ("U-NEW", "UDEM", "graph")

    plan, summary = load(store, variant, merge_duplicates=True)
    assert summary.organizations_created == 0 and summary.organizations_updated == 1
    udem = store.snapshot().nodes["UDEM"]
    assert udem["mergedFrom"] == ["U-NEW"]
    assert udem["name"] == "Université de Montréal"
