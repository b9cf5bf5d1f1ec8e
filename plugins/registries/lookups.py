"""Asking the registries, with the per-day cache, and turning their answers into plain
JSON-able dicts (what the cache stores and the services read).

Every identifier is validated locally first (``sources.numbers``): a wrong check digit is a
``ValidationError`` and no request is made. Registry failures become domain errors with
the registry's Polish message (:func:`domain_error`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from core.errors import DomainError, NotFoundError, ValidationError

from . import cache
from .config import ceidg_client, get_settings, gus_client, vies_client, whitelist_client
from .models import CEIDG, GUS, VIES, WHITELIST
from .sources import (
    Address,
    AuthenticationError,
    CeidgFirm,
    GusEntity,
    InvalidNumber,
    NotFound,
    RegistryError,
    Retryable,
    ViesResult,
    WhiteListSubject,
    clean_krs,
    clean_nip,
    clean_nrb,
    clean_regon,
    clean_vat,
)


class RegistryUnavailable(DomainError):
    """The registry is down, slow or rate-limiting us: try again later."""

    status = 424
    title = "Rejestr niedostępny"


class RegistryFailure(DomainError):
    """The registry refused the query (configuration, key, unexpected answer)."""

    status = 424
    title = "Błąd rejestru"


def domain_error(exc: RegistryError) -> DomainError:
    """The domain error shown to the user for a registry failure (never a traceback)."""
    extra = {"source": exc.source, "code": exc.code}
    if isinstance(exc, InvalidNumber):
        field = {"nip": "nip", "regon": "regon", "krs": "krs", "vat": "vat_eu",
                 "account": "iban"}.get(getattr(exc, "kind", None) or "")
        return ValidationError(exc.message, field=field, **extra)
    if isinstance(exc, NotFound):
        return NotFoundError(exc.message, **extra)
    if isinstance(exc, Retryable):
        return RegistryUnavailable(exc.message, retryable=True, **extra)
    if isinstance(exc, AuthenticationError):
        return RegistryFailure(exc.message + " Administrator może to poprawić w ustawieniach "
                               "rejestrów.", **extra)
    return RegistryFailure(exc.message, **extra)


def validate(kind: str, value: str) -> str:
    """Clean an identifier locally (``nip``, ``regon``, ``krs``, ``nrb``) or raise a
    ValidationError naming the field."""
    fn = {"nip": clean_nip, "regon": clean_regon, "krs": clean_krs, "nrb": clean_nrb}[kind]
    try:
        return fn(value)
    except InvalidNumber as exc:
        raise domain_error(exc)


# -- serialisation ----------------------------------------------------------------------------

def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _country(value: str | None) -> str:
    text = (value or "").strip().upper()
    if text in ("", "POLSKA", "PL", "POLAND"):
        return "PL"
    return text[:2] if len(text) == 2 else "PL"


def address_dict(a: Address | None) -> dict | None:
    if a is None or not a:
        return None
    return {"street": a.street, "building": a.building_no, "unit": a.unit_no,
            "postal_code": a.postal_code, "city": a.city or a.post_office,
            "country": _country(a.country)}


LEGAL_FORMS = [
    ("SPÓŁKI Z OGRANICZONĄ ODPOWIEDZIALNOŚCIĄ", "spółka z ograniczoną odpowiedzialnością"),
    ("SPÓŁKI KOMANDYTOWO-AKCYJNE", "spółka komandytowo-akcyjna"),
    ("SPÓŁKI AKCYJNE", "spółka akcyjna"),
    ("SPÓŁKI JAWNE", "spółka jawna"),
    ("SPÓŁKI KOMANDYTOWE", "spółka komandytowa"),
    ("SPÓŁKI PARTNERSKIE", "spółka partnerska"),
    ("SPÓŁKI CYWILNE", "spółka cywilna"),
    ("OSOBY FIZYCZNE PROWADZĄCE DZIAŁALNOŚĆ", "jednoosobowa działalność gospodarcza"),
    ("SPÓŁDZIELNIE", "spółdzielnia"),
    ("FUNDACJE", "fundacja"),
    ("STOWARZYSZENIA", "stowarzyszenie"),
    ("PRZEDSIĘBIORSTWA PAŃSTWOWE", "przedsiębiorstwo państwowe"),
]


def legal_form(name: str | None) -> str | None:
    """GUS's plural category ("SPÓŁKI AKCYJNE") as the form of one entity."""
    if not name:
        return None
    upper = name.strip().upper()
    for prefix, singular in LEGAL_FORMS:
        if upper.startswith(prefix):
            return singular
    text = name.strip()
    return (text[:1].upper() + text[1:].lower())[:80]


