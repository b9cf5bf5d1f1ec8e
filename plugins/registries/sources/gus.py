"""GUS BIR 1.1 client: the REGON database of Statistics Poland (Główny Urząd Statystyczny).

Follows the official document *„BIR1.1 — Usługa Internetowa Wyszukiwarki REGON. Dokumentacja
dla Użytkowników zewnętrznych”* (GUS, service ``UslugaBIRzewnPubl``, WSDL
``UslugaBIRzewnPubl-ver11-prod.wsdl``) and its *„Pełne raporty BIR1.1”* report definitions.

Protocol summary, as implemented here:

* SOAP 1.2 over HTTPS ``POST``; ``Content-Type: application/soap+xml; charset=utf-8;
  action="<action>"``; the envelope carries the WS-Addressing headers ``wsa:To`` (the service
  URL) and ``wsa:Action``.
* ``Zaloguj(pKluczUzytkownika)`` returns a session id, which every later call sends as the
  **HTTP header** ``sid``. ``Wyloguj(pIdentyfikatorSesji)`` ends the session.
* ``DaneSzukajPodmioty(pParametryWyszukiwania)`` searches by ``Nip`` / ``Regon`` / ``Krs`` or by
  a list (``Nipy`` / ``Regony9zn`` / ``Regony14zn`` / ``Krsy``, at most 20 identifiers).
* ``DanePobierzPelnyRaport(pRegon, pNazwaRaportu)`` returns a full report; the report name
  depends on the entity type (``Typ``: P, F, LP, LF) and, for natural persons, the register
  (``SilosID``: 1 CEIDG, 2 agricultural, 3 other, 4 deleted before 2014-11-08).
* ``GetValue(pNazwaParametru)`` reads ``KomunikatKod`` / ``KomunikatTresc`` / ``StatusSesji`` /
  ``StatusUslugi`` / ``StanDanych``.
* Results are XML documents ``<root><dane>…</dane></root>`` escaped as text inside
  ``<…Result>``; the service answers in MTOM/XOP form (``multipart/related``), which is parsed
  as well as a plain SOAP body.
* Empty result + ``KomunikatKod`` 4 (or a ``<dane>`` row with ``ErrorCode`` 4) = nothing found;
  ``KomunikatKod`` 7 / empty with ``StatusSesji`` 0 = the session expired — the client logs in
  again once and retries; ``KomunikatKod`` 2 = too many identifiers.
"""

from __future__ import annotations

import base64
import email.message
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from lxml import etree

from ._http import DEFAULT_TIMEOUT, BaseClient
from .errors import (
    AuthenticationError,
    NotFound,
    RegistryError,
    Retryable,
    TooManyIdentifiers,
)
from .models import (
    STATUS_ACTIVE,
    STATUS_ENDED,
    STATUS_REMOVED,
    STATUS_SUSPENDED,
    Address,
    PkdCode,
    blank_to_none,
    normalise_pkd,
    parse_date,
)
from .numbers import clean_krs, clean_nip, clean_regon

GUS_PRODUCTION_URL = "https://wyszukiwarkaregon.stat.gov.pl/wsBIR/UslugaBIRzewnPubl.svc"
GUS_TEST_URL = "https://wyszukiwarkaregontest.stat.gov.pl/wsBIR/UslugaBIRzewnPubl.svc"
#: Public key of the GUS test environment (works only against :data:`GUS_TEST_URL`).
GUS_TEST_KEY = "abcde12345abcde12345"
#: Documented limit of identifiers in one ``Nipy`` / ``Regony9zn`` / ``Regony14zn`` / ``Krsy``.
MAX_IDENTIFIERS = 20

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_WSA = "http://www.w3.org/2005/08/addressing"
NS_BIR = "http://CIS/BIR/PUBL/2014/07"
NS_BIR_DATA = "http://CIS/BIR/PUBL/2014/07/DataContract"
NS_BIR_COMMON = "http://CIS/BIR/2014/07"
ACTION_PREFIX = "http://CIS/BIR/PUBL/2014/07/IUslugaBIRzewnPubl/"
ACTION_GET_VALUE = "http://CIS/BIR/2014/07/IUslugaBIR/GetValue"

SOURCE = "GUS (REGON)"
logger = logging.getLogger("kartoteka.registries.gus")


