"""The message catalogue: every message the templates use exists in French and English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.i18n import LANGUAGES, MESSAGES, negotiate, translate
from api.maps import SIZE_MEASURES
from api.security import ROLES
from api.tables import TABLES

TEMPLATES = Path(__file__).resolve().parents[2] / "api" / "templates"


def _keys_used() -> set[str]:
    keys = set()
    for path in TEMPLATES.rglob("*.html"):
        keys.update(re.findall(r"""_\(\s*["']([a-z_]+\.[a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    keys = {k for k in keys if not k.endswith(".")}  # a prefix completed in the template (below)
    keys.update(f"map.centrality.{m}" for m in SIZE_MEASURES)
    keys.update(f"role.{r}" for r in ROLES)
    for spec in TABLES.values():
        keys.update({spec.title_key, spec.intro_key, f"nav.{spec.name}"})
    return keys


@pytest.mark.parametrize("key", sorted(_keys_used()))
def test_every_message_used_exists_in_both_languages(key):
    for lang in LANGUAGES:
        assert key in MESSAGES[lang], (lang, key)


def test_french_and_english_differ_where_they_should():
    same = {k for k in MESSAGES["fr"] if MESSAGES["fr"][k] == MESSAGES["en"][k]}
    # Only words spelled alike in both languages (API, Association, Structures...) may repeat.
    assert len(same) < 0.1 * len(MESSAGES["fr"]), sorted(same)


def test_fields_are_filled():
    assert translate("en", "common.rows", total=3) == "3 rows"
    assert translate("fr", "nope.missing") == "nope.missing"


@pytest.mark.parametrize("header, lang", [("fr-CA,fr;q=0.9,en;q=0.8", "fr"), ("en-US,en;q=0.9", "en"),
                                          ("es, en;q=0.3, fr;q=0.2", "en"), ("", "fr"), ("en;q=bogus, fr", "fr")])
def test_language_negotiation(header, lang):
    assert negotiate(header) == lang
