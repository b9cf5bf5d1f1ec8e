"""Local validation of identifiers, done BEFORE any request leaves the machine.

Uses python-stdnum: ``stdnum.pl.nip`` (NIP, 10 digits, weighted mod 11), ``stdnum.pl.regon``
(REGON, 9 or 14 digits), ``stdnum.eu.vat`` (EU VAT numbers, per member state) and
``stdnum.iban`` (Polish NRB = the 26 digits of a PL IBAN, ISO 13616 mod 97-10).
KRS numbers have no check digit: up to 10 digits, zero-padded to 10.

Every function returns the compact, canonical form or raises
:class:`~plugins.registries.sources.errors.InvalidNumber` with a Polish message.
"""

from __future__ import annotations

import re

from stdnum import iban as _iban
from stdnum.eu import vat as _eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError
from stdnum.pl import nip as _nip
from stdnum.pl import regon as _regon

from .errors import InvalidNumber

_SEPARATORS = re.compile(r"[\s\-./]")


def _shown(value: object) -> str:
    text = str(value).strip()
    return text if len(text) <= 40 else text[:37] + "…"


def clean_nip(value: object) -> str:
    """Return the 10-digit NIP (an optional ``PL`` prefix, spaces and dashes are dropped)."""
    if value is None or not str(value).strip():
        raise InvalidNumber("Nie podano numeru NIP.", kind="nip", value="")
    raw = str(value)
    try:
        return _nip.validate(raw)
    except InvalidChecksum:
        reason = "błędna cyfra kontrolna"
    except InvalidLength:
        reason = "NIP składa się z 10 cyfr"
    except ValidationError:
        reason = "NIP może zawierać tylko cyfry"
    raise InvalidNumber(f"Nieprawidłowy numer NIP „{_shown(raw)}”: {reason}.", kind="nip",
                        value=raw)


def clean_regon(value: object) -> str:
    """Return the 9- or 14-digit REGON."""
    if value is None or not str(value).strip():
        raise InvalidNumber("Nie podano numeru REGON.", kind="regon", value="")
    raw = str(value)
    try:
        return _regon.validate(raw)
    except InvalidChecksum:
        reason = "błędna cyfra kontrolna"
    except InvalidLength:
        reason = "REGON składa się z 9 lub 14 cyfr"
    except ValidationError:
        reason = "REGON może zawierać tylko cyfry"
    raise InvalidNumber(f"Nieprawidłowy numer REGON „{_shown(raw)}”: {reason}.", kind="regon",
                        value=raw)


def clean_krs(value: object) -> str:
    """Return the KRS number zero-padded to 10 digits (KRS has no check digit)."""
    if value is None or not str(value).strip():
        raise InvalidNumber("Nie podano numeru KRS.", kind="krs", value="")
    raw = str(value)
    compact = _SEPARATORS.sub("", raw.strip())
    if compact.upper().startswith("KRS"):
        compact = compact[3:]
    if not compact.isdigit() or not compact.isascii():
        raise InvalidNumber(f"Nieprawidłowy numer KRS „{_shown(raw)}”: dozwolone są tylko cyfry.",
                            kind="krs", value=raw)
    if len(compact) > 10 or int(compact) == 0:
        raise InvalidNumber(f"Nieprawidłowy numer KRS „{_shown(raw)}”: KRS ma najwyżej 10 cyfr.",
                            kind="krs", value=raw)
    return compact.zfill(10)


def clean_nrb(value: object) -> str:
    """Return a Polish bank account as 26 digits (NRB); ``PL`` prefix and spaces are dropped."""
    if value is None or not str(value).strip():
        raise InvalidNumber("Nie podano numeru rachunku bankowego.", kind="account", value="")
    raw = str(value)
    compact = _SEPARATORS.sub("", raw.strip()).upper().removeprefix("PL")
    if not compact.isdigit() or not compact.isascii():
        raise InvalidNumber(
            f"Nieprawidłowy numer rachunku „{_shown(raw)}”: dozwolone są tylko cyfry.",
            kind="account", value=raw)
    if len(compact) != 26:
        raise InvalidNumber(
            f"Nieprawidłowy numer rachunku „{_shown(raw)}”: polski numer rachunku (NRB) "
            "składa się z 26 cyfr.", kind="account", value=raw)
    try:
        _iban.validate("PL" + compact)
    except ValidationError:
        raise InvalidNumber(
            f"Nieprawidłowy numer rachunku „{_shown(raw)}”: błędne cyfry kontrolne.",
            kind="account", value=raw)
    return compact


def clean_vat(value: object, country_code: str | None = None) -> tuple[str, str]:
    """Validate an EU VAT number; return ``(country_code, national_number)``.

    ``country_code`` may be given separately (``"PL"``, ``"DE"``, ``"EL"`` for Greece,
    ``"XI"`` for Northern Ireland) or as the number's prefix.
    """
    if value is None or not str(value).strip():
        raise InvalidNumber("Nie podano numeru VAT UE.", kind="vat", value="")
    raw = str(value)
    compact = _SEPARATORS.sub("", raw.strip()).upper()
    cc = (country_code or "").strip().upper()
    if cc == "GR":
        cc = "EL"
    if cc:
        if not re.fullmatch(r"[A-Z]{2}", cc):
            raise InvalidNumber(f"Nieprawidłowy kod kraju „{_shown(country_code)}”.",
                                kind="vat", value=raw)
        if compact.startswith(cc):
            compact = compact[2:]
        compact = cc + compact
    elif not re.match(r"[A-Z]{2}", compact):
        raise InvalidNumber(
            f"Numer VAT UE „{_shown(raw)}” musi zaczynać się od kodu kraju (np. PL, DE).",
            kind="vat", value=raw)
    prefix = compact[:2]
    if prefix.lower() not in _eu_vat.MEMBER_STATES and prefix != "EL":
        raise InvalidNumber(f"„{prefix}” nie jest kodem państwa członkowskiego UE.",
                            kind="vat", value=raw)
    try:
        number = _eu_vat.validate(compact)
    except InvalidChecksum:
        reason = "błędna cyfra kontrolna"
    except (InvalidLength, InvalidComponent):
        reason = "nieprawidłowa długość lub budowa numeru"
    except ValidationError:
        reason = "nieprawidłowy format numeru"
    else:
        country = "EL" if number[:2] == "GR" else number[:2]
        return country, number[2:]
    raise InvalidNumber(f"Nieprawidłowy numer VAT UE „{_shown(raw)}”: {reason}.", kind="vat",
                        value=raw)


__all__ = ["clean_krs", "clean_nip", "clean_nrb", "clean_regon", "clean_vat"]
