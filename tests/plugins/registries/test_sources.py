"""What the four clients share: local number validation, transport failures, the error
hierarchy, an injected ``httpx.Client``."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from plugins.registries.sources import (
    Address,
    CeidgClient,
    GusClient,
    InvalidNumber,
    MalformedResponse,
    NotFound,
    RateLimited,
    RegistryError,
    Retryable,
    ViesClient,
    WhiteListClient,
    clean_krs,
    clean_nip,
    clean_nrb,
    clean_regon,
    clean_vat,
)
from plugins.registries.sources.models import normalise_pkd, parse_date

from .fakes import (
    CEIDG_TOKEN,
    GUS_TEST_KEY,
    KOWALSKI_NIP,
    ORLEN_ACCOUNTS,
    ORLEN_NIP,
    ORLEN_UNIT_REGON,
    CeidgFake,
    GusFake,
    ViesFake,
    WhiteListFake,
)

# -- local validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("7740001454", "7740001454"),
    ("774-000-14-54", "7740001454"),
    ("PL 774 000 14 54", "7740001454"),
])
def test_clean_nip(raw: str, expected: str) -> None:
    assert clean_nip(raw) == expected


@pytest.mark.parametrize(("raw", "message"), [
    ("7740001455", "Nieprawidłowy numer NIP „7740001455”: błędna cyfra kontrolna."),
    ("774000145", "Nieprawidłowy numer NIP „774000145”: NIP składa się z 10 cyfr."),
    ("77400014a4", "Nieprawidłowy numer NIP „77400014a4”: NIP może zawierać tylko cyfry."),
    ("", "Nie podano numeru NIP."),
    (None, "Nie podano numeru NIP."),
])
def test_invalid_nip_messages(raw: str | None, message: str) -> None:
    with pytest.raises(InvalidNumber) as caught:
        clean_nip(raw)
    assert str(caught.value) == message
    assert caught.value.kind == "nip"
    assert isinstance(caught.value, ValueError)


def test_other_numbers() -> None:
    assert clean_regon("610188201") == "610188201"
    assert clean_regon(ORLEN_UNIT_REGON) == ORLEN_UNIT_REGON
    with pytest.raises(InvalidNumber, match="REGON"):
        clean_regon(ORLEN_UNIT_REGON[:-1] + str((int(ORLEN_UNIT_REGON[-1]) + 1) % 10))
    assert clean_krs("28860") == "0000028860"
    assert clean_krs("KRS 0000028860") == "0000028860"
    with pytest.raises(InvalidNumber, match="KRS"):
        clean_krs("00000288601")
    with pytest.raises(InvalidNumber, match="KRS"):
        clean_krs("0000000000")
    account = ORLEN_ACCOUNTS[0]
    assert clean_nrb("PL" + account) == account
    assert clean_nrb(" ".join([account[:2]] + [account[i:i + 4] for i in range(2, 26, 4)])
                     ) == account
    with pytest.raises(InvalidNumber, match="26 cyfr"):
        clean_nrb(account[:-1])
    with pytest.raises(InvalidNumber, match="cyfry kontrolne"):
        clean_nrb(account[:-1] + str((int(account[-1]) + 1) % 10))


def test_clean_vat() -> None:
    assert clean_vat("PL7740001454") == ("PL", "7740001454")
    assert clean_vat("7740001454", "pl") == ("PL", "7740001454")
    assert clean_vat("EL094259216") == ("EL", "094259216")
    assert clean_vat("094259216", "GR") == ("EL", "094259216")
    with pytest.raises(InvalidNumber, match="kodu kraju"):
        clean_vat("7740001454")
    with pytest.raises(InvalidNumber, match="nie jest kodem państwa"):
        clean_vat("US123456789")


def test_value_helpers() -> None:
    assert normalise_pkd("6201Z") == "62.01.Z"
    assert normalise_pkd("62.01.z") == "62.01.Z"
    assert normalise_pkd("") is None
    assert parse_date("2024-05-06T10:11:12.123Z") == date(2024, 5, 6)
    assert parse_date("2024-05-06+02:00") == date(2024, 5, 6)
    assert parse_date("06-05-2024") == date(2024, 5, 6)
    assert parse_date("2024-02-30") is None and parse_date("") is None
    assert Address(city="Wólka", building_no="12", postal_code="05-500",
                   post_office="Piaseczno").as_line() == "Wólka 12, 05-500 Piaseczno"
    assert not Address()


def test_error_hierarchy() -> None:
    assert issubclass(RateLimited, Retryable) and issubclass(Retryable, RegistryError)
    for cls in (NotFound, InvalidNumber, MalformedResponse):
        assert issubclass(cls, RegistryError) and not issubclass(cls, Retryable)
    error = RegistryError("Komunikat.", source="GUS (REGON)", code="4")
    assert str(error) == "Komunikat." and error.code == "4"


# -- transport failures ---------------------------------------------------------------------------

def _clients(base: str):
    return {
        "GUS (REGON)": (GusClient(GUS_TEST_KEY, base + "/wsBIR/UslugaBIRzewnPubl.svc",
                                  timeout=0.3), lambda c: c.search_nip(ORLEN_NIP)),
        "CEIDG": (CeidgClient(CEIDG_TOKEN, base + "/api/ceidg/v3", timeout=0.3),
                  lambda c: c.search_nip(KOWALSKI_NIP)),
        "VIES": (ViesClient(base + "/rest-api", base + "/soap", timeout=0.3),
                 lambda c: c.check("PL" + ORLEN_NIP)),
        "Biała lista VAT": (WhiteListClient(base, timeout=0.3),
                            lambda c: c.search_nip(ORLEN_NIP)),
    }


@pytest.mark.parametrize("source", ["GUS (REGON)", "CEIDG", "VIES", "Biała lista VAT"])
def test_connection_refused_is_retryable(closed_port_url: str, source: str) -> None:
    client, call = _clients(closed_port_url)[source]
    with client, pytest.raises(Retryable) as caught:
        call(client)
    assert caught.value.code == "TRANSPORT-CONNECT"
    assert caught.value.source == source
    assert str(caught.value).startswith(f"Nie można połączyć się z usługą {source}.")


@pytest.fixture
def all_fakes(gus_fake: GusFake, ceidg_fake: CeidgFake, vies_fake: ViesFake,
              whitelist_fake: WhiteListFake):
    return {"GUS (REGON)": (gus_fake, gus_fake.service_url),
            "CEIDG": (ceidg_fake, ceidg_fake.base_url),
            "VIES": (vies_fake, None),
            "Biała lista VAT": (whitelist_fake, whitelist_fake.url)}


def _client_for(source: str, fake, url: str | None, timeout: float):
    if source == "GUS (REGON)":
        return GusClient(GUS_TEST_KEY, url, timeout=timeout), lambda c: c.search_nip(ORLEN_NIP)
    if source == "CEIDG":
        return (CeidgClient(CEIDG_TOKEN, url, timeout=timeout),
                lambda c: c.search_nip(KOWALSKI_NIP))
    if source == "VIES":
        return (ViesClient(fake.rest_url, fake.soap_url, timeout=timeout),
                lambda c: c.check("PL" + ORLEN_NIP))
    return WhiteListClient(url, timeout=timeout), lambda c: c.search_nip(ORLEN_NIP)


@pytest.mark.parametrize("source", ["GUS (REGON)", "CEIDG", "VIES", "Biała lista VAT"])
def test_timeout_is_retryable(all_fakes, source: str) -> None:
    fake, url = all_fakes[source]
    fake.delay = 0.4
    client, call = _client_for(source, fake, url, timeout=0.1)
    with client, pytest.raises(Retryable) as caught:
        call(client)
    assert caught.value.code == "TRANSPORT-TIMEOUT"
    assert f"Usługa {source} nie odpowiedziała" in str(caught.value)
    if source == "VIES":  # REST timed out, so the SOAP fallback was tried too
        assert [r.path.rsplit("/", 1)[-1] for r in fake.requests] == [
            "check-vat-number", "checkVatService"]


@pytest.mark.parametrize("source", ["GUS (REGON)", "CEIDG", "Biała lista VAT"])
def test_dropped_connection_is_retryable(all_fakes, source: str) -> None:
    fake, url = all_fakes[source]
    fake.drop_connection = True
    client, call = _client_for(source, fake, url, timeout=2)
    with client, pytest.raises(Retryable) as caught:
        call(client)
    assert caught.value.code == "TRANSPORT-ERROR"
    assert source in str(caught.value)


def test_injected_httpx_client_is_used_and_not_closed(whitelist_fake: WhiteListFake) -> None:
    seen: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda request: seen.append(str(request.url))]})
    with WhiteListClient(whitelist_fake.url, client=http) as whitelist:
        assert whitelist.search_nip(ORLEN_NIP).found
    assert seen and seen[0].startswith(whitelist_fake.url + "/api/search/nip/")
    assert not http.is_closed
    http.close()


def test_timeout_applies_to_an_injected_client(gus_fake: GusFake) -> None:
    gus_fake.delay = 0.4
    with httpx.Client(timeout=30) as http:
        gus = GusClient(GUS_TEST_KEY, gus_fake.service_url, timeout=0.1, client=http)
        with pytest.raises(Retryable):
            gus.login()
