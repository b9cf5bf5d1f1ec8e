"""The registries plugin through HTTP: the client page (actions, verification panel and
badge), the diff page, the NIP lookup, bulk verification pages, the settings page and the
JSON API, with the fake registries behind them."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from core import jobs
from plugins.clients.models import Address, Client
from plugins.registries.models import BulkRun, Settings, Verification
from tests.e2e.support import UIClient, app_with_tokens, bearer, logged_in, page_text

from .fakes import FOREIGN_ACCOUNT, KOWALSKI_NIP, ORLEN_ACCOUNTS, ORLEN_NIP, ROZA_NIP

C = "clients.client"


@pytest.fixture
def app(kernel, kernel_factory):
    return app_with_tokens(kernel, kernel_factory)


H = bearer
text = page_text


@pytest.fixture
def ui(app):
    return logged_in(app)


def make_client(kernel, name="Orlen", nip=ORLEN_NIP, accounts=()):
    with kernel.db.session() as s:
        from core.security.models import User
        admin = s.scalar(sa.select(User).where(User.login == "admin"))
        dal = kernel.dal(s, admin)
        c = dal.create(C, {"kind": "company", "name": name, "nip": nip})
        for nrb in accounts:
            dal.create("clients.bank_account", {"client_id": c.id, "iban": "PL" + nrb})
        return c.id


# -- the client page -------------------------------------------------------------------------

def test_client_page_fetch_diff_accept_verify_and_badge(ui, kernel, fakes):
    cid = make_client(kernel, accounts=[ORLEN_ACCOUNTS[0]])
    page = text(ui.get(f"/e/{C}/{cid}"))
    assert 'data-action="registry_fetch"' in page and 'data-action="registry_verify"' in page
    assert 'id="kt-registries-badge" data-state="unknown"' in page
    r = ui.post(f"/e/{C}/{cid}/action/registry_fetch")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/registries/fetch/{cid}")
    page = text(ui.get(f"/registries/fetch/{cid}"))
    rows = re.findall(r'data-field="(\w+)"', page)
    assert rows == ["name", "short_name", "legal_form", "regon", "krs", "address", "pkd"]
    assert "ORLEN SPÓŁKA AKCYJNA" in page and "ul. Chemików 7, 09-411 Płock" in page
    with kernel.db.session() as s:
        version = s.get(Client, cid).version
        assert s.get(Client, cid).regon is None          # showing the diff writes nothing
    r = ui.post(f"/registries/fetch/{cid}", data={
        "fields": ["name", "regon", "krs", "address", "pkd"], "version": str(version),
        "source": "gus"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/e/{C}/{cid}")
    with kernel.db.session() as s:
        c = s.get(Client, cid)
        assert (c.name, c.regon, c.krs, c.short_name) == (
            "ORLEN SPÓŁKA AKCYJNA", "610188201", "0000028860", None)
        assert s.scalar(sa.select(Address.city).where(Address.client_id == cid)) == "Płock"
    page = text(ui.get(f"/e/{C}/{cid}"))
    assert "Przejęto dane z rejestru GUS (REGON)" in page
    assert "19.20.Z" in page                                 # the facet on the page
    r = ui.post(f"/e/{C}/{cid}/action/registry_verify")
    assert r.status_code == 302
    page = text(ui.get(f"/e/{C}/{cid}"))
    assert 'id="kt-registries-badge" data-state="ok"' in page
    assert "Czynny podatnik VAT" in page
    with kernel.db.session() as s:
        wl = s.scalar(sa.select(Verification).where(Verification.source == "whitelist"))
    assert f'<code class="kt-registries-request-id">{wl.request_id}</code>' in page
    assert "<strong>Weryfikuj</strong>" in page and "Weryfikacja w rejestrach" in page
    history = page[page.index('id="kt-registries-history"'):]
    assert f"<code>{wl.request_id}</code>" in history


def test_a_registry_that_is_down_shows_a_message_not_a_traceback(ui, kernel, fakes):
    cid = make_client(kernel)
    fakes.gus.unavailable = True
    r = ui.get(f"/registries/fetch/{cid}")
    page = text(r)
    assert r.status_code == 200 and 'id="kt-registries-error"' in page
    assert "chwilowo niedostępna" in page and "Traceback" not in page
    fakes.whitelist.unavailable = True
    fakes.vies.rest_down = fakes.vies.soap_down = True
    r = ui.post(f"/e/{C}/{cid}/action/registry_verify")
    page = text(ui.get(r.headers["Location"]))
    assert "Biała lista VAT: Biała lista VAT (Ministerstwo Finansów) jest chwilowo" in page
    assert "kt-registries-error" in page


def test_warning_badge_for_an_account_off_the_list(ui, kernel, fakes):
    cid = make_client(kernel, accounts=[FOREIGN_ACCOUNT])
    ui.post(f"/e/{C}/{cid}/action/registry_verify")
    page = text(ui.get(f"/e/{C}/{cid}"))
    assert 'id="kt-registries-badge" data-state="warning"' in page
    assert 'class="kt-registries-account" data-on-list="0"' in page


def test_nip_lookup_leads_to_the_new_client_flow(ui, kernel, fakes):
    page = text(ui.get("/registries/lookup?nip=774-000-14-54"))
    assert "ORLEN SPÓŁKA AKCYJNA" in page and 'id="kt-registries-new-client"' in page
    assert "/clients/new?nip=7740001454&amp;kind=company&amp;name=ORLEN" in page
    page = text(ui.get("/registries/lookup?nip=7740001455"))
    assert "cyfra kontrolna" in page
    assert len(fakes.gus.calls("DaneSzukajPodmioty")) == 1      # no request for a bad NIP


def test_bulk_pages_from_the_list_and_the_form(ui, kernel, fakes):
    a = make_client(kernel)
    b = make_client(kernel, "Kowalski", KOWALSKI_NIP)
    r = ui.post(f"/e/{C}/bulk", data={"ids": [str(a), str(b)], "op": "registry_verify_bulk"})
    assert r.status_code == 302
    with kernel.db.session() as s:
        run = s.scalar(sa.select(BulkRun))
        assert run.client_ids == [a, b]
    jobs.drain(kernel)
    page = text(ui.get(f"/registries/bulk/{run.id}"))
    assert 'data-status="done"' in page and "Kowalski" in page
    make_client(kernel, "Róża", ROZA_NIP)
    r = ui.post("/registries/bulk", data={"sources": ["whitelist"], "ids": ""})
    assert r.status_code == 302 and "/jobs/" in r.headers["Location"]
    assert r.headers["Location"].endswith("?next=/registries/bulk/2")
    jobs.drain(kernel)
    page = text(ui.get("/registries/bulk"))
    assert "wszyscy aktywni" in page
    with kernel.db.session() as s:
        assert s.get(BulkRun, 2).total == 3 and s.get(BulkRun, 2).status == "done"


def test_settings_page_keeps_secrets_hidden(ui, kernel):
    page = text(ui.get("/registries/settings"))
    assert "abcde12345abcde12345" not in page and "ustawiony" in page
    r = ui.post("/registries/settings", data={
        "environment": "production", "timeout": "7", "cache_days": "7", "max_age_days": "14",
        "whitelist_threshold": "15 000,00", "gus_key": "", "ceidg_token": "",
        "own_vat_number": "", "schedule_enabled": "y", "gus_url": "", "ceidg_url": "",
        "vies_rest_url": "", "vies_soap_url": "", "whitelist_url": ""})
    assert r.status_code == 302
    with kernel.db.session() as s:
        row = s.scalar(sa.select(Settings))
        assert (row.environment, row.max_age_days, row.schedule_enabled) == (
            "production", 14, True)
        assert row.gus_key == "abcde12345abcde12345" and row.ceidg_token
        assert row.block_on_whitelist is False and row.whitelist_url is None
    r = ui.post("/registries/settings", data={"environment": "test", "gus_url": "nope"})
    assert r.status_code == 422 and "http://" in text(r)


def test_pages_need_the_permissions(app, kernel, kernel_factory):
    with kernel.db.session() as s:
        kernel_factory.user(s, "jan", roles=["clients_salesperson"])
    c = UIClient(app)
    c.login("jan", "password-1")
    assert c.get("/registries/settings").status_code == 403
    assert c.get("/registries/lookup").status_code == 403
    cid = make_client(kernel)
    assert 'data-action="registry_fetch"' not in text(c.get(f"/e/{C}/{cid}"))


# -- JSON API ----------------------------------------------------------------------------------

def test_api_lookup_apply_verify_status(app, kernel, fakes):
    c = app.test_client()
    r = c.get("/api/v1/registries/lookup?nip=7740001454", headers=H(app))
    assert r.status_code == 200 and r.json["regon"] == "610188201"
    r = c.get("/api/v1/registries/lookup?nip=7740001455", headers=H(app))
    assert r.status_code == 422 and r.json["title"] == "Nieprawidłowe dane"
    fakes.gus.unavailable = True
    r = c.get("/api/v1/registries/lookup?regon=000331501", headers=H(app))
    assert r.status_code == 424 and "chwilowo niedostępna" in r.json["detail"]
    fakes.gus.unavailable = False
    cid = make_client(kernel)
    r = c.get(f"/api/v1/registries/client/{cid}/proposal", headers=H(app))
    assert [d["field"] for d in r.json["diff"]][:2] == ["name", "short_name"]
    r = c.post(f"/api/v1/registries/client/{cid}/apply", headers=H(app),
               json={"fields": ["regon", "pkd"], "version": r.json["version"]})
    assert r.status_code == 200, r.json
    assert r.json["regon"] == "610188201" and r.json["registry"]["pkd_main"] == "19.20.Z"
    r = c.post(f"/api/v1/registries/client/{cid}/verify", headers=H(app), json={})
    assert r.status_code == 200 and r.json["status"] == "ok"
    r = c.post(f"/api/v1/registries/client/{cid}/verify", headers=H(app),
               json={"sources": "vies"})
    assert [x["source"] for x in r.json["results"]] == ["vies"]
    for bad in ({"sources": 5}, {"sources": ["gus"]}, {"sources": [{"a": 1}]}):
        r = c.post(f"/api/v1/registries/client/{cid}/verify", headers=H(app), json=bad)
        assert r.status_code == 422 and r.json["errors"].get("sources"), (bad, r.json)
    r = c.post(f"/api/v1/registries/client/{cid}/verify", headers=H(app), json=[1])
    assert r.status_code == 200                        # no object: both sources
    r = c.get(f"/api/v1/registries/client/{cid}/status", headers=H(app))
    assert r.json["badge"]["state"] == "ok" and r.json["latest"]["whitelist"]["request_id"]
    # the generic action endpoint too
    r = c.post(f"/api/v1/clients/client/{cid}/actions/registry_fetch", headers=H(app), json={})
    assert r.status_code == 200 and r.json["result"]["proposal"]["source"] == "gus"
    # the salesperson without the registries role
    r = c.get("/api/v1/registries/lookup?nip=7740001454", headers=H(app, "ala"))
    assert r.status_code == 403
    assert c.get("/api/v1/registries/lookup?nip=7740001454").status_code == 401


def test_api_bulk_check_account_and_settings(app, kernel, fakes):
    c = app.test_client()
    a = make_client(kernel, accounts=[ORLEN_ACCOUNTS[1]])
    r = c.post("/api/v1/registries/bulk", headers=H(app), json={"ids": [a]})
    assert r.status_code == 202 and r.json["status"] == "queued"
    jobs.drain(kernel)
    r = c.get(f"/api/v1/registries/bulk/{r.json['id']}", headers=H(app))
    assert r.json["status"] == "done" and r.json["ok"] == 1
    r = c.post("/api/v1/registries/check-account", headers=H(app),
               json={"client_id": a, "amount": "20000"})
    assert r.json["status"] == "assigned" and r.json["account"] == ORLEN_ACCOUNTS[1]
    r = c.post("/api/v1/registries/check-account", headers=H(app),
               json={"client_id": a, "amount": "20000", "iban": "PL" + FOREIGN_ACCOUNT})
    assert r.json["status"] == "not_assigned"
    r = c.get("/api/v1/registries/settings", headers=H(app))
    assert r.json["gus_key_set"] is True and "gus_key" not in r.json
    r = c.patch("/api/v1/registries/settings", headers=H(app), json={"max_age_days": 7})
    assert r.status_code == 200 and r.json["max_age_days"] == 7
    r = c.patch("/api/v1/registries/settings", headers=H(app), json={"timeout": 0})
    assert r.status_code == 422


def test_openapi_describes_the_registries_endpoints(app):
    spec = app.test_client().get("/api/openapi.json", headers=H(app)).json
    verify = spec["paths"]["/api/v1/registries/client/{client_id}/verify"]["post"]
    assert verify["tags"] == ["registries"] and "VIES" in verify["summary"]
    assert "424" in spec["paths"]["/api/v1/registries/lookup"]["get"]["responses"]
    assert {"get", "patch"} <= set(spec["paths"]["/api/v1/registries/settings"])
    assert "/api/v1/registries/verification" in spec["paths"]     # the entities' own routes
