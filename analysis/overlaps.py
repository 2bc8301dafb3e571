"""Overlapping organizations and duplicated structures: who does the same thing twice.

Both analyses compare sets exactly with sparse incidence matrices: for a 0/1 matrix ``X``
(rows = organizations, columns = what they belong to), ``X @ X.T`` holds every pair's
intersection, and ``|A ∪ B| = |A| + |B| − |A ∩ B|`` gives the Jaccard index, without ever
enumerating all pairs. Mandates are compared by TF-IDF cosine, with accents and case folded
and French and English stop words removed. Duplicate *records* (one organization entered
twice under variant names) are the loaders' report, reused: :func:`duplicate_records`.
"""

from __future__ import annotations

import functools
import itertools
import math
import unicodedata
import weakref
from collections.abc import Iterable, Mapping
from itertools import repeat

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
from analysis._network import paused_gc
from analysis._wording import check_lang, join, name_list, number, sentence
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
    return list(_folded_stop_words())


@functools.cache
def _folded_stop_words() -> tuple[str, ...]:
    # Folding a thousand words took longer than tokenizing a few thousand mandates: once.
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    v = _vectorizer()
    prep, tok = v.build_preprocessor(), v.build_tokenizer()
    return tuple(sorted({t for w in ENGLISH_STOP_WORDS | FRENCH_STOP_WORDS for t in tok(prep(w))}))


#: Bytes of folded text to their role in tokens: word characters (``\w`` in ASCII) stay,
#: the NUL between two texts becomes a one-byte token of its own, the rest is space.
_WORD_BYTES = bytes(c if chr(c).isascii() and (chr(c).isalnum() or c == ord("_"))
                    else 1 if c == 0 else ord(" ") for c in range(256))


def _word_counts(texts: list[str]) -> sp.csr_array | None:
    """``CountVectorizer(preprocessor=_fold_text, stop_words=_stop_words()).fit_transform``
    of ``texts``, exactly, without a Python step per document; None when no word is left.

    Folding works character by character (see :func:`_fold_all`), so all texts are folded
    at once, then split into scikit-learn's tokens (runs of two or more word characters:
    after folding, ASCII ones). Like scikit-learn, each row lists its words in order of
    first appearance in the corpus (which sets the sums of the normalisation), numbered in
    alphabetical order."""
    joined = " \0 ".join(texts)
    if joined.count("\0") != len(texts) - 1:
        from sklearn.feature_extraction.text import CountVectorizer

        counter = CountVectorizer(preprocessor=_fold_text, stop_words=_stop_words(), dtype=np.float64)
        try:
            return sp.csr_array(counter.fit_transform(texts))
        except ValueError:  # nothing but stop words
            return None
    tokens = _fold_text(joined).encode("ascii").translate(_WORD_BYTES).split()
    first: dict[bytes, int] = {}
    at = np.fromiter(map(first.setdefault, tokens, itertools.count()), np.int64, len(tokens))
    words = list(first)  # in order of first appearance
    code = np.searchsorted(np.fromiter(first.values(), np.int64, len(words)), at)
    stop = _stop_bytes()
    kept = np.fromiter((len(t) > 1 and t not in stop for t in words), bool, len(words))
    if not kept.any():
        return None
    doc = np.cumsum(at == first.get(b"\x01", -1))  # separators met before each token
    keep = kept[code]
    # (document, word) pairs in order of document, then of first appearance, with counts.
    key, count = np.unique(doc[keep] * len(words) + code[keep], return_counts=True)
    row, col = np.divmod(key, len(words))
    kept_codes = np.flatnonzero(kept)
    alphabetical = np.empty(len(words), dtype=np.int64)
    alphabetical[sorted(kept_codes.tolist(), key=words.__getitem__)] = np.arange(len(kept_codes))
    indptr = np.concatenate(([0], np.cumsum(np.bincount(row, minlength=len(texts)))))
    return sp.csr_array((count.astype(np.float64), alphabetical[col], indptr),
                        shape=(len(texts), len(kept_codes)))


