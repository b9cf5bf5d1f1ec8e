"""Shared helpers of the UI tests (Flask test client and browser tests).

``make_app(kernel)`` builds the real app (``core.web.app.create_app``).
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_REGISTRY = ROOT / "tests" / "fixtures" / "addons_registry.toml"
UI_PLUGINS = ["beta", "delta"]
ADMIN_PASSWORD = "admin-pass-1"


def make_app(kernel):
    from core.web.app import create_app
    return create_app(kernel, testing=True)


def app_with_tokens(kernel, kernel_factory, users: dict[str, list[str]] | None = None):
    """The app with API tokens in ``app.tokens``: "admin" (a superuser) and one per
    ``users`` entry (login -> roles); ``bearer(app, who)`` gives the header."""
    from core.security.services import create_token
    users = {"ala": ["clients_salesperson"]} if users is None else users
    tokens = {}
    with kernel.db.session() as s:
        _, tokens["admin"] = create_token(s, kernel_factory.admin(s), "t")
        for login, roles in users.items():
            _, tokens[login] = create_token(s, kernel_factory.user(s, login, roles=roles), "t")
    app = make_app(kernel)
    app.tokens = tokens
    return app


def bearer(app, who: str = "admin") -> dict:
    return {"Authorization": f"Bearer {app.tokens[who]}"}


def page_text(response) -> str:
    return response.get_data(as_text=True)


def logged_in(app) -> UIClient:
    """A browser-like test client of ``app``, logged in as the admin."""
    c = UIClient(app)
    assert c.login().status_code == 302
    return c


def fuzz_api(app, token: str, *, max_examples: int, path_contains: str = "") -> list[str]:
    """schemathesis over ``/api/openapi.json`` of ``app`` as the token's user: every
    operation (whose path contains ``path_contains``) gets ``max_examples`` deterministic
    generated cases; none may answer 5xx or differ from the documented schema. Returns the
    operations checked ("GET /api/v1/...")."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis import checks

    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    schema.config.headers = {"Authorization": f"Bearer {token}"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if path_contains not in operation.path:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.text[:500])
            case.validate_response(response, checks=[
                checks.not_a_server_error, checks.response_schema_conformance,
                checks.content_type_conformance])

        run()
        checked.append(f"{operation.method.upper()} {operation.path}")
    return checked


@contextmanager
def live_server(app):
    """Serve ``app`` over real HTTP on a free port of 127.0.0.1; yields the base URL."""
    from werkzeug.serving import make_server
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(5)


def ui_kernel(kernel_factory, install=UI_PLUGINS):
    k = kernel_factory(install=list(install), registry_file=FIXTURE_REGISTRY)
    with k.db.session() as s:
        kernel_factory.admin(s)
    return k


CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_of(html: str) -> str:
    m = CSRF_META.search(html)
    assert m, "page has no CSRF meta tag"
    return m.group(1)


class UIClient:
    """A logged-in Flask test client that adds the CSRF token to unsafe requests."""

    def __init__(self, app):
        self.app = app
        self.c = app.test_client()
        self.token = ""

    def refresh_token(self, path="/login"):
        r = self.c.get(path)
        self.token = csrf_of(r.get_data(as_text=True))
        return self.token

    def login(self, login="admin", password=ADMIN_PASSWORD):
        self.refresh_token("/login")
        r = self.c.post("/login", data={"login": login, "password": password,
                                        "csrf_token": self.token})
        if r.status_code == 302:
            self.refresh_token("/")
        return r

    def get(self, *a, **kw):
        return self.c.get(*a, **kw)

    def post(self, url, data=None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token)
        return self.c.post(url, data=data, **kw)

    def patch(self, url, data=None, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        headers.setdefault("X-CSRFToken", self.token)
        return self.c.patch(url, data=data, headers=headers, **kw)
