"""Organization names as comparison keys, and probable duplicate records among them.

Shared by ``loaders/`` (duplicates reported at import) and ``analysis/`` (duplicate records of
one organization in the graph). A name's *key* (:func:`normalize_name`) folds what varies
between spellings of one organization: case, accents, punctuation, legal suffixes (Inc.,
Ltée, s.e.n.c.), common abbreviations (Univ., Assoc., St-), connecting words (de, du, of,
the) and a few English words for their French equivalents (University → université), so that
``"Université de Montréal"``, ``"UNIVERSITE DE MONTREAL"`` and ``"Univ. de Montréal"`` share
one key. :func:`find_duplicate_records` then scores keys that differ with rapidfuzz, only
inside blocks of keys likely to match, so that a million names take seconds, not days.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "normalize_name",
    "name_similarity",
    "find_duplicate_records",
    "DUPLICATE_COLUMNS",
    "DEFAULT_THRESHOLD",
]

#: Columns of :func:`find_duplicate_records`'s result.
DUPLICATE_COLUMNS = ["id_a", "name_a", "id_b", "name_b", "score", "where"]
#: Default least score (0–100) of a reported pair.
DEFAULT_THRESHOLD = 90.0

# ---- keys -------------------------------------------------------------------------------------

# Latin letters with diacritics → ASCII, built once so that the common case is one
# str.translate instead of a per-character NFKD pass.
def _ascii_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0x00C0, 0x0250):
        ch = chr(code)
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        if base != ch and base.isascii():
            table[code] = base
    table.update({ord(k): v for k, v in {
        "œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss", "ø": "o", "Ø": "O",
        "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "þ": "th", "ı": "i",
        "’": "'", "‘": "'", "ʼ": "'", "–": "-", "—": "-", "\u00a0": " ",
    }.items()})
    return table


_ASCII = _ascii_table()
# "S.E.N.C.R.L.", "s. a.", "U.S.A." → "sencrl", "sa", "usa": dotted initials become one token.
_DOTTED = re.compile(r"(?<![^\W_])((?:[^\W\d_]\.\s?){2,})")
_TOKEN = re.compile(r"[^\W_]+")

#: Words expanded or translated before comparison (abbreviations, English → French).
_WORDS: dict[str, str] = {
    "univ": "universite", "university": "universite",
    "assoc": "association", "asso": "association", "assn": "association",
    "cie": "compagnie", "co": "compagnie", "company": "compagnie",
    "st": "saint", "ste": "sainte", "mt": "mont",
    "mtl": "montreal", "qc": "quebec",
    "intl": "international", "natl": "national",
    "inst": "institut", "institute": "institut",
    "ctr": "centre", "ctre": "centre", "center": "centre",
    "dept": "departement", "department": "departement",
    "gouv": "gouvernement", "govt": "gouvernement", "government": "gouvernement",
    "ministry": "ministere",
    "soc": "societe", "society": "societe",
    "coop": "cooperative",
    "fed": "federation", "committee": "comite", "council": "conseil",
    "chamber": "chambre", "group": "groupe", "grp": "groupe", "network": "reseau",
    "research": "recherche", "development": "developpement", "program": "programme",
    "school": "ecole", "city": "ville", "technologies": "technologie",
    "technology": "technologie", "and": "et",
}
#: Legal-form suffixes dropped from the end of a name.
_LEGAL = frozenset({
    "inc", "incorporee", "incorporated", "ltee", "limitee", "ltd", "limited", "llc", "llp",
    "lp", "corp", "corporation", "compagnie", "senc", "sencrl", "srl", "sa", "sas", "sarl",
    "enr", "enregistree", "plc", "gmbh", "ag", "bv", "nv", "ulc", "ltda", "pty", "snc",
})
#: Connecting words dropped (unless a name is nothing else).
_STOP = frozenset({
    "de", "du", "des", "d", "l", "la", "le", "les", "et", "a", "au", "aux", "en", "pour",
    "of", "the", "for",
})


def _tokens(name: str) -> list[str]:
    text = name.translate(_ASCII).lower()
    if not text.isascii():
        # Rare path: letters outside Latin-1/Extended-A (or decomposed accents).
        text = "".join(c for c in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(c))
    if "." in text:
        text = _DOTTED.sub(lambda m: re.sub(r"[.\s]", "", m.group(1)) + " ", text)
    if "&" in text or "+" in text:
        text = text.replace("&", " et ").replace("+", " et ")
    tokens = _TOKEN.findall(text)
    # Legal forms only at the end: "Corporation de développement économique" keeps its first
    # word, "Acme Corporation" loses its last; "&" before "Cie" goes with it.
    while len(tokens) > 1 and (tokens[-1] in _LEGAL or tokens[-1] in ("cie", "co")):
        tokens.pop()
        while len(tokens) > 1 and tokens[-1] in ("et", "and"):
            tokens.pop()
    tokens = [_WORDS.get(t, t) for t in tokens]
    kept = [t for t in tokens if t not in _STOP]
    return kept or tokens


def normalize_name(name: str) -> str:
    """Return the comparison key of an organization name.

    The key is lower-case ASCII words (letters of other scripts are kept) separated by
    single spaces: accents and punctuation removed, dotted initials joined (``S.E.N.C.`` →
    ``senc``), ``&`` read as *et*, legal suffixes dropped from the end (Inc., Ltée, Ltd,
    Corp., s.e.n.c., S.A., enr. ...), abbreviations expanded (Univ. → universite, Assoc. →
    association, St/Ste → saint/sainte, Cie → compagnie ...), a few English words put in
    French (university, institute, centre, chamber, committee ...) and connecting words (de,
    du, des, l', of, the ...) removed. It is a key to compare, not a name to show.

    Parameters
    ----------
    name : str
        An organization name as typed.

    Returns
    -------
    str
        The key; ``""`` when ``name`` holds no letter or digit.

    Examples
    --------
    >>> normalize_name("Université de Montréal")
    'universite montreal'
    >>> normalize_name("UNIVERSITE DE MONTREAL") == normalize_name("Univ. de Montréal")
    True
    >>> normalize_name("Aéro-Design Laval S.E.N.C.")
    'aero design laval'
    >>> normalize_name("Dupont & Fils Ltée")
    'dupont fils'
    >>> normalize_name("Chambre de commerce de St-Jérôme")
    'chambre commerce saint jerome'
    >>> normalize_name("Montreal Chamber of Commerce")
    'montreal chambre commerce'
    """
    return " ".join(_tokens(name))


def _sorted_key(key: str) -> str:
    return " ".join(sorted(key.split()))


def name_similarity(a: str, b: str) -> float:
    """Return how alike two organization names are, from 0 to 100.

    Both names are turned into keys (:func:`normalize_name`). The score starts as rapidfuzz's
    ``token_sort_ratio`` of the keys (the Indel similarity of their sorted words, so word
    order does not matter). Names that share most of their words but differ in the rest
    ("Groupe de travail *Jopedex* sur l'exportation", "Groupe de travail *Paxtumont* sur
    l'exportation") are two bodies with one naming pattern, not one body: when each key has
    words the other lacks, the score becomes the mean of that ratio and the ratio of the
    words that differ, if lower. It is 0 when the names hold different numbers ("Groupe 1",
    "Groupe 2").

    Examples
    --------
    >>> name_similarity("Université de Montréal", "Univ. de Montréal")
    100.0
    >>> name_similarity("Groupe de travail 1", "Groupe de travail 2")
    0.0
    >>> round(name_similarity("Polytechnique Montréal", "Polytechnqiue Montreal"), 1)
    93.9
    >>> round(name_similarity("Carirus Business Network", "Cavoris Business Network"), 1)
    81.4
    """
    from rapidfuzz import fuzz

    ka, kb = normalize_name(a), normalize_name(b)
    if _digits(ka) != _digits(kb):
        return 0.0
    return _pair_score(ka, kb, float(fuzz.ratio(_sorted_key(ka), _sorted_key(kb))))


def _pair_score(ka: str, kb: str, ratio: float) -> float:
    """The score of two keys whose sorted-word ratio is ``ratio`` (see :func:`name_similarity`)."""
    from rapidfuzz import fuzz

    sa, sb = set(ka.split()), set(kb.split())
    only_a = " ".join(sorted(sa - sb))
    only_b = " ".join(sorted(sb - sa))
    if not only_a or not only_b:
        return ratio
    return min(ratio, (ratio + fuzz.ratio(only_a, only_b)) / 2)


_NUMBER_WORD = re.compile(r"\S*\d\S*")
_HAS_DIGIT = re.compile(r"\d")


def _digits(key: str) -> str:
    return " ".join(sorted(_NUMBER_WORD.findall(key)))


# ---- duplicate records ----------------------------------------------------------------------

def _as_frame(items: Any) -> pd.DataFrame:
    """Return ``items`` as a frame with ``id`` and ``name`` (strings), in the given order."""
    if items is None:
        return pd.DataFrame({"id": pd.Series(dtype=object), "name": pd.Series(dtype=object)})
    if isinstance(items, pd.DataFrame):
        frame = items[["id", "name"]]
    elif isinstance(items, Mapping):
        frame = pd.DataFrame({"id": list(items.keys()), "name": list(items.values())}, dtype=object)
    else:
        rows = [(r[0], r[1]) for r in items]
        frame = pd.DataFrame(rows, columns=["id", "name"], dtype=object)
    frame = frame.astype(object)
    return pd.DataFrame({
        "id": [str(v) for v in frame["id"]],
        "name": ["" if v is None or (isinstance(v, float) and v != v) else str(v)
                 for v in frame["name"]],
    }, dtype=object)


def _window_pairs(block: np.ndarray, member: np.ndarray, size_cap: int, window: int,
                  accept: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Candidate pairs inside blocks: every pair in a block of at most ``size_cap`` members,
    and, in a larger block (already sorted by key), each member with its ``window`` next.

    ``block`` and ``member`` are parallel arrays sorted by block then by key order;
    ``accept(a, b)``, when given, returns which of the pairs ``(a, b)`` to keep.
    """
    n = len(block)
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    starts = np.flatnonzero(np.r_[True, block[1:] != block[:-1]])
    sizes = np.diff(np.r_[starts, n])
    size_of = np.repeat(sizes, sizes)
    reach = np.where(size_of <= size_cap, size_cap - 1, window)
    left, right = [], []
    for d in range(1, int(reach.max()) + 1):
        i = np.arange(n - d)
        ok = (block[i] == block[i + d]) & (reach[i] >= d)
        if not ok.any():
            # Members of a block are consecutive: no pair at distance d, none further.
            break
        a, b = member[i[ok]], member[i[ok] + d]
        if accept is not None:
            kept = accept(a, b)
            a, b = a[kept], b[kept]
        left.append(a)
        right.append(b)
    if not left:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(left), np.concatenate(right)


def find_duplicate_records(
    items: Any,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    known: Any = None,
    block_size: int = 16,
    window: int = 6,
) -> pd.DataFrame:
    """Find probable duplicate records: pairs of organizations whose names are alike.

    Names are compared by their keys (:func:`normalize_name`). Records with equal keys score
    100. Records with different keys are scored as by :func:`name_similarity` (rapidfuzz's
    ``token_sort_ratio``, lowered when the words that differ are unlike) only when they
    share a *block*: one of the two rarest words of their keys, or a neighbourhood of
    ``window`` keys in alphabetical order of their words or of their reversed spelling
    (which catches a typo in a one-word name). A block larger than ``block_size`` is
    searched by that same sliding window, so the work grows linearly with the number of
    names (100,000 names: about 2 s of CPU; a million: about 35 s). Pairs whose names hold
    different numbers are never reported. Nothing is merged: this only reports.

    Parameters
    ----------
    items : DataFrame with ``id`` and ``name`` columns, mapping id → name, or iterable of
        ``(id, name, ...)`` tuples
        The records to check (for instance, those of the files being imported).
    threshold : float, default 90
        Least score (0–100) of a reported pair.
    known : same shapes as ``items``, optional
        Records already stored (for instance, the graph's organizations): each of
        ``items`` is also compared with them, but they are not compared with each other.
        A known record with the id of one of ``items`` is skipped (it is the same record).
    block_size, window : int
        Largest block searched exhaustively, and the reach of the sliding window.

    Returns
    -------
    pandas.DataFrame
        Columns ``id_a``, ``name_a``, ``id_b``, ``name_b``, ``score`` (float, 0–100) and
        ``where``: ``"file"`` when both records are among ``items`` (``a`` comes first in
        ``items``), ``"graph"`` when ``b`` is a known record. Sorted by descending score,
        then by ``a``'s and ``b``'s order. Among many records with one key (more than 20),
        each is paired with the first rather than with all others.

    Examples
    --------
    >>> pairs = find_duplicate_records([
    ...     ("u1", "Université de Montréal"),
    ...     ("u2", "UNIVERSITE DE MONTREAL"),
    ...     ("u3", "Univ. de Montréal"),
    ...     ("p1", "Polytechnique Montréal"),
    ... ], known=[("g9", "Polytechnique Montreal inc.")])
    >>> pairs[["id_a", "id_b", "score", "where"]]
      id_a id_b  score  where
    0   u1   u2  100.0   file
    1   u1   u3  100.0   file
    2   u2   u3  100.0   file
    3   p1   g9  100.0  graph
    """
    mine = _as_frame(items)
    theirs = _as_frame(known)
    if len(theirs):
        theirs = theirs[~theirs["id"].isin(set(mine["id"]))]
    n_mine = len(mine)
    frame = pd.concat([mine, theirs], ignore_index=True)
    n = len(frame)
    if n < 2 or n_mine == 0:
        return _empty_result()
    # Keys are computed once per distinct spelling: real lists repeat names a lot.
    spelling_of, spellings = pd.factorize(frame["name"], sort=False)
    spelling_keys = np.array([normalize_name(s) for s in spellings.tolist()], dtype=object)
    key_of, uniq = pd.factorize(pd.Series(spelling_keys[spelling_of], dtype=object), sort=False)
    keys = [str(k) for k in uniq.tolist()]
    known_flag = np.arange(n) >= n_mine
    # The records of each key, in input order (CSR layout: members[start[k]:start[k+1]]).
    members = np.argsort(key_of, kind="stable")
    count = np.bincount(key_of, minlength=len(keys))
    start = np.r_[0, np.cumsum(count)]
    has_mine = np.zeros(len(keys), bool)
    has_mine[key_of[:n_mine]] = True
    usable = np.array([bool(k) for k in keys]) & has_mine

    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    ss: list[np.ndarray] = []
    # 1. Equal keys score 100 (a key without letters or digits matches nothing). Within a
    # group of up to 20 records every pair is given; a larger group pairs each with its first
    # (a hostile list of 10,000 equal names gives 9,999 pairs, not 50 million).
    groups = np.flatnonzero(usable & (count > 1))
    for size in np.unique(np.minimum(count[groups], 21)):
        these = groups[np.minimum(count[groups], 21) == size]
        if size <= 20:
            block = members[start[these][:, None] + np.arange(size)]
            i, j = np.triu_indices(size, 1)
            xs.append(block[:, i].ravel())
            ys.append(block[:, j].ravel())
        else:
            sizes = count[these]
            first = np.repeat(members[start[these]], sizes - 1)
            offset = np.arange((sizes - 1).sum()) - np.repeat(
                np.cumsum(sizes - 1) - (sizes - 1), sizes - 1)
            xs.append(first)
            ys.append(members[np.repeat(start[these], sizes - 1) + 1 + offset])
        ss.append(np.full(len(xs[-1]), 100.0))
    # 2. Different keys sharing a block, scored once per pair of keys, then given to every
    # pair of their records (to the first of each when that would exceed 400 pairs).
    lo, hi, score = _scored_key_pairs(keys, usable, threshold, block_size, window)
    ca, cb = count[lo], count[hi]
    big = ca * cb > 400
    ca, cb = np.where(big, 1, ca), np.where(big, 1, cb)
    total = ca * cb
    pair = np.repeat(np.arange(len(lo)), total)
    t = np.arange(total.sum()) - np.repeat(np.cumsum(total) - total, total)
    xs.append(members[start[lo][pair] + t // cb[pair]])
    ys.append(members[start[hi][pair] + t % cb[pair]])
    ss.append(score[pair])

    x = np.concatenate(xs).astype(np.int64)
    y = np.concatenate(ys).astype(np.int64)
    sc = np.round(np.concatenate(ss), 1)
    x, y = np.minimum(x, y), np.maximum(x, y)  # items before known, earlier before later
    id_code = pd.factorize(frame["id"])[0]
    keep = ~(known_flag[x] & known_flag[y]) & (id_code[x] != id_code[y])
    x, y, sc = x[keep], y[keep], sc[keep]
    order = np.lexsort((y, x, -sc))
    x, y, sc = x[order], y[order], sc[order]
    ids = frame["id"].to_numpy(dtype=object)
    names = frame["name"].to_numpy(dtype=object)
    return pd.DataFrame({
        "id_a": ids[x], "name_a": names[x], "id_b": ids[y], "name_b": names[y],
        "score": sc.astype(float),
        "where": np.where(known_flag[y], "graph", "file").astype(object),
    })


def _empty_result() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c == "score" else object)
                         for c in DUPLICATE_COLUMNS})


def _argsort_text(texts: list[str]) -> np.ndarray:
    """Order of ``texts`` by their first 40 characters' UTF-8 bytes (ties in input order).

    Fixed-width bytes sort in C, several times faster than an object array of str; the
    first 40 characters are plenty to place neighbours side by side.
    """
    encoded = np.array([t[:40].encode("utf-8", "surrogatepass") for t in texts], dtype="S160")
    return np.argsort(encoded, kind="stable").astype(np.int64)


def _rarest_word_blocks(keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(block, member)``: each key joins the blocks of its two rarest words (words held by
    one key only make no block). Ties are broken alphabetically, so that the blocks do not
    depend on input order."""
    words = [list(set(k.split())) for k in keys]
    count = np.fromiter((len(w) for w in words), np.int64, len(words))
    owner = np.repeat(np.arange(len(keys), dtype=np.int64), count)
    flat = [t for w in words for t in w]
    if not flat:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    code, _ = pd.factorize(pd.Series(flat, dtype=object), sort=True)  # alphabetical codes
    df = np.bincount(code)
    order = np.lexsort((code, df[code], owner))
    owner, code = owner[order], code[order]
    first = np.r_[True, owner[1:] != owner[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(owner)), 0))
    keep = (np.arange(len(owner)) - start < 2) & (df[code] > 1)
    return code[keep].astype(np.int64), owner[keep]


def _scored_key_pairs(keys: list[str], usable: np.ndarray, threshold: float, block_size: int,
                      window: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(lo, hi, score)``: pairs of distinct keys sharing a block whose score reaches
    ``threshold``. Only pairs with a ``usable`` key (non-empty, held by an item) count."""
    from rapidfuzz import fuzz, process

    n_keys = len(keys)
    sorted_keys = np.asarray([_sorted_key(k) for k in keys], dtype=object)
    length = np.fromiter((len(k) for k in keys), np.int64, n_keys)
    digits = pd.factorize(pd.Series([_digits(k) if _HAS_DIGIT.search(k) else "" for k in keys],
                                    dtype=object))[0]

    def accept(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # Cheap vectorised tests first, pair by pair as candidates are made, so that the
        # candidates never all sit in memory: an item on one side, no empty key, the same
        # numbers, and lengths close enough for the Indel similarity 2m/(la+lb) to reach
        # the threshold at all.
        la, lb = length[a], length[b]
        return ((usable[a] | usable[b]) & (la > 0) & (lb > 0) & (digits[a] == digits[b])
                & (200 * np.minimum(la, lb) >= threshold * (la + lb)))

    by_words = _argsort_text(sorted_keys.tolist())
    found_a, found_b = [], []
    block, member = _rarest_word_blocks(keys)
    if len(block):
        rank = np.empty(n_keys, np.int64)
        rank[by_words] = np.arange(n_keys)
        order = np.lexsort((rank[member], block))
        a1, b1 = _window_pairs(block[order], member[order], block_size, window, accept)
        found_a.append(a1)
        found_b.append(b1)
    # Sorted neighbourhoods over all keys: by sorted words, and by reversed spelling (which
    # brings together one-word names that differ near their start).
    by_reversed = _argsort_text([k[::-1] for k in keys])
    for order in (by_words, by_reversed):
        a1, b1 = _window_pairs(np.zeros(n_keys, np.int64), order, 0, window, accept)
        found_a.append(a1)
        found_b.append(b1)
    ca = np.concatenate(found_a)
    cb = np.concatenate(found_b)
    code = np.sort(np.minimum(ca, cb) * n_keys + np.maximum(ca, cb))
    code = code[np.r_[True, code[1:] != code[:-1]]] if len(code) else code
    lo, hi = code // n_keys, code % n_keys
    lo, hi = lo[lo != hi], hi[lo != hi]
    if not len(lo):
        return lo, hi, np.empty(0, float)
    # rapidfuzz copies every string it is given: pairs are scored a million at a time so
    # that memory stays flat however many candidates there are.
    scores = np.empty(len(lo), float)
    step = 1 << 20
    for at in range(0, len(lo), step):
        scores[at:at + step] = process.cpdist(
            sorted_keys[lo[at:at + step]].tolist(), sorted_keys[hi[at:at + step]].tolist(),
            scorer=fuzz.ratio, score_cutoff=threshold, workers=-1)
    hit = np.flatnonzero(scores >= threshold)
    lo, hi, ratio = lo[hit], hi[hit], scores[hit]
    # The full score (see name_similarity), only for the pairs whose ratio passed: the words
    # each key has that the other lacks, compared in one batch.
    words: dict[int, frozenset[str]] = {}
    only_a, only_b = [], []
    for a, b in zip(lo.tolist(), hi.tolist()):
        wa = words.get(a) or words.setdefault(a, frozenset(keys[a].split()))
        wb = words.get(b) or words.setdefault(b, frozenset(keys[b].split()))
        only_a.append(" ".join(sorted(wa - wb)))
        only_b.append(" ".join(sorted(wb - wa)))
    final = ratio.copy()
    differ = np.fromiter((bool(x and y) for x, y in zip(only_a, only_b)), bool, len(only_a))
    if differ.any():
        idx = np.flatnonzero(differ)
        rest = np.asarray(process.cpdist([only_a[i] for i in idx], [only_b[i] for i in idx],
                                         scorer=fuzz.ratio, workers=-1), dtype=float)
        final[idx] = np.minimum(ratio[idx], (ratio[idx] + rest) / 2)
    keep = final >= threshold
    return lo[keep], hi[keep], final[keep]