class Report:
    """Names of the BIR 1.1 full reports (``pNazwaRaportu``)."""

    LEGAL_PERSON = "BIR11OsPrawna"
    LEGAL_PERSON_PKD = "BIR11OsPrawnaPkd"
    LEGAL_PERSON_LOCAL_UNITS = "BIR11OsPrawnaListaJednLokalnych"
    CIVIL_PARTNERSHIP_PARTNERS = "BIR11OsPrawnaSpCywilnaWspolnicy"
    NATURAL_PERSON = "BIR11OsFizycznaDaneOgolne"
    NATURAL_PERSON_CEIDG = "BIR11OsFizycznaDzialalnoscCeidg"
    NATURAL_PERSON_AGRICULTURAL = "BIR11OsFizycznaDzialalnoscRolnicza"
    NATURAL_PERSON_OTHER = "BIR11OsFizycznaDzialalnoscPozostala"
    NATURAL_PERSON_DELETED = "BIR11OsFizycznaDzialalnoscSkreslonaDo20141108"
    NATURAL_PERSON_PKD = "BIR11OsFizycznaPkd"
    NATURAL_PERSON_LOCAL_UNITS = "BIR11OsFizycznaListaJednLokalnych"
    LOCAL_UNIT_LEGAL = "BIR11JednLokalnaOsPrawnej"
    LOCAL_UNIT_LEGAL_PKD = "BIR11JednLokalnaOsPrawnejPkd"
    LOCAL_UNIT_NATURAL = "BIR11JednLokalnaOsFizycznej"
    LOCAL_UNIT_NATURAL_PKD = "BIR11JednLokalnaOsFizycznejPkd"
    ENTITY_TYPE = "BIR11TypPodmiotu"


#: Activity report of a natural person by ``SilosID``.
ACTIVITY_REPORT_BY_SILO = {
    1: Report.NATURAL_PERSON_CEIDG,
    2: Report.NATURAL_PERSON_AGRICULTURAL,
    3: Report.NATURAL_PERSON_OTHER,
    4: Report.NATURAL_PERSON_DELETED,
}

#: ``szczegolnaFormaPrawna_Symbol`` of a civil-law partnership (spółka cywilna).
CIVIL_PARTNERSHIP_FORM = "019"

_TYPE_LABELS = {"P": "osoba prawna", "F": "osoba fizyczna", "LP": "jednostka lokalna osoby "
                "prawnej", "LF": "jednostka lokalna osoby fizycznej"}


# ---------------------------------------------------------------------------------------------
# Result types
# ---------------------------------------------------------------------------------------------
@dataclass
class GusSearchResult:
    """One ``<dane>`` row of ``DaneSzukajPodmioty``."""

    regon: str
    nip: str | None
    name: str
    entity_type: str  # P, F, LP, LF
    silo_id: int | None
    address: Address
    nip_status: str | None = None
    end_date: date | None = None
    raw: dict[str, str] = field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        return self.end_date is None and self.silo_id != 4


@dataclass
class GusPartner:
    """A partner of a civil-law partnership (report ``BIR11OsPrawnaSpCywilnaWspolnicy``)."""

    regon: str | None
    first_name: str | None = None
    second_name: str | None = None
    last_name: str | None = None
    company_name: str | None = None

    @property
    def display_name(self) -> str:
        if self.company_name:
            return self.company_name
        return " ".join(p for p in (self.first_name, self.second_name, self.last_name) if p)


@dataclass
class GusEntity:
    """A normalised entity assembled from the search row and the full reports."""

    regon: str
    name: str
    entity_type: str
    nip: str | None = None
    krs: str | None = None
    short_name: str | None = None
    silo_id: int | None = None
    legal_form: str | None = None
    legal_form_code: str | None = None
    basic_legal_form: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    address: Address = field(default_factory=Address)
    pkd: list[PkdCode] = field(default_factory=list)
    start_date: date | None = None
    suspension_date: date | None = None
    resumption_date: date | None = None
    end_date: date | None = None
    removal_date: date | None = None
    status: str = STATUS_ACTIVE
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    partners: list[GusPartner] = field(default_factory=list)
    #: ``{"search": {...}, "<report name>": [{...}, ...], ...}`` exactly as received.
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def main_pkd(self) -> PkdCode | None:
        return next((entry for entry in self.pkd if entry.main), None)


# ---------------------------------------------------------------------------------------------
# Envelope handling (module-level so that tests and the fake server can reuse the parsers)
# ---------------------------------------------------------------------------------------------
def _parser() -> etree.XMLParser:
    """A hardened parser (no entities, no DTD, no network); one per call — lxml parser objects
    must not be shared between threads."""
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True,
                           load_dtd=False, huge_tree=False)


