"""Bot texts in Persian, English and Russian from the gettext catalogs under bots/locales.

Message ids are keys such as `menu.plans`; the catalogs hold the texts with `{name}` placeholders.
Compiled .mo files are read when present (`make translations`), the .po sources otherwise.
"""
from __future__ import annotations

import gettext
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("fa", "en", "ru")
DEFAULT_LANGUAGE = "fa"
LOCALES_DIR = Path(__file__).parent / "locales"


def normalize_language(code: str | None) -> str | None:
    """One of LANGUAGES for a code like `en-US`, or None when we do not speak it."""
    short = (code or "").split("-")[0].split("_")[0].strip().lower()
    return short if short in LANGUAGES else None


def t(lang: str | None, key: str, **params) -> str:
    """The text of `key` in `lang` (Persian by default), with `params` filled in."""
    text = messages(normalize_language(lang) or DEFAULT_LANGUAGE).get(key) or messages("en").get(key) or key
    return text.format(**params) if params else text


def has_key(lang: str, key: str) -> bool:
    return bool(messages(lang).get(key))


@cache
def messages(lang: str) -> dict[str, str]:
    """All texts of one language, keyed by message id."""
    folder = LOCALES_DIR / lang / "LC_MESSAGES"
    compiled, source = folder / "messages.mo", folder / "messages.po"
    if compiled.exists() and compiled.stat().st_mtime >= source.stat().st_mtime:
        with compiled.open("rb") as handle:
            catalog = gettext.GNUTranslations(handle)
        return {key: text for key, text in catalog._catalog.items() if key}
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    return {m.id: m.string for m in catalog if m.id and m.string}
