"""CEIDG API v3 client: the Central Register and Information on Economic Activity
(Centralna Ewidencja i Informacja o Działalności Gospodarczej), served by the Ministry of
Development as *Hurtownia Danych CEIDG* at ``dane.biznes.gov.pl``.

Follows the official document *„Hurtownia Danych CEIDG — API v3. Dokumentacja dla
integratorów”* (Ministerstwo Rozwoju i Technologii, biznes.gov.pl) and its OpenAPI description.

* REST/JSON over HTTPS, ``Authorization: Bearer <token>`` (the JWT issued to the integrator).
* ``GET {base}/firmy?nip=…`` / ``?regon=…`` — a short list ``{"firmy": [...], "count": …,
  "links": {...}}``; ``GET {base}/firma/{id}`` — the full record ``{"firma": [{...}]}``.
* 204 No Content (or 404) — nothing found. 400 — ``{"code": "NIEPOPRAWNY_NUMER_NIP", …}``.
  401/403 — bad token. 429 — rate limited (1000 requests / 60 min per token): the client
  honours ``Retry-After`` with a bounded number of retries, then raises :class:`RateLimited`.
  5xx / maintenance HTML — :class:`Retryable`.

Only natural-person businesses (and partners of civil partnerships) are in CEIDG; companies
(sp. z o.o., S.A.) are not.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx

from ._http import DEFAULT_TIMEOUT, BaseClient, parse_retry_after
from .errors import (
    AuthenticationError,
    InvalidNumber,
    MalformedResponse,
    NotFound,
    RateLimited,
    RegistryError,
    Retryable,
)
from .models import (
    STATUS_ACTIVE,
    STATUS_PENDING,
    STATUS_SUSPENDED,
    Address,
    PkdCode,
    blank_to_none,
    normalise_pkd,
    parse_date,
)
from .numbers import clean_nip, clean_regon

CEIDG_PRODUCTION_URL = "https://dane.biznes.gov.pl/api/ceidg/v3"
CEIDG_TEST_URL = "https://test-dane.biznes.gov.pl/api/ceidg/v3"

SOURCE = "CEIDG"
logger = logging.getLogger("kartoteka.registries.ceidg")

_FIRM_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$")
_INVALID_INPUT_CODES = {
    "NIEPOPRAWNY_NUMER_NIP": "nip",
    "NIEPOPRAWNY_NUMER_REGON": "regon",
    "NIEPOPRAWNY_IDENTYFIKATOR": "id",
}


@dataclass
class CeidgFirmSummary:
    """One entry of ``GET /firmy`` (short view)."""

    id: str
    name: str
    nip: str | None
    regon: str | None
    first_name: str | None
    last_name: str | None
    status: str | None
    start_date: date | None
    address: Address
    link: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class CeidgFirm:
    """A full CEIDG record (``GET /firma/{id}``)."""

    id: str
    name: str
    nip: str | None
    regon: str | None
    first_name: str | None
    last_name: str | None
    status: str | None
    address: Address
    correspondence_address: Address | None = None
    pkd: list[PkdCode] = field(default_factory=list)
    start_date: date | None = None
    suspension_date: date | None = None
    resumption_date: date | None = None
    end_date: date | None = None
    removal_date: date | None = None
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    link: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def owner_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    @property
    def main_pkd(self) -> PkdCode | None:
        return next((entry for entry in self.pkd if entry.main), None)


class CeidgClient(BaseClient):
    """Client of the CEIDG API v3.

    ``CeidgClient(token, base_url=CEIDG_PRODUCTION_URL, timeout=10.0, client=None,
    max_retries=2, max_retry_wait=30.0, sleep=time.sleep)``: on HTTP 429 the client waits
    ``Retry-After`` seconds (default 1 s when absent) and retries at most ``max_retries`` times;
    a longer requested wait, or exhausted retries, raise :class:`RateLimited`.
    """

    source_name = SOURCE
    logger = logger

    def __init__(self, token: str, base_url: str = CEIDG_PRODUCTION_URL, *,
                 timeout: float = DEFAULT_TIMEOUT, client: httpx.Client | None = None,
                 max_retries: int = 2, max_retry_wait: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not token:
            raise AuthenticationError("Nie skonfigurowano tokenu dostępu do API CEIDG.",
                                      source=SOURCE)
        super().__init__(timeout=timeout, client=client)
        self.token = token
        self.base_url = base_url.rstrip("/")
        self.max_retries = max(0, int(max_retries))
        self.max_retry_wait = max_retry_wait
        self._sleep = sleep

    # -- public API ----------------------------------------------------------------------------
    def search_nip(self, nip: str) -> list[CeidgFirmSummary]:
        """Businesses with this NIP (empty list when none)."""
        return self._search({"nip": clean_nip(nip)})

    def search_regon(self, regon: str) -> list[CeidgFirmSummary]:
        """Businesses with this REGON (empty list when none)."""
        return self._search({"regon": clean_regon(regon)})

    def firm(self, firm_id: str) -> CeidgFirm:
        """The full record of one business; :class:`NotFound` when there is none."""
        firm_id = str(firm_id or "").strip()
        if not _FIRM_ID.match(firm_id):
            raise InvalidNumber(f"Nieprawidłowy identyfikator wpisu CEIDG „{firm_id[:40]}”.",
                                kind="id", value=firm_id, source=SOURCE)
        data = self._get(f"/firma/{quote(firm_id, safe='')}", {})
        records = _records(data, "firma") if data is not None else []
        if not records:
            raise NotFound(f"Nie znaleziono wpisu o identyfikatorze {firm_id} w CEIDG.",
                           source=SOURCE)
        return self._firm(records[0])

    def lookup_nip(self, nip: str) -> CeidgFirm:
        """The (best) business with this NIP, in full; :class:`NotFound` when none."""
        nip = clean_nip(nip)
        found = self.search_nip(nip)
        if not found:
            raise NotFound(f"Nie znaleziono działalności gospodarczej o NIP {nip} w CEIDG.",
                           source=SOURCE)
        return self.firm(_best(found).id)

    def lookup_regon(self, regon: str) -> CeidgFirm:
        regon = clean_regon(regon)
        found = self.search_regon(regon)
        if not found:
            raise NotFound(
                f"Nie znaleziono działalności gospodarczej o numerze REGON {regon} w CEIDG.",
                source=SOURCE)
        return self.firm(_best(found).id)

    # -- plumbing ------------------------------------------------------------------------------
    def _search(self, params: dict[str, str]) -> list[CeidgFirmSummary]:
        data = self._get("/firmy", params)
        if data is None:
            return []
        return [self._summary(item) for item in _records(data, "firmy")]

    def _get(self, path: str, params: dict[str, str]) -> Any:
        """GET with the rate-limit protocol; returns parsed JSON or None (204/404)."""
        url = self.base_url + path
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        attempt = 0
        while True:
            response = self._send("GET", url, params=params, headers=headers)
            status = response.status_code
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if status == 429 or (status == 403 and retry_after is not None):
                wait = 1.0 if retry_after is None else retry_after
                if attempt >= self.max_retries or wait > self.max_retry_wait:
                    raise RateLimited(
                        "Przekroczono limit zapytań do CEIDG. Spróbuj ponownie za "
                        f"{_seconds(wait)}.", source=SOURCE, code="429", retry_after=wait)
                attempt += 1
                logger.info("CEIDG: rate limited, retry %d in %.1f s", attempt, wait)
                self._sleep(wait)
                continue
            return self._handle(response)

    def _handle(self, response: httpx.Response) -> Any:
        status = response.status_code
        if status in (204, 404):
            return None
        if status in (401, 403):
            raise AuthenticationError(
                "CEIDG odrzuciła token dostępu (nieprawidłowy, wygasły albo cofnięty). "
                "Wygeneruj nowy token w portalu dane.biznes.gov.pl.",
                source=SOURCE, code=str(status))
        if status >= 500 or status == 408:
            raise Retryable(
                f"Usługa CEIDG jest chwilowo niedostępna (HTTP {status}, np. przerwa "
                "techniczna). Spróbuj ponownie później.", source=SOURCE, code=f"HTTP-{status}")
        if status >= 400:
            code, message = _error_body(response)
            if code in _INVALID_INPUT_CODES:
                raise InvalidNumber(
                    f"CEIDG odrzuciła numer jako nieprawidłowy ({message or code}).",
                    kind=_INVALID_INPUT_CODES[code], source=SOURCE, code=code)
            raise RegistryError(
                "CEIDG odrzuciła zapytanie"
                + (f": {message}" if message else f" (HTTP {status}).")
                + (f" [{code}]" if code else ""), source=SOURCE, code=code or f"HTTP-{status}")
        data = self._json(response)
        if not isinstance(data, dict):
            raise self._malformed("oczekiwano obiektu JSON", response=response)
        return data

    def _summary(self, item: Any) -> CeidgFirmSummary:
        if not isinstance(item, dict) or not item.get("id"):
            raise self._malformed("wpis bez identyfikatora")
        owner = item.get("wlasciciel") if isinstance(item.get("wlasciciel"), dict) else {}
        return CeidgFirmSummary(
            id=str(item["id"]),
            name=str(item.get("nazwa") or "").strip(),
            nip=blank_to_none(owner.get("nip") or item.get("nip")),
            regon=blank_to_none(owner.get("regon") or item.get("regon")),
            first_name=blank_to_none(owner.get("imie")),
            last_name=blank_to_none(owner.get("nazwisko")),
            status=blank_to_none(item.get("status")),
            start_date=parse_date(item.get("dataRozpoczecia")),
            address=_address(item.get("adresDzialalnosci")),
            link=blank_to_none(item.get("link")),
            raw=item,
        )

    def _firm(self, item: Any) -> CeidgFirm:
        summary = self._summary(item)
        correspondence = item.get("adresKorespondencyjny")
        return CeidgFirm(
            id=summary.id,
            name=summary.name,
            nip=summary.nip,
            regon=summary.regon,
            first_name=summary.first_name,
            last_name=summary.last_name,
            status=summary.status,
            address=summary.address,
            correspondence_address=_address(correspondence) if correspondence else None,
            pkd=_pkd(item.get("pkd"), item.get("pkdGlowny")),
            start_date=summary.start_date,
            suspension_date=parse_date(item.get("dataZawieszenia")),
            resumption_date=parse_date(item.get("dataWznowienia")),
            end_date=parse_date(item.get("dataZakonczenia")),
            removal_date=parse_date(item.get("dataWykreslenia")),
            email=blank_to_none(item.get("email")),
            phone=blank_to_none(item.get("telefon")),
            website=blank_to_none(item.get("www")),
            link=summary.link,
            raw=item,
        )


def _records(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return value
    raise MalformedResponse(
        f"Usługa CEIDG zwróciła odpowiedź, której nie da się odczytać (pole „{key}” ma "
        "nieoczekiwany typ). Spróbuj ponownie później.", source=SOURCE)


def _address(value: Any) -> Address:
    if not isinstance(value, dict):
        return Address()
    return Address(
        street=blank_to_none(value.get("ulica")),
        building_no=blank_to_none(value.get("budynek")),
        unit_no=blank_to_none(value.get("lokal")),
        postal_code=blank_to_none(value.get("kod") or value.get("kodPocztowy")),
        city=blank_to_none(value.get("miasto")),
        post_office=blank_to_none(value.get("poczta")),
        voivodeship=blank_to_none(value.get("wojewodztwo")),
        county=blank_to_none(value.get("powiat")),
        commune=blank_to_none(value.get("gmina")),
        country=blank_to_none(value.get("kraj")),
    )


def _pkd_parts(value: Any) -> tuple[str | None, str | None]:
    if isinstance(value, dict):
        return normalise_pkd(value.get("kod")), blank_to_none(value.get("nazwa"))
    if isinstance(value, str):
        return normalise_pkd(value), None
    return None, None


def _pkd(items: Any, main: Any) -> list[PkdCode]:
    main_code, main_name = _pkd_parts(main)
    result: list[PkdCode] = []
    seen: set[str] = set()
    if main_code:
        result.append(PkdCode(code=main_code, name=main_name, main=True))
        seen.add(main_code)
    for item in items if isinstance(items, list) else []:
        code, name = _pkd_parts(item)
        if code and code not in seen:
            seen.add(code)
            result.append(PkdCode(code=code, name=name, main=False))
    return result


def _error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        data = response.json()
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    return blank_to_none(data.get("code")), blank_to_none(data.get("message"))


def _best(found: list[CeidgFirmSummary]) -> CeidgFirmSummary:
    order = {STATUS_ACTIVE: 0, STATUS_SUSPENDED: 1, STATUS_PENDING: 2}

    def rank(item: CeidgFirmSummary) -> tuple[int, int]:
        started = item.start_date.toordinal() if item.start_date else 0
        return order.get(item.status or "", 3), -started

    return min(found, key=rank)


def _seconds(value: float) -> str:
    seconds = max(1, round(value))
    return f"{seconds} s"


__all__ = [
    "CEIDG_PRODUCTION_URL",
    "CEIDG_TEST_URL",
    "CeidgClient",
    "CeidgFirm",
    "CeidgFirmSummary",
]