def _q(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


def build_envelope(url: str, action: str, namespace: str, operation: str,
                   params: list[tuple[str, str]], search: list[tuple[str, str]] | None = None
                   ) -> bytes:
    """A SOAP 1.2 request envelope with the WS-Addressing ``To``/``Action`` headers."""
    nsmap = {"soap": NS_SOAP, "ns": namespace}
    if search is not None:
        nsmap["dat"] = NS_BIR_DATA
    envelope = etree.Element(_q(NS_SOAP, "Envelope"), nsmap=nsmap)
    header = etree.SubElement(envelope, _q(NS_SOAP, "Header"), nsmap={"wsa": NS_WSA})
    etree.SubElement(header, _q(NS_WSA, "To")).text = url
    etree.SubElement(header, _q(NS_WSA, "Action")).text = action
    body = etree.SubElement(envelope, _q(NS_SOAP, "Body"))
    op = etree.SubElement(body, _q(namespace, operation))
    for name, value in params:
        etree.SubElement(op, _q(namespace, name)).text = value
    if search is not None:
        criteria = etree.SubElement(op, _q(namespace, "pParametryWyszukiwania"))
        for name, value in search:
            etree.SubElement(criteria, _q(NS_BIR_DATA, name)).text = value
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _header_params(content_type: str) -> email.message.Message:
    message = email.message.Message()
    message["Content-Type"] = content_type
    return message


def extract_soap_part(body: bytes, content_type: str | None) -> bytes:
    """The SOAP envelope bytes of a response: the root part of a ``multipart/related``
    (MTOM/XOP) body, or the body itself when it is a plain SOAP message."""
    content_type = content_type or ""
    stripped = body.lstrip()
    if "multipart/" not in content_type.lower() and not stripped.startswith(b"--"):
        return body
    params = _header_params(content_type) if content_type else None
    boundary = params.get_param("boundary") if params is not None else None
    start = params.get_param("start") if params is not None else None
    if not boundary:
        first_line = stripped.split(b"\n", 1)[0].strip()
        if not first_line.startswith(b"--"):
            raise ValueError("multipart body without a boundary")
        boundary = first_line[2:].decode("ascii", "replace")
    delimiter = b"--" + str(boundary).encode("ascii", "replace")
    parts: list[tuple[dict[str, str], bytes]] = []
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        if b"\r\n\r\n" in chunk:
            head, payload = chunk.split(b"\r\n\r\n", 1)
        elif b"\n\n" in chunk:
            head, payload = chunk.split(b"\n\n", 1)
        else:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").splitlines():
            if ":" in line:
                key, value = line.split(":", 1)
                headers[key.strip().lower()] = value.strip()
        if payload.endswith(b"\r\n"):
            payload = payload[:-2]
        elif payload.endswith(b"\n"):
            payload = payload[:-1]
        if headers.get("content-transfer-encoding", "").lower() == "base64":
            payload = base64.b64decode(payload)
        parts.append((headers, payload))
    if not parts:
        raise ValueError("multipart body without parts")
    if start:
        wanted = str(start).strip("<>")
        for headers, payload in parts:
            if headers.get("content-id", "").strip("<>") == wanted:
                return payload
    for headers, payload in parts:
        if "xml" in headers.get("content-type", "").lower():
            return payload
    return parts[0][1]


def parse_rows(text: str) -> list[dict[str, str]]:
    """``<root><dane><A>1</A>…</dane>…</root>`` → ``[{"A": "1", …}, …]`` (empty → ``[]``)."""
    text = (text or "").strip()
    if not text:
        return []
    root = etree.fromstring(text.encode("utf-8"), _parser())
    rows = []
    for dane in root.iter("dane"):
        row: dict[str, str] = {}
        for child in dane:
            if isinstance(child.tag, str):
                row[etree.QName(child).localname] = (child.text or "").strip()
        rows.append(row)
    return rows


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------
class GusClient(BaseClient):
    """Client of the GUS BIR 1.1 service (``UslugaBIRzewnPubl``).

    ``GusClient(api_key, url=GUS_PRODUCTION_URL, timeout=10.0, client=None, max_batch=20)``.
    The session is opened lazily on the first data call and re-opened once if it expired.
    Use as a context manager (or call :meth:`close`) to log out and release the connection.
    """

    source_name = SOURCE
    logger = logger

    def __init__(self, api_key: str, url: str = GUS_PRODUCTION_URL, *,
                 timeout: float = DEFAULT_TIMEOUT, client: httpx.Client | None = None,
                 max_batch: int = MAX_IDENTIFIERS) -> None:
        if not api_key:
            raise AuthenticationError("Nie skonfigurowano klucza użytkownika usługi GUS (REGON).",
                                      source=SOURCE)
        super().__init__(timeout=timeout, client=client)
        self.api_key = api_key
        self.url = url
        self.max_batch = max(1, int(max_batch))
        self.session_id: str | None = None

    # -- session -------------------------------------------------------------------------------
    def login(self) -> str:
        """``Zaloguj``: open a session; returns (and remembers) the session id."""
        result = self._call("Zaloguj", [("pKluczUzytkownika", self.api_key)], sid=None)
        sid = result.strip()
        if not sid:
            self.session_id = None
            raise AuthenticationError(
                "Logowanie do usługi GUS (REGON) nie powiodło się: klucz użytkownika jest "
                "nieprawidłowy albo nieaktywny.", source=SOURCE, code="LOGIN")
        self.session_id = sid
        logger.debug("GUS: session opened")
        return sid

    def logout(self) -> bool:
        """``Wyloguj``: end the current session (no-op without one)."""
        sid, self.session_id = self.session_id, None
        if not sid:
            return False
        result = self._call("Wyloguj", [("pIdentyfikatorSesji", sid)], sid=sid)
        return result.strip().lower() == "true"

    def get_value(self, name: str) -> str:
        """``GetValue(pNazwaParametru)``: ``KomunikatKod``, ``KomunikatTresc``, ``StatusSesji``,
        ``StatusUslugi``, ``KomunikatUslugi``, ``StanDanych``."""
        return self._call("GetValue", [("pNazwaParametru", name)], sid=self.session_id,
                          namespace=NS_BIR_COMMON, action=ACTION_GET_VALUE).strip()

    def close(self) -> None:
        try:
            if self.session_id:
                self.logout()
        except Exception:  # logging out is best effort
            logger.debug("GUS: logout failed", exc_info=True)
        finally:
            super().close()

    # -- search --------------------------------------------------------------------------------
    def search_nip(self, nip: str) -> list[GusSearchResult]:
        """Entities with this NIP (empty list when none)."""
        return self._search([("Nip", clean_nip(nip))])

    def search_regon(self, regon: str) -> list[GusSearchResult]:
        """Entities with this 9- or 14-digit REGON (empty list when none)."""
        return self._search([("Regon", clean_regon(regon))])

    def search_krs(self, krs: str) -> list[GusSearchResult]:
        """Entities with this KRS number (empty list when none)."""
        return self._search([("Krs", clean_krs(krs))])

    def search_nips(self, nips: list[str]) -> list[GusSearchResult]:
        """Batch search (``Nipy``); split into requests of at most ``max_batch`` numbers."""
        return self._search_many("Nipy", [clean_nip(n) for n in nips])

    def search_regons(self, regons: list[str]) -> list[GusSearchResult]:
        """Batch search (``Regony9zn`` / ``Regony14zn`` by length)."""
        cleaned = [clean_regon(r) for r in regons]
        nine = [r for r in cleaned if len(r) == 9]
        fourteen = [r for r in cleaned if len(r) == 14]
        results = self._search_many("Regony9zn", nine) if nine else []
        if fourteen:
            results += self._search_many("Regony14zn", fourteen)
        return results

    def search_krs_numbers(self, krs_numbers: list[str]) -> list[GusSearchResult]:
        """Batch search (``Krsy``)."""
        return self._search_many("Krsy", [clean_krs(k) for k in krs_numbers])

    def _search_many(self, parameter: str, numbers: list[str]) -> list[GusSearchResult]:
        unique = list(dict.fromkeys(numbers))
        results: list[GusSearchResult] = []
        for start in range(0, len(unique), self.max_batch):
            chunk = unique[start:start + self.max_batch]
            results += self._search([(parameter, ",".join(chunk))])
        return results

    def _search(self, criteria: list[tuple[str, str]]) -> list[GusSearchResult]:
        rows = self._data_call("DaneSzukajPodmioty", [], search=criteria)
        return [self._search_result(row) for row in rows]

    # -- reports -------------------------------------------------------------------------------
    def full_report(self, regon: str, report_name: str) -> list[dict[str, str]]:
        """``DanePobierzPelnyRaport``: the raw rows of one report ([] when nothing found)."""
        regon = clean_regon(regon)
        return self._data_call("DanePobierzPelnyRaport",
                               [("pRegon", regon), ("pNazwaRaportu", report_name)])

    def pkd(self, regon: str, entity_type: str, silo_id: int | None = None) -> list[PkdCode]:
        """PKD codes of an entity (report chosen by ``entity_type``; natural persons filtered
        by ``silo_id`` when given)."""
        report = {"P": Report.LEGAL_PERSON_PKD, "F": Report.NATURAL_PERSON_PKD,
                  "LP": Report.LOCAL_UNIT_LEGAL_PKD,
                  "LF": Report.LOCAL_UNIT_NATURAL_PKD}.get(entity_type.upper())
        if report is None:
            raise RegistryError(f"Nieznany typ podmiotu GUS: „{entity_type}”.", source=SOURCE)
        return _pkd_from_rows(self.full_report(_report_regon(regon, entity_type), report),
                              silo_id)

    def partners(self, regon: str) -> list[GusPartner]:
        """Partners of a civil-law partnership (``BIR11OsPrawnaSpCywilnaWspolnicy``)."""
        rows = self.full_report(_report_regon(regon, "P"), Report.CIVIL_PARTNERSHIP_PARTNERS)
        return [_partner(row) for row in rows]

    # -- lookups (search + reports) ----------------------------------------------------------
    def lookup_nip(self, nip: str) -> GusEntity:
        """The entity with this NIP, with its full report; :class:`NotFound` when none."""
        nip = clean_nip(nip)
        found = self.search_nip(nip)
        if not found:
            raise NotFound(f"Nie znaleziono podmiotu o NIP {nip} w bazie GUS.",
                           source=SOURCE, code="4")
        return self.entity(_best(found))

    def lookup_regon(self, regon: str) -> GusEntity:
        regon = clean_regon(regon)
        found = self.search_regon(regon)
        if not found:
            raise NotFound(f"Nie znaleziono podmiotu o numerze REGON {regon} w bazie GUS.",
                           source=SOURCE, code="4")
        return self.entity(_best(found))

    def lookup_krs(self, krs: str) -> GusEntity:
        krs = clean_krs(krs)
        found = self.search_krs(krs)
        if not found:
            raise NotFound(f"Nie znaleziono podmiotu o numerze KRS {krs} w bazie GUS.",
                           source=SOURCE, code="4")
        entity = self.entity(_best(found))
        if not entity.krs:
            entity.krs = krs
        return entity

    def entity(self, found: GusSearchResult, *, with_pkd: bool = True,
               with_partners: bool = True) -> GusEntity:
        """Fetch the full report(s) for a search result and build a :class:`GusEntity`."""
        kind = found.entity_type.upper()
        raw: dict[str, Any] = {"search": found.raw}
        if kind == "P":
            rows = self._main_report(found, Report.LEGAL_PERSON, raw)
            entity = _legal_person(rows[0], found)
        elif kind == "F":
            general = self._main_report(found, Report.NATURAL_PERSON, raw)
            report = ACTIVITY_REPORT_BY_SILO.get(found.silo_id or 1,
                                                 Report.NATURAL_PERSON_CEIDG)
            activity = self._main_report(found, report, raw)
            entity = _natural_person(general[0], activity[0], found)
        elif kind in ("LP", "LF"):
            report = Report.LOCAL_UNIT_LEGAL if kind == "LP" else Report.LOCAL_UNIT_NATURAL
            rows = self._main_report(found, report, raw)
            entity = _local_unit(rows[0], found, "lokpraw_" if kind == "LP" else "lokfiz_")
        else:
            raise RegistryError(f"Nieznany typ podmiotu GUS: „{found.entity_type}”.",
                                source=SOURCE)
        if with_pkd:
            report = {"P": Report.LEGAL_PERSON_PKD, "F": Report.NATURAL_PERSON_PKD,
                      "LP": Report.LOCAL_UNIT_LEGAL_PKD, "LF": Report.LOCAL_UNIT_NATURAL_PKD}[kind]
            rows = self.full_report(_report_regon(found.regon, kind), report)
            raw[report] = rows
            entity.pkd = _pkd_from_rows(rows, found.silo_id if kind == "F" else None)
        if with_partners and kind == "P" and entity.legal_form_code == CIVIL_PARTNERSHIP_FORM:
            rows = self.full_report(_report_regon(found.regon, "P"),
                                    Report.CIVIL_PARTNERSHIP_PARTNERS)
            raw[Report.CIVIL_PARTNERSHIP_PARTNERS] = rows
            entity.partners = [_partner(row) for row in rows]
        entity.raw = raw
        return entity

    def _main_report(self, found: GusSearchResult, report: str,
                     raw: dict[str, Any]) -> list[dict[str, str]]:
        rows = self.full_report(_report_regon(found.regon, found.entity_type), report)
        raw[report] = rows
        if not rows:
            raise NotFound(
                f"GUS nie zwrócił raportu {report} dla podmiotu o numerze REGON {found.regon}.",
                source=SOURCE, code="4")
        return rows

    # -- SOAP plumbing -------------------------------------------------------------------------
    def _ensure_session(self) -> str:
        return self.session_id or self.login()

    def _data_call(self, operation: str, params: list[tuple[str, str]],
                   search: list[tuple[str, str]] | None = None) -> list[dict[str, str]]:
        """A data operation with the session protocol: login, one re-login on expiry."""
        relogged = False
        while True:
            sid = self._ensure_session()
            text = self._call(operation, params, sid=sid, search=search)
            rows = self._rows(text)
            if rows:
                error = rows[0].get("ErrorCode")
                if error is None:
                    return rows
                code, message = error.strip(), rows[0].get("ErrorMessagePl", "")
            else:
                code, message = self.get_value("KomunikatKod"), ""
            outcome = self._interpret(code, message, operation, search)
            if outcome == "empty":
                return []
            # the session expired (the service forgot our sid)
            if relogged:
                raise Retryable(
                    "Sesja w usłudze GUS (REGON) wygasła i ponowne zalogowanie nie pomogło. "
                    "Spróbuj ponownie później.", source=SOURCE, code="SESSION")
            logger.info("GUS: session expired, logging in again")
            self.session_id = None
            self.login()
            relogged = True

    def _interpret(self, code: str, message: str, operation: str,
                   search: list[tuple[str, str]] | None) -> str:
        """Return ``"empty"`` (nothing found) or ``"expired"``; raise for everything else."""
        if code in ("4", "11", "21", "22"):
            # 4: nothing found; 11: no PKD before 2014-11-08; 21/22: not a civil partnership /
            # no partners recorded
            return "empty"
        if code == "7":
            return "expired"
        if code in ("", "0"):
            # An empty result without a message: either the service forgot our session
            # (StatusSesji 0) or there simply is nothing to return.
            return "expired" if self._session_dead() else "empty"
        if code == "2":
            raise TooManyIdentifiers(
                "Usługa GUS (REGON) odrzuciła zapytanie: przekazano zbyt wiele identyfikatorów "
                f"naraz (dozwolone najwyżej {MAX_IDENTIFIERS}). Podziel listę na mniejsze "
                "części.", source=SOURCE, code="2", limit=MAX_IDENTIFIERS)
        if code == "5":
            raise RegistryError(
                "Usługa GUS (REGON) odmówiła wydania raportu: brak uprawnień albo nieprawidłowa "
                "nazwa raportu.", source=SOURCE, code="5", details=message)
        text = message or self._safe_get_value("KomunikatTresc")
        raise RegistryError(
            f"Usługa GUS (REGON) zwróciła błąd {code}" + (f": {text}" if text else "."),
            source=SOURCE, code=code, details={"operation": operation, "search": search})

    def _session_dead(self) -> bool:
        return self._safe_get_value("StatusSesji") in ("0", "")

    def _safe_get_value(self, name: str) -> str:
        try:
            return self.get_value(name)
        except RegistryError:
            return ""

    def _rows(self, text: str) -> list[dict[str, str]]:
        try:
            return parse_rows(text)
        except etree.XMLSyntaxError as exc:
            raise self._malformed("nieczytelny wynik XML", exc=exc)

    def _call(self, operation: str, params: list[tuple[str, str]], *, sid: str | None,
              search: list[tuple[str, str]] | None = None, namespace: str = NS_BIR,
              action: str | None = None) -> str:
        """POST one SOAP operation; return the text of ``<{operation}Result>``."""
        action = action or ACTION_PREFIX + operation
        payload = build_envelope(self.url, action, namespace, operation, params, search)
        headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"',
                   "Accept": "application/soap+xml, multipart/related"}
        if sid:
            headers["sid"] = sid
        response = self._send("POST", self.url, content=payload, headers=headers)
        return self._result_text(response, operation)

    def _result_text(self, response: httpx.Response, operation: str) -> str:
        status = response.status_code
        envelope = None
        parse_error: Exception | None = None
        try:
            xml = extract_soap_part(response.content, response.headers.get("content-type"))
            envelope = etree.fromstring(xml, _parser())
        except (ValueError, etree.XMLSyntaxError) as exc:
            parse_error = exc
        body = envelope.find(_q(NS_SOAP, "Body")) if envelope is not None else None
        if body is None or envelope.tag != _q(NS_SOAP, "Envelope"):
            # not a SOAP answer at all (an HTML error page, a proxy's message, garbage)
            if status >= 500 or status in (408, 429):
                raise Retryable(
                    f"Usługa {SOURCE} jest chwilowo niedostępna (HTTP {status}). "
                    "Spróbuj ponownie później.", source=SOURCE, code=f"HTTP-{status}")
            if status >= 400:
                raise RegistryError(
                    f"Usługa {SOURCE} odrzuciła zapytanie (HTTP {status}).",
                    source=SOURCE, code=f"HTTP-{status}")
            raise self._malformed("nieprawidłowa koperta SOAP", response=response,
                                  exc=parse_error)
        fault = body.find(_q(NS_SOAP, "Fault"))
        if fault is not None:
            code = (fault.findtext(f"{_q(NS_SOAP, 'Code')}/{_q(NS_SOAP, 'Value')}")
                    or "").strip()
            reason = " ".join(t.text or "" for t in fault.iter(_q(NS_SOAP, "Text"))).strip()
            logger.warning("GUS: SOAP fault %s: %s", code, reason)
            error_class = Retryable if code.endswith("Receiver") else RegistryError
            raise error_class(
                f"Usługa {SOURCE} zwróciła błąd SOAP: {reason or code or 'brak opisu'}.",
                source=SOURCE, code=code or f"HTTP-{status}")
        if status >= 500:
            raise Retryable(f"Usługa {SOURCE} jest chwilowo niedostępna (HTTP {status}). "
                            "Spróbuj ponownie później.", source=SOURCE, code=f"HTTP-{status}")
        if status >= 400:
            raise RegistryError(f"Usługa {SOURCE} odrzuciła zapytanie (HTTP {status}).",
                                source=SOURCE, code=f"HTTP-{status}")
        wanted = f"{operation}Result"
        for element in body.iter():
            if isinstance(element.tag, str) and etree.QName(element).localname == wanted:
                return element.text or ""
        raise self._malformed(f"brak elementu {wanted}", response=response)

    def _search_result(self, row: dict[str, str]) -> GusSearchResult:
        kind = (row.get("Typ") or "").strip().upper()
        regon = row.get("Regon", "").strip()
        if not regon or kind not in _TYPE_LABELS:
            raise self._malformed("wynik wyszukiwania bez numeru REGON lub typu podmiotu")
        return GusSearchResult(
            regon=regon,
            nip=blank_to_none(row.get("Nip")),
            name=(row.get("Nazwa") or "").strip(),
            entity_type=kind,
            silo_id=_int(row.get("SilosID")),
            address=Address(
                street=blank_to_none(row.get("Ulica")),
                building_no=blank_to_none(row.get("NrNieruchomosci")),
                unit_no=blank_to_none(row.get("NrLokalu")),
                postal_code=blank_to_none(row.get("KodPocztowy")),
                city=blank_to_none(row.get("Miejscowosc")),
                post_office=blank_to_none(row.get("MiejscowoscPoczty")),
                voivodeship=blank_to_none(row.get("Wojewodztwo")),
                county=blank_to_none(row.get("Powiat")),
                commune=blank_to_none(row.get("Gmina")),
                country="Polska",
            ),
            nip_status=blank_to_none(row.get("StatusNip")),
            end_date=parse_date(row.get("DataZakonczeniaDzialalnosci")),
            raw=dict(row),
        )


