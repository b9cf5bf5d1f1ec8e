"""VIES client: the European Commission's VAT Information Exchange System.

Follows the official documents of the European Commission (DG TAXUD):

* REST: *„VIES — VAT number validation REST API”*, OpenAPI description
  ``swagger_publicVAT.yaml`` — ``POST {base}/check-vat-number`` with JSON
  ``{"countryCode", "vatNumber", "requesterMemberStateCode", "requesterNumber"}`` →
  ``{"valid", "name", "address", "requestDate", "requestIdentifier", …}``; errors as
  ``{"actionSucceed": false, "errorWrappers": [{"error": "MS_UNAVAILABLE", …}]}`` (or a
  ``userError`` field).
* SOAP (fallback): WSDL ``checkVatService.wsdl`` — SOAP 1.1, namespace
  ``urn:ec.europa.eu:taxud:vies:services:checkVat:types``, operations ``checkVat`` and
  ``checkVatApprox`` (the latter returns the consultation number ``requestIdentifier`` when the
  requester's own VAT number is given); errors as SOAP faults whose ``faultstring`` is the code.

The SOAP endpoint is used only when the REST endpoint fails with a server (5xx) or transport
error. ``MS_UNAVAILABLE``, ``MS_MAX_CONCURRENT_REQ``, ``GLOBAL_MAX_CONCURRENT_REQ``,
``SERVICE_UNAVAILABLE`` and ``TIMEOUT`` raise :class:`Retryable`; ``INVALID_INPUT`` and other
codes raise a plain :class:`RegistryError`. Names/addresses returned as ``---`` (member states
that do not disclose them, e.g. DE) become ``None``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
from lxml import etree

from ._http import DEFAULT_TIMEOUT, BaseClient
from .errors import RegistryError, Retryable
from .models import blank_to_none, parse_date
from .numbers import clean_vat

VIES_REST_URL = "https://ec.europa.eu/taxation_customs/vies/rest-api"
VIES_SOAP_URL = "https://ec.europa.eu/taxation_customs/vies/services/checkVatService"
VIES_SOAP_TEST_URL = "https://ec.europa.eu/taxation_customs/vies/services/checkVatTestService"

NS_SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
NS_VIES = "urn:ec.europa.eu:taxud:vies:services:checkVat:types"

SOURCE = "VIES"
logger = logging.getLogger("kartoteka.registries.vies")

def _parser() -> etree.XMLParser:
    """A hardened parser (no entities, no DTD, no network), one per call."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)

#: Temporary conditions: the same query may succeed later.
RETRYABLE_CODES = {
    "MS_UNAVAILABLE",
    "MS_MAX_CONCURRENT_REQ",
    "MS_MAX_CONCURRENT_REQ_TIME",
    "GLOBAL_MAX_CONCURRENT_REQ",
    "GLOBAL_MAX_CONCURRENT_REQ_TIME",
    "SERVICE_UNAVAILABLE",
    "TIMEOUT",
}
_NOT_ERRORS = {"VALID", "INVALID", ""}
_FALLBACK_CODES = {"TRANSPORT-CONNECT", "TRANSPORT-TIMEOUT", "TRANSPORT-ERROR"}


@dataclass
class ViesResult:
    """The answer of VIES for one VAT number."""

    country_code: str
    vat_number: str
    valid: bool
    name: str | None = None
    address: str | None = None
    request_date: date | None = None
    #: Consultation number — proof of the check for the tax authorities (only when the
    #: requester's own VAT number was given).
    request_identifier: str | None = None
    requester: str | None = None
    #: ``"rest"`` or ``"soap"``: which endpoint answered.
    source: str = "rest"
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def full_number(self) -> str:
        return self.country_code + self.vat_number


def error_for(code: str, country_code: str | None = None,
              detail: str | None = None) -> RegistryError:
    """The error raised for a VIES error code (``MS_UNAVAILABLE``, ``INVALID_INPUT``, …)."""
    code = (code or "").strip().upper()
    state = f" ({country_code})" if country_code else ""
    messages = {
        "MS_UNAVAILABLE": f"System VAT państwa członkowskiego{state} jest chwilowo niedostępny "
                          "w VIES. Spróbuj ponownie później.",
        "MS_MAX_CONCURRENT_REQ": f"System VAT państwa członkowskiego{state} otrzymał zbyt wiele "
                                 "zapytań naraz. Spróbuj ponownie za chwilę.",
        "GLOBAL_MAX_CONCURRENT_REQ": "VIES otrzymał zbyt wiele zapytań naraz. "
                                     "Spróbuj ponownie za chwilę.",
        "SERVICE_UNAVAILABLE": "Usługa VIES jest chwilowo niedostępna. "
                               "Spróbuj ponownie później.",
        "TIMEOUT": f"System VAT państwa członkowskiego{state} nie odpowiedział na czas. "
                   "Spróbuj ponownie później.",
        "INVALID_INPUT": "VIES odrzucił zapytanie: nieprawidłowy kod kraju lub numer VAT.",
        "INVALID_REQUESTER_INFO": "VIES odrzucił zapytanie: nieprawidłowy numer VAT "
                                  "podmiotu sprawdzającego.",
        "VAT_BLOCKED": "VIES odmówił sprawdzenia tego numeru VAT (numer zablokowany).",
        "IP_BLOCKED": "VIES zablokował zapytania z tego adresu IP.",
    }
    base = code.removesuffix("_TIME")
    message = messages.get(code) or messages.get(base) or (
        f"VIES zwrócił błąd {code or 'bez kodu'}" + (f": {detail}." if detail else "."))
    error_class = Retryable if code in RETRYABLE_CODES else RegistryError
    return error_class(message, source=SOURCE, code=code or None, details=detail)


