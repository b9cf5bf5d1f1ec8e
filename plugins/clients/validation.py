"""Identifier and contact-data validation for clients (python-stdnum, phonenumbers,
email-validator). Every function returns the normalised value or raises a
``ValidationError`` naming the field."""

from __future__ import annotations

import datetime as dt

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum import iban as std_iban
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.pl import nip as pl_nip
from stdnum.pl import pesel as pl_pesel
from stdnum.pl import regon as pl_regon

from core.errors import ValidationError

LABELS = {"nip": "NIP", "regon": "REGON", "pesel": "PESEL", "krs": "KRS",
          "vat_eu": "NIP UE", "iban": "Numer rachunku (IBAN)", "phone": "Telefon",
          "email": "E-mail", "offer_email": "E-mail do ofert",
          "documents_email": "E-mail do wysyłki dokumentów", "sms_phone": "Telefon do SMS",
          "postal_code": "Kod pocztowy"}


def _why(exc: StdnumError) -> str:
    if isinstance(exc, InvalidChecksum):
        return "błędna suma kontrolna"
    if isinstance(exc, InvalidLength):
        return "nieprawidłowa długość"
    if isinstance(exc, InvalidFormat):
        return "nieprawidłowy format (dozwolone cyfry)"
    if isinstance(exc, InvalidComponent):
        return "nieprawidłowa część numeru"
    return "nieprawidłowy numer"


def _fail(field: str, why: str, value) -> ValidationError:
    label = LABELS.get(field, field)
    return ValidationError(f"{label}: {why} ({value}).", field=field)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def nip(value, field: str = "nip") -> str | None:
    if _blank(value):
        return None
    raw = str(value).strip()
    if raw.upper().startswith("PL"):
        raw = raw[2:]
    try:
        return pl_nip.validate(raw)
    except StdnumError as exc:
        raise _fail(field, _why(exc), value)


def regon(value, field: str = "regon") -> str | None:
    if _blank(value):
        return None
    try:
        return pl_regon.validate(str(value))
    except StdnumError as exc:
        raise _fail(field, _why(exc), value)


def pesel(value, field: str = "pesel") -> str | None:
    if _blank(value):
        return None
    try:
        return pl_pesel.validate(str(value))
    except StdnumError as exc:
        raise _fail(field, _why(exc), value)


def pesel_birth_date(value: str) -> dt.date | None:
    try:
        return pl_pesel.get_birth_date(value)
    except (StdnumError, ValueError):
        return None


def krs(value, field: str = "krs") -> str | None:
    if _blank(value):
        return None
    digits = "".join(str(value).split())
    if not digits.isdigit() or len(digits) > 10:
        raise _fail(field, "numer KRS to do 10 cyfr", value)
    return digits.zfill(10)


def vat_eu(value, field: str = "vat_eu") -> str | None:
    if _blank(value):
        return None
    try:
        return eu_vat.validate(str(value))
    except StdnumError as exc:
        raise _fail(field, _why(exc) + "; podaj numer z prefiksem kraju, np. DE123456789",
                    value)


def iban(value, field: str = "iban") -> str | None:
    if _blank(value):
        return None
    raw = str(value).strip().replace(" ", "")
    if raw.isdigit() and len(raw) == 26:      # a Polish NRB without the country code
        raw = "PL" + raw
    try:
        return std_iban.validate(raw)
    except StdnumError as exc:
        raise _fail(field, _why(exc), value)


def phone(value, field: str = "phone") -> str | None:
    if _blank(value):
        return None
    try:
        num = phonenumbers.parse(str(value), "PL")
    except phonenumbers.NumberParseException:
        raise _fail(field, "to nie jest numer telefonu", value)
    if not phonenumbers.is_valid_number(num):
        raise _fail(field, "nieprawidłowy numer telefonu", value)
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


def email(value, field: str = "email") -> str | None:
    if _blank(value):
        return None
    try:
        return validate_email(str(value).strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise _fail(field, f"nieprawidłowy adres ({exc})", value)


def postal_code(value, country: str | None = "PL", field: str = "postal_code") -> str | None:
    if _blank(value):
        return None
    raw = str(value).strip()
    if (country or "PL") == "PL":
        digits = raw.replace("-", "")
        if len(digits) != 5 or not digits.isdigit():
            raise _fail(field, "format 00-000", value)
        return f"{digits[:2]}-{digits[2:]}"
    return raw


VALIDATORS = {"nip": nip, "regon": regon, "pesel": pesel, "krs": krs, "vat_eu": vat_eu,
              "iban": iban, "phone": phone, "email": email, "offer_email": email,
              "documents_email": email, "sms_phone": phone}


def normalise(values: dict, fields=None) -> dict:
    """Validate and normalise every known identifier in ``values`` (in place)."""
    for name in list(values):
        if fields is not None and name not in fields:
            continue
        fn = VALIDATORS.get(name)
        if fn is not None:
            values[name] = fn(values[name], field=name)
    return values