# ---------------------------------------------------------------------------------------------
# Report → entity mapping
# ---------------------------------------------------------------------------------------------
class _Row:
    """Case-insensitive access to a report row (GUS spells keys inconsistently)."""

    def __init__(self, row: dict[str, str], prefix: str) -> None:
        self._values = {key.lower(): value for key, value in row.items()}
        self._prefix = prefix.lower()

    def get(self, *names: str) -> str | None:
        for name in names:
            value = blank_to_none(self._values.get((self._prefix + name).lower()))
            if value is not None:
                return value
        return None

    def date(self, *names: str) -> date | None:
        return parse_date(self.get(*names))

    def address(self) -> Address:
        return Address(
            street=self.get("adSiedzUlica_Nazwa"),
            building_no=self.get("adSiedzNumerNieruchomosci"),
            unit_no=self.get("adSiedzNumerLokalu"),
            postal_code=_postal(self.get("adSiedzKodPocztowy")),
            city=self.get("adSiedzMiejscowosc_Nazwa"),
            post_office=self.get("adSiedzMiejscowoscPoczty_Nazwa"),
            voivodeship=self.get("adSiedzWojewodztwo_Nazwa"),
            county=self.get("adSiedzPowiat_Nazwa"),
            commune=self.get("adSiedzGmina_Nazwa"),
            country=self.get("adSiedzKraj_Nazwa") or "Polska",
        )


