"""Pure analyses of the stakeholder graph: a networkx graph in, a pandas DataFrame out.

No database and no files here: ``api/`` hands a snapshot in and shows or stores what comes out.
"""

from analysis.brokers import brokerage, cluster_bridges
from analysis.communities import communities
from analysis.coverage import coverage_gaps
from analysis.gaps import DEFAULT_COMPLEMENTARITY, suggest_partnerships
from analysis.overlaps import duplicate_records, find_duplicate_structures, find_overlaps
from analysis.simulate import simulate

__all__ = [
    "suggest_partnerships",
    "DEFAULT_COMPLEMENTARITY",
    "coverage_gaps",
    "brokerage",
    "cluster_bridges",
    "find_overlaps",
    "find_duplicate_structures",
    "duplicate_records",
    "communities",
    "simulate",
]
