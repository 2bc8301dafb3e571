"""Overlapping organizations and duplicated structures: who does the same thing twice.

Both analyses compare sets exactly, with sparse incidence matrices: for a binary matrix ``X``
(rows = organizations, columns = what they belong to), ``X @ X.T`` holds every pair's
intersection, and ``|A ∪ B| = |A| + |B| − |A ∩ B|`` gives the Jaccard index without ever
enumerating all pairs. Mandates are compared by TF-IDF cosine with accents stripped and French
and English stop words removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from analysis._network import as_list, partnership_network
from analysis._wording import check_lang, join, name_list, number, percent, sentence

__all__ = [
    "find_overlaps",
    "find_duplicate_structures",
    "duplicate_records",
    "mandate_similarity",
    "FRENCH_STOP_WORDS",
    "OVERLAP_WEIGHTS",
]

#: How much each signal counts in an overlap's ``score`` (renormalised over the signals that
#: apply to a pair: memberships only count when one of the two has some, and so on).
OVERLAP_WEIGHTS: dict[str, float] = {
    "membership_jaccard": 0.30,
    "partner_jaccard": 0.30,
    "sector_jaccard": 0.15,
    "same_region": 0.05,
    "mandate_similarity": 0.20,
}

#: Relationship types that make an organization part of another (its memberships).
MEMBERSHIP_TYPES = frozenset({"MEMBER_OF", "PARTICIPATES_IN"})

#: French stop words (scikit-learn only ships English ones); accents already stripped.
FRENCH_STOP_WORDS = frozenset(
    """
    a au aux avec ce ces cet cette dans de des du elle en et eux il ils je la le les leur leurs lui
    ma mais me meme mes moi mon ne nos notre nous on ou par pas pour qu que qui sa se ses son sur
    ta te tes toi ton tu un une vos votre vous c d j l m n s t y ete etre avoir ai as avons avez ont
    est sont etait etaient sera seront fait faire plus moins tres tout tous toute toutes autre autres
    aussi ainsi afin entre vers chez sans sous selon dont ou lors leurs ceux celle celles cela ceci
    comme donc car si deja encore
    """.split()
)


def _fold(text: object) -> str:
    # NFKD leaves the ligatures œ and æ whole: spell them out so "œuvre" meets "oeuvre".
    s = str(text).replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"\s+", " ", s.lower()).strip()


def _stop_words() -> list[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted(set(ENGLISH_STOP_WORDS) | FRENCH_STOP_WORDS)


def _tfidf(texts: list[str]) -> sp.csr_matrix | None:
    """L2-normalised TF-IDF rows of ``texts`` (``None`` when no text has a word)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not any(t.strip() for t in texts):
        return None
    vec = TfidfVectorizer(preprocessor=_fold, stop_words=_stop_words(), token_pattern=r"(?u)\b[a-z][a-z0-9]+\b",
                          sublinear_tf=True, dtype=np.float64)
    try:
        return vec.fit_transform(texts).tocsr()
    except ValueError:  # only stop words
        return None


def _rowwise_dot(X: sp.csr_matrix, I: np.ndarray, J: np.ndarray) -> np.ndarray:
    if len(I) == 0:
        return np.zeros(0)
    return np.asarray(X[I].multiply(X[J]).sum(axis=1)).ravel()


def mandate_similarity(a: str, b: str) -> float:
    """Return the TF-IDF cosine similarity of two mandates (fitted on the two texts).

    Examples
    --------
    >>> round(mandate_similarity("Développer la main-d'œuvre en aérospatiale",
    ...                          "developper la main d'oeuvre en AEROSPATIALE"), 6)
    1.0
    >>> mandate_similarity("Soutenir l'exportation", "Former des soudeurs")
    0.0
    """
    X = _tfidf([a or "", b or ""])
    if X is None:
        return 0.0
    return float(_rowwise_dot(X, np.array([0]), np.array([1]))[0])


