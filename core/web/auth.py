"""Authentication for both doors: the browser session (cookie + CSRF token) and bearer API
tokens. ``current_user()`` is the user of the request, or None."""

from __future__ import annotations

import hmac
import secrets

from flask import g, request, session

from core.errors import PermissionDenied
from core.security.models import User
from core.security.services import user_for_token

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def login_user(user: User) -> None:
    session.clear()                       # new session on login: no fixation
    session["uid"] = user.id
    session["csrf_token"] = secrets.token_urlsafe(32)
    session.permanent = True
    g.user = user
    g.auth = "session"


def logout_user() -> None:
    session.clear()
    g.user = None


def current_user() -> User | None:
    return g.get("user")


def csrf_token() -> str:
    tok = session.get("csrf_token")
    if not tok:
        tok = session["csrf_token"] = secrets.token_urlsafe(32)
    return tok


def load_user(db) -> None:
    """Set ``g.user`` / ``g.auth`` from the bearer token or the session cookie."""
    g.user, g.auth = None, None
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        user = user_for_token(db, header[7:].strip())
        if user is not None:
            g.user, g.auth = user, "token"
        return
    uid = session.get("uid")
    if uid:
        user = db.get(User, uid)
        if user is not None and user.active:
            g.user, g.auth = user, "session"


def check_csrf() -> None:
    """Unsafe requests authenticated by the session cookie need the CSRF token (form field
    ``csrf_token`` or header ``X-CSRFToken``). Bearer-token requests carry no cookie risk."""
    if request.method in SAFE_METHODS or g.get("auth") == "token":
        return
    if g.get("auth") != "session" and not session.get("csrf_token"):
        return
    sent = request.headers.get("X-CSRFToken") or request.form.get("csrf_token") or ""
    expected = session.get("csrf_token") or ""
    if not expected or not hmac.compare_digest(sent, expected):
        raise PermissionDenied("Brak lub nieprawidłowy token CSRF: odśwież stronę i spróbuj "
                               "ponownie.")
