"""Network maps (api/maps.py): what is drawn, how it is aggregated, and that text stays text.

Graphs here are small and made by :func:`make_graph`; networkx is the oracle for centralities
and neighbourhoods. The browser side is in ``test_map_browser.py``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import networkx as nx
import pandas as pd
import pytest
from markupsafe import escape

from analysis._network import partnership_network
from api import maps
from graph.base import QueryResult
from maillage.errors import InputError, NotFound
from maillage.model import cluster_id

HOSTILE = "<img src=x onerror=alert(1)>"
CLOSER = "</script><script>alert(2)</script>"

AERO, BIO = "Aérospatiale", "Sciences de la vie"


def make_graph(n_per_cluster: int = 4, *, clusters=(AERO, BIO), extra_names=None) -> nx.MultiDiGraph:
    """A snapshot-shaped graph: ``n_per_cluster`` organizations per cluster, each cluster a
    path of partnerships, the first of each cluster partnering the next cluster's first;
    every other organization also funds its successor (a second relationship on one pair)."""
    G = nx.MultiDiGraph()
    types = ["company", "institution", "association", "government", "structure", "workforce_committee"]
    names = list(extra_names or [])
    firsts = []
    for c in clusters:
        G.add_node(cluster_id(c), type="cluster", name=c)
        ids = []
        for i in range(n_per_cluster):
            n = f"{cluster_id(c)}-{i}"
            name = names.pop(0) if names else f"Organisation {i} de Montréal ({c})"
            G.add_node(n, name=name, type=types[i % len(types)], clusters=[c], region="Montréal" if i % 2 else "Laval",
                       sectors=["aerospace" if c == AERO else "life sciences"])
            G.add_edge(n, cluster_id(c), key="PART_OF", type="PART_OF")
            ids.append(n)
        for a, b in zip(ids, ids[1:]):
            G.add_edge(a, b, key="PARTNERS_WITH", type="PARTNERS_WITH")
            G.add_edge(b, a, key="FUNDS", type="FUNDS")
        firsts.append(ids[0])
    for a, b in zip(firsts, firsts[1:]):
        G.add_edge(a, b, key="PARTNERS_WITH", type="PARTNERS_WITH")
    return G


def _organizations(G: nx.Graph) -> set:
    return {n for n, d in G.nodes(data=True) if d.get("type") != "cluster"}


def _payload(view: maps.MapView) -> dict:
    return json.loads(str(view.json_script()))


# ---- what is drawn --------------------------------------------------------------------------


@pytest.mark.parametrize("filters", [{}, {"clusters": ["aerospatiale"]}, {"types": ["company", "institution"]},
                                     {"regions": ["montreal"]}, {"sectors": ["Life Sciences"]}])
def test_drawn_nodes_equal_the_filtered_graph(filters):
    G = make_graph()
    H = maps.filter_graph(G, **filters)
    view = maps.render_map(H)
    assert view.drawn_nodes == view.total_nodes == len(_organizations(H))
    assert {n["id"] for n in view.nodes} == _organizations(H)
    assert not view.aggregated and view.message is None


def test_a_filter_changes_what_is_drawn():
    G = make_graph()
    everything = maps.render_map(G)
    aero = maps.render_map(maps.filter_graph(G, clusters=[AERO]))
    assert aero.drawn_nodes == 4 < everything.drawn_nodes == 8
    assert {n["id"] for n in aero.nodes} == {f"aerospatiale-{i}" for i in range(4)}


def test_one_line_per_linked_pair_whatever_the_relationships():
    G = make_graph()
    view = maps.render_map(G)
    links = {frozenset((e["from"], e["to"])) for e in view.edges if e["kind"] == "link"}
    expected = {frozenset(e) for e in partnership_network(G).edges()}
    assert links == expected and len(links) == sum(e["kind"] == "link" for e in view.edges)
    funded = next(e for e in view.edges if {e["from"], e["to"]} == {"aerospatiale-0", "aerospatiale-1"})
    assert funded["title"] == "partners with, funds"


def test_positions_are_computed_once_and_physics_is_off():
    G = make_graph()
    maps.clear_layout_cache()
    first = maps.render_map(G)
    assert first.options["physics"] == {"enabled": False}
    assert all(isinstance(n["x"], float) and isinstance(n["y"], float) for n in first.nodes)
    assert len(maps._LAYOUT_CACHE) == 1
    again = maps.render_map(G, size_by="pagerank")  # another measure, the same layout
    assert len(maps._LAYOUT_CACHE) == 1
    assert [(n["x"], n["y"]) for n in again.nodes] == [(n["x"], n["y"]) for n in first.nodes]
    maps.clear_layout_cache()
    recomputed = maps.render_map(G)  # seeded: the same picture after a restart
    assert [(n["x"], n["y"]) for n in recomputed.nodes] == [(n["x"], n["y"]) for n in first.nodes]


def test_large_maps_paint_their_links_in_one_path():
    small = maps.render_map(nx.gnm_random_graph(100, 1500, seed=1))
    large = maps.render_map(nx.gnm_random_graph(100, 1501, seed=1))
    assert (small.paint_links, large.paint_links) == (False, True)
    payload = _payload(large)
    assert large.drawn_edges == 1501 and len(payload["links"]) == 1501 and payload["edges"] == []
    ids = [n["id"] for n in payload["nodes"]]
    assert {frozenset((ids[a], ids[b])) for a, b in payload["links"]} == {frozenset(e) for e in
                                                                           nx.gnm_random_graph(100, 1501, seed=1).edges()}
    assert _payload(small)["links"] == [] and len(_payload(small)["edges"]) == 1500


def test_graphs_without_types_or_string_ids_are_drawn():
    G = nx.karate_club_graph()
    view = maps.render_map(G, link_prefix="/org/")
    assert view.drawn_nodes == 34
    assert {n["type"] for n in view.nodes} == {"unknown"}
    assert view.legend == [{"type": "unknown", "label": "Unknown type", "colour": maps.TYPE_COLOURS["unknown"], "count": 34}]
    assert next(n for n in view.nodes if n["id"] == 0)["url"] == "/org/0"


def test_node_links_are_url_encoded():
    G = nx.Graph()
    G.add_node("a/b c?d", name="X", type="company")
    view = maps.render_map(G, link_prefix="/organizations/")
    assert view.nodes[0]["url"] == "/organizations/a%2Fb%20c%3Fd"
    assert maps.render_map(G, link_prefix=None).nodes[0]["url"] is None


def test_search_keys_ignore_accents_and_case():
    G = make_graph(1, extra_names=["Polytechnique MONTRÉAL", "Œuvre Québec"])
    keys = {n["name"]: n["search"] for n in maps.render_map(G).nodes}
    assert keys == {"Polytechnique MONTRÉAL": "polytechnique montreal", "Œuvre Québec": "oeuvre quebec"}
    assert "montreal" in keys["Polytechnique MONTRÉAL"]


# ---- sizes ---------------------------------------------------------------------------------------


def _oracle(H: nx.Graph, measure: str) -> dict:
    return {
        "degree": lambda: dict(H.degree()),
        "betweenness": lambda: nx.betweenness_centrality(H),
        "closeness": lambda: nx.closeness_centrality(H),
        "pagerank": lambda: nx.pagerank(H),
        "eigenvector": lambda: nx.eigenvector_centrality_numpy(H),
    }[measure]()


@pytest.mark.parametrize("measure", ["degree", "betweenness", "closeness", "pagerank", "eigenvector"])
def test_nodes_are_sized_by_the_centrality_networkx_defines(measure):
    G = make_graph(5)
    G.add_node("alone", name="Seule", type="company")  # a second component: closeness scaling
    if measure == "eigenvector":
        G.remove_node("alone")  # eigenvector centrality is only defined per connected graph
    view = maps.render_map(G, size_by=measure)
    expected = _oracle(partnership_network(G), measure)
    assert {n["id"]: n["measure"] for n in view.nodes} == {k: pytest.approx(v, abs=1e-9) for k, v in expected.items()}
    # The largest value gets the largest dot.
    top = max(expected, key=expected.get)
    assert next(n for n in view.nodes if n["id"] == top)["size"] == max(n["size"] for n in view.nodes)


def test_nodes_can_be_sized_by_an_attribute_or_given_values():
    G = make_graph(2)
    for i, n in enumerate(sorted(_organizations(G))):
        G.nodes[n]["score"] = float(i)
    by_attribute = maps.render_map(G, size_by="score")
    assert by_attribute.size_by == "score"
    given = maps.render_map(G, size_by={"aerospatiale-0": 5.0})
    assert {n["id"]: n["measure"] for n in given.nodes}["aerospatiale-0"] == 5.0


def test_an_unknown_measure_or_language_is_refused_with_the_choices():
    G = make_graph(2)
    with pytest.raises(InputError, match="degree, betweenness"):
        maps.render_map(G, size_by="charisma")
    with pytest.raises(InputError, match="fr, en"):
        maps.render_map(G, lang="de")
    with pytest.raises(InputError, match="cluster or community"):
        maps.render_map(G, aggregate_by="sector")


# ---- suggestions and overlaps --------------------------------------------------------------


def test_suggestions_and_overlaps_are_dashed_lines_of_their_own():
    G = make_graph()
    gaps = pd.DataFrame({"source": ["aerospatiale-1", "aerospatiale-2", "aerospatiale-0"],
                         "target": ["sciences-de-la-vie-3", "missing", "aerospatiale-3"],
                         "score": [0.8, 0.5, 0.4],
                         "reasons": [["3 partenaires communs", "même secteur"], ["x"], []]})
    view = maps.render_map(G, suggestions=gaps, overlaps=[("aerospatiale-1", "aerospatiale-3", "80 % des membres")])
    suggested = [e for e in view.edges if e["kind"] == "suggestion"]
    overlaps = [e for e in view.edges if e["kind"] == "overlap"]
    assert len(suggested) == 2  # the pair with an organization not drawn is left out
    assert len(overlaps) == 1
    assert {e["color"] for e in suggested} == {maps.EDGE_COLOURS["suggestion"]}
    assert overlaps[0]["color"] == maps.EDGE_COLOURS["overlap"] != maps.EDGE_COLOURS["suggestion"]
    assert all(e["dashes"] for e in suggested + overlaps)
    assert "Why: 3 partenaires communs; même secteur" in suggested[0]["title"]
    assert [entry["kind"] for entry in view.edge_legend] == ["link", "suggestion", "overlap"]
    html = str(maps.map_fragment(view))
    assert 'data-edge-kind="suggestion"' in html and 'data-edge-kind="overlap"' in html


def test_suggestions_need_their_two_organizations():
    with pytest.raises(InputError, match="source and target"):
        maps.render_map(make_graph(2), suggestions=pd.DataFrame({"left": ["a"], "score": [1.0]}))


# ---- aggregation -----------------------------------------------------------------------------


def test_above_max_nodes_the_map_is_aggregated_by_cluster_and_says_so():
    G = make_graph(5)
    view = maps.render_map(G, max_nodes=6)
    assert view.aggregated and view.aggregate_by == "cluster"
    assert view.total_nodes == 10 and view.drawn_nodes == 2
    assert {n["name"]: n["members"] for n in view.nodes} == {AERO: 5, BIO: 5}
    assert {n["url"] for n in view.nodes} == {"/map?cluster=aerospatiale", "/map?cluster=sciences-de-la-vie"}
    [between] = [e for e in view.edges if e["kind"] == "group"]
    assert between["title"] == f"1 links between {AERO} and {BIO}"
    assert view.message.startswith("Aggregated map: 10 organizations exceed the 6 a map draws at once")
    fr = maps.render_map(G, max_nodes=6, lang="fr")
    assert fr.message.startswith("Carte agrégée : 10 organisations dépassent les 6")
    assert str(escape(fr.message)) in str(maps.map_fragment(fr))


def test_aggregation_counts_suggestions_between_groups():
    G = make_graph(5)
    view = maps.render_map(G, max_nodes=6, suggestions=[("aerospatiale-1", "sciences-de-la-vie-2"),
                                                        ("aerospatiale-3", "sciences-de-la-vie-4"),
                                                        ("aerospatiale-1", "aerospatiale-2")])
    [suggested] = [e for e in view.edges if e["kind"] == "suggestion"]
    assert suggested["title"].startswith("2 suggested partnerships between")


def test_one_cluster_above_max_nodes_is_aggregated_by_community():
    G = make_graph(6, clusters=[AERO])
    G.remove_edge("aerospatiale-2", "aerospatiale-3", key="PARTNERS_WITH")
    G.remove_edge("aerospatiale-3", "aerospatiale-2", key="FUNDS")
    view = maps.render_map(G, max_nodes=3)
    assert view.aggregated and view.aggregate_by == "community"
    assert sorted(n["members"] for n in view.nodes) == [3, 3]
    assert "grouped by community" in view.message
    assert all(n["url"].startswith("/map?community=") for n in view.nodes)


def test_precomputed_groups_are_used_as_given():
    G = make_graph(3)
    groups = {n: ("even" if int(n[-1]) % 2 == 0 else "odd") for n in _organizations(G)}
    view = maps.render_map(G, max_nodes=2, groups=groups, aggregate_by="community")
    assert {n["name"]: n["members"] for n in view.nodes} == {"Community even": 4, "Community odd": 2}
    assert {n["url"] for n in view.nodes} == {"/map?community=even", "/map?community=odd"}


# ---- text stays text --------------------------------------------------------------------------


def test_hostile_names_end_up_escaped_in_the_payload(tmp_path):
    G = make_graph(2, extra_names=[HOSTILE, CLOSER])
    G.nodes["aerospatiale-0"]["region"] = "<b>bold</b> & co"
    view = maps.render_map(G, suggestions=[("aerospatiale-0", "aerospatiale-1", "<i>why</i>")])
    script = str(view.json_script())
    assert not re.search(r"[<>&]", script)
    names = {n["id"]: n["name"] for n in json.loads(script)["nodes"]}
    assert names["aerospatiale-0"] == HOSTILE and names["aerospatiale-1"] == CLOSER  # same text back
    page = maps.write_standalone(view, tmp_path).read_text(encoding="utf-8")
    fragment = str(maps.map_fragment(view))
    for html in (page, fragment):
        assert "<img" not in html and "<i>" not in html and "<b>" not in html
        assert html.count("</script>") == html.count("<script")  # nothing closes our data element early


def test_hostile_text_in_legend_and_message_is_escaped():
    G = make_graph(3, clusters=[AERO, "<svg onload=alert(3)>"])
    view = maps.render_map(G, max_nodes=2)
    html = str(maps.map_fragment(view))
    assert "<svg" not in html


def test_legend_speaks_french_and_english():
    G = make_graph(6)  # every stakeholder type
    en = maps.render_map(G, lang="en")
    fr = maps.render_map(G, lang="fr")
    assert [e["label"] for e in en.legend][:2] == ["Company", "Association"]
    assert [e["label"] for e in fr.legend][:2] == ["Entreprise", "Association"]
    assert "Comité sectoriel de main-d'œuvre" in [e["label"] for e in fr.legend]
    assert en.text["search_label"] == "Find an organization" and fr.text["search_label"] == "Trouver une organisation"
    assert fr.text["counts"] == "12 nœuds affichés sur 12 organisations"
    assert "Entreprise" in next(n["title"] for n in fr.nodes if n["type"] == "company")
    html = str(maps.map_fragment(fr))
    assert "Légende" in html and "Trouver une organisation" in html


def test_every_type_colour_is_in_the_stylesheet():
    css = (maps.STATIC_DIR / "map" / "maillage-map.css").read_text().lower()
    for t, colour in maps.TYPE_COLOURS.items():
        assert f".mm-type-{t} {{ background: {colour.lower()}; }}" in css
    for kind, colour in maps.EDGE_COLOURS.items():
        assert re.search(rf"\.mm-line-{kind} {{[^}}]*{colour.lower()}", css)


# ---- nothing from the internet ---------------------------------------------------------------


def test_the_assets_a_map_needs_are_on_this_machine():
    for name in ("vis-network.min.js", "vis-network.css"):
        assert (maps.VIS_NETWORK_DIR / name).stat().st_size > 10_000
    for name in ("maillage-map.js", "maillage-map.css"):
        assert (maps.STATIC_DIR / "map" / name).is_file()
    assert [url for url, _, _ in maps.STATIC_MOUNTS] == ["/vendor/vis-network"]
    urls = maps.asset_urls()
    assert all(u.startswith("/") and not u.startswith("//") for u in urls.values())


def test_no_internet_url_in_what_we_serve(tmp_path):
    ours = [*(maps.STATIC_DIR / "map").iterdir(), *(maps.TEMPLATES_DIR / "map").iterdir()]
    view = maps.render_map(make_graph())
    ours.append(maps.write_standalone(view, tmp_path))
    for path in ours:
        text = Path(path).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//cdn|\burl\(\s*['\"]?//", text), path
    # vis-network's stylesheet draws its icons from data: URLs only.
    css = (maps.VIS_NETWORK_DIR / "vis-network.css").read_text()
    assert {m.split(":")[0] for m in re.findall(r'url\(\s*"?([a-z]+:)', css)} == {"data"}


def test_pages_need_no_inline_script_or_style(tmp_path):
    html = maps.write_standalone(maps.render_map(make_graph()), tmp_path).read_text(encoding="utf-8")
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert all("src=" in attrs or 'type="application/json"' in attrs for attrs, _ in scripts)
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", html)  # no event handler attributes


# ---- ego and query maps ---------------------------------------------------------------------


@pytest.mark.parametrize("radius", [1, 2])
def test_ego_map_holds_the_neighbourhood_networkx_finds(radius):
    G = make_graph(5)
    view = maps.ego_map(G, "aerospatiale-2", radius=radius)
    expected = nx.ego_graph(partnership_network(G), "aerospatiale-2", radius=radius)
    assert {n["id"] for n in view.nodes} == set(expected)
    assert view.highlight == ["aerospatiale-2"]


def test_ego_map_adds_suggested_partners_and_refuses_unknown_ids():
    G = make_graph(5)
    view = maps.ego_map(G, "aerospatiale-2", suggestions=[("sciences-de-la-vie-4", "aerospatiale-2", "same region")])
    assert "sciences-de-la-vie-4" in {n["id"] for n in view.nodes}
    assert view.edge_counts["suggestion"] == 1
    with pytest.raises(NotFound):
        maps.ego_map(G, "nobody")
    with pytest.raises(NotFound):
        maps.ego_map(G, "aerospatiale")  # a cluster is not an organization


def test_a_cypher_result_becomes_a_map():
    result = QueryResult(
        columns=["o", "r", "c"], rows=[],
        nodes={
            "4:a": {"labels": ["Organization", "Company"], "properties": {"id": "o/1", "name": HOSTILE}},
            "4:b": {"labels": ["Organization", "Institution"], "properties": {"id": "o2", "name": "Polytechnique"}},
            "4:c": {"labels": ["Cluster"], "properties": {"id": "aerospatiale", "name": AERO}},
            "4:d": {"labels": ["DuplicateGroup"], "properties": {"id": "g1"}},
        },
        relationships={
            "5:1": {"type": "PART_OF", "start": "4:a", "end": "4:c", "properties": {}},
            "5:2": {"type": "SUGGESTED_PARTNER", "start": "4:a", "end": "4:b", "properties": {"score": 0.7, "reasons": ["same sector"]}},
            "5:3": {"type": "IN_DUPLICATE_GROUP", "start": "4:b", "end": "4:d", "properties": {}},
        },
    )
    view = maps.query_map(result, lang="fr", link_prefix="/organizations/")
    by_id = {n["id"]: n for n in view.nodes}
    assert view.drawn_nodes == 4
    assert by_id["4:a"]["url"] == "/organizations/o%2F1" and by_id["4:c"]["url"] == "/map?cluster=aerospatiale"
    assert by_id["4:d"]["url"] is None and by_id["4:d"]["type"] == "unknown"
    assert [e["kind"] for e in view.edges].count("suggestion") == 1
    assert "same sector" in next(e["title"] for e in view.edges if e["kind"] == "suggestion")
    assert not re.search(r"[<>]", str(view.json_script()))


def test_the_json_api_form_is_plain_json():
    view = maps.render_map(make_graph(), suggestions=[("aerospatiale-0", "aerospatiale-2")])
    data = json.loads(json.dumps(view.to_dict()))
    assert data["drawn_nodes"] == 8 and data["edge_counts"]["suggestion"] == 1
    assert {"nodes", "edges", "legend", "edge_legend", "message", "aggregated", "options"} <= set(data)
