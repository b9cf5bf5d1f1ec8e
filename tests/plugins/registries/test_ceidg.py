"""CeidgClient against the fake CEIDG API v3."""

from __future__ import annotations

from datetime import date

import pytest

from plugins.registries.sources.ceidg import CeidgClient
from plugins.registries.sources.errors import (
    AuthenticationError,
    InvalidNumber,
    MalformedResponse,
    NotFound,
    RateLimited,
    Retryable,
)

from .fakes import (
    CEIDG_TOKEN,
    KOWALSKI_CEIDG_ID,
    KOWALSKI_NIP,
    KOWALSKI_REGON,
    UNKNOWN_NIP,
    ZIELINSKA_CEIDG_ID,
    ZIELINSKA_REGON,
    CeidgFake,
)


def test_lookup_nip_picks_the_active_business(ceidg: CeidgClient, ceidg_fake: CeidgFake) -> None:
    summaries = ceidg.search_nip(KOWALSKI_NIP)
    assert sorted(s.status for s in summaries) == ["AKTYWNY", "WYKRESLONY"]

    firm = ceidg.lookup_nip(KOWALSKI_NIP)

    assert firm.id == KOWALSKI_CEIDG_ID
    assert firm.name == "USŁUGI INFORMATYCZNE JAN KOWALSKI"
    assert (firm.first_name, firm.last_name, firm.owner_name) == ("JAN", "KOWALSKI",
                                                                  "JAN KOWALSKI")
    assert (firm.nip, firm.regon) == (KOWALSKI_NIP, KOWALSKI_REGON)
    assert firm.status == "AKTYWNY"
    assert firm.start_date == date(2015, 3, 1)
    assert (firm.suspension_date, firm.resumption_date) == (date(2020, 4, 1), date(2020, 9, 1))
    assert firm.address.as_line() == "ul. Wielicka 28/4, 30-552 Kraków"
    assert firm.address.voivodeship == "MAŁOPOLSKIE"
    assert firm.correspondence_address is not None
    assert firm.correspondence_address.as_line() == "ul. Kalwaryjska 9, 30-504 Kraków"
    assert [(p.code, p.main) for p in firm.pkd] == [
        ("62.01.Z", True), ("62.02.Z", False), ("63.11.Z", False)]
    assert firm.main_pkd.name == "Działalność związana z oprogramowaniem"
    assert (firm.email, firm.phone, firm.website) == (
        "biuro@kowalski-it.pl", "+48126543210", "https://kowalski-it.pl")
    assert firm.raw["numerStatusu"] == 1

    requests = ceidg_fake.requests
    assert [(r.path, r.query) for r in requests] == [
        ("/api/ceidg/v3/firmy", {"nip": [KOWALSKI_NIP]}),
        ("/api/ceidg/v3/firmy", {"nip": [KOWALSKI_NIP]}),
        (f"/api/ceidg/v3/firma/{KOWALSKI_CEIDG_ID}", {}),
    ]
    assert all(r.headers["authorization"] == f"Bearer {CEIDG_TOKEN}" for r in requests)


def test_v2_shaped_pkd_and_suspended_status(ceidg: CeidgClient, ceidg_fake: CeidgFake) -> None:
    (summary,) = ceidg.search_regon(ZIELINSKA_REGON)
    assert summary.status == "ZAWIESZONY"
    assert summary.id == ZIELINSKA_CEIDG_ID
    firm = ceidg.lookup_regon(ZIELINSKA_REGON)
    assert firm.status == "ZAWIESZONY"
    assert [(p.code, p.name, p.main) for p in firm.pkd] == [
        ("69.20.Z", None, True), ("82.91.Z", None, False)]
    assert firm.address.unit_no is None
    assert ceidg_fake.requests[0].query == {"regon": [ZIELINSKA_REGON]}


@pytest.mark.parametrize("status", [204, 404])
def test_not_found(ceidg: CeidgClient, ceidg_fake: CeidgFake, status: int) -> None:
    ceidg_fake.not_found_status = status
    assert ceidg.search_nip(UNKNOWN_NIP) == []
    with pytest.raises(NotFound) as caught:
        ceidg.lookup_nip(UNKNOWN_NIP)
    assert str(caught.value) == (
        "Nie znaleziono działalności gospodarczej o NIP 5260250274 w CEIDG.")


