"""Load the classic inter-organizational networks of ``tests/data/classic`` as snapshot graphs.

Each loader returns a ``networkx.MultiDiGraph`` shaped like a snapshot of the graph layer
(see the design's graph model): node key = id (str), node attributes ``name``, ``type``,
``sectors``, ``clusters``, ``region``, ``mandate`` and provenance (``source``, ``row``); edge
key = relationship type, edge attributes ``type``, ``weight``, ``since``, ``until`` and
provenance. How each published data set maps onto the model:

===============  ==========================================================================
name             mapping
===============  ==========================================================================
knoke            10 organizations of one city, id = the published code (``COUN``...);
                 sector GOV -> ``government``, PVT -> ``company``, VOL -> ``association``
                 (published sector kept as ``sector``, rating as ``rating``); information
                 ties -> ``PARTNERS_WITH``, money ties -> ``FUNDS`` (funder to funded).
galaskiewicz     26 CEOs (``company``, id ``CEO1``...) ``MEMBER_OF`` 15 clubs and boards
                 (``association``, id ``club1``...): an affiliation network, no other tie.
padgett          15 Florentine families, **no** ``type`` attribute (analyses must tolerate
                 untyped nodes); marriage and business ties between a pair are one
                 ``PARTNERS_WITH`` edge whose ``weight`` counts them and whose
                 ``relations`` lists them.
emon             140 search-and-rescue organizations in 7 disaster networks; id
                 ``<network>:<vertex>``; sponsorship Private -> ``association``, any public
                 sponsor -> ``government``; the network is the ``region`` and the one
                 ``cluster`` (with a ``PART_OF`` edge to a cluster node), directed ties ->
                 ``PARTNERS_WITH`` weighted by the published frequency (1-4).
interlocks_nl,   board interlocks between large firms (``company``), one ``PARTNERS_WITH``
interlocks_de    edge per published pair, ``weight`` = number of shared directors.
===============  ==========================================================================

Examples
--------
>>> G = load_classic("knoke")
>>> G.number_of_nodes(), G.number_of_edges()
(10, 71)
>>> G.nodes["COUN"]["name"], G.nodes["COUN"]["type"]
('County Government', 'government')
"""

from __future__ import annotations

import csv
from pathlib import Path

import networkx as nx

from maillage.model import cluster_id

__all__ = ["CLASSIC_DIR", "CLASSIC_NAMES", "load_classic"]

CLASSIC_DIR = Path(__file__).resolve().parents[1] / "data" / "classic"
CLASSIC_NAMES = ("knoke", "galaskiewicz", "padgett", "emon", "interlocks_nl", "interlocks_de")


def _rows(filename: str) -> list[tuple[int, dict[str, str]]]:
    # Row numbers as a spreadsheet shows them (the header is row 1), like the loaders' provenance.
    with open(CLASSIC_DIR / filename, newline="", encoding="utf-8") as f:
        return [(i, row) for i, row in enumerate(csv.DictReader(f), start=2)]


def _org(G: nx.MultiDiGraph, node: str, *, source: str, row: int | None, **attrs) -> None:
    if node in G:
        return
    data = {
        "name": node,
        "sectors": [],
        "clusters": [],
        "region": None,
        "mandate": None,
        "source": source,
        "row": row,
    }
    data.update(attrs)
    G.add_node(node, **data)


def _edge(G: nx.MultiDiGraph, u: str, v: str, rtype: str, *, source: str, row: int, weight=None,
          **attrs) -> None:
    G.add_edge(u, v, key=rtype, type=rtype, weight=weight, since=None, until=None, source=source,
               row=row, **attrs)


def _knoke() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(name="knoke")
    types = {"GOV": "government", "PVT": "company", "VOL": "association"}
    for row, r in _rows("knoke_bureaucracies_nodes.csv"):
        _org(G, r["code"], source="knoke_bureaucracies_nodes.csv", row=row, name=r["name"],
             type=types[r["sector"]], sector=r["sector"], rating=float(r["rating"]))
    for row, r in _rows("knoke_bureaucracies_edges.csv"):
        rtype = "FUNDS" if r["relation"] == "money" else "PARTNERS_WITH"
        _edge(G, r["from"], r["to"], rtype, source="knoke_bureaucracies_edges.csv", row=row)
    return G


