"""Coverage gaps: members, partners and the types a cluster lacks, checked by hand, by brute
force on random snapshots, and on the EMON disaster networks."""

from __future__ import annotations

import networkx as nx
import pytest

from analysis import coverage_gaps
from analysis._network import node_clusters, partnership_network
from analysis.coverage import coverage_matrix
from maillage.errors import InputError
from maillage.model import STAKEHOLDER_TYPES
from tests.analysis.classic import load_classic
from tests.analysis.random_snapshots import make_snapshot


def make_cluster(counts: dict[str, int], *, cluster="Aéro", prefix="m") -> list[tuple[str, dict]]:
    """Nodes (id, attributes) of a cluster with ``counts[type]`` members of each type."""
    nodes = []
    for t, k in counts.items():
        for i in range(k):
            nodes.append((f"{prefix}-{t}-{i}", {"type": t, "clusters": [cluster], "name": f"{t} {i}"}))
    return nodes


def make_ecosystem() -> nx.Graph:
    """Aéro: 8 companies and 1 association; outside: 2 institutions, 1 government body, and
    1 workforce committee linked to nobody. Aéro's partners: one institution, the government."""
    G = nx.Graph()
    G.add_nodes_from(make_cluster({"company": 8, "association": 1}))
    G.add_nodes_from([("u1", {"type": "institution"}), ("u2", {"type": "institution"}),
                      ("g", {"type": "government"}), ("w", {"type": "workforce_committee"})])
    G.add_edges_from([("m-company-0", "u1"), ("m-company-1", "u1"), ("m-association-0", "g"),
                      ("m-company-0", "m-company-1")])
    return G


def test_members_and_partners_are_counted_by_type():
    df = coverage_gaps(make_ecosystem())
    row = df.iloc[0]
    assert (row.cluster, row.members, row.partners) == ("Aéro", 9, 2)
    assert (row.members_company, row.members_association, row.members_institution) == (8, 1, 0)
    # u1 is linked to two members but counts once; u2 and w are linked to no member.
    assert (row.partners_institution, row.partners_government, row.partners_workforce_committee) == (1, 1, 0)


def test_missing_and_thin_types_against_the_ecosystem_mix():
    # By hand: 13 typed organizations; institutions are 2/13 of them, so 9 members call for
    # 9 * 2/13 = 1.38 institutions: none is a member, so institutions are missing (one is a
    # partner). Government (1/13: 0.69 expected) and the workforce committee (same) are below
    # one expected organization: a cluster of nine is not short of them.
    df = coverage_gaps(make_ecosystem())
    assert df.missing[0] == ["institution"]
    assert df.thin[0] == []
    assert df.attrs["expected_shares"]["institution"] == pytest.approx(2 / 13)
    # A secretariat's own mix: 3 in 10 institutions (2.7 expected) and 2 in 10 government
    # bodies (1.8 expected), neither among the members; companies (4.5 expected, 8) are fine.
    df = coverage_gaps(make_ecosystem(), expected_shares={"institution": 0.3, "company": 0.5, "government": 0.2})
    assert df.missing[0] == ["government", "institution"]
    # One institution member where 10 * 0.3 = 3 are expected: below half of it, thin.
    G = make_ecosystem()
    G.add_node("mu", type="institution", clusters=["Aéro"])
    df = coverage_gaps(G, expected_shares={"institution": 0.3})
    assert (df.missing[0], df.thin[0]) == ([], ["institution"])
    assert coverage_gaps(G, expected_shares={"institution": 0.3}, thin_share=0.3).thin[0] == []


