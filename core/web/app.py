"""The Flask app factory.

One app serves the REST API (``/api/...``), the generated HTML UI (``core.web.ui``), the
front-end assets and the operational endpoints (``core.web.ops`` when present). Per request:
``kernel.refresh()`` (a plugin enabled or disabled by another process shows at once), one
database session (``g.db``; committed on success, rolled back on error), ``g.user`` from a
bearer token or the session cookie, CSRF check for cookie-authenticated unsafe requests,
a request id, and security headers on every response.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import logging
import secrets
import uuid

from flask import Flask, g, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from core.errors import DomainError
from core.web import auth, problems

log = logging.getLogger("kartoteka.web")


def _is_api() -> bool:
    return request.path.startswith("/api/")


def create_app(kernel, testing: bool = False) -> Flask:
    kernel.activate()
    if kernel.is_initialised():
        kernel.refresh()
    app = Flask("kartoteka")
    app.kernel = kernel
    app.extensions["kartoteka"] = kernel
    app.config.update(
        SECRET_KEY=kernel.settings.secret_key, TESTING=testing,
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=kernel.settings.secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=12),
        MAX_CONTENT_LENGTH=kernel.settings.attachment_max_bytes + 1024 * 1024,
        JSON_SORT_KEYS=False,
    )

    @app.before_request
    def _open():
        g.request_id = (request.headers.get("X-Request-ID") or uuid.uuid4().hex)[:64]
        from core.logging import request_id
        request_id.set(g.request_id)
        g.csp_nonce = secrets.token_urlsafe(16)
        kernel.activate()
        kernel.refresh()
        unsafe = request.method not in auth.SAFE_METHODS
        g.db = kernel.db.WriteSession() if unsafe else kernel.db.Session()
        auth.load_user(g.db)
        auth.check_csrf()

    @app.teardown_request
    def _close(exc):
        s = g.pop("db", None)
        if s is None:
            return
        try:
            if exc is None and not g.get("rollback"):
                s.commit()
            else:
                s.rollback()
        finally:
            s.close()

    @app.after_request
    def _headers(resp):
        if g.get("db") is not None and resp.status_code >= 400:
            g.rollback = True                 # an error response writes nothing
        resp.headers["X-Request-ID"] = g.get("request_id", "")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        nonce = g.get("csp_nonce", "")
        resp.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; script-src 'self'; "
            f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; font-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
        return resp

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError):
        g.rollback = True                      # UI blueprint pages have their own handler
        return problems.from_domain(exc)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if _is_api():
            g.rollback = True
            return problems.from_http(exc)
        return exc

    @app.errorhandler(sa_exc.DataError)
    def _data(exc):
        g.rollback = True
        return problems.problem(422, "Wartość spoza dopuszczalnego zakresu dla bazy danych.")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        g.rollback = True
        if isinstance(exc, HTTPException):
            return _http(exc)
        return problems.from_unexpected(exc)

    from core.web.assets import bp as assets_bp
    app.register_blueprint(assets_bp)
    from core.web.api import bp as api_bp
    app.register_blueprint(api_bp)
    for mod, fn in (("core.web.ops", "init_ops"), ("core.web.ui", "init_ui")):
        if importlib.util.find_spec(mod) is not None:
            getattr(importlib.import_module(mod), fn)(app)
    for _plugin, bp, options in kernel.registry.blueprints:
        app.register_blueprint(bp, **options)
    return app