class ViesClient(BaseClient):
    """Client of VIES: REST first, SOAP as the fallback.

    ``ViesClient(rest_url=VIES_REST_URL, soap_url=VIES_SOAP_URL, *, timeout=10.0, client=None,
    requester=None, soap_fallback=True)``; ``requester`` is your own EU VAT number
    (e.g. ``"PL5260250274"``) — with it VIES returns a consultation number.
    """

    source_name = SOURCE
    logger = logger

    def __init__(self, rest_url: str = VIES_REST_URL, soap_url: str | None = VIES_SOAP_URL, *,
                 timeout: float = DEFAULT_TIMEOUT, client: httpx.Client | None = None,
                 requester: str | None = None, soap_fallback: bool = True) -> None:
        super().__init__(timeout=timeout, client=client)
        self.rest_url = rest_url.rstrip("/")
        self.soap_url = soap_url
        self.requester = requester
        self.soap_fallback = soap_fallback and bool(soap_url)

    # -- public API ----------------------------------------------------------------------------
    def check(self, vat_number: str, country_code: str | None = None, *,
              requester: str | None = None) -> ViesResult:
        """Check a VAT number (``"PL7740001454"`` or ``("7740001454", "PL")``)."""
        country, number = clean_vat(vat_number, country_code)
        requester_parts = self._requester(requester)
        try:
            return self._check_rest(country, number, requester_parts)
        except Retryable as exc:
            if not self.soap_fallback or not _is_server_failure(exc):
                raise
            logger.warning("VIES REST failed (%s), falling back to SOAP", exc.code)
        return self._check_soap(country, number, requester_parts)

    def check_rest(self, vat_number: str, country_code: str | None = None, *,
                   requester: str | None = None) -> ViesResult:
        """REST only (no fallback)."""
        country, number = clean_vat(vat_number, country_code)
        return self._check_rest(country, number, self._requester(requester))

    def check_soap(self, vat_number: str, country_code: str | None = None, *,
                   requester: str | None = None) -> ViesResult:
        """SOAP only: ``checkVatApprox`` with a requester, ``checkVat`` without."""
        country, number = clean_vat(vat_number, country_code)
        return self._check_soap(country, number, self._requester(requester))

    # -- REST ----------------------------------------------------------------------------------
    def _requester(self, requester: str | None) -> tuple[str, str] | None:
        value = requester or self.requester
        return clean_vat(value) if value else None

    def _check_rest(self, country: str, number: str,
                    requester: tuple[str, str] | None) -> ViesResult:
        payload: dict[str, str] = {"countryCode": country, "vatNumber": number}
        if requester:
            payload["requesterMemberStateCode"], payload["requesterNumber"] = requester
        response = self._send("POST", f"{self.rest_url}/check-vat-number", json=payload,
                              headers={"Accept": "application/json"})
        status = response.status_code
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            code = _rest_error_code(data)
            if code:
                raise error_for(code, country, _rest_error_message(data))
        if status >= 500:
            raise Retryable("Usługa VIES jest chwilowo niedostępna "
                            f"(HTTP {status}). Spróbuj ponownie później.",
                            source=SOURCE, code=f"HTTP-{status}")
        if status == 429:
            raise error_for("GLOBAL_MAX_CONCURRENT_REQ", country)
        if status >= 400:
            raise RegistryError(f"VIES odrzucił zapytanie (HTTP {status}).", source=SOURCE,
                                code=f"HTTP-{status}")
        if not isinstance(data, dict):
            raise self._malformed("odpowiedź nie jest obiektem JSON", response=response)
        valid = data.get("valid", data.get("isValid"))
        if not isinstance(valid, bool):
            raise self._malformed("brak pola „valid”", response=response)
        return ViesResult(
            country_code=str(data.get("countryCode") or country),
            vat_number=str(data.get("vatNumber") or number),
            valid=valid,
            name=blank_to_none(data.get("name")),
            address=_address(data.get("address")),
            request_date=parse_date(data.get("requestDate")),
            request_identifier=blank_to_none(data.get("requestIdentifier")),
            requester="".join(requester) if requester else None,
            source="rest",
            raw=data,
        )

    # -- SOAP ----------------------------------------------------------------------------------
    def _check_soap(self, country: str, number: str,
                    requester: tuple[str, str] | None) -> ViesResult:
        if not self.soap_url:
            raise RegistryError("Nie skonfigurowano adresu usługi SOAP VIES.", source=SOURCE)
        operation = "checkVatApprox" if requester else "checkVat"
        params = [("countryCode", country), ("vatNumber", number)]
        if requester:
            params += [("requesterCountryCode", requester[0]),
                       ("requesterVatNumber", requester[1])]
        payload = build_soap_request(operation, params)
        response = self._send("POST", self.soap_url, content=payload,
                              headers={"Content-Type": "text/xml; charset=utf-8",
                                       "SOAPAction": '""'})
        status = response.status_code
        envelope = None
        parse_error: Exception | None = None
        try:
            envelope = etree.fromstring(response.content, _parser())
        except etree.XMLSyntaxError as exc:
            parse_error = exc
        body = envelope.find(f"{{{NS_SOAP11}}}Body") if envelope is not None else None
        if body is None or envelope.tag != f"{{{NS_SOAP11}}}Envelope":
            # not a SOAP answer (an HTML error page, a proxy's message, garbage)
            if status >= 500:
                raise Retryable("Usługa VIES (SOAP) jest chwilowo niedostępna "
                                f"(HTTP {status}). Spróbuj ponownie później.",
                                source=SOURCE, code=f"HTTP-{status}")
            if status >= 400:
                raise RegistryError(f"VIES odrzucił zapytanie (HTTP {status}).",
                                    source=SOURCE, code=f"HTTP-{status}")
            raise self._malformed("nieprawidłowa koperta SOAP", response=response,
                                  exc=parse_error)
        fault = body.find(f"{{{NS_SOAP11}}}Fault")
        if fault is not None:
            code = (fault.findtext("faultstring") or "").strip()
            raise error_for(code, country)
        if status >= 400:
            raise RegistryError(f"VIES odrzucił zapytanie (HTTP {status}).", source=SOURCE,
                                code=f"HTTP-{status}")
        answer = body.find(f"{{{NS_VIES}}}{operation}Response")
        if answer is None:
            raise self._malformed(f"brak elementu {operation}Response", response=response)
        values = {etree.QName(child).localname: (child.text or "").strip()
                  for child in answer if isinstance(child.tag, str)}
        valid = values.get("valid", "").lower()
        if valid not in ("true", "false"):
            raise self._malformed("brak pola „valid”", response=response)
        return ViesResult(
            country_code=values.get("countryCode") or country,
            vat_number=values.get("vatNumber") or number,
            valid=valid == "true",
            name=blank_to_none(values.get("name") or values.get("traderName")),
            address=_address(values.get("address") or values.get("traderAddress")),
            request_date=parse_date(values.get("requestDate")),
            request_identifier=blank_to_none(values.get("requestIdentifier")),
            requester="".join(requester) if requester else None,
            source="soap",
            raw=values,
        )


