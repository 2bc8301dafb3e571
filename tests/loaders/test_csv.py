"""CSV files as people export them: French or English, Excel's encodings and delimiters."""

from __future__ import annotations

import codecs
import datetime as dt
import re
from pathlib import Path

import pytest

import loaders
from loaders.read import sniff_delimiter
from loaders.vocabulary import (
    ORGANIZATION_FIELDS,
    RELATIONSHIP_FIELDS,
    RELATIONSHIP_SYNONYMS,
    TYPE_SYNONYMS,
    compact,
)
from maillage.model import OrganizationRecord

from .factory import ORGS_EN, ORGS_FR, RELS_EN, RELS_FR, problem_at, refused, write


def by_id(plan: loaders.ImportPlan) -> dict[str, OrganizationRecord]:
    return {o.id: o for o in plan.organizations}


def test_semicolon_windows_1252_french_headers_load(tmp_path):
    write(tmp_path, "membres.csv", ORGS_FR, encoding="cp1252")
    write(tmp_path, "relations.csv", RELS_FR, encoding="cp1252")
    plan = loaders.prepare_import(tmp_path)

    orgs = by_id(plan)
    assert list(orgs) == ["UDEM", "POLY", "ACME", "CSMO"]
    udem = orgs["UDEM"]
    assert udem.name == "Université de Montréal"
    assert udem.type == "institution"
    assert udem.sectors == ("Santé", "Recherche")
    assert udem.clusters == ("Sciences de la vie", "Intelligence artificielle")
    assert udem.region == "Montréal"
    assert udem.mandate == "Former;\net chercher"
    assert (udem.source_file, udem.row) == ("membres.csv", 2)
    # The mandate spans two lines but is one spreadsheet row: the next record is row 3.
    assert orgs["POLY"].row == 3
    assert orgs["ACME"].type == "company"
    assert orgs["CSMO"].type == "workforce_committee"
    assert orgs["CSMO"].name == "CSMO Aérospatiale"

    rels = {(r.source, r.type, r.target): r for r in plan.relationships}
    partner = rels[("POLY", "PARTNERS_WITH", "ACME")]
    assert partner.weight == pytest.approx(0.5)
    assert partner.since == dt.date(2021, 3, 4)
    assert partner.until == dt.date(2025, 12, 31)
    assert (partner.source_file, partner.row) == ("relations.csv", 3)
    assert rels[("ACME", "MEMBER_OF", "CSMO")].since == dt.date(2019, 1, 1)
    assert ("UDEM", "PARTNERS_WITH", "POLY") in rels

    info = {f.label: f for f in plan.files}
    assert info["membres.csv"].encoding == "cp1252"
    assert info["membres.csv"].delimiter == ";"
    assert info["membres.csv"].tables == {"membres.csv": ("organizations", 4)}
    assert plan.source == f"{tmp_path.name}/"


def test_utf8_with_bom_loads_and_the_bom_is_not_part_of_the_first_header(tmp_path):
    path = write(tmp_path, "orgs.csv", codecs.BOM_UTF8 + ORGS_EN.encode())
    plan = loaders.prepare_import(path)
    assert [o.id for o in plan.organizations] == ["UDEM", "POLY", "ACME", "CSMO"]
    assert plan.files[0].encoding == "utf-8-sig"
    assert plan.organizations[2].name == "Acme Aéro inc."
    assert plan.organizations[0].sectors == ("Health", "Research")
    assert plan.warnings == []


