"""A synthetic but realistic metropolitan ecosystem, with planted truths to score analyses by.

:func:`generate_ecosystem` builds, with numpy and a seed, the stakeholders of a metropolitan
region organised in fifteen clusters named after the sector groupings of the Montréal region:
companies (about four in five), universities, cégeps and research centres, business
associations, sector workforce committees, municipalities of the metropolitan region and
ministries or agencies, and the structures that coordinate them (one secretariat per cluster,
working groups, committees, programmes, consortia, concertation tables). Cluster names,
sector names and municipality names are real; every company, association, institution and
structure name is made of invented syllables (``Kavorix Aérostructures inc.``, ``Université
Belmira``, ``Groupe de travail Velmira sur l'exportation``) so that no real organization is
named. Mandates are written in French or English. Several values in a cell are joined with
``|``. Relationships (about ten per organization)
follow what real affiliation networks show:

* memberships (``MEMBER_OF`` associations, workforce committees, secretariats and consortia;
  ``PARTICIPATES_IN`` working groups, committees, programmes and tables) mostly within the
  organization's cluster, chosen in proportion to a heavy-tailed size of each body, and a
  heavy-tailed number of memberships per organization;
* partnerships (``PARTNERS_WITH``) between co-members of a body, between organizations of a
  cluster in proportion to their activity (some across clusters), then closed in triangles
  (a partner of a partner becomes a partner): heavy-tailed degrees, high clustering;
* funding (``FUNDS``) from ministries, agencies and municipalities (a municipality funds
  organizations on its territory) and coordination (``COORDINATES``) of each structure by its
  cluster's secretariat or by a committee of its cluster.

Planted truths
--------------
Four kinds of planted facts are written to ``ground_truth.json`` beside the data, for the
analyses and the loaders' duplicate finder to be scored against: 1.5 % of the organizations
for each kind of pair or record, 1 % for groups of structures, and at least 10 of each from
about 700 organizations up. An organization plays one planted role at most.

``removed_partnerships``
    ``{"pair": [a, b], "common_partners": k}``: a ``PARTNERS_WITH`` relationship between
    ``a`` and ``b`` was removed from a dense neighbourhood. ``k`` (at least 3) counts the
    organizations that are ``PARTNERS_WITH`` both in the published data. ``a`` and ``b`` are
    not linked by any relationship in the published data.
``overlapping_pairs``
    ``{"pair": [a, b], "neighbour_jaccard": j}``: ``b`` was made as a near copy of ``a``:
    other name, same type, sectors, clusters and region, a paraphrase of the mandate, and 85 %
    of each kind of ``a``'s memberships, participations, partnerships and funders. ``j`` is
    the Jaccard index of their neighbour sets (all relationship types, both directions, each
    without the other) in the published data. The two are not linked.
``duplicate_structures``
    ``{"group": [a, b(, c)], "kind": k}``: two or three bodies (associations or structures)
    with near-identical members (85 % of ``a``'s members, sometimes one more), the same
    coordinator, cluster and topic, and paraphrased mandates; ``a`` is the original and ``k``
    its kind (a copy may be another kind of body: a committee duplicating a working group).
``duplicate_records``
    ``{"id": d, "duplicate_of": a, "name": ..., "original_name": ..., "variations": [...]}``:
    ``d`` is a second record of organization ``a`` under a variant of its name (accents
    dropped, upper or lower case, abbreviations such as ``Univ.``/``Assoc.``/``St-``, legal
    suffix ``inc.``/``Ltée`` added or dropped, hyphens typed as spaces), with another id, the
    same type and clusters, sometimes no region, mandate or website, and one to three of
    ``a``'s relationships copied (as a second source file would hold). ``variations`` names
    what differs: ``accents``, ``case``, ``abbreviation``, ``legal_suffix``, ``punctuation``.

When scoring partnership suggestions against ``removed_partnerships``, pairs listed under the
other kinds are neither right nor wrong (an overlapping pair has many common partners by
construction), so scorers may leave them out. The file also holds ``format`` (the version of
this layout), ``seed``, ``organizations`` and ``relationships`` (row counts), ``clusters``
(names) and ``about`` (these descriptions, in short).

Examples
--------
>>> eco = generate_ecosystem(300, seed=1)
>>> len(eco.organizations)
300
>>> sorted(eco.ground_truth)[:4]
['about', 'clusters', 'duplicate_records', 'duplicate_structures']
>>> G = ecosystem_graph(eco)
>>> G.number_of_nodes() == 300 + len(eco.ground_truth["clusters"])
True
"""

from __future__ import annotations

import datetime as _dt
import json
import re
import string
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp

from maillage.model import cluster_id

__all__ = [
    "CLUSTERS",
    "LIST_SEPARATOR",
    "MUNICIPALITIES",
    "ORGANIZATION_COLUMNS",
    "RELATIONSHIP_COLUMNS",
    "GROUND_TRUTH_FORMAT",
    "Ecosystem",
    "generate_ecosystem",
    "write_ecosystem",
    "read_ecosystem",
    "ecosystem_graph",
]

#: Version tag of the ``ground_truth.json`` layout.
GROUND_TRUTH_FORMAT = "maillage-sample-ground-truth/1"
#: Columns of ``organizations.csv`` (the import format, plus two fictional extra columns).
ORGANIZATION_COLUMNS = ("id", "name", "type", "sectors", "clusters", "region", "mandate",
                        "employees", "website")
#: Columns of ``relationships.csv``.
RELATIONSHIP_COLUMNS = ("source", "target", "relationship", "weight", "since")
#: Separator of several values in one cell (the loaders also accept ``;``).
LIST_SEPARATOR = "|"


# ---- the region -------------------------------------------------------------------------------
class _Cluster(NamedTuple):
    name: str            # as it appears in the data (French)
    name_en: str         # for English mandates
    weight: float        # share of the region's organizations
    sectors: tuple[str, ...]
    descriptors: tuple[str, ...]   # words that end company names of the cluster
    products_fr: tuple[str, ...]
    products_en: tuple[str, ...]


#: The fifteen clusters: real sector groupings of the Montréal region (names are sectors,
#: not organizations). Weights are rough shares of the region's organizations.
CLUSTERS: tuple[_Cluster, ...] = (
    _Cluster("Sciences de la vie et technologies de la santé", "life sciences and health technologies", 0.10,
             ("biopharmaceutique", "technologies médicales", "santé numérique", "recherche clinique"),
             ("Biotech", "Pharma", "Thérapeutique", "Médical", "Biosciences", "Diagnostics", "Labs"),
             ("des thérapies ciblées", "des dispositifs médicaux", "des outils de diagnostic",
              "des services de recherche clinique", "des plateformes de santé numérique"),
             ("targeted therapies", "medical devices", "diagnostic tools", "clinical research services",
              "digital health platforms")),
    _Cluster("Technologies de l'information et des communications", "information and communication technologies", 0.16,
             ("logiciels", "services informatiques", "télécommunications", "cybersécurité"),
             ("Technologies", "Logiciels", "Systèmes", "Solutions", "Numérique", "Software", "Cyber"),
             ("des logiciels de gestion", "des services infonuagiques", "des solutions de cybersécurité",
              "des réseaux de télécommunication", "des applications mobiles"),
             ("business software", "cloud services", "cybersecurity solutions", "telecom networks",
              "mobile applications")),
    _Cluster("Aérospatiale", "aerospace", 0.08,
             ("aérostructures", "avionique", "maintenance aéronautique", "systèmes de propulsion"),
             ("Aéro", "Aérostructures", "Avionique", "Aerospace", "Précision", "Aéronautique"),
             ("des pièces d'aérostructure", "des systèmes avioniques", "des services d'entretien d'aéronefs",
              "des composants de moteurs", "des simulateurs de vol"),
             ("aerostructure parts", "avionics systems", "aircraft maintenance services", "engine components",
              "flight simulators")),
    _Cluster("Logistique et transport", "logistics and transportation", 0.07,
             ("transport de marchandises", "entreposage", "logistique portuaire", "transport intermodal"),
             ("Logistique", "Transport", "Fret", "Distribution", "Logistics", "Cargo"),
             ("des services de transport de marchandises", "des solutions d'entreposage",
              "des services de logistique portuaire", "du transport intermodal", "de la gestion de flotte"),
             ("freight services", "warehousing solutions", "port logistics services", "intermodal transport",
              "fleet management")),
    _Cluster("Technologies propres", "clean technology", 0.06,
             ("énergies renouvelables", "traitement de l'eau", "gestion des matières résiduelles",
              "efficacité énergétique"),
             ("Énergie", "Environnement", "Cleantech", "Hydro", "Recyclage", "Solaire"),
             ("des systèmes d'énergie solaire", "des procédés de traitement de l'eau",
              "des solutions de recyclage", "des services d'efficacité énergétique", "des bioénergies"),
             ("solar energy systems", "water treatment processes", "recycling solutions",
              "energy efficiency services", "bioenergy")),
    _Cluster("Services financiers", "financial services", 0.07,
             ("banque et crédit", "assurance", "gestion de placements", "technologies financières"),
             ("Capital", "Finance", "Assurances", "Placements", "Fintech", "Conseil"),
             ("des services de gestion de patrimoine", "des produits d'assurance", "du capital de risque",
              "des solutions de paiement", "des services-conseils financiers"),
             ("wealth management services", "insurance products", "venture capital", "payment solutions",
              "financial advisory services")),
    _Cluster("Mode et vêtement", "fashion and clothing", 0.05,
             ("conception de vêtements", "textiles techniques", "commerce de détail de mode"),
             ("Mode", "Couture", "Textiles", "Apparel", "Atelier", "Vêtements"),
             ("des collections de prêt-à-porter", "des textiles techniques", "des vêtements de travail",
              "des accessoires de mode", "des vêtements écoresponsables"),
             ("ready-to-wear collections", "technical textiles", "workwear", "fashion accessories",
              "sustainable clothing")),
    _Cluster("Cinéma et télévision", "film and television", 0.05,
             ("production audiovisuelle", "effets visuels", "postproduction", "doublage"),
             ("Studios", "Productions", "Films", "Médias", "VFX", "Images"),
             ("des séries télévisées", "des effets visuels", "des services de postproduction",
              "des documentaires", "des services de doublage"),
             ("television series", "visual effects", "post-production services", "documentaries",
              "dubbing services")),
    _Cluster("Transport électrique et intelligent", "electric and smart transportation", 0.04,
             ("véhicules électriques", "batteries", "bornes de recharge", "mobilité intelligente"),
             ("Mobilité", "Électrique", "Motion", "Batteries", "eMobility", "Volt"),
             ("des véhicules électriques", "des batteries", "des bornes de recharge",
              "des systèmes de transport intelligent", "des autobus électriques"),
             ("electric vehicles", "batteries", "charging stations", "intelligent transport systems",
              "electric buses")),
    _Cluster("Bioalimentaire", "food and bio-food", 0.08,
             ("transformation alimentaire", "boissons", "agriculture urbaine", "distribution alimentaire"),
             ("Aliments", "Foods", "Fromagerie", "Boulangerie", "Brasserie", "Distillerie", "Fermes"),
             ("des produits de boulangerie", "des fromages fins", "des boissons artisanales",
              "des légumes de serre", "des plats préparés"),
             ("bakery products", "fine cheeses", "craft beverages", "greenhouse vegetables",
              "ready-made meals")),
    _Cluster("Industries culturelles et créatives", "cultural and creative industries", 0.06,
             ("arts de la scène", "musique", "édition", "design"),
             ("Créations", "Design", "Éditions", "Musique", "Arts", "Spectacles"),
             ("des spectacles", "des enregistrements musicaux", "des livres", "des services de design",
              "des expositions"),
             ("live shows", "music recordings", "books", "design services", "exhibitions")),
    _Cluster("Métallurgie et fabrication avancée", "metallurgy and advanced manufacturing", 0.07,
             ("transformation des métaux", "usinage", "fabrication additive", "automatisation industrielle"),
             ("Métal", "Usinage", "Alliages", "Fabrication", "Robotique", "Industries", "Soudure"),
             ("des pièces usinées", "des alliages d'aluminium", "des pièces en fabrication additive",
              "des cellules robotisées", "des structures d'acier"),
             ("machined parts", "aluminium alloys", "additively manufactured parts", "robotic cells",
              "steel structures")),
    _Cluster("Intelligence artificielle", "artificial intelligence", 0.04,
             ("apprentissage automatique", "vision par ordinateur", "traitement du langage",
              "données massives"),
             ("IA", "AI", "Analytics", "Data", "Intelligence", "Neural"),
             ("des modèles d'apprentissage automatique", "des systèmes de vision par ordinateur",
              "des outils de traitement du langage", "des plateformes de données"),
             ("machine learning models", "computer vision systems", "language processing tools",
              "data platforms")),
    _Cluster("Jeu vidéo et créativité numérique", "video games and digital creativity", 0.04,
             ("développement de jeux", "réalité virtuelle", "animation 3D", "expériences immersives"),
             ("Games", "Interactive", "Jeux", "Studio", "XR", "Pixels"),
             ("des jeux vidéo", "des expériences immersives", "des contenus en réalité virtuelle",
              "de l'animation 3D", "des jeux mobiles"),
             ("video games", "immersive experiences", "virtual reality content", "3D animation",
              "mobile games")),
    _Cluster("Tourisme", "tourism", 0.03,
             ("hébergement", "événements et congrès", "attraits touristiques", "restauration"),
             ("Voyages", "Hospitalité", "Expériences", "Tours", "Hôtels", "Escapades"),
             ("des séjours touristiques", "des congrès", "des visites guidées", "de l'hébergement",
              "des expériences gastronomiques"),
             ("tourist stays", "conventions", "guided tours", "accommodation", "culinary experiences")),
)

