"""Partnership gaps: pairs of organizations that are not linked yet and should be, with why.

A suggestion combines three kinds of evidence about two organizations that no relationship
links yet:

- **the network**: partners in common, scored as networkx scores link prediction
  (``common_neighbors``, ``jaccard_coefficient``, ``adamic_adar_index``,
  ``resource_allocation_index``) on the partnership network
  (:func:`analysis._network.partnership_network`: organizations and structures, any
  relationship in either direction, clusters left out);
- **complementarity**: how much a cluster needs a partnership between their two types
  (a company and a research institution, a company and its sector's workforce committee,
  industry and government, the triple helix...), read from an editable table
  (:data:`DEFAULT_COMPLEMENTARITY`, :func:`load_complementarity`);
- **shared sectors and clusters**, which say that the two work on the same things even when
  the network says nothing.

Everything is computed with scipy.sparse over candidate pairs, never over all pairs; the
network scores equal networkx's to rounding (``tests/analysis/test_gaps.py`` checks it on
random graphs).
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import repeat
from operator import itemgetter
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from analysis import _wording as wording
from analysis._matrices import (
    Snapshot,
    block_pairs,
    blocks as _blocks,
    lexsort as _lexsort,
    pair_products,
    rank_in_runs as _rank_in_runs,
    snapshot_matrices,
    sorted_unique as _sorted_unique,
)
from analysis._network import paused_gc
from maillage.errors import ConfigError, InputError
from maillage.model import STAKEHOLDER_TYPES

__all__ = [
    "suggest_partnerships",
    "candidate_pairs",
    "score_pairs",
    "load_complementarity",
    "DEFAULT_COMPLEMENTARITY",
    "DEFAULT_WEIGHTS",
]

#: How much a cluster needs a partnership between two types of organization, from 0 (no
#: particular value: the pair is judged on the network and shared sectors alone) to 1 (the
#: pairing a cluster most needs). Keys are two canonical types joined by ``+`` (either order);
#: a value is a score, or ``{"score": s, "requires": "shared_sector"}`` (or
#: ``"shared_cluster"``) when the pairing only helps within one sector (cluster): a company and
#: the workforce committee of *another* sector gain nothing. ``"triple_helix"`` is the score of
#: a pair of industry (``company``), academia (``institution``) and government that a common
#: partner of the third kind would close into a triangle; a pair gets the higher of its table
#: score and this one. Types missing from the table (and untyped nodes) score 0. A
#: secretariat edits a copy (``json.dump(DEFAULT_COMPLEMENTARITY, f)``) and passes the file to
#: ``complementarity=``; :func:`load_complementarity` checks it.
DEFAULT_COMPLEMENTARITY: dict[str, object] = {
    # Research, innovation and talent: the pairing cluster policies exist for.
    "company+institution": 1.0,
    # A sector committee plans the training and hiring of its own sector's firms.
    "company+workforce_committee": {"score": 0.9, "requires": "shared_sector"},
    # Industry and government: programmes, funding, regulation.
    "company+government": 0.6,
    # Training programmes that follow the sector's needs.
    "institution+workforce_committee": {"score": 0.6, "requires": "shared_sector"},
    # Academia and government: research funding and policy.
    "government+institution": 0.5,
    # Representation and shared services for firms.
    "association+company": 0.4,
    # Joining a working group or programme of one's cluster.
    "company+structure": {"score": 0.4, "requires": "shared_cluster"},
    "institution+structure": {"score": 0.3, "requires": "shared_cluster"},
    "association+institution": 0.3,
    "government+workforce_committee": 0.3,
    # Suppliers, customers, co-development within one sector.
    "company+company": {"score": 0.2, "requires": "shared_sector"},
    "triple_helix": 1.0,
}

#: Weights of the four parts of ``score`` (they sum to 1, so ``score`` is in [0, 1]).
DEFAULT_WEIGHTS: dict[str, float] = {
    "network": 0.7,
    "complementarity": 0.2,
    "sectors": 0.05,
    "clusters": 0.05,
}
#: The network part of ``score`` is ``1 - exp(-adamic_adar / _NETWORK_SCALE)``.
_NETWORK_SCALE = 2.0

_REQUIRES = {None: 0, "shared_sector": 1, "shared_cluster": 2}
_HELIX = ("company", "institution", "government")
_TYPES = STAKEHOLDER_TYPES  # code k is _TYPES[k]; code len(_TYPES) is "untyped or unknown"
_TYPE_CODE = {t: k for k, t in enumerate(_TYPES)}
_K = len(_TYPES) + 1

#: Two-hop paths ``i - w - j`` that the "auto" hub cap allows (a uniform random network of
#: 100,000 organizations and 1,000,000 relationships has about 42 million and is not capped);
#: each path costs about half a microsecond end to end on a 2-core machine. The budget grows
#: with the network, by :data:`_PATHS_PER_NODE` per node beyond 100,000 nodes: with a fixed
#: one, a million organizations made hubs of nodes of ordinary degree, and the pairs sharing
#: such "hubs" (nearly all) then went through the slower per-pair hub evidence (suggestions
#: at 1M stopped after 15 minutes; with the budget scaled, time grows with the network).
_PATH_BUDGET = 50_000_000
_PATHS_PER_NODE = 500
_HUGE = 1e300
_MARK = 1e-200
#: Candidate pairs scored at once (bounds memory to a few hundred MB).
_BLOCK_PAIRS = 4_000_000
#: Largest block of pair scores read off a dense product (128 MB of float64), when the
#: product fills at least an eighth of it.
_DENSE_CELLS = 2 ** 24

_COLUMNS = [
    "source", "target", "source_name", "target_name", "source_type", "target_type", "score",
    "common_partners", "jaccard", "adamic_adar", "resource_allocation", "complementarity",
    "shared_sectors", "shared_clusters", "common_partner_names", "reasons",
]


# --------------------------------------------------------------------------- the table


def _score_value(value: object, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ConfigError(
            f"{where}: the score of {key!r} must be a number from 0 to 1, not {value!r}."
        )
    return float(value)


def load_complementarity(source: str | Path | Mapping) -> dict[str, object]:
    """Return a complementarity table, checked, from a mapping or a JSON or TOML file.

    The table has the shape of :data:`DEFAULT_COMPLEMENTARITY`: keys ``"type+type"`` (two of
    ``company, association, workforce_committee, government, institution, structure``) with a
    score in [0, 1] or ``{"score": s, "requires": "shared_sector" | "shared_cluster"}``, and
    ``"triple_helix"``. A file may also hold the table under a ``complementarity`` key (a
    ``[complementarity]`` table in TOML).

    Parameters
    ----------
    source : str, pathlib.Path or mapping
        A ``.json`` or ``.toml`` file, or the table itself.

    Returns
    -------
    dict
        The table in canonical form: keys with their two types in alphabetical order, values
        ``{"score": float, "requires": str | None}``, and ``"triple_helix"`` (0 when absent).

    Raises
    ------
    maillage.errors.ConfigError
        When the file cannot be read or parsed, or a key, score or condition is invalid; the
        message names the file and the entry.

    Examples
    --------
    >>> table = load_complementarity({"institution+company": 0.8, "triple_helix": 1})
    >>> table["company+institution"], table["triple_helix"]
    ({'score': 0.8, 'requires': None}, 1.0)
    >>> load_complementarity({"company+university": 1})
    Traceback (most recent call last):
    ...
    maillage.errors.ConfigError: complementarity table: key 'company+university' names an unknown type 'university' (known: company, association, workforce_committee, government, institution, structure).
    """
    where = "complementarity table"
    if isinstance(source, (str, Path)):
        path = Path(source)
        where = str(path)
        suffix = path.suffix.lower()
        if suffix not in (".json", ".toml"):
            raise ConfigError(f"{where}: a complementarity table must be a .json or .toml file.")
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as err:
            raise ConfigError(
                f"Cannot read the complementarity table {where} ({err.strerror}); check the path."
            ) from err
        try:
            data = json.loads(text) if suffix == ".json" else tomllib.loads(text)
        except (json.JSONDecodeError, tomllib.TOMLDecodeError) as err:
            raise ConfigError(f"{where} is not valid {suffix[1:].upper()}: {err}.") from err
    elif isinstance(source, Mapping):
        data = source
    else:
        raise ConfigError(
            f"A complementarity table is a mapping or the path of a .json or .toml file, "
            f"not {type(source).__name__}."
        )
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: the table must be a mapping of type pairs to scores.")
    if set(data) == {"complementarity"} and isinstance(data["complementarity"], Mapping):
        data = data["complementarity"]
    known = ", ".join(_TYPES)
    out: dict[str, object] = {}
    helix = 0.0
    for key, value in data.items():
        if key == "triple_helix":
            helix = _score_value(value, key, where)
            continue
        parts = str(key).split("+")
        if len(parts) != 2:
            raise ConfigError(
                f"{where}: key {key!r} is neither two types joined by '+' "
                f"(like 'company+institution') nor 'triple_helix'."
            )
        for part in parts:
            if part not in _TYPE_CODE:
                raise ConfigError(
                    f"{where}: key {key!r} names an unknown type {part!r} (known: {known})."
                )
        if isinstance(value, Mapping):
            extra = set(value) - {"score", "requires"}
            if extra or "score" not in value:
                raise ConfigError(
                    f"{where}: {key!r} must be a score or {{'score': ..., 'requires': ...}}; "
                    f"found keys {sorted(value)}."
                )
            score = _score_value(value["score"], key, where)
            requires = value.get("requires")
            if requires not in _REQUIRES:
                raise ConfigError(
                    f"{where}: {key!r} requires {requires!r}; use 'shared_sector', "
                    "'shared_cluster' or leave it out."
                )
        else:
            score, requires = _score_value(value, key, where), None
        canon = "+".join(sorted(parts))
        entry = {"score": score, "requires": requires}
        if canon in out and out[canon] != entry:
            raise ConfigError(f"{where}: {canon!r} is given twice with different values.")
        out[canon] = entry
    out["triple_helix"] = helix
    return out


@dataclass(frozen=True)
class _Table:
    score: np.ndarray  # K x K
    requires: np.ndarray  # K x K codes of _REQUIRES
    helix: float
    third: np.ndarray  # K x K: type code closing the helix with (a, b), or -1

    @classmethod
    def compile(cls, table: Mapping) -> "_Table":
        score = np.zeros((_K, _K))
        requires = np.zeros((_K, _K), dtype=np.int8)
        for key, entry in table.items():
            if key == "triple_helix":
                continue
            a, b = (_TYPE_CODE[t] for t in key.split("+"))
            score[a, b] = score[b, a] = entry["score"]
            requires[a, b] = requires[b, a] = _REQUIRES[entry["requires"]]
        third = np.full((_K, _K), -1, dtype=np.int64)
        h = [_TYPE_CODE[t] for t in _HELIX]
        for a in h:
            for b in h:
                if a != b:
                    third[a, b] = next(c for c in h if c not in (a, b))
        return cls(score, requires, float(table["triple_helix"]), third)


# --------------------------------------------------------------------------- kernels


def _in_sorted(keys: np.ndarray, sorted_ref: np.ndarray) -> np.ndarray:
    """Return whether each of ``keys`` is in the sorted array ``sorted_ref``."""
    if len(sorted_ref) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.searchsorted(sorted_ref, keys)
    pos[pos == len(sorted_ref)] = 0
    return sorted_ref[pos] == keys


def _csr_keys(X: sp.csr_array, rows: np.ndarray, n: int) -> np.ndarray:
    """Return ``row * n + col`` of every stored entry of ``X`` (whose row k is node rows[k])."""
    local = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    return rows[local].astype(np.int64) * n + X.indices


def _common(M: sp.csr_array, I: np.ndarray, J: np.ndarray) -> tuple[sp.csr_array, np.ndarray]:
    """Return the common neighbours of each pair as rows of a 0/1 matrix (``P x n``) from
    ``M = A[I] * A[J]``, leaving out ``I[k]`` and ``J[k]`` themselves, as
    ``nx.common_neighbors`` does, and the size of the raw intersection ``N(I[k]) ∩ N(J[k])``
    (which may hold them)."""
    raw = np.diff(M.indptr)
    if M.nnz:
        row = np.repeat(np.arange(len(I)), raw)
        own = (M.indices == I[row]) | (M.indices == J[row])
        if own.any():
            M.data[own] = 0
            M.eliminate_zeros()
    return M, raw


@dataclass
class _Net:
    """The quantities every pair measure needs, from a 0/1 adjacency ``A`` (self-loops
    allowed, as networkx allows them) and optionally a weighted one ``W``."""

    A: sp.csr_array
    W: sp.csr_array | None = None

    def __post_init__(self) -> None:
        A = self.A
        n = A.shape[0]
        self.n = n
        self.size = np.diff(A.indptr)  # |N(u)| as a set, self included when looped
        diag = A.diagonal()
        # networkx's degree counts a self-loop twice.
        self.degree = self.size + (diag != 0)
        with np.errstate(divide="ignore"):
            self.g_aa = np.where(self.degree >= 2, 1.0 / np.log(np.maximum(self.degree, 2)), 1.0)
            self.g_ra = np.where(self.degree >= 1, 1.0 / np.maximum(self.degree, 1), 1.0)
        if self.W is not None:
            W = self.W
            self.strength = np.asarray(W.sum(axis=1)).ravel() + W.diagonal()
            self.g_w = 1.0 / np.log1p(np.where(self.strength > 0, self.strength, 1.0))
            self.wbar = float(W.data.mean()) if W.nnz else 1.0


def _measures_elementwise(net: _Net, I: np.ndarray, J: np.ndarray, *,
                          want_common: bool = False) -> dict:
    """Exact pair measures by intersecting the two adjacency rows of each pair, in blocks of
    bounded memory (:func:`analysis._matrices.pair_products`)."""
    P = len(I)
    out = {k: np.zeros(P) for k in ("cn", "jaccard", "aa", "ra")}
    if net.W is not None:
        out["waa"] = np.zeros(P)
    commons = []
    for sl, M in pair_products(net.A, I, J):
        i, j = I[sl], J[sl]
        M, raw = _common(M, i, j)
        cn = np.diff(M.indptr).astype(np.float64)
        out["cn"][sl] = cn
        union = net.size[i] + net.size[j] - raw
        out["jaccard"][sl] = np.divide(cn, union, out=np.zeros_like(cn), where=union > 0)
        out["aa"][sl] = M @ net.g_aa
        out["ra"][sl] = M @ net.g_ra
        if net.W is not None:
            # Lü & Zhou's weighted Adamic-Adar: sum over z of (w_iz + w_zj) / log(1 + s_z).
            Mw = net.W[i].multiply(M) + M.multiply(net.W[j])
            out["waa"][sl] = Mw @ net.g_w
        if want_common:
            commons.append(M)
    if want_common:
        out["common"] = sp.vstack(commons, format="csr") if commons else sp.csr_array((0, net.n))
    return out


def _numbered(X: sp.csr_array, Q: sp.csr_array, idx: np.ndarray) -> tuple:
    """Return ``(pairs, values, V)``: the pairs of ``Q`` (pair ``idx[k]`` stored as
    ``1 + i (k + 1)``) at which ``X`` (real, positive where stored) stores something, its
    values there, and the product ``V`` read. ``x (1 + i (k + 1))`` keeps x in its real part,
    and the pair's number comes back by division (x is a positive sum, k + 1 a whole number:
    the quotient is far closer than 0.5 to it)."""
    V = X.multiply(Q)
    return idx[np.rint(V.data.imag / V.data.real).astype(np.int64) - 1], V.data.real, V


def _read_pairs(out: dict, idx: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                both: sp.csr_array, products: dict) -> None:
    """Write ``both[rows, cols]`` (complex: common partners, Adamic-Adar) and each of
    ``products[name][rows, cols]`` (real, positive) to ``out[...][idx]``; entries not
    stored read 0.

    scipy multiplies two matrices of unsorted rows elementwise through a dense row buffer,
    in linear time: multiplying the products by a matrix numbering the pairs reads them
    without sorting the products' long rows (which cost twice as much as this)."""
    shape = both.shape
    if len(rows) > 1 and not np.all(rows[1:] >= rows[:-1]):
        o = np.argsort(rows, kind="stable")
        idx, rows, cols = idx[o], rows[o], cols[o]
    indptr = np.zeros(shape[0] + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    # A pair listed twice would add up in the buffer: each is read once, then copied. The
    # transpose lists each column's pairs by row, so that a pair listed twice is adjacent.
    T = sp.csr_array((np.arange(1, len(idx) + 1, dtype=np.float64), cols, indptr), shape=shape).tocsc()
    in_col = np.repeat(np.arange(shape[1]), np.diff(T.indptr))
    again = (T.indices[1:] == T.indices[:-1]) & (in_col[1:] == in_col[:-1])
    copies = None
    if again.any():
        new = np.concatenate(([True], ~again))
        first = np.empty(len(idx), dtype=np.int64)
        first[T.data.astype(np.int64) - 1] = (T.data[new].astype(np.int64) - 1)[np.cumsum(new) - 1]
        copies = (idx, idx[first])
        once = np.flatnonzero(first == np.arange(len(idx)))
        idx, rows, cols = idx[once], rows[once], cols[once]
        np.cumsum(np.bincount(rows, minlength=shape[0]), out=indptr[1:])
    Q = sp.csr_array((1.0 + 1j * np.arange(1, len(idx) + 1, dtype=np.float64), cols, indptr), shape=shape)
    numbered = {name: _numbered(X, Q, idx) for name, X in products.items()}
    reads = {name: (at, values) for name, (at, values, _) in numbered.items()}
    # Common partners and Adamic-Adar share the products' pattern and order (positive terms
    # never cancel): read at the first product's pairs, else each on its own.
    at, _, H = next(iter(numbered.values()))
    del numbered
    V = both.multiply(sp.csr_array((np.ones(len(idx)), cols, indptr), shape=shape))
    if np.array_equal(V.indptr, H.indptr) and np.array_equal(V.indices, H.indices):
        reads["cn"], reads["aa"] = (at, V.data.real), (at, V.data.imag)
    else:
        reads["cn"] = _numbered(both.real, Q, idx)[:2]
        reads["aa"] = _numbered(both.imag, Q, idx)[:2]
    for name, (at, values) in reads.items():
        out[name][at] = values
    if copies is not None:
        for name in reads:
            out[name][copies[0]] = out[name][copies[1]]


def _measures_products(net: _Net, I: np.ndarray, J: np.ndarray) -> dict:
    """Exact pair measures from sparse products ``A[sources] @ diag(g) @ A``, row block by
    row block; faster than :func:`_measures_elementwise` when sources have many pairs.

    Common partners and Adamic-Adar come out of one complex product (real and imaginary
    parts are summed separately, each exactly as its own product would), resource
    allocation from a second. The pairs are then read off the products by elementwise
    multiplication with a matrix holding each pair's number: scipy multiplies rows of
    unsorted indices through a dense row buffer, in linear time, where sorting the products'
    long rows to bisect them cost twice as much."""
    n, P = net.n, len(I)
    out = {k: np.zeros(P) for k in ("cn", "aa", "ra")}
    if net.W is not None:
        out["waa"] = np.zeros(P)
    A = net.A
    CA = (A + 1j * (sp.diags_array(net.g_aa) @ A)).tocsr()
    GR = sp.diags_array(net.g_ra) @ A
    if net.W is not None:
        GWB = sp.diags_array(net.g_w) @ A
        GWW = sp.diags_array(net.g_w) @ net.W
    sources = np.flatnonzero(np.bincount(I, minlength=n))
    bounds = _blocks(A[sources] @ net.size.astype(np.float64), _BLOCK_PAIRS)
    # Group the pairs by block with a stable sort on the (small) block number, not on the
    # pair keys themselves.
    block_of = np.zeros(n, dtype=np.int32)
    for k, (a, b) in enumerate(bounds):
        block_of[sources[a:b]] = k
    pb = block_of[I]
    order = np.argsort(pb.astype(np.int16) if len(bounds) < 2 ** 15 else pb, kind="stable")
    cuts = np.searchsorted(pb[order], np.arange(len(bounds) + 1))
    for k, (a, b) in enumerate(bounds):
        idx = order[cuts[k]:cuts[k + 1]]
        if not len(idx):
            continue
        R = sources[a:b]
        AR = A[R]
        both = AR @ CA
        products = {"ra": AR @ GR}
        if net.W is not None:
            products["waa"] = net.W[R] @ GWB + AR @ GWW
        loc = np.searchsorted(R, I[idx])
        cells = len(R) * n
        if cells <= _DENSE_CELLS and cells <= 8 * both.nnz:
            # A dense product is read at the pairs directly.
            D = both.toarray()[loc, J[idx]]
            out["cn"][idx], out["aa"][idx] = D.real, D.imag
            for name, X in products.items():
                out[name][idx] = X.toarray()[loc, J[idx]]
            continue
        _read_pairs(out, idx, loc, J[idx], both, products)
    union = net.size[I] + net.size[J] - out["cn"]
    if not A.diagonal().any():
        out["jaccard"] = np.divide(out["cn"], union, out=np.zeros(P), where=union > 0)
        return out
    # The products count the pair's own nodes when a self-loop puts them in both
    # neighbourhoods; networkx leaves u and v out of the common neighbours.
    a_keys = _csr_keys(A, np.arange(n), n)
    linked = _in_sorted(I.astype(np.int64) * n + J, a_keys)
    loop_i = _in_sorted(I.astype(np.int64) * (n + 1), a_keys)
    loop_j = _in_sorted(J.astype(np.int64) * (n + 1), a_keys)
    raw_cn = out["cn"].copy()
    same = I == J
    for own, loop in ((I, loop_i & (linked | same)), (J, loop_j & linked & ~same)):
        if loop.any():
            out["cn"] -= loop
            out["aa"] -= loop * net.g_aa[own]
            out["ra"] -= loop * net.g_ra[own]
            if net.W is not None:
                # The excluded term of z = own: (w_I,own + w_own,J) / log(1 + s_own).
                w_self = _lookup(net.W, own, own)
                w_pair = _lookup(net.W, I, J)
                out["waa"] -= loop * (w_self + w_pair) * net.g_w[own]
    union = net.size[I] + net.size[J] - raw_cn
    out["jaccard"] = np.divide(out["cn"], union, out=np.zeros(P), where=union > 0)
    return out


def _simple_matrices(H: nx.Graph, weight: str | None):
    """Return ``(nodes, A, W)`` of a simple undirected graph: 0/1 adjacency and weights, a
    self-loop stored once on the diagonal (as ``H[u][u]`` holds it)."""
    nodes = list(H)
    index = {v: i for i, v in enumerate(nodes)}
    n = len(nodes)
    u = np.fromiter((index[a] for a, _ in H.edges()), dtype=np.int64, count=H.number_of_edges())
    v = np.fromiter((index[b] for _, b in H.edges()), dtype=np.int64, count=H.number_of_edges())
    off = u != v
    rows = np.concatenate([u, v[off]])
    cols = np.concatenate([v, u[off]])
    A = sp.csr_array((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    A.sort_indices()
    W = None
    if weight is not None:
        w = np.fromiter((1.0 if d.get(weight, 1) is None else float(d.get(weight, 1))
                         for _, _, d in H.edges(data=True)), dtype=np.float64,
                        count=H.number_of_edges())
        if not np.all(w > 0):
            raise ValueError(f"Edge weights in {weight!r} must be positive numbers; "
                             "fix them or pass weight=None.")
        W = sp.csr_array((np.concatenate([w, w[off]]), (rows, cols)), shape=(n, n))
        W.sort_indices()
    return nodes, A, W


def _lookup(X: sp.csr_array, I: np.ndarray, J: np.ndarray) -> np.ndarray:
    """Return ``X[I[k], J[k]]`` for each k (0 where nothing is stored); ``X`` sorted CSR."""
    n = X.shape[1]
    xkeys = _csr_keys(X, np.arange(X.shape[0]), n)
    keys = I.astype(np.int64) * n + J
    if not len(xkeys):
        return np.zeros(len(keys))
    pos = np.searchsorted(xkeys, keys)
    pos[pos == len(xkeys)] = 0
    return np.where(xkeys[pos] == keys, X.data[pos], 0.0)


def _node_indices(index: Mapping, nodes: Iterable, what: str = "nodes") -> np.ndarray:
    """Return the positions of ``nodes`` in ``index`` (a dict or a pandas Index)."""
    nodes = list(nodes)
    if isinstance(index, pd.Index):
        # Hashing millions of node ids is a C loop in pandas, a Python one in a dict.
        out = index.get_indexer(pd.Index(nodes, dtype=object)) if nodes else np.zeros(0, np.int64)
        bad = np.flatnonzero(out < 0)
        if bad.size:
            raise InputError(f"{what}: {bad.size} not in the partnership network "
                             f"(first: {nodes[bad[0]]!r}).")
        return out.astype(np.int64)
    # map() walks the ids in C: as fast as pandas' hashing, without building an Index.
    out = np.fromiter(map(index.get, nodes, repeat(-1)), np.int64, len(nodes))
    bad = np.flatnonzero(out < 0)
    if bad.size:
        raise InputError(f"{what}: {bad.size} not in the partnership network (first: {nodes[bad[0]]!r}).")
    return out


@paused_gc
def score_pairs(H: nx.Graph, pairs: Iterable, *, weight: str | None = None,
                method: str = "auto") -> pd.DataFrame:
    """Return networkx's four link-prediction scores of ``pairs`` in ``H``, with sparse matrices.

    For nodes ``u, v`` with neighbour sets ``N(u), N(v)`` and common neighbours
    ``C = N(u) ∩ N(v) - {u, v}``: ``common_partners = |C|``, ``jaccard = |C| / |N(u) ∪ N(v)|``
    (0 when both are isolated), ``adamic_adar = sum_{w in C} 1 / log(deg w)``,
    ``resource_allocation = sum_{w in C} 1 / deg w``. They equal networkx's
    ``common_neighbors``, ``jaccard_coefficient``, ``adamic_adar_index`` and
    ``resource_allocation_index`` (self-loops included). With ``weight``, the extra column
    ``weighted_adamic_adar = sum_{w in C} (w_uw + w_wv) / log(1 + s_w)`` (``s_w`` the
    strength of ``w``) is Lü & Zhou's weighted Adamic-Adar; networkx has no weighted link
    prediction to compare it with.

    Parameters
    ----------
    H : networkx.Graph
        An undirected simple graph, e.g. ``partnership_network(G)``.
    pairs : iterable of (node, node)
    weight : str, optional
        Edge attribute for ``weighted_adamic_adar`` (missing or None counts 1; weights must be
        positive).
    method : {"auto", "products", "elementwise"}
        ``products`` multiplies adjacency row blocks (fast when each source has many pairs),
        ``elementwise`` intersects the two rows of each pair; ``auto`` estimates both costs.

    Returns
    -------
    pandas.DataFrame
        Columns ``u, v, common_partners, jaccard, adamic_adar, resource_allocation``
        (``+ weighted_adamic_adar``), one row per pair, in the order given.

    Raises
    ------
    maillage.errors.InputError
        When ``H`` is directed or a multigraph, or a pair names a node not in ``H``.

    References
    ----------
    .. [1] D. Liben-Nowell and J. Kleinberg, The link-prediction problem for social networks
       (2007). T. Zhou, L. Lü and Y.-C. Zhang, Predicting missing links via local
       information (2009). L. Lü and T. Zhou, Link prediction in weighted networks: the role
       of weak ties (2010).

    Examples
    --------
    >>> H = nx.Graph([("a", "x"), ("b", "x"), ("a", "y"), ("b", "y"), ("y", "z")])
    >>> score_pairs(H, [("a", "b")]).round(4).to_dict("records")
    [{'u': 'a', 'v': 'b', 'common_partners': 2, 'jaccard': 1.0, 'adamic_adar': 2.3529, 'resource_allocation': 0.8333}]
    """
    if H.is_directed() or H.is_multigraph():
        raise InputError(
            "score_pairs needs an undirected simple graph; pass partnership_network(G)."
        )
    pairs = pairs if isinstance(pairs, list) else list(pairs)
    nodes, A, W = _simple_matrices(H, weight)
    index = dict(zip(nodes, range(len(nodes))))
    # Each end looked up straight from the pairs (map and itemgetter walk them in C; zip(*pairs)
    # is twenty times slower on millions of pairs, a list of each end twice as slow).
    get, P = index.get, len(pairs)
    I = np.fromiter(map(get, map(itemgetter(0), pairs), repeat(-1)), np.int64, P)
    J = np.fromiter(map(get, map(itemgetter(1), pairs), repeat(-1)), np.int64, P)
    for end, X in ((0, I), (1, J)):
        bad = np.flatnonzero(X < 0)
        if bad.size:
            raise InputError(f"pairs: {bad.size} not in the partnership network "
                             f"(first: {pairs[bad[0]][end]!r}).")
    # The ends as the graph holds them (equal to the pairs'), gathered by position: an object
    # array from a list costs a conversion per element, a gather from one does not.
    node_array = np.empty(len(nodes), dtype=object)
    node_array[:] = nodes
    net = _Net(A, W)
    if method == "auto":
        # Elementwise work ~ sum of the two rows; product work ~ two-hop paths of the sources.
        elem = float((net.size[I] + net.size[J]).sum()) * 4
        sources = np.flatnonzero(np.bincount(I, minlength=net.n))
        prod = float((A[sources] @ net.size.astype(float)).sum()) * 3 if len(I) else 0.0
        method = "products" if prod < elem else "elementwise"
    if method == "products":
        m = _measures_products(net, I, J)
    elif method == "elementwise":
        m = _measures_elementwise(net, I, J)
    else:
        raise InputError(f"Unknown method {method!r}; use 'auto', 'products' or 'elementwise'.")
    df = pd.DataFrame({
        "u": node_array[I],
        "v": node_array[J],
        "common_partners": np.rint(m["cn"]).astype(np.int64),
        "jaccard": m["jaccard"],
        "adamic_adar": m["aa"],
        "resource_allocation": m["ra"],
    })
    if weight is not None:
        df["weighted_adamic_adar"] = m["waa"]
    return df


# --------------------------------------------------------------------------- candidates


class _Gaps:
    """One run of :func:`suggest_partnerships`: the snapshot's matrices and the options."""

    def __init__(self, S: Snapshot, table: _Table, mix: Mapping[str, float], *, weighted: bool,
                 hub_cap: int | str | None, block_cap: int, block_sample: int, seed: int) -> None:
        self.S = S
        self.n = n = S.n
        self.A = A = S.A
        self.table = table
        self.mix = mix
        self.weighted = weighted
        self.block_cap = block_cap
        self.block_sample = block_sample
        self.seed = seed
        self.net = _Net(A, S.W if weighted else None)
        self.tc = np.asarray([_TYPE_CODE.get(t, _K - 1) for t in S.types], dtype=np.int64)
        self.a_keys = _csr_keys(A, np.arange(n), n)
        deg = self.net.degree
        # Hubs are left out as middle nodes of the two-hop product: a hub of degree d makes
        # d^2 pairs whose only shared partner is one that everybody shares.
        if hub_cap is None:
            self.mid = np.ones(n, dtype=bool)
        elif hub_cap == "auto":
            d2 = deg.astype(np.float64) ** 2
            budget = max(_PATH_BUDGET, _PATHS_PER_NODE * n)
            if d2.sum() <= budget:
                self.mid = np.ones(n, dtype=bool)
            else:
                order = np.argsort(deg, kind="stable")
                cum = np.cumsum(d2[order])
                k = int(np.searchsorted(cum, budget, side="right"))
                cap = deg[order[k - 1]] if k else 0
                self.mid = deg <= cap
        else:
            self.mid = deg <= int(hub_cap)
        self.hubs = np.flatnonzero(~self.mid)
        mid = self.mid.astype(np.float64)
        net = self.net
        if weighted:
            self.scale = 1.0 / (2.0 * net.wbar)
            self.GB = sp.diags_array(net.g_w * mid * self.scale) @ A
            self.GW = sp.diags_array(net.g_w * mid * self.scale) @ net.W
        else:
            self.GA = (sp.diags_array(net.g_aa * mid) @ A).tocsr()
        if self.hubs.size:
            self.Ah = A[:, self.hubs].tocsr()
            self.hub_count = np.diff(self.Ah.indptr)
            self.Wh = net.W[:, self.hubs].tocsr() if weighted else None
            # What each node could get through its hubs if its partner shared them all.
            if weighted:
                self.hub_reach = (self.Wh @ net.g_w[self.hubs]) * self.scale
            else:
                self.hub_reach = self.Ah @ net.g_aa[self.hubs]
        # Two-hop paths a - c - b with (a, b, c) the three helix types, c not a hub.
        self.helix_B = {}
        if table.helix > 0:
            coo = A.tocoo()
            for a_t, b_t, c_t in _permutations(_HELIX):
                a, b, c = _TYPE_CODE[a_t], _TYPE_CODE[b_t], _TYPE_CODE[c_t]
                if table.helix <= table.score[a, b] and not table.requires[a, b]:
                    continue  # the table always gives this pairing at least the helix score
                keep = (self.tc[coo.row] == c) & self.mid[coo.row] & (self.tc[coo.col] == b)
                if keep.any():
                    self.helix_B[(a, b, c)] = sp.csr_array(
                        (coo.data[keep], (coo.row[keep], coo.col[keep])), shape=(n, n))

    # -- candidates ---------------------------------------------------------------------

    def attribute_pairs(self, in_src: np.ndarray) -> sp.csr_array:
        """0/1 matrix of the unlinked pairs ``(i, j)`` sharing a sector or a cluster, ``i`` a
        source (both directions), bounded by ``block_cap`` and ``block_sample``."""
        n = self.n
        I, J = block_pairs([self.S.sectors, self.S.clusters], np.ones(n, dtype=bool), self.tc,
                           block_cap=self.block_cap, block_sample=self.block_sample,
                           seed=self.seed, touching=in_src)
        I, J = np.concatenate([I, J]), np.concatenate([J, I])
        keep = in_src[I] & (I != J)
        P = sp.csr_array((np.ones(int(keep.sum())), (I[keep], J[keep])), shape=(n, n))
        P.sum_duplicates()
        P.data[:] = 1.0
        # Already partners: not a gap.
        return _minus_structure(P, self.A)

    def two_hop(self, R: np.ndarray) -> sp.csr_array:
        """Network evidence of the unlinked pairs ``(R[r], j)`` two hops apart through a
        non-hub (row ``r``); it counts non-hub middles only (hubs are added later)."""
        AR = self.A[R]
        if self.weighted:
            X = self.net.W[R] @ self.GB + AR @ self.GW
        else:
            X = AR @ self.GA
        # Linked pairs and the pair (i, i) are not gaps: subtracting a huge number there
        # makes them negative (x - 0 = x stays exact elsewhere), and they are dropped.
        own = sp.csr_array((np.ones(len(R)), (np.arange(len(R)), R)), shape=X.shape)
        X = (X - (AR + own) * _HUGE).tocsr()
        X.data[X.data < 0] = 0.0
        X.eliminate_zeros()
        return X

    def hub_part(self, I: np.ndarray, J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Evidence through hub middles, and whether a hub closes the pair's triple helix."""
        P = len(I)
        ev = np.zeros(P)
        helix = np.zeros(P, dtype=bool)
        if not self.hubs.size or P == 0:
            return ev, helix
        net = self.net
        # Only pairs whose two members both touch a hub can share one.
        touch = self.hub_count[I] > 0
        touch &= self.hub_count[J] > 0
        sel = np.flatnonzero(touch)
        g_hub = net.g_w[self.hubs] if self.weighted else net.g_aa[self.hubs]
        th = self.tc[self.hubs]
        for sl, M in pair_products(self.Ah, I[sel], J[sel]):
            k, i, j = sel[sl], I[sel[sl]], J[sel[sl]]
            if self.weighted:
                Mw = self.Wh[i].multiply(M) + M.multiply(self.Wh[j])
                ev[k] = (Mw @ g_hub) * self.scale
            else:
                ev[k] = M @ g_hub
            if self.table.helix > 0 and M.nnz:
                third = self.table.third[self.tc[i], self.tc[j]]
                for c in np.unique(third[third >= 0]):
                    has_c = (M @ (th == c).astype(np.float64)) > 0
                    helix[k] |= has_c & (third == c)
        return ev, helix

    def hub_bounds(self, I: np.ndarray, J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Upper bounds of :meth:`hub_part`'s two results, from each node's own hubs: the
        evidence of the hubs shared is at most what either node's hubs give (weighted: what
        both give, each its own side of the sum), and a hub can close a triple helix only
        if both touch one."""
        if self.weighted:
            ub = self.hub_reach[I] + self.hub_reach[J]
        else:
            ub = np.minimum(self.hub_reach[I], self.hub_reach[J])
        # The same terms summed in another order may round differently: pad the bound.
        ub = ub * (1.0 + 1e-9) + 1e-12
        touch = (self.hub_count[I] > 0) & (self.hub_count[J] > 0)
        return ub * touch, touch & (self.table.third[self.tc[I], self.tc[J]] >= 0)

    def settle(self, I: np.ndarray, J: np.ndarray, ev: np.ndarray, helix: np.ndarray,
               shared: tuple, floor: np.ndarray | None) -> tuple:
        """Add the evidence through hubs to a block of candidates (``ev`` and ``helix``
        without it), first dropping the pairs whose best possible score is below ``floor``
        (a score, or one per pair; None keeps every pair). At a million organizations the
        hubs are tens of thousands of nodes that nearly every pair touches: bounding spares
        the exact hub evidence of almost every pair when only the best are wanted."""
        if not self.hubs.size or not len(I):
            return I, J, ev, helix, shared
        if floor is not None:
            ub, could = self.hub_bounds(I, J)
            best, _, _ = self.rank(I, J, ev + ub, helix | could, shared)
            keep = np.flatnonzero(best >= floor)
            I, J, ev, helix = I[keep], J[keep], ev[keep], helix[keep]
            shared = (shared[0][keep], shared[1][keep])
            if not len(I):
                return I, J, ev, helix, shared
        hev, hub_helix = self.hub_part(I, J)
        return I, J, ev + hev, helix | hub_helix, shared

    def helix_pairs(self, R: np.ndarray) -> sp.csr_array:
        """0/1 matrix of the pairs ``(R[r], j)`` with a non-hub common partner of the third
        helix type."""
        H = sp.csr_array((len(R), self.n))
        local = np.arange(len(R))
        for (a, _b, _c), B in self.helix_B.items():
            rows = local[self.tc[R] == a]
            if len(rows):
                Y = (self.A[R[rows]] @ B).tocoo()
                H = H + sp.csr_array((np.ones(Y.nnz), (rows[Y.row], Y.col)), shape=H.shape)
        return H

    # -- scoring ------------------------------------------------------------------------

    def shared(self, I: np.ndarray, J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Whether each pair shares a sector, and a cluster."""
        return self.S.sectors.shared(I, J) > 0, self.S.clusters.shared(I, J) > 0

    def rank(self, I: np.ndarray, J: np.ndarray, ev: np.ndarray, helix: np.ndarray,
             shared: tuple | None = None):
        """Return ``(score, complementarity, helix_used)`` of pairs from their evidence
        (and :meth:`shared`, when already known)."""
        sec, clu = self.shared(I, J) if shared is None else shared
        pair = self.tc[I] * _K + self.tc[J]
        base = self.table.score.ravel()[pair]
        req = self.table.requires.ravel()[pair]
        base = np.where(((req == 1) & ~sec) | ((req == 2) & ~clu), 0.0, base)
        helix_used = helix & (self.table.third.ravel()[pair] >= 0) & (self.table.helix > base)
        comp = np.where(helix_used, self.table.helix, base)
        mix = self.mix
        score = (mix["network"] * -np.expm1(-ev / _NETWORK_SCALE) + mix["complementarity"] * comp
                 + mix["sectors"] * sec + mix["clusters"] * clu)
        return score, comp, helix_used

    def candidates(self, src: np.ndarray, mode: str):
        """Yield blocks ``(I, J, evidence, helix)`` of candidate pairs with ``I`` in ``src``,
        each source's pairs in one block; evidence and triple helices through hubs are left
        to :meth:`settle`."""
        n = self.n
        in_src = np.zeros(n, dtype=bool)
        in_src[src] = True
        attr = self.attribute_pairs(in_src) if mode == "auto" else sp.csr_array((n, n))
        cost = self.A[src] @ (self.net.size * self.mid).astype(np.float64)
        cost = cost + np.diff(attr.indptr)[src] + 1
        for a, b in _blocks(cost, _BLOCK_PAIRS):
            R = src[a:b]
            X = self.two_hop(R)
            if attr.nnz:
                # Attribute pairs enter with a mark far below the rounding of any two-hop
                # evidence (>= 1/log n): x + mark == x exactly, and a pair with the mark
                # alone has no two-hop evidence. One sparse addition makes the union.
                U = (X + attr[R] * _MARK).tocsr()
                ev = np.where(U.data > _MARK * 1e10, U.data, 0.0)
            else:
                U, ev = X, X.data
            if not U.nnz:
                continue
            I = R[np.repeat(np.arange(len(R)), np.diff(U.indptr))]
            J = U.indices.astype(np.int64)
            helix = np.zeros(len(I), dtype=bool)
            if self.helix_B:
                helix |= _flags([U], self.helix_pairs(R))
            # Without the hubs' evidence: see settle().
            yield I, J, ev, helix

    def explicit(self, I: np.ndarray, J: np.ndarray):
        """The one block of caller-given pairs, scored elementwise."""
        m = _measures_elementwise(self.net, I, J, want_common=True)
        ev = m["waa"] * self.scale if self.weighted else m["aa"]
        helix = np.zeros(len(I), dtype=bool)
        third = self.table.third[self.tc[I], self.tc[J]]
        M = m["common"]
        for c in np.unique(third[third >= 0]):
            helix |= ((M @ (self.tc == c).astype(np.float64)) > 0) & (third == c)
        yield I, J, ev, helix


def _minus_structure(X: sp.csr_array, Y: sp.csr_array) -> sp.csr_array:
    """Return ``X`` without the entries where ``Y`` stores something (values kept exactly)."""
    Yb = Y.tocsr(copy=True)
    Yb.data = np.ones_like(Yb.data)
    # x - x * 1 is exactly 0 where Y has an entry, x - 0 = x elsewhere; zeros are dropped.
    out = (X - X.multiply(Yb)).tocsr()
    out.eliminate_zeros()
    return out


def _flags(parts: list[sp.csr_array], F: sp.csr_array) -> np.ndarray:
    """Return, for each stored entry of ``parts`` (in order), whether ``F`` stores the same
    entry: the entries are numbered, and multiplying by ``F`` keeps the numbers found."""
    total = sum(Y.nnz for Y in parts)
    out = np.zeros(total, dtype=bool)
    offset = 0
    for Y in parts:
        ids = Y.tocsr(copy=True)
        ids.data = np.arange(offset + 1, offset + Y.nnz + 1, dtype=np.float64)
        hit = ids.multiply(F.astype(bool).astype(np.float64)).tocsr()
        hit.eliminate_zeros()
        out[hit.data.astype(np.int64) - 1] = True
        offset += Y.nnz
    return out


def _permutations(items):
    for a in items:
        for b in items:
            for c in items:
                if len({a, b, c}) == 3:
                    yield a, b, c


def _floor(ctx: _Gaps, I: np.ndarray, J: np.ndarray, ev: np.ndarray, helix: np.ndarray,
           shared: tuple, kept: dict, top: int | None, per_node: int | None):
    """The score a candidate of this block must be able to reach to be kept, from the
    scores without hubs (which the hubs can only raise): the ``top``-th best of those and of
    the rows kept so far, or each source's ``per_node``-th best (its pairs are all in this
    block). Enough pairs score at least that much, so a pair that cannot reach it is out.
    None when every pair is wanted or there are no hubs."""
    if not ctx.hubs.size or not len(I) or (top is None and per_node is None):
        return None
    low, _, _ = ctx.rank(I, J, ev, helix, shared)
    if per_node is None:
        pool = np.concatenate([kept["score"], low]) if kept else low
        if len(pool) < top:
            return None
        return np.partition(pool, len(pool) - top)[len(pool) - top]
    order = _by_source_then_score(I, low)
    at_k = order[_rank_in_runs(I[order]) == per_node - 1]
    floor = np.full(ctx.n, -np.inf)
    floor[I[at_k]] = low[at_k]
    return floor[I]


def _take_top(keep: dict, block: dict, top: int | None) -> dict:
    """Merge ``block`` into the running best rows ``keep`` (order: score desc, then I, J)."""
    merged = {k: np.concatenate([keep[k], block[k]]) for k in block} if keep else block
    if top is None or len(merged["score"]) <= top:
        return merged
    kth = np.partition(-merged["score"], top - 1)[top - 1]
    sel = np.flatnonzero(-merged["score"] <= kth)
    if len(sel) > top:  # ties at the top-th score: break them by index, as the final sort does
        sub = {k: v[sel] for k, v in merged.items()}
        sel = sel[_order(sub, False)[:top]]
    return {k: v[sel] for k, v in merged.items()}


def _by_source_then_score(I: np.ndarray, score: np.ndarray) -> np.ndarray:
    """``_lexsort((-score, I))``: by source, then by descending score, ties in given order.

    Candidate blocks come sorted by source: the sources are then numbered by run, and a
    block's few thousand run numbers fit in 16 bits, which numpy sorts stably by radix in
    linear time instead of comparing millions of int64."""
    if len(I) < 2 or not np.all(I[1:] >= I[:-1]):
        return _lexsort((-score, I))
    run = np.concatenate(([0], np.cumsum(I[1:] != I[:-1])))
    if run[-1] < 2 ** 16:
        run = run.astype(np.uint16)
    order = np.argsort(-score, kind="stable")
    return order[np.argsort(run[order], kind="stable")]


def _top_per_source(I: np.ndarray, score: np.ndarray, k: int) -> np.ndarray:
    """Return the positions of each source's ``k`` best pairs, ordered by source, then by
    descending score, ties in given order: ``order[rank_in_runs(I[order]) < k]`` for
    ``order = _lexsort((-score, I))``.

    Sorting millions of floats for ten rows per source is most of the work: scores are first
    cut into 65,536 levels (16 bits, which numpy sorts by radix in linear time), and a pair
    below the level of its source's k-th best cannot be among its k best (k pairs score
    strictly more), so only the pairs at or above it are sorted exactly."""
    n = len(I)
    if n > 4 * k and np.all(I[1:] >= I[:-1]) and np.all((score >= 0) & (score <= 1)):
        run = np.concatenate(([0], np.cumsum(I[1:] != I[:-1])))
        if run[-1] < 2 ** 16:
            run16 = run.astype(np.uint16)
            level = np.floor(score * 65535.0).astype(np.uint16)  # monotone in score
            o = np.argsort(np.uint16(65535) - level, kind="stable")
            o = o[np.argsort(run16[o], kind="stable")]
            rank = _rank_in_runs(run16[o])
            at_k = o[rank == k - 1]
            floor_of_run = np.zeros(int(run[-1]) + 1, dtype=np.uint16)
            floor_of_run[run[at_k]] = level[at_k]
            keep = np.flatnonzero(level >= floor_of_run[run])
            order = keep[_by_source_then_score(I[keep], score[keep])]
            return order[_rank_in_runs(I[order]) < k]
    order = _by_source_then_score(I, score)
    return order[_rank_in_runs(I[order]) < k]


def _order(d: dict, per_node: bool) -> np.ndarray:
    if per_node:
        return _lexsort((d["J"], -d["score"], d["I"]))
    return _lexsort((d["J"], d["I"], -d["score"]))


# --------------------------------------------------------------------------- public


def _check_count(value, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InputError(f"{name} must be a positive whole number or None, not {value!r}.")
    return int(value)


def _check_weights(weights: Mapping | None) -> dict[str, float]:
    """``weights`` replaces :data:`DEFAULT_WEIGHTS` (a part left out weighs 0)."""
    mix = dict(DEFAULT_WEIGHTS)
    if weights is not None:
        unknown = set(weights) - set(mix)
        if unknown:
            raise InputError(f"Unknown score weights {sorted(unknown)}; use {sorted(mix)}.")
        mix = {k: float(weights.get(k, 0.0)) for k in mix}
    if any(not v >= 0 for v in mix.values()) or sum(mix.values()) <= 0:
        raise InputError(f"Score weights must be non-negative with a positive sum, not {mix}.")
    total = sum(mix.values())
    return {k: v / total for k, v in mix.items()}


def _sources(S: Snapshot, nodes) -> np.ndarray:
    if nodes is None:
        return np.arange(S.n, dtype=np.int64)
    return _sorted_unique(_node_indices(S.index, list(nodes)))


@paused_gc
def candidate_pairs(G: nx.Graph, *, candidates: str = "auto", nodes: Iterable | None = None,
                    block_cap: int = 200, block_sample: int = 10, hub_cap: int | str | None = "auto",
                    seed: int = 0) -> pd.DataFrame:
    """Return the candidate pairs :func:`suggest_partnerships` scores, each pair once.

    Parameters are those of :func:`suggest_partnerships`. Useful to compare with another
    implementation over exactly the same pairs.

    Returns
    -------
    pandas.DataFrame
        Columns ``source, target`` (node ids).

    Examples
    --------
    >>> G = nx.Graph([("a", "x"), ("x", "b"), ("b", "y")])
    >>> candidate_pairs(G).to_dict("list")
    {'source': ['a', 'x'], 'target': ['b', 'y']}
    """
    S = snapshot_matrices(G)
    ctx = _Gaps(S, _Table.compile(load_complementarity(DEFAULT_COMPLEMENTARITY)),
                DEFAULT_WEIGHTS, weighted=False, hub_cap=hub_cap, block_cap=block_cap,
                block_sample=block_sample, seed=seed)
    if candidates not in ("auto", "network"):
        raise InputError(f"candidates must be 'auto' or 'network', not {candidates!r}.")
    src = _sources(S, nodes)
    in_src = np.zeros(S.n, dtype=bool)
    in_src[src] = True
    Is, Js = [], []
    for I, J, _ev, _h in ctx.candidates(src, candidates):
        once = ~in_src[J] | (I < J)
        Is.append(I[once])
        Js.append(J[once])
    I = np.concatenate(Is) if Is else np.zeros(0, dtype=np.int64)
    J = np.concatenate(Js) if Js else np.zeros(0, dtype=np.int64)
    return pd.DataFrame({"source": [S.nodes[i] for i in I], "target": [S.nodes[j] for j in J]})


@paused_gc
def suggest_partnerships(
    G: nx.Graph,
    top: int | None = 10,
    *,
    lang: str = "en",
    complementarity: str | Path | Mapping | None = None,
    candidates: str | Iterable = "auto",
    weight: str | None = None,
    per_node: int | None = None,
    nodes: Iterable | None = None,
    weights: Mapping[str, float] | None = None,
    block_cap: int = 200,
    block_sample: int = 10,
    hub_cap: int | str | None = "auto",
    seed: int = 0,
) -> pd.DataFrame:
    """Return the partnerships that are missing: unlinked pairs of organizations, best first.

    **Candidates** (never all pairs): every unlinked pair two hops apart in the partnership
    network, plus, where the network says nothing, pairs sharing a sector or a cluster: all
    pairs of a sector or cluster with at most ``block_cap`` members (200: at most 19,900
    pairs), and in a larger one each member paired with ``block_sample`` (10) others, spread
    evenly over the types present and chosen by a seeded shuffle (so a company in a sector of
    5,000 still meets the sector's workforce committee). On very large networks, partners
    with more than ``hub_cap`` partners are not used to *find* two-hop pairs (a hub of degree
    d makes d² pairs whose shared partner everybody shares); ``"auto"`` keeps every middle
    node while the two-hop paths number at most 50 million (or 500 per node, if more), and
    otherwise the largest cap that keeps them under it. Hubs still count in the scores of
    the pairs found.

    **Scores** of a pair ``(u, v)``, on the partnership network with ``C`` their common
    partners: ``common_partners = |C|``, ``jaccard``, ``adamic_adar = sum 1/log(deg w)`` and
    ``resource_allocation = sum 1/deg w`` over ``w`` in ``C``, equal to networkx's
    ``common_neighbors``, ``jaccard_coefficient``, ``adamic_adar_index`` and
    ``resource_allocation_index``. ``complementarity`` comes from the table (see
    :data:`DEFAULT_COMPLEMENTARITY`). The combined

    ``score = 0.7 * (1 - exp(-adamic_adar / 2)) + 0.2 * complementarity
    + 0.05 * [shares a sector] + 0.05 * [shares a cluster]``

    is in [0, 1]. The network part saturates (one common partner that has only these two
    partners gives 0.51 of it, three common partners of 20 partners each 0.39, ten of them
    0.81) and leads: on the demo ecosystem, each organization's top 10 holds 0.68 to 0.69 of
    the partnerships removed from it (0.73 ranking by Adamic–Adar alone, which ignores what
    the cluster needs); complementarity and shared sectors and clusters then order pairs of
    similar network evidence, and rank pairs the network says nothing about. ``weights`` replaces the four coefficients (a part left out weighs 0; they
    are rescaled to sum to 1): ``weights={"network": 1}`` ranks by Adamic–Adar alone.
    With ``weight``, the network part uses Lü & Zhou's weighted Adamic–Adar divided by twice
    the mean edge weight (so that unit weights give about Adamic–Adar) instead, and a ``weighted_adamic_adar`` column is added.

    Parameters
    ----------
    G : networkx graph
        A snapshot (``MultiDiGraph``) or any networkx graph; missing attributes are tolerated
        (untyped nodes have no complementarity).
    top : int or None, default 10
        Number of rows, best first (None: every candidate). Ignored when ``per_node`` is set.
    lang : {"en", "fr"}
        Language of ``reasons``.
    complementarity : mapping, str or Path, optional
        A complementarity table or the JSON/TOML file holding one
        (:func:`load_complementarity`); default :data:`DEFAULT_COMPLEMENTARITY`.
    candidates : "auto", "network" or iterable of (node, node)
        ``"network"`` keeps the two-hop pairs only; an iterable scores exactly those pairs
        (linked pairs and self-pairs are dropped).
    weight : str, optional
        Edge attribute of relationship strength (see above).
    per_node : int, optional
        Return each organization's best ``per_node`` suggestions instead: ``source`` is the
        organization whose list the row belongs to, so a pair may appear twice, reversed.
    nodes : iterable, optional
        Suggest partners for these organizations only (they are the ``source``).
    weights : mapping, optional
        Coefficients of ``network``, ``complementarity``, ``sectors``, ``clusters``
        (default :data:`DEFAULT_WEIGHTS`).
    block_cap, block_sample, hub_cap, seed
        Bounds of the candidate search, see above.

    Returns
    -------
    pandas.DataFrame
        One row per suggestion: ``source``, ``target`` (ids), ``source_name``,
        ``target_name``, ``source_type``, ``target_type`` (None when untyped), ``score``,
        ``common_partners`` (int), ``jaccard``, ``adamic_adar``, ``resource_allocation``,
        (``weighted_adamic_adar``), ``complementarity``, ``shared_sectors`` and
        ``shared_clusters`` (lists of names), ``common_partner_names`` (list, most specific
        partner first: fewest partners of its own), ``reasons`` (a sentence naming up to
        three shared partners, the complementarity and the shared sectors and clusters).

    Raises
    ------
    maillage.errors.InputError
        For an unknown ``lang``, ``candidates``, weight name or node, or a bad ``top``.
    maillage.errors.ConfigError
        For an invalid complementarity table.
    ValueError
        When ``weight`` is given and some relationships sum to a non-positive weight.

    References
    ----------
    .. [1] T. Zhou, L. Lü and Y.-C. Zhang, Predicting missing links via local information,
       Eur. Phys. J. B 71 (2009). L. Lü and T. Zhou, Link prediction in weighted networks:
       the role of weak ties, EPL 89 (2010). H. Etzkowitz and L. Leydesdorff, The dynamics of
       innovation: from national systems and "Mode 2" to a triple helix of
       university-industry-government relations, Research Policy 29 (2000).

    Examples
    --------
    >>> G = nx.MultiDiGraph()
    >>> G.add_node("acme", name="Acme Aero", type="company", sectors=["aerospace"])
    >>> G.add_node("poly", name="Polytechnique Montréal", type="institution", sectors=["aerospace"])
    >>> G.add_node("criaq", name="CRIAQ", type="structure")
    >>> G.add_node("mtl", name="Aéro Montréal", type="association")
    >>> for org in ("acme", "poly"):
    ...     _ = G.add_edge(org, "criaq", "MEMBER_OF", type="MEMBER_OF")
    ...     _ = G.add_edge(org, "mtl", "PARTNERS_WITH", type="PARTNERS_WITH")
    >>> df = suggest_partnerships(G, top=1)
    >>> row = df.iloc[0]
    >>> print(row.source, row.target, row.common_partners, row.complementarity)
    acme poly 2 1.0
    >>> print(row.reasons)
    Both work with Aéro Montréal and CRIAQ; a company and a research institution; both in aerospace.
    >>> print(suggest_partnerships(G, top=1, lang="fr").loc[0, "reasons"])
    Travaillent tous deux avec Aéro Montréal et CRIAQ ; une entreprise et un établissement de recherche ; secteur commun : aerospace.
    """
    wording.check_lang(lang)
    top = _check_count(top, "top")
    per_node = _check_count(per_node, "per_node")
    table = _Table.compile(load_complementarity(
        DEFAULT_COMPLEMENTARITY if complementarity is None else complementarity))
    mix = _check_weights(weights)
    S = snapshot_matrices(G, weight=weight)
    ctx = _Gaps(S, table, mix, weighted=weight is not None, hub_cap=hub_cap,
                block_cap=block_cap, block_sample=block_sample, seed=seed)
    src = _sources(S, nodes)
    in_src = np.zeros(S.n, dtype=bool)
    in_src[src] = True

    if isinstance(candidates, str):
        if candidates not in ("auto", "network"):
            raise InputError(
                f"candidates must be 'auto', 'network' or a list of pairs, not {candidates!r}.")
        blocks = ctx.candidates(src, candidates) if S.n else iter(())
    else:
        pairs = list(candidates)
        I = _node_indices(S.index, (p[0] for p in pairs), "candidates")
        J = _node_indices(S.index, (p[1] for p in pairs), "candidates")
        keys = I * S.n + J
        ok = (I != J) & ~_in_sorted(keys, ctx.a_keys) & in_src[I]
        # One row per pair, as given: (u, v) and (v, u) are the same pair.
        lo, hi = np.minimum(I, J), np.maximum(I, J)
        _, first = np.unique(lo * S.n + hi, return_index=True)
        once = np.zeros(len(I), dtype=bool)
        once[first] = True
        I, J = I[ok & once], J[ok & once]
        blocks = ctx.explicit(I, J) if len(I) else iter(())
        in_src[:] = False  # given pairs are reported as given

    kept: dict = {}
    for I, J, ev, helix in blocks:
        if per_node is None:
            once = ~in_src[J] | (I < J)
            I, J, ev, helix = I[once], J[once], ev[once], helix[once]
        shared = ctx.shared(I, J)
        if isinstance(candidates, str):
            floor = _floor(ctx, I, J, ev, helix, shared, kept, top, per_node)
            I, J, ev, helix, shared = ctx.settle(I, J, ev, helix, shared, floor)
        score, comp, helix_used = ctx.rank(I, J, ev, helix, shared)
        block = {"I": I, "J": J, "score": score, "comp": comp, "helix": helix_used}
        if per_node is None:
            kept = _take_top(kept, block, top)
        else:
            # Stable sorts by score then I: ties keep candidate order (the final sort orders
            # the kept rows by score, then target).
            sel = _top_per_source(I, score, per_node)
            block = {k: v[sel] for k, v in block.items()}
            kept = {k: np.concatenate([kept[k], block[k]]) for k in block} if kept else block
    if not kept or not len(kept["I"]):
        extra = ["weighted_adamic_adar"] if weight is not None else []
        cols = _COLUMNS[:11] + extra + _COLUMNS[11:]
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    order = _order(kept, per_node is not None)
    if per_node is None and top is not None:
        order = order[:top]
    kept = {k: v[order] for k, v in kept.items()}
    return _frame(ctx, kept, lang, weight)


def _frame(ctx: _Gaps, kept: dict, lang: str, weight: str | None) -> pd.DataFrame:
    """Exact scores, names and reasons of the selected pairs."""
    S = ctx.S
    I, J = kept["I"], kept["J"]
    m = _measures_elementwise(ctx.net, I, J, want_common=True)
    M = m["common"]
    # Names of the nodes that appear, and the order in which shared partners are named: the
    # most specific first (fewest partners of their own, the largest share of resource
    # allocation), then by name.
    shown = _sorted_unique(np.concatenate([I, J, M.indices.astype(np.int64)]))
    names = np.empty(S.n, dtype=object)
    names[shown] = [S.name(int(w)) for w in shown]
    deg = ctx.net.degree
    by_rank = sorted(shown.tolist(), key=lambda w: (deg[w], names[w]))
    rank = np.zeros(S.n, dtype=np.int64)
    rank[by_rank] = np.arange(len(by_rank))
    R = M.copy()
    R.indices = rank[M.indices].astype(M.indices.dtype)
    R.has_sorted_indices = False
    R.sort_indices()
    partner_idx = np.asarray(by_rank, dtype=np.int64)[R.indices] if R.nnz else R.indices
    ptr = R.indptr.tolist()
    sectors = S.sectors.common_rows(I, J)
    clusters = S.clusters.common_rows(I, J)
    requires = ctx.table.requires.ravel()[ctx.tc[I] * _K + ctx.tc[J]].tolist()
    third = ctx.table.third.ravel()[ctx.tc[I] * _K + ctx.tc[J]].tolist()
    helix = kept["helix"].tolist()
    comp = kept["comp"].tolist()
    types = S.types
    tc = ctx.tc
    rows = []
    # One conversion to Python lists, then slices: a numpy call per row costs more.
    all_partners = partner_idx.tolist()
    all_names = names[partner_idx].tolist()
    for k, (i, j) in enumerate(zip(I.tolist(), J.tolist())):
        partner_names = all_names[ptr[k]:ptr[k + 1]]
        helix_name = None
        if helix[k]:
            helix_name = next((names[w] for w in all_partners[ptr[k]:ptr[k + 1]]
                               if tc[w] == third[k]), None)
        rows.append((
            S.nodes[i], S.nodes[j], names[i], names[j], types[i], types[j],
            partner_names, sectors[k], clusters[k],
            _reason(lang, partner_names, types[i], types[j], comp[k], requires[k],
                    helix_name, sectors[k], clusters[k]),
        ))
    cols = list(zip(*rows))
    df = pd.DataFrame({
        "source": list(cols[0]),
        "target": list(cols[1]),
        "source_name": list(cols[2]),
        "target_name": list(cols[3]),
        "source_type": list(cols[4]),
        "target_type": list(cols[5]),
        "score": kept["score"],
        "common_partners": np.rint(m["cn"]).astype(np.int64),
        "jaccard": m["jaccard"],
        "adamic_adar": m["aa"],
        "resource_allocation": m["ra"],
    })
    if weight is not None:
        df["weighted_adamic_adar"] = m["waa"]
    df["complementarity"] = kept["comp"]
    df["shared_sectors"] = list(cols[7])
    df["shared_clusters"] = list(cols[8])
    df["common_partner_names"] = list(cols[6])
    df["reasons"] = list(cols[9])
    return df


def _reason(lang: str, partners: list[str], t_a, t_b, comp: float, requires: int,
            helix_name: str | None, sectors: list[str], clusters: list[str]) -> str:
    """One sentence: shared partners, complementarity, shared sectors and clusters."""
    en = lang == "en"
    parts = []
    if partners:
        names = wording.name_list(partners, len(partners), lang)
        parts.append(f"both work with {names}" if en else f"travaillent tous deux avec {names}")
    if comp > 0:
        pair = (f"{wording.type_phrase(t_a, lang)} and {wording.type_phrase(t_b, lang)}" if en
                else f"{wording.type_phrase(t_a, lang)} et {wording.type_phrase(t_b, lang)}")
        if helix_name is not None:
            pair += (f": with {helix_name} they would close a triple helix of industry, "
                     "research and government" if en else
                     f" : avec {helix_name}, ils boucleraient une triple hélice "
                     "industrie-recherche-gouvernement")
        elif requires == 1:
            pair += " of the same sector" if en else " du même secteur"
        elif requires == 2:
            pair += " of the same cluster" if en else " de la même grappe"
        parts.append(pair)
    if sectors:
        s = wording.join(sectors, lang)
        parts.append(f"both in {s}" if en else
                     (f"secteur commun : {s}" if len(sectors) == 1 else f"secteurs communs : {s}"))
    if clusters:
        c = wording.join(clusters, lang)
        parts.append(f"both in the {c} cluster" + ("s" if len(clusters) > 1 else "") if en else
                     (f"grappe commune : {c}" if len(clusters) == 1 else f"grappes communes : {c}"))
    if not parts:
        parts.append("nothing in common yet" if en else "rien en commun pour l'instant")
    return wording.sentence(parts, lang)
