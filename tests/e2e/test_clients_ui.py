"""Browser test of the client base: create a company from a template, hit the NIP
duplicate warning, record the new client as a branch, open the information panel.
Screenshots go to ``test-artifacts/screenshots/clients-*.png``."""

from __future__ import annotations

import pytest

from tests.e2e.support import live_server, make_app
from tests.e2e.test_ui_browser import browser, login, page, shot  # noqa: F401 - fixtures
from tests.plugins.clients.conftest import REGISTRY

pytestmark = pytest.mark.browser

NIP_A = "5260250274"
NIP_B = "7740001454"


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url


@pytest.fixture
def server(kernel_factory):
    k = kernel_factory(install=["clients", "fakesales"], registry_file=REGISTRY)
    with k.db.session() as s:
        dal = k.dal(s, kernel_factory.admin(s))
        head = dal.create("clients.client", {"kind": "company", "name": "Alfa Handel S.A.",
                                             "nip": NIP_A, "credit_limit": "20000.00"})
        dal.create("clients.address", {"client_id": head.id, "city": "Kraków",
                                       "postal_code": "31-154", "street": "Długa",
                                       "building": "12", "is_default": True})
    with live_server(make_app(k)) as base:
        yield base


def test_company_from_template_duplicate_nip_as_branch_and_panel(server, page):  # noqa: F811
    pg = page
    login(pg, server)
    # 1. a new company from the "Firma" template
    pg.goto(server + "/e/clients.client/")
    pg.locator("#kt-new").click()
    pg.wait_for_url("**/clients/new")
    pg.get_by_label("Szablon").select_option(label="Firma")
    pg.get_by_label("Nazwa firmy").fill("Beta Serwis sp. z o.o.")
    pg.get_by_label("NIP").fill("774-000-14-54")
    pg.locator("#kt-clients-next").click()
    pg.wait_for_url("**/e/clients.client/new?**")
    assert pg.get_by_label("Termin płatności (dni)").input_value() == "14"
    assert pg.get_by_label("Forma płatności").input_value() == "transfer"
    assert pg.locator("[name='accounting.vat_settlement']").input_value() == "standard"
    # a company's form hides the natural-person section until the kind changes
    assert not pg.get_by_label("PESEL").is_visible()
    pg.get_by_label("Rodzaj").select_option("person")
    assert pg.get_by_label("PESEL").is_visible() and not pg.get_by_label("KRS").is_visible()
    pg.get_by_label("Rodzaj").select_option("company")
    pg.get_by_label("Telefon", exact=True).fill("601 234 567")
    shot(pg, "clients-form")
    pg.locator("#kt-save").click()
    pg.wait_for_url("**/e/clients.client/*")
    assert "Beta Serwis sp. z o.o." in pg.locator("h1").inner_text()
    assert "+48601234567" in pg.content()
    # 2. the same NIP as an existing client: warned, recorded as a branch
    pg.goto(server + "/clients/new")
    pg.get_by_label("Nazwa firmy").fill("Alfa Handel — Oddział Gdańsk")
    pg.get_by_label("NIP").fill(NIP_A)
    pg.locator("#kt-clients-next").click()
    warning = pg.locator("#kt-clients-existing")
    warning.wait_for()
    assert "Alfa Handel S.A." in warning.inner_text()
    shot(pg, "clients-nip-warning")
    pg.locator("#kt-choice-branch").click()
    pg.wait_for_url("**/edit")
    assert pg.get_by_label("NIP", exact=True).input_value() == NIP_A
    pg.locator("#kt-save").click()
    pg.wait_for_url("**/e/clients.client/*")
    # 3. the information panel of the branch: payer and terms come from the head office
    panel = pg.locator("#kt-clients-payer")
    assert "Alfa Handel S.A." in panel.inner_text()
    assert "Struktura i warunki handlowe" in pg.content()
    assert "Historia zmian" in pg.content()
    shot(pg, "clients-information-panel")
    pg.get_by_role("link", name="Alfa Handel S.A.").first.click()
    pg.wait_for_url("**/e/clients.client/1")
    assert "Alfa Handel — Oddział Gdańsk" in pg.locator("#kt-clients-branches").inner_text()
    assert not pg.js_errors, pg.js_errors
