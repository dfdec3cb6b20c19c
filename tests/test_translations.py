"""The Persian dashboard catalog is complete: every text in the code is in it, translated, not fuzzy."""
from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
FA_CATALOG = ROOT / "app/translations/fa/LC_MESSAGES/messages.po"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def fa_catalog():
    with FA_CATALOG.open("rb") as po:
        return read_po(po, locale="fa")


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(s and s.strip() for s in strings)


def test_every_persian_entry_is_translated_and_not_fuzzy():
    catalog = fa_catalog()
    untranslated = [m.id for m in catalog if m.id and not _translated(m)]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not untranslated and not fuzzy, (
        f"translate these in {FA_CATALOG.relative_to(ROOT)}: untranslated {untranslated!r}, fuzzy {fuzzy!r}")


def test_placeholders_match_the_english_text():
    problems = [(m.id, [str(e) for e in errors]) for m, errors in fa_catalog().check()]
    assert not problems


def test_every_text_in_the_code_is_in_the_catalog():
    with (ROOT / "babel.cfg").open() as config:
        from babel.messages.frontend import parse_mapping_cfg
        method_map, options_map = parse_mapping_cfg(config)
    in_code = {message if isinstance(message, str) else message[0]
               for _file, _line, message, _comments, _context in
               extract_from_dir(str(ROOT), method_map, options_map, keywords=KEYWORDS)}
    in_catalog = {m.id if isinstance(m.id, str) else m.id[0] for m in fa_catalog() if m.id}
    missing = sorted(in_code - in_catalog)
    assert not missing, f"run `make messages` and translate: {missing!r}"