@functools.cache
def _stop_bytes() -> frozenset[bytes]:
    """:func:`_stop_words` as the bytes :func:`_word_counts` compares."""
    return frozenset(w.encode("ascii") for w in _folded_stop_words())


def _tfidf(texts: list[str]) -> sp.csr_array | None:
    """L2-normalised TF-IDF rows of ``texts`` (None when no text has a word left): exactly
    ``_vectorizer(_stop_words()).fit_transform(texts)``, counted by :func:`_word_counts`."""
    if not any(t.strip() for t in texts):
        return None
    from sklearn.feature_extraction.text import TfidfTransformer

    counts = _word_counts(texts)
    if counts is None:
        return None
    return sp.csr_array(TfidfTransformer(sublinear_tf=True).fit_transform(counts))


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


#: The TF-IDF of each graph's mandates and the texts it was fitted on (weakly held: it goes
#: with its graph). Reading the texts again to see that they are the same costs far less
#: than fitting (1 ms against 36 ms at 10,000 organizations).
_TFIDF: "weakref.WeakKeyDictionary[nx.Graph, tuple]" = weakref.WeakKeyDictionary()


class _Mandates:
    """TF-IDF of every mandate of a snapshot, fitted on demand (once per graph while its
    mandates stay the same)."""

    def __init__(self, S: Snapshot) -> None:
        texts = _node_values(S, "mandate")
        self.G = S.G
        self.texts = ["" if t is None or t != t else str(t) for t in texts]
        self.has = np.fromiter((bool(t.strip()) for t in self.texts), bool, S.n)
        self._X: sp.csr_array | None | bool = False

    @property
    def X(self) -> sp.csr_array | None:
        if self._X is False:
            try:
                texts, X = _TFIDF.get(self.G, (None, None))
            except TypeError:  # a graph class that cannot be weakly referenced
                texts, X = None, None
            if texts != self.texts:
                X = _tfidf(self.texts)
                if X is not None:
                    for arr in (X.data, X.indices, X.indptr):
                        arr.flags.writeable = False  # shared by later calls
                try:
                    _TFIDF[self.G] = (self.texts, X)
                except TypeError:
                    pass
            self._X = X
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


def _node_values(S: Snapshot, key: str) -> list:
    """``[S.attr(i, key) for i in range(S.n)]``, in one pass over the graph's nodes."""
    values = dict(S.G.nodes(data=key))
    return [values[v] for v in S.nodes]


def _region_codes(regions: list) -> np.ndarray:
    """One code per distinct folded region (-1 for none)."""
    codes: dict[str, int] = {}
    folded: dict[str, int] = {}  # a few regions for thousands of organizations: fold each once
    out = np.full(len(regions), -1, dtype=np.int64)
    for i, r in enumerate(regions):
        if r is None or r != r:
            continue
        text = str(r)
        c = folded.get(text)
        if c is None:
            c = folded[text] = codes.setdefault(fold(text), len(codes)) if text.strip() else -1
        out[i] = c
    return out


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


# --------------------------------------------------------------------------- overlaps


