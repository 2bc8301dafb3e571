"""What the loaders understand: column headers, stakeholder types and relationship types, in
English and French, and how a cell's text is folded before it is compared with them.

Everything is compared in its *compact* form (:func:`compact`): accents removed, ligatures
spelled out (œ → oe), case folded, and every character that is not a letter or a digit
dropped, so that ``"Type de relation"``, ``"type_de_relation"`` and ``"TYPE DE RELATION "``
are one header, and ``"Start-up"``, ``"startup"`` and ``"START UP"`` one type.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from maillage.model import RELATIONSHIP_TYPES, STAKEHOLDER_TYPES

__all__ = [
    "fold",
    "compact",
    "ORGANIZATION_FIELDS",
    "RELATIONSHIP_FIELDS",
    "REQUIRED",
    "FIELD_NAMES_FR",
    "RESERVED_PROPERTIES",
    "header_field",
    "stakeholder_type",
    "relationship_type",
    "closest",
    "TYPE_SYNONYMS",
    "RELATIONSHIP_SYNONYMS",
    "TYPE_NAMES_FR",
    "RELATIONSHIP_NAMES_FR",
    "split_list",
    "property_key",
]

# Characters that NFKD does not decompose but that people type in names and headers.
_SPELLED = str.maketrans({
    "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O",
    "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i",
    "’": "'", "‘": "'", "ʼ": "'", "´": "'", "`": "'",
})
_NOT_ALNUM = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Return ``text`` without accents, with ligatures spelled out, in folded case.

    Examples
    --------
    >>> fold("Comité sectoriel de main-d’œuvre")
    "comite sectoriel de main-d'oeuvre"
    """
    if text.isascii():
        return text.casefold()
    text = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    return "".join(c for c in text if not unicodedata.combining(c)).casefold()


def compact(text: str) -> str:
    """Return :func:`fold` of ``text`` keeping only letters and digits.

    Examples
    --------
    >>> compact("  Type de relation ")
    'typederelation'
    >>> compact("Jusqu'à")
    'jusqua'
    """
    return _NOT_ALNUM.sub("", fold(text))


# ---- columns -------------------------------------------------------------------------------
# Each field lists its accepted headers from the most to the least specific; when two columns
# of one table name the same field, the more specific wins and the other is kept as an extra
# property (e.g. "mandat" and "description").
ORGANIZATION_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("id", "identifiant", "identifier", "ident", "organization id", "organisation id",
           "id organisation", "id de l'organisation", "org id", "code", "key", "clé"),
    "name": ("name", "nom", "organization name", "organisation name", "nom de l'organisation",
             "nom organisation", "raison sociale", "dénomination", "organization",
             "organisation", "stakeholder", "partie prenante", "acteur"),
    "type": ("type", "type d'organisation", "type organisation", "organization type",
             "organisation type", "type d'acteur", "stakeholder type", "catégorie", "category",
             "kind"),
    "sectors": ("sectors", "secteurs", "sector", "secteur", "secteurs d'activité",
                "secteur d'activité", "industries", "industry"),
    "clusters": ("clusters", "grappes", "cluster", "grappe", "grappes métropolitaines",
                 "grappe métropolitaine", "pôles", "pôle"),
    "region": ("region", "région", "territoire", "territory", "municipalité", "municipality",
               "ville", "city", "mrc"),
    "mandate": ("mandate", "mandat", "mission", "description"),
}
RELATIONSHIP_FIELDS: dict[str, tuple[str, ...]] = {
    "source": ("source", "source id", "id source", "from", "de", "origine", "organisation source",
               "organization source"),
    "target": ("target", "cible", "target id", "id cible", "to", "vers", "destination",
               "organisation cible", "organization target"),
    "relationship": ("relationship", "relation", "type de relation", "relationship type",
                     "relation type", "type de lien", "lien", "link", "nature du lien", "nature",
                     "type"),
    "weight": ("weight", "poids", "intensité", "intensity", "strength", "force"),
    "since": ("since", "depuis", "start", "start date", "début", "date de début", "date début",
              "from date", "begin"),
    "until": ("until", "jusqu'à", "jusqu'au", "end", "end date", "fin", "date de fin",
              "date fin", "to date"),
}
#: Fields a table of that kind cannot do without.
REQUIRED: dict[str, tuple[str, ...]] = {
    "organizations": ("id", "name", "type"),
    "relationships": ("source", "target", "relationship"),
}
#: The French header shown beside the English one in messages.
FIELD_NAMES_FR: dict[str, str] = {
    "id": "identifiant", "name": "nom", "type": "type", "sectors": "secteurs",
    "clusters": "grappes", "region": "région", "mandate": "mandat", "source": "source",
    "target": "cible", "relationship": "relation", "weight": "poids", "since": "depuis",
    "until": "jusqu'à",
}
#: Property names the graph uses itself; an extra column folding to one is renamed.
RESERVED_PROPERTIES = frozenset({
    "id", "name", "type", "sectors", "clusters", "region", "mandate", "source", "target",
    "row", "importId", "importedAt", "weight", "since", "until", "mergedFrom",
    "mergedFromSource", "typeLabel", "targetKind", "sourceFile", "contentHash", "derived",
})

