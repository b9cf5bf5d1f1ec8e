"""Internationalisation of the web UI: flask-babel set-up, per-user language, and format
helpers for dates (shown in Europe/Warsaw), numbers and money per locale.

Polish is the default language and the language of the message ids; the English
catalogue lives in ``core/web/ui/translations/en/LC_MESSAGES/messages.po`` (compiled
``.mo`` next to it). Update it with::

    pybabel extract -F core/web/ui/babel.cfg -o /tmp/messages.pot core/web/ui
    pybabel update -i /tmp/messages.pot -d core/web/ui/translations
    pybabel compile -d core/web/ui/translations

The helpers work outside a request too (CLI, print templates): they then use the language
given or Polish.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import dates as babel_dates
from babel import numbers as babel_numbers

LANGUAGES = ("pl", "en")
DEFAULT_LANGUAGE = "pl"
TIMEZONE = "Europe/Warsaw"
WARSAW = ZoneInfo(TIMEZONE)
TRANSLATIONS_DIR = Path(__file__).parent / "web" / "ui" / "translations"
LANGUAGE_NAMES = {"pl": "Polski", "en": "English"}


def normalise_language(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().lower().replace("-", "_").split("_")[0]
    return value if value in LANGUAGES else None


def select_locale() -> str:
    """The language of the current request: the logged-in user's ``language``, else the
    one chosen in the session (login page switch), else the browser's, else Polish."""
    from flask import g, has_request_context, request, session
    if not has_request_context():
        return DEFAULT_LANGUAGE
    user = getattr(g, "user", None)
    lang = normalise_language(getattr(user, "language", None)) if user is not None else None
    if lang:
        return lang
    lang = normalise_language(session.get("lang"))
    if lang:
        return lang
    best = request.accept_languages.best_match(LANGUAGES) if request.accept_languages else None
    # Polish first: the browser's choice only counts when it asks for English explicitly
    return best if best == "en" else DEFAULT_LANGUAGE


def select_timezone() -> str:
    return TIMEZONE


def init_babel(app, extra_dirs: list[str] = ()) -> None:
    """Install flask-babel on ``app`` (idempotent) with Kartoteka's selectors; the
    catalogues of ``extra_dirs`` (plugins') are merged over the kernel's."""
    from flask_babel import Babel
    if "babel" in app.extensions:
        return
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", TIMEZONE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join([str(TRANSLATIONS_DIR),
                                                            *extra_dirs])
    Babel(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.filters.update(
        datetime=format_datetime, date=format_date, number=format_number,
        money=format_money, decimal=format_decimal)
    app.jinja_env.globals.update(current_language=current_language,
                                 LANGUAGE_NAMES=LANGUAGE_NAMES)


def current_language() -> str:
    """The language in effect: flask-babel's locale in a request, else Polish."""
    from flask import has_request_context
    if has_request_context():
        try:
            from flask_babel import get_locale
            loc = get_locale()
            if loc is not None:
                return loc.language if loc.language in LANGUAGES else DEFAULT_LANGUAGE
        except (RuntimeError, KeyError):
            pass
    return DEFAULT_LANGUAGE


def _lang(lang: str | None) -> str:
    return normalise_language(lang) or current_language()


def to_local(value: dt.datetime) -> dt.datetime:
    """An aware datetime in Europe/Warsaw (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(WARSAW)


def from_local(value: dt.datetime) -> dt.datetime:
    """A naive wall-clock datetime in Europe/Warsaw -> aware UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=WARSAW)
    return value.astimezone(dt.UTC)