def build_soap_request(operation: str, params: list[tuple[str, str]]) -> bytes:
    """A SOAP 1.1 ``checkVat`` / ``checkVatApprox`` request envelope."""
    envelope = etree.Element(f"{{{NS_SOAP11}}}Envelope",
                             nsmap={"soapenv": NS_SOAP11, "urn": NS_VIES})
    etree.SubElement(envelope, f"{{{NS_SOAP11}}}Header")
    body = etree.SubElement(envelope, f"{{{NS_SOAP11}}}Body")
    op = etree.SubElement(body, f"{{{NS_VIES}}}{operation}")
    for name, value in params:
        etree.SubElement(op, f"{{{NS_VIES}}}{name}").text = value
    return etree.tostring(envelope, xml_declaration=True, encoding="utf-8")


def _rest_error_code(data: dict[str, Any]) -> str | None:
    wrappers = data.get("errorWrappers")
    if isinstance(wrappers, list) and wrappers:
        first = wrappers[0] if isinstance(wrappers[0], dict) else {}
        return str(first.get("error") or "SERVICE_UNAVAILABLE")
    if data.get("actionSucceed") is False:
        return "SERVICE_UNAVAILABLE"
    user_error = str(data.get("userError") or "").strip().upper()
    if user_error not in _NOT_ERRORS:
        return user_error
    return None


def _rest_error_message(data: dict[str, Any]) -> str | None:
    wrappers = data.get("errorWrappers")
    if isinstance(wrappers, list) and wrappers and isinstance(wrappers[0], dict):
        return blank_to_none(wrappers[0].get("message"))
    return None


def _address(value: Any) -> str | None:
    text = blank_to_none(value)
    if text is None:
        return None
    return re.sub(r"\s*\n\s*", ", ", text).strip(", ")


def _is_server_failure(exc: Retryable) -> bool:
    code = exc.code or ""
    return code in _FALLBACK_CODES or bool(re.fullmatch(r"HTTP-5\d\d", code))


__all__ = [
    "RETRYABLE_CODES",
    "VIES_REST_URL",
    "VIES_SOAP_TEST_URL",
    "VIES_SOAP_URL",
    "ViesClient",
    "ViesResult",
    "build_soap_request",
    "error_for",
]
