"""Client of the MF VAT White List („Biała lista podatników VAT”, Wykaz podatników VAT).

Follows the official document of the Polish Ministry of Finance *„Wykaz podmiotów
zarejestrowanych jako podatnicy VAT, niezarejestrowanych oraz wykreślonych i przywróconych do
rejestru VAT — API, specyfikacja”* (OpenAPI, version 1.3.x) at ``https://wl-api.mf.gov.pl``.

* ``GET /api/search/nip/{nip}?date=YYYY-MM-DD`` / ``/api/search/regon/{regon}`` /
  ``/api/search/bank-account/{nrb}`` → ``{"result": {"subject": {...} | null,
  "requestId": …, "requestDateTime": "dd-MM-yyyy HH:mm:ss"}}`` (bank-account: ``subjects``).
* Batch: ``/api/search/nips/{nip,nip,…}``, ``/api/search/regons/{…}``,
  ``/api/search/bank-accounts/{…}`` (at most 30 identifiers) → ``result.entries``
  ``[{"identifier", "subjects": [...]}]``.
* ``GET /api/check/nip/{nip}/bank-account/{nrb}?date=`` (and ``/check/regon/…``) →
  ``{"result": {"accountAssigned": "TAK" | "NIE", "requestId", "requestDateTime"}}``.
* Errors: HTTP 400 ``{"code": "WL-1xx", "message": "…"}``; 429 / 5xx are temporary.

``requestId`` and ``requestDateTime`` are always kept: the ``requestId`` is the evidence of the
check required by the split-payment / due-diligence rules. A subject that is not on the list is
returned as ``subject=None`` (with its ``requestId``), not as an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import httpx

from ._http import DEFAULT_TIMEOUT, BaseClient, parse_retry_after
from .errors import (
    InvalidNumber,
    RateLimited,
    RegistryError,
    Retryable,
    TooManyIdentifiers,
)
from .models import blank_to_none, parse_date
from .numbers import clean_nip, clean_nrb, clean_regon

WL_PRODUCTION_URL = "https://wl-api.mf.gov.pl"
WL_TEST_URL = "https://wl-test.mf.gov.pl"
#: Identifiers per batch request.
MAX_BATCH = 30

SOURCE = "Biała lista VAT"
logger = logging.getLogger("kartoteka.registries.whitelist")

STATUS_VAT_ACTIVE = "Czynny"
STATUS_VAT_EXEMPT = "Zwolniony"
STATUS_VAT_UNREGISTERED = "Niezarejestrowany"


@dataclass
class WhiteListPerson:
    """A representative, authorised clerk or partner."""

    company_name: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    nip: str | None = None
    pesel: str | None = None

    @property
    def display_name(self) -> str:
        if self.company_name:
            return self.company_name
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass
class WhiteListSubject:
    """``result.subject``: one entity of the VAT taxpayers list."""

    name: str
    nip: str | None
    status_vat: str | None
    regon: str | None = None
    pesel: str | None = None
    krs: str | None = None
    residence_address: str | None = None
    working_address: str | None = None
    representatives: list[WhiteListPerson] = field(default_factory=list)
    authorized_clerks: list[WhiteListPerson] = field(default_factory=list)
    partners: list[WhiteListPerson] = field(default_factory=list)
    registration_legal_date: date | None = None
    registration_denial_date: date | None = None
    registration_denial_basis: str | None = None
    restoration_date: date | None = None
    restoration_basis: str | None = None
    removal_date: date | None = None
    removal_basis: str | None = None
    account_numbers: list[str] = field(default_factory=list)
    has_virtual_accounts: bool | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def is_active_vat_payer(self) -> bool:
        return self.status_vat == STATUS_VAT_ACTIVE


@dataclass
class WhiteListSearchResult:
    """Answer of a single search (NIP / REGON)."""

    subject: WhiteListSubject | None
    request_id: str
    request_date_time: datetime | None
    request_date_time_raw: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return self.subject is not None


@dataclass
class WhiteListSubjectsResult:
    """Answer of a search returning several subjects (by bank account)."""

    subjects: list[WhiteListSubject]
    request_id: str
    request_date_time: datetime | None
    request_date_time_raw: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class WhiteListEntry:
    """One identifier of a batch search with its subjects (or its error)."""

    identifier: str
    subjects: list[WhiteListSubject] = field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None


@dataclass
class WhiteListBatchResult:
    entries: list[WhiteListEntry]
    request_id: str
    request_date_time: datetime | None
    request_date_time_raw: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def by_identifier(self) -> dict[str, WhiteListEntry]:
        return {entry.identifier: entry for entry in self.entries}


@dataclass
class WhiteListCheckResult:
    """Answer of ``/api/check/…``: is the account assigned to the taxpayer?"""

    account_assigned: bool
    request_id: str
    request_date_time: datetime | None
    request_date_time_raw: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)


class WhiteListClient(BaseClient):
    """Client of the VAT White List API.

    ``WhiteListClient(base_url=WL_PRODUCTION_URL, *, timeout=10.0, client=None)``; every method
    takes ``on`` (the date the status is asked for; default: today).
    """

    source_name = SOURCE
    logger = logger

    def __init__(self, base_url: str = WL_PRODUCTION_URL, *, timeout: float = DEFAULT_TIMEOUT,
                 client: httpx.Client | None = None) -> None:
        super().__init__(timeout=timeout, client=client)
        self.base_url = base_url.rstrip("/")

    # -- search --------------------------------------------------------------------------------
    def search_nip(self, nip: str, on: date | None = None) -> WhiteListSearchResult:
        return self._single(f"/api/search/nip/{clean_nip(nip)}", on)

    def search_regon(self, regon: str, on: date | None = None) -> WhiteListSearchResult:
        return self._single(f"/api/search/regon/{clean_regon(regon)}", on)

    def search_bank_account(self, account: str,
                            on: date | None = None) -> WhiteListSubjectsResult:
        result = self._get(f"/api/search/bank-account/{clean_nrb(account)}", on)
        subjects = result.get("subjects") or []
        if not isinstance(subjects, list):
            raise self._malformed("pole „subjects” nie jest listą")
        return WhiteListSubjectsResult(
            subjects=[self._subject(item) for item in subjects],
            **self._request_meta(result))

    def search_nips(self, nips: list[str], on: date | None = None) -> WhiteListBatchResult:
        return self._batch("nips", [clean_nip(n) for n in nips], on)

    def search_regons(self, regons: list[str], on: date | None = None) -> WhiteListBatchResult:
        return self._batch("regons", [clean_regon(r) for r in regons], on)

    def search_bank_accounts(self, accounts: list[str],
                             on: date | None = None) -> WhiteListBatchResult:
        return self._batch("bank-accounts", [clean_nrb(a) for a in accounts], on)

    # -- check ---------------------------------------------------------------------------------
    def check_nip_account(self, nip: str, account: str,
                          on: date | None = None) -> WhiteListCheckResult:
        """Is the bank account on the list for this NIP (``accountAssigned`` TAK/NIE)?"""
        nip, account = clean_nip(nip), clean_nrb(account)
        return self._check(f"/api/check/nip/{nip}/bank-account/{account}", on)

    def check_regon_account(self, regon: str, account: str,
                            on: date | None = None) -> WhiteListCheckResult:
        regon, account = clean_regon(regon), clean_nrb(account)
        return self._check(f"/api/check/regon/{regon}/bank-account/{account}", on)

    # -- plumbing ------------------------------------------------------------------------------
    def _single(self, path: str, on: date | None) -> WhiteListSearchResult:
        result = self._get(path, on)
        subject = result.get("subject")
        if subject is not None and not isinstance(subject, dict):
            raise self._malformed("pole „subject” nie jest obiektem")
        return WhiteListSearchResult(
            subject=self._subject(subject) if subject else None, **self._request_meta(result))

    def _batch(self, kind: str, identifiers: list[str], on: date | None) -> WhiteListBatchResult:
        unique = list(dict.fromkeys(identifiers))
        if not unique:
            raise RegistryError("Nie podano żadnych identyfikatorów do sprawdzenia.",
                                source=SOURCE)
        if len(unique) > MAX_BATCH:
            raise TooManyIdentifiers(
                f"Białą listę VAT można zapytać najwyżej o {MAX_BATCH} identyfikatorów naraz "
                f"(podano {len(unique)}).", source=SOURCE, limit=MAX_BATCH)
        result = self._get(f"/api/search/{kind}/{quote(','.join(unique), safe=',')}", on)
        entries: list[WhiteListEntry] = []
        raw_entries = result.get("entries")
        if isinstance(raw_entries, list):
            for item in raw_entries:
                if not isinstance(item, dict):
                    raise self._malformed("wpis „entries” nie jest obiektem")
                error = item.get("error") if isinstance(item.get("error"), dict) else {}
                entries.append(WhiteListEntry(
                    identifier=str(item.get("identifier") or ""),
                    subjects=[self._subject(s) for s in item.get("subjects") or []],
                    error_code=blank_to_none(error.get("code")),
                    error_message=blank_to_none(error.get("message"))))
        elif isinstance(result.get("subjects"), list):
            # older shape: a flat list of subjects; group them by the identifier asked for
            subjects = [self._subject(item) for item in result["subjects"]]
            field_name = {"nips": "nip", "regons": "regon"}.get(kind)
            for identifier in unique:
                if field_name:
                    matching = [s for s in subjects if getattr(s, field_name) == identifier]
                else:
                    matching = [s for s in subjects if identifier in s.account_numbers]
                entries.append(WhiteListEntry(identifier=identifier, subjects=matching))
        else:
            raise self._malformed("brak pola „entries”")
        return WhiteListBatchResult(entries=entries, **self._request_meta(result))

    def _check(self, path: str, on: date | None) -> WhiteListCheckResult:
        result = self._get(path, on)
        assigned = str(result.get("accountAssigned") or "").strip().upper()
        if assigned not in ("TAK", "NIE"):
            raise self._malformed("brak pola „accountAssigned”")
        return WhiteListCheckResult(account_assigned=assigned == "TAK",
                                    **self._request_meta(result))

    def _get(self, path: str, on: date | None) -> dict[str, Any]:
        day = (on or date.today()).isoformat()
        response = self._send("GET", self.base_url + path, params={"date": day},
                              headers={"Accept": "application/json"})
        status = response.status_code
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise RateLimited(
                "Przekroczono limit zapytań do białej listy VAT. Spróbuj ponownie później.",
                source=SOURCE, code="429", retry_after=retry_after)
        if status >= 500:
            code, message = _error(response)
            raise Retryable(
                f"Biała lista VAT (Ministerstwo Finansów) jest chwilowo niedostępna "
                f"(HTTP {status}). Spróbuj ponownie później.",
                source=SOURCE, code=code or f"HTTP-{status}", details=message)
        if status >= 400:
            code, message = _error(response)
            raise error_for(code, message, status)
        data = self._json(response)
        result = data.get("result") if isinstance(data, dict) else None
        if not isinstance(result, dict):
            raise self._malformed("brak obiektu „result”", response=response)
        if not blank_to_none(result.get("requestId")):
            raise self._malformed("brak identyfikatora zapytania (requestId)", response=response)
        return result

    def _request_meta(self, result: dict[str, Any]) -> dict[str, Any]:
        raw_time = blank_to_none(result.get("requestDateTime"))
        return {"request_id": str(result["requestId"]),
                "request_date_time": _parse_datetime(raw_time),
                "request_date_time_raw": raw_time,
                "raw": result}

    def _subject(self, item: Any) -> WhiteListSubject:
        if not isinstance(item, dict):
            raise self._malformed("podmiot nie jest obiektem")
        accounts = item.get("accountNumbers") or []
        if not isinstance(accounts, list):
            raise self._malformed("pole „accountNumbers” nie jest listą")
        virtual = item.get("hasVirtualAccounts")
        return WhiteListSubject(
            name=str(item.get("name") or "").strip(),
            nip=blank_to_none(item.get("nip")),
            status_vat=blank_to_none(item.get("statusVat")),
            regon=blank_to_none(item.get("regon")),
            pesel=blank_to_none(item.get("pesel")),
            krs=blank_to_none(item.get("krs")),
            residence_address=blank_to_none(item.get("residenceAddress")),
            working_address=blank_to_none(item.get("workingAddress")),
            representatives=_people(item.get("representatives")),
            authorized_clerks=_people(item.get("authorizedClerks")),
            partners=_people(item.get("partners")),
            registration_legal_date=parse_date(item.get("registrationLegalDate")),
            registration_denial_date=parse_date(item.get("registrationDenialDate")),
            registration_denial_basis=blank_to_none(item.get("registrationDenialBasis")),
            restoration_date=parse_date(item.get("restorationDate")),
            restoration_basis=blank_to_none(item.get("restorationBasis")),
            removal_date=parse_date(item.get("removalDate")),
            removal_basis=blank_to_none(item.get("removalBasis")),
            account_numbers=[str(a) for a in accounts],
            has_virtual_accounts=virtual if isinstance(virtual, bool) else None,
            raw=item,
        )


def error_for(code: str | None, message: str | None, status: int) -> RegistryError:
    """The error for a White List ``{"code": "WL-1xx", "message": …}`` answer."""
    detail = f": {message.rstrip('.')}." if message else "."
    label = f" ({code})" if code else f" (HTTP {status})"
    number = _code_number(code)
    if code == "WL-191":
        return RateLimited(
            "Wyczerpano dzienny limit zapytań do białej listy VAT dla tego adresu IP" + label
            + ". Spróbuj ponownie jutro.", source=SOURCE, code=code, details=message)
    if number == 100:
        return Retryable(f"Biała lista VAT zgłosiła błąd serwera{label}. Spróbuj ponownie "
                         "później.", source=SOURCE, code=code, details=message)
    if number is not None and 105 <= number <= 119:
        return InvalidNumber(f"Biała lista VAT odrzuciła identyfikator{label}{detail}",
                             source=SOURCE, code=code, kind="whitelist")
    if number is not None and 101 <= number <= 104:
        return RegistryError(f"Biała lista VAT odrzuciła datę zapytania{label}{detail}",
                             source=SOURCE, code=code)
    return RegistryError(f"Biała lista VAT odrzuciła zapytanie{label}{detail}",
                         source=SOURCE, code=code or f"HTTP-{status}")


def _code_number(code: str | None) -> int | None:
    if code and code.upper().startswith("WL-") and code[3:].isdigit():
        return int(code[3:])
    return None


def _error(response: httpx.Response) -> tuple[str | None, str | None]:
    try:
        data = response.json()
    except ValueError:
        return None, None
    if isinstance(data, dict) and isinstance(data.get("exception"), dict):
        data = data["exception"]
    if not isinstance(data, dict):
        return None, None
    return blank_to_none(data.get("code")), blank_to_none(data.get("message"))


def _people(items: Any) -> list[WhiteListPerson]:
    people = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            people.append(WhiteListPerson(
                company_name=blank_to_none(item.get("companyName")),
                first_name=blank_to_none(item.get("firstName")),
                last_name=blank_to_none(item.get("lastName")),
                nip=blank_to_none(item.get("nip")),
                pesel=blank_to_none(item.get("pesel"))))
    return people


def _parse_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    for pattern in ("%d-%m-%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(value[:19], pattern)
        except ValueError:
            continue
    return None


__all__ = [
    "MAX_BATCH",
    "STATUS_VAT_ACTIVE",
    "STATUS_VAT_EXEMPT",
    "STATUS_VAT_UNREGISTERED",
    "WL_PRODUCTION_URL",
    "WL_TEST_URL",
    "WhiteListBatchResult",
    "WhiteListCheckResult",
    "WhiteListClient",
    "WhiteListEntry",
    "WhiteListPerson",
    "WhiteListSearchResult",
    "WhiteListSubject",
    "WhiteListSubjectsResult",
    "error_for",
]