def test_unknown_firm_id(ceidg: CeidgClient) -> None:
    with pytest.raises(NotFound):
        ceidg.firm("00000000-0000-0000-0000-000000000000")


def test_rate_limit_honours_retry_after_then_succeeds(ceidg_fake: CeidgFake) -> None:
    waits: list[float] = []
    ceidg_fake.rate_limited = 2
    ceidg_fake.retry_after = "1"
    with CeidgClient(CEIDG_TOKEN, ceidg_fake.base_url, timeout=3, sleep=waits.append) as ceidg:
        found = ceidg.search_nip(KOWALSKI_NIP)
    assert len(found) == 2
    assert waits == [1.0, 1.0]
    assert len(ceidg_fake.requests) == 3


def test_rate_limit_retries_are_bounded(ceidg_fake: CeidgFake) -> None:
    waits: list[float] = []
    ceidg_fake.rate_limited = 10
    ceidg_fake.retry_after = "0"
    ceidg = CeidgClient(CEIDG_TOKEN, ceidg_fake.base_url, timeout=3, max_retries=2,
                        sleep=waits.append)
    with ceidg, pytest.raises(RateLimited) as caught:
        ceidg.search_nip(KOWALSKI_NIP)
    assert isinstance(caught.value, Retryable)
    assert "Przekroczono limit zapytań do CEIDG" in str(caught.value)
    assert len(ceidg_fake.requests) == 3 and waits == [0.0, 0.0]


def test_rate_limit_with_a_long_wait_is_not_slept_through(ceidg_fake: CeidgFake) -> None:
    waits: list[float] = []
    ceidg_fake.rate_limited = 1
    ceidg_fake.retry_after = "120"
    ceidg = CeidgClient(CEIDG_TOKEN, ceidg_fake.base_url, timeout=3, max_retry_wait=30,
                        sleep=waits.append)
    with ceidg, pytest.raises(RateLimited) as caught:
        ceidg.search_nip(KOWALSKI_NIP)
    assert caught.value.retry_after == 120.0
    assert "120 s" in str(caught.value)
    assert waits == [] and len(ceidg_fake.requests) == 1


def test_rate_limit_real_wait(ceidg_fake: CeidgFake) -> None:
    """Retry-After: 0 with the real sleep (no injected clock)."""
    ceidg_fake.rate_limited = 1
    with CeidgClient(CEIDG_TOKEN, ceidg_fake.base_url, timeout=3) as ceidg:
        assert len(ceidg.search_nip(KOWALSKI_NIP)) == 2
    assert len(ceidg_fake.requests) == 2


def test_maintenance_page_is_retryable(ceidg: CeidgClient, ceidg_fake: CeidgFake) -> None:
    ceidg_fake.unavailable = True
    with pytest.raises(Retryable) as caught:
        ceidg.lookup_nip(KOWALSKI_NIP)
    assert "CEIDG" in str(caught.value) and "503" in str(caught.value)


def test_truncated_json_is_malformed(ceidg: CeidgClient, ceidg_fake: CeidgFake) -> None:
    ceidg_fake.malformed = True
    with pytest.raises(MalformedResponse) as caught:
        ceidg.search_nip(KOWALSKI_NIP)
    assert "CEIDG" in str(caught.value)


def test_bad_token(ceidg_fake: CeidgFake) -> None:
    ceidg = CeidgClient("wrong-token", ceidg_fake.base_url, timeout=3)
    with ceidg, pytest.raises(AuthenticationError) as caught:
        ceidg.search_nip(KOWALSKI_NIP)
    assert "token" in str(caught.value)


@pytest.mark.parametrize("call", [
    lambda c: c.search_nip("7740001455"),
    lambda c: c.lookup_regon("12345678"),
    lambda c: c.firm("../../admin"),
    lambda c: c.firm(""),
])
def test_invalid_input_never_leaves_the_machine(ceidg: CeidgClient, ceidg_fake: CeidgFake,
                                                call) -> None:
    with pytest.raises(InvalidNumber):
        call(ceidg)
    assert ceidg_fake.requests == []
