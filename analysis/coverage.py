"""Which kinds of stakeholder each cluster has, and which it lacks.

A cluster works when companies, research institutions, governments, associations, workforce
committees and coordinating structures all take part. :func:`coverage_gaps` counts each type
among a cluster's members and among its partners, and flags the types its size calls for but
that no member has (*missing*) or that far fewer members have than its size would lead one to
expect (*thin*); partners of that type, already working with members, are the first people to
invite. :func:`coverage_matrix` gives the cluster × type counts for a heat map.
"""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from analysis import _wording as wd
from analysis._matrices import Snapshot, fold, snapshot_matrices
from analysis._network import paused_gc
from maillage.errors import InputError
from maillage.model import STAKEHOLDER_TYPES

__all__ = ["coverage_gaps", "coverage_matrix", "DEFAULT_THIN_SHARE", "MIN_EXPECTED", "UNKNOWN_TYPE"]

#: A type is thin when a cluster has fewer members of it than this fraction of the number expected.
DEFAULT_THIN_SHARE = 0.5
#: A type is judged only where the cluster's size calls for at least this many of it: a cluster
#: of ten is not short of workforce committees because two in a hundred organizations are one.
MIN_EXPECTED = 1.0
#: Column label for organizations without a canonical ``type`` (counted, never flagged).
UNKNOWN_TYPE = "unknown"

_NONE = {
    "en": {
        "company": "no company",
        "association": "no association",
        "workforce_committee": "no workforce committee",
        "government": "no government body",
        "institution": "no research institution",
        "structure": "no coordinating structure",
    },
    "fr": {
        "company": "aucune entreprise",
        "association": "aucune association",
        "workforce_committee": "aucun comité sectoriel de main-d'œuvre",
        "government": "aucun organisme public",
        "institution": "aucun établissement de recherche",
        "structure": "aucune structure de concertation",
    },
}
_PLURAL = {
    "en": {
        "company": "companies",
        "association": "associations",
        "workforce_committee": "workforce committees",
        "government": "government bodies",
        "institution": "research institutions",
        "structure": "coordinating structures",
    },
    "fr": {
        "company": "entreprises",
        "association": "associations",
        "workforce_committee": "comités sectoriels de main-d'œuvre",
        "government": "organismes publics",
        "institution": "établissements de recherche",
        "structure": "structures de concertation",
    },
}