def test_reasons_in_english_and_french():
    G = make_ecosystem()
    G.add_node("mu", type="institution", clusters=["Aéro"])
    shares = {"institution": 0.3, "workforce_committee": 0.1, "government": 0.1}
    en = coverage_gaps(G, expected_shares=shares).reasons[0]
    fr = coverage_gaps(G, expected_shares=shares, lang="fr").reasons[0]
    # 10 members: 1.0 committee and 1.0 government body expected, none a member (the
    # government body is a partner); 3.0 institutions expected, 1 a member, 1 a partner.
    assert en == ("Aéro (10 members, 2 partners): no workforce committee among its members (about "
                  "1.0 expected) or its partners; no government body among its members (about 1.0 "
                  "expected; 1 among its partners); few research institutions: 1 where about 3.0 "
                  "would be expected (1 among its partners).")
    assert fr == ("Aéro (10 membres, 2 partenaires) : aucun comité sectoriel de main-d'œuvre parmi "
                  "ses membres (environ 1,0 attendu) ni parmi ses partenaires ; aucun organisme public "
                  "parmi ses membres (environ 1,0 attendu ; 1 parmi ses partenaires) ; peu "
                  "d'établissements de recherche : 1 pour environ 3,0 attendus (1 parmi ses "
                  "partenaires).")


def test_several_missing_types_read_as_one_list():
    # 10 companies in the cluster, 2 government bodies and 2 institutions outside, unlinked:
    # each is 2/14 of the ecosystem, 1.4 expected in a cluster of 10.
    G = nx.Graph()
    G.add_nodes_from(make_cluster({"company": 10}))
    G.add_nodes_from(["g1", "g2"], type="government")
    G.add_nodes_from(["u1", "u2"], type="institution")
    df = coverage_gaps(G)
    assert df.missing[0] == ["government", "institution"]
    assert df.reasons[0] == ("Aéro (10 members, 0 partners): no government body among its members "
                             "(about 1.4 expected) or its partners; no research institution among its "
                             "members (about 1.4 expected) or its partners.")
    assert coverage_gaps(G, lang="fr").reasons[0] == (
        "Aéro (10 membres, 0 partenaire) : aucun organisme public parmi ses membres (environ 1,4 "
        "attendu) ni parmi ses partenaires ; aucun établissement de recherche parmi ses membres "
        "(environ 1,4 attendu) ni parmi ses partenaires.")


def test_a_complete_cluster_says_so():
    G = nx.Graph()
    G.add_nodes_from(make_cluster({t: 2 for t in STAKEHOLDER_TYPES}))
    df = coverage_gaps(G)
    assert df.missing[0] == [] and df.thin[0] == []
    assert df.reasons[0] == ("Aéro (12 members, 0 partners): every type of stakeholder its size "
                             "calls for is among its members.")
    assert coverage_gaps(G, lang="fr").reasons[0] == (
        "Aéro (12 membres, 0 partenaire) : chaque type d'acteur que sa taille appelle figure parmi "
        "ses membres.")


def test_untyped_organizations_are_counted_but_never_flagged():
    G = nx.Graph()
    G.add_nodes_from(make_cluster({"company": 2}))
    G.add_node("x", clusters=["Aéro"])  # no type
    df = coverage_gaps(G)
    assert df.members_unknown[0] == 1
    assert df.missing[0] == [] and df.attrs["types"] == ["company", "unknown"]


def test_part_of_edges_and_cluster_nodes_define_clusters():
    # Membership through PART_OF only, names differing in accents and case, and a cluster
    # node nobody belongs to: three ways a snapshot names clusters.
    G = nx.MultiDiGraph()
    G.add_node("aero", type="cluster", name="Aéro")
    G.add_node("empty", type="cluster", name="Vide")
    G.add_node("a", type="company", clusters=["aero"])  # same cluster, folded
    G.add_node("b", type="company")
    G.add_edge("b", "aero", key="PART_OF", type="PART_OF")
    df = coverage_gaps(G)
    assert df.cluster.tolist() == ["aero", "Vide"]
    assert df.members.tolist() == [2, 0]
    assert df.missing[1] == []  # an empty cluster calls for nothing