@paused_gc
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
    regions = _node_values(S, "region")
    region = _region_codes(regions)
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
    if R_hub is not None:
        # Hubs of each row among its memberships and among its partners.
        is_mem = (np.flatnonzero(hub) >= n)[R_hub.indices]
        row_of = np.repeat(np.arange(n), hub_count)
        hub_m = np.bincount(row_of[is_mem], minlength=n).astype(np.float64)
        hub_p = hub_count - hub_m

    attr = _attribute_candidates(S, w, min_score, m_size, p_size, block_cap, block_sample, seed)

    # Whether the two of a pair are linked matters to their partner index only: marked in
    # the product when partners weigh, else looked up for the pairs kept.
    mark_links = w["partner_jaccard"] > 0
    found: list[dict] = []
    col_df = np.diff(RT.indptr).astype(np.float64)
    pattern = R_mid.copy()
    pattern.data[:] = 1.0  # membership columns carry 2**13: count them once for the cost
    cost = pattern @ col_df + np.diff(attr.indptr) + 1
    del pattern
    for a0, b0 in blocks(cost, _BLOCK_PAIRS):
        rows = np.arange(a0, b0)
        U = R_mid[rows] @ RT
        if mark_links:
            U = U + A[rows] * _LINK_MARK
        if attr.nnz:
            U = U + attr[rows] * _ATTR_MARK
        U = U.tocoo()
        I = rows[U.row]
        J = U.col.astype(np.int64)
        v = U.data
        upper = J > I
        I, J, v = I[upper], J[upper], v[upper]
        if mark_links or attr.nnz:
            count = np.floor(v)
            frac = v - count
            linked = frac >= _LINK_MARK
            is_attr = (frac - _LINK_MARK * linked) >= _ATTR_MARK
            keep = (count > 0) | is_attr
            I, J, count, linked, is_attr = I[keep], J[keep], count[keep], linked[keep], is_attr[keep]
        else:  # whole counts only, all positive
            count, linked, is_attr = v, None, np.zeros(len(I), dtype=bool)
        if not mark_links:
            linked = None
        m_shared = np.floor(count / _MEMBERSHIP_UNIT)
        p_shared = count - m_shared * _MEMBERSHIP_UNIT
        if R_hub is not None:
            touch = np.flatnonzero((hub_count[I] > 0) & (hub_count[J] > 0))
            if len(touch) and min_score > 0:
                # Shared hubs are counted only for pairs that could reach min_score if they
                # shared every hub the one with fewer holds (the others are out either way):
                # at a million organizations nearly every pair touches a hub.
                It, Jt = I[touch], J[touch]
                _, _, _, den_t, best_t = _best_scores(
                    S, w, It, Jt, None if linked is None else linked[touch],
                    (m_shared[touch] + np.minimum(hub_m[It], hub_m[Jt])) if use_mem else None,
                    (p_shared[touch] + np.minimum(hub_p[It], hub_p[Jt])) if use_par else None,
                    m_size, p_size, s_size, region, mandates)
                touch = touch[(best_t >= min_score - 1e-12) & (den_t > 0)]
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
        block = _score_pairs(S, w, I[ok], J[ok], None if linked is None else linked[ok],
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
    return _overlap_frame(S, res, lang, regions)


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


_SIGNALS = ("membership_jaccard", "partner_jaccard", "sector_jaccard", "same_region")


def _score_pairs(S: Snapshot, w: dict, I, J, linked, m_inter, p_inter, m_size, p_size, s_size,
                 region, mandates, min_score: float) -> dict | None:
    """Exact signals and score of candidate pairs; only those reaching ``min_score``.

    ``m_inter`` and ``p_inter`` are the exact shared memberships and partners, or None when
    that signal weighs nothing, and ``linked`` whether the two are linked (None: look it up).
    A signal of weight 0 adds nothing to a score: it is computed for the pairs kept only,
    for display."""
    if not len(I):
        return None
    signal, found, num, den_all, best = _best_scores(S, w, I, J, linked, m_inter, p_inter, m_size,
                                                     p_size, s_size, region, mandates)
    wt = w["mandate_similarity"]
    # Identical mandates are the most a pair can still gain: below min_score even then, it
    # is out before its mandate is compared.
    keep = np.flatnonzero((best >= min_score - 1e-12) & (den_all > 0))
    if not len(keep):
        return None
    Ik, Jk = I[keep], J[keep]
    cos = np.full(len(keep), np.nan)
    hm = mandates.has[Ik] & mandates.has[Jk]
    if hm.any():
        cos[hm] = mandates.cosine(Ik[hm], Jk[hm])
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den_all[keep] > 0,
                         (num[keep] + wt * np.nan_to_num(cos)) / den_all[keep], 0.0)
    ok = score >= min_score - 1e-12
    if not ok.any():
        return None
    sel = keep[ok]
    shown = {key: tuple(v if v is None else v[sel] for v in found[key]) if key in found
             else signal(key, sel) for key in _SIGNALS}
    (mj, _, m_in, m_un), (pj, _, p_in, p_un), (sj, _, s_in, s_un), (same, _, _, _) = (
        shown[key] for key in _SIGNALS)
    return {
        "I": I[sel], "J": J[sel], "score": np.clip(score[ok], 0.0, 1.0),
        "mj": mj, "pj": pj, "sj": sj, "same": same, "cos": cos[ok],
        "m_inter": m_in, "m_union": m_un, "p_inter": p_in, "p_union": p_un,
        "s_inter": s_in, "s_union": s_un,
    }