def _pkd(entries) -> list[dict]:
    return [{"code": p.code, "name": p.name, "main": p.main} for p in entries]


def gus_payload(e: GusEntity) -> dict:
    return {"source": GUS, "regon": e.regon, "nip": e.nip, "krs": e.krs, "name": e.name,
            "short_name": e.short_name, "entity_type": e.entity_type,
            "legal_form": legal_form(e.legal_form), "legal_form_code": e.legal_form_code,
            "first_name": e.first_name, "last_name": e.last_name,
            "address": address_dict(e.address), "pkd": _pkd(e.pkd), "status": e.status,
            "start_date": _iso(e.start_date), "email": e.email, "phone": e.phone,
            "website": e.website}


def ceidg_payload(f: CeidgFirm) -> dict:
    return {"source": CEIDG, "regon": f.regon, "nip": f.nip, "krs": None, "name": f.name,
            "short_name": None, "entity_type": "F",
            "legal_form": "jednoosobowa działalność gospodarcza", "legal_form_code": "099",
            "first_name": f.first_name, "last_name": f.last_name,
            "address": address_dict(f.address), "pkd": _pkd(f.pkd), "status": f.status,
            "start_date": _iso(f.start_date), "email": f.email, "phone": f.phone,
            "website": f.website, "ceidg_id": f.id, "link": f.link}


def vies_payload(r: ViesResult) -> dict:
    return {"source": VIES, "country_code": r.country_code, "vat_number": r.vat_number,
            "valid": r.valid, "name": r.name, "address": r.address,
            "request_date": _iso(r.request_date), "request_id": r.request_identifier,
            "requester": r.requester, "endpoint": r.source}


def subject_dict(s: WhiteListSubject | None) -> dict | None:
    if s is None:
        return None
    return {"name": s.name, "nip": s.nip, "regon": s.regon, "krs": s.krs,
            "status_vat": s.status_vat, "working_address": s.working_address,
            "residence_address": s.residence_address,
            "registration_legal_date": _iso(s.registration_legal_date),
            "removal_date": _iso(s.removal_date), "removal_basis": s.removal_basis,
            "account_numbers": list(s.account_numbers),
            "has_virtual_accounts": s.has_virtual_accounts}


# -- the questions --------------------------------------------------------------------------

def _ask(fn):
    try:
        return fn()
    except RegistryError as exc:
        raise domain_error(exc)


def lookup_gus(session: Session, *, nip: str | None = None, regon: str | None = None,
               krs: str | None = None, day: dt.date | None = None,
               use_cache: bool = True) -> tuple[dict, bool]:
    """The entity in GUS (REGON) by NIP, REGON or KRS: ``(payload, from_cache)``."""
    kind, number = _identifier(nip=nip, regon=regon, krs=krs)
    settings = get_settings(session)

    def fetch() -> dict:
        def call():
            with gus_client(settings) as client:
                found = {"nip": client.lookup_nip, "regon": client.lookup_regon,
                         "krs": client.lookup_krs}[kind](number)
                return gus_payload(found)
        return _ask(call)

    return cache.cached(session, GUS, f"{kind}:{number}", day or cache.today(), fetch,
                        use_cache=use_cache)


def lookup_ceidg(session: Session, *, nip: str | None = None, regon: str | None = None,
                 day: dt.date | None = None, use_cache: bool = True) -> tuple[dict, bool]:
    """The business in CEIDG by NIP or REGON: ``(payload, from_cache)``."""
    kind, number = _identifier(nip=nip, regon=regon)
    settings = get_settings(session)
    if not settings.ceidg_token:
        raise RegistryFailure("Nie skonfigurowano tokenu dostępu do API CEIDG. Administrator "
                              "wpisuje go w ustawieniach rejestrów.", source="CEIDG")

    def fetch() -> dict:
        def call():
            with ceidg_client(settings) as client:
                found = {"nip": client.lookup_nip, "regon": client.lookup_regon}[kind](number)
                return ceidg_payload(found)
        return _ask(call)

    return cache.cached(session, CEIDG, f"{kind}:{number}", day or cache.today(), fetch,
                        use_cache=use_cache)


