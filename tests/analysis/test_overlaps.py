"""Overlapping organizations and duplicated structures: exact set arithmetic, explained.

Every index is checked against plain Python sets (and networkx's Jaccard coefficient) on
random snapshots; the score and the reasons on small named graphs checked by hand; and the
analyses on the classic networks against what an analyst expects of them.
"""

from __future__ import annotations

import csv
import itertools
import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from analysis import duplicate_records, find_duplicate_structures, find_overlaps
from analysis._matrices import fold
from analysis._network import partnership_network
from analysis import overlaps
from analysis._wording import join, name_list, number, percent, sentence
from analysis.overlaps import FRENCH_STOP_WORDS, OVERLAP_WEIGHTS, mandate_similarity
from maillage.errors import InputError
from tests.analysis.classic import CLASSIC_DIR, load_classic
from tests.analysis.random_snapshots import make_snapshot

MEMBERSHIP = ("MEMBER_OF", "PARTICIPATES_IN")


def _snapshot(edges, **nodes) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph()
    for n, attrs in nodes.items():
        G.add_node(n, **attrs)
    for u, v, t in edges:
        G.add_edge(u, v, key=t, type=t)
    return G


def _memberships(G) -> dict:
    return {v: {t for _, t, d in G.out_edges(v, data=True) if d.get("type") in MEMBERSHIP and t != v}
            for v in G if G.nodes[v].get("type") != "cluster"}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _with_mandates(G, seed: int) -> nx.MultiDiGraph:
    words = ["talent", "export", "innovation", "aérospatiale", "santé", "logiciels", "formation"]
    rng = np.random.default_rng(seed)
    for k, v in enumerate(G):
        if G.nodes[v].get("type") != "cluster" and k % 3:
            G.nodes[v]["mandate"] = " ".join(rng.choice(words, 4))
            G.nodes[v]["region"] = ["Laval", "Montréal", None][k % 3]
    return G


# --- exact indexes -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n, p, seed", [(30, 0.1, 1), (60, 0.05, 2), (40, 0.3, 3), (80, 0.04, 4)])
def test_indexes_equal_set_arithmetic_and_networkx(n, p, seed):
    G = _with_mandates(make_snapshot(n, p, seed=seed), seed)
    df = find_overlaps(G, min_score=0.0, min_shared=1)
    H = partnership_network(G)
    members = _memberships(G)
    assert len(df) > 0
    for row in df.itertuples():
        a, b = row.a, row.b
        na, nb = set(H[a]) - {b}, set(H[b]) - {a}
        assert row.partner_jaccard == pytest.approx(_jaccard(na, nb), abs=1e-12)
        assert row.shared_partners == len(na & nb)
        if not H.has_edge(a, b):
            # For unlinked pairs, the partner index is networkx's Jaccard coefficient.
            assert row.partner_jaccard == pytest.approx(next(nx.jaccard_coefficient(H, [(a, b)]))[2], abs=1e-9)
        assert row.membership_jaccard == pytest.approx(_jaccard(members[a], members[b]), abs=1e-12)
        sa = {fold(s) for s in G.nodes[a].get("sectors", [])}
        sb = {fold(s) for s in G.nodes[b].get("sectors", [])}
        assert row.sector_jaccard == pytest.approx(_jaccard(sa, sb), abs=1e-12)
        ra, rb = G.nodes[a].get("region"), G.nodes[b].get("region")
        assert row.same_region == (ra is not None and ra == rb)
        ma, mb = G.nodes[a].get("mandate"), G.nodes[b].get("mandate")
        assert (row.mandate_similarity == row.mandate_similarity) == bool(ma and mb)