def _best_scores(S: Snapshot, w: dict, I, J, linked, m_inter, p_inter, m_size, p_size, s_size,
                 region, mandates) -> tuple:
    """``(signal, found, num, den_all, best)`` of :func:`_score_pairs`: ``best`` is each
    pair's score if its mandates were identical, the most it can reach. Each Jaccard index
    grows with the shared count given, so counts that may be too high give bounds."""

    def signal(key: str, at) -> tuple:
        """``(index, applies, shared, union)`` of one signal for the pairs ``at``."""
        Ia, Ja = I[at], J[at]
        if key == "same_region":
            has = (region[Ia] >= 0) & (region[Ja] >= 0)
            return has & (region[Ia] == region[Ja]), has, None, None
        if key == "membership_jaccard":
            inter = S.members.shared(Ia, Ja).astype(np.float64) if m_inter is None else m_inter[at]
            union = m_size[Ia] + m_size[Ja] - inter
        elif key == "partner_jaccard":
            inter = pair_sums(S.A, Ia, Ja) if p_inter is None else p_inter[at]
            link = S.A[Ia, Ja] != 0 if linked is None else linked[at]
            union = p_size[Ia] + p_size[Ja] - 2.0 * link - inter
        else:
            inter = S.sectors.shared(Ia, Ja).astype(np.float64)
            union = s_size[Ia] + s_size[Ja] - inter
        with np.errstate(invalid="ignore", divide="ignore"):
            # 0 when neither has any, as networkx's jaccard_coefficient; the signal then does
            # not count in the score.
            index = np.where(union > 0, inter / union, 0.0)
        return index, union > 0, inter, union

    every = slice(None)
    found = {key: signal(key, every) for key in _SIGNALS if w[key] > 0}
    num = np.zeros(len(I))
    den = np.zeros(len(I))
    for key, (x, applies, _, _) in found.items():
        # x is 0 where the signal does not apply, and never NaN.
        num += w[key] * (x.astype(np.float64) if x.dtype == bool else x)
        den += w[key] * applies
    wt = w["mandate_similarity"]
    if wt > 0:
        has_mandate = mandates.has[I] & mandates.has[J]
        den_all = den + wt * has_mandate
        best_num = num + wt * has_mandate
    else:
        den_all, best_num = den, num
    with np.errstate(invalid="ignore", divide="ignore"):
        best = np.where(den_all > 0, best_num / den_all, 0.0)
    return signal, found, num, den_all, best


def _pairs_matrix(X: sp.csr_array, I: np.ndarray, J: np.ndarray) -> sp.csr_array:
    """``X[I] * X[J]`` (elementwise, one row per pair), gathered block by block."""
    parts = [M for _, M in pair_products(X, I, J)]
    return sp.vstack(parts, format="csr") if parts else sp.csr_array((0, X.shape[1]))


def _by_rank(M: sp.csr_array, rank: np.ndarray) -> sp.csr_array:
    """``M`` with its columns renumbered by ``rank`` and each row sorted (in C)."""
    R = M.tocsr(copy=True)
    R.indices = rank[R.indices].astype(R.indices.dtype)
    R.has_sorted_indices = False
    R.sort_indices()
    return R


def _row_lists(R: sp.csr_array, labels: np.ndarray) -> list[list]:
    """For each row of ``R``, the labels of its columns in stored order."""
    # One conversion to a Python list, then slices: a numpy call per row costs more.
    found = labels[R.indices].tolist()
    ptr = R.indptr.tolist()
    return [found[a:b] for a, b in zip(ptr, ptr[1:])]


