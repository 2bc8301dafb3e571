"""The Cypher console's library of example queries, and reading its parameters.

The examples follow the graph model of the design (labels, relationship types, properties)
and the analysis results written back to Neo4j (``SUGGESTED_PARTNER``, ``OVERLAPS_WITH``,
``DuplicateGroup``, ``AnalysisRun``). Every value enters through a parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from maillage.errors import QueryRefused

__all__ = ["Example", "EXAMPLES", "parse_parameters", "run_console_query", "MAX_QUERY_LENGTH"]

#: Longest query text the console accepts (characters).
MAX_QUERY_LENGTH = 20_000


@dataclass(frozen=True)
class Example:
    """One example query: titles in French and English, the query, its parameters."""

    id: str
    title_fr: str
    title_en: str
    query: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def title(self, lang: str) -> str:
        """Return the title in ``lang``."""
        return self.title_fr if lang == "fr" else self.title_en

    def parameters_json(self) -> str:
        """Return the parameters as the console's JSON text."""
        return json.dumps(self.parameters, ensure_ascii=False, indent=2) if self.parameters else ""


EXAMPLES: tuple[Example, ...] = (
    Example(
        "by-type",
        "Organisations par type",
        "Organizations by type",
        "MATCH (o:Organization)\nRETURN o.type AS type, count(*) AS organizations\nORDER BY organizations DESC",
    ),
    Example(
        "cluster-members",
        "Membres d'une grappe",
        "Members of a cluster",
        "MATCH (o:Organization)-[:PART_OF]->(c:Cluster {id: $cluster})\nRETURN o.id AS id, o.name AS name, o.type AS type, o.region AS region\nORDER BY name",
        {"cluster": "aerospatiale"},
    ),
    Example(
        "neighbourhood",
        "Voisinage d'une organisation (carte)",
        "Neighbourhood of an organization (map)",
        "MATCH (o:Organization)\nWHERE toLower(o.name) CONTAINS toLower($name)\nMATCH p = (o)-[r]-(other:Organization)\nRETURN p\nLIMIT 100",
        {"name": "aéro"},
    ),
    Example(
        "companies-without-research",
        "Entreprises sans partenaire de recherche",
        "Companies with no research partner",
        "MATCH (c:Company)\nWHERE NOT (c)-[:PARTNERS_WITH]-(:Institution)\nRETURN c.name AS company, c.clusters AS clusters\nORDER BY company\nLIMIT 50",
    ),
    Example(
        "structure-load",
        "Organisations présentes dans le plus de structures",
        "Organizations that sit in the most structures",
        "MATCH (o:Organization)-[:MEMBER_OF|PARTICIPATES_IN]->(s:Structure)\nRETURN o.name AS organization, count(DISTINCT s) AS structures, collect(DISTINCT s.name)[..5] AS some\nORDER BY structures DESC\nLIMIT 20",
    ),
    Example(
        "funding",
        "Qui finance qui",
        "Who funds whom",
        "MATCH (f:Organization)-[r:FUNDS]->(t:Organization)\nRETURN f.name AS funder, t.name AS funded, r.weight AS weight, r.since AS since\nORDER BY funder, funded\nLIMIT 100",
    ),
    Example(
        "suggested",
        "Partenariats suggérés les plus forts",
        "Strongest suggested partnerships",
        "MATCH (a:Organization)-[s:SUGGESTED_PARTNER]->(b:Organization)\nRETURN a.name AS organization, b.name AS suggestedPartner, s.score AS score, properties(s) AS details\nORDER BY score DESC\nLIMIT 25",
    ),
    Example(
        "suggested-map",
        "Partenariats suggérés dans une grappe (carte)",
        "Suggested partnerships within a cluster (map)",
        "MATCH (a:Organization)-[:PART_OF]->(:Cluster {id: $cluster})\nMATCH (a)-[s:SUGGESTED_PARTNER]-(b:Organization)\nRETURN a, s, b\nLIMIT 100",
        {"cluster": "aerospatiale"},
    ),
    Example(
        "overlaps",
        "Organisations qui se chevauchent",
        "Overlapping organizations",
        "MATCH (a:Organization)-[o:OVERLAPS_WITH]->(b:Organization)\nRETURN a.name AS organization, b.name AS overlapsWith, o.score AS score, properties(o) AS details\nORDER BY score DESC\nLIMIT 25",
    ),
    Example(
        "duplicate-groups",
        "Groupes de structures dupliquées",
        "Groups of duplicated structures",
        "MATCH (m:Organization)-[:IN_DUPLICATE_GROUP]->(g:DuplicateGroup)\nRETURN g.id AS group, collect(m.name) AS members, properties(g) AS details\nORDER BY size(members) DESC\nLIMIT 25",
    ),
    Example(
        "runs",
        "Dernières analyses",
        "Latest analysis runs",
        "MATCH (r:AnalysisRun)\nRETURN r.analysis AS analysis, r.finishedAt AS finishedAt, r.resultCount AS results, r.parameters AS parameters\nORDER BY finishedAt DESC",
    ),
    Example(
        "fulltext",
        "Recherche plein texte dans les noms et mandats",
        "Full-text search of names and mandates",
        "CALL db.index.fulltext.queryNodes('organization_text', $text) YIELD node, score\nRETURN node.name AS name, node.type AS type, node.mandate AS mandate, score\nLIMIT 20",
        {"text": "main-d'oeuvre"},
    ),
)


def parse_parameters(text: str | None) -> dict[str, Any]:
    """Read the console's parameters: a JSON object, or nothing.

    Raises
    ------
    maillage.errors.QueryRefused
        The text is not JSON, or not an object.

    Examples
    --------
    >>> parse_parameters('{"cluster": "aerospatiale"}')
    {'cluster': 'aerospatiale'}
    >>> parse_parameters("  ")
    {}
    """
    if text is None or not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError as err:
        raise QueryRefused(f'The parameters are not valid JSON ({err}); write an object such as {{"cluster": "aerospatiale"}}.') from err
    if not isinstance(value, dict):
        raise QueryRefused('The parameters must be a JSON object such as {"cluster": "aerospatiale"}.')
    return value


def run_console_query(store: Any, query: str, parameters: dict[str, Any], *, timeout: float, row_cap: int) -> Any:
    """Run an analyst's query on ``store`` (blocking), turning values Neo4j cannot take into a
    clear refusal rather than a server error.

    Raises
    ------
    maillage.errors.QueryRefused
        The query was refused (a write, a syntax error, the time limit) or its parameters
        hold values Neo4j cannot take (an integer beyond 64 bits, for instance).
    maillage.errors.CypherUnavailable
        The store has no Cypher (the memory store).
    """
    try:
        return store.run_query(query, parameters, timeout=timeout, row_cap=row_cap)
    except (TypeError, ValueError, OverflowError) as err:
        raise QueryRefused(
            f"Neo4j cannot take these parameters ({err}); use strings, numbers within 64 bits, booleans, lists and objects."
        ) from err
