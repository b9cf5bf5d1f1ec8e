"""Local HTTP servers that speak the registries' protocols for real.

Each fake is a stdlib ``ThreadingHTTPServer`` on ``127.0.0.1`` (port 0) running in a daemon
thread. It parses what the client sends (SOAP envelopes with lxml, JSON bodies, paths and query
strings), checks the protocol details a real service would reject (content types, WS-Addressing
headers, the ``sid`` header, the Bearer token, the ``date`` parameter …), answers with
envelopes / JSON documents shaped like the recorded answers of the real services, and records
every request for the tests to assert on. Switchable error modes reproduce the services'
failures: not found, session expiry, too many identifiers, 5xx, rate limiting, malformed
answers, member state unavailable.

The in-memory dataset holds realistic Polish entities; every NIP / REGON / NRB / VAT number has
a valid check digit (the synthetic ones are completed with python-stdnum below).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from lxml import etree
from stdnum import iban
from stdnum.eu import vat as eu_vat
from stdnum.pl import nip as pl_nip
from stdnum.pl import regon as pl_regon

# ---------------------------------------------------------------------------------------------
# Valid synthetic identifiers
# ---------------------------------------------------------------------------------------------


def make_nip(first9: str) -> str:
    """Complete 9 digits to a valid NIP (bumping the 9th digit if no check digit fits)."""
    base = int(first9)
    while True:
        digits = f"{base:09d}"
        for check in "0123456789":
            if pl_nip.is_valid(digits + check):
                return digits + check
        base += 1


def make_regon(first8: str) -> str:
    return first8 + pl_regon.calc_check_digit(first8)


def make_regon14(regon9: str, unit: str) -> str:
    body = regon9 + unit
    return body + pl_regon.calc_check_digit(body)


def make_nrb(bank8: str, account16: str) -> str:
    bban = bank8 + account16
    return iban.calc_check_digits("PL00" + bban) + bban


def make_vat(country: str, first: str) -> str:
    for check in "0123456789":
        if eu_vat.is_valid(country + first + check):
            return first + check
    raise ValueError(f"no check digit for {country}{first}")


# Real, public identifiers
ORLEN_NIP, ORLEN_REGON, ORLEN_KRS = "7740001454", "610188201", "0000028860"
GUS_NIP, GUS_REGON = "5261040828", "000331501"
#: Valid NIP that no fake registry knows (the Ministry of Finance).
UNKNOWN_NIP = "5260250274"
UNKNOWN_REGON = make_regon("14378210")

# Synthetic ones
KOWALSKI_NIP = make_nip("677123456")
KOWALSKI_REGON = make_regon("35612345")
ROZA_NIP = make_nip("584276543")
ROZA_REGON = make_regon("22187654")
NOWAK_REGON = make_regon("19234567")
WISNIEWSKI_REGON = make_regon("19345678")
ZIELINSKA_NIP = make_nip("778234561")
ZIELINSKA_REGON = make_regon("30123456")
ORLEN_UNIT_REGON = make_regon14(ORLEN_REGON, "0005")
DE_VAT = make_vat("DE", "12927339")

ORLEN_ACCOUNTS = [make_nrb("10901014", "0000071219812874"),
                  make_nrb("12401037", "1111001044474561")]
KOWALSKI_ACCOUNT = make_nrb("10500099", "7603123456789123")
ROZA_ACCOUNT = make_nrb("11602202", "0000000123456789")
FOREIGN_ACCOUNT = make_nrb("11402004", "0000330212345678")  # valid, assigned to nobody

GUS_TEST_KEY = "abcde12345abcde12345"
CEIDG_TOKEN = "eyJhbGciOiJIUzI1NiJ9.test-integrator.c2lnbmF0dXJl"


# ---------------------------------------------------------------------------------------------
# Server plumbing
# ---------------------------------------------------------------------------------------------
@dataclass
class Recorded:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    #: SOAP fakes: the operation (local name of the Body's first child) and WS-A headers.
    operation: str | None = None
    action: str | None = None
    to: str | None = None
    params: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


Response = tuple[int | None, dict[str, str], bytes]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeRegistry/1.0"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        fake: FakeServer = self.server.fake  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Recorded(
            method=self.command,
            path=unquote(parts.path),
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in self.headers.items()},
            body=body,
        )
        try:
            status, headers, payload = fake.dispatch(request)
        except Exception:  # noqa: BLE001 - a bug in the fake must fail the test, not hang it
            fake.errors.append(traceback.format_exc())
            status, headers, payload = 500, {"Content-Type": "text/plain"}, b"fake crashed"
        if status is None:  # drop the connection without answering
            self.close_connection = True
            return
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = _dispatch
    do_POST = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests) leaves a broken pipe behind: not an error.
        pass


class FakeServer:
    """Base class: start/stop, request log, common failure switches."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.reset()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> FakeServer:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def reset(self) -> None:
        """Forget requests and switch every error mode off."""
        with getattr(self, "_lock", threading.Lock()):
            self.requests = []
            self.errors = []
        self.delay = 0.0  # seconds to wait before answering (timeouts)
        self.drop_connection = False  # close the socket without answering

    # -- dispatch ----------------------------------------------------------------------------
    def dispatch(self, request: Recorded) -> Response:
        with self._lock:
            self.requests.append(request)
        if self.delay:
            time.sleep(self.delay)
        if self.drop_connection:
            return None, {}, b""
        return self.handle(request)

    def handle(self, request: Recorded) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def json_response(status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
        out = {"Content-Type": "application/json;charset=UTF-8"}
        out.update(headers or {})
        return status, out, json.dumps(data, ensure_ascii=False).encode("utf-8")

    @staticmethod
    def text_response(status: int, text: str, content_type: str = "text/html; charset=utf-8",
                      headers: dict[str, str] | None = None) -> Response:
        out = {"Content-Type": content_type}
        out.update(headers or {})
        return status, out, text.encode("utf-8")


# ---------------------------------------------------------------------------------------------
# GUS BIR 1.1
# ---------------------------------------------------------------------------------------------
NS_SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NS_WSA = "http://www.w3.org/2005/08/addressing"
NS_BIR = "http://CIS/BIR/PUBL/2014/07"
NS_BIR_DATA = "http://CIS/BIR/PUBL/2014/07/DataContract"
NS_BIR_COMMON = "http://CIS/BIR/2014/07"
GUS_ACTIONS = {
    "Zaloguj": (NS_BIR, "http://CIS/BIR/PUBL/2014/07/IUslugaBIRzewnPubl/Zaloguj"),
    "Wyloguj": (NS_BIR, "http://CIS/BIR/PUBL/2014/07/IUslugaBIRzewnPubl/Wyloguj"),
    "DaneSzukajPodmioty": (NS_BIR,
                           "http://CIS/BIR/PUBL/2014/07/IUslugaBIRzewnPubl/DaneSzukajPodmioty"),
    "DanePobierzPelnyRaport": (
        NS_BIR, "http://CIS/BIR/PUBL/2014/07/IUslugaBIRzewnPubl/DanePobierzPelnyRaport"),
    "GetValue": (NS_BIR_COMMON, "http://CIS/BIR/2014/07/IUslugaBIR/GetValue"),
}
GUS_PATH = "/wsBIR/UslugaBIRzewnPubl.svc"


def _names(text: str) -> list[str]:
    return text.split()


PRAW_FIELDS = _names(
    "praw_regon9 praw_nip praw_statusNip praw_nazwa praw_nazwaSkrocona "
    "praw_numerWRejestrzeEwidencji praw_dataWpisuDoRejestruEwidencji praw_dataPowstania "
    "praw_dataRozpoczeciaDzialalnosci praw_dataWpisuDoRegon praw_dataZawieszeniaDzialalnosci "
    "praw_dataWznowieniaDzialalnosci praw_dataZaistnieniaZmiany "
    "praw_dataZakonczeniaDzialalnosci praw_dataSkresleniaZRegon praw_dataOrzeczeniaOUpadlosci "
    "praw_dataZakonczeniaPostepowaniaUpadlosciowego praw_adSiedzKraj_Symbol "
    "praw_adSiedzWojewodztwo_Symbol praw_adSiedzPowiat_Symbol praw_adSiedzGmina_Symbol "
    "praw_adSiedzKodPocztowy praw_adSiedzMiejscowoscPoczty_Symbol "
    "praw_adSiedzMiejscowosc_Symbol praw_adSiedzUlica_Symbol praw_adSiedzNumerNieruchomosci "
    "praw_adSiedzNumerLokalu praw_adSiedzNietypoweMiejsceLokalizacji praw_numerTelefonu "
    "praw_numerWewnetrznyTelefonu praw_numerFaksu praw_adresEmail "
    "praw_adresStronyinternetowej praw_adSiedzKraj_Nazwa praw_adSiedzWojewodztwo_Nazwa "
    "praw_adSiedzPowiat_Nazwa praw_adSiedzGmina_Nazwa praw_adSiedzMiejscowosc_Nazwa "
    "praw_adSiedzMiejscowoscPoczty_Nazwa praw_adSiedzUlica_Nazwa "
    "praw_podstawowaFormaPrawna_Symbol praw_szczegolnaFormaPrawna_Symbol "
    "praw_formaFinansowania_Symbol praw_formaWlasnosci_Symbol praw_organZalozycielski_Symbol "
    "praw_organRejestrowy_Symbol praw_rodzajRejestruEwidencji_Symbol "
    "praw_podstawowaFormaPrawna_Nazwa praw_szczegolnaFormaPrawna_Nazwa "
    "praw_formaFinansowania_Nazwa praw_formaWlasnosci_Nazwa praw_organZalozycielski_Nazwa "
    "praw_organRejestrowy_Nazwa praw_rodzajRejestruEwidencji_Nazwa praw_liczbaJednLokalnych"
)

FIZ_GENERAL_FIELDS = _names(
    "fiz_regon9 fiz_nip fiz_statusNip fiz_nazwisko fiz_imie1 fiz_imie2 "
    "fiz_dataWpisuPodmiotuDoRegon fiz_dataZaistnieniaZmiany fiz_dataSkresleniaPodmiotuZRegon "
    "fiz_podstawowaFormaPrawna_Symbol fiz_szczegolnaFormaPrawna_Symbol "
    "fiz_formaFinansowania_Symbol fiz_formaWlasnosci_Symbol fiz_podstawowaFormaPrawna_Nazwa "
    "fiz_szczegolnaFormaPrawna_Nazwa fiz_formaFinansowania_Nazwa fiz_formaWlasnosci_Nazwa "
    "fiz_dzialalnoscCeidg fiz_dzialalnoscRolnicza fiz_dzialalnoscPozostala "
    "fiz_dzialalnoscSkreslonaDo20141108 fiz_liczbaJednLokalnych"
)

FIZ_CEIDG_FIELDS = _names(
    "fiz_regon9 fiz_nazwa fiz_nazwaSkrocona fiz_dataPowstania fiz_dataRozpoczeciaDzialalnosci "
    "fiz_dataWpisuDzialalnosciDoRegon fiz_dataZawieszeniaDzialalnosci "
    "fiz_dataWznowieniaDzialalnosci fiz_dataZaistnieniaZmianyDzialalnosci "
    "fiz_dataZakonczeniaDzialalnosci fiz_dataSkresleniaDzialalnosciZRegon "
    "fiz_dataOrzeczeniaOUpadlosci fiz_dataZakonczeniaPostepowaniaUpadlosciowego "
    "fiz_adSiedzKraj_Symbol fiz_adSiedzWojewodztwo_Symbol fiz_adSiedzPowiat_Symbol "
    "fiz_adSiedzGmina_Symbol fiz_adSiedzKodPocztowy fiz_adSiedzMiejscowoscPoczty_Symbol "
    "fiz_adSiedzMiejscowosc_Symbol fiz_adSiedzUlica_Symbol fiz_adSiedzNumerNieruchomosci "
    "fiz_adSiedzNumerLokalu fiz_adSiedzNietypoweMiejsceLokalizacji fiz_numerTelefonu "
    "fiz_numerWewnetrznyTelefonu fiz_numerFaksu fiz_adresEmail fiz_adresStronyinternetowej "
    "fiz_adSiedzKraj_Nazwa fiz_adSiedzWojewodztwo_Nazwa fiz_adSiedzPowiat_Nazwa "
    "fiz_adSiedzGmina_Nazwa fiz_adSiedzMiejscowosc_Nazwa fiz_adSiedzMiejscowoscPoczty_Nazwa "
    "fiz_adSiedzUlica_Nazwa fizC_dataWpisuDoRejestruEwidencji "
    "fizC_dataSkresleniaZRejestruEwidencji fizC_numerWRejestrzeEwidencji "
    "fizC_OrganRejestrowy_Symbol fizC_OrganRejestrowy_Nazwa fizC_RodzajRejestru_Symbol "
    "fizC_RodzajRejestru_Nazwa fizC_NiePodjetoDzialalnosci"
)

LOKPRAW_FIELDS = _names(
    "lokpraw_regon14 lokpraw_nazwa lokpraw_dataPowstania lokpraw_dataRozpoczeciaDzialalnosci "
    "lokpraw_dataWpisuDoRegon lokpraw_dataZawieszeniaDzialalnosci "
    "lokpraw_dataWznowieniaDzialalnosci lokpraw_dataZakonczeniaDzialalnosci "
    "lokpraw_dataSkresleniaZRegon lokpraw_adSiedzKraj_Symbol lokpraw_adSiedzKodPocztowy "
    "lokpraw_adSiedzNumerNieruchomosci lokpraw_adSiedzNumerLokalu lokpraw_adSiedzKraj_Nazwa "
    "lokpraw_adSiedzWojewodztwo_Nazwa lokpraw_adSiedzPowiat_Nazwa lokpraw_adSiedzGmina_Nazwa "
    "lokpraw_adSiedzMiejscowosc_Nazwa lokpraw_adSiedzMiejscowoscPoczty_Nazwa "
    "lokpraw_adSiedzUlica_Nazwa praw_regon9"
)


def _row(fields: list[str], values: dict[str, str]) -> dict[str, str]:
    unknown = set(values) - set(fields)
    assert not unknown, f"fake dataset uses fields outside the report: {unknown}"
    return {name: values.get(name, "") for name in fields}


@dataclass
class GusEntityRecord:
    """What the fake REGON database knows about one entity."""

    search_rows: list[dict[str, str]]
    reports: dict[str, list[dict[str, str]]]
    krs: str | None = None


def _search_row(regon: str, nip: str, name: str, typ: str, silo: str, *, woj: str, powiat: str,
                gmina: str, city: str, postal: str, street: str, number: str, unit: str = "",
                ended: str = "") -> dict[str, str]:
    return {"Regon": regon, "Nip": nip, "StatusNip": "", "Nazwa": name, "Wojewodztwo": woj,
            "Powiat": powiat, "Gmina": gmina, "Miejscowosc": city, "KodPocztowy": postal,
            "Ulica": street, "NrNieruchomosci": number, "NrLokalu": unit, "Typ": typ,
            "SilosID": silo, "DataZakonczeniaDzialalnosci": ended, "MiejscowoscPoczty": city}


def gus_dataset() -> dict[str, GusEntityRecord]:
    """REGON → record. Four entities of each interesting kind."""
    orlen_address = {"woj": "MAZOWIECKIE", "powiat": "Płock", "gmina": "M. Płock",
                     "city": "Płock", "postal": "09-411", "street": "ul. Chemików",
                     "number": "7"}
    orlen = GusEntityRecord(
        krs=ORLEN_KRS,
        search_rows=[_search_row(ORLEN_REGON, ORLEN_NIP, "ORLEN SPÓŁKA AKCYJNA", "P", "6",
                                 **orlen_address)],
        reports={
            "BIR11OsPrawna": [_row(PRAW_FIELDS, {
                "praw_regon9": ORLEN_REGON, "praw_nip": ORLEN_NIP,
                "praw_nazwa": "ORLEN SPÓŁKA AKCYJNA", "praw_nazwaSkrocona": "ORLEN S.A.",
                "praw_numerWRejestrzeEwidencji": ORLEN_KRS,
                "praw_dataWpisuDoRejestruEwidencji": "2001-07-09",
                "praw_dataPowstania": "1993-06-29",
                "praw_dataRozpoczeciaDzialalnosci": "1993-06-29",
                "praw_dataWpisuDoRegon": "1993-07-13", "praw_dataZaistnieniaZmiany": "2024-03-05",
                "praw_adSiedzKraj_Symbol": "PL", "praw_adSiedzWojewodztwo_Symbol": "14",
                "praw_adSiedzPowiat_Symbol": "62", "praw_adSiedzGmina_Symbol": "011",
                "praw_adSiedzKodPocztowy": "09411",
                "praw_adSiedzMiejscowoscPoczty_Symbol": "0968504",
                "praw_adSiedzMiejscowosc_Symbol": "0968504",
                "praw_adSiedzUlica_Symbol": "02618", "praw_adSiedzNumerNieruchomosci": "7",
                "praw_numerTelefonu": "243650000", "praw_adresEmail": "kontakt@orlen.pl",
                "praw_adresStronyinternetowej": "www.orlen.pl",
                "praw_adSiedzKraj_Nazwa": "POLSKA", "praw_adSiedzWojewodztwo_Nazwa": "MAZOWIECKIE",
                "praw_adSiedzPowiat_Nazwa": "Płock", "praw_adSiedzGmina_Nazwa": "M. Płock",
                "praw_adSiedzMiejscowosc_Nazwa": "Płock",
                "praw_adSiedzMiejscowoscPoczty_Nazwa": "Płock",
                "praw_adSiedzUlica_Nazwa": "ul. Chemików",
                "praw_podstawowaFormaPrawna_Symbol": "1", "praw_szczegolnaFormaPrawna_Symbol": "16",
                "praw_formaFinansowania_Symbol": "1", "praw_formaWlasnosci_Symbol": "214",
                "praw_organRejestrowy_Symbol": "071", "praw_rodzajRejestruEwidencji_Symbol": "138",
                "praw_podstawowaFormaPrawna_Nazwa": "OSOBA PRAWNA",
                "praw_szczegolnaFormaPrawna_Nazwa": "SPÓŁKI AKCYJNE",
                "praw_formaFinansowania_Nazwa": "JEDNOSTKA SAMOFINANSUJĄCA NIE BĘDĄCA JEDNOSTKĄ "
                                                "BUDŻETOWĄ LUB SAMORZĄDOWYM ZAKŁADEM BUDŻETOWYM",
                "praw_formaWlasnosci_Nazwa": "WŁASNOŚĆ MIESZANA MIĘDZY SEKTORAMI Z PRZEWAGĄ "
                                             "WŁASNOŚCI SEKTORA PUBLICZNEGO",
                "praw_organRejestrowy_Nazwa": "SĄD REJONOWY DLA ŁODZI-ŚRÓDMIEŚCIA W ŁODZI, XX "
                                              "WYDZIAŁ GOSPODARCZY KRAJOWEGO REJESTRU SĄDOWEGO",
                "praw_rodzajRejestruEwidencji_Nazwa": "REJESTR PRZEDSIĘBIORCÓW",
                "praw_liczbaJednLokalnych": "1",
            })],
            "BIR11OsPrawnaPkd": [
                {"praw_pkdKod": "4671Z", "praw_pkdNazwa": "SPRZEDAŻ HURTOWA PALIW I PRODUKTÓW "
                 "POCHODNYCH", "praw_pkdPrzewazajace": "0"},
                {"praw_pkdKod": "1920Z", "praw_pkdNazwa": "WYTWARZANIE I PRZETWARZANIE PRODUKTÓW "
                 "RAFINACJI ROPY NAFTOWEJ", "praw_pkdPrzewazajace": "1"},
                {"praw_pkdKod": "3511Z", "praw_pkdNazwa": "WYTWARZANIE ENERGII ELEKTRYCZNEJ",
                 "praw_pkdPrzewazajace": "0"},
            ],
        },
    )
    orlen_unit = GusEntityRecord(
        search_rows=[_search_row(ORLEN_UNIT_REGON, ORLEN_NIP,
                                 "ORLEN SPÓŁKA AKCYJNA ODDZIAŁ W GDAŃSKU", "LP", "6",
                                 woj="POMORSKIE", powiat="Gdańsk", gmina="M. Gdańsk",
                                 city="Gdańsk", postal="80-718", street="ul. Elbląska",
                                 number="135")],
        reports={
            "BIR11JednLokalnaOsPrawnej": [_row(LOKPRAW_FIELDS, {
                "lokpraw_regon14": ORLEN_UNIT_REGON,
                "lokpraw_nazwa": "ORLEN SPÓŁKA AKCYJNA ODDZIAŁ W GDAŃSKU",
                "lokpraw_dataRozpoczeciaDzialalnosci": "2018-01-02",
                "lokpraw_adSiedzKodPocztowy": "80718", "lokpraw_adSiedzNumerNieruchomosci": "135",
                "lokpraw_adSiedzKraj_Nazwa": "POLSKA",
                "lokpraw_adSiedzWojewodztwo_Nazwa": "POMORSKIE",
                "lokpraw_adSiedzPowiat_Nazwa": "Gdańsk", "lokpraw_adSiedzGmina_Nazwa": "M. Gdańsk",
                "lokpraw_adSiedzMiejscowosc_Nazwa": "Gdańsk",
                "lokpraw_adSiedzMiejscowoscPoczty_Nazwa": "Gdańsk",
                "lokpraw_adSiedzUlica_Nazwa": "ul. Elbląska", "praw_regon9": ORLEN_REGON,
            })],
            "BIR11JednLokalnaOsPrawnejPkd": [
                {"lokpraw_pkdKod": "5210B", "lokpraw_pkdNazwa": "MAGAZYNOWANIE I PRZECHOWYWANIE "
                 "POZOSTAŁYCH TOWARÓW", "lokpraw_pkdPrzewazajace": "1"},
            ],
        },
    )
    kowalski_address = {"woj": "MAŁOPOLSKIE", "powiat": "Kraków", "gmina": "Kraków-Podgórze",
                        "city": "Kraków", "postal": "30-552", "street": "ul. Wielicka",
                        "number": "28", "unit": "4"}
    kowalski = GusEntityRecord(
        search_rows=[
            _search_row(KOWALSKI_REGON, KOWALSKI_NIP, "JAN KOWALSKI HANDEL OBWOŹNY", "F", "4",
                        ended="2013-05-31", **kowalski_address),
            _search_row(KOWALSKI_REGON, KOWALSKI_NIP,
                        "USŁUGI INFORMATYCZNE JAN KOWALSKI", "F", "1", **kowalski_address),
        ],
        reports={
            "BIR11OsFizycznaDaneOgolne": [_row(FIZ_GENERAL_FIELDS, {
                "fiz_regon9": KOWALSKI_REGON, "fiz_nip": KOWALSKI_NIP,
                "fiz_nazwisko": "KOWALSKI", "fiz_imie1": "JAN", "fiz_imie2": "MARIAN",
                "fiz_dataWpisuPodmiotuDoRegon": "2009-04-01",
                "fiz_dataZaistnieniaZmiany": "2015-03-01",
                "fiz_podstawowaFormaPrawna_Symbol": "9",
                "fiz_szczegolnaFormaPrawna_Symbol": "099",
                "fiz_podstawowaFormaPrawna_Nazwa": "OSOBA FIZYCZNA PROWADZĄCA DZIAŁALNOŚĆ "
                                                   "GOSPODARCZĄ",
                "fiz_szczegolnaFormaPrawna_Nazwa": "OSOBY FIZYCZNE PROWADZĄCE DZIAŁALNOŚĆ "
                                                   "GOSPODARCZĄ",
                "fiz_dzialalnoscCeidg": "1", "fiz_dzialalnoscRolnicza": "0",
                "fiz_dzialalnoscPozostala": "0", "fiz_dzialalnoscSkreslonaDo20141108": "1",
                "fiz_liczbaJednLokalnych": "0",
            })],
            "BIR11OsFizycznaDzialalnoscCeidg": [_row(FIZ_CEIDG_FIELDS, {
                "fiz_regon9": KOWALSKI_REGON, "fiz_nazwa": "USŁUGI INFORMATYCZNE JAN KOWALSKI",
                "fiz_dataPowstania": "2015-03-01", "fiz_dataRozpoczeciaDzialalnosci": "2015-03-01",
                "fiz_dataWpisuDzialalnosciDoRegon": "2015-03-03",
                "fiz_dataZawieszeniaDzialalnosci": "2020-04-01",
                "fiz_dataWznowieniaDzialalnosci": "2020-09-01",
                "fiz_adSiedzKraj_Symbol": "PL", "fiz_adSiedzKodPocztowy": "30552",
                "fiz_adSiedzNumerNieruchomosci": "28", "fiz_adSiedzNumerLokalu": "4",
                "fiz_numerTelefonu": "126543210", "fiz_adresEmail": "biuro@kowalski-it.pl",
                "fiz_adSiedzKraj_Nazwa": "POLSKA", "fiz_adSiedzWojewodztwo_Nazwa": "MAŁOPOLSKIE",
                "fiz_adSiedzPowiat_Nazwa": "Kraków", "fiz_adSiedzGmina_Nazwa": "Kraków-Podgórze",
                "fiz_adSiedzMiejscowosc_Nazwa": "Kraków",
                "fiz_adSiedzMiejscowoscPoczty_Nazwa": "Kraków",
                "fiz_adSiedzUlica_Nazwa": "ul. Wielicka",
                "fizC_dataWpisuDoRejestruEwidencji": "2015-03-01",
                "fizC_OrganRejestrowy_Symbol": "999",
                "fizC_OrganRejestrowy_Nazwa": "MINISTER ROZWOJU I TECHNOLOGII",
                "fizC_RodzajRejestru_Symbol": "151",
                "fizC_RodzajRejestru_Nazwa": "CENTRALNA EWIDENCJA I INFORMACJA O DZIAŁALNOŚCI "
                                             "GOSPODARCZEJ",
                "fizC_NiePodjetoDzialalnosci": "false",
            })],
            "BIR11OsFizycznaPkd": [
                {"fiz_pkd_Kod": "6201Z", "fiz_pkd_Nazwa": "DZIAŁALNOŚĆ ZWIĄZANA Z "
                 "OPROGRAMOWANIEM", "fiz_pkd_Przewazajace": "1", "fiz_SilosID": "1",
                 "fiz_Silos_Symbol": "CEIDG", "fiz_dataSkresleniaDzialalnosciZRegon": ""},
                {"fiz_pkd_Kod": "6202Z", "fiz_pkd_Nazwa": "DZIAŁALNOŚĆ ZWIĄZANA Z DORADZTWEM W "
                 "ZAKRESIE INFORMATYKI", "fiz_pkd_Przewazajace": "0", "fiz_SilosID": "1",
                 "fiz_Silos_Symbol": "CEIDG", "fiz_dataSkresleniaDzialalnosciZRegon": ""},
                {"fiz_pkd_Kod": "4789Z", "fiz_pkd_Nazwa": "SPRZEDAŻ DETALICZNA POZOSTAŁYCH "
                 "WYROBÓW PROWADZONA NA STRAGANACH I TARGOWISKACH", "fiz_pkd_Przewazajace": "1",
                 "fiz_SilosID": "4", "fiz_Silos_Symbol": "SKRESLONA",
                 "fiz_dataSkresleniaDzialalnosciZRegon": "2013-05-31"},
            ],
        },
    )
    roza = GusEntityRecord(
        search_rows=[_search_row(ROZA_REGON, ROZA_NIP,
                                 "KWIACIARNIA RÓŻA S.C. ANNA NOWAK, PIOTR WIŚNIEWSKI", "P", "6",
                                 woj="POMORSKIE", powiat="Gdańsk", gmina="M. Gdańsk",
                                 city="Gdańsk", postal="80-831", street="ul. Długa", number="45",
                                 unit="1")],
        reports={
            "BIR11OsPrawna": [_row(PRAW_FIELDS, {
                "praw_regon9": ROZA_REGON, "praw_nip": ROZA_NIP,
                "praw_nazwa": "KWIACIARNIA RÓŻA S.C. ANNA NOWAK, PIOTR WIŚNIEWSKI",
                "praw_dataPowstania": "2012-02-10",
                "praw_dataRozpoczeciaDzialalnosci": "2012-02-15",
                "praw_dataWpisuDoRegon": "2012-02-20",
                "praw_dataZawieszeniaDzialalnosci": "2023-01-15",
                "praw_adSiedzKodPocztowy": "80831", "praw_adSiedzNumerNieruchomosci": "45",
                "praw_adSiedzNumerLokalu": "1", "praw_adSiedzKraj_Nazwa": "POLSKA",
                "praw_adSiedzWojewodztwo_Nazwa": "POMORSKIE", "praw_adSiedzPowiat_Nazwa": "Gdańsk",
                "praw_adSiedzGmina_Nazwa": "M. Gdańsk", "praw_adSiedzMiejscowosc_Nazwa": "Gdańsk",
                "praw_adSiedzMiejscowoscPoczty_Nazwa": "Gdańsk",
                "praw_adSiedzUlica_Nazwa": "ul. Długa",
                "praw_podstawowaFormaPrawna_Symbol": "2",
                "praw_szczegolnaFormaPrawna_Symbol": "019",
                "praw_podstawowaFormaPrawna_Nazwa": "JEDNOSTKA ORGANIZACYJNA NIEMAJĄCA "
                                                    "OSOBOWOŚCI PRAWNEJ",
                "praw_szczegolnaFormaPrawna_Nazwa": "SPÓŁKI CYWILNE PROWADZĄCE DZIAŁALNOŚĆ NA "
                                                    "PODSTAWIE UMOWY ZAWARTEJ NA MOCY KODEKSU "
                                                    "CYWILNEGO",
                "praw_liczbaJednLokalnych": "0",
            })],
            "BIR11OsPrawnaPkd": [
                {"praw_pkdKod": "4776Z", "praw_pkdNazwa": "SPRZEDAŻ DETALICZNA KWIATÓW, ROŚLIN, "
                 "NASION, NAWOZÓW, ŻYWYCH ZWIERZĄT DOMOWYCH, KARMY DLA ZWIERZĄT DOMOWYCH "
                 "PROWADZONA W WYSPECJALIZOWANYCH SKLEPACH", "praw_pkdPrzewazajace": "1"},
            ],
            "BIR11OsPrawnaSpCywilnaWspolnicy": [
                {"wspolsc_regonWspolnikSpolki": NOWAK_REGON, "wspolsc_imiePierwsze": "ANNA",
                 "wspolsc_imieDrugie": "", "wspolsc_nazwisko": "NOWAK", "wspolsc_firmaNazwa": ""},
                {"wspolsc_regonWspolnikSpolki": WISNIEWSKI_REGON, "wspolsc_imiePierwsze": "PIOTR",
                 "wspolsc_imieDrugie": "JAKUB", "wspolsc_nazwisko": "WIŚNIEWSKI",
                 "wspolsc_firmaNazwa": ""},
            ],
        },
    )
    gus = GusEntityRecord(
        search_rows=[_search_row(GUS_REGON, GUS_NIP, "GŁÓWNY URZĄD STATYSTYCZNY", "P", "6",
                                 woj="MAZOWIECKIE", powiat="m. st. Warszawa", gmina="Śródmieście",
                                 city="Warszawa", postal="00-925", street="ul. Test-Krucza",
                                 number="208")],
        reports={
            "BIR11OsPrawna": [_row(PRAW_FIELDS, {
                "praw_regon9": GUS_REGON, "praw_nip": GUS_NIP,
                "praw_nazwa": "GŁÓWNY URZĄD STATYSTYCZNY", "praw_dataPowstania": "1975-12-05",
                "praw_dataRozpoczeciaDzialalnosci": "1975-12-05",
                "praw_adSiedzKodPocztowy": "00925", "praw_adSiedzNumerNieruchomosci": "208",
                "praw_adSiedzWojewodztwo_Nazwa": "MAZOWIECKIE",
                "praw_adSiedzPowiat_Nazwa": "m. st. Warszawa",
                "praw_adSiedzGmina_Nazwa": "Śródmieście",
                "praw_adSiedzMiejscowosc_Nazwa": "Warszawa",
                "praw_adSiedzMiejscowoscPoczty_Nazwa": "Warszawa",
                "praw_adSiedzUlica_Nazwa": "ul. Test-Krucza",
                "praw_podstawowaFormaPrawna_Symbol": "1",
                "praw_szczegolnaFormaPrawna_Symbol": "01",
                "praw_podstawowaFormaPrawna_Nazwa": "OSOBA PRAWNA",
                "praw_szczegolnaFormaPrawna_Nazwa": "ORGANY WŁADZY, ADMINISTRACJI RZĄDOWEJ",
                "praw_rodzajRejestruEwidencji_Symbol": "000",
                "praw_rodzajRejestruEwidencji_Nazwa": "PODMIOTY NIE PODLEGAJĄCE WPISOM DO "
                                                      "REJESTRU LUB EWIDENCJI",
                "praw_liczbaJednLokalnych": "0",
            })],
            "BIR11OsPrawnaPkd": [
                {"praw_pkdKod": "8411Z", "praw_pkdNazwa": "KIEROWANIE PODSTAWOWYMI RODZAJAMI "
                 "DZIAŁALNOŚCI PUBLICZNEJ", "praw_pkdPrzewazajace": "1"},
            ],
        },
    )
    return {ORLEN_REGON: orlen, ORLEN_UNIT_REGON: orlen_unit, KOWALSKI_REGON: kowalski,
            ROZA_REGON: roza, GUS_REGON: gus}


def _inner_xml(rows: list[dict[str, str]]) -> str:
    """The ``<root><dane>…</dane></root>`` document, formatted like the service does."""
    lines = ["<root>"]
    for row in rows:
        lines.append("  <dane>")
        for key, value in row.items():
            lines.append(f"    <{key}>{escape(value)}</{key}>" if value else f"    <{key} />")
        lines.append("  </dane>")
    lines.append("</root>")
    return "\r\n".join(lines)


def _error_rows(code: str, pl: str, en: str, **echo: str) -> list[dict[str, str]]:
    return [{"ErrorCode": code, "ErrorMessagePl": pl, "ErrorMessageEn": en, **echo}]


class GusFake(FakeServer):
    """GUS BIR 1.1 (``UslugaBIRzewnPubl``): SOAP 1.2, WS-Addressing, sid header, MTOM answers.

    Switches (all off after :meth:`reset`):

    * ``mtom`` — answer in MTOM/XOP ``multipart/related`` form (True by default, like the real
      service) or as a plain ``application/soap+xml`` envelope;
    * ``not_found_style`` — ``"error_row"`` (BIR 1.1: ``<dane><ErrorCode>4…``) or ``"empty"``
      (empty result; ``GetValue(KomunikatKod)`` then says 4);
    * ``expire_sessions`` — number of data calls before which the server forgets every session
      (``1``: the client must log in again once; a large number: it never recovers);
    * ``expired_code`` — what ``KomunikatKod`` says for an unknown sid (``"7"`` or ``""``);
    * ``max_identifiers`` — limit of identifiers in a batch search (KomunikatKod 2 above it);
    * ``unavailable`` — answer 503 with an HTML page; ``malformed`` — truncate the result XML.
    """

    def __init__(self) -> None:
        self.entities = gus_dataset()
        super().__init__()

    def reset(self) -> None:
        super().reset()
        self.sessions: set[str] = set()
        self.issued_sids: list[str] = []
        self.last_code: dict[str, tuple[str, str]] = {}
        self.mtom = True
        self.not_found_style = "error_row"
        self.expire_sessions = 0
        self.expired_code = "7"
        self.max_identifiers = 20
        self.unavailable = False
        self.malformed = False

    @property
    def service_url(self) -> str:
        return self.url + GUS_PATH

    def calls(self, operation: str) -> list[Recorded]:
        return [r for r in self.requests if r.operation == operation]

    # -- protocol ------------------------------------------------------------------------------
    def handle(self, request: Recorded) -> Response:
        if request.path != GUS_PATH:
            return self.text_response(404, "<html><body>404 Not Found</body></html>")
        if request.method != "POST":
            return self.text_response(405, "Method not allowed", "text/plain")
        if self.unavailable:
            return self.text_response(
                503, "<html><head><title>Service Unavailable</title></head><body><h2>Service "
                     "Unavailable</h2><p>HTTP Error 503. The service is unavailable.</p>"
                     "</body></html>")
        content_type = request.headers.get("content-type", "")
        if not content_type.startswith("application/soap+xml"):
            # what WCF answers to a SOAP 1.1 (text/xml) request on a SOAP 1.2 binding
            return self.text_response(
                415, f"Cannot process the message because the content type '{content_type}' "
                     "was not the expected type 'application/soap+xml; charset=utf-8'.",
                "text/plain")
        try:
            envelope = etree.fromstring(request.body)
        except etree.XMLSyntaxError:
            return self._fault("s:Sender", "The message could not be parsed.", 400)
        header = envelope.find(f"{{{NS_SOAP12}}}Header")
        body = envelope.find(f"{{{NS_SOAP12}}}Body")
        if envelope.tag != f"{{{NS_SOAP12}}}Envelope" or body is None or len(body) == 0:
            return self._fault("s:Sender", "Not a SOAP 1.2 envelope.", 400)
        request.action = header.findtext(f"{{{NS_WSA}}}Action") if header is not None else None
        request.to = header.findtext(f"{{{NS_WSA}}}To") if header is not None else None
        operation_el = body[0]
        qname = etree.QName(operation_el)
        request.operation = qname.localname
        request.params = {etree.QName(child).localname: (child.text or "")
                          for child in operation_el.iter() if child is not operation_el
                          and len(child) == 0}
        expected = GUS_ACTIONS.get(qname.localname)
        if expected is None or qname.namespace != expected[0]:
            return self._fault("s:Sender", f"Unknown operation {qname.text}.", 500)
        if request.action != expected[1]:
            return self._fault(
                "s:Sender", f"The message with Action '{request.action}' cannot be processed at "
                            "the receiver, due to a ContractFilter mismatch at the "
                            "EndpointDispatcher.", 500)
        if f'action="{expected[1]}"' not in content_type:
            return self._fault("s:Sender", "The SOAP action in the Content-Type header does "
                                           "not match wsa:Action.", 500)
        if request.to != self.service_url:
            return self._fault(
                "s:Sender", f"The message with To '{request.to}' cannot be processed at the "
                            "receiver, due to an AddressFilter mismatch at the "
                            "EndpointDispatcher.", 500)
        handler = getattr(self, f"_op_{qname.localname}")
        return self._answer(qname.localname, expected, handler(request, operation_el))

    def _op_Zaloguj(self, request: Recorded, op: etree._Element) -> str:
        if request.params.get("pKluczUzytkownika") != GUS_TEST_KEY:
            return ""
        sid = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                      for _ in range(20))
        self.sessions.add(sid)
        self.issued_sids.append(sid)
        return sid

    def _op_Wyloguj(self, request: Recorded, op: etree._Element) -> str:
        sid = request.params.get("pIdentyfikatorSesji", "")
        if sid in self.sessions:
            self.sessions.discard(sid)
            return "true"
        return "false"

    def _op_GetValue(self, request: Recorded, op: etree._Element) -> str:
        sid = request.headers.get("sid", "")
        name = request.params.get("pNazwaParametru")
        alive = sid in self.sessions
        code, text = self.last_code.get(sid, ("0", "")) if alive else (self.expired_code, "")
        if name == "KomunikatKod":
            return code
        if name == "KomunikatTresc":
            return text if alive else "Brak sesji. Sesja wygasła lub przekazano nieprawidłową " \
                                      "wartość nagłówka sid."
        if name == "StatusSesji":
            return "1" if alive else "0"
        if name == "StatusUslugi":
            return "1"
        if name == "KomunikatUslugi":
            return ""
        if name == "StanDanych":
            return "06-05-2024"
        return ""

    def _session(self, request: Recorded) -> str | None:
        if self.expire_sessions > 0:
            self.expire_sessions -= 1
            self.sessions.clear()
        sid = request.headers.get("sid", "")
        return sid if sid in self.sessions else None

    def _op_DaneSzukajPodmioty(self, request: Recorded, op: etree._Element) -> str:
        sid = self._session(request)
        if sid is None:
            return ""
        criteria = op.find(f"{{{NS_BIR}}}pParametryWyszukiwania")
        given = {etree.QName(c).localname: (c.text or "").strip()
                 for c in (criteria if criteria is not None else [])
                 if etree.QName(c).namespace == NS_BIR_DATA and (c.text or "").strip()}
        if len(given) != 1:
            self.last_code[sid] = ("2", "Nieprawidłowe parametry wyszukiwania.")
            return ""
        ((kind, value),) = given.items()
        numbers = [n for n in re.split(r"[^0-9]+", value) if n]
        if kind in ("Nipy", "Regony9zn", "Regony14zn", "Krsy"):
            if len(numbers) > self.max_identifiers:
                message = "Do metody DaneSzukajPodmioty przekazano zbyt wiele identyfikatorów."
                self.last_code[sid] = ("2", message)
                return ""
        elif len(numbers) != 1:
            self.last_code[sid] = ("2", "Nieprawidłowe parametry wyszukiwania.")
            return ""
        rows = []
        for number in numbers:
            for record in self.entities.values():
                for row in record.search_rows:
                    if (kind in ("Nip", "Nipy") and row["Nip"] == number and row["Typ"] != "LP"
                            or kind in ("Regon", "Regony9zn", "Regony14zn")
                            and row["Regon"] == number
                            or kind in ("Krs", "Krsy") and record.krs == number.zfill(10)):
                        rows.append(row)
        if not rows:
            return self._not_found(sid, {kind: value})
        self.last_code[sid] = ("0", "")
        return self._result(rows)

    def _op_DanePobierzPelnyRaport(self, request: Recorded, op: etree._Element) -> str:
        sid = self._session(request)
        if sid is None:
            return ""
        regon = request.params.get("pRegon", "")
        report = request.params.get("pNazwaRaportu", "")
        known = {"BIR11OsPrawna", "BIR11OsPrawnaPkd", "BIR11OsPrawnaSpCywilnaWspolnicy",
                 "BIR11OsFizycznaDaneOgolne", "BIR11OsFizycznaDzialalnoscCeidg",
                 "BIR11OsFizycznaDzialalnoscRolnicza", "BIR11OsFizycznaDzialalnoscPozostala",
                 "BIR11OsFizycznaDzialalnoscSkreslonaDo20141108", "BIR11OsFizycznaPkd",
                 "BIR11JednLokalnaOsPrawnej", "BIR11JednLokalnaOsPrawnejPkd",
                 "BIR11JednLokalnaOsFizycznej", "BIR11JednLokalnaOsFizycznejPkd"}
        if report not in known:
            self.last_code[sid] = ("5", "Nieprawidłowa lub pusta nazwa raportu.")
            return self._result(_error_rows("5", "Nieprawidłowa lub pusta nazwa raportu.",
                                            "Invalid or empty report name.", Raport=report))
        record = self.entities.get(regon)
        rows = record.reports.get(report) if record else None
        if not rows:
            if report == "BIR11OsPrawnaSpCywilnaWspolnicy" and record:
                return self._result(_error_rows("21", "Podmiot nie jest spółką cywilną.",
                                                "Entity is not a civil partnership.",
                                                Regon=regon))
            return self._not_found(sid, {"Regon": regon, "Typ_podmiotu": "", "Raport": report},
                                   pl="Nie znaleziono wpisu dla podanych kryteriów "
                                      "wyszukiwania.")
        self.last_code[sid] = ("0", "")
        return self._result(rows)

    def _not_found(self, sid: str, echo: dict[str, str], pl: str = "Nie znaleziono podmiotu "
                   "dla podanych kryteriów wyszukiwania.") -> str:
        self.last_code[sid] = ("4", pl)
        if self.not_found_style == "empty":
            return ""
        return self._result(_error_rows("4", pl, "No data found for the specified search "
                                                 "criteria.", **echo))

    def _result(self, rows: list[dict[str, str]]) -> str:
        text = _inner_xml(rows)
        if self.malformed:
            text = text[: len(text) // 2]
        return text

    # -- framing -------------------------------------------------------------------------------
    def _answer(self, operation: str, expected: tuple[str, str], result: str) -> Response:
        namespace, action = expected
        inner = (f"<{operation}Result>{escape(result)}</{operation}Result>" if result
                 else f"<{operation}Result/>")
        envelope = (
            f'<s:Envelope xmlns:s="{NS_SOAP12}" xmlns:a="{NS_WSA}"><s:Header>'
            f'<a:Action s:mustUnderstand="1">{action}Response</a:Action></s:Header><s:Body>'
            f'<{operation}Response xmlns="{namespace}">{inner}</{operation}Response>'
            "</s:Body></s:Envelope>"
        ).encode()
        return self._frame(200, envelope)

    def _frame(self, status: int, envelope: bytes) -> Response:
        if not self.mtom:
            return status, {"Content-Type": "application/soap+xml; charset=utf-8"}, envelope
        boundary = f"uuid:{uuid.uuid4()}+id=1"
        body = (
            f"--{boundary}\r\n"
            "Content-ID: <http://tempuri.org/0>\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            'Content-Type: application/xop+xml;charset=utf-8;type="application/soap+xml"\r\n'
            "\r\n"
        ).encode("ascii") + envelope + f"\r\n--{boundary}--\r\n".encode("ascii")
        content_type = (f'multipart/related; type="application/xop+xml"; '
                        f'start="<http://tempuri.org/0>"; boundary="{boundary}"; '
                        'start-info="application/soap+xml"')
        return status, {"Content-Type": content_type}, body

    def _fault(self, code: str, reason: str, status: int) -> Response:
        envelope = (
            f'<s:Envelope xmlns:s="{NS_SOAP12}" xmlns:a="{NS_WSA}"><s:Header>'
            '<a:Action s:mustUnderstand="1">http://www.w3.org/2005/08/addressing/soap/fault'
            "</a:Action></s:Header><s:Body><s:Fault><s:Code>"
            f"<s:Value>{code}</s:Value></s:Code><s:Reason>"
            f'<s:Text xml:lang="en-US">{escape(reason)}</s:Text></s:Reason></s:Fault>'
            "</s:Body></s:Envelope>"
        ).encode()
        return status, {"Content-Type": "application/soap+xml; charset=utf-8"}, envelope


# ---------------------------------------------------------------------------------------------
# CEIDG API v3
# ---------------------------------------------------------------------------------------------
CEIDG_PREFIX = "/api/ceidg/v3"
KOWALSKI_CEIDG_ID = "6d2e1c9e-7f31-4a57-9a51-1c5a0c7b2f11"
KOWALSKI_OLD_CEIDG_ID = "0b7a4d63-2f0e-4d39-8d2e-5b9b3f1f0a22"
ZIELINSKA_CEIDG_ID = "f3a1b2c4-5d6e-4f70-8a9b-0c1d2e3f4a55"


def ceidg_dataset(base: str) -> list[dict[str, Any]]:
    kowalski_address = {"ulica": "ul. Wielicka", "budynek": "28", "lokal": "4",
                        "miasto": "Kraków", "wojewodztwo": "MAŁOPOLSKIE", "powiat": "Kraków",
                        "gmina": "Kraków", "kraj": "PL", "kod": "30-552", "terc": "1261059",
                        "simc": "0950463", "ulic": "24466"}
    return [
        {
            "id": KOWALSKI_CEIDG_ID,
            "nazwa": "USŁUGI INFORMATYCZNE JAN KOWALSKI",
            "adresDzialalnosci": kowalski_address,
            "adresKorespondencyjny": {"ulica": "ul. Kalwaryjska", "budynek": "9", "miasto":
                                      "Kraków", "kod": "30-504", "kraj": "PL"},
            "wlasciciel": {"imie": "JAN", "nazwisko": "KOWALSKI", "nip": KOWALSKI_NIP,
                           "regon": KOWALSKI_REGON},
            "obywatelstwa": [{"symbol": "PL", "kraj": "Polska"}],
            "pkd": [{"kod": "6201Z", "nazwa": "Działalność związana z oprogramowaniem"},
                    {"kod": "6202Z", "nazwa": "Działalność związana z doradztwem w zakresie "
                                              "informatyki"},
                    {"kod": "6311Z", "nazwa": "Przetwarzanie danych; zarządzanie stronami "
                                              "internetowymi (hosting) i podobna działalność"}],
            "pkdGlowny": {"kod": "6201Z", "nazwa": "Działalność związana z oprogramowaniem"},
            "dataRozpoczecia": "2015-03-01",
            "dataZawieszenia": "2020-04-01",
            "dataWznowienia": "2020-09-01",
            "status": "AKTYWNY",
            "numerStatusu": 1,
            "email": "biuro@kowalski-it.pl",
            "telefon": "+48126543210",
            "www": "https://kowalski-it.pl",
            "rokPkd": "2007",
            "link": f"{base}/firma/{KOWALSKI_CEIDG_ID}",
        },
        {
            "id": KOWALSKI_OLD_CEIDG_ID,
            "nazwa": "JAN KOWALSKI HANDEL OBWOŹNY",
            "adresDzialalnosci": kowalski_address,
            "wlasciciel": {"imie": "JAN", "nazwisko": "KOWALSKI", "nip": KOWALSKI_NIP,
                           "regon": KOWALSKI_REGON},
            "pkd": [{"kod": "4789Z", "nazwa": "Sprzedaż detaliczna pozostałych wyrobów "
                                              "prowadzona na straganach i targowiskach"}],
            "pkdGlowny": {"kod": "4789Z", "nazwa": "Sprzedaż detaliczna pozostałych wyrobów "
                                                  "prowadzona na straganach i targowiskach"},
            "dataRozpoczecia": "2009-04-01",
            "dataZakonczenia": "2013-05-31",
            "dataWykreslenia": "2013-06-10",
            "status": "WYKRESLONY",
            "numerStatusu": 3,
            "link": f"{base}/firma/{KOWALSKI_OLD_CEIDG_ID}",
        },
        {
            # v2-style record: PKD as plain strings
            "id": ZIELINSKA_CEIDG_ID,
            "nazwa": "BIURO RACHUNKOWE MARIA ZIELIŃSKA",
            "adresDzialalnosci": {"ulica": "ul. Półwiejska", "budynek": "12", "lokal": "",
                                  "miasto": "Poznań", "wojewodztwo": "WIELKOPOLSKIE",
                                  "powiat": "Poznań", "gmina": "Poznań", "kraj": "PL",
                                  "kod": "61-888"},
            "wlasciciel": {"imie": "MARIA", "nazwisko": "ZIELIŃSKA", "nip": ZIELINSKA_NIP,
                           "regon": ZIELINSKA_REGON},
            "pkd": ["6920Z", "8291Z"],
            "pkdGlowny": "6920Z",
            "dataRozpoczecia": "2011-10-03",
            "dataZawieszenia": "2024-01-01",
            "status": "ZAWIESZONY",
            "numerStatusu": 2,
            "link": f"{base}/firma/{ZIELINSKA_CEIDG_ID}",
        },
    ]


_CEIDG_SUMMARY_KEYS = ("id", "nazwa", "adresDzialalnosci", "wlasciciel", "dataRozpoczecia",
                       "status", "link")


class CeidgFake(FakeServer):
    """CEIDG API v3: ``/firmy?nip=|regon=``, ``/firma/{id}``; Bearer token required.

    Switches: ``rate_limited`` (how many next requests get 429), ``retry_after`` (header value,
    ``None`` to omit it), ``unavailable`` (503 maintenance page), ``malformed`` (200 with a
    truncated JSON body), ``not_found_status`` (204 or 404 for an empty search).
    """

    def reset(self) -> None:
        super().reset()
        self.rate_limited = 0
        self.retry_after: str | None = "0"
        self.unavailable = False
        self.malformed = False
        self.not_found_status = 204

    @property
    def base_url(self) -> str:
        return self.url + CEIDG_PREFIX

    def handle(self, request: Recorded) -> Response:
        if request.method != "GET" or not request.path.startswith(CEIDG_PREFIX + "/"):
            return self.json_response(404, {"code": "NOT_FOUND", "message": "Nie znaleziono"})
        if request.headers.get("authorization") != f"Bearer {CEIDG_TOKEN}":
            return self.json_response(401, {"code": "UNAUTHORIZED",
                                            "message": "Brak autoryzacji"})
        if self.rate_limited > 0:
            self.rate_limited -= 1
            headers = {} if self.retry_after is None else {"Retry-After": self.retry_after}
            return self.json_response(429, {"code": "TOO_MANY_REQUESTS",
                                            "message": "Przekroczono limit zapytań"}, headers)
        if self.unavailable:
            return self.text_response(
                503, "<html><body><h1>Przerwa techniczna</h1><p>Trwają prace serwisowe. "
                     "Przepraszamy za utrudnienia.</p></body></html>")
        data = ceidg_dataset(self.base_url)
        resource = request.path[len(CEIDG_PREFIX):]
        if resource == "/firmy":
            return self._firmy(request, data)
        if resource.startswith("/firma/"):
            firm_id = resource[len("/firma/"):]
            found = [item for item in data if item["id"] == firm_id]
            if not found:
                return self.json_response(404, {"code": "NIE_ZNALEZIONO_FIRMY",
                                                "message": "Nie znaleziono firmy"})
            return self._ok({"firma": found, "properties": {"dc:title": "Szczegóły firmy",
                                                            "dc:language": "pl"}})
        return self.json_response(404, {"code": "NOT_FOUND", "message": "Nie znaleziono"})

    def _firmy(self, request: Recorded, data: list[dict[str, Any]]) -> Response:
        nip = (request.query.get("nip") or [None])[0]
        regon = (request.query.get("regon") or [None])[0]
        if nip is None and regon is None:
            return self.json_response(400, {"code": "BRAK_PARAMETROW_ZAPYTANIA",
                                            "message": "Brak parametrów zapytania"})
        if nip is not None and not pl_nip.is_valid(nip):
            return self.json_response(400, {"code": "NIEPOPRAWNY_NUMER_NIP",
                                            "message": "Niepoprawny numer NIP"})
        if regon is not None and not pl_regon.is_valid(regon):
            return self.json_response(400, {"code": "NIEPOPRAWNY_NUMER_REGON",
                                            "message": "Niepoprawny numer REGON"})
        found = [item for item in data
                 if (nip is None or item["wlasciciel"]["nip"] == nip)
                 and (regon is None or item["wlasciciel"]["regon"] == regon)]
        if not found:
            if self.not_found_status == 204:
                return 204, {}, b""
            return self.json_response(404, {"code": "NIE_ZNALEZIONO",
                                            "message": "Nie znaleziono firm"})
        query = request.path + "?" + "&".join(f"{k}={v[0]}" for k, v in request.query.items())
        return self._ok({
            "firmy": [{key: item[key] for key in _CEIDG_SUMMARY_KEYS} for item in found],
            "count": len(found),
            "links": {"first": self.url + query, "last": self.url + query,
                      "self": self.url + query},
            "properties": {"dc:title": "Lista firm", "dc:language": "pl",
                           "schema:provider": "dane.biznes.gov.pl"},
        })

    def _ok(self, document: dict[str, Any]) -> Response:
        status, headers, body = self.json_response(200, document)
        if self.malformed:
            body = body[: len(body) // 2]
        return status, headers, body


# ---------------------------------------------------------------------------------------------
# VIES
# ---------------------------------------------------------------------------------------------
NS_SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
NS_VIES = "urn:ec.europa.eu:taxud:vies:services:checkVat:types"
VIES_REST_PATH = "/taxation_customs/vies/rest-api"
VIES_SOAP_PATH = "/taxation_customs/vies/services/checkVatService"

VIES_DATASET = {
    ("PL", ORLEN_NIP): ("ORLEN SPÓŁKA AKCYJNA", "CHEMIKÓW 7\n09-411 PŁOCK"),
    ("PL", KOWALSKI_NIP): ("USŁUGI INFORMATYCZNE JAN KOWALSKI",
                           "UL. WIELICKA 28/4\n30-552 KRAKÓW"),
    ("DE", DE_VAT): ("---", "---"),  # Germany does not disclose names
}


class ViesFake(FakeServer):
    """VIES: REST ``POST …/check-vat-number`` and the SOAP ``checkVat``/``checkVatApprox``.

    Switches: ``rest_down`` (REST answers 503 — the client must fall back to SOAP),
    ``soap_down`` (SOAP answers 503 HTML), ``unavailable_states`` (member states answering
    ``MS_UNAVAILABLE``, both endpoints), ``busy`` (REST ``userError: MS_MAX_CONCURRENT_REQ``),
    ``malformed`` (REST 200 with HTML), ``force_error`` (an ``errorWrappers`` error).
    """

    def reset(self) -> None:
        super().reset()
        self.rest_down = False
        self.soap_down = False
        self.unavailable_states: set[str] = set()
        self.busy = False
        self.malformed = False
        #: ``(code, http_status)``: answer every REST call with this ``errorWrappers`` error.
        self.force_error: tuple[str, int] | None = None

    @property
    def rest_url(self) -> str:
        return self.url + VIES_REST_PATH

    @property
    def soap_url(self) -> str:
        return self.url + VIES_SOAP_PATH

    def handle(self, request: Recorded) -> Response:
        if request.method == "POST" and request.path == VIES_REST_PATH + "/check-vat-number":
            return self._rest(request)
        if request.method == "POST" and request.path == VIES_SOAP_PATH:
            return self._soap(request)
        return self.text_response(404, "<html><body>Not Found</body></html>")

    @staticmethod
    def _consultation_number() -> str:
        return "WAPIAAAAY" + "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                                     for _ in range(7))

    def _rest(self, request: Recorded) -> Response:
        request.operation = "rest"
        if self.rest_down:
            return self.text_response(503, "<html><body>503 Service Unavailable</body></html>")
        if self.malformed:
            return self.text_response(200, "<html><body>VIES maintenance</body></html>")
        if self.force_error:
            code, status = self.force_error
            return self.json_response(status, {"actionSucceed": False,
                                               "errorWrappers": [{"error": code}]})
        if not request.headers.get("content-type", "").startswith("application/json"):
            return self.json_response(415, {"actionSucceed": False, "errorWrappers": [
                {"error": "UNSUPPORTED_MEDIA_TYPE"}]})
        try:
            body = json.loads(request.body)
            country, number = body["countryCode"], body["vatNumber"]
        except (ValueError, KeyError, TypeError):
            return self.json_response(400, {"actionSucceed": False, "errorWrappers": [
                {"error": "INVALID_INPUT", "message": "Invalid request body"}]})
        request.params = {k: str(v) for k, v in body.items()}
        if not (isinstance(country, str) and re.fullmatch(r"[A-Z]{2}", country)
                and isinstance(number, str) and re.fullmatch(r"[0-9A-Z+*]{2,12}", number)):
            return self.json_response(400, {"actionSucceed": False, "errorWrappers": [
                {"error": "INVALID_INPUT", "message": "The provided CountryCode is invalid or "
                                                      "the VAT number is empty"}]})
        if country in self.unavailable_states:
            return self.json_response(200, {"actionSucceed": False, "errorWrappers": [
                {"error": "MS_UNAVAILABLE", "message": "The Member State service is "
                                                       "unavailable, try again later"}]})
        now = datetime.now(UTC)
        if self.busy:
            return self.json_response(200, {
                "countryCode": country, "vatNumber": number,
                "requestDate": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "valid": False, "userError": "MS_MAX_CONCURRENT_REQ", "name": "---",
                "address": "---"})
        name, address = VIES_DATASET.get((country, number), ("---", "---"))
        valid = (country, number) in VIES_DATASET
        requester = body.get("requesterNumber")
        document = {
            "countryCode": country,
            "vatNumber": number,
            "requestDate": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "valid": valid,
            "requestIdentifier": self._consultation_number() if requester else "",
            "name": name,
            "address": address,
            "traderName": "", "traderStreet": "", "traderPostalCode": "", "traderCity": "",
            "traderCompanyType": "",
            "traderNameMatch": "NOT_PROCESSED", "traderStreetMatch": "NOT_PROCESSED",
            "traderPostalCodeMatch": "NOT_PROCESSED", "traderCityMatch": "NOT_PROCESSED",
            "traderCompanyTypeMatch": "NOT_PROCESSED",
        }
        return self.json_response(200, document)

    def _soap(self, request: Recorded) -> Response:
        if self.soap_down:
            return self.text_response(503, "<html><body>503 Service Unavailable</body></html>")
        if not request.headers.get("content-type", "").startswith("text/xml"):
            return self.text_response(415, "Unsupported Media Type", "text/plain")
        if "soapaction" not in request.headers:
            return self._soap_fault("soap:Client", "Missing SOAPAction header")
        try:
            envelope = etree.fromstring(request.body)
        except etree.XMLSyntaxError:
            return self._soap_fault("soap:Client", "Unmarshalling Error")
        body = envelope.find(f"{{{NS_SOAP11}}}Body")
        if envelope.tag != f"{{{NS_SOAP11}}}Envelope" or body is None or len(body) == 0:
            return self._soap_fault("soap:Client", "Not a SOAP 1.1 envelope")
        op = body[0]
        qname = etree.QName(op)
        request.operation = qname.localname
        request.params = {etree.QName(c).localname: (c.text or "") for c in op}
        if qname.namespace != NS_VIES or qname.localname not in ("checkVat", "checkVatApprox"):
            return self._soap_fault("soap:Client", "Unknown operation")
        country = request.params.get("countryCode", "")
        number = request.params.get("vatNumber", "")
        if not re.fullmatch(r"[A-Z]{2}", country) or not number:
            return self._soap_fault("soap:Server", "INVALID_INPUT")
        if country in self.unavailable_states:
            return self._soap_fault("soap:Server", "MS_UNAVAILABLE")
        valid = (country, number) in VIES_DATASET
        name, address = VIES_DATASET.get((country, number), ("---", "---"))
        today = date.today().isoformat() + "+02:00"
        if qname.localname == "checkVat":
            fields = [("countryCode", country), ("vatNumber", number), ("requestDate", today),
                      ("valid", "true" if valid else "false"), ("name", name),
                      ("address", address)]
        else:
            fields = [("countryCode", country), ("vatNumber", number), ("requestDate", today),
                      ("valid", "true" if valid else "false"), ("traderName", name),
                      ("traderCompanyType", "---"), ("traderAddress", address),
                      ("requestIdentifier", self._consultation_number())]
        inner = "".join(f"<ns2:{k}>{escape(v)}</ns2:{k}>" for k, v in fields)
        document = (
            f'<env:Envelope xmlns:env="{NS_SOAP11}"><env:Header/><env:Body>'
            f'<ns2:{qname.localname}Response xmlns:ns2="{NS_VIES}">{inner}'
            f"</ns2:{qname.localname}Response></env:Body></env:Envelope>"
        )
        return 200, {"Content-Type": "text/xml; charset=UTF-8"}, document.encode("utf-8")

    def _soap_fault(self, code: str, text: str) -> Response:
        document = (
            f'<env:Envelope xmlns:env="{NS_SOAP11}"><env:Header/><env:Body>'
            f'<env:Fault><faultcode xmlns:soap="{NS_SOAP11}">{code}</faultcode>'
            f"<faultstring>{escape(text)}</faultstring></env:Fault></env:Body></env:Envelope>"
        )
        return 500, {"Content-Type": "text/xml; charset=UTF-8"}, document.encode("utf-8")


# ---------------------------------------------------------------------------------------------
# MF VAT White List
# ---------------------------------------------------------------------------------------------
def whitelist_dataset() -> list[dict[str, Any]]:
    return [
        {
            "name": "ORLEN SPÓŁKA AKCYJNA", "nip": ORLEN_NIP, "statusVat": "Czynny",
            "regon": ORLEN_REGON, "pesel": None, "krs": ORLEN_KRS,
            "residenceAddress": None, "workingAddress": "CHEMIKÓW 7, 09-411 PŁOCK",
            "representatives": [], "authorizedClerks": [], "partners": [],
            "registrationLegalDate": "1993-07-13", "registrationDenialDate": None,
            "registrationDenialBasis": None, "restorationDate": None, "restorationBasis": None,
            "removalDate": None, "removalBasis": None,
            "accountNumbers": list(ORLEN_ACCOUNTS), "hasVirtualAccounts": True,
        },
        {
            "name": "USŁUGI INFORMATYCZNE JAN KOWALSKI", "nip": KOWALSKI_NIP,
            "statusVat": "Zwolniony", "regon": KOWALSKI_REGON, "pesel": None, "krs": None,
            "residenceAddress": "WIELICKA 28/4, 30-552 KRAKÓW", "workingAddress": None,
            "representatives": [], "authorizedClerks": [], "partners": [],
            "registrationLegalDate": "2015-03-01", "registrationDenialDate": None,
            "registrationDenialBasis": None, "restorationDate": None, "restorationBasis": None,
            "removalDate": None, "removalBasis": None,
            "accountNumbers": [KOWALSKI_ACCOUNT], "hasVirtualAccounts": False,
        },
        {
            "name": "KWIACIARNIA RÓŻA S.C. ANNA NOWAK, PIOTR WIŚNIEWSKI", "nip": ROZA_NIP,
            "statusVat": "Czynny", "regon": ROZA_REGON, "pesel": None, "krs": None,
            "residenceAddress": None, "workingAddress": "DŁUGA 45/1, 80-831 GDAŃSK",
            "representatives": [],
            "authorizedClerks": [{"companyName": None, "firstName": "ANNA", "lastName": "NOWAK",
                                  "nip": None, "pesel": None}],
            "partners": [{"companyName": None, "firstName": "ANNA", "lastName": "NOWAK",
                          "nip": make_nip("584111222"), "pesel": None},
                         {"companyName": None, "firstName": "PIOTR", "lastName": "WIŚNIEWSKI",
                          "nip": make_nip("584333444"), "pesel": None}],
            "registrationLegalDate": "2012-03-01", "registrationDenialDate": None,
            "registrationDenialBasis": None, "restorationDate": None, "restorationBasis": None,
            "removalDate": None, "removalBasis": None,
            "accountNumbers": [ROZA_ACCOUNT], "hasVirtualAccounts": False,
        },
        {
            "name": "BIURO RACHUNKOWE MARIA ZIELIŃSKA", "nip": ZIELINSKA_NIP,
            "statusVat": "Niezarejestrowany", "regon": ZIELINSKA_REGON, "pesel": None,
            "krs": None, "residenceAddress": None, "workingAddress": None,
            "representatives": [], "authorizedClerks": [], "partners": [],
            "registrationLegalDate": "2011-10-03", "registrationDenialDate": None,
            "registrationDenialBasis": None, "restorationDate": None, "restorationBasis": None,
            "removalDate": "2024-01-31", "removalBasis": "Art. 96 ust. 9 ustawy o VAT",
            "accountNumbers": [], "hasVirtualAccounts": False,
        },
    ]


class WhiteListFake(FakeServer):
    """MF White List API: ``/api/search/{nip,regon,bank-account,nips,regons}/…?date=`` and
    ``/api/check/nip/{nip}/bank-account/{nrb}?date=``.

    Switches: ``rate_limited`` (429 with ``Retry-After: 1``), ``unavailable`` (503
    ``{"code": "HTTP-503", …}``), ``malformed`` (200 with an HTML page), ``force_error``
    (a ``WL-1xx`` error document).
    """

    def reset(self) -> None:
        super().reset()
        self.rate_limited = False
        self.unavailable = False
        self.malformed = False
        #: ``(code, message)``: answer every request with this HTTP 400 error document.
        self.force_error: tuple[str, str] | None = None

    def _meta(self) -> dict[str, str]:
        now = datetime.now()
        return {"requestId": "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                     for _ in range(5)) + "-" + now.strftime("%H%M%S%f")[:9],
                "requestDateTime": now.strftime("%d-%m-%Y %H:%M:%S")}

    @staticmethod
    def _error(code: str, message: str) -> Response:
        return FakeServer.json_response(400, {"code": code, "message": message})

    def handle(self, request: Recorded) -> Response:
        if self.rate_limited:
            return self.json_response(429, {"code": "HTTP-429", "message": "Too Many Requests"},
                                      {"Retry-After": "1"})
        if self.unavailable:
            return self.json_response(503, {"code": "HTTP-503", "message": "Usługa niedostępna"})
        if self.malformed:
            return self.text_response(200, "<html><body>Wykaz podatników VAT</body></html>")
        if self.force_error:
            return self._error(*self.force_error)
        if request.method != "GET":
            return self.json_response(405, {"code": "WL-190", "message": "Niepoprawne żądanie."})
        dates = request.query.get("date")
        if not dates or not dates[0]:
            return self._error("WL-101", "Pole 'data' nie może być puste.")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", dates[0]):
            return self._error("WL-103", "Pole 'data' ma nieprawidłowy format.")
        parts = request.path.strip("/").split("/")
        subjects = whitelist_dataset()
        match parts:
            case ["api", "search", "nip", nip]:
                if not pl_nip.is_valid(nip):
                    return self._error("WL-113", "Pole 'NIP' ma nieprawidłowy format.")
                found = next((s for s in subjects if s["nip"] == nip), None)
                return self.json_response(200, {"result": {"subject": found, **self._meta()}})
            case ["api", "search", "regon", regon]:
                if not pl_regon.is_valid(regon):
                    return self._error("WL-115", "Pole 'REGON' ma nieprawidłowy format.")
                found = next((s for s in subjects if s["regon"] == regon), None)
                return self.json_response(200, {"result": {"subject": found, **self._meta()}})
            case ["api", "search", "bank-account", account]:
                if not iban.is_valid("PL" + account):
                    return self._error("WL-109", "Pole 'numer konta' ma nieprawidłowy format.")
                found = [s for s in subjects if account in s["accountNumbers"]]
                return self.json_response(200, {"result": {"subjects": found, **self._meta()}})
            case ["api", "search", ("nips" | "regons") as kind, joined]:
                identifiers = joined.split(",")
                if len(identifiers) > 30:
                    return self._error("WL-130", "Przekroczono maksymalną liczbę 30 "
                                                 "identyfikatorów.")
                key = "nip" if kind == "nips" else "regon"
                entries = []
                for identifier in identifiers:
                    found = [s for s in subjects if s[key] == identifier]
                    entries.append({"identifier": identifier, "subjects": found})
                return self.json_response(200, {"result": {"entries": entries, **self._meta()}})
            case ["api", "check", "nip", nip, "bank-account", account]:
                if not pl_nip.is_valid(nip):
                    return self._error("WL-113", "Pole 'NIP' ma nieprawidłowy format.")
                subject = next((s for s in subjects if s["nip"] == nip), None)
                assigned = bool(subject and account in subject["accountNumbers"])
                return self.json_response(200, {"result": {
                    "accountAssigned": "TAK" if assigned else "NIE", **self._meta()}})
        return self.json_response(404, {"code": "WL-190", "message": "Niepoprawne żądanie."})
