"""Per-installation configuration: the settings row, the endpoints it resolves to and the
protocol clients built from it.

Defaults (a fresh installation): the services' **test** environments and the public GUS
test key, so nothing reaches production until an administrator says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import ValidationError

from .models import Settings
from .sources import (
    CEIDG_PRODUCTION_URL,
    CEIDG_TEST_URL,
    GUS_PRODUCTION_URL,
    GUS_TEST_KEY,
    GUS_TEST_URL,
    VIES_REST_URL,
    VIES_SOAP_TEST_URL,
    VIES_SOAP_URL,
    WL_PRODUCTION_URL,
    WL_TEST_URL,
    CeidgClient,
    GusClient,
    RegistryError,
    ViesClient,
    WhiteListClient,
    clean_vat,
)

DEFAULT_URLS = {
    "test": {"gus": GUS_TEST_URL, "ceidg": CEIDG_TEST_URL, "vies_rest": VIES_REST_URL,
             "vies_soap": VIES_SOAP_TEST_URL, "whitelist": WL_TEST_URL},
    "production": {"gus": GUS_PRODUCTION_URL, "ceidg": CEIDG_PRODUCTION_URL,
                   "vies_rest": VIES_REST_URL, "vies_soap": VIES_SOAP_URL,
                   "whitelist": WL_PRODUCTION_URL},
}
EDITABLE = ("environment", "gus_key", "ceidg_token", "gus_url", "ceidg_url", "vies_rest_url",
            "vies_soap_url", "whitelist_url", "timeout", "own_vat_number", "max_age_days",
            "whitelist_threshold", "block_on_whitelist", "schedule_enabled", "cache_days")
SECRETS = ("gus_key", "ceidg_token")


def get_settings(session: Session) -> Settings:
    """The installation's settings row (created with the defaults on first use)."""
    row = session.scalar(sa.select(Settings).order_by(Settings.id).limit(1))
    if row is None:
        row = Settings(environment="test", gus_key=GUS_TEST_KEY, timeout=10, max_age_days=30,
                       block_on_whitelist=False, schedule_enabled=False, cache_days=7)
        session.add(row)
        session.flush()
    return row


@dataclass(frozen=True)
class Endpoints:
    gus: str
    ceidg: str
    vies_rest: str
    vies_soap: str
    whitelist: str


def endpoints(settings: Settings) -> Endpoints:
    base = DEFAULT_URLS.get(settings.environment or "test", DEFAULT_URLS["test"])
    return Endpoints(
        gus=settings.gus_url or base["gus"],
        ceidg=settings.ceidg_url or base["ceidg"],
        vies_rest=settings.vies_rest_url or base["vies_rest"],
        vies_soap=settings.vies_soap_url or base["vies_soap"],
        whitelist=settings.whitelist_url or base["whitelist"],
    )


def _timeout(settings: Settings) -> float:
    return float(settings.timeout or 10)


def gus_client(settings: Settings) -> GusClient:
    key = settings.gus_key or (GUS_TEST_KEY if settings.environment != "production" else "")
    return GusClient(key, endpoints(settings).gus, timeout=_timeout(settings))


def ceidg_client(settings: Settings) -> CeidgClient:
    return CeidgClient(settings.ceidg_token or "", endpoints(settings).ceidg,
                       timeout=_timeout(settings), max_retries=1, max_retry_wait=5.0)


def vies_client(settings: Settings) -> ViesClient:
    return ViesClient(endpoints(settings).vies_rest, endpoints(settings).vies_soap,
                      timeout=_timeout(settings), requester=settings.own_vat_number or None)


def whitelist_client(settings: Settings) -> WhiteListClient:
    return WhiteListClient(endpoints(settings).whitelist, timeout=_timeout(settings))


def update_settings(session: Session, values: dict) -> Settings:
    """Validate and store new settings; a blank secret keeps the stored one (the form
    never shows secrets), ``clear_<secret>`` removes it."""
    row = get_settings(session)
    clean: dict = {}
    for key in EDITABLE:
        if key not in values:
            continue
        value = values[key]
        if isinstance(value, str):
            value = value.strip()
        if key in SECRETS:
            if values.get(f"clear_{key}"):
                clean[key] = None
            elif value:
                clean[key] = value
            continue
        clean[key] = value
    if "environment" in clean and clean["environment"] not in DEFAULT_URLS:
        raise ValidationError("Środowisko: testowe albo produkcyjne.", field="environment")
    for key in ("gus_url", "ceidg_url", "vies_rest_url", "vies_soap_url", "whitelist_url"):
        if key in clean:
            url = clean[key] or None
            if url and not url.startswith(("http://", "https://")):
                raise ValidationError("Adres usługi musi zaczynać się od http:// lub https://.",
                                      field=key)
            clean[key] = url
    for key, lo, hi in (("timeout", 1, 120), ("max_age_days", 1, 3650), ("cache_days", 1, 365)):
        if key in clean:
            try:
                clean[key] = int(clean[key])
            except (TypeError, ValueError):
                raise ValidationError("Podaj liczbę całkowitą.", field=key)
            if not lo <= clean[key] <= hi:
                raise ValidationError(f"Dozwolony zakres: {lo}–{hi}.", field=key)
    if "whitelist_threshold" in clean:
        from decimal import Decimal, InvalidOperation
        try:
            amount = Decimal(str(clean["whitelist_threshold"]).replace(" ", "").replace(",", "."))
        except InvalidOperation:
            raise ValidationError("Podaj kwotę, np. 15000.00.", field="whitelist_threshold")
        if amount < 0:
            raise ValidationError("Kwota nie może być ujemna.", field="whitelist_threshold")
        clean["whitelist_threshold"] = amount.quantize(Decimal("0.01"))
    if clean.get("own_vat_number"):
        try:
            country, number = clean_vat(clean["own_vat_number"])
        except RegistryError as exc:
            raise ValidationError(exc.message, field="own_vat_number")
        clean["own_vat_number"] = country + number
    elif "own_vat_number" in clean:
        clean["own_vat_number"] = None
    for key in ("block_on_whitelist", "schedule_enabled"):
        if key in clean:
            clean[key] = clean[key] in (True, "1", "y", "on", "true", "tak")
    for key, value in clean.items():
        setattr(row, key, value)
    session.flush()
    return row