@pytest.mark.parametrize("seed", [5, 6])
def test_score_is_the_weighted_mean_of_the_signals_that_apply(seed):
    G = _with_mandates(make_snapshot(50, 0.1, seed=seed), seed)
    df = find_overlaps(G, min_score=0.0, min_shared=1)
    members = _memberships(G)
    H = partnership_network(G)
    for row in df.itertuples():
        a, b = row.a, row.b
        applies = {
            "membership_jaccard": bool(members[a] | members[b]),
            "partner_jaccard": bool((set(H[a]) - {b}) | (set(H[b]) - {a})),
            "sector_jaccard": bool(G.nodes[a].get("sectors") or G.nodes[b].get("sectors")),
            "same_region": G.nodes[a].get("region") is not None and G.nodes[b].get("region") is not None,
            "mandate_similarity": row.mandate_similarity == row.mandate_similarity,
        }
        values = {k: float(getattr(row, k)) if applies[k] else 0.0 for k in OVERLAP_WEIGHTS}
        num = sum(OVERLAP_WEIGHTS[k] * values[k] for k in OVERLAP_WEIGHTS)
        den = sum(OVERLAP_WEIGHTS[k] for k in OVERLAP_WEIGHTS if applies[k])
        assert row.score == pytest.approx(num / den, abs=1e-9)


def test_every_pair_sharing_a_partner_is_a_candidate():
    G = make_snapshot(50, 0.08, seed=7)
    df = find_overlaps(G, min_score=0.0, min_shared=1)
    H = partnership_network(G)
    found = {frozenset((r.a, r.b)) for r in df.itertuples()}
    expected = {frozenset((a, b)) for a, b in itertools.combinations(H, 2) if (set(H[a]) - {b}) & (set(H[b]) - {a})}
    assert expected <= found


def test_min_shared_leaves_out_pairs_tied_through_one_organization():
    # Two firms whose only tie is the same chamber "overlap" completely on one membership:
    # not an overlap worth a board's attention. Two shared ties are.
    G = _snapshot([("a", "ch", "MEMBER_OF"), ("b", "ch", "MEMBER_OF")],
                  a=dict(type="company"), b=dict(type="company"), ch=dict(type="association"))
    assert find_overlaps(G).empty
    assert len(find_overlaps(G, min_shared=1)) == 1
    G.add_edge("a", "t", key="MEMBER_OF", type="MEMBER_OF")
    G.add_edge("b", "t", key="MEMBER_OF", type="MEMBER_OF")
    row = find_overlaps(G).iloc[0]
    assert (row.a, row.b, row.membership_jaccard, row.shared_partners) == ("a", "b", 1.0, 2)


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.8])
def test_membership_only_weights_give_exactly_the_pairs_above_the_threshold(threshold):
    # The benchmark's check: with memberships alone, the pairs are those of exact set
    # arithmetic (one shared membership is enough when partners weigh nothing).
    G = make_snapshot(80, 0.06, seed=8)
    members = {v: s for v, s in _memberships(G).items() if s}
    expected = {frozenset((a, b)) for a, b in itertools.combinations(members, 2)
                if _jaccard(members[a], members[b]) >= threshold}
    df = find_overlaps(G, min_score=threshold, weights={"membership_jaccard": 1.0})
    assert {frozenset((r.a, r.b)) for r in df.itertuples()} == expected
    assert (df.score == df.membership_jaccard).all()


def test_hub_memberships_find_no_pairs_but_count_in_every_index():
    # With a cap of 3, a body of 4 or more members does not make pairs: exactly the pairs that
    # share a smaller body are found, with their indexes counting every body.
    G = make_snapshot(80, 0.06, seed=8)
    members = {v: s for v, s in _memberships(G).items() if s}
    size = {}
    for s in members.values():
        for body in s:
            size[body] = size.get(body, 0) + 1
    df = find_overlaps(G, min_score=1e-9, weights={"membership_jaccard": 1.0}, hub_cap=3)
    found = {frozenset((r.a, r.b)): r.membership_jaccard for r in df.itertuples()}
    small = {frozenset((a, b)) for a, b in itertools.combinations(members, 2)
             if any(size[x] <= 3 for x in members[a] & members[b])}
    assert set(found) == small and any(size[x] > 3 for x in size)
    for pair, j in found.items():
        a, b = tuple(pair)
        assert j == pytest.approx(_jaccard(members[a], members[b]), abs=1e-12)


