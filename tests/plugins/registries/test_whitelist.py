"""WhiteListClient against the fake MF White List API."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from plugins.registries.sources.errors import (
    InvalidNumber,
    MalformedResponse,
    RateLimited,
    RegistryError,
    Retryable,
    TooManyIdentifiers,
)
from plugins.registries.sources.whitelist import WhiteListClient

from .fakes import (
    FOREIGN_ACCOUNT,
    KOWALSKI_NIP,
    KOWALSKI_REGON,
    ORLEN_ACCOUNTS,
    ORLEN_KRS,
    ORLEN_NIP,
    ORLEN_REGON,
    ROZA_NIP,
    UNKNOWN_NIP,
    ZIELINSKA_NIP,
    WhiteListFake,
    make_nip,
)


def test_search_nip_active_vat_payer(whitelist: WhiteListClient,
                                     whitelist_fake: WhiteListFake) -> None:
    result = whitelist.search_nip(ORLEN_NIP, on=date(2024, 5, 6))

    subject = result.subject
    assert result.found and subject is not None
    assert subject.name == "ORLEN SPÓŁKA AKCYJNA"
    assert (subject.nip, subject.regon, subject.krs) == (ORLEN_NIP, ORLEN_REGON, ORLEN_KRS)
    assert subject.status_vat == "Czynny" and subject.is_active_vat_payer
    assert subject.working_address == "CHEMIKÓW 7, 09-411 PŁOCK"
    assert subject.residence_address is None
    assert subject.account_numbers == ORLEN_ACCOUNTS
    assert subject.has_virtual_accounts is True
    assert subject.registration_legal_date == date(1993, 7, 13)
    assert subject.removal_date is None
    assert result.request_id and "-" in result.request_id
    assert isinstance(result.request_date_time, datetime)
    assert result.request_date_time_raw == result.request_date_time.strftime("%d-%m-%Y %H:%M:%S")
    (request,) = whitelist_fake.requests
    assert request.path == f"/api/search/nip/{ORLEN_NIP}"
    assert request.query == {"date": ["2024-05-06"]}


def test_date_defaults_to_today(whitelist: WhiteListClient,
                                whitelist_fake: WhiteListFake) -> None:
    whitelist.search_regon(KOWALSKI_REGON)
    assert whitelist_fake.requests[0].query == {"date": [date.today().isoformat()]}


def test_exempt_sole_trader_by_regon(whitelist: WhiteListClient) -> None:
    subject = whitelist.search_regon(KOWALSKI_REGON).subject
    assert subject.status_vat == "Zwolniony" and not subject.is_active_vat_payer
    assert subject.residence_address == "WIELICKA 28/4, 30-552 KRAKÓW"
    assert subject.nip == KOWALSKI_NIP


def test_partners_and_clerks(whitelist: WhiteListClient) -> None:
    subject = whitelist.search_nip(ROZA_NIP).subject
    assert [p.display_name for p in subject.partners] == ["ANNA NOWAK", "PIOTR WIŚNIEWSKI"]
    assert subject.partners[0].nip == make_nip("584111222")
    assert [p.display_name for p in subject.authorized_clerks] == ["ANNA NOWAK"]
    assert subject.representatives == []


def test_removed_taxpayer(whitelist: WhiteListClient) -> None:
    subject = whitelist.search_nip(ZIELINSKA_NIP).subject
    assert subject.status_vat == "Niezarejestrowany"
    assert subject.removal_date == date(2024, 1, 31)
    assert subject.removal_basis == "Art. 96 ust. 9 ustawy o VAT"


def test_not_on_the_list_keeps_the_request_id(whitelist: WhiteListClient) -> None:
    result = whitelist.search_nip(UNKNOWN_NIP)
    assert result.subject is None and not result.found
    assert result.request_id


def test_search_bank_account(whitelist: WhiteListClient, whitelist_fake: WhiteListFake) -> None:
    account = ORLEN_ACCOUNTS[1]
    # as printed on an invoice: "PL61 1090 1014 0000 0712 1981 2874"
    printed = f"PL{account[:2]} " + " ".join(account[i:i + 4] for i in range(2, 26, 4))
    result = whitelist.search_bank_account(printed)
    assert [s.nip for s in result.subjects] == [ORLEN_NIP]
    assert result.request_id
    assert whitelist_fake.requests[0].path == f"/api/search/bank-account/{account}"
    assert whitelist.search_bank_account(FOREIGN_ACCOUNT).subjects == []


def test_batch_search(whitelist: WhiteListClient, whitelist_fake: WhiteListFake) -> None:
    result = whitelist.search_nips([ORLEN_NIP, UNKNOWN_NIP, KOWALSKI_NIP, ORLEN_NIP])
    entries = result.by_identifier()
    assert list(entries) == [ORLEN_NIP, UNKNOWN_NIP, KOWALSKI_NIP]
    assert [s.name for s in entries[ORLEN_NIP].subjects] == ["ORLEN SPÓŁKA AKCYJNA"]
    assert entries[UNKNOWN_NIP].subjects == []
    assert entries[KOWALSKI_NIP].subjects[0].status_vat == "Zwolniony"
    assert result.request_id
    assert whitelist_fake.requests[0].path == (
        f"/api/search/nips/{ORLEN_NIP},{UNKNOWN_NIP},{KOWALSKI_NIP}")


def test_batch_limit_is_checked_locally(whitelist: WhiteListClient,
                                        whitelist_fake: WhiteListFake) -> None:
    nips = [make_nip(f"{500000000 + i * 7919:09d}") for i in range(31)]
    assert len(set(nips)) == 31
    with pytest.raises(TooManyIdentifiers) as caught:
        whitelist.search_nips(nips)
    assert "30" in str(caught.value)
    assert whitelist_fake.requests == []


def test_check_account(whitelist: WhiteListClient, whitelist_fake: WhiteListFake) -> None:
    yes = whitelist.check_nip_account(ORLEN_NIP, ORLEN_ACCOUNTS[0], on=date(2024, 5, 6))
    no = whitelist.check_nip_account(ORLEN_NIP, FOREIGN_ACCOUNT)
    assert yes.account_assigned is True and no.account_assigned is False
    assert yes.request_id and no.request_id and yes.request_id != no.request_id
    assert whitelist_fake.requests[0].path == (
        f"/api/check/nip/{ORLEN_NIP}/bank-account/{ORLEN_ACCOUNTS[0]}")
    assert whitelist_fake.requests[0].query == {"date": ["2024-05-06"]}


@pytest.mark.parametrize("call", [
    lambda wl: wl.search_nip("7740001455"),
    lambda wl: wl.search_regon("61018820"),
    lambda wl: wl.search_bank_account("61109010140000071219812875"),
    lambda wl: wl.check_nip_account(ORLEN_NIP, "12345"),
    lambda wl: wl.search_nips([ORLEN_NIP, "123"]),
])
def test_invalid_numbers_never_leave_the_machine(whitelist: WhiteListClient,
                                                 whitelist_fake: WhiteListFake, call) -> None:
    with pytest.raises(InvalidNumber):
        call(whitelist)
    assert whitelist_fake.requests == []


def test_wl_error_code_becomes_a_clear_error(whitelist: WhiteListClient,
                                             whitelist_fake: WhiteListFake) -> None:
    message = "Pole 'NIP' ma nieprawidłową długość. Wymagane 10 znaków."
    whitelist_fake.force_error = ("WL-113", message)
    with pytest.raises(InvalidNumber) as caught:
        whitelist.search_nip(ORLEN_NIP)
    assert caught.value.code == "WL-113"
    assert str(caught.value) == ("Biała lista VAT odrzuciła identyfikator (WL-113): Pole 'NIP' "
                                 "ma nieprawidłową długość. Wymagane 10 znaków.")

    whitelist_fake.force_error = ("WL-103", "Pole 'data' ma nieprawidłowy format.")
    with pytest.raises(RegistryError) as caught:
        whitelist.search_nip(ORLEN_NIP)
    assert not isinstance(caught.value, (InvalidNumber, Retryable))


def test_rate_limited(whitelist: WhiteListClient, whitelist_fake: WhiteListFake) -> None:
    whitelist_fake.rate_limited = True
    with pytest.raises(RateLimited) as caught:
        whitelist.search_nip(ORLEN_NIP)
    assert isinstance(caught.value, Retryable)
    assert caught.value.retry_after == 1.0
    assert "limit" in str(caught.value)


def test_unavailable(whitelist: WhiteListClient, whitelist_fake: WhiteListFake) -> None:
    whitelist_fake.unavailable = True
    with pytest.raises(Retryable) as caught:
        whitelist.check_nip_account(ORLEN_NIP, ORLEN_ACCOUNTS[0])
    assert caught.value.code == "HTTP-503"
    assert "Biała lista VAT" in str(caught.value)


def test_malformed(whitelist: WhiteListClient, whitelist_fake: WhiteListFake) -> None:
    whitelist_fake.malformed = True
    with pytest.raises(MalformedResponse):
        whitelist.search_nip(ORLEN_NIP)
