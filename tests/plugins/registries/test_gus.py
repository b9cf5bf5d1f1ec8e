"""GusClient against the fake BIR 1.1 service (SOAP 1.2 + WS-Addressing + MTOM)."""

from __future__ import annotations

from datetime import date

import pytest

from plugins.registries.sources.errors import (
    AuthenticationError,
    InvalidNumber,
    MalformedResponse,
    NotFound,
    RegistryError,
    Retryable,
    TooManyIdentifiers,
)
from plugins.registries.sources.gus import GusClient, extract_soap_part, parse_rows

from .fakes import (
    GUS_NIP,
    GUS_REGON,
    GUS_TEST_KEY,
    KOWALSKI_NIP,
    KOWALSKI_REGON,
    NOWAK_REGON,
    ORLEN_KRS,
    ORLEN_NIP,
    ORLEN_REGON,
    ORLEN_UNIT_REGON,
    ROZA_NIP,
    ROZA_REGON,
    UNKNOWN_NIP,
    WISNIEWSKI_REGON,
    GusFake,
)


def _reports(fake: GusFake) -> list[tuple[str, str]]:
    return [(r.params["pRegon"], r.params["pNazwaRaportu"])
            for r in fake.calls("DanePobierzPelnyRaport")]


def test_lookup_legal_person_over_mtom(gus: GusClient, gus_fake: GusFake) -> None:
    entity = gus.lookup_nip(ORLEN_NIP)

    assert entity.name == "ORLEN SPÓŁKA AKCYJNA"
    assert entity.short_name == "ORLEN S.A."
    assert (entity.nip, entity.regon, entity.krs) == (ORLEN_NIP, ORLEN_REGON, ORLEN_KRS)
    assert entity.entity_type == "P"
    assert entity.legal_form == "SPÓŁKI AKCYJNE"
    assert entity.legal_form_code == "16"
    assert entity.basic_legal_form == "OSOBA PRAWNA"
    address = entity.address
    assert (address.street, address.building_no, address.unit_no) == ("ul. Chemików", "7", None)
    assert (address.postal_code, address.city) == ("09-411", "Płock")
    assert (address.voivodeship, address.county, address.commune) == (
        "MAZOWIECKIE", "Płock", "M. Płock")
    assert address.as_line() == "ul. Chemików 7, 09-411 Płock"
    assert [p.code for p in entity.pkd] == ["19.20.Z", "46.71.Z", "35.11.Z"]
    assert entity.main_pkd is not None and entity.main_pkd.code == "19.20.Z"
    assert entity.main_pkd.name.startswith("WYTWARZANIE I PRZETWARZANIE")
    assert [p.main for p in entity.pkd] == [True, False, False]
    assert entity.start_date == date(1993, 6, 29)
    assert entity.status == "AKTYWNY"
    assert entity.email == "kontakt@orlen.pl"
    assert entity.partners == []
    assert entity.raw["search"]["Regon"] == ORLEN_REGON
    assert entity.raw["BIR11OsPrawna"][0]["praw_numerWRejestrzeEwidencji"] == ORLEN_KRS

    # the protocol, as the fake saw it
    assert [r.operation for r in gus_fake.requests] == [
        "Zaloguj", "DaneSzukajPodmioty", "DanePobierzPelnyRaport", "DanePobierzPelnyRaport"]
    login, search = gus_fake.requests[0], gus_fake.requests[1]
    assert "sid" not in login.headers
    assert login.params["pKluczUzytkownika"] == GUS_TEST_KEY
    sid = gus_fake.issued_sids[0]
    assert all(r.headers["sid"] == sid for r in gus_fake.requests[1:])
    assert search.params == {"Nip": ORLEN_NIP}
    for request in gus_fake.requests:
        assert request.headers["content-type"].startswith("application/soap+xml; charset=utf-8")
        assert f'action="{request.action}"' in request.headers["content-type"]
        assert request.to == gus_fake.service_url
    assert _reports(gus_fake) == [(ORLEN_REGON, "BIR11OsPrawna"),
                                  (ORLEN_REGON, "BIR11OsPrawnaPkd")]