def test_pruning_before_the_mandates_changes_nothing():
    G = _with_mandates(make_snapshot(70, 0.08, seed=9), 9)
    everything = find_overlaps(G, min_score=0.0)
    for t in (0.4, 0.6, 0.7):
        kept = find_overlaps(G, min_score=t)
        expected = everything[everything.score >= t - 1e-12].reset_index(drop=True)
        pd.testing.assert_frame_equal(kept, expected, check_dtype=False, check_index_type=False)


@pytest.mark.parametrize("seed", [9, 10])
def test_hubs_are_counted_only_for_pairs_that_can_reach_the_threshold(monkeypatch, seed):
    # With a low hub cap nearly every pair touches a hub, as at a million organizations.
    # Shared hubs are counted only for pairs that could reach min_score if they shared
    # every hub: the rows must be those of the run that counts them for every pair.
    import sys

    G = _with_mandates(make_snapshot(90, 0.05, seed=seed), seed)
    H = nx.barabasi_albert_graph(90, 2, seed=seed)
    G.add_edges_from((f"o{u}", f"o{v}", "PARTNERS_WITH", {"type": "PARTNERS_WITH"}) for u, v in H.edges)
    G.add_edges_from((f"o{u}", f"o{u % 5}", "MEMBER_OF", {"type": "MEMBER_OF"}) for u in range(5, 90))
    counted = []
    real_sums, real_best = overlaps.pair_sums, overlaps._best_scores

    def counting(X, I, J, *a, **k):
        counted.append(len(I))
        return real_sums(X, I, J, *a, **k)

    def unbounded(*a):
        out = real_best(*a)
        if sys._getframe(1).f_code.co_name == "find_overlaps":  # the bound: every pair passes
            return (*out[:4], np.full(len(out[4]), np.inf))
        return out

    monkeypatch.setattr(overlaps, "pair_sums", counting)
    for t in (0.3, 0.4):
        counted.clear()
        kept = find_overlaps(G, min_score=t, hub_cap=4)
        bounded = sum(counted)
        with monkeypatch.context() as m:
            m.setattr(overlaps, "_best_scores", unbounded)
            counted.clear()
            expected = find_overlaps(G, min_score=t, hub_cap=4)
        pd.testing.assert_frame_equal(kept, expected)
        # (pair_sums also compares mandates: the counts are of pairs looked at, all told)
        assert len(kept) and 0 < bounded < sum(counted)


def test_organizations_without_ties_are_compared_by_sector_region_and_mandate():
    mandate = "Accompagner les entreprises du numérique dans leur croissance"
    nodes = {x: dict(type="association", sectors=["TIC"], region="Laval", mandate=mandate) for x in ("a", "b")}
    nodes["c"] = dict(type="association", sectors=["mode"], region="Laval", mandate=mandate)
    df = find_overlaps(_snapshot([], **nodes))
    assert [(r.a, r.b) for r in df.itertuples()] == [("a", "b")]
    assert df.score[0] == pytest.approx(1.0) and df.membership_jaccard[0] == 0.0


def test_mandates_edited_in_place_are_compared_afresh():
    # The mandates' TF-IDF is kept with the graph between calls: an edit, even in place, must
    # be seen by the next call.
    mandate = "Accompagner les entreprises du numérique dans leur croissance"
    nodes = {x: dict(type="association", sectors=["TIC"], region="Laval", mandate=mandate) for x in ("a", "b")}
    G = _snapshot([], **nodes)
    assert find_overlaps(G).mandate_similarity[0] == pytest.approx(1.0)
    fitted = overlaps._TFIDF[G][1]
    assert find_overlaps(G).mandate_similarity[0] == pytest.approx(1.0)
    assert overlaps._TFIDF[G][1] is fitted  # the same texts: not fitted again
    G.nodes["b"]["mandate"] = "Former des soudeurs pour les chantiers navals"
    df = find_overlaps(G, min_score=0.0, min_shared=0)
    assert df.mandate_similarity[0] == pytest.approx(0.0)


