"""The demo ecosystem generator: proportions, determinism, planted truths, network shape.

The planted truths are checked against networkx computed on :func:`ecosystem_graph` (the
oracle), and the network's shape against a random graph of the same density (whose expected
clustering is its density, and whose degrees are nearly Poisson).
"""

from __future__ import annotations

import functools
import re
import time

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

import loaders
from loaders.sample import (
    CLUSTERS,
    GROUND_TRUTH_FORMAT,
    MUNICIPALITIES,
    ORGANIZATION_COLUMNS,
    RELATIONSHIP_COLUMNS,
    Ecosystem,
    ecosystem_graph,
    generate_ecosystem,
    read_ecosystem,
    write_ecosystem,
)
from maillage.model import NODE_TYPES, RELATIONSHIP_TYPES, cluster_id
from maillage.names import normalize_name

DEMO_SIZE = 1500


@functools.lru_cache(maxsize=4)
def make_ecosystem(orgs: int = DEMO_SIZE, seed: int = 42) -> Ecosystem:
    """The ecosystem of ``orgs`` and ``seed``, generated once per test session."""
    return generate_ecosystem(orgs, seed=seed)


@functools.lru_cache(maxsize=4)
def make_graph(orgs: int = DEMO_SIZE, seed: int = 42) -> nx.MultiDiGraph:
    return ecosystem_graph(make_ecosystem(orgs, seed))


def undirected(G: nx.MultiDiGraph, types: set[str] | None = None) -> nx.Graph:
    """Organizations linked by any relationship (or those of ``types``), either direction."""
    H = nx.Graph()
    H.add_nodes_from(n for n, d in G.nodes(data=True) if d["type"] != "cluster")
    H.add_edges_from((u, v) for u, v, k in G.edges(keys=True)
                     if k != "PART_OF" and (types is None or k in types))
    return H


# ---- shape of the data ---------------------------------------------------------------------
def test_rows_and_relationships_are_as_many_as_asked():
    eco = make_ecosystem()
    assert len(eco.organizations) == DEMO_SIZE
    assert eco.organizations["id"].is_unique
    # "About ten relationships per organization", as the benchmarks assume.
    assert 9.0 <= len(eco.relationships) / DEMO_SIZE <= 11.0
    assert list(eco.organizations.columns) == list(ORGANIZATION_COLUMNS)
    assert list(eco.relationships.columns) == list(RELATIONSHIP_COLUMNS)


def test_types_come_in_plausible_proportions():
    share = make_ecosystem().organizations["type"].value_counts(normalize=True)
    assert set(share.index) == set(NODE_TYPES) - {"cluster"}
    assert 0.70 <= share["company"] <= 0.85
    assert 0.02 <= share["institution"] <= 0.08
    assert 0.03 <= share["association"] <= 0.08
    assert 0.05 <= share["structure"] <= 0.12
    assert 0.01 <= share["government"] <= 0.04
    assert 5 <= share["workforce_committee"] * DEMO_SIZE <= 30


def test_fifteen_clusters_each_with_its_secretariat():
    orgs = make_ecosystem().organizations
    listed = {c for cell in orgs["clusters"].dropna() for c in cell.split("|")}
    assert listed == {c.name for c in CLUSTERS} and len(listed) == 15
    secretariats = orgs[orgs["name"].str.startswith("Secrétariat de la grappe ")]
    assert sorted(secretariats["clusters"]) == sorted(c.name for c in CLUSTERS)


def test_regions_are_municipalities_of_the_metropolitan_region():
    orgs = make_ecosystem().organizations
    allowed = {m for m, _ in MUNICIPALITIES} | {"Québec"}
    assert set(orgs["region"].dropna()) <= allowed
    assert orgs["region"].value_counts().idxmax() == "Montréal"
    governments = orgs[orgs["type"] == "government"]["name"]
    assert "Ville de Montréal" in set(governments) and "Ville de Laval" in set(governments)