#: Municipalities of the metropolitan region (real names) and their rough share of
#: organizations; an organization's ``region`` is one of them.
MUNICIPALITIES: tuple[tuple[str, float], ...] = (
    ("Montréal", 0.46), ("Laval", 0.09), ("Longueuil", 0.07), ("Terrebonne", 0.03),
    ("Brossard", 0.03), ("Boucherville", 0.025), ("Saint-Laurent", 0.0), ("Saint-Jérôme", 0.02),
    ("Repentigny", 0.02), ("Blainville", 0.02), ("Mirabel", 0.02), ("Dorval", 0.02),
    ("Pointe-Claire", 0.02), ("Mont-Royal", 0.015), ("Saint-Eustache", 0.015),
    ("Châteauguay", 0.015), ("Vaudreuil-Dorion", 0.015), ("Boisbriand", 0.015),
    ("Dollard-Des Ormeaux", 0.01), ("Mascouche", 0.01), ("Sainte-Julie", 0.01),
    ("Varennes", 0.01), ("La Prairie", 0.01), ("Candiac", 0.01),
    ("Saint-Bruno-de-Montarville", 0.01), ("Kirkland", 0.01), ("Sainte-Thérèse", 0.01),
    ("Chambly", 0.005), ("Beloeil", 0.005), ("Mont-Saint-Hilaire", 0.005),
    ("Deux-Montagnes", 0.005), ("L'Assomption", 0.005), ("Saint-Lambert", 0.005),
    ("Westmount", 0.005), ("Beaconsfield", 0.005), ("Rosemère", 0.005), ("Saint-Constant", 0.005),
)
# Saint-Laurent is a borough of Montréal, not a municipality: weight 0 keeps the table honest
# while the name stays available to a caller who wants it.
MUNICIPALITIES = tuple(m for m in MUNICIPALITIES if m[1] > 0)

# Ministries and agencies: generic, invented names (no real body is named), their seat, and
# the clusters they work with (empty: any three).
_LS, _ICT, _AERO, _LOG, _CLEAN, _FIN, _FASHION, _FILM, _ETRANS, _FOOD, _CULT, _METAL, _AI, _GAMES, _TOUR = range(15)
_AGENCIES: tuple[tuple[str, str, tuple[int, ...]], ...] = (
    ("Ministère de l'Innovation et du Développement industriel", "Québec", (_AERO, _METAL, _LS, _AI)),
    ("Ministère du Commerce extérieur et des Régions", "Québec", ()),
    ("Ministère de l'Emploi et de la Main-d'œuvre", "Québec", ()),
    ("Ministère de la Transition énergétique", "Québec", (_CLEAN, _ETRANS)),
    ("Ministère de la Culture et des Médias", "Québec", (_CULT, _FILM, _GAMES, _FASHION)),
    ("Ministry of Regional Economic Development", "Montréal", ()),
    ("Agence métropolitaine de développement économique", "Montréal", ()),
    ("Agence de soutien à l'exportation", "Montréal", (_AERO, _FOOD, _LS, _FASHION)),
    ("Fonds métropolitain pour l'innovation", "Montréal", (_AI, _ICT, _LS, _CLEAN)),
    ("Federal Agency for Regional Innovation", "Montréal", ()),
    ("Office régional du tourisme d'affaires", "Montréal", (_TOUR, _FOOD, _CULT)),
    ("Conseil métropolitain des arts et de la culture", "Montréal", (_CULT, _FILM)),
    ("Commission métropolitaine de la mobilité", "Montréal", (_ETRANS, _LOG)),
    ("Agence des ports et du commerce maritime", "Montréal", (_LOG,)),
)

_TOPICS: tuple[tuple[str, str], ...] = (
    ("la relève et l'attraction de talents", "talent attraction"),
    ("l'innovation ouverte", "open innovation"),
    ("l'exportation", "export development"),
    ("la décarbonation", "decarbonisation"),
    ("la transformation numérique", "digital transformation"),
    ("la chaîne d'approvisionnement", "supply chain resilience"),
    ("le transfert technologique", "technology transfer"),
    ("la formation continue", "continuing education"),
    ("l'intégration des personnes immigrantes", "immigrant workforce integration"),
    ("l'entrepreneuriat féminin", "women's entrepreneurship"),
    ("la santé et la sécurité au travail", "workplace health and safety"),
    ("l'économie circulaire", "the circular economy"),
    ("la commercialisation", "commercialisation"),
    ("l'accès au financement", "access to capital"),
    ("la propriété intellectuelle", "intellectual property"),
    ("l'automatisation", "automation"),
)

# Syllables of invented names. 60 × 41 × 50 = 123,000 stems before the blocklist.
_ONSETS = ("Ka", "No", "Bri", "Vel", "Tar", "Mo", "Lu", "Ze", "Qua", "Ri", "So", "Va", "Dor",
           "Pel", "Fen", "Gal", "Hor", "Ix", "Jo", "Kel", "Lor", "Mer", "Nor", "Or", "Pax",
           "Quin", "Ros", "Sil", "Tem", "Ul", "Ver", "Wen", "Xa", "Yor", "Zan", "Al", "Bel",
           "Cor", "Del", "El", "Fa", "Gi", "Ha", "Is", "Lé", "Ma", "Né", "Pi", "Ro", "Sé", "Ta",
           "Vi", "Cy", "Da", "Ar", "Bo", "Ca", "Du", "Fi", "Mi")
_MIDDLES = ("", "va", "ri", "lo", "na", "te", "vi", "ro", "ma", "li", "ne", "sa", "ca", "do",
            "mi", "ra", "ve", "to", "la", "ni", "zo", "ba", "ga", "pe", "su", "ké", "di", "fo",
            "gu", "ho", "ja", "lu", "mé", "no", "pa", "qui", "ré", "si", "tu", "vo", "xi")
_ENDINGS = ("x", "n", "ra", "ne", "lis", "tek", "via", "nor", "mex", "ris", "tal", "ron", "vex",
            "gen", "dia", "lon", "tis", "nova", "sys", "lyx", "rel", "ven", "dor", "tic", "mar",
            "bel", "rix", "zan", "con", "lia", "ton", "vis", "dex", "nic", "rus", "tra", "mo",
            "lys", "sto", "fin", "gard", "mont", "val", "ville", "court", "pré", "lac", "bois",
            "roc", "mira")
# Real brands and names that an invented stem must never spell (checked case-insensitively).
_BLOCKED_STEMS = frozenset({
    "bell", "telus", "rogers", "saputo", "metro", "nova", "mila", "taiga", "lion", "aldo",
    "simons", "cascades", "domtar", "kruger", "molson", "genetec", "coveo", "nuvei", "ubisoft",
    "eidos", "bombardier", "alstom", "airbus", "boeing", "pfizer", "merck", "novartis",
    "sanofi", "medicago", "transat", "desjardins", "intact", "manulife", "videotron", "cogeco",
    "dollarama", "lassonde", "bauer", "gildan", "reitmans", "sobeys", "loblaw", "ericsson",
    "nokia", "samsung", "sony", "nintendo", "apple", "google", "microsoft", "amazon", "meta",
    "intel", "nvidia", "mitacs", "prompt", "hydro", "kelvin", "lotus", "corvus", "delmar",
    "novavax", "solaris", "valeo", "vinci", "veolia", "telos", "sirius", "mobilis", "orion",
    "kalis", "marvel", "dorval", "belmont", "valmont", "rosemont", "lachine", "verdun",
})

# Legal suffixes of company names and how often each is typed.
_LEGAL = ("", " inc.", " Inc.", " Ltée", " ltée", " s.e.n.c.", " Ltd.")
_LEGAL_P = (0.40, 0.30, 0.10, 0.10, 0.03, 0.02, 0.05)

# ---- kinds of organization ----------------------------------------------------------------------
# (kind, canonical type, relationship that joins it or None, weight of its size, activity)
_KINDS: tuple[tuple[str, str, str | None, float, float], ...] = (
    ("company", "company", None, 0.0, 1.0),
    ("university", "institution", None, 0.0, 6.0),
    ("college", "institution", None, 0.0, 3.0),
    ("research_centre", "institution", None, 0.0, 3.0),
    ("transfer_centre", "institution", None, 0.0, 2.0),
    ("association", "association", "MEMBER_OF", 3.0, 2.5),
    ("workforce_committee", "workforce_committee", "MEMBER_OF", 3.0, 2.0),
    ("municipality", "government", None, 0.0, 1.5),
    ("agency", "government", None, 0.0, 1.5),
    ("secretariat", "structure", "MEMBER_OF", 12.0, 0.0),
    ("working_group", "structure", "PARTICIPATES_IN", 0.6, 0.0),
    ("committee", "structure", "PARTICIPATES_IN", 0.5, 0.0),
    ("programme", "structure", "PARTICIPATES_IN", 2.0, 0.0),
    ("consortium", "structure", "MEMBER_OF", 1.5, 0.0),
    ("table", "structure", "PARTICIPATES_IN", 0.8, 0.0),
)
_K = {k[0]: i for i, k in enumerate(_KINDS)}
_KIND_TYPE = np.array([k[1] for k in _KINDS], dtype=object)
_KIND_SIZE = np.array([k[3] for k in _KINDS])
_KIND_ACTIVITY = np.array([k[4] for k in _KINDS])
_KIND_JOIN = np.array([{"MEMBER_OF": 0, "PARTICIPATES_IN": 1}.get(k[2], -1) for k in _KINDS])
_INSTITUTION_KINDS = (_K["university"], _K["college"], _K["research_centre"], _K["transfer_centre"])
_STRUCTURE_KINDS = (_K["working_group"], _K["committee"], _K["programme"], _K["consortium"], _K["table"])

_REL = ("MEMBER_OF", "PARTICIPATES_IN", "PARTNERS_WITH", "FUNDS", "COORDINATES")
_MEMBER, _PARTICIPATES, _PARTNERS, _FUNDS, _COORDINATES = range(5)

# Nominal provenance of the graph built by ecosystem_graph (the sample is not imported).
_IMPORTED_AT = "2025-01-01T00:00:00+00:00"


# ---- the result -------------------------------------------------------------------------------
@dataclass
class Ecosystem:
    """A generated ecosystem in the import format, and what was planted in it.

    Attributes
    ----------
    organizations : pandas.DataFrame
        One row per organization, columns :data:`ORGANIZATION_COLUMNS`; ``sectors`` and
        ``clusters`` hold several values joined with ``|``; missing values are ``NaN``/``<NA>``.
    relationships : pandas.DataFrame
        One row per relationship, columns :data:`RELATIONSHIP_COLUMNS`; ``source`` and
        ``target`` are ids (categorical, to keep ten million rows light), ``weight`` a float
        or NaN, ``since`` a datetime64 or NaT. ``PART_OF`` is not listed: the loaders derive
        it from ``clusters``.
    ground_truth : dict
        The planted facts (see the module docstring), JSON-ready.
    seed : int or None
        The seed it was generated with.
    """

    organizations: pd.DataFrame
    relationships: pd.DataFrame
    ground_truth: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None