def test_utf16_from_excel_unicode_text_loads(tmp_path):
    text = ORGS_EN.replace(",", "\t")
    path = write(tmp_path, "orgs.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    plan = loaders.prepare_import(path)
    assert plan.files[0].delimiter == "\t"
    assert plan.organizations[0].name == "Université de Montréal"


def test_english_and_french_files_give_the_same_records(tmp_path):
    en = loaders.prepare_import([write(tmp_path / "en", "o.csv", ORGS_EN),
                                 write(tmp_path / "en", "r.csv", RELS_EN)])
    fr = loaders.prepare_import([write(tmp_path / "fr", "o.csv", ORGS_FR, "cp1252"),
                                 write(tmp_path / "fr", "r.csv", RELS_FR, "cp1252")])
    assert [(o.id, o.type) for o in en.organizations] == [(o.id, o.type) for o in fr.organizations]
    assert {(r.source, r.type, r.target) for r in en.relationships} == \
        {(r.source, r.type, r.target) for r in fr.relationships}


def test_latin1_only_bytes_are_decoded_as_latin1(tmp_path):
    # 0x81 is undefined in Windows-1252: only Latin-1 decodes this file.
    data = "id,name,type\nA,Caf\xe9\x81,company\n".encode("latin-1")
    plan = loaders.prepare_import(write(tmp_path, "o.csv", data))
    assert plan.files[0].encoding == "latin-1"
    assert plan.organizations[0].name == "Café"
    assert "control characters" in plan.warnings[0].message


@pytest.mark.parametrize("sample, expected", [
    ("id;nom;type\nA;Acme, inc.;PME\n", ";"),
    ("id,name,type\nA,\"Acme; inc.\",company\n", ","),
    ("id\tname\ttype\nA\tAcme, inc.; ltd\tcompany\n", "\t"),
    ("id,name\n", ","),
])
def test_delimiter_is_sniffed(sample, expected):
    assert sniff_delimiter(sample) == expected


def test_excel_sep_line_sets_the_delimiter_and_is_not_a_row(tmp_path):
    path = write(tmp_path, "o.csv", "sep=,\nid,name,type\nA,Acme;Beta,company\nB,,company\n")
    problems = refused(path)
    assert problem_at(problems, "o.csv", 3, "name").message.startswith("missing name")


def test_empty_trailing_columns_and_trailing_delimiters_are_ignored(tmp_path):
    text = "id,name,type,,,\nA,Acme,company,,,\nB,Beta,company,,\n"
    plan = loaders.prepare_import(write(tmp_path, "o.csv", text))
    assert [o.extra for o in plan.organizations] == [{}, {}]


def test_blank_rows_keep_the_spreadsheet_numbering(tmp_path):
    text = "\nid,name,type\n\nA,Acme,company\n\n\nB,Beta,fondation\n"
    problems = refused(write(tmp_path, "o.csv", text))
    assert problem_at(problems, "o.csv", 7, "type")


def test_title_rows_above_the_header_are_skipped_with_a_warning(tmp_path):
    text = "Liste des membres 2024,,\n,,\nid,nom,type\nA,Acme,PME\n"
    plan = loaders.prepare_import(write(tmp_path, "o.csv", text))
    assert plan.organizations[0].row == 4
    assert plan.warnings[0].row == 3 and "header is on row 3" in plan.warnings[0].message


@pytest.mark.parametrize("headers", [
    "id,name,type",
    "ID,NAME,TYPE",
    "Identifiant,Nom,Type",
    " identifiant , nom ,Type d'organisation",
    "IDENTIFIANT,Nom de l’organisation,TYPE_D_ORGANISATION",
    "Id*,Nom (obligatoire),Catégorie",
])
def test_headers_match_regardless_of_case_accents_spacing_and_punctuation(tmp_path, headers):
    plan = loaders.prepare_import(write(tmp_path, "o.csv", headers + "\nA,Acme,company\n"))
    assert (plan.organizations[0].id, plan.organizations[0].name) == ("A", "Acme")


@pytest.mark.parametrize("headers", [
    "source,target,relationship,weight,since,until",
    "Source,Cible,Relation,Poids,Depuis,Jusqu'à",
    "SOURCE,CIBLE,TYPE DE RELATION,POIDS,DÉPUIS,JUSQU’À",
    "de,vers,type,intensité,début,fin",
])
def test_relationship_headers_in_both_languages(tmp_path, headers):
    write(tmp_path, "o.csv", "id,name,type\nA,Acme,company\nB,Beta,company\n")
    write(tmp_path, "r.csv", headers + "\nA,B,partner,\"2,5\",2020,2021\n")
    (rel,) = loaders.prepare_import(tmp_path).relationships
    assert (rel.source, rel.target, rel.type, rel.weight) == ("A", "B", "PARTNERS_WITH", 2.5)
    assert (rel.since, rel.until) == (dt.date(2020, 1, 1), dt.date(2021, 1, 1))


@pytest.mark.parametrize("typed, canonical", [
    ("entreprise", "company"), ("Company", "company"), ("firm", "company"),
    ("PME", "company"), ("start-up", "company"), ("Startup", "company"),
    ("Association", "association"), ("chambre de commerce", "association"),
    ("Comité sectoriel de main-d'œuvre", "workforce_committee"),
    ("comite sectoriel de main d oeuvre", "workforce_committee"),
    ("CSMO", "workforce_committee"), ("workforce committee", "workforce_committee"),
    ("Ministère", "government"), ("gouvernement", "government"),
    ("Municipalité", "government"), ("Ville", "government"), ("MRC", "government"),
    ("Agence", "government"), ("organisme public", "government"),
    ("Université", "institution"), ("cégep", "institution"), ("Collège", "institution"),
    ("Centre de recherche", "institution"), ("CCTT", "institution"),
    ("institution", "institution"),
    ("Groupe de travail", "structure"), ("comité", "structure"), ("Programme", "structure"),
    ("Secrétariat", "structure"), ("consortium", "structure"),
    ("Table de concertation", "structure"), ("structure", "structure"),
    ("Entreprises", "company"),
])
def test_stakeholder_types_in_both_languages_with_synonyms(tmp_path, typed, canonical):
    plan = loaders.prepare_import(write(tmp_path, "o.csv", f"id,name,type\nA,Acme,{typed}\n"))
    org = plan.organizations[0]
    assert org.type == canonical
    # The words used are kept beside the canonical type, unless they are the canonical type.
    plain = compact(typed) in (compact(canonical), compact(canonical) + "s")
    assert org.extra.get("typeLabel") == (None if plain else typed)


@pytest.mark.parametrize("typed, canonical", [
    ("membre de", "MEMBER_OF"), ("MEMBER_OF", "MEMBER_OF"), ("member of", "MEMBER_OF"),
    ("partenaire", "PARTNERS_WITH"), ("Partners with", "PARTNERS_WITH"),
    ("finance", "FUNDS"), ("financement", "FUNDS"), ("funds", "FUNDS"),
    ("participe à", "PARTICIPATES_IN"), ("participates_in", "PARTICIPATES_IN"),
    ("coordonne", "COORDINATES"), ("coordinates", "COORDINATES"),
])
def test_relationship_types_in_both_languages(tmp_path, typed, canonical):
    write(tmp_path, "o.csv", "id,name,type\nA,Acme,company\nB,Beta,structure\n")
    write(tmp_path, "r.csv", f"source,target,relationship\nA,B,{typed}\n")
    assert loaders.prepare_import(tmp_path).relationships[0].type == canonical


def test_part_of_points_at_the_cluster_named_in_the_organizations(tmp_path):
    write(tmp_path, "o.csv", "id,name,type,grappes\nA,Acme,company,Aérospatiale\n"
                             "B,Beta,company,\n")
    write(tmp_path, "r.csv", "source,target,relationship\nB,aerospatiale,fait partie de\n"
                             "A,Aérospatiale,part of\n")
    rels = loaders.prepare_import(tmp_path).relationships
    assert [(r.source, r.target, r.target_kind) for r in rels] == [
        ("B", "aerospatiale", "Cluster"), ("A", "aerospatiale", "Cluster")]


def test_lists_split_on_semicolon_or_pipe_without_blanks_or_repeats(tmp_path):
    text = 'id,name,type,sectors,clusters\nA,Acme,company,"TI; Santé |  ; TI",Aéro|Logistique\n'
    org = loaders.prepare_import(write(tmp_path, "o.csv", text)).organizations[0]
    assert org.sectors == ("TI", "Santé")
    assert org.clusters == ("Aéro", "Logistique")


def test_unknown_columns_are_kept_as_camel_case_properties(tmp_path):
    text = ("id,name,type,Code postal,Date d'adhésion,NEQ,source,2023 budget\n"
            "A,Acme,company,H2X 1Y4,2020-01-01,1170000000,annuaire,\n")
    plan = loaders.prepare_import(write(tmp_path, "o.csv", text))
    assert plan.organizations[0].extra == {
        "codePostal": "H2X 1Y4", "dateDAdhesion": "2020-01-01", "neq": "1170000000",
        "sourceColumn": "annuaire"}
    (warning,) = plan.warnings
    assert warning.column == "source" and "sourceColumn" in warning.message


def test_relationship_extra_columns_are_kept(tmp_path):
    write(tmp_path, "o.csv", "id,name,type\nA,Acme,company\nB,Beta,company\n")
    write(tmp_path, "r.csv", "source,target,relationship,Programme,Montant\nA,B,funds,PARI,15000\n")
    rel = loaders.prepare_import(tmp_path).relationships[0]
    assert rel.extra == {"programme": "PARI", "montant": "15000"}


@pytest.mark.parametrize("weight, expected", [
    ("0,75", 0.75), ("0.75", 0.75), ("1 234,5", 1234.5), ("1,234.5", 1234.5), ("3", 3.0),
    ("", None),
])
def test_weights_accept_a_decimal_comma(tmp_path, weight, expected):
    write(tmp_path, "o.csv", "id;name;type\nA;Acme;company\nB;Beta;company\n")
    write(tmp_path, "r.csv", f'source;target;relationship;weight\nA;B;partner;"{weight}"\n')
    assert loaders.prepare_import(tmp_path).relationships[0].weight == expected


@pytest.mark.parametrize("typed, expected", [
    ("2021-03-04", dt.date(2021, 3, 4)), ("04/03/2021", dt.date(2021, 3, 4)),
    ("4-3-2021", dt.date(2021, 3, 4)), ("04.03.2021", dt.date(2021, 3, 4)),
    ("2021", dt.date(2021, 1, 1)), ("2021-03", dt.date(2021, 3, 1)),
    ("2021-03-04 00:00:00", dt.date(2021, 3, 4)), ("2021/03/04", dt.date(2021, 3, 4)),
])
def test_dates_in_iso_day_month_year_or_year_alone(tmp_path, typed, expected):
    write(tmp_path, "o.csv", "id,name,type\nA,Acme,company\nB,Beta,company\n")
    write(tmp_path, "r.csv", f"source,target,relationship,since\nA,B,partner,{typed}\n")
    assert loaders.prepare_import(tmp_path).relationships[0].since == expected


def test_whitespace_is_stripped_and_unicode_put_in_nfc(tmp_path):
    decomposed = "Universite\u0301 de Montre\u0301al"
    text = f"id,name,type\n  A  ,  {decomposed}  ,  company \n"
    org = loaders.prepare_import(write(tmp_path, "o.csv", text)).organizations[0]
    assert (org.id, org.name) == ("A", "Université de Montréal")


def test_control_characters_are_removed_with_a_warning_naming_the_cell(tmp_path):
    text = "id,name,type\nA,Ac\x00me\x07,company\n"
    plan = loaders.prepare_import(write(tmp_path, "o.csv", text))
    assert plan.organizations[0].name == "Acme"
    warning = problem_at(plan.warnings, "o.csv", 2, "name")
    assert "U+0000" in warning.message and "U+0007" in warning.message


def test_relationship_ends_may_be_given_by_exact_name(tmp_path):
    write(tmp_path, "o.csv", ORGS_EN)
    write(tmp_path, "r.csv", "source,target,relationship\nacme aero INC.,Polytechnique  Montreal,partner\n")
    plan = loaders.prepare_import(tmp_path)
    assert [(r.source, r.target) for r in plan.relationships] == [("ACME", "POLY")]
    assert "matched to the organization of that name" in plan.warnings[0].message


def test_same_input_gives_identical_plans(tmp_path):
    write(tmp_path, "membres.csv", ORGS_FR + "U2;Univ. de Montréal;université;;;;\n", "cp1252")
    write(tmp_path, "relations.csv", RELS_FR, "cp1252")
    first, second = loaders.prepare_import(tmp_path), loaders.prepare_import(tmp_path)
    assert first.organizations == second.organizations
    assert first.relationships == second.relationships
    assert first.source == second.source
    assert first.duplicates.equals(second.duplicates)
    assert [str(w) for w in first.warnings] == [str(w) for w in second.warnings]


# ---- the documented schema ----------------------------------------------------------------

SCHEMA = Path(loaders.__file__).with_name("SCHEMA.md")


def test_schema_examples_load(tmp_path):
    blocks = re.findall(r"```(csv|json)\n(.*?)```", SCHEMA.read_text(encoding="utf-8"), re.S)
    csv_blocks = [text for kind, text in blocks if kind == "csv"]
    assert len(csv_blocks) == 4
    en = loaders.prepare_import([write(tmp_path / "en", "organizations.csv", csv_blocks[0]),
                                 write(tmp_path / "en", "relationships.csv", csv_blocks[1])])
    fr = loaders.prepare_import([write(tmp_path / "fr", "membres.csv", csv_blocks[2], "cp1252"),
                                 write(tmp_path / "fr", "relations.csv", csv_blocks[3], "cp1252")])
    assert [(o.id, o.type) for o in en.organizations] == [
        ("UDEM", "institution"), ("ACME", "company"), ("CSMO-AERO", "workforce_committee")]
    assert [(o.id, o.type) for o in en.organizations] == [(o.id, o.type) for o in fr.organizations]
    assert [(r.source, r.type, r.target) for r in en.relationships] == \
        [(r.source, r.type, r.target) for r in fr.relationships]
    (doc,) = [text for kind, text in blocks if kind == "json"]
    plan = loaders.prepare_import(write(tmp_path, "d.json", doc))
    assert len(plan.organizations) == 2 and len(plan.relationships) == 1


def test_schema_lists_every_header_and_synonym():
    text = SCHEMA.read_text(encoding="utf-8")
    # "adhérent (de)" documents both "adhérent" and "adhérent de".
    variants = (compact(text.replace("(", "").replace(")", "")),
                compact(re.sub(r"\([^)]*\)", "", text)))
    words = [w for table in (ORGANIZATION_FIELDS, RELATIONSHIP_FIELDS, TYPE_SYNONYMS,
                             RELATIONSHIP_SYNONYMS) for ws in table.values() for w in ws]
    missing = [w for w in words if not any(compact(w) in v for v in variants)]
    assert missing == []
