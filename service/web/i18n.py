"""Languages of the pages: Chinese (the source text) by default, English on request.

``?lang=en`` (or ``zh_CN``) switches and remembers the choice in the session. The browser's
Accept-Language is deliberately ignored: county staff get Chinese whatever their browser says.
The English catalog (``service/translations/en/LC_MESSAGES/messages.po``) is compiled into
``settings.var_dir/translations`` when the app starts, so no binary .mo file is committed.
"""
from __future__ import annotations

import os
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import request, session
from flask_babel import Babel

SOURCE_DIR = Path(__file__).resolve().parent.parent / "translations"
LANGUAGES = {"zh_CN": "中文", "en": "English"}
DEFAULT_LOCALE = "zh_CN"


def compile_translations(source: Path, target: Path) -> None:
    """Compile every ``<lang>/LC_MESSAGES/*.po`` under ``source`` into ``target`` when it changed."""
    for po_path in source.glob("*/LC_MESSAGES/*.po"):
        mo_path = target / po_path.relative_to(source).with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        mo_path.parent.mkdir(parents=True, exist_ok=True)
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parts[-3])
        partial = mo_path.with_suffix(f".{os.getpid()}.part")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(partial, mo_path)  # several workers may start at once


def select_locale() -> str:
    wanted = request.args.get("lang")
    if wanted in LANGUAGES:
        session["lang"] = wanted
        return wanted
    return session.get("lang") if session.get("lang") in LANGUAGES else DEFAULT_LOCALE


def init_i18n(app, var_dir: Path) -> None:
    compiled = Path(var_dir) / "translations"
    compile_translations(SOURCE_DIR, compiled)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT_LOCALE
    app.config["BABEL_DEFAULT_TIMEZONE"] = "Asia/Shanghai"
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compiled)
    Babel(app, locale_selector=select_locale)
