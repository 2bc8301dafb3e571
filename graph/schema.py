"""The Neo4j schema of the design card: uniqueness constraints on ``id`` and the indexes that
maillage's queries filter by. Every statement is idempotent (``IF NOT EXISTS``)."""

from __future__ import annotations

__all__ = ["SCHEMA_STATEMENTS", "CONSTRAINT_NAMES"]

CONSTRAINT_NAMES = ("organization_id", "cluster_id", "duplicate_group_id", "analysis_run_id")

SCHEMA_STATEMENTS: tuple[str, ...] = (
    "CREATE CONSTRAINT organization_id IF NOT EXISTS FOR (o:Organization) REQUIRE o.id IS UNIQUE",
    "CREATE CONSTRAINT cluster_id IF NOT EXISTS FOR (c:Cluster) REQUIRE c.id IS UNIQUE",
    "CREATE CONSTRAINT duplicate_group_id IF NOT EXISTS FOR (g:DuplicateGroup) REQUIRE g.id IS UNIQUE",
    "CREATE CONSTRAINT analysis_run_id IF NOT EXISTS FOR (r:AnalysisRun) REQUIRE r.id IS UNIQUE",
    "CREATE INDEX organization_name IF NOT EXISTS FOR (o:Organization) ON (o.name)",
    "CREATE INDEX organization_type IF NOT EXISTS FOR (o:Organization) ON (o.type)",
    "CREATE INDEX organization_region IF NOT EXISTS FOR (o:Organization) ON (o.region)",
    "CREATE INDEX organization_source IF NOT EXISTS FOR (o:Organization) ON (o.source)",
    "CREATE INDEX organization_import IF NOT EXISTS FOR (o:Organization) ON (o.importId)",
    "CREATE INDEX duplicate_group_analysis IF NOT EXISTS FOR (g:DuplicateGroup) ON (g.analysis)",
    "CREATE INDEX analysis_run_analysis IF NOT EXISTS FOR (r:AnalysisRun) ON (r.analysis)",
    "CREATE INDEX member_of_source IF NOT EXISTS FOR ()-[r:MEMBER_OF]-() ON (r.source)",
    "CREATE INDEX partners_with_source IF NOT EXISTS FOR ()-[r:PARTNERS_WITH]-() ON (r.source)",
    "CREATE INDEX funds_source IF NOT EXISTS FOR ()-[r:FUNDS]-() ON (r.source)",
    "CREATE INDEX participates_in_source IF NOT EXISTS FOR ()-[r:PARTICIPATES_IN]-() ON (r.source)",
    "CREATE INDEX coordinates_source IF NOT EXISTS FOR ()-[r:COORDINATES]-() ON (r.source)",
    "CREATE INDEX part_of_source IF NOT EXISTS FOR ()-[r:PART_OF]-() ON (r.source)",
    "CREATE INDEX suggested_partner_analysis IF NOT EXISTS FOR ()-[r:SUGGESTED_PARTNER]-() ON (r.analysis)",
    "CREATE INDEX overlaps_with_analysis IF NOT EXISTS FOR ()-[r:OVERLAPS_WITH]-() ON (r.analysis)",
    "CREATE FULLTEXT INDEX organization_text IF NOT EXISTS FOR (o:Organization) ON EACH [o.name, o.mandate]",
)