def test_mandates_are_bilingual_with_accents():
    mandates = make_ecosystem().organizations["mandate"].dropna()
    french = mandates.str.contains(r"\b(?:les|des|de la|du)\b", regex=True)
    assert 0.5 <= french.mean() <= 0.9
    text = " ".join(mandates)
    for word in ("Montréal", "Québec", "œuvre"):
        assert word in text


def test_weights_and_dates_are_well_formed():
    rels = make_ecosystem().relationships
    assert set(rels["relationship"]) == set(RELATIONSHIP_TYPES) - {"PART_OF"}
    weights = rels["weight"].dropna()
    assert weights.between(0.05, 1.0).all() and 0.05 < rels["weight"].isna().mean() < 0.5
    since = rels["since"].dropna()
    assert since.min().year >= 1990 and since.max().year <= 2025


# ---- determinism ---------------------------------------------------------------------------
def test_the_same_seed_gives_the_same_ecosystem():
    a, b = generate_ecosystem(300, seed=5), generate_ecosystem(300, seed=5)
    assert a.organizations.equals(b.organizations)
    assert a.relationships.equals(b.relationships)
    assert a.ground_truth == b.ground_truth


def test_another_seed_gives_another_ecosystem():
    a, b = generate_ecosystem(300, seed=5), generate_ecosystem(300, seed=6)
    assert not a.organizations["name"].equals(b.organizations["name"])


def test_too_few_organizations_are_refused():
    with pytest.raises(ValueError, match="at least 100"):
        generate_ecosystem(99)


def test_a_demo_ecosystem_is_generated_in_well_under_a_second():
    started = time.process_time()  # CPU time: the test machine is shared
    generate_ecosystem(DEMO_SIZE, seed=1)
    assert time.process_time() - started < 1.5


# ---- the network -------------------------------------------------------------------------------
def test_degrees_are_heavy_tailed_and_clustering_far_above_a_random_graph():
    H = undirected(make_graph())
    n, m = H.number_of_nodes(), H.number_of_edges()
    R = nx.gnm_random_graph(n, m, seed=1)
    # A random graph's clustering is about its density; affiliation networks' is far higher.
    assert nx.average_clustering(H) > 10 * nx.average_clustering(R)
    assert nx.transitivity(H) > 5 * nx.transitivity(R)
    degrees = np.array([d for _, d in H.degree()])
    random_degrees = np.array([d for _, d in R.degree()])
    # Poisson degrees have a coefficient of variation of 1/sqrt(mean), about 0.2 here.
    assert degrees.std() / degrees.mean() > 1.0 > 3 * random_degrees.std() / random_degrees.mean()
    assert degrees.max() > 8 * degrees.mean() and random_degrees.max() < 3 * random_degrees.mean()


def test_partnerships_alone_are_clustered_and_mostly_within_a_cluster():
    G = make_graph()
    P = undirected(G, {"PARTNERS_WITH"})
    assert nx.average_clustering(P) > 10 * nx.density(P)
    shared = [bool(set(G.nodes[u]["clusters"]) & set(G.nodes[v]["clusters"])) for u, v in P.edges()]
    assert np.mean(shared) > 0.6


def test_every_member_organization_belongs_to_a_body():
    G = make_graph()
    joined = {u for u, _, k in G.edges(keys=True) if k in ("MEMBER_OF", "PARTICIPATES_IN")}
    # A planted duplicate record carries only a few of its original's relationships.
    second = {d["id"] for d in make_ecosystem().ground_truth["duplicate_records"]}
    members = [n for n, d in G.nodes(data=True) if d["type"] in ("company", "institution") and n not in second]
    assert set(members) <= joined


