"""Names as comparison keys and probable duplicate records, on cases checked by hand."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest

import loaders
from maillage.names import (
    DUPLICATE_COLUMNS,
    find_duplicate_records,
    name_similarity,
    normalize_name,
)

from .factory import write


@pytest.mark.parametrize("a, b", [
    ("Université de Montréal", "UNIVERSITE DE MONTREAL"),
    ("Université de Montréal", "Univ. de Montréal"),
    ("Université de Montréal", "University of Montreal"),
    ("Acme Aéro inc.", "ACME AERO INC"),
    ("Acme Aéro Ltée", "Acme Aéro"),
    ("Dupont & Fils s.e.n.c.", "Dupont et fils SENC"),
    ("Services Tremblay S.A.", "Services Tremblay"),
    ("Garage Roy enr.", "Garage Roy"),
    ("Boréal Corp.", "Boreal Corporation"),
    ("Martin & Cie", "Martin"),
    ("Chambre de commerce de St-Jérôme", "Chambre de Commerce de Saint-Jérôme"),
    ("Clinique Ste-Justine", "Clinique Sainte-Justine"),
    ("Assoc. des PME", "Association des PME"),
    ("L'École de technologie supérieure", "École de technologie supérieure"),
    ("Comité sectoriel de main-d’œuvre", "Comite sectoriel de main-d'oeuvre"),
    ("Aéro\u0301 Design", "Aéró Design"),
])
def test_spellings_of_one_name_share_a_key(a, b):
    assert normalize_name(a) == normalize_name(b)


def test_word_order_does_not_lower_the_score():
    assert name_similarity("Centre de recherche Alpha", "Alpha Research Center") == 100.0
    assert name_similarity("Montréal, Université de", "Université de Montréal") == 100.0


@pytest.mark.parametrize("a, b", [
    ("Groupe de travail 1", "Groupe de travail 2"),
    ("Chambre de commerce de Laval", "Chambre de commerce de Lévis"),
    ("Corporation de développement économique", "Développement économique"),
])
def test_different_organizations_keep_different_keys(a, b):
    assert normalize_name(a) != normalize_name(b)


def test_a_legal_form_alone_stays_a_name():
    assert normalize_name("Inc.") == "inc"
    assert normalize_name("!!!") == ""


def test_university_spellings_are_reported_within_one_file():
    pairs = find_duplicate_records([
        ("u1", "Université de Montréal"), ("x", "Polytechnique Montréal"),
        ("u2", "UNIVERSITE DE MONTREAL"), ("u3", "Univ. de Montréal"),
    ])
    assert list(pairs.columns) == DUPLICATE_COLUMNS
    assert list(zip(pairs.id_a, pairs.id_b, pairs.score, pairs["where"])) == [
        ("u1", "u2", 100.0, "file"), ("u1", "u3", 100.0, "file"), ("u2", "u3", 100.0, "file")]


def test_known_records_are_compared_with_items_but_not_with_each_other():
    pairs = find_duplicate_records(
        [("new", "Univ. de Montréal")],
        known=[("udem", "Université de Montréal"), ("udem2", "UNIVERSITE DE MONTREAL"),
               ("new", "Université de Montréal")],
    )
    # "new" is also stored (same id: same record); the two stored spellings are not paired.
    assert list(zip(pairs.id_a, pairs.id_b, pairs["where"])) == [
        ("new", "udem", "graph"), ("new", "udem2", "graph")]


def test_typos_are_reported_with_their_score():
    pairs = find_duplicate_records({"a": "Polytechnique Montréal", "b": "Polytechnqiue Montreal",
                                    "c": "Aérospatiale Boréal", "d": "Aerospatial Boreal inc."})
    scores = dict(zip(zip(pairs.id_a, pairs.id_b), pairs.score))
    # "montreal polytechnique" / "montreal polytechnqiue": 22 letters each, 21 in common
    # (Indel ratio 2*21/44 = 95.45); the differing words "polytechnique" / "polytechnqiue"
    # share 12 of 13 (2*12/26 = 92.31); the score is their mean, 93.88.
    assert scores == {("a", "b"): pytest.approx(93.9), ("c", "d"): pytest.approx(96.5)}
    assert name_similarity("Polytechnique Montréal", "Polytechnqiue Montreal") == \
        pytest.approx((2 * 21 / 44 + 2 * 12 / 26) / 2 * 100)


def test_numbered_bodies_are_not_duplicates():
    pairs = find_duplicate_records([("a", "Groupe de travail 1"), ("b", "Groupe de travail 2"),
                                    ("c", "Programme 2023"), ("d", "Programme 2024")])
    assert pairs.empty


def test_threshold_decides_what_is_reported():
    items = [("a", "Chambre de commerce de Laval"), ("b", "Chambre de commerce de Lévis")]
    assert find_duplicate_records(items).empty
    # Same pattern, different towns: the differing words "laval" / "levis" pull the score down.
    score = name_similarity(*[n for _, n in items])
    assert 60 < score < 90
    assert len(find_duplicate_records(items, threshold=60)) == 1


def test_a_typo_in_a_common_word_is_found_in_a_large_block():
    # 3,000 names share "technologies": a block far larger than block_size, searched by a
    # sliding window, still finds the pair.
    items = [(f"o{i}", f"Entreprise{i:04d}x Technologies") for i in range(3000)]
    items += [("a", "Zorblax Technologies"), ("b", "Zorblax Technolgies")]
    pairs = find_duplicate_records(items)
    assert list(zip(pairs.id_a, pairs.id_b)) == [("a", "b")]


def test_many_equal_names_give_a_star_not_every_pair():
    pairs = find_duplicate_records([(f"o{i}", "Acme inc.") for i in range(1000)])
    assert len(pairs) == 999
    assert set(pairs.id_a) == {"o0"}


def test_result_does_not_depend_on_how_items_are_given():
    names = {"u1": "Université de Montréal", "u2": "Univ. de Montréal", "p": "Polytechnique"}
    as_dict = find_duplicate_records(names)
    as_frame = find_duplicate_records(pd.DataFrame({"id": list(names), "name": list(names.values())}))
    as_tuples = find_duplicate_records([(k, v, "institution") for k, v in names.items()])
    assert as_dict.equals(as_frame) and as_dict.equals(as_tuples)


def test_empty_and_nameless_inputs_give_an_empty_frame_with_the_columns():
    for items in ([], [("a", "Acme")], [("a", ""), ("b", "")], [("a", "!!!"), ("b", "???")]):
        pairs = find_duplicate_records(items)
        assert pairs.empty and list(pairs.columns) == DUPLICATE_COLUMNS


# ---- at import ---------------------------------------------------------------------------

MEMBERS = """id,name,type,sectors,clusters,mandate,site
U1,Université de Montréal,université,Santé,Sciences de la vie,,udem.ca
P1,Polytechnique Montréal,université,Génie,Aérospatiale,,
U2,UNIVERSITE DE MONTREAL,université,Recherche,Aérospatiale,Former,
U3,Univ. de Montréal,cégep,,,,
"""
LINKS = """source,target,relationship
P1,U2,partner
U3,P1,member of
U2,U3,partner
"""


def test_import_reports_duplicates_with_their_rows_and_merges_nothing(tmp_path):
    write(tmp_path, "m.csv", MEMBERS)
    write(tmp_path, "r.csv", LINKS)
    plan = loaders.prepare_import(tmp_path)
    assert [o.id for o in plan.organizations] == ["U1", "P1", "U2", "U3"]
    assert list(plan.duplicates.columns) == loaders.DUPLICATE_REPORT_COLUMNS
    assert plan.duplicates[["id_a", "id_b", "row_a", "row_b", "where", "merged"]].values.tolist() == [
        ["U1", "U2", 2, 4, "file", False], ["U1", "U3", 2, 5, "file", False],
        ["U2", "U3", 4, 5, "file", False]]
    assert loaders.format_duplicates(plan.duplicates).splitlines()[1] == (
        '  100  "Université de Montréal" (U1, m.csv row 2)  ≈  '
        '"UNIVERSITE DE MONTREAL" (U2, m.csv row 4)')


def test_import_reports_duplicates_of_stored_organizations(tmp_path):
    path = write(tmp_path, "m.csv", "id,name,type\nN1,Univ. de Montréal,université\n")
    stored = [("UDEM", "Université de Montréal", "institution"), ("X", "Autre", "company")]
    plan = loaders.prepare_import(path, known_organizations=lambda: stored)
    row = plan.duplicates.iloc[0]
    assert (row.id_a, row.id_b, row["where"], row.source_b, row.row_b) == (
        "N1", "UDEM", "graph", None, None)


def test_merge_keeps_the_first_record_with_the_provenance_of_the_others(tmp_path):
    write(tmp_path, "m.csv", MEMBERS)
    write(tmp_path, "r.csv", LINKS)
    plan = loaders.prepare_import(tmp_path, merge_duplicates=True)
    assert [o.id for o in plan.organizations] == ["U1", "P1"]
    udem = plan.organizations[0]
    assert udem.name == "Université de Montréal"
    assert udem.sectors == ("Santé", "Recherche")
    assert udem.clusters == ("Sciences de la vie", "Aérospatiale")
    assert udem.mandate == "Former"
    assert udem.extra["site"] == "udem.ca"
    assert udem.extra["mergedFrom"] == ["U2", "U3"]
    assert udem.extra["mergedFromSource"] == ["m.csv row 4", "m.csv row 5"]
    # Relationships follow the merge; the one that now links U1 to itself is dropped.
    assert [(r.source, r.type, r.target) for r in plan.relationships] == [
        ("P1", "PARTNERS_WITH", "U1"), ("U1", "MEMBER_OF", "P1")]
    messages = [w.message for w in plan.warnings]
    # U3 was typed "cégep": still an institution, so no type conflict to warn about.
    assert not any("different types" in m for m in messages)
    assert any(m.startswith('merged "UNIVERSITE DE MONTREAL" (m.csv row 4), "Univ. de Montréal"')
               for m in messages)
    assert any("links \"U1\" to itself" in m for m in messages)
    assert plan.duplicates["merged"].all()


def test_merge_into_a_stored_record_takes_its_id_and_name(tmp_path):
    write(tmp_path, "m.csv", "id,name,type\nN1,Univ. de Montréal,université\nP1,Poly,université\n")
    write(tmp_path, "r.csv", "source,target,relationship\nP1,N1,partner\n")
    plan = loaders.prepare_import(
        tmp_path, merge_duplicates=True,
        known_organizations=lambda: [("UDEM", "Université de Montréal", "institution")])
    assert [(o.id, o.name) for o in plan.organizations] == [
        ("UDEM", "Université de Montréal"), ("P1", "Poly")]
    assert plan.organizations[0].extra["mergedFrom"] == ["N1"]
    assert [(r.source, r.target) for r in plan.relationships] == [("P1", "UDEM")]


def test_merged_types_that_differ_are_warned_about(tmp_path):
    path = write(tmp_path, "m.csv", "id,name,type\nA,Acme inc.,company\nB,ACME,structure\n")
    plan = loaders.prepare_import(path, merge_duplicates=True)
    assert [o.type for o in plan.organizations] == ["company"]
    assert any("different types (company, structure)" in w.message for w in plan.warnings)


def test_plans_do_not_depend_on_the_process_hash_seed(tmp_path):
    # Sets and dicts of strings iterate in a per-process order: nothing in a plan may follow it.
    write(tmp_path, "m.csv", MEMBERS + "Z1,Polytechnqiue Montreal,institution,,,,\n")
    write(tmp_path, "r.csv", LINKS)
    script = (
        "import sys, loaders\n"
        "for merge in (False, True):\n"
        "    p = loaders.prepare_import(sys.argv[1], merge_duplicates=merge)\n"
        "    print(repr(p.organizations), repr(p.relationships), p.duplicates.to_json(),\n"
        "          [str(w) for w in p.warnings])\n"
    )
    outputs = [subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                              text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
               for seed in ("1", "2")]
    assert outputs[0] == outputs[1]
    assert "mergedFrom" in outputs[0]