def test_top_and_sorting():
    G = _with_mandates(make_snapshot(60, 0.1, seed=4), 4)
    df = find_overlaps(G, min_score=0.3, min_shared=1)
    assert (df["score"] >= 0.3).all() and df["score"].is_monotonic_decreasing
    assert find_overlaps(G, min_score=0.3, min_shared=1, top=3).equals(df.head(3))


def test_bad_options_are_refused():
    with pytest.raises(InputError, match="Unknown weight"):
        find_overlaps(nx.path_graph(3), weights={"luck": 1.0})
    with pytest.raises(InputError, match="'en' or 'fr'"):
        find_overlaps(nx.path_graph(3), lang="es")


def test_tolerates_graphs_without_attributes():
    df = find_overlaps(nx.path_graph(5), min_score=0.0, min_shared=1)
    assert set(df.columns) >= {"a", "b", "score", "reasons"} and len(df) == 3
    assert find_overlaps(nx.MultiDiGraph()).empty


# --- mandates and reasons ----------------------------------------------------------------------------


def test_mandate_similarity_folds_accents_ligatures_and_stop_words():
    assert mandate_similarity("Le développement de la main-d'œuvre", "developpement main d'oeuvre") == pytest.approx(1.0)
    assert mandate_similarity("Soutenir l'exportation", "Former des soudeurs") == 0.0
    assert mandate_similarity("", "quelque chose") == 0.0
    assert {"les", "des", "pour", "avec"} <= FRENCH_STOP_WORDS


def _chambers():
    nodes = {n: dict(name=f"Chambre {n.upper()}", type="association", sectors=["Commerce"], region="Longueuil",
                     mandate="Représenter les entreprises de la Rive-Sud") for n in ("a", "b")}
    nodes.update(f=dict(name="Fédération des chambres", type="association"), t=dict(name="Table Rive-Sud"))
    return _snapshot([(x, y, "MEMBER_OF") for x in "ab" for y in "ft"], **nodes)


def test_reasons_in_english():
    assert find_overlaps(_chambers()).reasons[0] == (
        "Share all their 2 memberships (Fédération des chambres and Table Rive-Sud), all their 2 partners "
        "(Fédération des chambres and Table Rive-Sud), the same sector (Commerce), the same region (Longueuil) "
        "and near-identical mandates (1.00).")


def test_reasons_in_french():
    assert find_overlaps(_chambers(), lang="fr").reasons[0] == (
        "Partagent toutes leurs 2 adhésions (Fédération des chambres et Table Rive-Sud), tous leurs 2 partenaires "
        "(Fédération des chambres et Table Rive-Sud), le même secteur (Commerce), la même région (Longueuil) "
        "et des mandats presque identiques (1,00).")


def test_partial_overlaps_are_stated_as_shares():
    nodes = {x: dict(name=x.upper()) for x in "ab"}
    edges = [(x, p, "PARTNERS_WITH") for x in "ab" for p in ("p1", "p2", "p3")] + [("a", "p4", "PARTNERS_WITH")]
    G = _snapshot(edges, **nodes)
    for lang, text in (("en", "Share 75% of their partners (p1, p2 and p3)."),
                       ("fr", "Partagent 75 % de leurs partenaires (p1, p2 et p3).")):
        df = find_overlaps(G, min_score=0.0, lang=lang)
        row = df[df.a.eq("a") & df.b.eq("b")].iloc[0]
        assert row.partner_jaccard == 0.75 and row.reasons == text