def _postal(code: str | None) -> str | None:
    if code and len(code) == 5 and code.isdigit():
        return f"{code[:2]}-{code[2:]}"
    return code


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _status(row: _Row, removed: tuple[str, ...]) -> str:
    if row.get(*removed):
        return STATUS_REMOVED
    if row.get("dataZakonczeniaDzialalnosci"):
        return STATUS_ENDED
    suspended = row.date("dataZawieszeniaDzialalnosci")
    resumed = row.date("dataWznowieniaDzialalnosci")
    if suspended and (resumed is None or resumed < suspended):
        return STATUS_SUSPENDED
    return STATUS_ACTIVE


def _contact(entity: GusEntity, row: _Row) -> None:
    entity.email = row.get("adresEmail")
    entity.phone = row.get("numerTelefonu")
    entity.website = row.get("adresStronyinternetowej")


def _is_krs_register(row: _Row) -> bool:
    register = (row.get("rodzajRejestruEwidencji_Nazwa") or "").upper()
    organ = (row.get("organRejestrowy_Nazwa") or "").upper()
    return (row.get("rodzajRejestruEwidencji_Symbol") == "138"
            or "KRAJOWEGO REJESTRU SĄDOWEGO" in organ
            or register.startswith(("REJESTR PRZEDSIĘBIORCÓW", "REJESTR STOWARZYSZEŃ")))