@paused_gc
def coverage_gaps(
    G: nx.Graph,
    *,
    thin_share: float = DEFAULT_THIN_SHARE,
    expected_shares: Mapping[str, float] | None = None,
    lang: str = "en",
) -> pd.DataFrame:
    """Return, per cluster, its stakeholders by type and the types it lacks.

    Definitions (on the partnership network: any relationship between two organizations or
    structures, either direction; see :mod:`analysis._network`):

    - **members** of a cluster: organizations whose ``clusters`` attribute or ``PART_OF``
      edges name it (names matched without regard to accents and case);
    - **partners** of a cluster: organizations that are *not* members and have at least one
      relationship of any type (partnership, membership, funding, participation,
      coordination) with a member; each counts once however many members it is linked to;
    - **expected** number of a type: the cluster's number of members times the type's
      expected share, by default the type's share of all typed organizations in ``G`` (the
      ecosystem's own mix);
    - **missing**: a type expected at least once (:data:`MIN_EXPECTED`) of which the cluster
      has no member;
    - **thin**: a type expected at least once of which the cluster has members, but fewer
      than ``thin_share`` times the expected number.

    Judging members, not members and partners together, is deliberate: in a real ecosystem
    a cluster's members are linked to hundreds of outside organizations of every type, so
    every type is always "reached". The reasons say how many partners are of a missing or
    thin type. Organizations without a canonical type are counted under ``unknown`` and
    never flagged.

    Parameters
    ----------
    G : networkx graph
        A snapshot or any networkx graph.
    thin_share : float, default 0.5
        Fraction of the expected number below which a type is thin.
    expected_shares : mapping of type to share, optional
        The mix a secretariat expects (e.g. ``{"institution": 0.1, ...}``); types it leaves
        out, or gives 0, are never flagged. Default: the ecosystem's own mix.
    lang : {"en", "fr"}
        Language of ``reasons``.

    Returns
    -------
    pandas.DataFrame
        One row per cluster (clusters named by an organization or present as a cluster node),
        by cluster name:

        ====================  ================================================================
        ``cluster``           cluster name as first seen in the data
        ``members``           number of members
        ``partners``          number of partners (outside organizations linked to a member)
        ``members_<type>``    members of each type, for every canonical type present in
                              ``G`` (``company``, ``association``, ``workforce_committee``,
                              ``government``, ``institution``, ``structure``, in that order)
                              and ``unknown`` when some node has no type
        ``partners_<type>``   partners of each type, same types
        ``missing``           types expected but without any member (list, canonical order)
        ``thin``              types with members, but fewer than ``thin_share`` of expected
                              (list, canonical order)
        ``reasons``           one sentence in ``lang``
        ====================  ================================================================

        ``df.attrs``: ``expected_shares`` (type → share used), ``thin_share``, ``types``
        (the types counted, in column order).

    Raises
    ------
    maillage.errors.InputError
        For a ``lang`` other than ``"en"`` or ``"fr"``, a ``thin_share`` outside
        ``(0, 1]``, or an ``expected_shares`` key that is not a canonical type.

    Examples
    --------
    Cluster ``Aero`` has four companies; the ecosystem also has two universities and a
    ministry. Universities are 2 of 7 organizations, so four members call for about 1.1 of
    them: none is a member, one is a partner. The ministry (1 in 7: 0.6 expected) is not
    something a cluster of four is short of.

    >>> G = nx.Graph()
    >>> G.add_nodes_from([f"c{i}" for i in range(4)], type="company", clusters=["Aero"])
    >>> G.add_nodes_from(["u1", "u2"], type="institution")
    >>> G.add_node("g", type="government")
    >>> G.add_edges_from([("c0", "c1"), ("c1", "u1")])
    >>> df = coverage_gaps(G)
    >>> df[["cluster", "members", "partners", "partners_institution", "missing"]]
      cluster  members  partners  partners_institution        missing
    0    Aero        4         1                     1  [institution]
    >>> print(df.reasons[0])  # doctest: +NORMALIZE_WHITESPACE
    Aero (4 members, 1 partner): no research institution among its members (about 1.1
    expected; 1 among its partners).
    >>> print(coverage_gaps(G, lang="fr").reasons[0])  # doctest: +NORMALIZE_WHITESPACE
    Aero (4 membres, 1 partenaire) : aucun établissement de recherche parmi ses membres
    (environ 1,1 attendu ; 1 parmi ses partenaires).
    """
    wd.check_lang(lang)
    if not 0 < thin_share <= 1:
        raise InputError(f"thin_share must be in (0, 1], got {thin_share!r}.")
    S = snapshot_matrices(G)
    types, T = _type_matrix(S)
    C, clusters = _cluster_matrix(G, S)
    members, partners = _members_partners(S, C)
    mc = (C.T @ T).toarray().astype(np.int64)
    pc = (partners.T @ T).toarray().astype(np.int64)
    n_members = np.asarray(C.sum(axis=0)).ravel().astype(np.int64)
    n_partners = np.asarray(partners.sum(axis=0)).ravel().astype(np.int64)

    typed = [t for t in types if t != UNKNOWN_TYPE]
    if expected_shares is None:
        totals = np.asarray(T.sum(axis=0)).ravel()
        known = sum(totals[types.index(t)] for t in typed)
        shares = {t: float(totals[types.index(t)] / known) if known else 0.0 for t in typed}
    else:
        unknown = sorted(set(expected_shares) - set(STAKEHOLDER_TYPES))
        if unknown:
            raise InputError(
                f"Unknown type(s) {', '.join(map(repr, unknown))} in expected_shares; "
                f"use {', '.join(STAKEHOLDER_TYPES)}."
            )
        shares = {t: float(s) for t, s in expected_shares.items() if s > 0}
        # A type the secretariat expects but nobody in G has is missing everywhere: count it.
        for t in STAKEHOLDER_TYPES:
            if t in shares and t not in types:
                types.insert(_canonical_position(types, t), t)
                mc = np.insert(mc, types.index(t), 0, axis=1)
                pc = np.insert(pc, types.index(t), 0, axis=1)

    rows = []
    for c, name in enumerate(clusters):
        missing, thin = [], []
        for j, t in enumerate(types):
            expected = shares.get(t, 0.0) * n_members[c]
            if expected < MIN_EXPECTED:
                continue
            if mc[c, j] == 0:
                missing.append((t, 0, expected, int(pc[c, j])))
            elif mc[c, j] < thin_share * expected:
                thin.append((t, int(mc[c, j]), expected, int(pc[c, j])))
        row = {"cluster": name, "members": int(n_members[c]), "partners": int(n_partners[c])}
        row.update({f"members_{t}": int(mc[c, j]) for j, t in enumerate(types)})
        row.update({f"partners_{t}": int(pc[c, j]) for j, t in enumerate(types)})
        row["missing"] = [t for t, *_ in missing]
        row["thin"] = [t for t, *_ in thin]
        row["reasons"] = _reason(name, int(n_members[c]), int(n_partners[c]), missing, thin, lang)
        rows.append(row)
    columns = (["cluster", "members", "partners"] + [f"members_{t}" for t in types]
               + [f"partners_{t}" for t in types] + ["missing", "thin", "reasons"])
    df = pd.DataFrame(rows, columns=columns)
    df = df.sort_values("cluster", key=lambda s: s.map(fold), kind="stable").reset_index(drop=True)
    df.attrs.update(expected_shares=shares, thin_share=thin_share, types=list(types))
    return df