def _incidence(sets: list[Iterable], n: int) -> sp.csr_matrix:
    """Binary CSR matrix with one row per node and one column per distinct item."""
    index: dict[object, int] = {}
    rows, cols = [], []
    for i, items in enumerate(sets):
        for it in set(items):
            rows.append(i)
            cols.append(index.setdefault(it, len(index)))
    data = np.ones(len(rows), dtype=np.float64)
    return sp.csr_matrix((data, (rows, cols)), shape=(n, max(len(index), 1)))


def _jaccard(X: sp.csr_matrix, sizes: np.ndarray, I: np.ndarray, J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (intersection, jaccard) of rows I and J; empty with empty gives 0."""
    inter = _rowwise_dot(X, I, J)
    union = sizes[I] + sizes[J] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
    return inter, jac


def _candidate_pairs(mats: list[sp.csr_matrix], *, hub_cap: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (i < j) sharing at least one column of any matrix, ignoring columns held by more
    than ``hub_cap`` rows (a column everybody holds says nothing about overlap, and would
    make hub_cap² pairs)."""
    pairs = []
    for X in mats:
        counts = np.asarray(X.sum(axis=0)).ravel()
        keep = np.flatnonzero((counts >= 2) & (counts <= hub_cap))
        if len(keep) == 0:
            continue
        Y = X[:, keep]
        C = sp.triu(Y @ Y.T, k=1).tocoo()
        pairs.append(np.stack([C.row, C.col], axis=1))
    if not pairs:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    P = np.unique(np.concatenate(pairs), axis=0)
    return P[:, 0].astype(np.int64), P[:, 1].astype(np.int64)


def _memberships(G: nx.Graph, nodes: list) -> list[set]:
    out = {n: set() for n in nodes}
    if G.is_directed():
        for u, v, d in G.edges(data=True):
            if d.get("type") in MEMBERSHIP_TYPES and u in out and v in out and u != v:
                out[u].add(v)
    return [out[n] for n in nodes]


def find_overlaps(
    G: nx.Graph,
    min_score: float = 0.7,
    *,
    lang: str = "en",
    weights: Mapping[str, float] | None = None,
    hub_cap: int = 1000,
) -> pd.DataFrame:
    """Return pairs of organizations that largely do the same thing, best first.

    For each pair sharing at least one membership, partner or sector:

    - ``membership_jaccard``: Jaccard index of what each is a member of or participates in
      (targets of its ``MEMBER_OF`` and ``PARTICIPATES_IN`` relationships);
    - ``partner_jaccard``: Jaccard index of their neighbourhoods in the partnership network
      (:func:`analysis._network.partnership_network`; each other excluded);
    - ``sector_jaccard``: Jaccard index of their ``sectors`` (accents and case folded);
    - ``same_region``: both have the same ``region``;
    - ``mandate_similarity``: TF-IDF cosine of their ``mandate`` texts, accents stripped, French
      and English stop words removed, fitted on every mandate of ``G``.

    ``score`` is the weighted mean of these (:data:`OVERLAP_WEIGHTS`) over the signals that
    apply: a Jaccard index counts when one of the two has something to compare, the region
    when both have one, the mandate when both have one. Pairs are found through shared items
    only (a sparse product of incidence matrices); items held by more than ``hub_cap``
    organizations do not make candidates on their own, but count in every index.

    Parameters
    ----------
    G : networkx graph
        A snapshot, or any graph; missing attributes are tolerated.
    min_score : float
        Least ``score`` of a reported pair. The default 0.7 keeps every planted overlap of
        the demo ecosystem (whose lowest scores 0.74) while most pairs above it are planted
        overlaps, duplicated structures or duplicate records (measured at 1,500
        organizations: 42 pairs, 22 planted overlaps and 13 other planted duplications).
    lang : {"en", "fr"}
        Language of ``reasons``.
    weights : mapping, optional
        Replaces :data:`OVERLAP_WEIGHTS` (same keys).
    hub_cap : int
        See above.

    Returns
    -------
    pandas.DataFrame
        Columns ``a``, ``b`` (ids, ``a`` first in node order), ``a_name``, ``b_name``,
        ``a_type``, ``b_type``, ``score``, ``membership_jaccard``, ``partner_jaccard``,
        ``sector_jaccard``, ``same_region`` (bool), ``mandate_similarity``,
        ``shared_memberships`` (names), ``shared_partners`` (count), ``shared_sectors``
        (list) and ``reasons`` (a sentence in ``lang``); sorted by descending ``score``.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> for n in ("a", "b"):
    ...     G.add_node(n, name=n.upper(), type="association", sectors=["Aéro"], region="Laval",
    ...                mandate="Représenter les PME de l'aérospatiale")
    >>> G.add_node("g", name="Groupe", type="structure")
    >>> for n in ("a", "b"):
    ...     _ = G.add_edge(n, "g", type="MEMBER_OF")
    >>> df = find_overlaps(G)
    >>> df[["a", "b", "membership_jaccard", "sector_jaccard", "same_region"]].values.tolist()
    [['a', 'b', 1.0, 1.0, True]]
    >>> print(df.loc[0, "reasons"])
    Both are members of Groupe; 1 partner in common (100% of their partners); same sectors (Aéro); both in Laval; mandates 100% alike.
    """
    check_lang(lang)
    w = dict(OVERLAP_WEIGHTS if weights is None else weights)
    unknown = set(w) - set(OVERLAP_WEIGHTS)
    if unknown:
        from maillage.errors import InputError

        raise InputError(f"Unknown overlap weight(s) {sorted(unknown)}; use {sorted(OVERLAP_WEIGHTS)}.")
    H = partnership_network(G)
    nodes = list(H.nodes())
    n = len(nodes)
    columns = ["a", "b", "a_name", "b_name", "a_type", "b_type", "score", "membership_jaccard", "partner_jaccard",
               "sector_jaccard", "same_region", "mandate_similarity", "shared_memberships", "shared_partners",
               "shared_sectors", "reasons"]
    if n < 2:
        return pd.DataFrame(columns=columns)
    index = {v: i for i, v in enumerate(nodes)}
    data = [H.nodes[v] for v in nodes]
    mem_sets = _memberships(G, nodes)
    M = _incidence([[index[t] for t in s] for s in mem_sets], n)
    # The adjacency matrix keeps node indices as columns: A[i, j] says whether i and j are linked.
    edges = np.array([(index[u], index[v]) for u, v in H.edges()], dtype=np.int64).reshape(-1, 2)
    ones = np.ones(2 * len(edges))
    A = sp.csr_matrix((ones, (np.concatenate([edges[:, 0], edges[:, 1]]), np.concatenate([edges[:, 1], edges[:, 0]]))), shape=(n, n))
    A.data[:] = 1.0
    sector_lists = [sorted({_fold(s) for s in as_list(d.get("sectors")) if str(s).strip()}) for d in data]
    # Reasons show a sector as the data spells it, not folded.
    sector_label: dict[str, str] = {}
    for d in data:
        for s in as_list(d.get("sectors")):
            sector_label.setdefault(_fold(s), str(s))
    S = _incidence(sector_lists, n)
    I, J = _candidate_pairs([M, A, S], hub_cap=hub_cap)
    if len(I) == 0:
        return pd.DataFrame(columns=columns)
    m_size = np.asarray(M.sum(axis=1)).ravel()
    a_size = np.asarray(A.sum(axis=1)).ravel()
    s_size = np.asarray(S.sum(axis=1)).ravel()
    _, mem_j = _jaccard(M, m_size, I, J)
    # Partners: each other is not a shared partner, nor part of either's set for this pair.
    linked = np.asarray(A[I, J]).ravel()
    p_inter = _rowwise_dot(A, I, J)
    p_union = (a_size[I] - linked) + (a_size[J] - linked) - p_inter
    with np.errstate(invalid="ignore", divide="ignore"):
        par_j = np.where(p_union > 0, p_inter / np.where(p_union > 0, p_union, 1), 0.0)
    _, sec_j = _jaccard(S, s_size, I, J)
    regions = np.array([_fold(d.get("region")) if d.get("region") else "" for d in data], dtype=object)
    has_region = regions != ""
    same_region = has_region[I] & has_region[J] & (regions[I] == regions[J])
    mandates = [str(d.get("mandate") or "") for d in data]
    X = _tfidf(mandates)
    has_mandate = np.array([bool(m.strip()) for m in mandates])
    mand = _rowwise_dot(X, I, J) if X is not None else np.zeros(len(I))
    mand = np.clip(mand, 0.0, 1.0)

    applies = {
        "membership_jaccard": (m_size[I] + m_size[J]) > 0,
        "partner_jaccard": (a_size[I] - linked + a_size[J] - linked) > 0,
        "sector_jaccard": (s_size[I] + s_size[J]) > 0,
        "same_region": has_region[I] & has_region[J],
        "mandate_similarity": has_mandate[I] & has_mandate[J],
    }
    values = {"membership_jaccard": mem_j, "partner_jaccard": par_j, "sector_jaccard": sec_j,
              "same_region": same_region.astype(float), "mandate_similarity": mand}
    num = np.zeros(len(I))
    den = np.zeros(len(I))
    for key, weight in w.items():
        num += weight * np.where(applies[key], values[key], 0.0)
        den += weight * applies[key]
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
    keep = np.flatnonzero(score >= min_score)
    keep = keep[np.lexsort((J[keep], I[keep], -score[keep]))]
    rows = []
    for k in keep:
        i, j = int(I[k]), int(J[k])
        shared_mem = sorted(mem_sets[i] & mem_sets[j], key=lambda t: str(H.nodes[t].get("name", t)) if t in H else str(t))
        shared_mem_names = [str(H.nodes[t].get("name", t)) if t in H else str(t) for t in shared_mem]
        shared_sec = [sector_label.get(x, x) for x in sorted(set(sector_lists[i]) & set(sector_lists[j]))]
        row = {
            "a": nodes[i], "b": nodes[j],
            "a_name": str(data[i].get("name", nodes[i])), "b_name": str(data[j].get("name", nodes[j])),
            "a_type": data[i].get("type"), "b_type": data[j].get("type"),
            "score": float(score[k]), "membership_jaccard": float(mem_j[k]), "partner_jaccard": float(par_j[k]),
            "sector_jaccard": float(sec_j[k]), "same_region": bool(same_region[k]), "mandate_similarity": float(mand[k]),
            "shared_memberships": shared_mem_names, "shared_partners": int(p_inter[k]), "shared_sectors": shared_sec,
        }
        row["reasons"] = _overlap_reason(row, data[i].get("region"), lang)
        rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _overlap_reason(row: dict, region: object, lang: str) -> str:
    parts = []
    mem = row["shared_memberships"]
    if mem:
        lead = "both are members of " if lang == "en" else "sont tous deux membres de "
        parts.append(lead + name_list(mem, len(mem), lang))
    if row["shared_partners"]:
        k = row["shared_partners"]
        if lang == "en":
            parts.append(f"{k} partner{'s' if k > 1 else ''} in common ({percent(row['partner_jaccard'], lang)} of their partners)")
        else:
            parts.append(f"{k} partenaire{'s' if k > 1 else ''} en commun ({percent(row['partner_jaccard'], lang)} de leurs partenaires)")
    if row["shared_sectors"]:
        same = row["sector_jaccard"] >= 1.0
        label = ("same sectors" if same else "shared sectors") if lang == "en" else ("mêmes secteurs" if same else "secteurs communs")
        parts.append(f"{label} ({', '.join(row['shared_sectors'][:3])})")
    if row["same_region"]:
        parts.append(("both in " if lang == "en" else "tous deux en région : ") + str(region))
    if row["mandate_similarity"] >= 0.3:
        parts.append(("mandates " if lang == "en" else "mandats semblables à ") + percent(row["mandate_similarity"], lang) + (" alike" if lang == "en" else ""))
    return sentence(parts, lang)


def find_duplicate_structures(
    G: nx.Graph,
    min_score: float = 0.6,
    *,
    lang: str = "en",
    types: Iterable[str] = ("structure", "association", "workforce_committee"),
    member_weight: float = 0.6,
    hub_cap: int = 1000,
) -> pd.DataFrame:
    """Return groups of structures whose members and mandates are near-identical: merge candidates.

    The *members* of a structure are the organizations with a ``MEMBER_OF`` or
    ``PARTICIPATES_IN`` relationship to it. Two structures of ``types`` that share at least
    one member form a pair scored ``member_weight × member_jaccard + (1 − member_weight) ×
    mandate_similarity`` (TF-IDF cosine as in :func:`find_overlaps`; when either has no
    mandate, the member Jaccard index alone). Pairs scoring at least ``min_score`` are joined
    into groups (connected components): three working groups that copy each other are one
    group, not three pairs.

    Returns
    -------
    pandas.DataFrame
        One row per group, best first: ``group`` (``"G1"``, ``"G2"`` ...), ``members`` (the
        structures' ids), ``member_names``, ``types``, ``size``, ``shared_members`` (members
        common to every structure of the group), ``member_jaccard`` (lowest pairwise Jaccard
        index of members within the group), ``mandate_similarity`` (lowest pairwise, among
        pairs where both have a mandate; NaN when none has), ``score`` (mean score of the
        group's linking pairs) and ``reasons``.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("wg1", name="Talent group", type="structure", mandate="Attract engineering talent")
    >>> G.add_node("wg2", name="Talent committee", type="structure", mandate="Attract engineering talent to the region")
    >>> for m in ("x", "y", "z"):
    ...     G.add_node(m, name=m, type="company")
    ...     _ = G.add_edge(m, "wg1", type="MEMBER_OF"); _ = G.add_edge(m, "wg2", type="PARTICIPATES_IN")
    >>> df = find_duplicate_structures(G)
    >>> row = df.iloc[0]
    >>> print(row["group"], row["members"], row["shared_members"], row["member_jaccard"])
    G1 ['wg1', 'wg2'] 3 1.0
    """
    check_lang(lang)
    types = set(types)
    columns = ["group", "members", "member_names", "types", "size", "shared_members", "member_jaccard",
               "mandate_similarity", "score", "reasons"]
    structs = [v for v, d in G.nodes(data=True) if d.get("type") in types]
    if len(structs) < 2:
        return pd.DataFrame(columns=columns)
    sindex = {v: i for i, v in enumerate(structs)}
    members: list[set] = [set() for _ in structs]
    for u, v, d in G.edges(data=True):
        if d.get("type") in MEMBERSHIP_TYPES and v in sindex and u != v:
            members[sindex[v]].add(u)
    items: dict[object, int] = {}
    B = _incidence([[items.setdefault(m, len(items)) for m in s] for s in members], len(structs))
    I, J = _candidate_pairs([B], hub_cap=hub_cap)
    if len(I) == 0:
        return pd.DataFrame(columns=columns)
    sizes = np.asarray(B.sum(axis=1)).ravel()
    _, jac = _jaccard(B, sizes, I, J)
    mandates = [str(G.nodes[v].get("mandate") or "") for v in structs]
    X = _tfidf(mandates)
    has = np.array([bool(m.strip()) for m in mandates])
    mand = np.clip(_rowwise_dot(X, I, J), 0, 1) if X is not None else np.zeros(len(I))
    both = has[I] & has[J]
    score = np.where(both, member_weight * jac + (1 - member_weight) * mand, jac)
    keep = score >= min_score
    if not keep.any():
        return pd.DataFrame(columns=columns)
    P = nx.Graph()
    for i, j, s, jj, mm, bb in zip(I[keep], J[keep], score[keep], jac[keep], mand[keep], both[keep]):
        P.add_edge(int(i), int(j), score=float(s), jaccard=float(jj), mandate=float(mm) if bb else np.nan)
    groups = []
    for comp in nx.connected_components(P):
        comp = sorted(comp, key=lambda i: str(structs[i]))
        sub = P.subgraph(comp)
        pair_scores = [d["score"] for _, _, d in sub.edges(data=True)]
        # Lowest pairwise values over all pairs of the group (not just linking ones).
        jaccs, mands = [], []
        for x in range(len(comp)):
            for y in range(x + 1, len(comp)):
                a, b = members[comp[x]], members[comp[y]]
                jaccs.append(len(a & b) / len(a | b) if a | b else 0.0)
                if has[comp[x]] and has[comp[y]] and X is not None:
                    mands.append(float(np.clip(_rowwise_dot(X, np.array([comp[x]]), np.array([comp[y]]))[0], 0, 1)))
        shared = set.intersection(*(members[i] for i in comp))
        ids = [structs[i] for i in comp]
        names = [str(G.nodes[v].get("name", v)) for v in ids]
        row = {
            "members": ids, "member_names": names, "types": [G.nodes[v].get("type") for v in ids], "size": len(ids),
            "shared_members": len(shared), "member_jaccard": float(min(jaccs)),
            "mandate_similarity": float(min(mands)) if mands else float("nan"), "score": float(np.mean(pair_scores)),
        }
        row["reasons"] = _duplicate_reason(row, lang)
        groups.append(row)
    groups.sort(key=lambda r: (-r["score"], str(r["members"][0])))
    for k, row in enumerate(groups, 1):
        row["group"] = f"G{k}"
    return pd.DataFrame(groups, columns=columns)


def _duplicate_reason(row: dict, lang: str) -> str:
    names = row["member_names"]
    k = row["shared_members"]
    if lang == "en":
        parts = [f"{join(names, lang)} share {k} member{'s' if k != 1 else ''} "
                 f"({percent(row['member_jaccard'], lang)} of their members at least)"]
        if row["mandate_similarity"] == row["mandate_similarity"]:
            parts.append(f"mandates {percent(row['mandate_similarity'], lang)} alike")
        parts.append("candidates for a merger")
    else:
        parts = [f"{join(names, lang)} ont {k} membre{'s' if k != 1 else ''} en commun "
                 f"(au moins {percent(row['member_jaccard'], lang)} de leurs membres)"]
        if row["mandate_similarity"] == row["mandate_similarity"]:
            parts.append(f"mandats semblables à {percent(row['mandate_similarity'], lang)}")
        parts.append("candidats à une fusion")
    return sentence(parts, lang)


def duplicate_records(G: nx.Graph, *, threshold: float = 90.0) -> pd.DataFrame:
    """Return probable duplicate records of one organization under variant names.

    The loaders' finder (:func:`maillage.names.find_duplicate_records`) run on the graph's
    organizations: names folded for case, accents, punctuation, legal suffixes and common
    abbreviations, then compared with rapidfuzz inside blocks.

    Returns
    -------
    pandas.DataFrame
        ``id_a``, ``name_a``, ``id_b``, ``name_b``, ``score`` (0–100), ``where``.

    Examples
    --------
    >>> G = nx.Graph()
    >>> G.add_node("u1", name="Université de Montréal", type="institution")
    >>> G.add_node("u2", name="UNIVERSITE DE MONTREAL", type="institution")
    >>> G.add_node("c", name="Cégep du Vieux", type="institution")
    >>> duplicate_records(G)[["id_a", "id_b", "score"]].values.tolist()
    [['u1', 'u2', 100.0]]
    """
    from maillage.names import find_duplicate_records

    items = [(v, str(d.get("name", v))) for v, d in G.nodes(data=True) if d.get("type") != "cluster" and d.get("name")]
    return find_duplicate_records(items, threshold=threshold)