# ---- planted truths -------------------------------------------------------------------------------
def test_ground_truth_lists_enough_of_each_kind():
    truth = make_ecosystem().ground_truth
    assert truth["format"] == GROUND_TRUTH_FORMAT
    assert truth["organizations"] == DEMO_SIZE and truth["relationships"] == len(make_ecosystem().relationships)
    for kind in ("removed_partnerships", "overlapping_pairs", "duplicate_structures", "duplicate_records"):
        assert len(truth[kind]) >= 10, kind
    # Each organization plays one planted role at most, so scores do not mix.
    planted = [x for g in truth["removed_partnerships"] + truth["overlapping_pairs"] for x in g["pair"]]
    planted += [x for g in truth["duplicate_structures"] for x in g["group"]]
    planted += [x for g in truth["duplicate_records"] for x in (g["id"], g["duplicate_of"])]
    assert len(planted) == len(set(planted))
    assert set(planted) <= set(make_ecosystem().organizations["id"])


def test_removed_partnerships_sit_in_dense_neighbourhoods_and_are_unlinked():
    G = make_graph()
    anything, partners = undirected(G), undirected(G, {"PARTNERS_WITH"})
    for gap in make_ecosystem().ground_truth["removed_partnerships"]:
        a, b = gap["pair"]
        assert not anything.has_edge(a, b)
        common = len(list(nx.common_neighbors(partners, a, b)))
        assert common == gap["common_partners"] >= 3


def test_overlapping_pairs_share_attributes_and_most_neighbours():
    eco = make_ecosystem()
    rows = eco.organizations.set_index("id")
    H = undirected(make_graph())
    for pair in eco.ground_truth["overlapping_pairs"]:
        a, b = pair["pair"]
        for column in ("type", "sectors", "clusters", "region"):
            assert rows.at[a, column] == rows.at[b, column], column
        assert rows.at[a, "name"] != rows.at[b, "name"]
        assert normalize_name(rows.at[a, "name"]) != normalize_name(rows.at[b, "name"])
        na, nb = set(H[a]) - {b}, set(H[b]) - {a}
        jaccard = len(na & nb) / len(na | nb)
        assert jaccard == pytest.approx(pair["neighbour_jaccard"], abs=1e-3)
        assert jaccard >= 0.5 and not H.has_edge(a, b)


def test_duplicated_structures_have_near_identical_members_and_one_cluster():
    eco = make_ecosystem()
    G = make_graph()
    rows = eco.organizations.set_index("id")
    for group in eco.ground_truth["duplicate_structures"]:
        ids = group["group"]
        assert 2 <= len(ids) <= 3
        assert {rows.at[i, "type"] for i in ids} <= {"association", "structure"}
        assert len({rows.at[i, "clusters"] for i in ids}) == 1
        members = [{u for u, _, k in G.in_edges(i, keys=True) if k in ("MEMBER_OF", "PARTICIPATES_IN")} for i in ids]
        for other in members[1:]:
            assert len(members[0] & other) / len(members[0] | other) >= 0.6


def test_duplicate_records_are_variant_spellings_of_one_name():
    eco = make_ecosystem()
    rows = eco.organizations.set_index("id")
    variations = set()
    for dup in eco.ground_truth["duplicate_records"]:
        assert dup["id"] != dup["duplicate_of"]
        assert rows.at[dup["id"], "name"] == dup["name"] != dup["original_name"] == rows.at[dup["duplicate_of"], "name"]
        assert rows.at[dup["id"], "type"] == rows.at[dup["duplicate_of"], "type"]
        # The loaders' name key folds exactly these differences.
        assert normalize_name(dup["name"]) == normalize_name(dup["original_name"])
        variations.update(dup["variations"])
    assert variations >= {"accents", "case", "abbreviation", "legal_suffix"}
    assert any(re.search(r"\bUniv\.", d["name"], re.IGNORECASE) for d in eco.ground_truth["duplicate_records"])


def test_only_planted_records_share_a_name_key():
    eco = make_ecosystem()
    keys = eco.organizations["name"].map(normalize_name)
    repeated = set(eco.organizations["id"][keys.duplicated(keep=False)])
    planted = {x for d in eco.ground_truth["duplicate_records"] for x in (d["id"], d["duplicate_of"])}
    assert repeated == planted


