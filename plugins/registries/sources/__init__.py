"""Protocol clients for the Polish/EU public registries used by the ``registries`` plugin.

Pure Python (httpx, lxml, python-stdnum); no Flask, no database, no caching — the plugin adds
those. Each client takes its endpoint URL (production and test URLs are module constants), a
timeout and an optional ``httpx.Client``; every identifier is validated locally before a request
is made.

* :class:`~.gus.GusClient` — GUS BIR 1.1 (REGON database), SOAP 1.2 + WS-Addressing + MTOM.
* :class:`~.ceidg.CeidgClient` — CEIDG API v3 (dane.biznes.gov.pl), REST + Bearer token.
* :class:`~.vies.ViesClient` — EU VIES, REST with the SOAP ``checkVat`` fallback.
* :class:`~.whitelist.WhiteListClient` — MF VAT White List (wl-api.mf.gov.pl), REST.

Errors: :mod:`.errors` (``RegistryError`` and subclasses, messages in Polish).
"""

from .ceidg import CEIDG_PRODUCTION_URL, CEIDG_TEST_URL, CeidgClient, CeidgFirm, CeidgFirmSummary
from .errors import (
    AuthenticationError,
    InvalidNumber,
    MalformedResponse,
    NotFound,
    RateLimited,
    RegistryError,
    Retryable,
    TooManyIdentifiers,
)
from .gus import (
    GUS_PRODUCTION_URL,
    GUS_TEST_KEY,
    GUS_TEST_URL,
    GusClient,
    GusEntity,
    GusPartner,
    GusSearchResult,
)
from .models import Address, PkdCode
from .numbers import clean_krs, clean_nip, clean_nrb, clean_regon, clean_vat
from .vies import VIES_REST_URL, VIES_SOAP_TEST_URL, VIES_SOAP_URL, ViesClient, ViesResult
from .whitelist import (
    WL_PRODUCTION_URL,
    WL_TEST_URL,
    WhiteListBatchResult,
    WhiteListCheckResult,
    WhiteListClient,
    WhiteListSearchResult,
    WhiteListSubject,
    WhiteListSubjectsResult,
)

__all__ = [
    "CEIDG_PRODUCTION_URL",
    "CEIDG_TEST_URL",
    "GUS_PRODUCTION_URL",
    "GUS_TEST_KEY",
    "GUS_TEST_URL",
    "VIES_REST_URL",
    "VIES_SOAP_TEST_URL",
    "VIES_SOAP_URL",
    "WL_PRODUCTION_URL",
    "WL_TEST_URL",
    "Address",
    "AuthenticationError",
    "CeidgClient",
    "CeidgFirm",
    "CeidgFirmSummary",
    "GusClient",
    "GusEntity",
    "GusPartner",
    "GusSearchResult",
    "InvalidNumber",
    "MalformedResponse",
    "NotFound",
    "PkdCode",
    "RateLimited",
    "RegistryError",
    "Retryable",
    "TooManyIdentifiers",
    "ViesClient",
    "ViesResult",
    "WhiteListBatchResult",
    "WhiteListCheckResult",
    "WhiteListClient",
    "WhiteListSearchResult",
    "WhiteListSubject",
    "WhiteListSubjectsResult",
    "clean_krs",
    "clean_nip",
    "clean_nrb",
    "clean_regon",
    "clean_vat",
]
