"""Plain-language pieces of the ``reasons`` sentences, in English and French.

A secretariat repeats these sentences to a board, so they name organizations, not ids, and
read as ordinary prose in either language (French typography: decimal comma, a space before
``%`` and ``;``).
"""

from __future__ import annotations

from maillage.errors import InputError

__all__: list[str] = []

LANGS = ("en", "fr")

#: How a sentence refers to one organization of each type (with its article).
TYPE_PHRASES = {
    "en": {
        "company": "a company",
        "association": "an association",
        "workforce_committee": "a workforce committee",
        "government": "a government body",
        "institution": "a research institution",
        "structure": "a coordinating structure",
        None: "an organization",
    },
    "fr": {
        "company": "une entreprise",
        "association": "une association",
        "workforce_committee": "un comité sectoriel de main-d'œuvre",
        "government": "un organisme public",
        "institution": "un établissement de recherche",
        "structure": "une structure de concertation",
        None: "une organisation",
    },
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if it is one we write reasons in, else raise :class:`InputError`."""
    if lang not in LANGS:
        raise InputError(f"Unknown language {lang!r} for the reasons; use 'en' or 'fr'.")
    return lang


def type_phrase(t: str | None, lang: str) -> str:
    return TYPE_PHRASES[lang].get(t, TYPE_PHRASES[lang][None])


def join(items: list[str], lang: str) -> str:
    """Return ``"A, B and C"`` (``"A, B et C"`` in French).

    Examples
    --------
    >>> join(["A", "B", "C"], "fr")
    'A, B et C'
    >>> join(["A"], "en")
    'A'
    """
    items = list(items)
    word = " and " if lang == "en" else " et "
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + word + items[-1]


def name_list(names: list[str], total: int, lang: str, *, shown: int = 3) -> str:
    """Return up to ``shown`` names, then ``"and N others"`` for the rest of ``total``.

    Examples
    --------
    >>> name_list(["A", "B", "C", "D", "E"], 5, "en")
    'A, B, C and 2 others'
    >>> name_list(["A", "B"], 2, "fr")
    'A et B'
    >>> name_list(["A", "B", "C", "D"], 4, "fr")
    'A, B, C et 1 autre'
    """
    head = list(names[:shown])
    rest = total - len(head)
    if rest > 0:
        if lang == "en":
            head.append(f"{rest} other" + ("s" if rest > 1 else ""))
        else:
            head.append(f"{rest} autre" + ("s" if rest > 1 else ""))
    return join(head, lang)


def number(x: float, lang: str, digits: int = 2) -> str:
    """Return ``x`` with ``digits`` decimals (decimal comma in French).

    Examples
    --------
    >>> number(0.8571, "fr"), number(0.8571, "en")
    ('0,86', '0.86')
    """
    s = f"{x:.{digits}f}"
    return s.replace(".", ",") if lang == "fr" else s


def percent(x: float, lang: str) -> str:
    """Return ``x`` (a share in [0, 1]) as a whole percentage.

    Examples
    --------
    >>> percent(0.8, "en"), percent(0.8, "fr")
    ('80%', '80 %')
    """
    p = f"{round(100 * x)}"
    return f"{p}%" if lang == "en" else f"{p} %"


def sentence(parts: list[str], lang: str, *, capitalize: bool = True) -> str:
    """Join clauses with semicolons into one sentence that starts with a capital (unless it
    starts with a name: ``capitalize=False``) and ends with a full stop.

    Examples
    --------
    >>> sentence(["both work with A", "a company and a research institution"], "en")
    'Both work with A; a company and a research institution.'
    >>> sentence(["travaillent tous deux avec A", "même secteur"], "fr")
    'Travaillent tous deux avec A ; même secteur.'
    """
    parts = [p for p in parts if p]
    if not parts:
        return ""
    text = (" ; " if lang == "fr" else "; ").join(parts)
    return (text[0].upper() + text[1:] if capitalize else text) + "."