def _fold_all(texts: list[str]) -> list[str]:
    """``[fold(t) for t in texts]``, normalised in one call: NFKD, the ASCII filter and case
    folding act character by character (a NUL between two texts keeps their combining marks
    apart), so one pass over the joined texts is the passes over each."""
    joined = "\0".join(texts)
    if joined.count("\0") != max(len(texts) - 1, 0):
        return [fold(t) for t in texts]
    s = unicodedata.normalize("NFKD", joined).encode("ascii", "ignore").decode("ascii").casefold()
    return [" ".join(p.split()) for p in s.split("\0")] if texts else []


def _join_columns(columns: list[list[str]], lang: str, lead: str = "", end: str = "") -> list[str]:
    """``[lead + join(items, lang) + end for items in zip(*columns)]`` (see
    :func:`analysis._wording.join`), written as f-strings: twice as fast as a call per row."""
    last = " and " if lang == "en" else " et "
    if len(columns) == 1:
        return [f"{lead}{a}{end}" for a in columns[0]]
    if len(columns) == 2:
        return [f"{lead}{a}{last}{b}{end}" for a, b in zip(*columns)]
    head = [", ".join(items) for items in zip(*columns[:-1])]
    return [f"{lead}{a}{last}{b}{end}" for a, b in zip(head, columns[-1])]


def _joined_rows(R: sp.csr_array, labels: np.ndarray, lang: str, *, shown: int | None = None,
                 total: np.ndarray | None = None) -> np.ndarray:
    """For each row of ``R``: :func:`~analysis._wording.join` of its labels (stored order),
    or with ``shown``, :func:`~analysis._wording.name_list` of them out of ``total``. The
    same text, formatted for all rows with as many labels at once rather than row by row."""
    P = R.shape[0]
    length = np.diff(R.indptr).astype(np.int64)
    width = int(length.max(initial=0)) if shown is None else shown
    items = np.empty((P, width + 1), dtype=object)
    pos = np.arange(R.nnz) - np.repeat(R.indptr[:-1], length)
    row = np.repeat(np.arange(P), length)
    keep = pos < width
    items[row[keep], pos[keep]] = labels[R.indices[keep]]
    count = np.minimum(length, width)
    if shown is not None:
        rest = np.asarray(total).astype(np.int64) - count
        more = np.flatnonzero(rest > 0)
        other = " other" if lang == "en" else " autre"
        items[more, count[more]] = [f"{r}{other}" + ("s" if r > 1 else "") for r in rest[more].tolist()]
        count[more] += 1
    out = np.full(P, "", dtype=object)
    for k in np.flatnonzero(np.bincount(count)).tolist():
        if k:
            rows = np.flatnonzero(count == k)
            out[rows] = _join_columns(items[rows, :k].T.tolist(), lang)
    return out