def lookup_vies(session: Session, vat_number: str, *, day: dt.date | None = None,
                use_cache: bool = True) -> tuple[dict, bool]:
    """VIES for an EU VAT number with its country prefix (``PL7740001454``)."""
    try:
        country, number = clean_vat(vat_number)
    except InvalidNumber as exc:
        raise domain_error(exc)
    settings = get_settings(session)

    def fetch() -> dict:
        def call():
            with vies_client(settings) as client:
                return vies_payload(client.check(number, country))
        return _ask(call)

    return cache.cached(session, VIES, country + number, day or cache.today(), fetch,
                        use_cache=use_cache)


def whitelist_answer(result) -> dict:
    return {"source": WHITELIST, "subject": subject_dict(result.subject),
            "request_id": result.request_id,
            "request_date_time": result.request_date_time_raw}


def lookup_whitelist(session: Session, nip: str, *, day: dt.date | None = None,
                     use_cache: bool = True) -> tuple[dict, bool]:
    """The VAT White List entry of a NIP on ``day``: ``{"subject": {...} | None,
    "request_id", ...}``."""
    nip = validate("nip", nip)
    day = day or cache.today()
    settings = get_settings(session)

    def fetch() -> dict:
        def call():
            with whitelist_client(settings) as client:
                return whitelist_answer(client.search_nip(nip, on=day))
        return _ask(call)

    return cache.cached(session, WHITELIST, f"nip:{nip}", day, fetch, use_cache=use_cache)


def prefetch_whitelist(session: Session, nips: list[str], *, day: dt.date | None = None
                       ) -> int:
    """Ask the White List about many NIPs at once (batches of 30) and cache each answer
    under its own NIP with the batch's request id; returns how many were asked. Failures
    are left to the per-client checks that follow."""
    from .sources.whitelist import MAX_BATCH
    day = day or cache.today()
    wanted = []
    for raw in nips:
        try:
            nip = clean_nip(raw)
        except InvalidNumber:
            continue
        if nip not in wanted and cache.get(session, WHITELIST, f"nip:{nip}", day) is None:
            wanted.append(nip)
    if not wanted:
        return 0
    settings = get_settings(session)
    asked = 0
    try:
        with whitelist_client(settings) as client:
            for start in range(0, len(wanted), MAX_BATCH):
                chunk = wanted[start:start + MAX_BATCH]
                batch = client.search_nips(chunk, on=day)
                entries = batch.by_identifier()
                for nip in chunk:
                    entry = entries.get(nip)
                    if entry is None or entry.error_code:
                        continue
                    subject = entry.subjects[0] if entry.subjects else None
                    cache.put(session, WHITELIST, f"nip:{nip}", day, {
                        "source": WHITELIST, "subject": subject_dict(subject),
                        "request_id": batch.request_id,
                        "request_date_time": batch.request_date_time_raw, "batch": True})
                    asked += 1
    except RegistryError:
        pass
    return asked


def check_account(session: Session, nip: str, account: str, *, day: dt.date | None = None,
                  use_cache: bool = True) -> tuple[dict, bool]:
    """Is ``account`` (NRB or PL IBAN) on the White List for ``nip`` on ``day``?"""
    nip, nrb = validate("nip", nip), validate("nrb", account)
    day = day or cache.today()
    settings = get_settings(session)

    def fetch() -> dict:
        def call():
            with whitelist_client(settings) as client:
                result = client.check_nip_account(nip, nrb, on=day)
                return {"source": WHITELIST, "nip": nip, "account": nrb,
                        "assigned": result.account_assigned, "request_id": result.request_id,
                        "request_date_time": result.request_date_time_raw}
        return _ask(call)

    return cache.cached(session, "whitelist_check", f"{nip}:{nrb}", day, fetch,
                        use_cache=use_cache)


def _identifier(**numbers: Any) -> tuple[str, str]:
    for kind, value in numbers.items():
        if value not in (None, ""):
            return kind, validate(kind, value)
    raise ValidationError("Podaj NIP, REGON albo KRS, aby pobrać dane z rejestru.",
                          field="nip")
