"""French and English for the web view: a small message catalogue and language negotiation.

Messages are plain text (templates escape them like any other value); a message may hold
``{name}`` fields filled by :func:`translate`. The language comes from ``?lang=``, then the
``maillage_lang`` cookie that the switch sets, then the browser's ``Accept-Language``, then
French (the secretariats' working language).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["LANGUAGES", "DEFAULT_LANGUAGE", "MESSAGES", "translate", "translator", "negotiate", "type_label", "relation_label"]

LANGUAGES: tuple[str, ...] = ("fr", "en")
DEFAULT_LANGUAGE = "fr"

# key -> (French, English)
_PAIRS: dict[str, tuple[str, str]] = {
    # ---- chrome
    "app.tagline": ("Analyse du maillage des grappes", "Cluster stakeholder network analysis"),
    "nav.dashboard": ("Tableau de bord", "Dashboard"),
    "nav.map": ("Carte", "Map"),
    "nav.organizations": ("Organisations", "Organizations"),
    "nav.gaps": ("Partenariats manquants", "Partnership gaps"),
    "nav.overlaps": ("Chevauchements", "Overlaps"),
    "nav.duplicates": ("Structures dupliquées", "Duplicated structures"),
    "nav.coverage": ("Couverture", "Coverage"),
    "nav.brokers": ("Courtiers", "Brokers"),
    "nav.console": ("Console Cypher", "Cypher console"),
    "nav.import": ("Importer", "Import"),
    "nav.brief": ("Bilans par grappe", "Cluster briefs"),
    "nav.docs": ("API", "API"),
    "nav.login": ("Se connecter", "Sign in"),
    "nav.logout": ("Se déconnecter", "Sign out"),
    "nav.role": ("Rôle : {role}", "Role: {role}"),
    "nav.skip": ("Aller au contenu", "Skip to content"),
    "lang.switch": ("English", "Français"),
    "lang.switch_title": ("Switch to English", "Passer au français"),
    "role.viewer": ("lecteur", "viewer"),
    "role.analyst": ("analyste", "analyst"),
    "role.editor": ("éditeur", "editor"),
    "common.all": ("Tous", "All"),
    "common.apply": ("Appliquer", "Apply"),
    "common.reset": ("Effacer les filtres", "Clear filters"),
    "common.search": ("Rechercher", "Search"),
    "common.search_name": ("Nom à chercher", "Name to search"),
    "common.none": ("Aucun résultat.", "Nothing to show."),
    "common.page": ("Page {page} sur {pages}", "Page {page} of {pages}"),
    "common.previous": ("Précédente", "Previous"),
    "common.next": ("Suivante", "Next"),
    "common.rows": ("{total} lignes", "{total} rows"),
    "common.per_page": ("Lignes par page", "Rows per page"),
    "common.download_csv": ("Télécharger en CSV", "Download CSV"),
    "common.download_xlsx": ("Télécharger en XLSX", "Download XLSX"),
    "common.print": ("Imprimer", "Print"),
    "common.see_all": ("Tout voir", "See all"),
    "common.cluster": ("Grappe", "Cluster"),
    "common.clusters": ("Grappes", "Clusters"),
    "common.type": ("Type", "Type"),
    "common.types": ("Types", "Types"),
    "common.sector": ("Secteur", "Sector"),
    "common.sectors": ("Secteurs", "Sectors"),
    "common.region": ("Région", "Region"),
    "common.mandate": ("Mandat", "Mandate"),
    "common.name": ("Nom", "Name"),
    "common.id": ("Identifiant", "Id"),
    "common.count": ("Nombre", "Count"),
    "common.score": ("Score", "Score"),
    "common.reasons": ("Pourquoi", "Why"),
    "common.suggested_partner": ("Partenaire suggéré", "Suggested partner"),
    "common.overlaps_with": ("Chevauche", "Overlaps with"),
    "common.weight": ("Poids", "Weight"),
    "common.members": ("Membres", "Members"),
    "common.source": ("Source", "Source"),
    "common.filter": ("Filtrer", "Filter"),
    "common.sort_by": ("Trier par {column}", "Sort by {column}"),
    "common.computed_at": ("Calculé sur {nodes} organisations et {edges} liens.", "Computed on {nodes} organizations and {edges} links."),
    "common.unknown": ("inconnu", "unknown"),
    "common.yes": ("oui", "yes"),
    "common.no": ("non", "no"),
    # ---- dashboard
    "dashboard.title": ("Tableau de bord", "Dashboard"),
    "dashboard.intro": (
        "Le maillage des grappes en un coup d'œil : qui est là, quels partenariats manquent, "
        "où les organisations et les structures se chevauchent.",
        "The clusters' network at a glance: who is there, which partnerships are missing, where "
        "organizations and structures overlap.",
    ),
    "dashboard.organizations": ("Organisations", "Organizations"),
    "dashboard.relationships": ("Liens", "Relationships"),
    "dashboard.clusters": ("Grappes", "Clusters"),
    "dashboard.by_type": ("Organisations par type", "Organizations by type"),
    "dashboard.by_cluster": ("Organisations par grappe", "Organizations by cluster"),
    "dashboard.top_gaps": ("Partenariats manquants les plus forts", "Strongest partnership gaps"),
    "dashboard.top_overlaps": ("Organisations qui se chevauchent", "Overlapping organizations"),
    "dashboard.top_duplicates": ("Structures qui se répètent", "Structures that repeat each other"),
    "dashboard.coverage": ("Couverture : grappes × types d'acteurs", "Coverage: clusters × stakeholder types"),
    "dashboard.coverage_help": (
        "Nombre d'organisations de chaque type dans chaque grappe ; une case pâle signale un type absent ou rare.",
        "Organizations of each type in each cluster; a pale cell marks a missing or thin type.",
    ),
    "dashboard.empty": (
        "Le graphe est vide. Importez des organisations et des liens pour commencer.",
        "The graph is empty. Import organizations and relationships to begin.",
    ),
    # ---- map
    "map.title": ("Carte du réseau", "Network map"),
    "map.filters": ("Filtres", "Filters"),
    "map.size_by": ("Taille selon", "Size by"),
    "map.show_suggestions": ("Partenariats suggérés", "Suggested partnerships"),
    "map.show_overlaps": ("Chevauchements", "Overlaps"),
    "map.shown": ("{nodes} organisations et {edges} liens affichés.", "{nodes} organizations and {edges} links shown."),
    "map.matches": ("Correspondances pour « {q} »", "Matches for “{q}”"),
    "map.no_match": ("Aucune organisation ne correspond à « {q} ».", "No organization matches “{q}”."),
    "map.loading": ("Préparation de la carte…", "Preparing the map…"),
    "map.pending": (
        "La carte interactive sera affichée ici. En attendant, la liste ci-dessous montre les organisations retenues.",
        "The interactive map will be shown here. Meanwhile the list below shows the organizations selected.",
    ),
    "map.legend": ("Légende", "Legend"),
    "map.centrality.degree": ("Degré", "Degree"),
    "map.centrality.betweenness": ("Intermédiarité", "Betweenness"),
    "map.centrality.pagerank": ("PageRank", "PageRank"),
    "map.centrality.eigenvector": ("Vecteur propre", "Eigenvector"),
    "map.centrality.closeness": ("Proximité", "Closeness"),
    "map.centrality.none": ("Uniforme", "Uniform"),
    # ---- organizations
    "orgs.title": ("Organisations", "Organizations"),
    "org.facts": ("Fiche", "Facts"),
    "org.ego": ("Voisinage", "Neighbourhood"),
    "org.partners": ("Liens", "Relationships"),
    "org.relation": ("Lien", "Relationship"),
    "org.direction": ("Sens", "Direction"),
    "org.outgoing": ("vers", "to"),
    "org.incoming": ("depuis", "from"),
    "org.suggestions": ("Partenariats suggérés", "Suggested partnerships"),
    "org.overlaps": ("Chevauchements", "Overlaps"),
    "org.structures": ("Structures auxquelles elle participe", "Structures it sits in"),
    "org.duplicate_groups": ("Groupes de doublons", "Duplicate groups"),
    "org.provenance": ("Provenance", "Provenance"),
    "org.not_found": ("Aucune organisation n'a l'identifiant « {id} ».", "No organization has the id “{id}”."),
    "org.on_map": ("Voir sur la carte", "See on the map"),
    # ---- tables
    "table.gaps.title": ("Partenariats manquants", "Partnership gaps"),
    "table.gaps.intro": (
        "Paires d'organisations qui devraient être liées et ne le sont pas, avec les raisons.",
        "Pairs of organizations that should be linked and are not, with the reasons.",
    ),
    "table.overlaps.title": ("Organisations qui se chevauchent", "Overlapping organizations"),
    "table.overlaps.intro": (
        "Paires dont les adhésions, partenaires, secteurs, région et mandat coïncident largement.",
        "Pairs whose memberships, partners, sectors, region and mandate largely coincide.",
    ),
    "table.duplicates.title": ("Structures dupliquées", "Duplicated structures"),
    "table.duplicates.intro": (
        "Groupes de structures aux membres et mandats presque identiques : candidates à une fusion.",
        "Groups of structures with near-identical members and mandates: merge candidates.",
    ),
    "table.coverage.title": ("Couverture des grappes", "Cluster coverage"),
    "table.coverage.intro": (
        "Pour chaque grappe, les types d'acteurs absents ou trop peu présents.",
        "For each cluster, the stakeholder types that are missing or thin.",
    ),
    "table.brokers.title": ("Courtiers et trous structuraux", "Brokers and structural holes"),
    "table.brokers.intro": (
        "Organisations qui relient des parties autrement séparées du réseau (contrainte et taille effective de Burt).",
        "Organizations that link otherwise separate parts of the network (Burt's constraint and effective size).",
    ),
    # ---- console
    "console.title": ("Console Cypher", "Cypher console"),
    "console.intro": (
        "Interrogez le graphe en Cypher. Les requêtes s'exécutent en lecture seule, avec un délai de {timeout} s et au plus {cap} lignes.",
        "Query the graph in Cypher. Queries run read-only, with a {timeout} s time limit and at most {cap} rows.",
    ),
    "console.query": ("Requête", "Query"),
    "console.params": ("Paramètres (JSON)", "Parameters (JSON)"),
    "console.run": ("Exécuter", "Run"),
    "console.csv": ("Exécuter et télécharger en CSV", "Run and download CSV"),
    "console.examples": ("Exemples de requêtes", "Example queries"),
    "console.use": ("Utiliser", "Use"),
    "console.needs_neo4j": (
        "La console Cypher a besoin de Neo4j ; ce graphe est dans le stockage en mémoire. "
        "Démarrez le serveur local avec « maillage neo4j start » ou définissez NEO4J_URI.",
        "The Cypher console needs Neo4j; this graph lives in the memory store. "
        "Start the local server with “maillage neo4j start” or set NEO4J_URI.",
    ),
    "console.result": ("{rows} lignes en {ms} ms", "{rows} rows in {ms} ms"),
    "console.truncated": ("Résultat tronqué à {cap} lignes.", "Result stopped at {cap} rows."),
    "console.bad_params": ("Les paramètres doivent être un objet JSON : {error}", "Parameters must be a JSON object: {error}"),
    "console.refused": ("Requête refusée", "Query refused"),
    "console.map": ("Carte du résultat", "Map of the result"),
    # ---- import
    "import.title": ("Importer des données", "Import data"),
    "import.intro": (
        "Déposez des fichiers CSV, XLSX ou JSON d'organisations et de liens. Ils sont d'abord validés ; rien n'est écrit avant votre confirmation.",
        "Upload CSV, XLSX or JSON files of organizations and relationships. They are validated first; nothing is written until you confirm.",
    ),
    "import.files": ("Fichiers", "Files"),
    "import.limit": ("Au plus {size} au total.", "At most {size} in all."),
    "import.validate": ("Valider", "Validate"),
    "import.problems": ("{n} problème(s) trouvé(s) ; rien n'a été écrit.", "{n} problem(s) found; nothing was written."),
    "import.file": ("Fichier", "File"),
    "import.row": ("Ligne", "Row"),
    "import.column": ("Colonne", "Column"),
    "import.message": ("Problème", "Problem"),
    "import.valid": (
        "Fichiers valides : {orgs} organisations et {rels} liens.",
        "Valid files: {orgs} organizations and {rels} relationships.",
    ),
    "import.warnings": ("Avertissements", "Warnings"),
    "import.duplicates": ("Doublons probables", "Probable duplicate records"),
    "import.confirm": ("Confirmer et charger", "Confirm and load"),
    "import.replace_source": (
        "Retirer ce que d'anciens imports de ces fichiers avaient créé et qu'ils ne contiennent plus",
        "Remove what earlier imports of these files created that they no longer hold",
    ),
    "import.merge_duplicates": ("Fusionner les doublons probables", "Merge probable duplicate records"),
    "import.done": ("Import terminé.", "Import done."),
    "import.created": ("créés", "created"),
    "import.updated": ("mis à jour", "updated"),
    "import.unchanged": ("inchangés", "unchanged"),
    "import.removed": ("retirés", "removed"),
    "import.expired": (
        "Ce dépôt a expiré ou a déjà été chargé ; déposez les fichiers de nouveau.",
        "This upload expired or was already loaded; upload the files again.",
    ),
    # ---- brief
    "brief.title": ("Bilan de la grappe {cluster}", "Brief of the {cluster} cluster"),
    "brief.index": ("Bilans par grappe", "Cluster briefs"),
    "brief.index_intro": (
        "Une page imprimable par grappe : carte, couverture, partenariats manquants, chevauchements et doublons.",
        "One printable page per cluster: map, coverage, partnership gaps, overlaps and duplicates.",
    ),
    "brief.generated": ("Produit le {date}", "Produced on {date}"),
    "brief.members": ("{n} organisations", "{n} organizations"),
    "brief.coverage": ("Couverture par type", "Coverage by type"),
    "brief.missing": ("Types absents ou rares", "Missing or thin types"),
    "brief.none_missing": ("Tous les types d'acteurs sont présents.", "Every stakeholder type is present."),
    # ---- login and errors
    "login.title": ("Connexion", "Sign in"),
    "login.token": ("Jeton d'accès", "Access token"),
    "login.submit": ("Se connecter", "Sign in"),
    "login.help": ("Le jeton vous est remis par l'administrateur de maillage.", "The token is given to you by maillage's operator."),
    "login.bad": ("Ce jeton n'est pas valide.", "This token is not valid."),
    "login.open": ("Cette instance locale ne demande pas de connexion.", "This local instance needs no sign-in."),
    "error.title": ("Erreur {status}", "Error {status}"),
    "error.404": ("Cette page n'existe pas.", "This page does not exist."),
    "error.403": ("Votre rôle ne permet pas cette action.", "Your role does not allow this."),
    "error.401": ("Connectez-vous pour continuer.", "Sign in to continue."),
    "error.422": ("La demande contient des valeurs invalides.", "The request holds invalid values."),
    "error.500": ("Une erreur inattendue est survenue ; elle a été journalisée.", "An unexpected error occurred; it was logged."),
    "error.503": (
        "La base de graphes ne répond pas. Cette page se rechargera d'elle-même dans quelques secondes.",
        "The graph database does not answer. This page reloads by itself in a few seconds.",
    ),
    "error.back": ("Retour au tableau de bord", "Back to the dashboard"),
    "error.csrf": (
        "Le formulaire a expiré ou ne vient pas de maillage ; rechargez la page et recommencez.",
        "The form expired or did not come from maillage; reload the page and try again.",
    ),
    # ---- stakeholder types and relationships
    "type.company": ("Entreprise", "Company"),
    "type.association": ("Association", "Association"),
    "type.workforce_committee": ("Comité sectoriel de main-d'œuvre", "Workforce committee"),
    "type.government": ("Gouvernement", "Government"),
    "type.institution": ("Établissement d'enseignement ou de recherche", "Research or educational institution"),
    "type.structure": ("Structure de concertation", "Coordinating structure"),
    "type.cluster": ("Grappe", "Cluster"),
    "type.unknown": ("Type inconnu", "Unknown type"),
    "rel.MEMBER_OF": ("membre de", "member of"),
    "rel.PARTNERS_WITH": ("partenaire de", "partners with"),
    "rel.FUNDS": ("finance", "funds"),
    "rel.PARTICIPATES_IN": ("participe à", "participates in"),
    "rel.COORDINATES": ("coordonne", "coordinates"),
    "rel.PART_OF": ("fait partie de", "part of"),
    "rel.SUGGESTED_PARTNER": ("partenaire suggéré", "suggested partner"),
    "rel.OVERLAPS_WITH": ("chevauche", "overlaps with"),
}

#: ``MESSAGES[lang][key]``: the catalogue, one dict per language.
MESSAGES: dict[str, dict[str, str]] = {
    lang: {key: pair[i] for key, pair in _PAIRS.items()} for i, lang in enumerate(LANGUAGES)
}


def translate(lang: str, key: str, /, **fields: object) -> str:
    """Return the message ``key`` in ``lang``, its ``{fields}`` filled.

    An unknown key comes back as itself, so that a missing message shows instead of failing.

    Examples
    --------
    >>> translate("fr", "common.page", page=2, pages=5)
    'Page 2 sur 5'
    >>> translate("en", "type.workforce_committee")
    'Workforce committee'
    """
    text = MESSAGES.get(lang, MESSAGES[DEFAULT_LANGUAGE]).get(key, key)
    return text.format(**fields) if fields else text


def translator(lang: str) -> Callable[..., str]:
    """Return ``translate`` bound to ``lang`` (the ``_`` of templates)."""

    def _(key: str, /, **fields: object) -> str:
        return translate(lang, key, **fields)

    return _


def type_label(lang: str, type_: object) -> str:
    """Return the display name of a stakeholder type (an unknown type is shown as given).

    >>> type_label("fr", "company"), type_label("en", None), type_label("en", "lab")
    ('Entreprise', 'Unknown type', 'lab')
    """
    if type_ is None or type_ == "":
        return translate(lang, "type.unknown")
    key = f"type.{type_}"
    return translate(lang, key) if key in MESSAGES[lang] else str(type_)


def relation_label(lang: str, rel: object) -> str:
    """Return the display name of a relationship type.

    >>> relation_label("fr", "FUNDS")
    'finance'
    """
    key = f"rel.{rel}"
    return translate(lang, key) if key in MESSAGES[lang] else str(rel)


def negotiate(accept_language: str | None) -> str:
    """Pick fr or en from an ``Accept-Language`` header (q-values honoured), French by default.

    Examples
    --------
    >>> negotiate("en-CA,en;q=0.9,fr;q=0.8"), negotiate("de-DE, fr;q=0.5"), negotiate(None)
    ('en', 'fr', 'fr')
    >>> negotiate("de, en;q=0.1")
    'en'
    """
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        lang = tag.strip().lower().split("-")[0]
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                q = 0.0
        if lang in LANGUAGES and q > best_q:
            best, best_q = lang, q
    return best