_HEADERS: dict[str, dict[str, tuple[str, int]]] = {
    kind: {compact(alias): (f, rank) for f, aliases in table.items()
           for rank, alias in enumerate(aliases)}
    for kind, table in (("organizations", ORGANIZATION_FIELDS),
                        ("relationships", RELATIONSHIP_FIELDS))
}
_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|\*")


def header_field(header: str, kind: str) -> tuple[str, int] | None:
    """Return ``(field, rank)`` that ``header`` names in a table of ``kind``, or ``None``.

    ``rank`` is the position of the matching alias (0 = the field's own English name); a
    remark in brackets and a required-field star are ignored (``"Poids (0-1)"``,
    ``"Nom*"``).

    Examples
    --------
    >>> header_field("Identifiant", "organizations")
    ('id', 1)
    >>> header_field("Type de relation", "relationships")
    ('relationship', 2)
    >>> header_field("Poids (0 à 1)", "relationships")
    ('weight', 1)
    >>> header_field("NEQ", "organizations") is None
    True
    """
    table = _HEADERS[kind]
    found = table.get(compact(header))
    if found is None:
        found = table.get(compact(_BRACKETED.sub("", header)))
    return found


def property_key(header: str) -> str:
    """Return ``header`` as a camelCase property key of ASCII letters and digits.

    A key that would be empty (a header in a non-Latin script, or only punctuation) is
    returned as ``""``; the caller names it after the column's position. A key starting with
    a digit is prefixed with ``col``.

    Examples
    --------
    >>> property_key("Code postal")
    'codePostal'
    >>> property_key("Date d'adhésion")
    'dateDAdhesion'
    >>> property_key("NEQ")
    'neq'
    >>> property_key("2023 budget")
    'col2023Budget'
    """
    words = [w for w in re.split(r"[^a-z0-9]+", fold(header)) if w and w.isascii()]
    if not words:
        return ""
    key = words[0] + "".join(w[:1].upper() + w[1:] for w in words[1:])
    return "col" + key[:1].upper() + key[1:] if key[0].isdigit() else key


# ---- stakeholder types -------------------------------------------------------------------
#: Accepted spellings of each canonical stakeholder type (English and French, with synonyms).
TYPE_SYNONYMS: dict[str, tuple[str, ...]] = {
    "company": (
        "company", "entreprise", "firm", "firme", "business", "enterprise", "entreprise privée",
        "private company", "pme", "sme", "small business", "start-up", "jeune pousse",
        "société", "corporation", "manufacturer", "fabricant", "industriel", "commerce",
        "multinational", "multinationale", "scale-up",
    ),
    "association": (
        "association", "business association", "industry association",
        "association industrielle", "association sectorielle", "association d'affaires",
        "association professionnelle", "professional association", "trade association",
        "chambre de commerce", "chamber of commerce", "chambre de commerce et d'industrie",
        "board of trade", "regroupement", "fédération", "federation", "ordre professionnel",
        "professional order", "réseau d'affaires", "business network", "OBNL", "non-profit",
        "nonprofit", "organisme à but non lucratif",
    ),
    "workforce_committee": (
        "workforce committee", "workforce_committee", "comité sectoriel de main-d'œuvre",
        "comité sectoriel de main d'oeuvre", "comité sectoriel", "CSMO",
        "sector workforce committee", "sectoral workforce committee",
        "sector council", "sectoral committee", "comité de main-d'œuvre",
    ),
    "government": (
        "government", "gouvernement", "ministry", "ministère", "department", "municipality",
        "municipalité", "ville", "city", "town", "MRC", "regional county municipality",
        "agency", "agence", "government agency", "agence gouvernementale", "organisme public",
        "public body", "public agency", "administration publique", "public administration",
        "communauté métropolitaine", "metropolitan community", "société d'état",
        "crown corporation", "arrondissement", "borough", "gouvernement fédéral",
        "gouvernement provincial", "federal government", "provincial government",
        "government of quebec", "gouvernement du québec",
    ),
    "institution": (
        "institution", "university", "université", "cégep", "college", "collège",
        "research centre", "research center", "centre de recherche", "CCTT",
        "centre collégial de transfert de technologie", "college technology transfer centre",
        "research institute", "institut de recherche", "institut", "institute", "école",
        "school", "educational institution", "établissement d'enseignement",
        "établissement d'enseignement supérieur", "higher education", "enseignement supérieur",
        "hôpital universitaire", "teaching hospital", "laboratoire", "laboratory",
        "academic", "académique", "research", "recherche",
    ),
    "structure": (
        "structure", "working group", "groupe de travail", "committee", "comité", "programme",
        "program", "secretariat", "secrétariat", "cluster secretariat", "secrétariat de grappe",
        "consortium", "table de concertation", "concertation table", "round table",
        "table ronde", "task force", "cellule", "chantier", "initiative", "coordination body",
        "instance de concertation", "comité directeur", "steering committee", "grappe",
    ),
}
#: The French name of each canonical type, for messages.
TYPE_NAMES_FR: dict[str, str] = {
    "company": "entreprise", "association": "association",
    "workforce_committee": "comité sectoriel de main-d'œuvre", "government": "gouvernement",
    "institution": "institution", "structure": "structure",
}