@paused_gc
def coverage_matrix(G: nx.Graph, *, partners: bool = False) -> pd.DataFrame:
    """Return the cluster × stakeholder type matrix of counts, for a heat map.

    Parameters
    ----------
    G : networkx graph
        A snapshot or any networkx graph.
    partners : bool, default False
        Count members only (default) or members plus partners (the cluster's reach, as
        :func:`coverage_gaps` defines it).

    Returns
    -------
    pandas.DataFrame
        Index: cluster names (sorted); columns: the canonical types present in ``G`` in
        canonical order, then ``unknown`` when some node has no type; values: int counts.

    Examples
    --------
    >>> G = nx.Graph()
    >>> G.add_node("c1", type="company", clusters=["Aero"])
    >>> G.add_node("u", type="institution", clusters=["Aero", "Bio"])
    >>> G.add_node("g", type="government")
    >>> G.add_edge("g", "u")
    >>> coverage_matrix(G)
          company  government  institution
    Aero        1           0            1
    Bio         0           0            1
    >>> coverage_matrix(G, partners=True).loc["Bio"].tolist()
    [0, 1, 1]
    """
    S = snapshot_matrices(G)
    types, T = _type_matrix(S)
    C, clusters = _cluster_matrix(G, S)
    counts = C.T @ T
    if partners:
        counts = counts + _members_partners(S, C)[1].T @ T
    df = pd.DataFrame(sp.csr_array(counts).toarray().astype(np.int64), index=clusters, columns=types)
    df = df.sort_index(key=lambda s: s.map(fold))
    df.index.name = None
    return df


def _type_matrix(S: Snapshot) -> tuple[list[str], sp.csr_array]:
    """Return the types present (canonical order, then ``unknown``) and the node × type 0/1 matrix."""
    present = set(S.types)
    types = [t for t in STAKEHOLDER_TYPES if t in present]
    if any(t not in STAKEHOLDER_TYPES for t in S.types):
        types.append(UNKNOWN_TYPE)
    col = {t: j for j, t in enumerate(types)}
    cols = np.array([col.get(t, col.get(UNKNOWN_TYPE, -1)) for t in S.types], dtype=np.int64)
    n = S.n
    T = sp.csr_array((np.ones(n), (np.arange(n), cols)), shape=(n, len(types)))
    return types, T