def _expected_reason(G, H, members, row, lang) -> str:
    """The reason of one pair written clause by clause from plain sets: the reference for
    find_overlaps, which writes the clauses of all pairs at once."""
    en = lang == "en"
    a, b = row.a, row.b

    def names(nodes):
        return sorted((G.nodes[x].get("name", str(x)) for x in nodes), key=fold)

    parts = []
    shared, union = members[a] & members[b], members[a] | members[b]
    if shared:
        mi, mu, listed = len(shared), len(union), name_list(names(shared), len(shared), lang)
        parts.append(f"their one membership ({listed})" if en and mi == mu == 1 else
                     f"leur unique adhésion ({listed})" if mi == mu == 1 else
                     f"all their {mu} memberships ({listed})" if en and mi == mu else
                     f"toutes leurs {mu} adhésions ({listed})" if mi == mu else
                     f"{mi} of their {mu} memberships ({listed})" if en else
                     f"{mi} de leurs {mu} adhésions ({listed})")
    na, nb = set(H[a]) - {b} if a in H else set(), set(H[b]) - {a} if b in H else set()
    if na & nb:
        pi, pu, listed = len(na & nb), len(na | nb), name_list(names(na & nb), len(na & nb), lang)
        parts.append(f"their one partner ({listed})" if en and pi == pu == 1 else
                     f"leur unique partenaire ({listed})" if pi == pu == 1 else
                     f"all their {pu} partners ({listed})" if en and pi == pu else
                     f"tous leurs {pu} partenaires ({listed})" if pi == pu else
                     f"{percent(pi / pu, lang)} of their partners ({listed})" if en else
                     f"{percent(pi / pu, lang)} de leurs partenaires ({listed})")
    sa, sb = set(G.nodes[a].get("sectors", [])), set(G.nodes[b].get("sectors", []))
    if sa & sb:
        si, su, listed = len(sa & sb), len(sa | sb), join(sorted(sa & sb, key=fold), lang)
        parts.append(f"the same sector ({listed})" if en and si == su == 1 else
                     f"le même secteur ({listed})" if si == su == 1 else
                     f"the same sectors ({listed})" if en and si == su else
                     f"les mêmes secteurs ({listed})" if si == su else
                     f"{si} of their {su} sectors ({listed})" if en else
                     f"{si} de leurs {su} secteurs ({listed})")
    region = G.nodes[a].get("region")
    if region is not None and region == G.nodes[b].get("region"):
        parts.append(f"the same region ({region})" if en else f"la même région ({region})")
    cos = row.mandate_similarity
    if cos >= 0.3:
        level = 0 if cos >= 0.9 else 1 if cos >= 0.7 else 2
        words = (["near-identical", "very similar", "similar"][level] + f" mandates ({number(cos, lang)})" if en
                 else "des mandats " + ["presque identiques", "très semblables", "semblables"][level]
                 + f" ({number(cos, lang)})")
        parts.append(words)
    return sentence([("share " if en else "partagent ") + join(parts, lang)], lang) if parts else ""


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_reasons_state_what_set_arithmetic_finds(lang):
    # A dense graph for pairs with more than three shared memberships and partners ("and 4
    # others"), a sparse one for pairs sharing one of each; partial shares of every kind,
    # shared regions and mandates at every level.
    reasons = []
    for n, p, seed in ((40, 0.3, 3), (60, 0.08, 11)):
        G = _with_mandates(make_snapshot(n, p, seed=seed), seed)
        df = find_overlaps(G, min_score=0.0, min_shared=1, lang=lang)
        H = partnership_network(G)
        members = _memberships(G)
        for row in df.itertuples():
            assert row.reasons == _expected_reason(G, H, members, row, lang)
        reasons.extend(df.reasons)
    for words in (["others)", "autres)"], ["% of", "% de"], ["their one membership", "leur unique adhésion"],
                  ["all their", "toutes leurs"], ["memberships (", "adhésions ("], ["sectors (", "secteurs ("],
                  ["same sectors", "mêmes secteurs"], ["same region", "même région"],
                  ["near-identical", "presque identiques"], ["very similar", "très semblables"]):
        assert any(words[lang == "fr"] in r for r in reasons), words