def test_plain_soap_answer_is_parsed_too(gus: GusClient, gus_fake: GusFake) -> None:
    gus_fake.mtom = False
    (found,) = gus.search_regon(GUS_REGON)
    assert found.name == "GŁÓWNY URZĄD STATYSTYCZNY"
    assert found.nip == GUS_NIP
    assert found.entity_type == "P" and found.silo_id == 6
    assert found.address.street == "ul. Test-Krucza"
    assert found.address.postal_code == "00-925"
    assert found.address.county == "m. st. Warszawa"
    assert found.end_date is None and found.is_active


def test_natural_person_uses_ceidg_report_of_active_silo(gus: GusClient,
                                                          gus_fake: GusFake) -> None:
    found = gus.search_nip(KOWALSKI_NIP)
    assert sorted((f.silo_id, f.is_active) for f in found) == [(1, True), (4, False)]

    entity = gus.lookup_nip(KOWALSKI_NIP)

    assert entity.entity_type == "F" and entity.silo_id == 1
    assert entity.name == "USŁUGI INFORMATYCZNE JAN KOWALSKI"
    assert (entity.first_name, entity.last_name) == ("JAN", "KOWALSKI")
    assert (entity.nip, entity.regon, entity.krs) == (KOWALSKI_NIP, KOWALSKI_REGON, None)
    assert entity.address.as_line() == "ul. Wielicka 28/4, 30-552 Kraków"
    assert entity.address.commune == "Kraków-Podgórze"
    # PKD of the struck-off agricultural/other silo are not this activity's
    assert [(p.code, p.main) for p in entity.pkd] == [("62.01.Z", True), ("62.02.Z", False)]
    assert entity.start_date == date(2015, 3, 1)
    assert entity.suspension_date == date(2020, 4, 1)
    assert entity.resumption_date == date(2020, 9, 1)
    assert entity.status == "AKTYWNY"
    assert [name for _, name in _reports(gus_fake)][-3:] == [
        "BIR11OsFizycznaDaneOgolne", "BIR11OsFizycznaDzialalnoscCeidg", "BIR11OsFizycznaPkd"]


def test_civil_partnership_with_partners(gus: GusClient, gus_fake: GusFake) -> None:
    entity = gus.lookup_regon(ROZA_REGON)

    assert entity.nip == ROZA_NIP and entity.krs is None
    assert entity.legal_form_code == "019"
    assert entity.status == "ZAWIESZONY"
    assert entity.suspension_date == date(2023, 1, 15)
    assert entity.address.as_line() == "ul. Długa 45/1, 80-831 Gdańsk"
    assert [(p.regon, p.display_name) for p in entity.partners] == [
        (NOWAK_REGON, "ANNA NOWAK"), (WISNIEWSKI_REGON, "PIOTR JAKUB WIŚNIEWSKI")]
    assert (ROZA_REGON, "BIR11OsPrawnaSpCywilnaWspolnicy") in _reports(gus_fake)
    assert gus_fake.calls("DaneSzukajPodmioty")[0].params == {"Regon": ROZA_REGON}


def test_partners_of_a_company_that_is_not_a_partnership_is_empty(gus: GusClient) -> None:
    assert gus.partners(ORLEN_REGON) == []


def test_local_unit_reports_take_the_14_digit_regon(gus: GusClient, gus_fake: GusFake) -> None:
    (found,) = gus.search_regon(ORLEN_UNIT_REGON)
    assert found.entity_type == "LP"
    assert gus_fake.calls("DaneSzukajPodmioty")[0].params == {"Regon": ORLEN_UNIT_REGON}

    entity = gus.entity(found)

    assert entity.regon == ORLEN_UNIT_REGON
    assert entity.name == "ORLEN SPÓŁKA AKCYJNA ODDZIAŁ W GDAŃSKU"
    assert entity.address.as_line() == "ul. Elbląska 135, 80-718 Gdańsk"
    assert [p.code for p in entity.pkd] == ["52.10.B"]
    assert _reports(gus_fake) == [(ORLEN_UNIT_REGON, "BIR11JednLokalnaOsPrawnej"),
                                  (ORLEN_UNIT_REGON, "BIR11JednLokalnaOsPrawnejPkd")]


def test_lookup_by_krs_pads_the_number(gus: GusClient, gus_fake: GusFake) -> None:
    entity = gus.lookup_krs("28860")
    assert entity.regon == ORLEN_REGON and entity.krs == ORLEN_KRS
    assert gus_fake.calls("DaneSzukajPodmioty")[0].params == {"Krs": ORLEN_KRS}


