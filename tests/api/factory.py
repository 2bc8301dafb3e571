"""Factories of the web view's tests: a small hand-made ecosystem and a test client over it.

The ecosystem (11 organizations in 3 clusters) is small enough to check by hand: two
aerospace companies sit in two near-identical talent working groups (a duplicated
structure), Polytechnique partners one of them, a government funds a working group and a
research centre, and one organization carries hostile text in its name and mandate.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from graph.memory_store import MemoryStore
from maillage.model import OrganizationRecord, RelationshipRecord
from maillage.settings import load_settings

__all__ = ["HOSTILE_NAME", "HOSTILE_MANDATE", "ORGANIZATIONS", "RELATIONSHIPS", "make_store", "make_settings",
           "make_app", "make_client", "csrf_of", "TOKENS"]

HOSTILE_NAME = "<img src=x onerror=alert(1)>"
HOSTILE_MANDATE = "<script>alert('mandate')</script> {{ 7*7 }} =HYPERLINK(\"http://evil.example\",\"x\")"

#: One token per role, as an operator would configure them.
TOKENS = {
    "viewer": "viewer-token-0123456789",
    "analyst": "analyst-token-0123456789",
    "editor": "editor-token-0123456789",
}

AERO, BIO, TI = "Aérospatiale", "Sciences de la vie", "Technologies de l'information"


def _org(id: str, name: str, type: str, sectors=(), clusters=(), region="Montréal", mandate=None, **extra: Any) -> OrganizationRecord:
    return OrganizationRecord(id=id, name=name, type=type, sectors=tuple(sectors), clusters=tuple(clusters),
                              region=region, mandate=mandate, extra=extra, source_file="test.csv")


ORGANIZATIONS: tuple[OrganizationRecord, ...] = (
    _org("aero-1", "Aéro Boréal inc.", "company", ["aerospace"], [AERO], mandate="Fabrication de pièces"),
    _org("aero-2", "Avionique Laval", "company", ["aerospace"], [AERO], region="Laval"),
    _org("poly", "Polytechnique Montréal", "institution", ["aerospace", "software"], [AERO, TI]),
    _org("csmo", "CSMO Aérospatiale", "workforce_committee", ["aerospace"], [AERO]),
    _org("gov", "Ministère de l'Économie", "government", [], [AERO, BIO], region="Québec"),
    _org("assoc", "Aéro Montréal", "association", ["aerospace"], [AERO]),
    _org("wg1", "Groupe de travail talents", "structure", ["aerospace"], [AERO], mandate="Attirer les talents en aérospatiale"),
    _org("wg2", "Comité talents aéro", "structure", ["aerospace"], [AERO], mandate="Attirer des talents en aérospatiale"),
    _org("bio-1", "BioNova", "company", ["life sciences"], [BIO]),
    _org("bio-2", "Génome Québec", "institution", ["life sciences"], [BIO], region="Québec"),
    _org("evil", HOSTILE_NAME, "company", ["life sciences"], [BIO], mandate=HOSTILE_MANDATE),
)

RELATIONSHIPS: tuple[RelationshipRecord, ...] = tuple(
    RelationshipRecord(source=s, target=t, type=k, weight=1.0, source_file="test.csv")
    for s, k, t in [
        ("aero-1", "MEMBER_OF", "assoc"),
        ("aero-2", "MEMBER_OF", "assoc"),
        ("poly", "PARTNERS_WITH", "aero-1"),
        ("aero-1", "PARTICIPATES_IN", "wg1"),
        ("aero-2", "PARTICIPATES_IN", "wg1"),
        ("aero-1", "PARTICIPATES_IN", "wg2"),
        ("aero-2", "PARTICIPATES_IN", "wg2"),
        ("gov", "FUNDS", "wg1"),
        ("gov", "FUNDS", "bio-2"),
        ("bio-1", "PARTNERS_WITH", "bio-2"),
        ("evil", "PARTNERS_WITH", "bio-1"),
        ("csmo", "COORDINATES", "wg1"),
        ("assoc", "COORDINATES", "wg2"),
    ]
)


def make_store(store=None, *, organizations=ORGANIZATIONS, relationships=RELATIONSHIPS):
    """Return ``store`` (default a fresh in-memory store) filled with the ecosystem."""
    store = MemoryStore(None) if store is None else store
    store.upsert(organizations=list(organizations), relationships=list(relationships), source="test.csv")
    return store


def make_settings(**overrides: Any):
    """Return settings for a test app: no tokens, loopback, overridden by ``overrides``
    (setting names, e.g. ``tokens="...:viewer"``, ``upload_max_bytes=4096``)."""
    values: dict[str, Any] = {"tokens": None, "tokens_file": None, "host": "127.0.0.1", "store": "memory",
                              "cache_seconds": 300.0, "secret_key": "test-secret-key-0123456789"}
    values.update(overrides)
    return load_settings(**values)


def make_app(store=None, *, host: str | None = None, **settings: Any):
    """Return the app over ``store`` (default: the ecosystem in memory)."""
    return create_app(make_settings(**settings), store=make_store() if store is None else store, host=host)


@contextlib.contextmanager
def make_client(store=None, *, role_tokens: bool = False, raise_server_exceptions: bool = True,
                host: str | None = None, base_url: str = "http://127.0.0.1", **settings: Any) -> Iterator[TestClient]:
    """Yield a test client of the app (its lifespan running), over the ecosystem by default.

    ``role_tokens=True`` configures :data:`TOKENS` (one per role); other keywords are settings.
    """
    if role_tokens:
        settings.setdefault("tokens", ",".join(f"{t}:{r}" for r, t in TOKENS.items()))
    app = make_app(store, host=host, **settings)
    with TestClient(app, base_url=base_url, raise_server_exceptions=raise_server_exceptions) as client:
        yield client


def csrf_of(client: TestClient) -> str:
    """Return the CSRF token of the client's cookie (asking the app, which sets the cookie)."""
    return client.get("/api/me").json()["csrf_token"]
