"""ViesClient against the fake VIES (REST + SOAP fallback)."""

from __future__ import annotations

from datetime import date

import pytest

from plugins.registries.sources.errors import (
    InvalidNumber,
    MalformedResponse,
    RegistryError,
    Retryable,
)
from plugins.registries.sources.vies import ViesClient, error_for

from .fakes import DE_VAT, NS_VIES, ORLEN_NIP, UNKNOWN_NIP, ViesFake


def test_rest_check_of_a_valid_number(vies: ViesClient, vies_fake: ViesFake) -> None:
    result = vies.check("PL 774-000-14-54")

    assert result.valid is True
    assert (result.country_code, result.vat_number) == ("PL", ORLEN_NIP)
    assert result.full_number == "PL" + ORLEN_NIP
    assert result.name == "ORLEN SPÓŁKA AKCYJNA"
    assert result.address == "CHEMIKÓW 7, 09-411 PŁOCK"
    assert result.request_date == date.today()
    assert result.request_identifier is None and result.requester is None
    assert result.source == "rest"
    (request,) = vies_fake.requests
    assert request.path.endswith("/rest-api/check-vat-number")
    assert request.headers["content-type"].startswith("application/json")
    assert request.json() == {"countryCode": "PL", "vatNumber": ORLEN_NIP}


def test_consultation_number_with_requester(vies_fake: ViesFake) -> None:
    with ViesClient(vies_fake.rest_url, vies_fake.soap_url, timeout=3,
                    requester="PL5260250274") as vies:
        result = vies.check(ORLEN_NIP, "pl")
    assert result.request_identifier is not None
    assert result.request_identifier.startswith("WAPI")
    assert result.requester == "PL5260250274"
    assert vies_fake.requests[0].json() == {
        "countryCode": "PL", "vatNumber": ORLEN_NIP,
        "requesterMemberStateCode": "PL", "requesterNumber": "5260250274"}


def test_undisclosed_name_and_invalid_number(vies: ViesClient) -> None:
    german = vies.check("DE" + DE_VAT)
    assert german.valid is True and german.name is None and german.address is None
    unknown = vies.check("PL" + UNKNOWN_NIP)
    assert unknown.valid is False


def test_soap_fallback_when_rest_is_down(vies: ViesClient, vies_fake: ViesFake) -> None:
    vies_fake.rest_down = True
    result = vies.check("PL" + ORLEN_NIP)

    assert result.source == "soap"
    assert result.valid is True
    assert result.name == "ORLEN SPÓŁKA AKCYJNA"
    assert result.address == "CHEMIKÓW 7, 09-411 PŁOCK"
    assert result.request_date == date.today()
    rest, soap = vies_fake.requests
    assert rest.operation == "rest"
    assert soap.operation == "checkVat"
    assert soap.params == {"countryCode": "PL", "vatNumber": ORLEN_NIP}
    assert soap.headers["content-type"].startswith("text/xml")
    assert NS_VIES.encode() in soap.body


def test_soap_fallback_with_requester_uses_check_vat_approx(vies_fake: ViesFake) -> None:
    vies_fake.rest_down = True
    with ViesClient(vies_fake.rest_url, vies_fake.soap_url, timeout=3) as vies:
        result = vies.check("PL" + ORLEN_NIP, requester="PL5260250274")
    assert result.source == "soap"
    assert result.request_identifier.startswith("WAPI")
    assert result.name == "ORLEN SPÓŁKA AKCYJNA"
    soap = vies_fake.requests[1]
    assert soap.operation == "checkVatApprox"
    assert soap.params["requesterCountryCode"] == "PL"
    assert soap.params["requesterVatNumber"] == "5260250274"


def test_member_state_unavailable_is_retryable_without_fallback(vies: ViesClient,
                                                                 vies_fake: ViesFake) -> None:
    vies_fake.unavailable_states = {"PL"}
    with pytest.raises(Retryable) as caught:
        vies.check("PL" + ORLEN_NIP)
    assert caught.value.code == "MS_UNAVAILABLE"
    assert "(PL)" in str(caught.value) and "niedostępny" in str(caught.value)
    assert len(vies_fake.requests) == 1  # the SOAP endpoint would say the same


def test_soap_fault_after_fallback(vies: ViesClient, vies_fake: ViesFake) -> None:
    vies_fake.rest_down = True
    vies_fake.unavailable_states = {"PL"}
    with pytest.raises(Retryable) as caught:
        vies.check("PL" + ORLEN_NIP)
    assert caught.value.code == "MS_UNAVAILABLE"
    assert [r.operation for r in vies_fake.requests] == ["rest", "checkVat"]


def test_concurrency_limit_in_user_error_is_retryable(vies: ViesClient,
                                                      vies_fake: ViesFake) -> None:
    vies_fake.busy = True
    with pytest.raises(Retryable) as caught:
        vies.check("PL" + ORLEN_NIP)
    assert caught.value.code == "MS_MAX_CONCURRENT_REQ"


def test_both_endpoints_down(vies: ViesClient, vies_fake: ViesFake) -> None:
    vies_fake.rest_down = vies_fake.soap_down = True
    with pytest.raises(Retryable) as caught:
        vies.check("PL" + ORLEN_NIP)
    assert "VIES" in str(caught.value)
    assert len(vies_fake.requests) == 2


def test_invalid_input_is_a_plain_error(vies: ViesClient, vies_fake: ViesFake) -> None:
    vies_fake.force_error = ("INVALID_INPUT", 400)
    with pytest.raises(RegistryError) as caught:
        vies.check("PL" + ORLEN_NIP)
    assert not isinstance(caught.value, Retryable)
    assert caught.value.code == "INVALID_INPUT"
    assert len(vies_fake.requests) == 1


@pytest.mark.parametrize("code", ["MS_UNAVAILABLE", "MS_MAX_CONCURRENT_REQ", "TIMEOUT",
                                  "GLOBAL_MAX_CONCURRENT_REQ", "SERVICE_UNAVAILABLE"])
def test_retryable_codes(code: str) -> None:
    assert isinstance(error_for(code, "DE"), Retryable)


def test_malformed_rest_answer(vies: ViesClient, vies_fake: ViesFake) -> None:
    vies_fake.malformed = True
    with pytest.raises(MalformedResponse):
        vies.check("PL" + ORLEN_NIP)


@pytest.mark.parametrize("number", ["PL7740001455", "US123456789", "7740001454", "XX12"])
def test_invalid_vat_numbers_never_leave_the_machine(vies: ViesClient, vies_fake: ViesFake,
                                                     number: str) -> None:
    with pytest.raises(InvalidNumber):
        vies.check(number)
    assert vies_fake.requests == []


def test_invalid_requester_never_leaves_the_machine(vies: ViesClient,
                                                    vies_fake: ViesFake) -> None:
    with pytest.raises(InvalidNumber):
        vies.check("PL" + ORLEN_NIP, requester="PL1234567890")
    assert vies_fake.requests == []


def test_soap_only(vies: ViesClient, vies_fake: ViesFake) -> None:
    result = vies.check_soap("DE" + DE_VAT)
    assert result.valid and result.source == "soap" and result.name is None
    assert [r.operation for r in vies_fake.requests] == ["checkVat"]
