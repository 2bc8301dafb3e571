"""Overlapping organizations and duplicated structures: who does the same thing twice.

Both analyses compare sets exactly with sparse incidence matrices: for a 0/1 matrix ``X``
(rows = organizations, columns = what they belong to), ``X @ X.T`` holds every pair's
intersection, and ``|A ∪ B| = |A| + |B| − |A ∩ B|`` gives the Jaccard index, without ever
enumerating all pairs. Mandates are compared by TF-IDF cosine, with accents and case folded
and French and English stop words removed. Duplicate *records* (one organization entered
twice under variant names) are the loaders' report, reused: :func:`duplicate_records`.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Mapping

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse import csgraph

from analysis._matrices import (
    Snapshot,
    block_pairs,
    blocks,
    fold,
    lexsort,
    pair_products,
    pair_sums,
    snapshot_matrices,
)
from analysis._wording import check_lang, join, name_list, number, percent, sentence
from maillage.errors import InputError

__all__ = [
    "find_overlaps",
    "find_duplicate_structures",
    "duplicate_records",
    "mandate_similarity",
    "OVERLAP_WEIGHTS",
    "FRENCH_STOP_WORDS",
]

#: Weight of each signal in an overlap's ``score``. A signal only counts for a pair when it
#: applies (a Jaccard index when one of the two has something to compare, the region and the
#: mandate when both have one); the score is the weighted mean over the signals that apply.
#: Memberships and partners weigh most: an overlap is first two organizations sitting at the
#: same tables with the same partners.
OVERLAP_WEIGHTS: dict[str, float] = {
    "membership_jaccard": 0.30,
    "partner_jaccard": 0.30,
    "mandate_similarity": 0.25,
    "sector_jaccard": 0.10,
    "same_region": 0.05,
}

#: French stop words, hand-listed (scikit-learn ships English ones only): articles,
#: pronouns, prepositions, conjunctions, auxiliaries and the fillers of mission statements.
FRENCH_STOP_WORDS = frozenset("""
    a à afin ai aie aient ainsi alors après as au aucun aucune auprès aussi autre autres aux
    avaient avais avait avant avec avez avoir avons ayant bien c ça car ce ceci cela celle celles
    celui cependant certain certaines certains ces cet cette ceux chacun chaque chez comme comment
    d dans de depuis des dès deux doit donc dont du elle elles en encore entre est et étaient
    était étant été être eu eux fait faire font hors il ils j je jusqu l la le les leur leurs lors
    lorsque lui m ma mais me même mêmes mes moi moins mon n ne ni nos notre nous on ont ou où par
    parce pas peu peut plus plusieurs pour pourquoi puis qu quand que quel quelle quelles quels
    qui quoi s sa sans se selon sera seront ses si sien soit son sont sous sur t ta tant te tel
    telle telles tels tes toi ton tous tout toute toutes très tu un une unes uns vers via voici
    voilà vos votre vous y notamment également afin cadre ensemble ainsi
""".split())

_MEMBERSHIP_WEIGHT = 2.0 ** 13  # membership columns: products count them in units of 2**26
_MEMBERSHIP_UNIT = 2.0 ** 26
_LINK_MARK = 0.5  # added where the two are linked (integers + 0.5 stay exact)
_ATTR_MARK = 0.25  # added to sector-only candidates
_BLOCK_PAIRS = 4_000_000
_PATH_BUDGET = 50_000_000

_PAIR_COLUMNS = [
    "a", "b", "a_name", "b_name", "a_type", "b_type", "score", "membership_jaccard",
    "partner_jaccard", "sector_jaccard", "same_region", "mandate_similarity",
    "shared_memberships", "shared_partners", "shared_partner_names", "shared_sectors", "reasons",
]
_GROUP_COLUMNS = [
    "group", "members", "member_names", "types", "size", "shared_members", "shared_member_names",
    "member_jaccard", "mandate_similarity", "score", "clusters", "reasons",
]


# --------------------------------------------------------------------------- mandates


def _fold_text(text: object) -> str:
    # NFKD leaves the ligatures œ and æ whole: spell them out so that "œuvre" meets "oeuvre".
    s = str(text).replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae").replace("Æ", "ae")
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode("ascii")
    return s.lower()


def _vectorizer(stop_words: list[str] | None = None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(preprocessor=_fold_text, stop_words=stop_words, dtype=np.float64,
                           sublinear_tf=True)


def _stop_words() -> list[str]:
    """English and French stop words as the vectorizer sees them (folded and tokenized), so
    that scikit-learn finds them consistent with its preprocessing."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    v = _vectorizer()
    prep, tok = v.build_preprocessor(), v.build_tokenizer()
    return sorted({t for w in ENGLISH_STOP_WORDS | FRENCH_STOP_WORDS for t in tok(prep(w))})


def _tfidf(texts: list[str]) -> sp.csr_array | None:
    """L2-normalised TF-IDF rows of ``texts`` (None when no text has a word left)."""
    if not any(t.strip() for t in texts):
        return None
    try:
        X = _vectorizer(_stop_words()).fit_transform(texts)
    except ValueError:  # nothing but stop words
        return None
    return sp.csr_array(X)