def _overlap_frame(S: Snapshot, res: dict, lang: str, regions: list) -> pd.DataFrame:
    I, J = res["I"], res["J"]
    shown = np.unique(np.concatenate([I, J]))
    need = np.zeros(S.n, dtype=bool)
    need[shown] = True
    mem_pairs = _pairs_matrix(S.members.X, I, J)
    par_pairs = _pairs_matrix(S.A, I, J)
    need[mem_pairs.indices] = True
    need[par_pairs.indices] = True
    needed = np.flatnonzero(need)
    name_of = _node_values(S, "name")
    names = np.empty(S.n, dtype=object)
    # S.name(i), read in one pass.
    names[needed] = [str(S.nodes[i]) if (x := name_of[i]) is None or x != x else str(x)
                     for i in needed.tolist()]
    by_rank = needed[np.argsort(_fold_all(names[needed].tolist()), kind="stable")]
    rank = np.zeros(S.n, dtype=np.int64)
    rank[by_rank] = np.arange(len(by_rank))
    ranked = names[by_rank]  # the names in alphabetical order, indexed by rank
    mem_pairs = _by_rank(mem_pairs, rank)
    par_pairs = _by_rank(par_pairs, rank)
    sec_pairs = _pairs_matrix(S.sectors.X, I, J)
    sec_pairs.sort_indices()
    sec_labels = np.asarray(S.sectors.labels, dtype=object)
    shared_sec = _row_lists(sec_pairs, sec_labels)
    nodes, types = S.nodes, S.types
    Il, Jl = I.tolist(), J.tolist()  # Python ints index lists faster than numpy ones
    df = pd.DataFrame({
        "a": [nodes[i] for i in Il],
        "b": [nodes[j] for j in Jl],
        "a_name": names[I].tolist(),
        "b_name": names[J].tolist(),
        "a_type": [types[i] for i in Il],
        "b_type": [types[j] for j in Jl],
        "score": res["score"],
        "membership_jaccard": res["mj"],
        "partner_jaccard": res["pj"],
        "sector_jaccard": res["sj"],
        "same_region": res["same"].astype(bool),
        "mandate_similarity": res["cos"],
        "shared_memberships": _row_lists(mem_pairs, ranked),
        "shared_partners": res["p_inter"].astype(np.int64),
        "shared_partner_names": _row_lists(par_pairs, ranked),
        "shared_sectors": shared_sec,
    })
    texts = {
        "memberships": _joined_rows(mem_pairs, ranked, lang, shown=3, total=res["m_inter"]),
        "partners": _joined_rows(par_pairs, ranked, lang, shown=3, total=res["p_inter"]),
        "sectors": _joined_rows(sec_pairs, sec_labels, lang),
        "has_sectors": np.diff(sec_pairs.indptr) > 0,
        "regions": regions,
    }
    df["reasons"] = _overlap_reasons(lang, res, texts)
    return df


def _mandate_words(cos: float, lang: str) -> str:
    if lang == "en":
        word = "near-identical" if cos >= 0.9 else "very similar" if cos >= 0.7 else "similar"
        return f"{word} mandates ({number(cos, lang)})"
    word = "presque identiques" if cos >= 0.9 else "très semblables" if cos >= 0.7 else "semblables"
    return f"des mandats {word} ({number(cos, lang)})"


#: Clauses of an overlap's reason, by language: for memberships, partners and sectors, the
#: cases "their one" (both counts 1), "all their" (as many shared as in all) and "some of",
#: of ``(i, u, names)``: the shared count (for partners, the share), the union, the names.
_CLAUSES = {
    "en": {
        "memberships": (lambda i, u, names: f"their one membership ({names})",
                        lambda i, u, names: f"all their {u} memberships ({names})",
                        lambda i, u, names: f"{i} of their {u} memberships ({names})"),
        "partners": (lambda i, u, names: f"their one partner ({names})",
                     lambda i, u, names: f"all their {u} partners ({names})",
                     lambda i, u, names: f"{i} of their partners ({names})"),
        "sectors": (lambda i, u, names: f"the same sector ({names})",
                    lambda i, u, names: f"the same sectors ({names})",
                    lambda i, u, names: f"{i} of their {u} sectors ({names})"),
        "region": "the same region ({})",
        "lead": "Share ",
    },
    "fr": {
        "memberships": (lambda i, u, names: f"leur unique adhésion ({names})",
                        lambda i, u, names: f"toutes leurs {u} adhésions ({names})",
                        lambda i, u, names: f"{i} de leurs {u} adhésions ({names})"),
        "partners": (lambda i, u, names: f"leur unique partenaire ({names})",
                     lambda i, u, names: f"tous leurs {u} partenaires ({names})",
                     lambda i, u, names: f"{i} de leurs partenaires ({names})"),
        "sectors": (lambda i, u, names: f"le même secteur ({names})",
                    lambda i, u, names: f"les mêmes secteurs ({names})",
                    lambda i, u, names: f"{i} de leurs {u} secteurs ({names})"),
        "region": "la même région ({})",
        "lead": "Partagent ",
    },
}