# ---- vectorised helpers --------------------------------------------------------------------------
# Weighted draws avoid binary searches: on a million items, ten million random look-ups into a
# cumulative sum cost more than all the rest of the generator. A multinomial over the items,
# repeated and shuffled, gives the same distribution in linear time.
def _draw_global(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Return ``size`` item indices drawn with replacement in proportion to ``weights``,
    in random order."""
    w = np.asarray(weights, dtype=np.float64)
    total = w.sum()
    if size <= 0 or total <= 0:
        return np.zeros(0, dtype=np.int64)
    out = np.repeat(np.arange(len(w), dtype=np.int64), rng.multinomial(size, w / total))
    rng.shuffle(out)
    return out


def _segments(keys: np.ndarray, n_segments: int, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group items by a small segment key (a cluster); return ``(order, offsets, weights in
    that order)`` for :func:`_draw`."""
    order = np.argsort(keys.astype(np.int16), kind="stable")  # a radix sort on small keys
    offsets = np.searchsorted(keys[order], np.arange(n_segments + 1), side="left")
    return order, offsets, np.asarray(weights, dtype=np.float64)[order]


def _draw(rng: np.random.Generator, seg: np.ndarray, table: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Pick, for each draw ``i``, an item of segment ``seg[i]`` with probability proportional
    to its weight; a segment without weight falls back to the whole population."""
    order, offsets, w = table
    seg = np.asarray(seg, dtype=np.int64)
    out = np.empty(len(seg), dtype=np.int64)
    by = np.argsort(seg.astype(np.int16), kind="stable")
    counts = np.bincount(seg, minlength=len(offsets) - 1)
    starts = np.concatenate([[0], np.cumsum(counts)])
    for s in np.flatnonzero(counts):
        lo, hi = offsets[s], offsets[s + 1]
        items, ws = order[lo:hi], w[lo:hi]
        if ws.sum() <= 0:
            items, ws = order, w
        out[by[starts[s]:starts[s + 1]]] = items[_draw_global(rng, ws, int(counts[s]))]
    return out


def _pair_codes(u: np.ndarray, v: np.ndarray, n: int) -> np.ndarray:
    """Code an unordered pair as one int64 (``min * n + max``)."""
    return np.minimum(u, v).astype(np.int64) * n + np.maximum(u, v)


def _undirected(u: np.ndarray, v: np.ndarray, n: int) -> sp.csr_array:
    """Symmetric 0/1 adjacency of the pairs ``(u[i], v[i])`` on ``n`` rows."""
    A = sp.coo_array((np.ones(2 * len(u), dtype=np.float32),
                      (np.concatenate([u, v]), np.concatenate([v, u]))), shape=(n, n)).tocsr()
    A.sum_duplicates()
    A.data[:] = 1.0
    return A


def _neighbours_of(rows: np.ndarray, src: np.ndarray, dst: np.ndarray, n: int) -> tuple[np.ndarray, sp.csr_array]:
    """Return ``(local, A)``: ``A[local[r]]`` is the 0/1 neighbour row of ``r`` (either
    direction) for each ``r`` in ``rows``, built from the edges touching ``rows`` only."""
    local = np.full(n, -1, dtype=np.int64)
    wanted = np.unique(rows)
    local[wanted] = np.arange(len(wanted))
    a, b = local[src], local[dst]
    hit_a, hit_b = a >= 0, b >= 0
    r = np.concatenate([a[hit_a], b[hit_b]])
    c = np.concatenate([dst[hit_a], src[hit_b]])
    A = sp.coo_array((np.ones(len(r), dtype=np.float32), (r, c)), shape=(len(wanted), n)).tocsr()
    A.sum_duplicates()
    A.data[:] = 1.0
    return local, A


def _common_counts(local: np.ndarray, A: sp.csr_array, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Number of common neighbours of each pair ``(u[i], v[i])`` (rows of
    :func:`_neighbours_of`)."""
    if len(u) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(A[local[u]].multiply(A[local[v]]).sum(axis=1)).ravel().astype(np.int64)


def _unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array (a plain sort: for int64 codes it is several
    times faster than numpy 2's hash-based ``np.unique``)."""
    x = np.sort(x)
    keep = np.ones(len(x), dtype=bool)
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def _merge_unique(sorted_codes: np.ndarray, new: np.ndarray) -> np.ndarray:
    """Distinct values of ``sorted_codes`` (sorted, distinct) and ``new``, sorted.

    Timsort (numpy's stable sort for int64) finds the two sorted runs and merges them in
    linear time, so growing a large set by rounds costs no full re-sort.
    """
    both = np.sort(np.concatenate([sorted_codes, np.sort(new)]), kind="stable")
    keep = np.ones(len(both), dtype=bool)
    np.not_equal(both[1:], both[:-1], out=keep[1:])
    return both[keep]


def _stable_order(*keys: np.ndarray) -> np.ndarray:
    """Indices that sort rows by ``keys`` (most significant first; non-negative integers
    below 2**32), stably: a least-significant-digit radix sort on 16-bit digits, each pass a
    linear-time numpy radix sort, instead of an ``O(n log n)`` sort of a combined key."""
    order = np.arange(len(keys[0]))
    for key in reversed(keys):
        key = np.asarray(key, dtype=np.int64)
        for shift in (0, 16):
            digit = ((key[order] >> shift) & 0xFFFF).astype(np.uint16)
            if shift and not digit.any():
                break
            order = order[np.argsort(digit, kind="stable")]
    return order


def _isin(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``np.isin`` for integer codes by one sort and one ``searchsorted`` (numpy's own takes
    a hash-based unique of both arrays first, which dominated the generator's time)."""
    if len(b) == 0:
        return np.zeros(len(a), dtype=bool)
    b = np.sort(b)
    i = np.minimum(np.searchsorted(b, a), len(b) - 1)
    return b[i] == a


def _unique_inverse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(values, first, inverse)``: sorted distinct values, the index of the first
    occurrence of each, and the index of each element's value."""
    order = np.argsort(x, kind="stable")
    xs = x[order]
    flag = np.ones(len(x), dtype=bool)
    np.not_equal(xs[1:], xs[:-1], out=flag[1:])
    inverse = np.empty(len(x), dtype=np.int64)
    inverse[order] = np.cumsum(flag) - 1
    return xs[flag], order[flag], inverse


# ---- names and texts -------------------------------------------------------------------------------
def _ascii_table() -> dict[int, str]:
    """Latin letters with diacritics (and ligatures) to ASCII, for :func:`_fold`."""
    table = {}
    for code in range(0x00C0, 0x0250):
        base = "".join(c for c in unicodedata.normalize("NFKD", chr(code)) if not unicodedata.combining(c))
        if base != chr(code) and base.isascii():
            table[code] = base
    table.update({ord("œ"): "oe", ord("Œ"): "OE", ord("æ"): "ae", ord("Æ"): "AE"})
    return table


_ASCII = _ascii_table()


def _fold(text: str) -> str:
    """Drop accents (and spell out ligatures): one ``str.translate``, fast enough for a million."""
    return text.translate(_ASCII)


def _stems() -> tuple[np.ndarray, np.ndarray]:
    """Every invented stem (onset + middle + ending) not on the blocklist, and the indices of
    its three syllables."""
    parts = np.indices((len(_ONSETS), len(_MIDDLES), len(_ENDINGS))).reshape(3, -1)
    stems = (np.array(_ONSETS, dtype=object)[parts[0]] + np.array(_MIDDLES, dtype=object)[parts[1]]
             + np.array(_ENDINGS, dtype=object)[parts[2]])
    keep = np.array([_fold(s).lower() not in _BLOCKED_STEMS for s in stems])
    return stems[keep], parts[:, keep]


_STEMS, _STEM_PARTS = _stems()


def _spread_stems(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` distinct stems, as far apart as the inventory allows.

    Two stems that differ by one syllable ("Dorsacon", "Dorpacon") read as a typo of one
    name, and a duplicate finder would rightly pair them: as long as it can, this takes
    stems that differ from every other in at least two of their three syllables.
    """
    o, m, e = _STEM_PARTS
    keys = (o * len(_MIDDLES) + m, len(_ONSETS) * len(_MIDDLES) + o * len(_ENDINGS) + e,
            len(_ONSETS) * (len(_MIDDLES) + len(_ENDINGS)) + m * len(_ENDINGS) + e)
    seen: set[int] = set()
    chosen, rest = [], []
    for i in rng.permutation(len(_STEMS)).tolist():
        if len(chosen) == n:
            break
        k = (int(keys[0][i]), int(keys[1][i]), int(keys[2][i]))
        if seen.isdisjoint(k):
            seen.update(k)
            chosen.append(i)
        elif len(rest) < n:
            rest.append(i)
    out = np.array(chosen + rest[: n - len(chosen)], dtype=np.int64)
    return out[rng.permutation(len(out))]


def _unique_stems(rng: np.random.Generator, category: np.ndarray) -> np.ndarray:
    """Draw a stem index per row so that no two rows share ``(category, stem)``; while the
    region is small enough every row gets its own stem, so that no two names share a word."""
    n, n_stems = len(category), len(_STEMS)
    if n <= n_stems // 2:
        return _spread_stems(rng, n)
    stems = np.empty(n, dtype=np.int64)
    order = np.argsort(category, kind="stable")
    bounds = np.flatnonzero(np.diff(category[order])) + 1
    for rows in np.split(order, bounds):
        if len(rows) > n_stems:
            raise ValueError("too many organizations of one kind for the invented names available")
        stems[rows] = rng.choice(n_stems, size=len(rows), replace=False)
    return stems


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", _fold(text).lower())


_COMPANY_FR = (
    "{Verb} {product} pour {clientele} au Québec et à l'international.",
    "Entreprise de {region} spécialisée en {sector}; {verb} {product}.",
    "PME québécoise qui {verb} {product} pour {clientele}.",
    "Active en {sector}, l'entreprise {verb} {product}; elle œuvre surtout pour {clientele}.",
)
_COMPANY_EN = (
    "{VerbEn} {product_en} for {clientele_en} in Québec and abroad.",
    "{region}-based company that {verb_en} {product_en} for {clientele_en}.",
    "Greater Montréal firm specialised in {product_en} for {clientele_en}.",
)
_VERBS_FR = ("conçoit et fabrique", "développe", "offre", "commercialise", "distribue")
_VERBS_EN = ("designs and builds", "develops", "provides", "markets", "distributes")
_CLIENTELE_FR = ("les donneurs d'ordre", "les hôpitaux", "les PME manufacturières", "les municipalités",
                 "les grandes entreprises", "les détaillants", "les consommateurs", "les organismes publics")
_CLIENTELE_EN = ("prime contractors", "hospitals", "manufacturing SMEs", "municipalities",
                 "large enterprises", "retailers", "consumers", "public bodies")
_MANDATES_FR = {
    "university": "Université qui forme la relève et mène des recherches en {sector} avec les entreprises de la région de Montréal.",
    "college": "Établissement d'enseignement collégial qui forme des techniciens en {sector} et accompagne les PME de {region}.",
    "research_centre": "Centre de recherche appliquée en {sector} qui accompagne les entreprises dans leurs projets d'innovation.",
    "transfer_centre": "Centre collégial de transfert technologique qui aide les PME à innover en {sector}.",
    "association": "Regroupe et représente les entreprises en {sector} de la région métropolitaine et œuvre à leur croissance.",
    "workforce_committee": "Comité sectoriel de main-d'œuvre qui œuvre au développement des compétences en {sector}.",
    "municipality": "Municipalité de la région métropolitaine qui soutient le développement économique et l'implantation d'entreprises à {region}.",
    "agency": "Organisme public qui finance des projets d'innovation, d'exportation et de main-d'œuvre dans la région de Montréal.",
    "secretariat": "Secrétariat de la grappe {cluster} : réunit les acteurs, anime les chantiers et œuvre au maillage entre entreprises, institutions et gouvernements.",
    "structure": "Réunit les acteurs de la grappe {cluster} autour {de_topic} et propose des actions concertées.",
}
_MANDATES_EN = {
    "university": "University training talent and conducting research in {cluster_en} with companies of Greater Montréal.",
    "college": "College training technicians in {cluster_en} and supporting SMEs in {region}.",
    "research_centre": "Applied research centre working with companies on {product_en}.",
    "transfer_centre": "College technology transfer centre helping SMEs innovate in {cluster_en}.",
    "association": "Brings together {cluster_en} companies of Greater Montréal and advocates for their growth.",
    "workforce_committee": "Sector workforce committee working on skills and labour shortages in {cluster_en}.",
    "municipality": "Municipality of the metropolitan region supporting economic development in {region}.",
    "agency": "Public body funding innovation, export and workforce projects across Greater Montréal.",
    "secretariat": "Secretariat of the {cluster_en} cluster, bringing its stakeholders together in Montréal.",
    "structure": "Brings {cluster_en} stakeholders together on {topic_en} and proposes joint action.",
}
# Word swaps that paraphrase a mandate without changing what it says.
_PARAPHRASES = (
    ("Regroupe et représente", "Rassemble et représente"), ("œuvre", "travaille"),
    ("accompagne", "soutient"), ("Réunit", "Rassemble"), ("propose", "met en œuvre"),
    ("spécialisée en", "active en"), ("développe", "conçoit"), ("offre", "propose"),
    ("forme", "prépare"), ("projets", "initiatives"), ("Brings together", "Gathers"),
    ("Brings", "Gathers"), ("advocates for", "promotes"), ("develops", "builds"),
    ("provides", "offers"), ("working", "active"), ("joint action", "concerted action"),
    ("supporting", "helping"), ("specialised in", "focused on"),
)


def _paraphrase(text: str, rng: np.random.Generator) -> str:
    """Return a near-identical mandate: one or two words swapped, or a sentence added."""
    swaps = [(a, b) for a, b in _PARAPHRASES if a in text]
    out = text
    if swaps:
        for i in rng.permutation(len(swaps))[: 1 + int(rng.random() < 0.5)]:
            a, b = swaps[i]
            out = out.replace(a, b, 1)
    if out == text or rng.random() < 0.3:
        french = any(w in text for w in (" les ", " la ", " des ", " de "))
        out += " Active dans la région métropolitaine." if french else " Active across Greater Montréal."
    return out


# Variant spellings for duplicate records: abbreviations a data steward types.
_ABBREVIATIONS = tuple((re.compile(rf"\b{re.escape(a)}(?![\w])"), a, b) for a, b in (
    ("Université", "Univ."), ("University", "Univ."), ("Association", "Assoc."),
    ("Institute", "Inst."), ("Institut", "Inst."), ("Centre", "Ctre"), ("Saint-", "St-"),
    ("Sainte-", "Ste-"), ("Montréal", "Mtl"), ("International", "Intl"),
))
_LEGAL_SUFFIX = re.compile(r"\s+(inc\.|Inc\.|Ltée|ltée|s\.e\.n\.c\.|Ltd\.)$")


def _variant_name(name: str, rng: np.random.Generator) -> tuple[str, list[str]]:
    """Return another spelling of ``name`` that a careful reader sees as the same
    organization, and which variations made it."""
    options = ["case", "legal_suffix"]
    if _fold(name) != name:
        options += ["accents", "accents"]
    if any(p.search(name) for p, _, _ in _ABBREVIATIONS):
        options += ["abbreviation"] * 3
    if re.search(r"[-']", name):
        options.append("punctuation")
    picks = list(dict.fromkeys(options[i] for i in rng.permutation(len(options))[: 1 + int(rng.random() < 0.6)]))
    out = name
    for v in sorted(picks, key=["legal_suffix", "abbreviation", "punctuation", "accents", "case"].index):
        if v == "legal_suffix":
            stripped = _LEGAL_SUFFIX.sub("", out)
            out = stripped if stripped != out else out + (" inc.", " Inc.", " Ltée")[int(rng.integers(3))]
        elif v == "abbreviation":
            pattern, _, short = next(a for a in _ABBREVIATIONS if a[0].search(out))
            out = pattern.sub(short, out, count=1)
        elif v == "punctuation":
            # Hyphens typed as spaces, apostrophes typographic: "main d’œuvre".
            out = out.replace("-", " ").replace("'", "’")
        elif v == "accents":
            out = _fold(out)
        elif v == "case":
            out = out.upper() if rng.random() < 0.75 else out.lower()
    if out == name:  # nothing applied changed it (e.g. an all-caps name upper-cased)
        out, picks = out.lower(), picks + ["case"]
    return out, picks


# ---- the generator ---------------------------------------------------------------------------------
class _Org:
    """Column arrays of the organizations being built (one entry per row)."""

    def __init__(self, n: int):
        self.kind = np.zeros(n, dtype=np.int8)
        self.cl1 = np.zeros(n, dtype=np.int8)        # main cluster (drives whom it meets)
        self.cl2 = np.full(n, -1, dtype=np.int8)     # a second cluster, or -1
        self.cmask = np.zeros(n, dtype=np.int32)     # clusters listed (bit c)
        self.smask = np.zeros(n, dtype=np.uint64)    # sectors listed (bit s)
        self.sector = np.zeros(n, dtype=np.int16)    # main sector (for names and mandates)
        self.region = np.zeros(n, dtype=np.int16)    # index into _REGIONS
        self.french = np.ones(n, dtype=bool)
        self.topic = np.full(n, -1, dtype=np.int16)
        self.act = np.zeros(n)                       # activity: memberships and partners
        self.size = np.zeros(n)                      # attractiveness of a body
        self.special = np.full(n, -1, dtype=np.int16)  # municipality / agency / cluster index

    def take(self, rows: np.ndarray) -> "_Org":
        out = _Org(0)
        for k, v in self.__dict__.items():
            setattr(out, k, v[rows].copy())
        return out

    def extend(self, other: "_Org") -> None:
        for k, v in self.__dict__.items():
            setattr(self, k, np.concatenate([v, getattr(other, k)]))


# Clusters whose firms often work in both (an aerospace firm machining metal, a studio doing
# visual effects and games): most second clusters come from here.
_RELATED = {
    "Sciences de la vie et technologies de la santé": ("Intelligence artificielle", "Technologies de l'information et des communications"),
    "Technologies de l'information et des communications": ("Intelligence artificielle", "Jeu vidéo et créativité numérique", "Services financiers"),
    "Aérospatiale": ("Métallurgie et fabrication avancée", "Logistique et transport"),
    "Logistique et transport": ("Transport électrique et intelligent", "Bioalimentaire"),
    "Technologies propres": ("Transport électrique et intelligent", "Métallurgie et fabrication avancée"),
    "Services financiers": ("Technologies de l'information et des communications", "Intelligence artificielle"),
    "Mode et vêtement": ("Industries culturelles et créatives",),
    "Cinéma et télévision": ("Jeu vidéo et créativité numérique", "Industries culturelles et créatives"),
    "Transport électrique et intelligent": ("Technologies propres", "Aérospatiale", "Logistique et transport"),
    "Bioalimentaire": ("Tourisme", "Logistique et transport"),
    "Industries culturelles et créatives": ("Cinéma et télévision", "Mode et vêtement", "Tourisme"),
    "Métallurgie et fabrication avancée": ("Aérospatiale", "Transport électrique et intelligent"),
    "Intelligence artificielle": ("Technologies de l'information et des communications", "Sciences de la vie et technologies de la santé"),
    "Jeu vidéo et créativité numérique": ("Cinéma et télévision", "Technologies de l'information et des communications"),
    "Tourisme": ("Bioalimentaire", "Industries culturelles et créatives"),
}
_NAMES = [c.name for c in CLUSTERS]
_RELATED_IDX = np.array([[_NAMES.index(_RELATED[c.name][j % len(_RELATED[c.name])]) for j in range(6)]
                         for c in CLUSTERS])
_SECTOR_OFFSET = np.cumsum([0] + [len(c.sectors) for c in CLUSTERS])
_SECTORS = tuple(s for c in CLUSTERS for s in c.sectors)
_CLUSTER_W = np.array([c.weight for c in CLUSTERS])
_CLUSTER_W = _CLUSTER_W / _CLUSTER_W.sum()
_REGIONS = tuple(m for m, _ in MUNICIPALITIES) + ("Québec",)
_REGION_W = np.array([w for _, w in MUNICIPALITIES])
_REGION_W = _REGION_W / _REGION_W.sum()
_N_CLUSTERS = len(CLUSTERS)


def _planted_count(n: int, rate: float) -> int:
    return max(round(rate * n), min(10, n // 70))


def _base_orgs(n: int, rng: np.random.Generator) -> _Org:
    """Draw the ordinary organizations of a region of ``n``: kinds, clusters, sectors,
    regions, activity and sizes."""
    counts = {
        "secretariat": _N_CLUSTERS,
        "workforce_committee": min(2 * _N_CLUSTERS, max(3, round(0.01 * n))),
        "municipality": min(len(MUNICIPALITIES), max(3, round(0.012 * n))),
        "agency": min(len(_AGENCIES), max(2, round(0.006 * n))),
    }
    n_inst, n_struct = round(0.04 * n), max(_N_CLUSTERS, round(0.07 * n))
    for kind, share in zip(_INSTITUTION_KINDS, (0.10, 0.25, 0.40, 0.25)):
        counts[_KINDS[kind][0]] = max(1, round(share * n_inst))
    for kind, share in zip(_STRUCTURE_KINDS, (0.30, 0.20, 0.25, 0.10, 0.15)):
        counts[_KINDS[kind][0]] = max(1, round(share * n_struct))
    counts["association"] = max(2, round(0.05 * n))
    counts["company"] = n - sum(counts.values())
    if counts["company"] < n // 2:
        raise ValueError(f"{n} organizations are too few for a region; ask for at least 100")
    o = _Org(n)
    o.kind = np.repeat(np.array([_K[k] for k in counts], dtype=np.int8), list(counts.values()))
    kind = o.kind
    o.cl1 = _draw_global(rng, _CLUSTER_W, n).astype(np.int8)
    wc = np.flatnonzero(kind == _K["workforce_committee"])
    o.cl1[wc] = np.arange(len(wc)) % _N_CLUSTERS
    sec = np.flatnonzero(kind == _K["secretariat"])
    o.cl1[sec] = np.arange(_N_CLUSTERS)
    o.special[sec] = np.arange(_N_CLUSTERS)
    # Clusters listed: one for most; several for universities, colleges and ministries.
    extra = np.zeros(n, dtype=np.int64)
    second = rng.random(n)
    extra[(kind == _K["company"]) & (second < 0.2)] = 1
    extra[np.isin(kind, (_K["association"], _K["research_centre"]) + _STRUCTURE_KINDS) & (second < 0.15)] = 1
    extra[kind == _K["university"]] = rng.integers(2, 6, size=int((kind == _K["university"]).sum()))
    extra[kind == _K["college"]] = rng.integers(1, 3, size=int((kind == _K["college"]).sum()))
    extra[kind == _K["agency"]] = rng.integers(1, 4, size=int((kind == _K["agency"]).sum()))
    o.cmask = (1 << o.cl1.astype(np.int32)).astype(np.int32)
    for j in range(int(extra.max(initial=0))):
        rows = np.flatnonzero(extra > j)
        c = _draw_global(rng, _CLUSTER_W, len(rows))
        related = rng.random(len(rows)) < 0.7
        c[related] = _RELATED_IDX[o.cl1[rows[related]], rng.integers(0, 6, int(related.sum()))]
        o.cmask[rows] |= (1 << c).astype(np.int32)
        if j == 0:
            o.cl2[rows] = np.where(c != o.cl1[rows], c, -1)
    muni = np.flatnonzero(kind == _K["municipality"])
    o.cmask[muni] = 0  # municipalities belong to no cluster; cl1 only steers whom they meet
    o.special[muni] = np.arange(len(muni))
    agency = np.flatnonzero(kind == _K["agency"])
    o.special[agency] = rng.permutation(len(_AGENCIES))[: len(agency)]
    for i in agency:
        focus = _AGENCIES[o.special[i]][2]
        if focus:
            o.cl1[i], o.cl2[i] = focus[0], focus[1] if len(focus) > 1 else -1
            o.cmask[i] = sum(1 << c for c in focus)
    # Sectors: one of the main cluster (two for a third of companies), one per other cluster.
    nsec = np.diff(_SECTOR_OFFSET)
    o.sector = (_SECTOR_OFFSET[o.cl1] + (rng.random(n) * nsec[o.cl1]).astype(np.int64)).astype(np.int16)
    o.smask = np.left_shift(np.uint64(1), o.sector.astype(np.uint64))
    two = (kind == _K["company"]) & (rng.random(n) < 0.3)
    s2 = _SECTOR_OFFSET[o.cl1] + (rng.random(n) * nsec[o.cl1]).astype(np.int64)
    o.smask[two] |= np.left_shift(np.uint64(1), s2[two].astype(np.uint64))
    for c in range(_N_CLUSTERS):
        rows = np.flatnonzero(((o.cmask >> c) & 1).astype(bool) & (o.cl1 != c))
        s = _SECTOR_OFFSET[c] + (rng.random(len(rows)) * nsec[c]).astype(np.int64)
        o.smask[rows] |= np.left_shift(np.uint64(1), s.astype(np.uint64))
    o.region = _draw_global(rng, _REGION_W, n).astype(np.int16)
    o.region[muni] = np.arange(len(muni))
    o.region[agency] = [_REGIONS.index(_AGENCIES[a][1]) for a in o.special[agency]]
    o.region[sec] = _REGIONS.index("Montréal")
    o.french = rng.random(n) < 0.7
    o.french[np.isin(kind, (_K["workforce_committee"], _K["secretariat"], _K["municipality"]))] = True
    o.topic[np.isin(kind, _STRUCTURE_KINDS)] = rng.integers(len(_TOPICS), size=int(np.isin(kind, _STRUCTURE_KINDS).sum()))
    # Heavy tails: log-normal activity of members, Pareto sizes of bodies.
    o.act = rng.lognormal(0.0, 1.0, n) * _KIND_ACTIVITY[kind]
    o.size = (rng.pareto(1.3, n) + 1.0) * _KIND_SIZE[kind]
    return o


def _top_up(draw, target: int, rng: np.random.Generator, have: np.ndarray | None = None) -> np.ndarray:
    """Draw codes with ``draw(k)`` until ``target`` distinct ones are held, and return exactly
    ``target`` of them (fewer only if the draws run dry).

    Repeats are dropped and their share, learnt from each round, sizes the next one; the
    count, hence the density, is then the same at every size of region.
    """
    codes = np.zeros(0, np.int64) if have is None else have
    k = int((target - len(codes)) * 1.2) + 1
    for _ in range(8):
        if len(codes) >= target:
            break
        before = len(codes)
        codes = _merge_unique(codes, draw(k))
        gained = len(codes) - before
        k = int((target - len(codes)) * min(20.0, k / max(gained, 1)) * 1.1) + 1
    if len(codes) > target:
        # Drop a random few of the new codes (never one of ``have``).
        new = np.flatnonzero(~_isin(codes, have)) if have is not None else np.arange(len(codes))
        drop = np.zeros(len(codes), dtype=bool)
        drop[new[rng.permutation(len(new))[: len(codes) - target]]] = True
        codes = codes[~drop]
    return codes


def _memberships(o: _Org, rng: np.random.Generator, per_org: float) -> tuple[np.ndarray, np.ndarray]:
    """Memberships and participations: ``(member, body)`` pairs, mostly within a cluster.

    A member is drawn in proportion to its (log-normal) activity and a body of the cluster in
    proportion to its (Pareto) size: heavy tails on both sides.
    """
    n = len(o.kind)
    table = _segments(o.cl1, _N_CLUSTERS, o.size)

    def draw(k: int) -> np.ndarray:
        member = _draw_global(rng, o.act, k)
        u = rng.random(len(member))
        cl = np.where(u < 0.88, o.cl1[member], -1).astype(np.int64)
        use2 = (u >= 0.88) & (u < 0.95) & (o.cl2[member] >= 0)
        cl[use2] = o.cl2[member[use2]]
        cross = cl < 0
        cl[cross] = _draw_global(rng, _CLUSTER_W, int(cross.sum()))
        body = _draw(rng, cl, table)
        ok = member != body
        return member[ok] * n + body[ok]

    code = _top_up(draw, int(per_org * n), rng)
    # Member lists are where organizations come from: every company, institution and
    # association belongs to at least one body of its cluster.
    joined = np.zeros(n, dtype=bool)
    joined[code // n] = True
    alone = np.flatnonzero(~joined & np.isin(o.kind, (_K["company"], _K["association"]) + _INSTITUTION_KINDS))
    body = _draw(rng, o.cl1[alone], table)
    ok = alone != body
    code = _unique(np.concatenate([code, alone[ok] * n + body[ok]]))
    return code // n, code % n


def _partnerships(o: _Org, member: np.ndarray, body: np.ndarray, rng: np.random.Generator,
                  per_org: float) -> tuple[np.ndarray, np.ndarray]:
    """Partnerships: co-members of small bodies, activity-weighted pairs within a cluster, and
    triadic closure. Returns unordered pairs ``(u, v)`` with ``u < v``."""
    n = len(o.kind)
    target = int(per_org * n)
    # Members grouped by body, to pick two members of one body by position.
    by_body = member[np.argsort(body)]
    size = np.bincount(body, minlength=n)
    start = np.concatenate([[0], np.cumsum(size)])[:-1]
    # A body is picked in proportion to size**0.6, so small bodies (working groups,
    # committees) give many pairs per member: cliques, hence clustering.
    body_w = np.where(size >= 2, size.astype(np.float64) ** 0.6, 0.0)
    by_cluster = _segments(o.cl1, _N_CLUSTERS, o.act)

    # ``member`` is sorted (memberships come out of a sorted code), so each organization's
    # bodies sit together too.
    n_joined = np.bincount(member, minlength=n)
    first_body = np.concatenate([[0], np.cumsum(n_joined)])[:-1]

    def co_member(g: np.ndarray) -> np.ndarray:
        return by_body[start[g] + (rng.random(len(g)) * size[g]).astype(np.int64)]

    def draw(k: int) -> np.ndarray:
        # 1. Two co-members of a body picked by size (small bodies favoured: clustering) ...
        g = _draw_global(rng, body_w, k // 3)
        a, b = co_member(g), co_member(g)
        # ... or an active organization and a co-member in one of its bodies (hubs).
        x = _draw_global(rng, np.where(n_joined > 0, o.act, 0.0), k // 3)
        h = body[first_body[x] + (rng.random(len(x)) * n_joined[x]).astype(np.int64)]
        h_ok = size[h] >= 2
        x, y = x[h_ok], co_member(h[h_ok])
        # 2. Activity-weighted pairs within a cluster (one in twelve across clusters).
        c = _draw_global(rng, o.act, k - 2 * (k // 3))
        seg = o.cl1[c].astype(np.int64)
        cross = rng.random(len(c)) < 0.08
        seg[cross] = _draw_global(rng, _CLUSTER_W, int(cross.sum()))
        d = _draw(rng, seg, by_cluster)
        u, v = np.concatenate([a, x, c]), np.concatenate([b, y, d])
        ok = u != v
        return _pair_codes(u[ok], v[ok], n)

    code = _top_up(draw, int(0.7 * target), rng)
    # 3. Triadic closure: a partner of a partner becomes a partner. Half the wedge centres are
    #    picked uniformly (closing triangles around small organizations), half by degree.
    A = _undirected(code // n, code % n, n)
    deg = np.diff(A.indptr)
    centres = np.flatnonzero(deg >= 2)

    def close(k: int) -> np.ndarray:
        half = k // 2
        ctr = np.concatenate([centres[rng.integers(len(centres), size=half)],
                              _draw_global(rng, np.where(deg >= 2, deg, 0), k - half)])
        x = A.indices[A.indptr[ctr] + (rng.random(len(ctr)) * deg[ctr]).astype(np.int64)]
        y = A.indices[A.indptr[ctr] + (rng.random(len(ctr)) * deg[ctr]).astype(np.int64)]
        ok = x != y
        return _pair_codes(x[ok], y[ok], n)

    if len(centres):
        code = _top_up(close, target, rng, have=code)
    return code // n, code % n


def _funding(o: _Org, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(funder, funded)``: ministries, agencies and municipalities fund structures,
    institutions, associations and some companies; a municipality funds on its territory."""
    n = len(o.kind)
    kind = o.kind
    funders = np.flatnonzero(np.isin(kind, (_K["agency"], _K["municipality"])))
    if len(funders) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    fw = (rng.pareto(1.2, len(funders)) + 1.0) * np.where(kind[funders] == _K["agency"], 5.0, 1.0)
    lam = np.zeros(n)
    lam[np.isin(kind, _STRUCTURE_KINDS + (_K["secretariat"],))] = 1.8
    lam[kind == _K["programme"]] = 3.0
    lam[np.isin(kind, _INSTITUTION_KINDS)] = 2.6
    lam[np.isin(kind, (_K["association"], _K["workforce_committee"]))] = 1.6
    comp = kind == _K["company"]
    lam[comp] = np.where(rng.random(int(comp.sum())) < 0.45, 1.4, 0.0) * (0.5 + o.act[comp] / o.act[comp].mean() * 0.5)
    funded = np.repeat(np.arange(n, dtype=np.int64), rng.poisson(lam))
    funder = funders[_draw_global(rng, fw, len(funded))]
    # Half of a company's funding comes from its own municipality, when that one is listed.
    muni_of_region = np.full(len(_REGIONS), -1, dtype=np.int64)
    muni = np.flatnonzero(kind == _K["municipality"])
    muni_of_region[o.region[muni]] = muni
    local = (kind[funded] == _K["company"]) & (rng.random(len(funded)) < 0.5)
    local &= muni_of_region[o.region[funded]] >= 0
    funder[local] = muni_of_region[o.region[funded[local]]]
    ok = funder != funded
    code = _unique(funder[ok] * n + funded[ok])
    return code // n, code % n


def _coordination(o: _Org, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``(coordinator, structure)``: each structure is coordinated by its cluster's
    secretariat, or (three times in ten) by a committee or table of its cluster."""
    structs = np.flatnonzero(np.isin(o.kind, _STRUCTURE_KINDS))
    secretariat = np.full(_N_CLUSTERS, -1, dtype=np.int64)
    sec = np.flatnonzero(o.kind == _K["secretariat"])
    secretariat[o.cl1[sec]] = sec
    coord = secretariat[o.cl1[structs]]
    by_committee = rng.random(len(structs)) < 0.3
    weights = np.where(np.isin(o.kind, (_K["committee"], _K["table"])), o.size, 0.0)
    alt = _draw(rng, o.cl1[structs], _segments(o.cl1, _N_CLUSTERS, weights))
    use = by_committee & (alt != structs) & np.isin(o.kind[alt], (_K["committee"], _K["table"]))
    use &= o.cl1[alt] == o.cl1[structs]
    coord = np.where(use, alt, coord)
    ok = coord >= 0
    return coord[ok], structs[ok]


class _Edges:
    """Relationship arrays: source row, target row, type code."""

    def __init__(self) -> None:
        self.src = np.zeros(0, np.int64)
        self.dst = np.zeros(0, np.int64)
        self.rel = np.zeros(0, np.int8)

    def add(self, src: np.ndarray, dst: np.ndarray, rel: np.ndarray | int) -> None:
        rel = np.broadcast_to(np.asarray(rel, dtype=np.int8), np.shape(src))
        self.src = np.concatenate([self.src, np.asarray(src, np.int64)])
        self.dst = np.concatenate([self.dst, np.asarray(dst, np.int64)])
        self.rel = np.concatenate([self.rel, rel])

    def keep(self, mask: np.ndarray) -> None:
        self.src, self.dst, self.rel = self.src[mask], self.dst[mask], self.rel[mask]

    def dedupe_from(self, start: int, n: int) -> None:
        """Drop self-loops and repeats of ``(source, type, target)`` among the relationships
        from ``start`` on (those added after the ones known distinct); a partnership is one
        relationship whichever way it is written."""
        s, t, r = self.src[start:], self.dst[start:], self.rel[start:]
        p = r == _PARTNERS
        a, b = np.where(p, np.minimum(s, t), s), np.where(p, np.maximum(s, t), t)
        _, first, _ = _unique_inverse((r.astype(np.int64) * n + a) * n + b)
        first = np.sort(first)
        first = first[s[first] != t[first]]
        self.keep(np.concatenate([np.arange(start), start + first]))


def _plant_gaps(o: _Org, e: _Edges, k: int, rng: np.random.Generator) -> np.ndarray:
    """Remove ``k`` partnerships whose ends share at least three partners; return the removed
    pairs as rows ``(u, v)``.

    Only partnerships between companies and institutions are candidates: no other
    relationship type can join two of them (memberships point at bodies, funding comes from
    governments, coordination joins structures), so the pair is left wholly unlinked.
    """
    n = len(o.kind)
    p = np.flatnonzero(e.rel == _PARTNERS)
    u, v = e.src[p], e.dst[p]
    firm = np.isin(o.kind, (_K["company"],) + _INSTITUTION_KINDS)
    cand = np.flatnonzero(firm[u] & firm[v])
    cand = cand[rng.permutation(len(cand))[: max(8 * k, 2000)]]
    local, A = _neighbours_of(np.concatenate([u[cand], v[cand]]), u, v, n)
    common = _common_counts(local, A, u[cand], v[cand])
    cand = cand[common >= 3]
    # No two chosen gaps share an end. Then removing one partnership cannot lower another
    # chosen pair's count of common partners (that would need an edge at one of its ends).
    chosen, used = [], set()
    for i in cand.tolist():
        if u[i] in used or v[i] in used:
            continue
        chosen.append(i)
        used.update((u[i], v[i]))
        if len(chosen) == k:
            break
    chosen = np.array(chosen, dtype=np.int64)
    drop = np.zeros(len(e.src), dtype=bool)
    drop[p[chosen]] = True
    e.keep(~drop)
    return np.stack([u[chosen], v[chosen]], axis=1).reshape(-1, 2)


def _copy_edges(e: _Edges, mapping: np.ndarray, keep_p: dict[int, float], rng: np.random.Generator,
                *, outgoing: bool = True, incoming: bool = True) -> None:
    """For the relationships of each type ``t`` in ``keep_p`` touching a row ``r`` with
    ``mapping[r] >= 0``, add the same relationships on ``mapping[r]``: a random
    ``round(keep_p[t] * count)`` of them, so that every copy keeps the planted share of its
    original's relationships (a small body's copy is not left with half its members by chance).
    """
    p_of = np.array([keep_p.get(r, 0.0) for r in range(len(_REL))])
    found = []
    for side, wanted in ((0, outgoing), (1, incoming)):
        if wanted:
            ends = e.src if side == 0 else e.dst
            hit = np.flatnonzero((mapping[ends] >= 0) & (p_of[e.rel] > 0))
            found.append((hit, np.full(len(hit), side)))
    if not found:
        return
    idx = np.concatenate([h for h, _ in found])
    side = np.concatenate([s for _, s in found])
    owner = np.where(side == 0, e.src[idx], e.dst[idx])
    group = owner * len(_REL) + e.rel[idx]
    order = np.lexsort((rng.random(len(idx)), group))
    idx, side, group = idx[order], side[order], group[order]
    if len(idx) == 0:
        return
    _, first, inverse = _unique_inverse(group)  # group is sorted: ``first`` starts each run
    count = np.bincount(inverse)
    rank = np.arange(len(idx)) - first[inverse]
    keep = rank < np.floor(p_of[e.rel[idx]] * count[inverse] + 0.5)
    idx, side = idx[keep], side[keep]
    s = np.where(side == 0, mapping[e.src[idx]], e.src[idx])
    t = np.where(side == 1, mapping[e.dst[idx]], e.dst[idx])
    e.add(s, t, e.rel[idx])


def _pick_bases(candidates: np.ndarray, k: int, rng: np.random.Generator, used: np.ndarray) -> np.ndarray:
    candidates = candidates[~used[candidates]]
    out = candidates[rng.permutation(len(candidates))[:k]]
    used[out] = True
    return out


def generate_ecosystem(orgs: int, *, seed: int = 0) -> Ecosystem:
    """Generate a synthetic metropolitan ecosystem of ``orgs`` organizations.

    The same ``orgs`` and ``seed`` give the same ecosystem, byte for byte. See the module
    docstring for what is generated and what is planted.

    Parameters
    ----------
    orgs : int
        Number of organizations (rows of ``organizations.csv``), at least 100. Planted
        records are among them.
    seed : int, default 0
        Seed of the random generator.

    Returns
    -------
    Ecosystem
        The organizations and relationships in the import format, and the ground truth.

    Raises
    ------
    ValueError
        If ``orgs`` is below 100.

    Examples
    --------
    >>> eco = generate_ecosystem(400, seed=7)
    >>> eco.organizations.columns.tolist()[:7]
    ['id', 'name', 'type', 'sectors', 'clusters', 'region', 'mandate']
    >>> eco.organizations["type"].value_counts().idxmax()
    'company'
    >>> 9 < len(eco.relationships) / len(eco.organizations) < 11
    True
    >>> generate_ecosystem(400, seed=7).organizations.equals(eco.organizations)
    True
    """
    if orgs < 100:
        raise ValueError(f"generate_ecosystem needs at least 100 organizations (got {orgs})")
    rng = np.random.default_rng(seed)
    k_gap = _planted_count(orgs, 0.015)
    k_overlap = _planted_count(orgs, 0.015)
    k_dup = _planted_count(orgs, 0.015)
    k_groups = _planted_count(orgs, 0.01)
    copies = 1 + (rng.random(k_groups) < 0.3).astype(np.int64)
    n_base = orgs - k_overlap - k_dup - int(copies.sum())

    # The ordinary region. Each kind of relationship is drawn distinct, so the lot is too.
    o = _base_orgs(n_base, rng)
    e = _Edges()
    member, body = _memberships(o, rng, per_org=4.5)
    e.add(member, body, np.where(_KIND_JOIN[o.kind[body]] == 1, _PARTICIPATES, _MEMBER))
    e.add(*_partnerships(o, member, body, rng, per_org=4.6), _PARTNERS)
    e.add(*_funding(o, rng), _FUNDS)
    e.add(*_coordination(o, rng), _COORDINATES)

    # (a) partnerships removed from dense neighbourhoods.
    gaps = _plant_gaps(o, e, k_gap, rng)
    used = np.zeros(n_base, dtype=bool)
    used[gaps.ravel()] = True

    # Degrees decide who can be copied: a near copy of an isolated organization says nothing.
    deg = np.bincount(e.src, minlength=n_base) + np.bincount(e.dst, minlength=n_base)
    joins = np.isin(e.rel, (_MEMBER, _PARTICIPATES))
    n_memberships = np.bincount(e.src[joins], minlength=n_base)
    n_members = np.bincount(e.dst[joins], minlength=n_base)
    # (b) overlapping organizations: near copies of companies and associations.
    ok = np.isin(o.kind, (_K["company"], _K["association"])) & (deg >= 6) & (deg <= 60) & (n_memberships >= 2)
    bases_b = _pick_bases(np.flatnonzero(ok), k_overlap, rng, used)
    # (c) duplicated structures: bodies with 5 to 80 members.
    ok = np.isin(o.kind, (_K["association"],) + _STRUCTURE_KINDS) & (n_members >= 5) & (n_members <= 80)
    bases_c = _pick_bases(np.flatnonzero(ok), k_groups, rng, used)
    copies = copies[: len(bases_c)]
    # (d) duplicate records: universities first, other institutions, then companies,
    # associations and committees; they also make up for any near copy that found no base,
    # so that the count of rows is exact.
    k_dup = orgs - n_base - len(bases_b) - int(copies.sum())
    bases_d = _pick_bases(np.flatnonzero(o.kind == _K["university"]), max(1, k_dup // 8), rng, used)
    bases_d = np.concatenate([bases_d, _pick_bases(np.flatnonzero(np.isin(o.kind, _INSTITUTION_KINDS)),
                                                   k_dup // 5, rng, used)])
    rest = np.flatnonzero(np.isin(o.kind, (_K["company"], _K["association"], _K["workforce_committee"])))
    bases_d = np.concatenate([bases_d, _pick_bases(rest, k_dup - len(bases_d), rng, used)])

    # Append the planted rows: twins, structure copies, duplicate records (in that order).
    n = n_base
    twins = np.arange(n, n + len(bases_b))
    o.extend(o.take(bases_b))
    n += len(bases_b)
    copy_base = np.repeat(bases_c, copies)
    copy_rows = np.arange(n, n + len(copy_base))
    o.extend(o.take(copy_base))
    n += len(copy_base)
    # A copy may be another kind of the same family (a committee duplicating a working group).
    family = (_K["working_group"], _K["committee"], _K["table"])
    switch = np.isin(o.kind[copy_rows], family) & (rng.random(len(copy_rows)) < 0.4)
    o.kind[copy_rows[switch]] = rng.choice(np.array(family, np.int8), int(switch.sum()))
    o.french[copy_rows] = rng.random(len(copy_rows)) < 0.7
    dup_rows = np.arange(n, n + len(bases_d))
    o.extend(o.take(bases_d))
    n += len(bases_d)
    o.region[dup_rows[rng.random(len(dup_rows)) < 0.2]] = -1

    # Relationships of the planted rows. None of the earlier relationships touches them, so
    # only these new ones can repeat each other.
    n_old = len(e.src)
    mapping = np.full(n, -1, np.int64)
    mapping[bases_b] = twins
    _copy_edges(e, mapping, {_MEMBER: 0.85, _PARTICIPATES: 0.85, _PARTNERS: 0.85, _FUNDS: 0.85}, rng)
    # Duplicate records carry one to three of the original's relationships; then the copies
    # of structures take their share of every member, these included.
    _copy_some(e, bases_d, dup_rows, n_old, n, rng)
    first_copy = np.cumsum(copies) - copies
    for j in range(2):
        mapping = np.full(n, -1, np.int64)
        which = np.flatnonzero(copies > j)
        mapping[bases_c[which]] = copy_rows[first_copy[which] + j]
        # Incoming only: a copy that joined what its original joins could become a member of
        # another planted body, and blur that one's members.
        _copy_edges(e, mapping, {_MEMBER: 0.85, _PARTICIPATES: 0.85, _COORDINATES: 1.0, _FUNDS: 0.7},
                    rng, outgoing=False)
    # Sometimes a member more for a copy, from its cluster.
    target = np.repeat(copy_rows, rng.integers(0, 2, size=len(copy_rows)))
    pool = np.where(np.isin(o.kind, (_K["company"],) + _INSTITUTION_KINDS), o.act, 0.0)
    pool[n_base:] = 0.0
    newm = _draw(rng, o.cl1[target], _segments(o.cl1, _N_CLUSTERS, pool))
    e.add(newm, target, np.where(_KIND_JOIN[o.kind[target]] == 1, _PARTICIPATES, _MEMBER))
    e.dedupe_from(n_old, n)
    # Planted pairs stay unlinked (a safety net: the copies above never link them).
    groups = [np.concatenate([[b], copy_rows[copy_base == b]]) for b in bases_c]
    ban = [_pair_codes(bases_b, twins, n), _pair_codes(bases_d, dup_rows, n),
           _pair_codes(gaps[:, 0], gaps[:, 1], n)]
    ban += [_pair_codes(g[i:i + 1], g[j:j + 1], n) for g in groups
            for i in range(len(g)) for j in range(i + 1, len(g))]
    banned = _isin(_pair_codes(e.src[n_old:], e.dst[n_old:], n), np.concatenate(ban))
    e.keep(np.concatenate([np.ones(n_old, dtype=bool), ~banned]))

    return _finish(o, e, rng, seed=seed, gaps=gaps, twins=(bases_b, twins), groups=groups,
                   dups=(bases_d, dup_rows))


def _copy_some(e: _Edges, bases: np.ndarray, rows: np.ndarray, upto: int, n: int, rng: np.random.Generator) -> None:
    """Give ``rows[i]`` one to three of the relationships of ``bases[i]`` (among the first
    ``upto``), re-pointed at it."""
    index = np.full(n, -1, dtype=np.int64)
    index[bases] = np.arange(len(bases))
    src, dst = e.src[:upto], e.dst[:upto]
    hit = np.flatnonzero((index[src] >= 0) | (index[dst] >= 0))
    owner = np.where(index[src[hit]] >= 0, index[src[hit]], index[dst[hit]])
    order = np.argsort(owner, kind="stable")
    hit, owner = hit[order], owner[order]
    count = np.bincount(owner, minlength=len(bases))
    start = np.concatenate([[0], np.cumsum(count)])[:-1]
    want = rng.integers(1, 4, size=len(bases))
    for j in range(3):
        i = np.flatnonzero((want > j) & (count > 0))
        k = hit[start[i] + (rng.random(len(i)) * count[i]).astype(np.int64)]
        s = np.where(src[k] == bases[i], rows[i], src[k])
        t = np.where(dst[k] == bases[i], rows[i], dst[k])
        e.add(s, t, e.rel[k])


def _finish(o: _Org, e: _Edges, rng: np.random.Generator, *, seed: int, gaps: np.ndarray,
            twins: tuple[np.ndarray, np.ndarray], groups: list[np.ndarray],
            dups: tuple[np.ndarray, np.ndarray]) -> Ecosystem:
    """Write names, mandates and the other cells; shuffle rows; assemble the ground truth."""
    n = len(o.kind)
    kind = o.kind
    bases_b, twin_rows = twins
    bases_d, dup_rows = dups
    is_dup = np.zeros(n, dtype=bool)
    is_dup[dup_rows] = True

    # Names. Companies: stem + a word of their cluster + a legal suffix; the rest: a pattern of
    # their kind around a stem. (category, stem) is unique, so two records share a name (or a
    # name key) only when one is a planted duplicate.
    desc_n = np.array([len(c.descriptors) for c in CLUSTERS])
    desc_off = np.concatenate([[0], np.cumsum(desc_n)])
    desc = desc_off[o.cl1] + (rng.random(n) * desc_n[o.cl1]).astype(np.int64)
    pattern = rng.integers(0, 3, size=n)
    # A stem is used once per kind: "Université X" and "X University" would be one name.
    category = np.where(kind == _K["company"], desc, 1000 + kind.astype(np.int64))
    stem = _unique_stems(rng, category)
    stem[dup_rows] = stem[bases_d]
    legal = _draw_global(rng, np.array(_LEGAL_P), n)
    descriptors = np.array([d for c in CLUSTERS for d in c.descriptors], dtype=object)
    names = np.empty(n, dtype=object)
    comp = (kind == _K["company"]) & ~is_dup
    # Object-array arithmetic concatenates in C: a million company names in a blink.
    names[comp] = _STEMS[stem[comp]] + " " + descriptors[desc[comp]] + np.array(_LEGAL, dtype=object)[legal[comp]]
    for i in np.flatnonzero(~comp & ~is_dup):
        names[i] = _name(int(kind[i]), _STEMS[stem[i]], int(pattern[i]), o, i)
    variations = []
    for b, d in zip(bases_d, dup_rows):
        names[d], how = _variant_name(names[b], rng)
        variations.append(how)

    # Mandates: from templates; twins and structure copies paraphrase their original's.
    mandates = _mandates(o, rng)
    for b, t in zip(bases_b, twin_rows):
        mandates[t] = _paraphrase(mandates[b], rng)
    for g in groups:
        for c in g[1:]:
            mandates[c] = _paraphrase(mandates[g[0]], rng)
    for b, d in zip(bases_d, dup_rows):
        mandates[d] = mandates[b] if rng.random() < 0.5 else None

    # Extra columns: employees (heavy-tailed) and a website on the reserved .example domain.
    emp = np.full(n, -1, dtype=np.int64)
    comp = kind == _K["company"]
    emp[comp] = np.maximum(1, np.round(np.exp(2.3 + 1.1 * rng.standard_normal(int(comp.sum()))
                                              + 0.5 * np.log(o.act[comp] + 1e-9))))
    inst = np.isin(kind, _INSTITUTION_KINDS)
    emp[inst] = np.round(np.exp(5.5 + 1.0 * rng.standard_normal(int(inst.sum()))))
    small = np.isin(kind, (_K["association"], _K["workforce_committee"]))
    emp[small] = rng.integers(2, 40, size=int(small.sum()))
    emp[(rng.random(n) < 0.12)] = -1
    emp[twin_rows] = np.where(emp[bases_b] > 0, np.maximum(1, np.round(emp[bases_b] * rng.uniform(0.7, 1.3, len(twin_rows)))), -1)
    has_site = np.isin(kind, (_K["company"], _K["association"], _K["workforce_committee"]) + _INSTITUTION_KINDS)
    has_site &= (rng.random(n) < 0.8) & ~is_dup
    used_stems, _, stem_inv = _unique_inverse(stem)
    stem_slug = np.array([_slug(t) for t in _STEMS[used_stems]], dtype=object)[stem_inv]
    suffix = np.array([_slug(d) for d in descriptors], dtype=object)[desc]
    short = {"university": "-univ", "college": "-college", "research_centre": "-recherche",
             "transfer_centre": "-cctt", "association": "-reseau", "workforce_committee": "-csmo"}
    suffix[kind != _K["company"]] = np.array([short.get(k[0], "") for k in _KINDS], dtype=object)[kind[kind != _K["company"]]]
    websites = np.full(n, None, dtype=object)
    websites[has_site] = "https://www." + stem_slug[has_site] + suffix[has_site] + ".example"
    for b, d in zip(bases_d, dup_rows):
        keep = rng.random() < 0.5
        emp[d] = emp[b] if keep else -1
        websites[d] = websites[b] if rng.random() < 0.5 else None

    # Shuffle rows so that planted records sit anywhere, then number ids in file order.
    perm = rng.permutation(n)          # perm[position] = old row
    pos = np.empty(n, dtype=np.int64)
    pos[perm] = np.arange(n)
    width = max(5, len(str(n)))
    ids = np.char.add("org-", np.char.zfill(np.arange(n).astype(str), width)).astype(object)
    idx = ids[pos]                     # id of each old row

    cl_unique, _, cl_inv = _unique_inverse(o.cmask)
    cl_text = np.array([LIST_SEPARATOR.join(CLUSTERS[c].name for c in range(_N_CLUSTERS) if m >> c & 1) or None
                        for m in cl_unique], dtype=object)
    se_unique, _, se_inv = _unique_inverse(o.smask)
    se_text = np.array([LIST_SEPARATOR.join(_SECTORS[s] for s in range(len(_SECTORS)) if int(m) >> s & 1) or None
                        for m in se_unique], dtype=object)
    region = np.array(_REGIONS + (None,), dtype=object)[np.where(o.region < 0, len(_REGIONS), o.region)]
    organizations = pd.DataFrame({
        "id": pd.array(ids, dtype="str"),
        "name": pd.array(names[perm], dtype="str"),
        "type": pd.array(_KIND_TYPE[kind[perm]], dtype="str"),
        "sectors": pd.array(se_text[se_inv][perm], dtype="str"),
        "clusters": pd.array(cl_text[cl_inv][perm], dtype="str"),
        "region": pd.array(region[perm], dtype="str"),
        "mandate": pd.array(mandates[perm], dtype="str"),
        "employees": pd.arrays.IntegerArray(np.maximum(emp[perm], 0), emp[perm] < 0),
        "website": pd.array(websites[perm], dtype="str"),
    })

    # Relationships: weights in (0, 1] (missing for a sixth of them, for half of memberships),
    # start dates skewed to recent years (missing for a fifth).
    m = len(e.src)
    u = rng.random(m)
    # 1 - sqrt(U) is Beta(1, 2): most links weak, a few strong.
    weight = np.round(0.05 + 0.95 * (1.0 - np.sqrt(rng.random(m))), 2)
    weight[u < np.where(np.isin(e.rel, (_MEMBER, _PARTICIPATES)), 0.5, 0.15)] = np.nan
    # Days back from the end of 2025, exponential (mean seven years), not before 1990.
    back = np.minimum(np.floor(rng.exponential(7.0 * 365.25, m)).astype(np.int64), 35 * 365)
    since = np.datetime64("2025-12-31", "D") - back.astype("timedelta64[D]")
    since[u > 0.8] = np.datetime64("NaT")
    s_pos, t_pos = pos[e.src], pos[e.dst]
    order = _stable_order(e.rel, s_pos)  # rows by type, then source
    id_index = pd.Index(ids, dtype=object)
    relationships = pd.DataFrame({
        "source": pd.Categorical.from_codes(s_pos[order], categories=id_index),
        "target": pd.Categorical.from_codes(t_pos[order], categories=id_index),
        "relationship": pd.Categorical.from_codes(e.rel[order], categories=pd.Index(_REL, dtype=object)),
        "weight": weight[order],
        "since": since[order].astype("datetime64[s]"),
    }, copy=False)

    # Ground truth, in the published ids.
    p = e.rel == _PARTNERS
    local, P = _neighbours_of(gaps.ravel(), e.src[p], e.dst[p], n)
    common = _common_counts(local, P, gaps[:, 0], gaps[:, 1])
    local_n, N = _neighbours_of(np.concatenate([bases_b, twin_rows]), e.src, e.dst, n)
    truth: dict[str, Any] = {
        "format": GROUND_TRUTH_FORMAT,
        "seed": seed,
        "organizations": int(n),
        "relationships": int(m),
        "clusters": [c.name for c in CLUSTERS],
        "removed_partnerships": [
            {"pair": [idx[a], idx[b]], "common_partners": int(k)}
            for (a, b), k in zip(gaps, common)
        ],
        "overlapping_pairs": [
            {"pair": [idx[a], idx[b]], "neighbour_jaccard": round(_jaccard(N, local_n[a], local_n[b], a, b), 3)}
            for a, b in zip(bases_b, twin_rows)
        ],
        "duplicate_structures": [
            {"group": [idx[r] for r in g], "kind": _KINDS[int(kind[g[0]])][0]} for g in groups
        ],
        "duplicate_records": [
            {"id": idx[d], "duplicate_of": idx[b], "name": names[d], "original_name": names[b],
             "variations": how}
            for b, d, how in zip(bases_d, dup_rows, variations)
        ],
        "about": {
            "removed_partnerships": "PARTNERS_WITH removed between the pair; common_partners = "
                                    "organizations PARTNERS_WITH both in the published data (>= 3); "
                                    "the pair is not linked at all.",
            "overlapping_pairs": "the second was made as a near copy of the first (type, sectors, "
                                 "clusters, region, paraphrased mandate, 85% of its relationships); "
                                 "neighbour_jaccard over all relationship types; the pair is not linked.",
            "duplicate_structures": "bodies with near-identical members, coordinator, cluster, topic "
                                    "and paraphrased mandates; the first is the original.",
            "duplicate_records": "a second record of duplicate_of under a variant name, another id.",
            "scoring": "pairs of the other kinds are neither right nor wrong partnership suggestions.",
        },
    }
    return Ecosystem(organizations=organizations, relationships=relationships, ground_truth=truth, seed=seed)


def _jaccard(N: sp.csr_array, ia: int, ib: int, a: int, b: int) -> float:
    """Jaccard index of the neighbour sets of ``a`` and ``b`` (rows ``ia``, ``ib`` of ``N``),
    each without the other."""
    na = set(N.indices[N.indptr[ia]:N.indptr[ia + 1]].tolist()) - {b}
    nb = set(N.indices[N.indptr[ib]:N.indptr[ib + 1]].tolist()) - {a}
    return len(na & nb) / len(na | nb) if na | nb else 0.0


def _name(kind: int, stem: str, pattern: int, o: _Org, i: int) -> str:
    """Name of an organization other than a company, from its kind's patterns."""
    k = _KINDS[kind][0]
    sector = _SECTORS[o.sector[i]]
    if k == "university":
        return (f"Université {stem}", f"{stem} University", f"École polytechnique {stem}")[pattern]
    if k == "college":
        return (f"Cégep {stem}", f"Collège {stem}", f"Cégep {stem}")[pattern]
    if k == "research_centre":
        return (f"Centre de recherche {stem} en {sector}", f"Institut {stem}", f"{stem} Research Institute")[pattern]
    if k == "transfer_centre":
        return (f"Centre de transfert technologique {stem}", f"CCTT {stem} en {sector}", f"{stem} Innovation")[pattern]
    if k == "association":
        return (f"Association {stem} des entreprises en {sector}", f"Réseau {stem}",
                f"{stem} Business Network")[pattern]
    if k == "workforce_committee":
        return (f"Comité sectoriel de main-d'œuvre {stem} en {sector}", f"CSMO {stem}",
                f"Comité {stem} de main-d'œuvre en {sector}")[pattern]
    if k == "municipality":
        return f"Ville de {MUNICIPALITIES[o.special[i]][0]}"
    if k == "agency":
        return _AGENCIES[o.special[i]][0]
    if k == "secretariat":
        return f"Secrétariat de la grappe {CLUSTERS[o.special[i]].name}"
    # Structures: the topic appears in one name in three, so that two bodies on one topic do
    # not share most of their name.
    fr, en = _TOPICS[o.topic[i]]
    if k == "working_group":
        return (f"Groupe de travail {stem}", f"Groupe de travail {stem} sur {fr}", f"{stem} Working Group")[pattern]
    if k == "committee":
        return (f"Comité {stem}", f"Comité {stem} sur {fr}", f"{stem} Committee on {en}")[pattern]
    if k == "programme":
        return (f"Programme {stem}", f"Programme {stem} : {fr}", f"{stem} Programme")[pattern]
    if k == "consortium":
        return (f"Consortium {stem}", f"Consortium {stem} en {sector}", f"{stem} Consortium")[pattern]
    return (f"Table de concertation {stem}", f"Table {stem} sur {fr}", f"Chantier {stem}")[pattern]


_TEMPLATES: tuple[str, ...] = (_COMPANY_FR + _COMPANY_EN + tuple(_MANDATES_FR.values())
                               + tuple(_MANDATES_EN.values()))
# Which slots each template reads: a row's mandate depends on those only.
_FIELDS = [{f for _, f, _, _ in string.Formatter().parse(t) if f} for t in _TEMPLATES]
_USES = {
    slot: np.array([bool(f & words) for f in _FIELDS])
    for slot, words in (
        ("cl1", {"product", "product_en", "cluster", "cluster_en"}), ("sector", {"sector"}),
        ("region", {"region"}), ("topic", {"topic", "topic_en", "de_topic"}),
        ("product", {"product", "product_en"}), ("clientele", {"clientele", "clientele_en"}),
        ("verb", {"verb", "Verb", "verb_en", "VerbEn"}),
    )
}


def _mandate_template(o: _Org, rng: np.random.Generator) -> np.ndarray:
    """Index into :data:`_TEMPLATES` of each row's mandate template."""
    n = len(o.kind)
    n_fr, n_en = len(_COMPANY_FR), len(_COMPANY_EN)
    other = list(_MANDATES_FR)
    key = np.array([other.index("structure") if i in _STRUCTURE_KINDS else
                    other.index(k[0]) if k[0] in other else 0 for i, k in enumerate(_KINDS)])
    t = np.where(o.french, n_fr + n_en + key[o.kind], n_fr + n_en + len(other) + key[o.kind])
    comp = o.kind == _K["company"]
    pick = rng.integers(0, 1 << 30, size=n)
    t[comp] = np.where(o.french[comp], pick[comp] % n_fr, n_fr + pick[comp] % n_en)
    return t


def _mandates(o: _Org, rng: np.random.Generator) -> np.ndarray:
    """Mandate of each row. A mandate depends on a handful of small choices, so each distinct
    combination is written once and shared (a million rows hold a few tens of thousands)."""
    n = len(o.kind)
    t = _mandate_template(o, rng)
    parts = {
        "cl1": o.cl1.astype(np.int64), "sector": o.sector.astype(np.int64),
        "region": np.where(o.region < 0, 0, o.region).astype(np.int64),
        "topic": np.maximum(o.topic, 0).astype(np.int64),
        "product": rng.integers(0, 1 << 30, size=n) % 4,  # every cluster lists 4 or more
        "clientele": rng.integers(0, len(_CLIENTELE_FR), size=n),
        "verb": rng.integers(0, len(_VERBS_FR), size=n),
    }
    radix = {"cl1": _N_CLUSTERS, "sector": len(_SECTORS), "region": len(_REGIONS),
             "topic": len(_TOPICS), "product": 4, "clientele": len(_CLIENTELE_FR), "verb": len(_VERBS_FR)}
    key = t.astype(np.int64)
    for slot, values in parts.items():
        values = np.where(_USES[slot][t], values, 0)  # an unread slot must not split combinations
        parts[slot] = values
        key = key * radix[slot] + values
    _, first, inverse = _unique_inverse(key)
    texts = np.array([_mandate_text(int(t[i]), {k: int(v[i]) for k, v in parts.items()}) for i in first],
                     dtype=object)
    return texts[inverse]


def _mandate_text(template: int, p: dict[str, int]) -> str:
    c = CLUSTERS[p["cl1"]]
    verb, verb_en = _VERBS_FR[p["verb"]], _VERBS_EN[p["verb"]]
    fr, en = _TOPICS[p["topic"]]
    return _TEMPLATES[template].format(
        sector=_SECTORS[p["sector"]], cluster=c.name, cluster_en=c.name_en, region=_REGIONS[p["region"]],
        product=c.products_fr[p["product"]], product_en=c.products_en[p["product"]],
        clientele=_CLIENTELE_FR[p["clientele"]], clientele_en=_CLIENTELE_EN[p["clientele"]],
        verb=verb, verb_en=verb_en, Verb=verb[:1].upper() + verb[1:], VerbEn=verb_en[:1].upper() + verb_en[1:],
        topic=fr, topic_en=en, de_topic=_de(fr),
    )


def _de(phrase: str) -> str:
    """``phrase`` after the French preposition *de*: "le X" → "du X", "les X" → "des X".

    Examples
    --------
    >>> _de("le transfert technologique"), _de("les achats"), _de("la relève"), _de("l'exportation")
    ('du transfert technologique', 'des achats', 'de la relève', "de l'exportation")
    """
    if phrase.startswith("le "):
        return "du " + phrase[3:]
    if phrase.startswith("les "):
        return "des " + phrase[4:]
    return "de " + phrase


# ---- files and graphs ----------------------------------------------------------------------------
def write_ecosystem(eco: Ecosystem, out_dir: str | Path) -> dict[str, Path]:
    """Write ``organizations.csv``, ``relationships.csv`` and ``ground_truth.json`` to
    ``out_dir`` (created if needed); return their paths by name.

    The CSV files are UTF-8 with English headers, ``,`` as delimiter, several values in a
    cell joined with ``|``, dates as ``YYYY-MM-DD`` and missing values as empty cells: the
    import format of ``maillage load``.

    Examples
    --------
    >>> import tempfile
    >>> eco = generate_ecosystem(200, seed=3)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     paths = write_ecosystem(eco, d)
    ...     sorted(p.name for p in paths.values())
    ['ground_truth.json', 'organizations.csv', 'relationships.csv']
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "organizations": out / "organizations.csv",
        "relationships": out / "relationships.csv",
        "ground_truth": out / "ground_truth.json",
    }
    eco.organizations.to_csv(paths["organizations"], index=False, encoding="utf-8", lineterminator="\n")
    # pandas writes a 10-million-row frame in chunks; a larger chunk is faster here.
    eco.relationships.to_csv(paths["relationships"], index=False, encoding="utf-8", lineterminator="\n",
                             date_format="%Y-%m-%d", chunksize=1_000_000)
    paths["ground_truth"].write_text(json.dumps(eco.ground_truth, ensure_ascii=False, indent=1) + "\n",
                                     encoding="utf-8")
    return paths


def read_ecosystem(path: str | Path) -> Ecosystem:
    """Read back what :func:`write_ecosystem` wrote (no validation: use ``maillage load``
    for files of unknown origin).

    Examples
    --------
    >>> import tempfile
    >>> eco = generate_ecosystem(200, seed=3)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = write_ecosystem(eco, d)
    ...     back = read_ecosystem(d)
    >>> back.organizations["name"].tolist() == eco.organizations["name"].tolist()
    True
    """
    path = Path(path)
    orgs = pd.read_csv(path / "organizations.csv", dtype={c: "str" for c in ORGANIZATION_COLUMNS if c != "employees"},
                       keep_default_na=False, na_values=[""])
    orgs["employees"] = orgs["employees"].astype("Int64")
    rels = pd.read_csv(path / "relationships.csv", dtype={"source": "str", "target": "str", "relationship": "str"},
                       keep_default_na=False, na_values=[""])
    rels["weight"] = rels["weight"].astype(np.float64)
    rels["since"] = pd.to_datetime(rels["since"], format="%Y-%m-%d").astype("datetime64[s]")
    truth_path = path / "ground_truth.json"
    truth = json.loads(truth_path.read_text(encoding="utf-8")) if truth_path.exists() else {}
    return Ecosystem(organizations=orgs, relationships=rels, ground_truth=truth, seed=truth.get("seed"))


def _present(value: Any) -> bool:
    return value is not None and value is not pd.NA and not (isinstance(value, float) and value != value)


def ecosystem_graph(eco: Ecosystem) -> nx.MultiDiGraph:
    """Return the snapshot graph that loading ``eco`` into a store would give, without a
    store.

    Nodes are keyed by organization id with the attributes a snapshot carries (``id``,
    ``name``, ``type``, ``sectors`` and ``clusters`` as lists, ``region``, ``mandate``, the
    extra columns, provenance ``source``, ``row``, ``importId``, ``importedAt``); one node per
    cluster (key :func:`~maillage.model.cluster_id` of its name, ``type="cluster"``) and a
    ``PART_OF`` edge from each organization to each of its clusters (``derived=True``). Edges
    are keyed by relationship type with ``type``, ``weight``, ``since`` (a ``datetime.date``)
    and provenance. Missing values are left out, as the stores leave them out.

    Examples
    --------
    >>> eco = generate_ecosystem(200, seed=2)
    >>> G = ecosystem_graph(eco)
    >>> n_part_of = sum(1 for *_, k in G.edges(keys=True) if k == "PART_OF")
    >>> G.number_of_edges() == len(eco.relationships) + n_part_of
    True
    """
    G = nx.MultiDiGraph()
    import_id = f"sample-{eco.seed}" if eco.seed is not None else "sample"
    prov = {"importId": import_id, "importedAt": _IMPORTED_AT}
    orgs = eco.organizations
    columns = list(orgs.columns)
    clusters_seen: dict[str, str] = {}
    nodes, part_of = [], []
    for row, values in enumerate(zip(*(orgs[c].to_numpy(dtype=object) for c in columns)), start=2):
        data: dict[str, Any] = {}
        for col, val in zip(columns, values):
            if not _present(val):
                continue
            if col in ("sectors", "clusters"):
                val = [v.strip() for v in re.split(r"[|;]", str(val)) if v.strip()]
            elif col == "employees":
                val = int(val)
            data[col] = val
        data.setdefault("sectors", [])
        data.setdefault("clusters", [])
        data.update(source="organizations.csv", row=row, **prov)
        nodes.append((data["id"], data))
        for name in data["clusters"]:
            cid = cluster_id(name)
            clusters_seen.setdefault(cid, name)
            part_of.append((data["id"], cid, "PART_OF",
                            {"type": "PART_OF", "derived": True, "source": "organizations.csv", "row": row, **prov}))
    G.add_nodes_from(nodes)
    G.add_nodes_from((cid, {"id": cid, "name": name, "type": "cluster"}) for cid, name in clusters_seen.items())
    G.add_edges_from(part_of)

    rels = eco.relationships
    since = rels["since"].to_numpy(dtype="datetime64[D]") if "since" in rels else None
    # Dates repeat a lot: build each distinct one once.
    if since is not None:
        uniq, _, inv = _unique_inverse(since.view(np.int64))
        uniq = uniq.view("datetime64[D]")
        as_date = np.array([None if np.isnat(d) else _dt.date.fromisoformat(str(d)) for d in uniq], dtype=object)[inv]
    else:
        as_date = np.full(len(rels), None, dtype=object)
    weight = rels["weight"].to_numpy(dtype=np.float64) if "weight" in rels else np.full(len(rels), np.nan)
    src = rels["source"].to_numpy(dtype=object)
    dst = rels["target"].to_numpy(dtype=object)
    typ = rels["relationship"].to_numpy(dtype=object)

    def edges():
        for i in range(len(rels)):
            data = {"type": typ[i]}
            if weight[i] == weight[i]:
                data["weight"] = float(weight[i])
            if as_date[i] is not None:
                data["since"] = as_date[i]
            data.update(source="relationships.csv", row=i + 2, **prov)
            yield src[i], dst[i], typ[i], data

    G.add_edges_from(edges())
    return G
