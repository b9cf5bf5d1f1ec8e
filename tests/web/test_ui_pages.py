"""The generated HTML UI through Flask's test client, on the fixture plugins (alpha, beta,
delta): shell, lists, forms, detail, kanban, calendar, records services, admin, i18n."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import Notification, notify
from core.security.models import ApiToken, SecurityEvent, User
from tests.e2e.support import UIClient, make_app, ui_kernel


@pytest.fixture
def kernel(kernel_factory):
    return ui_kernel(kernel_factory)


@pytest.fixture
def app(kernel):
    return make_app(kernel)


@pytest.fixture
def ui(app):
    client = UIClient(app)
    r = client.login()
    assert r.status_code == 302
    return client


def text(r) -> str:
    return r.get_data(as_text=True)


def table(r) -> str:
    page = text(r)
    return page[page.index('id="kt-list-table"'):]


def version_of(html: str) -> str:
    return re.search(r'name="version" value="(\d*)"', html).group(1)


def create_order(ui, name="Zamówienie A", **extra):
    data = {"name": name, "state": "new", **extra}
    r = ui.post("/e/delta.order/new", data=data)
    assert r.status_code == 302, text(r)[:2000]
    return int(r.headers["Location"].rstrip("/").split("/")[-1])


# -- shell -------------------------------------------------------------------------------------

def test_login_logout_and_security_log(kernel, app):
    c = UIClient(app)
    r = c.get("/e/alpha.thing/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    page = text(c.get("/login"))
    assert "Zaloguj się" in page and 'lang="pl"' in page
    r = c.login(password="wrong-password")
    assert r.status_code == 401
    assert "Nieprawidłowy login lub hasło." in text(r)
    r = c.login()
    assert r.status_code == 302
    assert "Pulpit" in text(c.get("/"))
    r = c.post("/logout")
    assert r.status_code == 302
    assert c.get("/").status_code == 302
    with kernel.db.session() as s:
        kinds = [e.kind for e in s.scalars(select(SecurityEvent).order_by(SecurityEvent.id))]
    assert "login.failed" in kinds and "login" in kinds and "logout" in kinds


def test_login_redirects_only_to_local_next(app):
    c = UIClient(app)
    c.refresh_token()
    r = c.post("/login", data={"login": "admin", "password": "admin-pass-1",
                               "csrf_token": c.token, "next": "https://evil.example/x"})
    assert r.status_code == 302
    assert "evil" not in r.headers["Location"]


def test_post_without_csrf_is_refused(ui):
    r = ui.c.post("/e/delta.order/new", data={"name": "Bez tokenu", "state": "new"})
    assert r.status_code in (400, 403)
    assert "Bez tokenu" not in text(ui.get("/e/delta.order/"))


def test_dashboard_menu_and_widgets(ui):
    create_order(ui, "Pierwsze")
    page = text(ui.get("/"))
    assert 'data-menu="alpha"' in page and 'data-menu="delta"' in page
    assert 'data-widget="delta_orders"' in page and 'data-widget="delta_states"' in page
    assert 'class="kt-chart"' in page and "data-chart=" in page
    chart = re.search(r"data-chart='([^']+)'", page).group(1)
    data = json.loads(chart.replace("&#34;", '"').replace("&quot;", '"'))
    assert data["labels"] == ["Nowe", "W realizacji", "Zakończone"]
    assert data["datasets"][0]["data"] == [1.0, 0.0, 0.0]


def test_global_search_groups_results(ui):
    create_order(ui, "Ziarnisty projekt")
    page = text(ui.get("/search?q=Ziarn"))
    assert 'data-entity="alpha.thing"' in page and "Ziarno" in page
    assert 'data-entity="delta.order"' in page and "Ziarnisty projekt" in page
    assert "Nic nie znaleziono" in text(ui.get("/search?q=zzzqqq"))


def test_notifications_badge_and_mark_read(kernel, ui):
    with kernel.db.session() as s:
        uid = s.scalar(select(User.id).where(User.login == "admin"))
        notify(s, uid, "Przypomnienie", "Oddzwoń do klienta", url="/e/delta.order/")
        notify(s, uid, "Druga", "")
    page = text(ui.get("/"))
    assert 'id="kt-unread">2<' in page
    with kernel.db.session() as s:
        nid = s.scalar(select(Notification.id).where(Notification.title == "Przypomnienie"))
    r = ui.post(f"/notifications/{nid}/read", data={"open": "1"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/e/delta.order/")
    assert 'id="kt-unread">1<' in text(ui.get("/"))
    ui.post("/notifications/read-all")
    assert 'id="kt-unread"' not in text(ui.get("/notifications"))


def test_api_tokens_shown_once_and_revoked(kernel, ui):
    r = ui.post("/account/tokens", data={"name": "integracja", "days": "30"})
    page = text(r)
    secret = re.search(r'id="token-secret">([^<]+)<', page).group(1)
    assert secret.startswith("kt_")
    assert secret not in text(ui.get("/account/tokens"))
    with kernel.db.session() as s:
        tok = s.scalar(select(ApiToken).where(ApiToken.name == "integracja"))
        assert tok.expires_at is not None and tok.revoked_at is None
    ui.post(f"/account/tokens/{tok.id}/revoke")
    with kernel.db.session() as s:
        assert s.get(ApiToken, tok.id).revoked_at is not None
    assert "unieważniony" in text(ui.get("/account/tokens"))


def test_change_password(kernel, app, ui):
    r = ui.post("/account/password", data={"current_password": "bad",
                                            "new_password": "nowe-haslo-1",
                                            "repeat_password": "nowe-haslo-1"})
    assert r.status_code == 422 and "Nieprawidłowe obecne hasło." in text(r)
    r = ui.post("/account/password", data={"current_password": "admin-pass-1",
                                            "new_password": "nowe-haslo-1",
                                            "repeat_password": "nowe-haslo-1"})
    assert r.status_code == 302
    assert UIClient(app).login(password="nowe-haslo-1").status_code == 302


def test_language_switch_per_user(kernel, ui):
    ui.post("/language", data={"lang": "en", "next": "/e/delta.order/"})
    with kernel.db.session() as s:
        assert s.scalar(select(User.language).where(User.login == "admin")) == "en"
    page = text(ui.get("/e/delta.order/"))
    assert 'lang="en"' in page and "Orders" in page and ">Add<" not in page.replace(" ", "")
    assert "Search" in page and "Szukaj" not in page
    ui.post("/language", data={"lang": "pl"})
    assert "Szukaj" in text(ui.get("/e/delta.order/"))


# -- list --------------------------------------------------------------------------------------

def test_list_search_sort_filter_paginate_export(ui):
    for i, (name, state) in enumerate([("Beta", "new"), ("Alfa", "done"), ("Gamma", "new")]):
        create_order(ui, name, state=state, amount=f"{i + 1}0,50")
    page = table(ui.get("/e/delta.order/?sort=name"))
    assert page.index(">Alfa<") < page.index(">Beta<") < page.index(">Gamma<")
    page = table(ui.get("/e/delta.order/?sort=-name"))
    assert page.index(">Gamma<") < page.index(">Beta<")
    page = table(ui.get("/e/delta.order/?q=amm"))
    assert ">Gamma<" in page and ">Alfa<" not in page
    page = table(ui.get("/e/delta.order/?f.state=done"))
    assert ">Alfa<" in page and ">Gamma<" not in page
    page = table(ui.get("/e/delta.order/?f.amount__gte=20"))
    assert ">Alfa<" in page and ">Gamma<" in page and ">Beta<" not in page
    assert "30,50" in page   # Polish money formatting
    page = text(ui.get("/e/delta.order/?per_page=5&sort=name&page=1"))
    assert ">Alfa<" in page
    r = ui.get("/e/delta.order/export.csv?f.state=new&sort=name")
    body = r.get_data().decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("ID;Nazwa;Stan")
    assert len(lines) == 3 and "Beta;Nowe" in lines[1] and "10,50" in lines[1]
    r = ui.get("/e/delta.order/export.xlsx?sort=name")
    from openpyxl import load_workbook
    ws = load_workbook(io.BytesIO(r.get_data())).active
    rows = list(ws.values)
    assert rows[0][1] == "Nazwa" and [x[1] for x in rows[1:]] == ["Alfa", "Beta", "Gamma"]
    assert Decimal(str(rows[1][4])) == Decimal("20.50")


def test_list_of_many_rows_says_more_than(ui, monkeypatch):
    from core.web.ui import views_entity
    for name in ("A1", "A2", "A3"):
        create_order(ui, name)
    monkeypatch.setattr(views_entity, "COUNT_LIMIT", 2)        # as if 10,000 were exceeded
    page = text(ui.get("/e/delta.order/?per_page=5"))
    assert re.search(r'id="kt-total"[^>]*>ponad 2<', page)
    assert "Strona 1<" in page and "Strona 1 z" not in page
    assert 'aria-label="Następna strona"' in page
    monkeypatch.setattr(views_entity, "COUNT_LIMIT", 3)        # exactly the limit: exact
    page = text(ui.get("/e/delta.order/?per_page=5"))
    assert re.search(r'id="kt-total"[^>]*>3<', page) and "Strona 1 z 1" in page


def test_saved_filters_per_user(ui):
    r = ui.post("/e/delta.order/filters",
                data={"name": "Zakończone", "params": json.dumps({"f.state": "done"})})
    assert r.status_code == 302 and "f.state=done" in r.headers["Location"]
    page = text(ui.get("/e/delta.order/"))
    assert 'data-saved-filter="Zakończone"' in page
    fid = re.search(r"/e/delta.order/filters/(\d+)/delete", page).group(1)
    ui.post(f"/e/delta.order/filters/{fid}/delete")
    assert 'data-saved-filter="Zakończone"' not in text(ui.get("/e/delta.order/"))


def test_bulk_action_and_bulk_delete(ui):
    a, b = create_order(ui, "B1"), create_order(ui, "B2")
    ui.post("/e/delta.order/bulk", data={"ids": [str(a), str(b)], "op": "close"})
    page = text(ui.get("/e/delta.order/?f.state=done"))
    assert ">B1<" in page and ">B2<" in page
    ui.post("/e/delta.order/bulk", data={"ids": [str(a)], "op": "delete"})
    page = text(ui.get("/e/delta.order/"))
    assert ">B1<" not in page and ">B2<" in page


# -- forms -------------------------------------------------------------------------------------

def test_create_with_validation_error_keeps_input_then_saves_children(ui):
    data = {"name": "", "state": "new", "amount": "abc", "c0-rows": ["n1"],
            "c0-n1-product": "Śruba", "c0-n1-qty": "3"}
    r = ui.post("/e/delta.order/new", data=data)
    page = text(r)
    assert r.status_code == 422
    assert 'id="f_name_error">To pole jest wymagane.<' in page
    assert "Podaj liczbę." in page
    assert 'value="Śruba"' in page         # the child row keeps the user's input
    data.update(name="Zamówienie z pozycjami", amount="1 234,50")
    r = ui.post("/e/delta.order/new", data=data)
    assert r.status_code == 302
    page = text(ui.get(r.headers["Location"]))
    assert "Zamówienie z pozycjami" in page and "Śruba" in page
    assert "1234,50" in page.replace("\xa0", "").replace(" ", "")


def test_inline_child_rows_add_edit_remove(ui):
    rid = create_order(ui, "Z pozycjami", **{"c0-rows": ["n1", "n2"], "c0-n1-product": "A",
                                             "c0-n2-product": "B"})
    page = text(ui.get(f"/e/delta.order/{rid}/edit"))
    ids = re.findall(r'name="c0-e(\d+)-id"', page)
    assert len(ids) == 2
    frag = text(ui.get("/e/delta.order/child-row?child=0", headers={"HX-Request": "true"}))
    newkey = re.search(r'name="c0-rows" value="(n[0-9a-f]+)"', frag).group(1)
    data = {"name": "Z pozycjami", "state": "new", "version": version_of(page),
            "c0-rows": [f"e{ids[0]}", f"e{ids[1]}", newkey],
            f"c0-e{ids[0]}-id": ids[0], f"c0-e{ids[0]}-product": "A zmienione",
            f"c0-e{ids[1]}-id": ids[1], f"c0-e{ids[1]}-product": "B",
            f"c0-e{ids[1]}-_delete": "1", f"c0-{newkey}-product": "C nowe",
            f"c0-{newkey}-qty": "5"}
    r = ui.post(f"/e/delta.order/{rid}/edit", data=data)
    assert r.status_code == 302, text(r)[:3000]
    page = text(ui.get(f"/e/delta.order/{rid}"))
    assert "A zmienione" in page and "C nowe" in page and ">B<" not in page
    # a child error is shown on the child row and nothing is written
    page = text(ui.get(f"/e/delta.order/{rid}/edit"))
    r = ui.post(f"/e/delta.order/{rid}/edit", data={
        "name": "Nowa nazwa", "state": "new", "version": version_of(page),
        "c0-rows": ["nbad"], "c0-nbad-product": "", "c0-nbad-qty": "1"})
    assert r.status_code == 422
    assert 'id="f_c0-nbad-product_error"' in text(r)
    assert "Nowa nazwa" not in text(ui.get(f"/e/delta.order/{rid}"))


def test_concurrent_edit_shows_conflict_and_keeps_input(ui):
    rid = create_order(ui, "Wersja 1")
    page = text(ui.get(f"/e/delta.order/{rid}/edit"))
    stale = version_of(page)
    r = ui.post(f"/e/delta.order/{rid}/edit", data={"name": "Kolega zapisał", "state": "new",
                                                     "version": stale})
    assert r.status_code == 302
    r = ui.post(f"/e/delta.order/{rid}/edit", data={"name": "Moja zmiana", "state": "done",
                                                     "version": stale})
    page = text(r)
    assert r.status_code == 409
    assert 'data-conflict="1"' in page and "Ktoś inny zapisał" in page
    assert 'value="Moja zmiana"' in page
    assert "Aktualnie zapisane: Kolega zapisał" in page
    assert version_of(page) != stale
    # saving again (with the version shown) overwrites deliberately
    r = ui.post(f"/e/delta.order/{rid}/edit", data={"name": "Moja zmiana", "state": "done",
                                                     "version": version_of(page)})
    assert r.status_code == 302


def test_relation_picker_lookup_and_facets(ui):
    r = ui.get("/lookup/alpha.thing?q=Ziar")
    assert r.json == [{"value": 1, "text": "Ziarno"}]
    page = text(ui.get("/e/alpha.thing/1/edit"))
    assert 'data-facet="extra"' in page and 'name="extra.colour"' in page
    r = ui.post("/e/alpha.thing/1/edit", data={"name": "Ziarno", "qty": "2",
                                                "extra.colour": "zielony",
                                                "version": version_of(page)})
    assert r.status_code == 302
    page = text(ui.get("/e/alpha.thing/1"))
    assert "zielony" in page and "Panel beta" in page
    rid = create_order(ui, "Z rzeczą", thing_id="1")
    page = text(ui.get(f"/e/delta.order/{rid}/edit"))
    assert 'data-lookup="/lookup/alpha.thing"' in page
    assert '<option value="1" selected>Ziarno</option>' in page


def test_unsaved_changes_and_csp_friendly_markup(ui):
    page = text(ui.get("/e/delta.order/new"))
    assert "data-dirty-warning=" in page
    assert "<script>" not in page and " onclick=" not in page and "style=" not in page
    assert re.search(r'<meta name="csrf-token" content="[^"]+">', page)


# -- detail ------------------------------------------------------------------------------------

def test_detail_informator_panels_comments_links_attachments(ui):
    rid = create_order(ui, "Szczegóły", note="<b>notatka</b>")
    page = text(ui.get(f"/e/delta.order/{rid}"))
    assert 'data-slot-item="summary"' in page and "Liczba pozycji" in page
    assert 'id="history"' in page and "utworzenie" in page
    ui.post(f"/e/delta.order/{rid}/comments", data={"body": "<script>alert(1)</script>"})
    ui.post(f"/e/delta.order/{rid}/links", data={"entity": "alpha.thing", "record_id": "1",
                                                  "note": "dotyczy"})
    ui.post(f"/e/delta.order/{rid}/attachments",
            data={"file": (io.BytesIO(b"zawartosc pliku"), "umowa.txt")},
            content_type="multipart/form-data")
    page = text(ui.get(f"/e/delta.order/{rid}"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "admin" in page and "Ziarno" in page and "umowa.txt" in page
    aid = re.search(r"/attachments/(\d+)", page).group(1)
    assert ui.get(f"/attachments/{aid}").get_data() == b"zawartosc pliku"
    # the link shows from the other side too
    assert "Szczegóły" in text(ui.get("/e/alpha.thing/1"))
    # the notes tab of the form (slot delta.order.form.tabs) escapes the record's data
    page = text(ui.get(f"/e/delta.order/{rid}/edit"))
    assert 'id="tab-notes"' in page and "&lt;b&gt;notatka&lt;/b&gt;" in page


def test_unknown_record_and_entity_pages(ui):
    r = ui.get("/e/delta.order/999")
    assert r.status_code == 404 and "nie istnieje" in text(r)
    assert ui.get("/e/nope.nothing/").status_code == 404


# -- kanban and calendar -----------------------------------------------------------------------

def test_kanban_move_through_dal(ui):
    rid = create_order(ui, "Na tablicy")
    page = text(ui.get("/e/delta.order/kanban"))
    assert 'class="kt-column' in page and "Na tablicy" in page
    ver = re.search(rf'data-id="{rid}" data-version="(\d+)"', page).group(1)
    r = ui.patch(f"/e/delta.order/{rid}/state", data={"state": "in_progress", "version": ver},
                 headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'data-state="in_progress"' in text(r)
    r = ui.patch(f"/e/delta.order/{rid}/state", data={"state": "done", "version": ver},
                 headers={"HX-Request": "true"})
    assert r.status_code == 412
    r = ui.patch(f"/e/delta.order/{rid}/state", data={"state": "bogus"},
                 headers={"HX-Request": "true"})
    assert r.status_code == 400
    assert ">Na tablicy<" in text(ui.get("/e/delta.order/?f.state=in_progress"))


def test_calendar_events_and_move(ui):
    rid = create_order(ui, "Spotkanie", starts_at="2026-03-10T09:00", ends_at="2026-03-10T10:30")
    assert "kt-calendar" in text(ui.get("/e/delta.order/calendar"))
    r = ui.get("/e/delta.order/events?start=2026-03-01T00:00:00%2B01:00"
               "&end=2026-04-01T00:00:00%2B02:00")
    ev = next(e for e in r.json if e["id"] == rid)
    # 09:00 in Warsaw (CET) is 08:00 UTC
    assert ev["start"].startswith("2026-03-10T08:00") and ev["title"] == "Spotkanie"
    r = ui.post(ev["extendedProps"]["move_url"], data={
        "start": "2026-03-12T12:00:00.000Z", "end": "2026-03-12T14:00:00.000Z",
        "version": ev["extendedProps"]["version"]}, headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json["version"] > ev["extendedProps"]["version"]
    r = ui.post(ev["extendedProps"]["move_url"], data={
        "start": "2026-03-13T12:00:00.000Z", "version": ev["extendedProps"]["version"]},
        headers={"Accept": "application/json"})
    assert r.status_code == 412
    r = ui.get("/e/delta.order/events?start=2026-03-12T00:00:00Z&end=2026-03-13T00:00:00Z")
    assert [e["id"] for e in r.json] == [rid]
    assert ui.get("/e/alpha.thing/calendar").status_code == 404


# -- permissions -------------------------------------------------------------------------------

def test_restricted_user_gets_permission_denied_page(kernel, kernel_factory, app):
    with kernel.db.session() as s:
        kernel_factory.user(s, "ograniczony", permissions=["alpha.thing.read"])
    c = UIClient(app)
    assert c.login("ograniczony", "password-1").status_code == 302
    page = text(c.get("/"))
    assert 'data-menu="alpha"' in page and 'data-menu="delta"' not in page
    assert "Administracja" not in page
    r = c.get("/e/delta.order/")
    assert r.status_code == 403 and "Brak uprawnień" in text(r)
    assert "Zamówienie" in text(r) and 'data-status="403"' in text(r)
    assert c.get("/e/alpha.thing/new").status_code == 403
    assert c.get("/admin/plugins").status_code == 403
    r = c.post("/e/alpha.thing/1/edit", data={"name": "x"})
    assert r.status_code == 403
    page = text(c.get("/e/alpha.thing/1"))
    assert "Sekret" not in page and 'id="kt-edit"' not in page   # hidden field, no edit


# -- admin -------------------------------------------------------------------------------------

def test_admin_plugins_disable_preview_and_menu(kernel, ui):
    page = text(ui.get("/admin/plugins"))
    assert 'data-plugin="delta" data-state="enabled"' in page
    page = text(ui.get("/admin/plugins/disable/alpha"))
    assert "beta" in page and "delta" in page and "Zostaną też wyłączone" in page
    r = ui.post("/admin/plugins/disable/delta")
    assert r.status_code == 302
    assert "delta" not in kernel.enabled
    page = text(ui.get("/"))
    assert 'data-menu="delta"' not in page and 'data-menu="alpha"' in page
    assert ui.get("/e/delta.order/").status_code == 404
    page = text(ui.get("/admin/plugins/enable/delta"))
    assert 'id="kt-confirm"' in page
    ui.post("/admin/plugins/enable/delta")
    assert 'data-menu="delta"' in text(ui.get("/"))
    page = text(ui.get("/admin/plugins/uninstall/alpha"))
    assert "Najpierw odinstaluj" in page
    page = text(ui.get("/admin/plugins/install/gamma"))
    assert 'id="kt-blocked"' in page and "PRO" in page


def test_admin_users_roles_substitutions(kernel, ui):
    r = ui.post("/admin/users", data={"login": "jan", "name": "Jan Kowalski",
                                      "email": "jan@example.com", "password": "haslo-jana-1",
                                      "password2": "haslo-jana-1", "roles": ["delta_user"]})
    assert r.status_code == 302
    r = ui.post("/admin/users", data={"login": "jan", "password": "x", "password2": "x"})
    assert r.status_code == 422 and "już istnieje" in text(r)
    with kernel.db.session() as s:
        jan = s.scalar(select(User).where(User.login == "jan"))
        assert jan.role_codes == {"delta_user"}
        jan_id = jan.id
    page = text(ui.get("/admin/roles"))
    rid = re.search(r'/admin/roles/(\d+)">Delta', page).group(1)
    page = text(ui.get(f"/admin/roles/{rid}"))
    assert "core.users.manage" in page and 'value="delta.order.read" id=' in page
    ui.post(f"/admin/roles/{rid}", data={"name": "Delta: użytkownik",
                                          "perm": ["delta.order.read", "core.audit.read"]})
    page = text(ui.get(f"/admin/roles/{rid}"))
    assert re.search(r'value="core.audit.read" id="[^"]+" checked', page)
    assert not re.search(r'value="delta.order.create" id="[^"]+" checked', page)
    ui.post(f"/admin/users/{jan_id}", data={"what": "active"})
    with kernel.db.session() as s:
        assert s.get(User, jan_id).active is False
    with kernel.db.session() as s:
        admin_id = s.scalar(select(User.id).where(User.login == "admin"))
    r = ui.post("/admin/substitutions", data={"user_id": str(admin_id),
                                              "substitute_id": str(jan_id),
                                              "starts_at": "2026-01-01T08:00",
                                              "ends_at": "2026-01-02T08:00"})
    assert r.status_code == 302
    assert "Jan Kowalski" in text(ui.get("/admin/substitutions"))
    r = ui.post("/admin/substitutions", data={"user_id": str(jan_id),
                                              "substitute_id": str(jan_id)})
    assert r.status_code == 422 and "samego siebie" in text(r)
    assert "user.create" in text(ui.get("/admin/security"))
    assert "role.permissions" in text(ui.get("/admin/security?kind=role.permissions"))


def test_admin_licence_and_logs(kernel, ui, license_issuer):
    r = ui.post("/admin/license", data={"text": "{nie json"})
    assert r.status_code == 422 and "uszkodzony" in text(r)
    doc = license_issuer(edition="pro", valid_until=dt.date.today() + dt.timedelta(days=10))
    r = ui.post("/admin/license", data={"file": (io.BytesIO(json.dumps(doc).encode()),
                                                 "licencja.json")},
                content_type="multipart/form-data")
    assert r.status_code == 302
    page = text(ui.get("/"))
    assert "kt-licence-banner" in page and "wygasa za 10 dni" in page.lower()
    create_order(ui, "Audytowane")
    page = text(ui.get("/admin/audit?entity=delta.order"))
    assert "delta.order" in page and "create" in page
    assert "Zadania w tle" in text(ui.get("/admin/jobs"))


# -- i18n helpers ------------------------------------------------------------------------------

def test_format_helpers_per_locale():
    from core.i18n import format_datetime, format_money, format_number, parse_decimal
    assert format_money(Decimal("1234.5"), lang="pl").replace("\xa0", " ") == "1 234,50 zł"
    assert format_money(Decimal("1234.5"), lang="en").replace("\xa0", " ") == "PLN 1,234.50"
    assert format_number(Decimal("1234.5"), lang="pl").replace("\xa0", " ") == "1 234,5"
    when = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)
    assert "12:00" in format_datetime(when, lang="pl")   # CEST = UTC+2
    assert "12:00" in format_datetime(when, lang="en") or "12:00 PM" in format_datetime(
        when, lang="en").replace("\u202f", " ")
    assert parse_decimal("1 234,50") == Decimal("1234.50")
    assert parse_decimal("1,234.50") == Decimal("1234.50")