def _cluster_matrix(G: nx.Graph, S: Snapshot) -> tuple[sp.csr_array, list[str]]:
    """Return the node × cluster membership matrix and cluster names, including cluster nodes
    that no organization names (they get an empty column)."""
    labels = list(S.clusters.labels)
    seen = {fold(x) for x in labels}
    extra = []
    for _, d in G.nodes(data=True):
        if d.get("type") == "cluster":
            name = d.get("name")
            if name is not None and fold(name) and fold(name) not in seen:
                seen.add(fold(name))
                extra.append(str(name))
    C = S.clusters.X
    if extra:
        C = sp.hstack([C, sp.csr_array((S.n, len(extra)))], format="csr")
    return sp.csr_array(C), labels + extra


def _members_partners(S: Snapshot, C: sp.csr_array) -> tuple[sp.csr_array, sp.csr_array]:
    """Return (members, partners) as node × cluster 0/1 matrices."""
    reach = sp.csr_array(S.A @ C)
    reach.data[:] = 1.0
    partners = sp.csr_array(reach - reach.multiply(C))
    partners.eliminate_zeros()
    return C, partners


def _canonical_position(types: list[str], t: str) -> int:
    order = {x: i for i, x in enumerate(STAKEHOLDER_TYPES)}
    return sum(1 for x in types if x in order and order[x] < order[t])


def _reason(name: str, n_members: int, n_partners: int, missing: list, thin: list, lang: str) -> str:
    """One sentence: the cluster, then each missing and thin type with the expected number and
    how many partners are of that type (``missing``/``thin``: (type, members, expected, partners))."""
    x = lambda v: wd.number(v, lang, 1)  # noqa: E731 - expected counts, one decimal
    parts = []
    if lang == "en":
        head = (f"{name} ({n_members} member{'s' if n_members != 1 else ''}, "
                f"{n_partners} partner{'s' if n_partners != 1 else ''})")
        for t, _, exp, partners in missing:
            if partners:
                parts.append(f"{_NONE[lang][t]} among its members (about {x(exp)} expected; "
                             f"{partners} among its partners)")
            else:
                parts.append(f"{_NONE[lang][t]} among its members (about {x(exp)} expected) or its partners")
        for t, have, exp, partners in thin:
            extra = f" ({partners} among its partners)" if partners else ""
            parts.append(f"few {_PLURAL[lang][t]}: {have} where about {x(exp)} would be expected{extra}")
        if not parts:
            return f"{head}: every type of stakeholder its size calls for is among its members."
        return f"{head}: " + "; ".join(parts) + "."
    head = (f"{name} ({n_members} membre{'s' if n_members > 1 else ''}, "
            f"{n_partners} partenaire{'s' if n_partners > 1 else ''})")
    for t, _, exp, partners in missing:
        # French agreement: « 1,4 attendu », « 2,7 attendus ».
        due = "attendu" if exp < 2 else "attendus"
        if partners:
            parts.append(f"{_NONE[lang][t]} parmi ses membres (environ {x(exp)} {due} ; "
                         f"{partners} parmi ses partenaires)")
        else:
            parts.append(f"{_NONE[lang][t]} parmi ses membres (environ {x(exp)} {due}) ni parmi ses partenaires")
    for t, have, exp, partners in thin:
        due = "attendu" if exp < 2 else "attendus"
        few = ("peu d'" if _PLURAL[lang][t][0] in "aeéiou" else "peu de ") + _PLURAL[lang][t]
        extra = f" ({partners} parmi ses partenaires)" if partners else ""
        parts.append(f"{few} : {have} pour environ {x(exp)} {due}{extra}")
    if not parts:
        return f"{head} : chaque type d'acteur que sa taille appelle figure parmi ses membres."
    return f"{head} : " + " ; ".join(parts) + "."