@pytest.mark.parametrize("style", ["error_row", "empty"])
def test_not_found(gus: GusClient, gus_fake: GusFake, style: str) -> None:
    gus_fake.not_found_style = style

    assert gus.search_nip(UNKNOWN_NIP) == []
    with pytest.raises(NotFound) as caught:
        gus.lookup_nip(UNKNOWN_NIP)

    assert str(caught.value) == "Nie znaleziono podmiotu o NIP 5260250274 w bazie GUS."
    assert caught.value.source == "GUS (REGON)"
    # not found is not a session problem: no second login
    assert len(gus_fake.calls("Zaloguj")) == 1
    asked = [r.params["pNazwaParametru"] for r in gus_fake.calls("GetValue")]
    assert asked == ([] if style == "error_row" else ["KomunikatKod", "KomunikatKod"])


@pytest.mark.parametrize("expired_code", ["7", ""])
def test_expired_session_logs_in_again_once(gus: GusClient, gus_fake: GusFake,
                                            expired_code: str) -> None:
    gus_fake.expired_code = expired_code
    assert gus.search_regon(GUS_REGON)
    first_sid = gus_fake.issued_sids[0]

    gus_fake.expire_sessions = 1  # the server forgets every session before the next call
    (found,) = gus.search_nip(ORLEN_NIP)

    assert found.regon == ORLEN_REGON
    assert len(gus_fake.calls("Zaloguj")) == 2
    second_sid = gus_fake.issued_sids[1]
    assert second_sid != first_sid and gus.session_id == second_sid
    searches = gus_fake.calls("DaneSzukajPodmioty")
    assert [r.headers["sid"] for r in searches] == [first_sid, first_sid, second_sid]
    asked = [r.params["pNazwaParametru"] for r in gus_fake.calls("GetValue")]
    assert asked == (["KomunikatKod"] if expired_code == "7" else ["KomunikatKod", "StatusSesji"])


def test_session_that_keeps_expiring_fails_after_one_relogin(gus: GusClient,
                                                              gus_fake: GusFake) -> None:
    gus_fake.expire_sessions = 100
    with pytest.raises(Retryable) as caught:
        gus.search_nip(ORLEN_NIP)
    assert "Sesja" in str(caught.value)
    assert len(gus_fake.calls("Zaloguj")) == 2
    assert len(gus_fake.calls("DaneSzukajPodmioty")) == 2


def test_too_many_identifiers_reported_by_the_service(gus: GusClient, gus_fake: GusFake) -> None:
    gus_fake.max_identifiers = 3
    with pytest.raises(TooManyIdentifiers) as caught:
        gus.search_nips([ORLEN_NIP, GUS_NIP, KOWALSKI_NIP, ROZA_NIP, UNKNOWN_NIP])
    assert "zbyt wiele identyfikatorów" in str(caught.value)
    assert caught.value.code == "2"
    assert len(gus_fake.calls("Zaloguj")) == 1  # not mistaken for an expired session


def test_batch_search_is_split_into_allowed_chunks(gus_fake: GusFake) -> None:
    with GusClient(GUS_TEST_KEY, gus_fake.service_url, timeout=3, max_batch=2) as gus:
        found = gus.search_nips([ORLEN_NIP, GUS_NIP, KOWALSKI_NIP, UNKNOWN_NIP, ORLEN_NIP])
    assert sorted(f.regon for f in found) == sorted(
        [ORLEN_REGON, GUS_REGON, KOWALSKI_REGON, KOWALSKI_REGON])
    assert [r.params["Nipy"] for r in gus_fake.calls("DaneSzukajPodmioty")] == [
        f"{ORLEN_NIP},{GUS_NIP}", f"{KOWALSKI_NIP},{UNKNOWN_NIP}"]
    # closing the client logged out
    (logout,) = gus_fake.calls("Wyloguj")
    assert logout.params["pIdentyfikatorSesji"] == gus_fake.issued_sids[0]
    assert gus_fake.sessions == set()


def test_batch_search_by_krs_numbers(gus: GusClient, gus_fake: GusFake) -> None:
    (found,) = gus.search_krs_numbers(["28860", "0000000001"])
    assert found.regon == ORLEN_REGON
    assert gus_fake.calls("DaneSzukajPodmioty")[0].params == {"Krsy": f"{ORLEN_KRS},0000000001"}


