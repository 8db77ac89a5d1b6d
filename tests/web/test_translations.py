"""Every text of the pages has its English translation (Chinese is the source text)."""
from __future__ import annotations

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from .web_helpers import ROOT

CATALOG = ROOT / "service" / "translations" / "en" / "LC_MESSAGES" / "messages.po"


def page_texts() -> set[str]:
    with open(ROOT / "scripts" / "babel.cfg", encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    return {message[2] for message in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)}


def test_every_page_text_is_translated_into_english():
    with open(CATALOG, "rb") as po_file:
        catalog = read_po(po_file, locale="en")
    translated = {m.id for m in catalog if m.id and m.string}
    missing = sorted(page_texts() - translated)
    assert missing == [], f"run scripts/update-translations.sh and translate: {missing}"
