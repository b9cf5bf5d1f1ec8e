"""The clients plugin through HTTP: the REST API (generic and its own endpoints) and the
HTML pages (new-client flow with the NIP warning, information panel, duplicates, import,
personal-data export)."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from plugins.clients.models import Accounting, Client, ImportRun
from tests.e2e.support import app_with_tokens, bearer, logged_in, page_text

from .conftest import REGISTRY

NIP_A = "5260250274"
NIP_B = "7740001454"


@pytest.fixture
def app(sales_kernel, kernel_factory):
    return app_with_tokens(sales_kernel, kernel_factory)


H = bearer
text = page_text


@pytest.fixture
def ui(app):
    return logged_in(app)


# -- REST API -------------------------------------------------------------------------------

def test_api_crud_with_template_facet_and_problems(app):
    c = app.test_client()
    r = c.post("/api/v1/clients/client", headers=H(app), json={
        "kind": "company", "name": "Alfa sp. z o.o.", "nip": "526-025-02-74",
        "accounting": {"receivable_account": "201-5"}})
    assert r.status_code == 201, r.json
    body = r.json
    assert body["nip"] == NIP_A and body["payment_days"] == 14
    assert body["accounting"]["receivable_account"] == "201-5"
    assert body["accounting"]["vat_settlement"] == "standard"      # from the template
    cid = body["id"]
    r = c.post("/api/v1/clients/client", headers=H(app), json={
        "kind": "company", "name": "Kopia", "nip": NIP_A})
    assert r.status_code == 409
    assert r.json["existing_id"] == cid and r.json["existing_name"] == "Alfa sp. z o.o."
    r = c.post("/api/v1/clients/client", headers=H(app), json={
        "kind": "company", "name": "Zły", "nip": "1234567890"})
    assert r.status_code == 422 and "NIP" in r.json["detail"]
    r = c.post(f"/api/v1/clients/client/{cid}/actions/add_branch", headers=H(app),
               json={"name": "Alfa — Oddział Gdańsk", "nip": NIP_A})
    assert r.status_code == 200, r.json
    branch = r.json["result"]["id"]
    assert r.json["result"]["head_office_id"] == cid
    assert c.get(f"/api/v1/clients/client/{branch}/payer", headers=H(app)).json["id"] == cid
    r = c.get("/api/v1/clients/nip-check?nip=PL5260250274", headers=H(app))
    assert {x["id"] for x in r.json["existing"]} == {cid, branch}
    r = c.get("/api/v1/clients/nip-check?nip=5260250275", headers=H(app))
    assert r.status_code == 422 and r.json["title"]
    terms = c.get(f"/api/v1/clients/client/{branch}/terms", headers=H(app)).json
    assert terms["payment_days"] == 14 and terms["currency"] == "PLN"
    r = c.get("/api/v1/clients/client?q=gdańsk", headers=H(app))
    assert [x["id"] for x in r.json["items"]] == [branch]


def test_api_rules_consents_merge_and_gdpr(app, sales_kernel):
    c = app.test_client()
    a = c.post("/api/v1/clients/client", headers=H(app), json={
        "kind": "person", "first_name": "Jan", "last_name": "Kowalski",
        "email": "jan@example.pl"}).json
    assert a["name"] == "Kowalski Jan"
    r = c.get(f"/api/v1/clients/client/{a['id']}/can-contact?channel=email", headers=H(app))
    assert r.json["allowed"] is False and "Brak ważnej zgody" in r.json["reason"]
    r = c.post("/api/v1/clients/consent", headers=H(app), json={
        "client_id": a["id"], "purpose": "marketing_email", "given_at": "2026-01-02"})
    assert r.status_code == 201
    r = c.get(f"/api/v1/clients/client/{a['id']}/can-contact?channel=email", headers=H(app))
    assert r.json["allowed"] is True
    r = c.get(f"/api/v1/clients/client/{a['id']}/can-contact?channel=fax", headers=H(app))
    assert r.status_code == 422
    # the salesperson sees only her clients
    assert c.get(f"/api/v1/clients/client/{a['id']}", headers=H(app, "ala")).status_code == 404
    assert c.get("/api/v1/clients/duplicates", headers=H(app, "ala")).status_code == 403
    # merge over the API
    b = c.post("/api/v1/clients/client", headers=H(app), json={
        "kind": "person", "first_name": "Jan", "last_name": "Kowalski",
        "phone": "601234567"}).json
    dup = c.get("/api/v1/clients/duplicates", headers=H(app)).json
    assert dup == [] or all(a["id"] not in [x["id"] for x in g["clients"]] for g in dup)
    r = c.post("/api/v1/clients/merge", headers=H(app), json={"keep_id": a["id"],
                                                              "drop_id": b["id"]})
    assert r.status_code == 200 and r.json["id"] == a["id"]
    assert c.get(f"/api/v1/clients/client/{b['id']}", headers=H(app)).status_code == 404
    assert c.get(f"/api/v1/clients/client/{a['id']}", headers=H(app)).json["phone"] == \
        "+48601234567"
    r = c.post("/api/v1/clients/merge", headers=H(app), json={"keep_id": "x"})
    assert r.status_code == 422
    data = c.get(f"/api/v1/clients/client/{a['id']}/personal-data", headers=H(app)).json
    assert data["client"]["email"] == "jan@example.pl" and data["consents"]
    r = c.post(f"/api/v1/clients/client/{a['id']}/actions/anonymise", headers=H(app))
    assert r.status_code == 200
    body = c.get(f"/api/v1/clients/client/{a['id']}", headers=H(app)).json
    assert body["email"] is None and body["name"].startswith("Klient zanonimizowany")
    r = c.post(f"/api/v1/clients/client/{a['id']}/actions/convert", headers=H(app),
               json={"kind": "company", "name": "Kowalski sp. z o.o."})
    assert r.status_code == 200 and r.json["result"]["kind"] == "company"


def test_openapi_lists_client_entities(app):
    spec = app.test_client().get("/api/openapi.json", headers=H(app)).json
    assert "/api/v1/clients/client" in spec["paths"]
    assert "/api/v1/clients/consent" in spec["paths"]
    assert spec["paths"]["/api/v1/clients/client/{rid}/payer"]["get"]["summary"].startswith(
        "Płatnik")
    assert "409" in spec["paths"]["/api/v1/clients/client/from-template"]["post"]["responses"]


# -- HTML pages -----------------------------------------------------------------------------

def test_new_client_flow_prefills_the_template_and_warns_on_nip(ui, sales_kernel):
    page = text(ui.get("/clients/new"))
    assert "Nowy klient" in page and "Osoba fizyczna" in page
    r = ui.post("/clients/new", data={"kind": "company", "name": "Alfa", "nip": NIP_A})
    assert r.status_code == 302
    target = r.headers["Location"]
    assert target.startswith("/e/clients.client/new?") and "payment_days=14" in target
    assert "accounting.vat_settlement=standard" in target
    form = text(ui.get(target))
    assert 'value="Alfa"' in form and 'value="14"' in form
    r = ui.post("/e/clients.client/new", data={
        "kind": "company", "segment": "standard", "name": "Alfa", "nip": NIP_A,
        "currency": "PLN", "payment_days": "14", "active": "y",
        "accounting.vat_settlement": "standard"})
    assert r.status_code == 302, text(r)[:3000]
    # a second client with that NIP: the step page offers the three choices
    r = ui.post("/clients/new", data={"kind": "company", "name": "Alfa Gdańsk",
                                      "nip": "526 025 02 74"})
    page = text(r)
    assert r.status_code == 200 and 'id="kt-clients-existing"' in page
    assert "Zapisz nowego jako oddział" in page and "Zapisz nowego jako centralę" in page
    r = ui.post("/clients/new", data={"kind": "company", "name": "Alfa Gdańsk",
                                      "nip": NIP_A, "choice": "branch"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/edit")
    with sales_kernel.db.session() as s:
        head, branch = s.scalars(sa.select(Client).order_by(Client.id)).all()
        assert branch.head_office_id == head.id and branch.nip == NIP_A
        assert s.get(Accounting, head.id).vat_settlement == "standard"
    # the generic form also refuses the duplicate and links the choices
    r = ui.post("/e/clients.client/new", data={"kind": "company", "name": "Trzecia",
                                               "nip": NIP_A, "currency": "PLN"})
    page = text(r)
    assert r.status_code == 422 and "już istnieje" in page
    assert 'id="kt-form-message-actions"' in page and "as=branch" in page
    assert 'href="/clients/new"' in text(ui.get("/e/clients.client/"))
    r = ui.post("/clients/new", data={"kind": "company", "name": "X", "nip": "123"})
    assert r.status_code == 422 and "NIP" in text(r)


def test_information_panel_shows_sections_of_every_plugin(ui, sales_kernel, kernel_factory):
    from tests.fixtures.plugins.fakesales import issue
    with sales_kernel.db.session() as s:
        admin = kernel_factory.admin(s)
        dal = sales_kernel.dal(s, admin)
        head = dal.create("clients.client", {"kind": "company", "name": "Centrala SA",
                                             "nip": NIP_B, "credit_limit": "5000.00"})
        branch = dal.create("clients.client", {"kind": "company", "name": "Oddział Łódź",
                                               "nip": NIP_B, "head_office_id": head.id})
        issue(sales_kernel, s, admin, branch.id, "FV/12/2026", "750.00")
        hid, bid = head.id, branch.id
    page = text(ui.get(f"/e/clients.client/{bid}"))
    assert "Struktura i warunki handlowe" in page and "Centrala SA" in page
    assert "Dokumenty sprzedaży" in page and "FV/12/2026" in page
    assert "Zgody na kontakt" in page and "Historia zmian" in page
    assert "PESEL" not in page                      # a company's page has no person fields
    head_page = text(ui.get(f"/e/clients.client/{hid}"))
    assert 'id="kt-clients-branches"' in head_page and "Oddział Łódź" in head_page
    assert "wykorzystano 750,00\xa0zł" in head_page   # exposure from the sales stand-in


def test_duplicates_page_merges(ui, sales_kernel, kernel_factory):
    from plugins.clients import services
    with sales_kernel.db.session() as s:
        dal = sales_kernel.dal(s, kernel_factory.admin(s))
        a = dal.create("clients.client", {"kind": "company", "name": "Beta", "nip": NIP_A})
        s.info[services.ALLOW_DUPLICATE] = True
        b = dal.create("clients.client", {"kind": "company", "name": "Beta kopia",
                                          "nip": NIP_A})
        ids = (a.id, b.id)
    page = text(ui.get("/clients/duplicates"))
    assert "ten sam NIP" in page and "Beta kopia" in page
    r = ui.post("/clients/duplicates", data={"keep_id": ids[0], "drop_id": ids[1]})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/{ids[0]}")
    assert 'id="kt-no-duplicates"' in text(ui.get("/clients/duplicates"))


def test_personal_data_download_is_audited(ui, sales_kernel, kernel_factory):
    with sales_kernel.db.session() as s:
        dal = sales_kernel.dal(s, kernel_factory.admin(s))
        p = dal.create("clients.client", {"kind": "person", "first_name": "Ewa",
                                          "last_name": "Nowak", "email": "ewa@example.pl"})
        pid = p.id
    r = ui.get(f"/clients/{pid}/personal-data.json")
    assert r.status_code == 200 and "attachment" in r.headers["Content-Disposition"]
    data = json.loads(text(r))
    assert data["client"]["email"] == "ewa@example.pl"
    assert data["other"]["Dokumenty sprzedaży"] == []
    r = ui.post(f"/e/clients.client/{pid}/action/personal_data")
    assert r.headers["Location"] == f"/clients/{pid}/personal-data.json"


CSV = ("Nazwa;NIP;Miejscowość;Kod pocztowy;E-mail;Telefon;Rachunek\n"
       "Alfa sp. z o.o.;526-025-02-74;Kraków;31154;biuro@alfa.pl;601234567;\n"
       "Beta SA;7740001454;Płock;09-400;;;PL61109010140000071219812874\n"
       "Zły NIP;1234567890;Radom;;;;\n"
       "Alfa duplikat;5260250274;Kraków;;;;\n"
       ";;;;;;\n"
       "Gamma;;Gdańsk;80-001;zly@;;\n")


def test_import_wizard_dry_run_then_import(ui, sales_kernel):
    from core import jobs
    r = ui.post("/clients/import", data={"file": (io.BytesIO(CSV.encode("cp1250")),
                                                  "klienci.csv")},
                content_type="multipart/form-data")
    assert r.status_code == 302
    run_url = r.headers["Location"]
    page = text(ui.get(run_url))
    assert "Miejscowość" in page and "Kraków" in page
    assert 'name="map-2"' in page and '<option value="city" selected>' in page
    mapping = {"map-0": "name", "map-1": "nip", "map-2": "city", "map-3": "postal_code",
               "map-4": "email", "map-5": "phone", "map-6": "iban"}
    r = ui.post(run_url, data={**mapping, "dry_run": "y", "on_duplicate": "skip"})
    assert r.status_code == 302 and r.headers["Location"].startswith("/jobs/")
    assert "next=/clients/import/" in r.headers["Location"]
    jobs.drain(sales_kernel)
    with sales_kernel.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Client)) == 0
        run = s.scalar(sa.select(ImportRun))
        assert (run.status, run.total, run.created, run.skipped, run.failed) == \
            ("checked", 5, 2, 1, 2)
    report = text(ui.get(f"{run_url}/report"))
    assert "Próba — nic nie zapisano." in report and "Duplikat wiersza 2" in report
    assert "NIP: błędna suma kontrolna" in report and "E-mail" in report
    r = ui.post(run_url, data={**mapping, "on_duplicate": "skip"})
    jobs.drain(sales_kernel)
    with sales_kernel.db.session() as s:
        rows = s.scalars(sa.select(Client).order_by(Client.id)).all()
        assert [(c.name, c.nip) for c in rows] == [("Alfa sp. z o.o.", NIP_A),
                                                   ("Beta SA", NIP_B)]
        assert rows[0].phone == "+48601234567" and rows[0].payment_days == 14
        assert s.get(Accounting, rows[0].id).vat_settlement == "standard"
    found = text(ui.get("/e/clients.client/?q=płock"))
    assert "Beta SA" in found and "Alfa sp. z o.o." not in found
    # importing the same file again with "update": existing clients are updated, not doubled
    r = ui.post(run_url, data={**mapping, "on_duplicate": "update"})
    jobs.drain(sales_kernel)
    with sales_kernel.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Client)) == 2
        run = s.scalar(sa.select(ImportRun))
        assert (run.status, run.created, run.updated) == ("done", 0, 2)


def test_import_rejects_bad_files_and_mappings(ui):
    r = ui.post("/clients/import", data={"file": (io.BytesIO(b"x"), "dane.pdf")},
                content_type="multipart/form-data", follow_redirects=True)
    assert "Obsługiwane pliki: CSV lub XLSX." in text(r)
    r = ui.post("/clients/import", data={"file": (io.BytesIO(b"PK\x03\x04zepsuty"),
                                                  "dane.xlsx")},
                content_type="multipart/form-data", follow_redirects=True)
    assert "Nie można odczytać arkusza XLSX" in text(r)
    r = ui.post("/clients/import", data={"file": (io.BytesIO(CSV.encode()), "k.csv")},
                content_type="multipart/form-data")
    run_url = r.headers["Location"]
    r = ui.post(run_url, data={"map-0": "city", "map-2": "city"}, follow_redirects=True)
    assert "przypisano do kilku kolumn" in text(r)
    r = ui.post(run_url, data={"map-2": "city"}, follow_redirects=True)
    assert "Przypisz kolumnę z nazwą" in text(r)


def test_import_reads_xlsx(ui, sales_kernel):
    import openpyxl

    from core import jobs
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Imię", "Nazwisko", "PESEL", "Data urodzenia", "Rodzaj"])
    ws.append(["Anna", "Kowalska", "85051212345", "1985-05-12", "osoba"])
    buf = io.BytesIO()
    wb.save(buf)
    r = ui.post("/clients/import", data={"file": (io.BytesIO(buf.getvalue()), "o.xlsx")},
                content_type="multipart/form-data")
    run_url = r.headers["Location"]
    page = text(ui.get(run_url))
    assert '<option value="pesel" selected>' in page
    ui.post(run_url, data={"map-0": "first_name", "map-1": "last_name", "map-2": "pesel",
                           "map-3": "birth_date", "map-4": "kind"})
    jobs.drain(sales_kernel)
    with sales_kernel.db.session() as s:
        p = s.scalar(sa.select(Client))
        assert (p.kind, p.name, p.pesel, p.payment_method) == \
            ("person", "Kowalska Anna", "85051212345", "cash")


def test_pages_of_a_disabled_plugin_are_gone(app, sales_kernel, ui):
    assert ui.get("/clients/new").status_code == 200
    sales_kernel.disable(["fakesales"])
    sales_kernel.disable(["clients"])
    assert ui.get("/clients/new").status_code == 404
    assert app.test_client().get("/api/v1/clients/nip-check?nip=5260250274",
                                 headers=H(app)).status_code == 404


def test_registry_file_lists_clients_as_default():
    import tomllib
    from pathlib import Path
    data = tomllib.loads((Path(__file__).parents[3] / "addons_registry.toml").read_text())
    assert data["plugins"]["clients"]["default"] is True
    assert REGISTRY.exists()


def test_pages_speak_english_too(ui, sales_kernel):
    from core.security.models import User
    assert "Nowy klient" in text(ui.get("/clients/new"))
    with sales_kernel.db.session() as s:
        s.scalar(sa.select(User).where(User.login == "admin")).language = "en"
    page = text(ui.get("/clients/new"))
    assert "New client" in page and "Nowy klient" not in page
    assert "First we check whether a client with this NIP" in page
    page = text(ui.get("/clients/import"))
    assert "Import clients from CSV or XLSX" in page


def test_api_create_from_template(app):
    c = app.test_client()
    tpl = c.post("/api/v1/clients/template", headers=H(app), json={
        "name": "Partnerzy", "kind": "company", "is_partner": True, "payment_days": 7}).json
    r = c.post("/api/v1/clients/client/from-template", headers=H(app), json={
        "template_id": tpl["id"], "kind": "company", "name": "Omega", "nip": NIP_A})
    assert r.status_code == 201, r.json
    assert r.json["is_partner"] is True and r.json["payment_days"] == 7
    r = c.post("/api/v1/clients/client/from-template", headers=H(app), json={
        "name": "Omega Kielce", "nip": NIP_A, "as": "branch", "duplicate_of": r.json["id"]})
    assert r.status_code == 201 and r.json["head_office_id"] is not None
    r = c.post("/api/v1/clients/client/from-template", headers=H(app), json={
        "name": "Omega bis", "nip": NIP_A})
    assert r.status_code == 409


@pytest.mark.parametrize("parallel", [False, True])
def test_import_in_batches_same_result_with_a_second_process(ui, sales_kernel, monkeypatch,
                                                             parallel):
    """A large file is parsed in a second process a few batches ahead; with tiny batches
    the same small file goes through that path: same clients, same report, in order."""
    from core import jobs
    from plugins.clients import importer
    monkeypatch.setattr(importer, "BATCH", 2)
    monkeypatch.setattr(importer, "PARALLEL_MIN_ROWS", 1 if parallel else 10**9)
    extra = "".join(f"Firma {i};;Łódź;90-00{i};;;\n" for i in range(5))
    r = ui.post("/clients/import", data={"file": (io.BytesIO((CSV + extra).encode()),
                                                  "k.csv")},
                content_type="multipart/form-data")
    run_url = r.headers["Location"]
    ui.post(run_url, data={"map-0": "name", "map-1": "nip", "map-2": "city",
                           "map-3": "postal_code", "map-4": "email", "map-5": "phone",
                           "map-6": "iban", "on_duplicate": "skip"})
    jobs.drain(sales_kernel)
    with sales_kernel.db.session() as s:
        run = s.scalar(sa.select(ImportRun))
        assert (run.status, run.total, run.created, run.skipped, run.failed) == \
            ("done", 10, 7, 1, 2)
        assert [e["row"] for e in run.report] == [4, 5, 7]
        names = s.scalars(sa.select(Client.name).order_by(Client.id)).all()
        assert names == ["Alfa sp. z o.o.", "Beta SA"] + [f"Firma {i}" for i in range(5)]