def _galaskiewicz() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(name="galaskiewicz")
    src = "galaskiewicz_ceos_clubs_edges.csv"
    for row, r in _rows(src):
        _org(G, r["ceo"], source=src, row=row, type="company")
        _org(G, r["club"], source=src, row=row, type="association")
        _edge(G, r["ceo"], r["club"], "MEMBER_OF", source=src, row=row)
    return G


def _padgett() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(name="padgett")
    src = "padgett_florentine_edges.csv"
    for row, r in _rows(src):
        a, b = r["family_a"], r["family_b"]
        for n in (a, b):
            if n not in G:
                # Deliberately untyped: the classic data has no stakeholder type.
                G.add_node(n, name=n, source=src, row=row)
        if G.has_edge(a, b, key="PARTNERS_WITH"):
            data = G.edges[a, b, "PARTNERS_WITH"]
            data["weight"] += 1
            data["relations"].append(r["relation"])
        else:
            _edge(G, a, b, "PARTNERS_WITH", source=src, row=row, weight=1,
                  relations=[r["relation"]])
    return G


def _emon() -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(name="emon")

    def num(s: str) -> float | None:
        # The published data marks unknown staff sizes with "" or "--".
        try:
            return float(s)
        except ValueError:
            return None

    for row, r in _rows("emon_nodes.csv"):
        net = r["network"]
        cid = cluster_id(net)
        if cid not in G:
            G.add_node(cid, name=net, type="cluster")
        node = f"{net}:{r['vertex_id']}"
        _org(G, node, source="emon_nodes.csv", row=row, name=r["name"],
             type="association" if r["sponsorship"] == "Private" else "government",
             region=net, clusters=[net], sponsorship=r["sponsorship"], location=r["location"],
             paid_staff=num(r["paid_staff"]), volunteer_staff=num(r["volunteer_staff"]))
        _edge(G, node, cid, "PART_OF", source="emon_nodes.csv", row=row)
    for row, r in _rows("emon_edges.csv"):
        net = r["network"]
        _edge(G, f"{net}:{r['from_id']}", f"{net}:{r['to_id']}", "PARTNERS_WITH",
              source="emon_edges.csv", row=row, weight=float(r["frequency"]))
    return G


def _interlocks(filename: str, name: str) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(name=name)
    for row, r in _rows(filename):
        a, b = r["firm_a"], r["firm_b"]
        _org(G, a, source=filename, row=row, type="company")
        _org(G, b, source=filename, row=row, type="company")
        _edge(G, a, b, "PARTNERS_WITH", source=filename, row=row, weight=float(r["weight"]))
    return G


def load_classic(name: str) -> nx.MultiDiGraph:
    """Return the classic data set ``name`` (one of :data:`CLASSIC_NAMES`) as a snapshot graph.

    Examples
    --------
    >>> G = load_classic("galaskiewicz")
    >>> sum(1 for _, d in G.nodes(data=True) if d["type"] == "company")
    26
    >>> load_classic("nope")
    Traceback (most recent call last):
    ...
    ValueError: Unknown classic data set 'nope' (known: knoke, galaskiewicz, padgett, emon, interlocks_nl, interlocks_de)
    """
    loaders = {
        "knoke": _knoke,
        "galaskiewicz": _galaskiewicz,
        "padgett": _padgett,
        "emon": _emon,
        "interlocks_nl": lambda: _interlocks(
            "stokman_ziegler_interlocks_netherlands_edges.csv", "interlocks_nl"),
        "interlocks_de": lambda: _interlocks(
            "stokman_ziegler_interlocks_west_germany_edges.csv", "interlocks_de"),
    }
    if name not in loaders:
        raise ValueError(f"Unknown classic data set {name!r} (known: {', '.join(CLASSIC_NAMES)})")
    return loaders[name]()