def test_signals_of_weight_zero_are_still_reported_exactly():
    # Memberships alone score the pairs; the other signals, worked out for the reported pairs
    # only, read as when every signal counts.
    G = _with_mandates(make_snapshot(60, 0.1, seed=12), 12)
    only = find_overlaps(G, min_score=0.2, weights={"membership_jaccard": 1.0})
    every = find_overlaps(G, min_score=0.0, min_shared=1)
    both = only.merge(every, on=["a", "b"], suffixes=("", "_every"))
    assert len(both) == len(only) > 0
    for column in ("partner_jaccard", "sector_jaccard", "same_region", "mandate_similarity",
                   "shared_memberships", "shared_partners", "shared_partner_names", "shared_sectors",
                   "reasons"):
        np.testing.assert_array_equal(both[column].to_numpy(), both[f"{column}_every"].to_numpy())


@pytest.mark.parametrize("texts", [
    ["Développer la main-d'œuvre", "", "Former des soudeurs", "Développer la main-d'œuvre", "le la les",
     "Soutenir l'exportation des PME", "former DES soudeurs en région", "   "],
    # Word characters (digits, underscores), one-letter words, ligatures, combining accents at
    # the start of a text, other scripts and control characters.
    ["x_y 3D a b 12 Æther", "\u0301ete été\tÉTÉ\nete", "İstanbul ﬁnance ２３ ①", "\x01a\x01b", "the and",
     "naïve naïve naïve"],
    ["le la", "des"],  # nothing but stop words
    ["texte avec un \0 nul", "texte"],  # a NUL: scikit-learn's own count
])
def test_mandate_vectors_are_scikit_learns_bit_for_bit(texts):
    ours = overlaps._tfidf(texts * 2)
    try:
        theirs = overlaps._vectorizer(overlaps._stop_words()).fit_transform(texts * 2)
    except ValueError:  # empty vocabulary
        assert ours is None
        return
    for part in ("data", "indices", "indptr"):
        # The order of each row's entries included: it sets the sums.
        np.testing.assert_array_equal(getattr(ours, part), getattr(theirs, part))


# --- duplicated structures ------------------------------------------------------------------------------


def test_duplicate_structures_group_three_copies():
    G = nx.MultiDiGraph()
    mandate = "Attirer et retenir les talents en aérospatiale"
    for s in ("wg1", "wg2", "wg3"):
        G.add_node(s, name=f"Groupe {s}", type="structure", mandate=mandate, clusters=["Aéro"])
    G.add_node("other", name="Comité export", type="structure", mandate="Exporter vers l'Europe")
    for m in range(6):
        G.add_node(m, name=f"Membre {m}", type="company")
        for s in ("wg1", "wg2", "wg3"):
            G.add_edge(m, s, type="MEMBER_OF")
    G.add_edge(0, "other", type="MEMBER_OF")
    df = find_duplicate_structures(G)
    assert len(df) == 1
    row = df.iloc[0]
    assert row.group == "G1" and row.members == ["wg1", "wg2", "wg3"] and row["size"] == 3
    assert row.shared_members == 6 and row.shared_member_names == [f"Membre {m}" for m in range(6)]
    assert row.member_jaccard == pytest.approx(1.0) and row.mandate_similarity == pytest.approx(1.0)
    assert row.clusters == ["Aéro"]
    assert row.reasons == ("Groupe wg1, Groupe wg2 and Groupe wg3 share all their 6 members (Membre 0, Membre 1, "
                           "Membre 2 and 3 others) and have near-identical mandates (1.00): candidates for a merger.")
    assert find_duplicate_structures(G, lang="fr").reasons[0] == (
        "Groupe wg1, Groupe wg2 et Groupe wg3 ont en commun tous leurs 6 membres (Membre 0, Membre 1, Membre 2 et "
        "3 autres) et des mandats presque identiques (1,00) : candidats à une fusion.")