def _int_text(values: np.ndarray, suffix: str = "") -> np.ndarray:
    """``f"{int(v)}{suffix}"`` for each of ``values`` (counts: small and not negative), each
    distinct number written once."""
    values = np.asarray(values).astype(np.int64)
    words = np.empty(int(values.max(initial=0)) + 1, dtype=object)
    distinct = np.flatnonzero(np.bincount(values, minlength=len(words)))
    words[distinct] = [f"{v}{suffix}" for v in distinct.tolist()]
    return words[values]


def _counted_clauses(templates: tuple, present: np.ndarray, inter: np.ndarray,
                     union: np.ndarray, names: np.ndarray, first: np.ndarray | None = None
                     ) -> np.ndarray:
    """The clause of each pair where ``present`` (None elsewhere): ``templates[0]`` when
    ``inter == union == 1``, ``[1]`` when ``inter == union``, ``[2]`` otherwise, of
    ``first`` (else ``inter``), ``union`` and ``names`` (``first`` is given for the present
    pairs only)."""
    out = np.full(len(present), None, dtype=object)
    rows = np.flatnonzero(present)
    i, u = inter[rows].astype(np.int64), union[rows].astype(np.int64)
    case = np.where(i == u, np.where(u == 1, 0, 1), 2)
    fields = (_int_text(i) if first is None else first, _int_text(u), names[rows])
    for c, template in enumerate(templates):
        at = np.flatnonzero(case == c)
        if len(at):
            out[rows[at]] = list(map(template, *(f[at].tolist() for f in fields)))
    return out


def _overlap_reasons(lang: str, res: dict, texts: dict) -> list[str]:
    """"Share 4 of their 5 memberships (...), 80% of their partners (...), ..." for every pair.

    Each clause is written for all the pairs that have it at once, then the clauses of the
    pairs that have the same ones are joined by one format string."""
    words = _CLAUSES[lang]
    P = len(res["I"])
    clauses, present = [], []
    has = res["m_inter"].astype(np.int64) != 0
    clauses.append(_counted_clauses(words["memberships"], has, res["m_inter"], res["m_union"],
                                    texts["memberships"]))
    present.append(has)
    has = res["p_inter"].astype(np.int64) != 0
    rows = np.flatnonzero(has)
    pi, pu = res["p_inter"][rows].astype(np.int64), res["p_union"][rows].astype(np.int64)
    share = np.rint(100 * (pi / pu))  # percent(pi / pu): round() and rint() round half to even
    clauses.append(_counted_clauses(words["partners"], has, res["p_inter"], res["p_union"],
                                    texts["partners"], _int_text(share, "%" if lang == "en" else " %")))
    present.append(has)
    has = texts["has_sectors"]
    clauses.append(_counted_clauses(words["sectors"], has, res["s_inter"], res["s_union"],
                                    texts["sectors"]))
    present.append(has)
    has = res["same"].astype(bool)
    rows = np.flatnonzero(has)
    regions = texts["regions"]
    out = np.full(P, None, dtype=object)
    out[rows] = [words["region"].format(regions[i]) for i in res["I"][rows].tolist()]
    clauses.append(out)
    present.append(has)
    cos = res["cos"]
    with np.errstate(invalid="ignore"):
        has = (cos == cos) & (cos >= 0.3)
    rows = np.flatnonzero(has)
    out = np.full(P, None, dtype=object)
    out[rows] = list(map(_mandate_words, cos[rows].tolist(), repeat(lang)))
    clauses.append(out)
    present.append(has)

    pattern = sum(p.astype(np.int64) << k for k, p in enumerate(present))
    reasons = np.full(P, "", dtype=object)
    for p in np.flatnonzero(np.bincount(pattern)).tolist():
        if p:
            rows = np.flatnonzero(pattern == p)
            parts = [c[rows].tolist() for k, c in enumerate(clauses) if p >> k & 1]
            reasons[rows] = _join_columns(parts, lang, lead=words["lead"], end=".")
    return reasons.tolist()


# --------------------------------------------------------------------------- duplicates


@paused_gc
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


@paused_gc
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
