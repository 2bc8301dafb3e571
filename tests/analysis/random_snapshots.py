"""Random snapshot graphs for checking analyses against networkx (factories, not fixtures).

``make_snapshot`` builds a ``MultiDiGraph`` shaped like the graph layer's snapshot: typed
organizations with sectors and clusters, a few cluster nodes reached by ``PART_OF``, every kind
of relationship in random directions, parallel relationships between some pairs (so summing
weights matters), weights that are sometimes missing (they count 1), and isolated
organizations (networkx gives them NaN constraint).
"""

from __future__ import annotations

import random

import networkx as nx

from analysis._network import partnership_network
from maillage.model import STAKEHOLDER_TYPES, cluster_id

__all__ = ["make_snapshot", "oracle_network"]

_RELS = ("PARTNERS_WITH", "MEMBER_OF", "FUNDS", "PARTICIPATES_IN", "COORDINATES")


def make_snapshot(
    n: int,
    p: float,
    *,
    seed: int,
    isolated: int = 2,
    clusters: tuple[str, ...] = ("Aéro", "Bio", "TIC"),
    sectors: tuple[str, ...] = ("aerospace", "health", "software", "logistics"),
    parallel: float = 0.2,
    typed: bool = True,
) -> nx.MultiDiGraph:
    """Return a random snapshot on ``n`` organizations (plus ``isolated`` ones without ties).

    Each pair is linked with probability ``p`` (G(n, p)); a linked pair gets a second
    relationship of another type, in the other direction, with probability ``parallel``.
    """
    rng = random.Random(seed)
    G = nx.MultiDiGraph()
    for c in clusters:
        G.add_node(cluster_id(c), type="cluster", name=c)
    for i in range(n + isolated):
        node = f"o{i}"
        mine = rng.sample(clusters, rng.choice([0, 1, 1, 1, 2]))
        attrs = {
            "name": f"Org {i}",
            "sectors": rng.sample(sectors, rng.choice([0, 1, 1, 2])),
            # Half the memberships come from the attribute, half from PART_OF edges only.
            "clusters": [c for c in mine if rng.random() < 0.5],
        }
        if typed:
            attrs["type"] = rng.choice(STAKEHOLDER_TYPES)
        G.add_node(node, **attrs)
        for c in mine:
            if c not in attrs["clusters"]:
                G.add_edge(node, cluster_id(c), key="PART_OF", type="PART_OF")
    base = nx.gnp_random_graph(n, p, seed=seed)
    for a, b in base.edges():
        u, v = (f"o{a}", f"o{b}") if rng.random() < 0.5 else (f"o{b}", f"o{a}")
        rels = rng.sample(_RELS, 2)
        G.add_edge(u, v, key=rels[0], type=rels[0], weight=_weight(rng))
        if rng.random() < parallel:
            G.add_edge(v, u, key=rels[1], type=rels[1], weight=_weight(rng))
    return G


def _weight(rng: random.Random) -> float | None:
    return None if rng.random() < 0.1 else round(rng.uniform(0.2, 4.0), 3)


def oracle_network(G: nx.Graph, *, weighted: bool) -> nx.Graph:
    """The partnership network networkx's reference functions are run on."""
    return partnership_network(G, weight="weight" if weighted else None)