def _legal_person(report: dict[str, str], found: GusSearchResult) -> GusEntity:
    row = _Row(report, "praw_")
    krs = None
    number = row.get("numerWRejestrzeEwidencji")
    if number and number.isdigit() and len(number) <= 10 and _is_krs_register(row):
        krs = number.zfill(10)
    entity = GusEntity(
        regon=row.get("regon9") or found.regon[:9],
        name=row.get("nazwa") or found.name,
        entity_type="P",
        nip=row.get("nip") or found.nip,
        krs=krs,
        short_name=row.get("nazwaSkrocona"),
        silo_id=found.silo_id,
        legal_form=row.get("szczegolnaFormaPrawna_Nazwa"),
        legal_form_code=row.get("szczegolnaFormaPrawna_Symbol"),
        basic_legal_form=row.get("podstawowaFormaPrawna_Nazwa"),
        address=row.address(),
        start_date=row.date("dataRozpoczeciaDzialalnosci", "dataPowstania"),
        suspension_date=row.date("dataZawieszeniaDzialalnosci"),
        resumption_date=row.date("dataWznowieniaDzialalnosci"),
        end_date=row.date("dataZakonczeniaDzialalnosci"),
        removal_date=row.date("dataSkresleniaZRegon"),
        status=_status(row, ("dataSkresleniaZRegon",)),
    )
    _contact(entity, row)
    return entity


