"""Shared helpers of the UI tests (Flask test client and browser tests).

``make_app(kernel)`` uses the real app factory ``core.web.app.create_app``. While that
module is missing (it is written in parallel), a minimal stand-in with the same contract
(request session in ``g.db``, ``g.user`` from the cookie session, CSRF check on unsafe
requests, ``/assets/<pkg>/<path>`` from node_modules) is used, so the UI stays testable.
"""

from __future__ import annotations

import re
import secrets
import sys
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_REGISTRY = ROOT / "tests" / "fixtures" / "addons_registry.toml"
UI_PLUGINS = ["beta", "delta"]
ADMIN_PASSWORD = "admin-pass-1"


def _fallback_auth():
    try:
        import core.web.auth  # noqa: F401
        return
    except ImportError:
        pass
    from flask import session
    auth = types.ModuleType("core.web.auth")

    def login_user(user):
        session.clear()
        session["uid"] = user.id

    def logout_user():
        session.clear()

    def csrf_token():
        tok = session.get("csrf")
        if not tok:
            tok = session["csrf"] = secrets.token_urlsafe(16)
        return tok

    auth.login_user, auth.logout_user, auth.csrf_token = login_user, logout_user, csrf_token
    sys.modules["core.web.auth"] = auth


def _fallback_app(kernel):
    from flask import Flask, abort, g, request, send_from_directory, session

    from core.security.models import User
    _fallback_auth()
    app = Flask("kartoteka_ui_test")
    app.secret_key = secrets.token_hex(16)
    app.kernel = kernel

    @app.before_request
    def _open():
        kernel.refresh()
        g.db = kernel.db.Session()
        uid = session.get("uid")
        g.user = g.db.get(User, uid) if uid else None
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            tok = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
            if not tok or tok != session.get("csrf"):
                abort(400)

    @app.teardown_request
    def _close(_exc):
        s = g.pop("db", None)
        if s is not None:
            s.close()

    @app.route("/assets/<pkg>/<path:path>")
    def assets(pkg, path):
        return send_from_directory(ROOT / "node_modules" / pkg, path)

    from core.web.ui import init_ui
    init_ui(app)
    return app


def make_app(kernel):
    try:
        from core.web.app import create_app
    except ImportError:
        return _fallback_app(kernel)
    return create_app(kernel, testing=True)


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
