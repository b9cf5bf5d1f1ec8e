"""Browser test of the registries plugin: type a NIP on a new client, save it, fetch the
company's data from GUS, accept the diff, verify in VIES and on the VAT White List, see the
badge. The app talks to the local fake GUS / VIES / White List servers of
``tests/plugins/registries/fakes.py`` (endpoints set in the plugin's settings row).
Screenshots go to ``test-artifacts/screenshots/registries-*.png``."""

from __future__ import annotations

import pytest

from tests.e2e.support import live_server, make_app
from tests.e2e.test_ui_browser import browser, login, page, shot  # noqa: F401 - fixtures
from tests.plugins.registries.conftest import (  # noqa: F401 - fixtures
    ceidg_fake,
    ceidg_server,
    gus_fake,
    gus_server,
    point_at_fakes,
    registries_kernel,
    vies_fake,
    vies_server,
    whitelist_fake,
    whitelist_server,
)
from tests.plugins.registries.fakes import ORLEN_NIP

pytestmark = pytest.mark.browser


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url


@pytest.fixture
def server(kernel_factory, gus_fake, ceidg_fake, vies_fake, whitelist_fake):  # noqa: F811
    k = registries_kernel(kernel_factory, install=["clients", "registries"])
    with k.db.session() as s:
        kernel_factory.admin(s)
        point_at_fakes(s, gus_fake, ceidg_fake, vies_fake, whitelist_fake,
                       own_vat_number="PL5260250274")
    with live_server(make_app(k)) as url:
        yield url


def test_new_client_fetch_from_gus_accept_verify_badge(
        server, page, gus_fake, whitelist_fake):  # noqa: F811
    pg = page
    login(pg, server)
    # 1. a new client: only the NIP, then a working name on the form
    pg.goto(server + "/clients/new")
    pg.get_by_label("NIP").fill("774-000-14-54")
    pg.locator("#kt-clients-next").click()
    pg.wait_for_url("**/e/clients.client/new?**")
    pg.get_by_label("Nazwa", exact=True).fill("Orlen")
    pg.locator("#kt-save").click()
    pg.wait_for_url("**/e/clients.client/*")
    assert pg.locator("h1").inner_text() == "Orlen"
    badge = pg.locator("#kt-registries-badge")
    assert badge.get_attribute("data-state") == "unknown"
    # 2. "Pobierz z GUS": the diff, nothing overwritten yet
    pg.locator("[data-action='registry_fetch']").click()
    pg.wait_for_url("**/registries/fetch/*")
    diff = pg.locator("#kt-registries-diff")
    diff.wait_for()
    name_row = pg.locator(".kt-registries-diff-row[data-field='name']")
    assert "Orlen" in name_row.inner_text() and "ORLEN SPÓŁKA AKCYJNA" in name_row.inner_text()
    assert "ul. Chemików 7, 09-411 Płock" in diff.inner_text()
    assert pg.locator("#kt-accept-regon").is_checked()
    pg.locator("#kt-accept-short_name").uncheck()          # keep the user's choice
    shot(pg, "registries-diff")
    pg.locator("#kt-registries-accept").click()
    pg.wait_for_url("**/e/clients.client/*")
    assert pg.locator("h1").inner_text() == "ORLEN SPÓŁKA AKCYJNA"
    fields = pg.locator(".kt-fields").inner_text()
    assert "610188201" in fields and "0000028860" in fields and "spółka akcyjna" in fields
    assert "ORLEN S.A." not in fields
    assert "19.20.Z" in pg.content()
    assert len(gus_fake.calls("DaneSzukajPodmioty")) == 1   # the diff and the accept: cached
    # 3. "Weryfikuj": VIES + White List, the badge and the request id
    pg.locator("[data-action='registry_verify']").click()
    pg.wait_for_load_state("networkidle")
    badge = pg.locator("#kt-registries-badge")
    badge.wait_for()
    assert badge.get_attribute("data-state") == "ok"
    assert badge.inner_text().strip() == "Czynny podatnik VAT"
    panel = pg.locator("#kt-registries-panel")
    assert whitelist_fake.requests[-1].path == f"/api/search/nip/{ORLEN_NIP}"
    assert "Status VAT: Czynny" in panel.inner_text()
    assert "WAPIAAAAY" in panel.inner_text()                # VIES consultation number
    # the history: one entry for the verification, labelled, with the request ids
    history = pg.locator("#history").inner_text()
    assert history.count("Weryfikuj") == 1, history
    assert "requestId" in history and "Weryfikacja w rejestrach" in history
    assert "Pobierz z GUS" in history and "registry_" not in history
    shot(pg, "registries-verified")
    assert not pg.js_errors, pg.js_errors