def _natural_person(general: dict[str, str], activity: dict[str, str],
                    found: GusSearchResult) -> GusEntity:
    person = _Row(general, "fiz_")
    row = _Row(activity, "fiz_")
    first, last = person.get("imie1"), person.get("nazwisko")
    full_name = " ".join(part for part in (first, last) if part)
    entity = GusEntity(
        regon=person.get("regon9") or row.get("regon9") or found.regon[:9],
        name=row.get("nazwa") or found.name or full_name,
        entity_type="F",
        nip=person.get("nip") or found.nip,
        short_name=row.get("nazwaSkrocona"),
        silo_id=found.silo_id,
        legal_form=person.get("szczegolnaFormaPrawna_Nazwa"),
        legal_form_code=person.get("szczegolnaFormaPrawna_Symbol"),
        basic_legal_form=person.get("podstawowaFormaPrawna_Nazwa"),
        first_name=first,
        last_name=last,
        address=row.address(),
        start_date=row.date("dataRozpoczeciaDzialalnosci", "dataPowstania"),
        suspension_date=row.date("dataZawieszeniaDzialalnosci"),
        resumption_date=row.date("dataWznowieniaDzialalnosci"),
        end_date=row.date("dataZakonczeniaDzialalnosci"),
        removal_date=row.date("dataSkresleniaDzialalnosciZRegon", "dataSkresleniaZRegon"),
        status=_status(row, ("dataSkresleniaDzialalnosciZRegon", "dataSkresleniaZRegon")),
    )
    if found.silo_id == 4:
        entity.status = STATUS_REMOVED
    _contact(entity, row)
    return entity