def test_batch_search_by_regons_of_both_lengths(gus: GusClient, gus_fake: GusFake) -> None:
    found = gus.search_regons([ORLEN_REGON, ORLEN_UNIT_REGON])
    assert [f.entity_type for f in found] == ["P", "LP"]
    assert [sorted(r.params) for r in gus_fake.calls("DaneSzukajPodmioty")] == [
        ["Regony9zn"], ["Regony14zn"]]


@pytest.mark.parametrize("call", [
    lambda gus: gus.lookup_nip("5260250275"),
    lambda gus: gus.search_nip("526-025-02"),
    lambda gus: gus.search_regon("610188202"),
    lambda gus: gus.search_nips([ORLEN_NIP, "1234567890"]),
    lambda gus: gus.search_krs("KRS12345678901"),
])
def test_invalid_numbers_never_leave_the_machine(gus: GusClient, gus_fake: GusFake,
                                                 call) -> None:
    with pytest.raises(InvalidNumber) as caught:
        call(gus)
    assert caught.value.message.startswith("Nieprawidłowy numer")
    assert gus_fake.requests == []


def test_wrong_key_is_an_authentication_error(gus_fake: GusFake) -> None:
    gus = GusClient("zlyklucz0000000000000", gus_fake.service_url, timeout=3)
    with gus, pytest.raises(AuthenticationError) as caught:
        gus.search_nip(ORLEN_NIP)
    assert "klucz" in str(caught.value)
    assert [r.operation for r in gus_fake.requests] == ["Zaloguj"]


def test_service_unavailable_is_retryable(gus: GusClient, gus_fake: GusFake) -> None:
    gus_fake.unavailable = True
    with pytest.raises(Retryable) as caught:
        gus.search_nip(ORLEN_NIP)
    assert "GUS" in str(caught.value) and "503" in str(caught.value)


def test_truncated_result_is_a_malformed_response(gus: GusClient, gus_fake: GusFake) -> None:
    gus.login()
    gus_fake.malformed = True
    with pytest.raises(MalformedResponse) as caught:
        gus.search_nip(ORLEN_NIP)
    assert "GUS" in str(caught.value)


def test_wsa_to_must_match_the_endpoint(gus_fake: GusFake) -> None:
    # same server, other host name: the fake (like WCF) rejects the wsa:To address
    url = gus_fake.service_url.replace("127.0.0.1", "localhost")
    gus = GusClient(GUS_TEST_KEY, url, timeout=3)
    with gus, pytest.raises(RegistryError) as caught:
        gus.login()
    assert not isinstance(caught.value, Retryable)
    assert "AddressFilter mismatch" in str(caught.value)


def test_get_value_and_logout(gus: GusClient, gus_fake: GusFake) -> None:
    sid = gus.login()
    assert gus.get_value("StatusSesji") == "1"
    assert gus.get_value("StanDanych") == "06-05-2024"
    assert gus.logout() is True
    assert gus.session_id is None and gus_fake.sessions == set()
    (getvalue, _) = gus_fake.calls("GetValue")
    assert getvalue.action == "http://CIS/BIR/2014/07/IUslugaBIR/GetValue"
    assert getvalue.headers["sid"] == sid


def test_report_with_unknown_name_is_a_clear_error(gus: GusClient) -> None:
    with pytest.raises(RegistryError) as caught:
        gus.full_report(ORLEN_REGON, "BIR11Nieistniejacy")
    assert caught.value.code == "5"
    assert "nazwa raportu" in str(caught.value)


def test_mtom_parser_accepts_lf_line_ends_and_picks_the_start_part() -> None:
    body = (b"--b1\nContent-ID: <other>\nContent-Type: text/plain\n\nnoise\n"
            b"--b1\nContent-ID: <http://tempuri.org/0>\n"
            b"Content-Type: application/xop+xml;type=\"application/soap+xml\"\n\n<x/>\n--b1--\n")
    content_type = 'multipart/related; boundary="b1"; start="<http://tempuri.org/0>"'
    assert extract_soap_part(body, content_type) == b"<x/>"
    assert parse_rows("<root>\r\n  <dane>\r\n    <A>1</A>\r\n    <B />\r\n  </dane>\r\n</root>"
                      ) == [{"A": "1", "B": ""}]