def _rowwise_dot(X: sp.csr_array, I: np.ndarray, J: np.ndarray) -> np.ndarray:
    return np.clip(pair_sums(X, I, J), 0.0, 1.0)


def mandate_similarity(a: str, b: str) -> float:
    """Return the TF-IDF cosine similarity of two mandates (fitted on the two texts).

    Accents, case and the ligature œ are folded and French and English stop words removed
    before comparing, as :func:`find_overlaps` does over a whole graph.

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


class _Mandates:
    """TF-IDF of every mandate of a snapshot, fitted once on demand."""

    def __init__(self, S: Snapshot) -> None:
        texts = [S.attr(i, "mandate") for i in range(S.n)]
        self.texts = ["" if t is None or t != t else str(t) for t in texts]
        self.has = np.fromiter((bool(t.strip()) for t in self.texts), bool, S.n)
        self._X: sp.csr_array | None | bool = False

    @property
    def X(self) -> sp.csr_array | None:
        if self._X is False:
            self._X = _tfidf(self.texts)
        return self._X

    def cosine(self, I: np.ndarray, J: np.ndarray) -> np.ndarray:
        X = self.X
        return np.zeros(len(I)) if X is None else _rowwise_dot(X, I, J)


# --------------------------------------------------------------------------- helpers


def _weights(weights: Mapping | None, defaults: Mapping[str, float]) -> dict[str, float]:
    """``weights`` replaces ``defaults`` (a signal left out counts 0)."""
    if weights is None:
        return dict(defaults)
    unknown = set(weights) - set(defaults)
    if unknown:
        raise InputError(f"Unknown weight(s) {sorted(unknown)}; use {sorted(defaults)}.")
    out = {k: float(weights.get(k, 0.0)) for k in defaults}
    if any(not v >= 0 for v in out.values()) or sum(out.values()) <= 0:
        raise InputError(f"Weights must be non-negative with a positive sum, not {dict(weights)}.")
    return out


def _hub_columns(X: sp.csr_array, hub_cap) -> np.ndarray:
    """Boolean mask of the columns of ``X`` too widely held to make candidate pairs: none
    while the pairs they make number at most :data:`_PATH_BUDGET` (``"auto"``), else those
    above the largest cap that keeps them under it; an int caps directly."""
    df = np.bincount(X.indices, minlength=X.shape[1])
    if hub_cap is None:
        return np.zeros(X.shape[1], dtype=bool)
    if hub_cap != "auto":
        return df > int(hub_cap)
    d2 = df.astype(np.float64) ** 2
    if d2.sum() <= _PATH_BUDGET:
        return np.zeros(X.shape[1], dtype=bool)
    order = np.argsort(df, kind="stable")
    k = int(np.searchsorted(np.cumsum(d2[order]), _PATH_BUDGET, side="right"))
    return df > (df[order[k - 1]] if k else 0)


def _region_codes(S: Snapshot) -> np.ndarray:
    codes: dict[str, int] = {}
    out = np.full(S.n, -1, dtype=np.int64)
    for i in range(S.n):
        r = S.attr(i, "region")
        if r is None or r != r or not str(r).strip():
            continue
        out[i] = codes.setdefault(fold(r), len(codes))
    return out


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


# --------------------------------------------------------------------------- overlaps


def find_overlaps(
    G: nx.Graph,
    min_score: float = 0.7,
    *,
    lang: str = "en",
    weights: Mapping[str, float] | None = None,
    min_shared: int = 2,
    top: int | None = None,
    hub_cap: int | str | None = "auto",
    block_cap: int = 200,
    block_sample: int = 10,
    seed: int = 0,
) -> pd.DataFrame:
    """Return pairs of organizations that largely do the same thing, best first.

    For a pair ``(a, b)`` of organizations (any non-cluster node):

    - ``membership_jaccard``: Jaccard index of their memberships (targets of their
      ``MEMBER_OF`` and ``PARTICIPATES_IN`` relationships);
    - ``partner_jaccard``: Jaccard index of their partners, the neighbours in the
      partnership network (:func:`analysis._network.partnership_network`), each without the
      other (for unlinked pairs, networkx's ``jaccard_coefficient``);
    - ``sector_jaccard``: Jaccard index of their ``sectors`` (accents and case folded);
    - ``same_region``: both have a ``region`` and it is the same (folded);
    - ``mandate_similarity``: TF-IDF cosine of their ``mandate`` texts (accents, case and œ
      folded; French and English stop words removed; fitted on every mandate of ``G``).

    ``score`` is the weighted mean of these (:data:`OVERLAP_WEIGHTS`) over the signals that
    apply to the pair: a Jaccard index when one of the two has something to compare, the
    region and the mandate when both have one. A Jaccard index that does not apply is 0 (as
    in networkx), ``same_region`` False and ``mandate_similarity`` NaN.

    **Candidates.** Every pair with at least ``min_shared`` (2) partners in common (an exact
    sparse product of incidence matrices, block by block; partners include memberships,
    which are ties too). One is not enough: two small firms whose only tie is the same
    chamber of commerce would otherwise "overlap" completely (on the demo ecosystem, with one
    shared partner allowed, 13 such pairs join the 22 planted overlaps of 1,500 organizations
    above 0.7; with two, none does). When ``weights`` gives partners no weight, one shared membership or partner
    is enough, so that e.g. ``weights={"membership_jaccard": 1}`` returns exactly the pairs
    whose membership Jaccard index reaches ``min_score``. Also, pairs with no partner in
    common but a sector, between organizations whose relational signals (then 0) still let
    sectors, region and mandate reach ``min_score`` (with the default weights: organizations
    with no membership and no partner at all): all pairs of a
    sector of at most ``block_cap`` (200) such organizations, else each paired with
    ``block_sample`` (10) of them by a seeded shuffle. Before the (costlier) mandates are
    compared, pairs that could not reach ``min_score`` even with identical mandates are
    dropped, which changes nothing to the result. On very large networks, memberships and
    partners held by more than ``hub_cap`` organizations do not *find* pairs (``"auto"``:
    no cap while the pairs they make number at most 50 million); they count in every index.

    Parameters
    ----------
    G : networkx graph
        A snapshot, or any graph; missing attributes are tolerated.
    min_score : float, default 0.7
        Least ``score`` of a reported pair. On the demo ecosystem (seed 0), every planted
        overlap scores at least 0.75 with the defaults; above 0.7, planted duplicate
        records and structures aside, the reported pairs are the 22 planted overlaps at
        1,500 organizations, and 75 planted plus 7 others at 5,000.
    lang : {"en", "fr"}
        Language of ``reasons``.
    weights : mapping, optional
        Replaces :data:`OVERLAP_WEIGHTS` (same keys; a key left out weighs 0), e.g.
        ``{"membership_jaccard": 1}`` to compare memberships only.
    min_shared : int, default 2
        Partners a pair must have in common (see above).
    top : int, optional
        Keep the ``top`` best pairs only.
    hub_cap, block_cap, block_sample, seed
        Bounds of the candidate search, see above.

    Returns
    -------
    pandas.DataFrame
        One row per pair, by descending ``score``: ``a``, ``b`` (ids, ``a`` first in node
        order), ``a_name``, ``b_name``, ``a_type``, ``b_type``, ``score``,
        ``membership_jaccard``, ``partner_jaccard``, ``sector_jaccard``, ``same_region``,
        ``mandate_similarity``, ``shared_memberships`` (names), ``shared_partners`` (count),
        ``shared_partner_names``, ``shared_sectors`` (lists) and ``reasons`` (a sentence in
        ``lang`` naming what they share).

    Raises
    ------
    maillage.errors.InputError
        For an unknown ``lang`` or weight.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> for n in ("a", "b"):
    ...     G.add_node(n, name=f"Chambre {n.upper()}", type="association", sectors=["Commerce"],
    ...                region="Laval", mandate="Représenter les entreprises de Laval")
    >>> for body in ("Fédération", "Table"):
    ...     G.add_node(body, name=body, type="structure")
    ...     for n in ("a", "b"):
    ...         _ = G.add_edge(n, body, type="MEMBER_OF")
    >>> df = find_overlaps(G)
    >>> row = df.iloc[0]
    >>> print(row.a, row.b, row.membership_jaccard, row.partner_jaccard, row.score)
    a b 1.0 1.0 1.0
    >>> print(row.reasons)
    Share all their 2 memberships (Fédération and Table), all their 2 partners (Fédération and Table), the same sector (Commerce), the same region (Laval) and near-identical mandates (1.00).
    >>> print(find_overlaps(G, lang="fr").loc[0, "reasons"])
    Partagent toutes leurs 2 adhésions (Fédération et Table), tous leurs 2 partenaires (Fédération et Table), le même secteur (Commerce), la même région (Laval) et des mandats presque identiques (1,00).
    """
    check_lang(lang)
    w = _weights(weights, OVERLAP_WEIGHTS)
    columns = list(_PAIR_COLUMNS)
    S = snapshot_matrices(G)
    n = S.n
    if n < 2:
        return _empty(columns)
    A = S.A
    Mem = S.members.X
    m_size = np.diff(Mem.indptr).astype(np.float64)
    p_size = np.diff(A.indptr).astype(np.float64)
    s_size = np.diff(S.sectors.X.indptr).astype(np.float64)
    region = _region_codes(S)
    mandates = _Mandates(S)
    use_mem = w["membership_jaccard"] > 0 or min_score <= 0
    use_par = w["partner_jaccard"] > 0 or min_score <= 0

    # Relational tokens: partner columns count 1 in a product, membership columns 2**26.
    R = sp.hstack([A * float(use_par), Mem * (_MEMBERSHIP_WEIGHT * use_mem)], format="csr")
    R.eliminate_zeros()
    hub = _hub_columns(R, hub_cap)
    R_mid = (R @ sp.diags_array((~hub).astype(np.float64))).tocsr() if hub.any() else R
    R_mid.eliminate_zeros()
    RT = R_mid.T.tocsr()
    R_hub = R[:, np.flatnonzero(hub)].tocsr() if hub.any() else None
    hub_count = np.diff(R_hub.indptr) if R_hub is not None else None

    attr = _attribute_candidates(S, w, min_score, m_size, p_size, block_cap, block_sample, seed)

    found: list[dict] = []
    col_df = np.diff(RT.indptr).astype(np.float64)
    pattern = R_mid.copy()
    pattern.data[:] = 1.0  # membership columns carry 2**13: count them once for the cost
    cost = pattern @ col_df + np.diff(attr.indptr) + 1
    del pattern
    for a0, b0 in blocks(cost, _BLOCK_PAIRS):
        rows = np.arange(a0, b0)
        U = R_mid[rows] @ RT + A[rows] * _LINK_MARK
        if attr.nnz:
            U = U + attr[rows] * _ATTR_MARK
        U = U.tocoo()
        I = rows[U.row]
        J = U.col.astype(np.int64)
        v = U.data
        upper = J > I
        I, J, v = I[upper], J[upper], v[upper]
        count = np.floor(v)
        frac = v - count
        linked = frac >= _LINK_MARK
        is_attr = (frac - _LINK_MARK * linked) >= _ATTR_MARK
        keep = (count > 0) | is_attr
        I, J, count, linked, is_attr = I[keep], J[keep], count[keep], linked[keep], is_attr[keep]
        m_shared = np.floor(count / _MEMBERSHIP_UNIT)
        p_shared = count - m_shared * _MEMBERSHIP_UNIT
        if R_hub is not None:
            touch = np.flatnonzero((hub_count[I] > 0) & (hub_count[J] > 0))
            if len(touch):
                extra = pair_sums(R_hub, I[touch], J[touch])
                em = np.floor(extra / _MEMBERSHIP_UNIT)
                m_shared[touch] += em
                p_shared[touch] += extra - em * _MEMBERSHIP_UNIT
        # Partners include membership targets: p_shared counts the organizations tied to both.
        if w["partner_jaccard"] > 0:
            # A sector pair enters on its other signals only if it shares no partner at all.
            ok = (is_attr & (p_shared == 0)) | (p_shared >= max(min_shared, 1))
        else:
            ok = is_attr | ((m_shared * use_mem + p_shared * use_par) >= 1)
        block = _score_pairs(S, w, I[ok], J[ok], linked[ok],
                             m_shared[ok] if use_mem else None, p_shared[ok] if use_par else None,
                             m_size, p_size, s_size, region, mandates, min_score)
        if block is not None:
            found.append(block)
    if not found:
        return _empty(columns)
    res = {k: np.concatenate([f[k] for f in found]) for k in found[0]}
    order = lexsort((res["J"], res["I"], -res["score"]))
    if top is not None:
        order = order[:top]
    res = {k: v[order] for k, v in res.items()}
    return _overlap_frame(S, res, lang)


def _attribute_candidates(S: Snapshot, w: dict, min_score: float, m_size, p_size,
                          block_cap: int, block_sample: int, seed: int) -> sp.csr_array:
    """Upper-triangular 0/1 matrix of the sector-sharing pairs worth a look without any shared
    membership or partner: only between organizations whose relational signals, which
    would all be 0, still let the non-relational ones reach ``min_score``."""
    n = S.n
    rest = w["sector_jaccard"] + w["same_region"] + w["mandate_similarity"]
    if rest <= 0:
        return sp.csr_array((n, n))
    flags = (m_size > 0).astype(np.int64) + 2 * (p_size > 0)
    rel = {0: 0.0, 1: w["membership_jaccard"], 2: w["partner_jaccard"],
           3: w["membership_jaccard"] + w["partner_jaccard"]}
    # The best such a pair can do: every non-relational signal at 1.
    allowed = [o for o in range(4) if rest / (rest + rel[o]) >= min_score]
    maximal = [o for o in allowed if not any(p != o and (p | o) == p for p in allowed)]
    I_parts, J_parts = [], []
    types = np.zeros(n, dtype=np.int64)
    codes: dict = {}
    for i, t in enumerate(S.types):
        types[i] = codes.setdefault(t, len(codes))
    for o in maximal:
        eligible = (flags | o) == o
        i, j = block_pairs([S.sectors], eligible, types, block_cap=block_cap,
                           block_sample=block_sample, seed=seed)
        I_parts.append(i)
        J_parts.append(j)
    if not I_parts:
        return sp.csr_array((n, n))
    I = np.concatenate(I_parts)
    J = np.concatenate(J_parts)
    lo, hi = np.minimum(I, J), np.maximum(I, J)
    keep = lo != hi
    P = sp.csr_array((np.ones(int(keep.sum())), (lo[keep], hi[keep])), shape=(n, n))
    P.sum_duplicates()
    P.data[:] = 1.0
    return P


def _score_pairs(S: Snapshot, w: dict, I, J, linked, m_inter, p_inter, m_size, p_size, s_size,
                 region, mandates, min_score: float) -> dict | None:
    """Exact signals and score of candidate pairs; only those reaching ``min_score``.

    ``m_inter`` and ``p_inter`` are the exact shared memberships and partners, or None when
    that signal weighs nothing: then it is counted for the pairs kept only."""
    if not len(I):
        return None
    late = [m_inter is None, p_inter is None]
    m_inter = np.zeros(len(I)) if m_inter is None else m_inter
    p_inter = np.zeros(len(I)) if p_inter is None else p_inter
    s_inter = S.sectors.shared(I, J).astype(np.float64)
    m_union = m_size[I] + m_size[J] - m_inter
    p_union = p_size[I] + p_size[J] - 2.0 * linked - p_inter
    s_union = s_size[I] + s_size[J] - s_inter
    with np.errstate(invalid="ignore", divide="ignore"):
        # 0 when neither has any, as networkx's jaccard_coefficient; the signal then does
        # not count in the score.
        mj = np.where(m_union > 0, m_inter / m_union, 0.0)
        pj = np.where(p_union > 0, p_inter / p_union, 0.0)
        sj = np.where(s_union > 0, s_inter / s_union, 0.0)
    has_region = (region[I] >= 0) & (region[J] >= 0)
    same = has_region & (region[I] == region[J])
    has_mandate = mandates.has[I] & mandates.has[J]
    num = np.zeros(len(I))
    den = np.zeros(len(I))
    for key, x, applies in (("membership_jaccard", mj, m_union > 0),
                            ("partner_jaccard", pj, p_union > 0),
                            ("sector_jaccard", sj, s_union > 0),
                            ("same_region", same.astype(np.float64), has_region)):
        num += w[key] * np.where(applies, np.nan_to_num(x), 0.0)
        den += w[key] * applies
    wt = w["mandate_similarity"]
    den_all = den + wt * has_mandate
    with np.errstate(invalid="ignore", divide="ignore"):
        best = np.where(den_all > 0, (num + wt * has_mandate) / den_all, 0.0)
    # Identical mandates are the most a pair can still gain: below min_score even then, it
    # is out before its mandate is compared.
    keep = np.flatnonzero((best >= min_score - 1e-12) & (den_all > 0))
    if not len(keep):
        return None
    I, J = I[keep], J[keep]
    cos = np.full(len(keep), np.nan)
    hm = has_mandate[keep]
    if hm.any():
        cos[hm] = mandates.cosine(I[hm], J[hm])
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den_all[keep] > 0,
                         (num[keep] + wt * np.nan_to_num(cos)) / den_all[keep], 0.0)
    ok = score >= min_score - 1e-12
    if not ok.any():
        return None
    sel = keep[ok]
    if late[0] or late[1]:
        # Signals of weight 0: exact values of the reported pairs, for display.
        Ik, Jk = I[ok], J[ok]
        if late[0]:
            m_inter[sel] = S.members.shared(Ik, Jk)
            m_union[sel] = m_size[Ik] + m_size[Jk] - m_inter[sel]
        if late[1]:
            p_inter[sel] = pair_sums(S.A, Ik, Jk)
            p_union[sel] = p_size[Ik] + p_size[Jk] - 2.0 * linked[sel] - p_inter[sel]
        with np.errstate(invalid="ignore", divide="ignore"):
            mj[sel] = np.where(m_union[sel] > 0, m_inter[sel] / m_union[sel], 0.0)
            pj[sel] = np.where(p_union[sel] > 0, p_inter[sel] / p_union[sel], 0.0)
    return {
        "I": I[ok], "J": J[ok], "score": np.clip(score[ok], 0.0, 1.0),
        "mj": mj[sel], "pj": pj[sel], "sj": sj[sel], "same": same[sel], "cos": cos[ok],
        "m_inter": m_inter[sel], "m_union": m_union[sel], "p_inter": p_inter[sel],
        "p_union": p_union[sel], "s_inter": s_inter[sel], "s_union": s_union[sel],
    }


def _pairs_matrix(X: sp.csr_array, I: np.ndarray, J: np.ndarray) -> sp.csr_array:
    """``X[I] * X[J]`` (elementwise, one row per pair), gathered block by block."""
    parts = [M for _, M in pair_products(X, I, J)]
    return sp.vstack(parts, format="csr") if parts else sp.csr_array((0, X.shape[1]))


def _common_names(M: sp.csr_array, names: np.ndarray, rank: np.ndarray,
                  by_rank: np.ndarray) -> list[list[str]]:
    """For each row of ``M`` (a pair), the names of its columns in alphabetical order:
    columns are renumbered by their rank, sorted row by row in C, and numbered back."""
    R = M.tocsr(copy=True)
    R.indices = rank[R.indices].astype(R.indices.dtype)
    R.has_sorted_indices = False
    R.sort_indices()
    found = names[by_rank[R.indices]].tolist()
    ptr = R.indptr.tolist()
    return [found[a:b] for a, b in zip(ptr, ptr[1:])]


def _overlap_frame(S: Snapshot, res: dict, lang: str) -> pd.DataFrame:
    I, J = res["I"], res["J"]
    shown = np.unique(np.concatenate([I, J]))
    names = np.empty(S.n, dtype=object)
    need = np.zeros(S.n, dtype=bool)
    need[shown] = True
    mem_pairs = _pairs_matrix(S.members.X, I, J)
    par_pairs = _pairs_matrix(S.A, I, J)
    need[mem_pairs.indices] = True
    need[par_pairs.indices] = True
    needed = np.flatnonzero(need)
    for i in needed:
        names[i] = S.name(int(i))
    by_rank = needed[np.argsort([fold(names[i]) for i in needed], kind="stable")]
    rank = np.zeros(S.n, dtype=np.int64)
    rank[by_rank] = np.arange(len(by_rank))
    shared_mem = _common_names(mem_pairs, names, rank, by_rank)
    shared_par = _common_names(par_pairs, names, rank, by_rank)
    shared_sec = S.sectors.common_rows(I, J)
    regions = [S.attr(int(i), "region") for i in I]
    df = pd.DataFrame({
        "a": [S.nodes[i] for i in I],
        "b": [S.nodes[j] for j in J],
        "a_name": names[I].tolist(),
        "b_name": names[J].tolist(),
        "a_type": [S.types[i] for i in I],
        "b_type": [S.types[j] for j in J],
        "score": res["score"],
        "membership_jaccard": res["mj"],
        "partner_jaccard": res["pj"],
        "sector_jaccard": res["sj"],
        "same_region": res["same"].astype(bool),
        "mandate_similarity": res["cos"],
        "shared_memberships": shared_mem,
        "shared_partners": res["p_inter"].astype(np.int64),
        "shared_partner_names": shared_par,
        "shared_sectors": shared_sec,
    })
    df["reasons"] = [
        _overlap_reason(lang, res, k, shared_mem[k], shared_par[k], shared_sec[k], regions[k])
        for k in range(len(I))
    ]
    return df


def _mandate_words(cos: float, lang: str) -> str:
    if lang == "en":
        word = "near-identical" if cos >= 0.9 else "very similar" if cos >= 0.7 else "similar"
        return f"{word} mandates ({number(cos, lang)})"
    word = "presque identiques" if cos >= 0.9 else "très semblables" if cos >= 0.7 else "semblables"
    return f"des mandats {word} ({number(cos, lang)})"


def _overlap_reason(lang: str, res: dict, k: int, mem: list, par: list, sec: list, region) -> str:
    """"Share 4 of their 5 memberships (...), 80% of their partners (...), ..."."""
    en = lang == "en"
    parts = []
    mi, mu = int(res["m_inter"][k]), int(res["m_union"][k])
    if mi:
        names = name_list(mem, mi, lang)
        if mi == mu == 1:
            parts.append(f"their one membership ({names})" if en else
                         f"leur unique adhésion ({names})")
        elif mi == mu:
            parts.append(f"all their {mu} memberships ({names})" if en else
                         f"toutes leurs {mu} adhésions ({names})")
        else:
            parts.append(f"{mi} of their {mu} memberships ({names})" if en else
                         f"{mi} de leurs {mu} adhésions ({names})")
    pi, pu = int(res["p_inter"][k]), int(res["p_union"][k])
    if pi:
        names = name_list(par, pi, lang)
        if pi == pu == 1:
            parts.append(f"their one partner ({names})" if en else
                         f"leur unique partenaire ({names})")
        elif pi == pu:
            parts.append(f"all their {pu} partners ({names})" if en else
                         f"tous leurs {pu} partenaires ({names})")
        else:
            share = percent(pi / pu, lang)
            parts.append(f"{share} of their partners ({names})" if en else
                         f"{share} de leurs partenaires ({names})")
    if sec:
        s = join(sec, lang)
        si, su = int(res["s_inter"][k]), int(res["s_union"][k])
        if si == su:
            parts.append((f"the same sector ({s})" if si == 1 else f"the same sectors ({s})") if en
                         else (f"le même secteur ({s})" if si == 1 else f"les mêmes secteurs ({s})"))
        else:
            parts.append(f"{si} of their {su} sectors ({s})" if en else
                         f"{si} de leurs {su} secteurs ({s})")
    if res["same"][k]:
        parts.append(f"the same region ({region})" if en else f"la même région ({region})")
    cos = res["cos"][k]
    if cos == cos and cos >= 0.3:
        parts.append(_mandate_words(float(cos), lang))
    if not parts:
        return ""
    lead = "share " if en else "partagent "
    return sentence([lead + join(parts, lang)], lang)


# --------------------------------------------------------------------------- duplicates


def find_duplicate_structures(
    G: nx.Graph,
    min_score: float = 0.6,
    *,
    lang: str = "en",
    types: Iterable[str] = ("structure", "association", "workforce_committee"),
    member_weight: float = 0.6,
    top: int | None = None,
) -> pd.DataFrame:
    """Return groups of structures whose members and mandates are near-identical: merge candidates.

    The *members* of a body (a node of one of ``types``) are the organizations with a
    ``MEMBER_OF`` or ``PARTICIPATES_IN`` relationship to it. Two bodies are scored

    ``score = member_weight * member_jaccard + (1 - member_weight) * mandate_similarity``

    (TF-IDF cosine of the mandates, as in :func:`find_overlaps`); when one of the two has no
    mandate, the member Jaccard index alone, and when neither has members, the mandates alone.
    Pairs scoring at least ``min_score`` are joined into groups (connected components): three
    working groups that copy each other are one group, not three pairs. Candidates are exact:
    every pair sharing a member (a sparse product), and, between bodies without members, the
    pairs whose mandates reach ``min_score`` (a thresholded sparse product of TF-IDF rows);
    no other pair can reach ``min_score`` when ``member_weight >= 1 - min_score``.

    Parameters
    ----------
    G : networkx graph
    min_score : float, default 0.6
        Least score of a pair that joins two bodies into a group.
    lang : {"en", "fr"}
        Language of ``reasons``.
    types : iterable of str
        Node types compared.
    member_weight : float in [0, 1]
        Weight of the member Jaccard index against the mandates.
    top : int, optional
        Keep the ``top`` best groups only.

    Returns
    -------
    pandas.DataFrame
        One row per group, best first: ``group`` (``"G1"``, ``"G2"``...), ``members`` (the
        bodies' ids, by name), ``member_names``, ``types``, ``size``, ``shared_members``
        (how many members every body of the group has) and ``shared_member_names``,
        ``member_jaccard`` (the lowest Jaccard index of members between two bodies of the
        group), ``mandate_similarity`` (the lowest cosine among pairs that both have a
        mandate; NaN when no pair has), ``score`` (mean score of the pairs that joined the
        group), ``clusters`` (of the group's bodies) and ``reasons``.

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("wg1", name="Talent group", type="structure", mandate="Attract engineering talent")
    >>> G.add_node("wg2", name="Talent committee", type="structure",
    ...            mandate="Attract engineering talent to the region")
    >>> for m in ("x", "y", "z"):
    ...     G.add_node(m, name=m.upper(), type="company")
    ...     _ = G.add_edge(m, "wg1", type="MEMBER_OF"); _ = G.add_edge(m, "wg2", type="PARTICIPATES_IN")
    >>> row = find_duplicate_structures(G).iloc[0]
    >>> print(row.group, row.members, row.shared_members, row.member_jaccard)
    G1 ['wg2', 'wg1'] 3 1.0
    >>> print(row.reasons)
    Talent committee and Talent group share all their 3 members (X, Y and Z) and have very similar mandates (0.81): candidates for a merger.
    >>> print(find_duplicate_structures(G, lang="fr").loc[0, "reasons"])
    Talent committee et Talent group ont en commun tous leurs 3 membres (X, Y et Z) et des mandats très semblables (0,81) : candidats à une fusion.
    """
    check_lang(lang)
    if not 0 <= member_weight <= 1:
        raise InputError(f"member_weight must be between 0 and 1, not {member_weight!r}.")
    types = set(types)
    S = snapshot_matrices(G)
    bodies = np.asarray([i for i in range(S.n) if S.types[i] in types], dtype=np.int64)
    if len(bodies) < 2:
        return _empty(_GROUP_COLUMNS)
    k = len(bodies)
    # Body x member incidence: the MEMBER_OF / PARTICIPATES_IN edges pointing at each body.
    B = S.members.X.T.tocsr()[bodies].tocsr()
    size = np.diff(B.indptr).astype(np.float64)
    mandates = _Mandates(S)
    has = mandates.has[bodies]
    wm, wt = member_weight, 1.0 - member_weight

    def reachable(I, J, inter):
        """The pairs that could reach ``min_score`` with identical mandates (no pair scores
        more), with their Jaccard index: the mandates of the others need no comparing."""
        union = size[I] + size[J] - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            jac = np.where(union > 0, inter / union, 0.0)
        both = has[I] & has[J]
        members_apply = union > 0
        num = wm * jac * members_apply + wt * both
        den = wm * members_apply + wt * both
        with np.errstate(invalid="ignore", divide="ignore"):
            best = np.where(den > 0, num / den, 0.0)
        ok = best >= min_score - 1e-12
        return I[ok], J[ok], inter[ok]

    # Every pair sharing a member, with the count of shared members read off the product.
    parts = []
    BT = B.T.tocsr()
    cost = B @ np.diff(BT.indptr).astype(np.float64) + 1
    for a0, b0 in blocks(cost, _BLOCK_PAIRS):
        C = (B[a0:b0] @ BT).tocoo()
        i = C.row + a0
        up = C.col > i
        parts.append(reachable(i[up].astype(np.int64), C.col[up].astype(np.int64), C.data[up]))
    # Bodies without members can only be duplicates by their mandates.
    memberless = np.flatnonzero((size == 0) & has)
    X = mandates.X
    if len(memberless) > 1 and X is not None and wt > 0:
        T = X[bodies[memberless]]
        TT = T.T.tocsr()
        cost = T @ np.diff(TT.indptr).astype(np.float64) + 1
        for a0, b0 in blocks(cost, _BLOCK_PAIRS):
            C = (T[a0:b0] @ TT).tocoo()
            i = C.row + a0
            ok = (C.col > i) & (C.data >= min_score - 1e-12)
            parts.append((memberless[i[ok]], memberless[C.col[ok]], np.zeros(int(ok.sum()))))
    I = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    J = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int64)
    if not len(I):
        return _empty(_GROUP_COLUMNS)
    inter = np.concatenate([p[2] for p in parts])
    union = size[I] + size[J] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = np.where(union > 0, inter / union, 0.0)
    both = has[I] & has[J]
    cos = np.full(len(I), np.nan)
    if both.any():
        cos[both] = mandates.cosine(bodies[I[both]], bodies[J[both]])
    members_apply = union > 0
    num = wm * jac * members_apply + wt * np.nan_to_num(cos) * both
    den = wm * members_apply + wt * both
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / den, 0.0)
    ok = score >= min_score - 1e-12
    I, J, score = I[ok], J[ok], score[ok]
    if not len(I):
        return _empty(_GROUP_COLUMNS)
    P = sp.csr_array((np.ones(len(I)), (I, J)), shape=(k, k))
    _, label = csgraph.connected_components(P, directed=False)
    in_pair = np.zeros(k, dtype=bool)
    in_pair[I] = in_pair[J] = True
    groups = []
    for lab in np.unique(label[in_pair]):
        local = np.flatnonzero(label == lab)
        groups.append(_group_row(S, B, bodies, local, score[label[I] == lab], mandates, lang))
    groups.sort(key=lambda r: (-r["score"], str(r["members"][0])))
    if top is not None:
        groups = groups[:top]
    for g, row in enumerate(groups, 1):
        row["group"] = f"G{g}"
    return pd.DataFrame(groups, columns=_GROUP_COLUMNS)


def _group_row(S: Snapshot, B: sp.csr_array, bodies: np.ndarray, local: np.ndarray,
               pair_scores: np.ndarray, mandates: _Mandates, lang: str) -> dict:
    names = [S.name(int(bodies[x])) for x in local]
    order = sorted(range(len(local)), key=lambda x: (fold(names[x]), str(S.nodes[bodies[local[x]]])))
    local = local[order]
    names = [names[x] for x in order]
    ids = [S.nodes[bodies[x]] for x in local]
    Bg = B[local]
    inter = (Bg @ Bg.T).toarray()
    size = np.diff(Bg.indptr).astype(np.float64)
    union = size[:, None] + size[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = np.where(union > 0, inter / union, 0.0)
    iu = np.triu_indices(len(local), 1)
    has = mandates.has[bodies[local]]
    cos = []
    if mandates.X is not None and has.sum() >= 2:
        T = mandates.X[bodies[local]]
        C = (T @ T.T).toarray()
        cos = [C[a, b] for a, b in zip(*iu) if has[a] and has[b]]
    common = np.flatnonzero(np.asarray((Bg != 0).sum(axis=0)).ravel() == len(local))
    common_names = sorted((S.name(int(c)) for c in common), key=fold)
    clusters = sorted({c for x in local for c in _node_clusters(S, int(bodies[x]))}, key=fold)
    row = {
        "members": ids,
        "member_names": names,
        "types": [S.types[bodies[x]] for x in local],
        "size": len(local),
        "shared_members": len(common),
        "shared_member_names": common_names,
        "member_jaccard": float(jac[iu].min()),
        "mandate_similarity": float(min(1.0, max(0.0, min(cos)))) if cos else math.nan,
        "score": float(pair_scores.mean()),
        "clusters": clusters,
        "union": int(np.count_nonzero(np.asarray((Bg != 0).sum(axis=0)).ravel())),
    }
    row["reasons"] = _duplicate_reason(row, lang)
    del row["union"]
    return row


def _node_clusters(S: Snapshot, i: int) -> list[str]:
    X = S.clusters.X
    return [S.clusters.labels[t] for t in X.indices[X.indptr[i]:X.indptr[i + 1]]]


def _duplicate_reason(row: dict, lang: str) -> str:
    en = lang == "en"
    who = join(row["member_names"], lang)
    shared, union = row["shared_members"], row["union"]
    parts = []
    if shared:
        names = name_list(row["shared_member_names"], shared, lang)
        if shared == union == 1:
            parts.append(f"share their one member ({names})" if en else
                         f"ont en commun leur unique membre ({names})")
        elif shared == union:
            parts.append(f"share all their {shared} members ({names})" if en else
                         f"ont en commun tous leurs {shared} membres ({names})")
        else:
            parts.append(f"share {shared} of their {union} members ({names})" if en else
                         f"ont en commun {shared} de leurs {union} membres ({names})")
    cos = row["mandate_similarity"]
    if cos == cos and cos >= 0.3:
        words = _mandate_words(cos, lang)
        parts.append(f"have {words}" if en or not parts else words)
    if not parts:
        parts.append("have near-identical members" if en else "ont des membres presque identiques")
    tail = ": candidates for a merger" if en else " : candidats à une fusion"
    return sentence([f"{who} {join(parts, lang)}{tail}"], lang, capitalize=False)


# --------------------------------------------------------------------------- records


def duplicate_records(G: nx.Graph, *, threshold: float = 90.0) -> pd.DataFrame:
    """Return probable duplicate records of one organization under variant names.

    The loaders' report (:func:`maillage.names.find_duplicate_records`), run on the graph's
    organizations as ``(id, name, type)``: names folded for case, accents, punctuation,
    legal suffixes and common abbreviations, then compared with rapidfuzz inside blocks.

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

    items = [(v, str(d["name"]), d.get("type")) for v, d in G.nodes(data=True)
             if d.get("type") != "cluster" and d.get("name")]
    return find_duplicate_records(items, threshold=threshold)