def _local_unit(report: dict[str, str], found: GusSearchResult, prefix: str) -> GusEntity:
    row = _Row(report, prefix)
    entity = GusEntity(
        regon=row.get("regon14") or found.regon,
        name=row.get("nazwa") or found.name,
        entity_type=found.entity_type.upper(),
        nip=found.nip,
        silo_id=found.silo_id,
        address=row.address(),
        start_date=row.date("dataRozpoczeciaDzialalnosci", "dataPowstania"),
        suspension_date=row.date("dataZawieszeniaDzialalnosci"),
        resumption_date=row.date("dataWznowieniaDzialalnosci"),
        end_date=row.date("dataZakonczeniaDzialalnosci"),
        removal_date=row.date("dataSkresleniaZRegon"),
        status=_status(row, ("dataSkresleniaZRegon",)),
    )
    _contact(entity, row)
    return entity


def _pkd_from_rows(rows: list[dict[str, str]], silo_id: int | None) -> list[PkdCode]:
    result: list[PkdCode] = []
    seen: set[str] = set()
    for raw in rows:
        values = {key.lower(): value for key, value in raw.items()}

        def pick(*suffixes: str, values: dict[str, str] = values) -> str | None:
            for key, value in values.items():
                if key.endswith(suffixes):
                    return blank_to_none(value)
            return None

        if silo_id is not None:
            row_silo = _int(pick("silosid"))
            if row_silo is not None and row_silo != silo_id:
                continue
        code = normalise_pkd(pick("pkdkod", "pkd_kod"))
        if not code or code in seen:
            continue
        seen.add(code)
        result.append(PkdCode(code=code, name=pick("pkdnazwa", "pkd_nazwa"),
                              main=pick("pkdprzewazajace", "pkd_przewazajace") == "1"))
    result.sort(key=lambda entry: not entry.main)
    return result


def _partner(row: dict[str, str]) -> GusPartner:
    values = _Row(row, "wspolsc_")
    return GusPartner(
        regon=values.get("regonWspolnikSpolki"),
        first_name=values.get("imiePierwsze"),
        second_name=values.get("imieDrugie"),
        last_name=values.get("nazwisko"),
        company_name=values.get("firmaNazwa"),
    )


def _report_regon(regon: str, entity_type: str) -> str:
    """Reports of P/F entities take the 9-digit REGON, local-unit reports the 14-digit one."""
    if entity_type.upper() in ("P", "F") and len(regon) == 14:
        return regon[:9]
    return regon


def _best(found: list[GusSearchResult]) -> GusSearchResult:
    """Prefer the main entity (P/F over local units), then an active one, then lower silo."""
    def rank(item: GusSearchResult) -> tuple[int, int, int]:
        return (0 if item.entity_type in ("P", "F") else 1,
                0 if item.is_active else 1,
                item.silo_id if item.silo_id is not None else 99)
    return min(found, key=rank)


__all__ = [
    "ACTIVITY_REPORT_BY_SILO",
    "GUS_PRODUCTION_URL",
    "GUS_TEST_KEY",
    "GUS_TEST_URL",
    "MAX_IDENTIFIERS",
    "GusClient",
    "GusEntity",
    "GusPartner",
    "GusSearchResult",
    "Report",
    "build_envelope",
    "extract_soap_part",
    "parse_rows",
]