def test_structures_with_different_members_are_not_duplicates():
    G = nx.MultiDiGraph()
    G.add_node("s1", type="structure", mandate="Same words here")
    G.add_node("s2", type="structure", mandate="Same words here")
    for m in range(4):
        G.add_edge(f"x{m}", "s1", type="MEMBER_OF")
        G.add_edge(f"y{m}", "s2", type="MEMBER_OF")
    G.add_edge("x0", "s2", type="MEMBER_OF")
    # member Jaccard 1/8, mandates identical: 0.6 * 0.125 + 0.4 * 1 = 0.475 < 0.6.
    assert find_duplicate_structures(G).empty
    row = find_duplicate_structures(G, min_score=0.4).iloc[0]
    assert row.score == pytest.approx(0.6 / 8 + 0.4)


def test_bodies_without_members_are_duplicates_by_their_mandates_alone():
    G = _snapshot([], a=dict(type="structure", mandate="Table de concertation sur l'exportation"),
                  b=dict(type="association", mandate="table concertation exportation"),
                  c=dict(type="structure", mandate="Programme de formation"), d=dict(type="company", mandate="x"))
    df = find_duplicate_structures(G)
    assert df.members.tolist() == [["a", "b"]] and df.types[0] == ["structure", "association"]
    assert df.shared_members[0] == 0 and df.reasons[0].startswith("a and b have near-identical mandates")


def test_group_indexes_equal_set_arithmetic():
    G = make_snapshot(120, 0.05, seed=14)
    for v in G:
        if G.nodes[v].get("type") in ("company", "government"):
            G.nodes[v]["type"] = "structure"
    df = find_duplicate_structures(G, min_score=0.3)
    assert len(df) > 0
    members = {}
    for u, v, d in G.edges(data=True):
        if d["type"] in MEMBERSHIP and u != v:
            members.setdefault(v, set()).add(u)
    for row in df.itertuples():
        sets = [members.get(m, set()) for m in row.members]
        assert row.shared_members == len(set.intersection(*sets))
        assert row.member_jaccard == pytest.approx(min(_jaccard(a, b) for a, b in itertools.combinations(sets, 2)))


# --- duplicate records: the loaders' finder, reused --------------------------------------------------------


def test_duplicate_records_reuse_the_loaders_matcher():
    G = nx.Graph()
    G.add_node("u1", name="Université de Montréal", type="institution")
    G.add_node("u2", name="Univ. de Montréal", type="institution")
    G.add_node("k", name="Université de Montréal", type="cluster")
    df = duplicate_records(G)
    assert df[["id_a", "id_b"]].values.tolist() == [["u1", "u2"]]


# --- the classic networks ------------------------------------------------------------------------------


def test_galaskiewicz_ceos_sharing_most_clubs_overlap_most():
    # In the CEOs-and-clubs affiliation network the only signals are memberships, and a CEO's
    # partners are exactly its clubs: a CEO pair's score is its membership Jaccard index. The
    # pair with the highest index, counted by hand from the published incidence matrix (CEO 15
    # and CEO 23: 4 clubs in common out of 5), must lead the CEO pairs.
    with open(CLASSIC_DIR / "galaskiewicz_ceos_clubs_incidence.csv", newline="") as f:
        clubs = {r["ceo"]: {c for c, x in r.items() if c != "ceo" and x == "1"} for r in csv.DictReader(f)}
    jac = {p: _jaccard(clubs[p[0]], clubs[p[1]]) for p in itertools.combinations(sorted(clubs), 2)}
    best = max(jac, key=jac.get)
    assert set(best) == {"CEO15", "CEO23"} and jac[best] == 0.8
    df = find_overlaps(load_classic("galaskiewicz"))
    ceos = df[df.a_type.eq("company")]
    assert {ceos.a.iloc[0], ceos.b.iloc[0]} == set(best)
    assert ceos.score.iloc[0] == ceos.membership_jaccard.iloc[0] == ceos.partner_jaccard.iloc[0] == 0.8
    # Every CEO pair at 0.7 or more (and two clubs in common) is found, and nothing else.
    expected = {frozenset(p) for p, j in jac.items() if j >= 0.7 - 1e-12 and len(clubs[p[0]] & clubs[p[1]]) >= 2}
    assert {frozenset(p) for p in zip(ceos.a, ceos.b)} == expected