# A few real organizations of the Montréal region and beyond, none of which may be named.
REAL_NAMES = (
    "Bombardier", "CAE", "Saputo", "Ubisoft", "Desjardins", "Hydro-Québec", "CGI", "Air Canada",
    "Pratt & Whitney Canada", "Héroux-Devtek", "Lion Électrique", "Mila", "Moment Factory",
    "Cirque du Soleil", "Aldo", "Couche-Tard", "Metro", "Cascades", "Lightspeed", "Coveo",
    "Genetec", "Behaviour Interactive", "Eidos", "Novartis", "Pfizer", "Transat",
    "Banque Nationale", "Telus", "Bell", "Vidéotron", "Lassonde", "Dollarama", "Gildan",
    "Alstom", "Airbus", "Rio Tinto", "Nova Bus", "Université de Montréal", "Université McGill",
    "Polytechnique Montréal", "Aéro Montréal", "Montréal InVivo", "TechnoMontréal", "Cargo M",
    "Écotech Québec", "Finance Montréal", "Propulsion Québec", "Investissement Québec",
)


def test_names_are_fictional():
    names = make_ecosystem().organizations["name"]
    words = {w for name in names for w in normalize_name(name).split()}
    keys = set(names.map(normalize_name))
    for real in REAL_NAMES:
        key = normalize_name(real)
        assert key not in keys, real
        if " " not in key:
            assert key not in words, real  # a one-word brand may not appear inside a name either
    sites = make_ecosystem().organizations["website"].dropna()
    assert sites.str.fullmatch(r"https://www\.[a-z0-9-]+\.example").all()


# ---- files and graphs -------------------------------------------------------------------------------
def test_written_files_are_read_back_and_accepted_by_the_loaders(tmp_path):
    eco = make_ecosystem(300, seed=3)
    paths = write_ecosystem(eco, tmp_path / "demo")
    header = paths["organizations"].read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(ORGANIZATION_COLUMNS)
    text = paths["relationships"].read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(RELATIONSHIP_COLUMNS)
    assert re.search(r",\d{4}-\d{2}-\d{2}\n", text)
    back = read_ecosystem(tmp_path / "demo")
    assert back.organizations.astype(object).equals(eco.organizations.astype(object))
    assert back.ground_truth == eco.ground_truth
    plan = loaders.prepare_import([paths["organizations"], paths["relationships"]])
    assert len(plan.organizations) == 300 and len(plan.relationships) == len(eco.relationships)
    dup = eco.ground_truth["duplicate_records"][0]
    assert dup["id"] in set(plan.duplicates["id_a"]) | set(plan.duplicates["id_b"])


def test_ecosystem_graph_is_the_snapshot_a_store_gives(tmp_path, memory_store):
    eco = make_ecosystem(200, seed=8)
    paths = write_ecosystem(eco, tmp_path)
    plan = loaders.prepare_import([paths["organizations"], paths["relationships"]])
    memory_store.upsert(organizations=plan.organizations, relationships=plan.relationships, source=plan.source)
    S, G = memory_store.snapshot(), ecosystem_graph(eco)
    assert set(S.nodes) == set(G.nodes)
    assert set(S.edges(keys=True)) == set(G.edges(keys=True))
    for n, d in S.nodes(data=True):
        for attr in ("name", "type", "sectors", "clusters", "region", "mandate", "website"):
            assert G.nodes[n].get(attr) == d.get(attr), (n, attr)
    for u, v, k, d in S.edges(keys=True, data=True):
        for attr in ("type", "weight", "since"):
            assert G.edges[u, v, k].get(attr) == d.get(attr), (u, v, k, attr)
    assert all(G.nodes[cluster_id(c.name)]["type"] == "cluster" for c in CLUSTERS)


def test_sample_command_writes_the_files(tmp_path):
    from api.cli import app

    result = CliRunner().invoke(app, ["sample", "--orgs", "150", "--seed", "2", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {"organizations.csv", "relationships.csv", "ground_truth.json"}
    assert read_ecosystem(tmp_path).organizations.equals(generate_ecosystem(150, seed=2).organizations)