def test_multi_cluster_members_count_in_each_and_are_nobodys_partner_there():
    G = nx.Graph()
    G.add_node("a", type="company", clusters=["A"])
    G.add_node("b", type="company", clusters=["B"])
    G.add_node("ab", type="institution", clusters=["A", "B"])
    G.add_edges_from([("a", "ab"), ("b", "ab"), ("a", "b")])
    df = coverage_gaps(G).set_index("cluster")
    assert df.loc["A", "members_institution"] == 1 and df.loc["B", "members_institution"] == 1
    assert df.loc["A", "partners"] == 1 and df.loc["A", "partners_company"] == 1  # b only


@pytest.mark.parametrize("seed", range(3))
def test_counts_equal_the_definition_on_random_snapshots(seed):
    G = make_snapshot(80, 0.05, seed=seed)
    H = partnership_network(G)
    clusters = node_clusters(G)
    df = coverage_gaps(G).set_index("cluster")
    for name in {c for cs in clusters.values() for c in cs}:
        members = {n for n, cs in clusters.items() if name in cs}
        partners = {p for m in members for p in H[m]} - members
        row = df.loc[name]
        assert (row.members, row.partners) == (len(members), len(partners))
        for t in STAKEHOLDER_TYPES:
            assert row[f"members_{t}"] == sum(1 for m in members if G.nodes[m]["type"] == t)
            assert row[f"partners_{t}"] == sum(1 for p in partners if G.nodes[p]["type"] == t)


def test_coverage_matrix_equals_the_member_and_reach_columns():
    G = make_snapshot(60, 0.05, seed=4)
    gaps = coverage_gaps(G).set_index("cluster")
    M = coverage_matrix(G)
    R = coverage_matrix(G, partners=True)
    assert list(M.index) == list(gaps.index)
    for t in M.columns:
        assert M[t].tolist() == gaps[f"members_{t}"].tolist()
        assert R[t].tolist() == (gaps[f"members_{t}"] + gaps[f"partners_{t}"]).tolist()


def test_bad_parameters_are_refused():
    G = make_ecosystem()
    with pytest.raises(InputError, match="thin_share"):
        coverage_gaps(G, thin_share=0)
    with pytest.raises(InputError, match="'university'"):
        coverage_gaps(G, expected_shares={"university": 0.2})
    with pytest.raises(InputError):
        coverage_gaps(G, lang="es")


def test_a_graph_without_clusters_has_no_rows():
    df = coverage_gaps(load_classic("knoke"))
    assert df.empty and "missing" in df.columns


# --- the classic networks -------------------------------------------------------------------


def test_emon_disasters_each_mix_public_agencies_and_private_organizations():
    # Every disaster response brought together public agencies (federal, state, county, city)
    # and private organizations (Red Cross, Salvation Army, volunteers...) in roughly the
    # proportions of the whole (110 public, 30 private): nothing missing or thin anywhere, and
    # since no organization worked two disasters, no cluster has a partner.
    df = coverage_gaps(load_classic("emon"))
    assert len(df) == 7
    assert (df.members_government > 0).all() and (df.members_association > 0).all()
    assert (df.partners == 0).all()
    assert df.missing.map(len).sum() == 0 and df.thin.map(len).sum() == 0
    # Public agencies outnumber private organizations in every response but Mt. Si's search.
    majority_private = df[df.members_association > df.members_government].cluster.tolist()
    assert majority_private == ["MtSi"]


def test_emon_against_a_secretariats_triple_helix_expectation():
    # Read as a secretariat expecting a triple helix (industry, academia, government), the
    # disaster networks have no company and no research institution: both missing everywhere.
    df = coverage_gaps(load_classic("emon"),
                       expected_shares={"company": 0.3, "institution": 0.2, "government": 0.5})
    assert all(m == ["company", "institution"] for m in df.missing)
    heat = coverage_matrix(load_classic("emon"))
    assert list(heat.columns) == ["association", "government"] and heat.values.sum() == 140