def test_galaskiewicz_clubs_with_the_most_alike_members_form_the_top_duplicate_group():
    # Clubs are associations whose members are CEOs and have no mandate, so a pair of clubs
    # scores its member Jaccard index. By hand: clubs 2 and 3 share 11 of their 22 CEOs
    # (0.5), the best pair; no pair reaches the default 0.6, so nothing is a merge candidate.
    G = load_classic("galaskiewicz")
    assert find_duplicate_structures(G).empty
    with open(CLASSIC_DIR / "galaskiewicz_ceos_clubs_edges.csv", newline="") as f:
        members = {}
        for r in csv.DictReader(f):
            members.setdefault(r["club"], set()).add(r["ceo"])
    jac = {p: _jaccard(members[p[0]], members[p[1]]) for p in itertools.combinations(sorted(members), 2)}
    best = max(jac, key=jac.get)
    assert set(best) == {"club2", "club3"} and jac[best] == 0.5
    df = find_duplicate_structures(G, min_score=0.5)
    assert df.members.tolist() == [sorted(best)] and df.score[0] == 0.5 and df.shared_members[0] == 11


def test_knoke_core_organizations_are_structurally_equivalent():
    # The county government, chamber of commerce, mayor's office and United Way exchange
    # information or money with the same seven others (checked here from the published edge
    # list): in the overlap table each of their six pairs has identical partners.
    with open(CLASSIC_DIR / "knoke_bureaucracies_edges.csv", newline="") as f:
        ties = [(r["from"], r["to"]) for r in csv.DictReader(f)]
    core = ["COUN", "COMM", "MAYR", "UWAY"]
    nbrs = {c: {b for a, b in ties if a == c} | {a for a, b in ties if b == c} for c in core}
    for a, b in itertools.combinations(core, 2):
        assert nbrs[a] - {b} == nbrs[b] - {a} and len(nbrs[a] - {b}) == 7
    df = find_overlaps(load_classic("knoke"))
    perfect = {frozenset(p) for p, s in zip(zip(df.a, df.b), df.score) if s == 1.0}
    assert {frozenset(p) for p in itertools.combinations(core, 2)} <= perfect
    assert (df.partner_jaccard[df.score == 1.0] == 1.0).all() and (df.membership_jaccard == 0).all()


def test_interlocking_firms_with_the_same_boards_overlap():
    # Partners are the firms sharing a director. In West Germany, Ruhrkohle and Thyssen sit
    # with 10 of the same 11 firms (Jaccard 10/11, by hand below): the top overlap.
    G = load_classic("interlocks_de")
    H = partnership_network(G)
    best = max(itertools.combinations(H, 2), key=lambda p: _jaccard(set(H[p[0]]) - {p[1]}, set(H[p[1]]) - {p[0]}))
    df = find_overlaps(G)
    assert {df.a[0], df.b[0]} == set(best) == {"RUHRK", "THYSN"}
    assert df.score[0] == pytest.approx(10 / 11)


def test_emon_overlaps_stay_inside_each_disaster():
    # Organizations of different disasters share no partner: no overlap across networks, even
    # between the Red Cross chapters that answered several of them.
    df = find_overlaps(load_classic("emon"), min_score=0.0, min_shared=1)
    assert len(df) > 0 and all(a.split(":")[0] == b.split(":")[0] for a, b in zip(df.a, df.b))
    assert not math.isnan(df.score.max())
