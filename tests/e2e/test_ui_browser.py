"""Browser tests: real Chromium (Debian's /usr/bin/chromium driven by Playwright) against a
real HTTP server thread running the app on an SQLite kernel with the fixture plugins.

Screenshots of the main pages go to ``test-artifacts/screenshots/``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.support import ADMIN_PASSWORD, ROOT, live_server, make_app, ui_kernel

pytestmark = pytest.mark.browser

SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def db_url(sqlite_url):
    """Browser tests run on SQLite only."""
    return sqlite_url


@pytest.fixture
def kernel(kernel_factory):
    k = ui_kernel(kernel_factory)
    with k.db.session() as s:
        dal = k.dal(s, kernel_factory.admin(s))
        for name, state in [("Dostawa śrub", "new"), ("Audyt magazynu", "in_progress"),
                            ("Cennik 2026", "done")]:
            dal.create("delta.order", {"name": name, "state": state})
        kernel_factory.user(s, "ograniczony", permissions=["alpha.thing.read"])
    return k


@pytest.fixture
def server(kernel):
    with live_server(make_app(kernel)) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed at /usr/bin/chromium")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(locale="pl-PL", timezone_id="Europe/Warsaw",
                              viewport={"width": 1366, "height": 900})
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error"
          and "Failed to load resource" not in m.text else None)
    pg.set_default_timeout(10_000)
    pg.js_errors = errors
    yield pg
    ctx.close()


def shot(pg, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(pg, base, user="admin", password=ADMIN_PASSWORD):
    pg.goto(base + "/login")
    pg.get_by_label("Login").fill(user)
    pg.get_by_label("Hasło").fill(password)
    pg.get_by_role("button", name="Zaloguj").click()
    pg.wait_for_load_state("networkidle")


def add_row(pg, product, qty=None):
    """Click "Dodaj wiersz" (htmx) and fill the new row once it has arrived."""
    n = pg.locator("#child-rows-0 tr").count()
    pg.locator(".kt-add-row").click()
    row = pg.locator("#child-rows-0 tr").nth(n)
    row.wait_for()
    row.locator("input[name$='-product']").fill(product)
    if qty is not None:
        row.locator("input[name$='-qty']").fill(qty)


def test_login_dashboard_and_widgets(page, server):
    page.goto(server + "/")
    assert "/login" in page.url
    shot(page, "01-login")
    login(page, server, password="zle-haslo")
    assert page.locator("#login-error").inner_text() == "Nieprawidłowy login lub hasło."
    login(page, server)
    assert page.locator("h1").inner_text() == "Pulpit"
    assert page.locator('[data-widget="delta_orders"] .kt-count').inner_text() == "3"
    page.wait_for_function("document.querySelector('canvas.kt-chart').dataset.ready === '1'")
    assert page.locator('#kt-main-menu [data-menu="delta"]').is_visible()
    shot(page, "02-dashboard")
    assert page.js_errors == []


def test_create_record_with_validation_error_first(page, server):
    login(page, server)
    page.goto(server + "/e/delta.order/")
    page.locator("#kt-new").click()
    page.locator("#kt-save").click()
    error = page.locator("#f_name_error")
    assert error.inner_text() == "To pole jest wymagane."
    assert page.locator("#f_name").get_attribute("aria-invalid") == "true"
    shot(page, "03-form-validation")
    page.locator("#f_name").fill("Zamówienie z przeglądarki")
    page.locator("#f_amount").fill("1234.5")
    # relation picker: Tom Select fed by the lookup endpoint
    page.locator(".ts-wrapper:has(#f_thing_id-ts-control) .ts-control").click()
    page.keyboard.type("Ziar")
    page.locator(".ts-dropdown .option", has_text="Ziarno").click()
    # inline child row through htmx
    add_row(page, "Śruba M8", "12")
    page.locator("#kt-save").click()
    page.wait_for_url(re.compile(r"/e/delta\.order/\d+$"))
    body = page.locator("main").inner_text()
    assert "Zamówienie z przeglądarki" in body and "Śruba M8" in body and "Ziarno" in body
    assert "1234,50" in body.replace("\xa0", "").replace(" ", "")
    shot(page, "04-detail")
    assert page.js_errors == []


def test_search_and_sort_list(page, server):
    login(page, server)
    page.goto(server + "/e/delta.order/")
    page.locator("#kt-q").fill("ud")
    page.locator("#kt-filter-apply").click()
    rows = page.locator("#kt-list-table tbody tr")
    assert rows.count() == 1 and "Audyt magazynu" in rows.first.inner_text()
    page.locator("#kt-q").fill("")
    page.locator("#kt-filter-apply").click()
    page.locator('#kt-list-table thead a[data-sort="name"]').click()
    names = page.locator("#kt-list-table tbody tr td:nth-child(2)").all_inner_texts()
    assert names == sorted(names) and len(names) == 3
    page.locator('#kt-list-table thead a[data-sort="name"]').click()
    names_desc = page.locator("#kt-list-table tbody tr td:nth-child(2)").all_inner_texts()
    assert names_desc == list(reversed(names))
    assert page.locator('th[aria-sort="descending"]').count() == 1
    # select rows: the bulk button follows the selection
    assert page.locator("#kt-bulk-run").is_disabled()
    page.locator("#kt-select-all").check()
    assert page.locator("#kt-selected-count").inner_text() == "3"
    assert page.locator("#kt-bulk-run").is_enabled()
    shot(page, "05-list")


def test_edit_child_rows_inline(page, server, kernel):
    login(page, server)
    page.goto(server + "/e/delta.order/new")
    page.locator("#f_name").fill("Z pozycjami")
    for product in ("Pierwsza", "Druga"):
        add_row(page, product)
    page.locator("#kt-save").click()
    page.wait_for_url(re.compile(r"/e/delta\.order/\d+$"))
    page.locator("#kt-edit").click()
    rows = page.locator("#child-rows-0 tr")
    assert rows.count() == 2
    rows.nth(0).locator("input[name$='-product']").fill("Pierwsza poprawiona")
    rows.nth(1).locator(".kt-remove-row").click()
    assert page.locator("#child-rows-0 tr:visible").count() == 1
    add_row(page, "Trzecia")
    shot(page, "06-form-children")
    page.locator("#kt-save").click()
    page.wait_for_load_state("networkidle")
    shot(page, "06b-after-save")
    page.wait_for_url(re.compile(r"/e/delta\.order/\d+$"))
    body = page.locator(".kt-children").inner_text()
    assert "Pierwsza poprawiona" in body and "Trzecia" in body and "Druga" not in body


def test_restricted_user_gets_permission_denied_page(page, server):
    login(page, server, "ograniczony", "password-1")
    assert page.locator('#kt-main-menu [data-menu="delta"]').count() == 0
    resp = page.goto(server + "/e/delta.order/")
    assert resp.status == 403
    assert page.locator("#error-title").inner_text() == "Brak uprawnień"
    assert "Zamówienie" in page.locator("#error-message").inner_text()
    shot(page, "07-permission-denied")


def test_disabling_plugin_in_admin_removes_menu(page, server, kernel):
    login(page, server)
    page.goto(server + "/admin/plugins")
    shot(page, "08-admin-plugins")
    page.locator('tr[data-plugin="delta"] a[data-op="disable"]').click()
    assert "delta" in page.locator("#kt-plan-names").inner_text()
    shot(page, "09-admin-plugin-confirm")
    page.locator("#kt-confirm").click()
    page.wait_for_url(re.compile(r"/admin/plugins$"))
    assert page.locator('tr[data-plugin="delta"]').get_attribute("data-state") == "disabled"
    assert page.locator('#kt-main-menu [data-menu="delta"]').count() == 0
    assert page.locator('#kt-main-menu [data-menu="alpha"]').count() == 1
    assert "delta" not in kernel.enabled


def test_switch_language(page, server):
    login(page, server)
    page.locator("#kt-user-menu").click()
    page.locator('[data-lang-switch="en"]').click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Dashboard"
    page.goto(server + "/e/delta.order/")
    assert page.locator("h1").inner_text().startswith("Orders")
    assert page.locator("#kt-filter-apply").inner_text().strip() == "Filter"
    shot(page, "10-list-english")
    page.locator("#kt-user-menu").click()
    page.locator('[data-lang-switch="pl"]').click()
    page.wait_for_load_state("networkidle")
    assert page.locator("#kt-filter-apply").inner_text().strip() == "Filtruj"


def test_kanban_drag_and_calendar(page, server, kernel):
    login(page, server)
    page.goto(server + "/e/delta.order/kanban")
    card = page.locator(".kt-card", has_text="Dostawa śrub")
    target = page.locator('.kt-dropzone[data-state="done"]')
    with page.expect_response(lambda r: "/state" in r.url) as resp:
        card.drag_to(target, source_position={"x": 6, "y": 4},
                      target_position={"x": 20, "y": 20})
    assert resp.value.status == 200
    page.wait_for_selector('.kt-dropzone[data-state="done"] .kt-card:has-text("Dostawa śrub")')
    shot(page, "11-kanban")
    with kernel.db.session() as s:
        from sqlalchemy import select

        from tests.fixtures.plugins.delta.models import Order
        assert s.scalar(select(Order.state).where(Order.name == "Dostawa śrub")) == "done"
    page.goto(server + "/e/delta.order/calendar")
    page.wait_for_selector(".fc-toolbar-title")
    page.locator(".fc-timeGridWorkWeek-button").click()
    assert page.locator(".fc-col-header-cell").count() == 5
    page.locator(".fc-dayGridMonth-button").click()
    shot(page, "12-calendar")
    assert page.js_errors == []