#: Accepted spellings of each relationship type (English and French).
RELATIONSHIP_SYNONYMS: dict[str, tuple[str, ...]] = {
    "MEMBER_OF": (
        "MEMBER_OF", "member of", "membre de", "membre", "member", "is member of",
        "est membre de", "membership", "adhésion", "adhérent", "adhérent de", "adhère à",
        "affilié à", "affiliated with", "affiliation",
    ),
    "PARTNERS_WITH": (
        "PARTNERS_WITH", "partners with", "partner", "partner of", "partenaire",
        "partenaire de", "partenariat", "partnership", "collabore avec", "collaboration",
        "collaborates with", "allié", "alliance",
    ),
    "FUNDS": (
        "FUNDS", "funds", "finance", "finances", "financement", "funding", "funder",
        "finance le", "subventionne", "subvention", "grant", "bailleur de fonds",
    ),
    "PARTICIPATES_IN": (
        "PARTICIPATES_IN", "participates in", "participe à", "participe", "participation",
        "participant", "participant à", "siège à", "sits on", "contributes to",
        "contribue à",
    ),
    "COORDINATES": (
        "COORDINATES", "coordinates", "coordonne", "coordination", "coordinator", "anime",
        "animates", "pilote", "leads", "mène",
    ),
    "PART_OF": (
        "PART_OF", "part of", "fait partie de", "partie de", "appartient à", "belongs to",
        "in cluster", "dans la grappe", "grappe", "cluster",
    ),
}
#: The French name of each relationship type, for messages.
RELATIONSHIP_NAMES_FR: dict[str, str] = {
    "MEMBER_OF": "membre de", "PARTNERS_WITH": "partenaire", "FUNDS": "finance",
    "PARTICIPATES_IN": "participe à", "COORDINATES": "coordonne", "PART_OF": "fait partie de",
}


def _synonym_table(table: dict[str, tuple[str, ...]], canonical: Iterable[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value, words in table.items():
        for w in (value, *words):
            key = compact(w)
            out[key] = value
            # A plural written with -s names the same thing (entreprises, universités).
            out.setdefault(key + "s", value)
    assert set(out.values()) == set(canonical)
    return out


_TYPES = _synonym_table(TYPE_SYNONYMS, STAKEHOLDER_TYPES)
# Labels of the graph model (WorkforceCommittee) are accepted too.
_TYPES.update({"workforcecommittee": "workforce_committee"})
_RELATIONSHIPS = _synonym_table(RELATIONSHIP_SYNONYMS, RELATIONSHIP_TYPES)


def stakeholder_type(text: str) -> str | None:
    """Return the canonical stakeholder type that ``text`` names, or ``None``.

    Examples
    --------
    >>> stakeholder_type("Cégep")
    'institution'
    >>> stakeholder_type("CSMO")
    'workforce_committee'
    >>> stakeholder_type("Comité")
    'structure'
    >>> stakeholder_type("PME")
    'company'
    >>> stakeholder_type("fondation") is None
    True
    """
    return _TYPES.get(compact(text))


def relationship_type(text: str) -> str | None:
    """Return the relationship type that ``text`` names, or ``None``.

    Examples
    --------
    >>> relationship_type("Membre de")
    'MEMBER_OF'
    >>> relationship_type("partners_with")
    'PARTNERS_WITH'
    >>> relationship_type("Fait partie de")
    'PART_OF'
    """
    return _RELATIONSHIPS.get(compact(text))


def closest(text: str, kind: str) -> str | None:
    """Return the accepted spelling nearest to ``text`` (for "did you mean"), if any is close."""
    from rapidfuzz import process

    words = TYPE_SYNONYMS if kind == "type" else RELATIONSHIP_SYNONYMS
    choices = {compact(w): w for ws in words.values() for w in ws}
    found = process.extractOne(compact(text), list(choices), score_cutoff=80)
    return choices[found[0]] if found else None


_LIST_SEPARATORS = re.compile(r"[;|]")


def split_list(text: str) -> list[str]:
    """Split a cell holding several values on ``;`` or ``|``, dropping blanks and repeats.

    Examples
    --------
    >>> split_list("Aérospatiale; Logistique | aérospatiale ;")
    ['Aérospatiale', 'Logistique', 'aérospatiale']
    >>> split_list("TI;TI")
    ['TI']
    """
    out: list[str] = []
    for part in _LIST_SEPARATORS.split(text):
        part = " ".join(part.split())
        if part and part not in out:
            out.append(part)
    return out