def format_datetime(value, fmt: str = "short", lang: str | None = None) -> str:
    """``23.11.2026, 14:05`` (pl) / ``11/23/26, 2:05 PM`` (en), in Europe/Warsaw."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if not isinstance(value, dt.datetime):
        return format_date(value, lang=lang)
    return babel_dates.format_datetime(to_local(value), fmt, tzinfo=WARSAW, locale=_lang(lang))


def format_date(value, fmt: str = "medium", lang: str | None = None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = to_local(value).date()
    return babel_dates.format_date(value, fmt, locale=_lang(lang))


def format_number(value, lang: str | None = None) -> str:
    """``1 234,5`` (pl) / ``1,234.5`` (en)."""
    if value is None or value == "":
        return ""
    try:
        return babel_numbers.format_decimal(Decimal(str(value)), locale=_lang(lang))
    except (InvalidOperation, ValueError):
        return str(value)


def format_decimal(value, places: int = 2, lang: str | None = None) -> str:
    if value is None or value == "":
        return ""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    pattern = "#,##0." + "0" * places if places else "#,##0"
    return babel_numbers.format_decimal(d, format=pattern, locale=_lang(lang),
                                        decimal_quantization=True)


def format_money(value, currency: str = "PLN", lang: str | None = None) -> str:
    """``1 234,50 zł`` (pl) / ``PLN 1,234.50`` (en); Decimal in, never float."""
    if value is None or value == "":
        return ""
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    language = _lang(lang)
    if language == "en":   # CLDR's "PLN1,234.50" reads badly: keep a (non-breaking) space
        return babel_numbers.format_currency(d, currency, format="¤\u00a0#,##0.00",
                                             locale=language, currency_digits=False)
    return babel_numbers.format_currency(d, currency, locale=language)


def parse_decimal(text: str, lang: str | None = None) -> Decimal:
    """Parse a user-typed number: ``1 234,50`` or ``1234.50`` -> Decimal('1234.50')."""
    raw = (text or "").strip().replace("\u00a0", "").replace(" ", "")
    if "," in raw and "." in raw:
        # the last separator is the decimal one
        if raw.rfind(",") > raw.rfind("."):
            raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
    else:
        raw = raw.replace(",", ".")
    return Decimal(raw)


def build_catalogue(source: Path, out: Path, english: dict[str, str], *,
                    write: bool = True) -> list[str]:
    """Extract the ``_()`` messages of ``source`` (Python and ``templates/**.html``),
    write ``out/{pl,en}/LC_MESSAGES/messages.{po,mo}`` (Polish ids, English from
    ``english``) and return the ids that have no English translation."""
    import subprocess
    import sys
    import tempfile

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po, write_po

    missing: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "babel.cfg"
        cfg.write_text("[python: **.py]\n[jinja2: **/templates/**.html]\n")
        pot = Path(tmp) / "messages.pot"
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract",
                        "-F", str(cfg), "-k", "_", "-k", "gettext", "-k", "lazy_gettext",
                        "--no-location", "--sort-output", "--project", "Kartoteka",
                        "-o", str(pot), str(source)], check=True, capture_output=True)
        for lang in ("pl", "en"):
            with pot.open("rb") as fh:
                cat = read_po(fh, locale=lang)
            cat.fuzzy = False
            # fixed dates: regenerating an unchanged catalogue changes no file
            cat.creation_date = cat.revision_date = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
            for msg in cat:
                if not msg.id:
                    continue
                if lang == "pl":
                    msg.string = msg.id
                elif msg.id in english:
                    msg.string = english[msg.id]
                else:
                    missing.append(msg.id)
            if not write:
                continue
            folder = out / lang / "LC_MESSAGES"
            folder.mkdir(parents=True, exist_ok=True)
            with (folder / "messages.po").open("wb") as fh:
                write_po(fh, cat, width=100, omit_header=False, no_location=True)
            with (folder / "messages.mo").open("wb") as fh:
                write_mo(fh, cat)
    return missing


def catalogue_main(source: Path, out: Path, english: dict[str, str]) -> int:
    """The body of a ``make_catalogue`` script: build, report missing English, exit code."""
    missing = build_catalogue(source, out, english)
    if missing:
        print("missing English translations:", *missing, sep="\n  ")
        return 1
    return 0
