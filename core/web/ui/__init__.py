"""Kartoteka's generated HTML UI (Flask blueprint ``ui``).

``init_ui(app)`` is called by the app factory (``core.web.app.create_app``). It installs
flask-babel (``core.i18n``), the ``ui`` blueprint (pages under ``/``, ``/e/<entity>/...``,
``/admin/...``; own static files under ``/ui/static``), the template context (menu,
notifications, licence banner, CSRF token, asset URLs) and HTML error pages for the UI.

Contracts for plugins (documented in ``docs/ui.md``):

* views: ``ctx.view(entity, "list", columns=[...], filters=[...])``,
  ``ctx.view(entity, "form", fields=[...], children=[{"entity", "fk", "fields", "label"}])``,
  ``ctx.view(entity, "detail", fields=[...])``, ``ctx.view(entity, "kanban",
  card_fields=[...])``, ``ctx.view(entity, "calendar", start_field=, end_field=,
  title_field=, initial_view=)``;
* slots ``"<entity>.detail.panels"`` (Informator sections) and ``"<entity>.form.tabs"``
  (form tabs): ``SlotItem.render(ctx: SlotContext)`` returns ``None`` (hidden), ``Markup``
  (used as is), ``str`` (escaped paragraph), ``dict`` or ``[(label, value)]`` (definition
  list) or ``list`` (bulleted list); or ``template="<plugin>/<file>.html"`` rendered from the
  plugin package's ``templates/`` folder with ``ctx``, ``record`` and ``entity``;
* dashboard widgets: ``ctx.extend("dashboard_widgets", {"name", "title", "title_en",
  "kind": "count"|"chart", "data": fn(ctx), "chart": "bar"|"line"|"pie"|"doughnut",
  "permission", "url", "icon", "order"})``.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from flask import g, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader
from werkzeug.exceptions import HTTPException

from core.errors import DomainError, PermissionDenied
from core.i18n import init_babel

from . import views_admin, views_entity, views_shell  # noqa: F401 - routes
from .blueprint import PUBLIC_ENDPOINTS, bp
from .common import can, current_user, get_kernel, is_htmx, lang, registry

log = logging.getLogger("kartoteka.web.ui")


def _asset_url(pkg: str, path: str) -> str:
    try:
        from core.web.assets import asset_url
        return asset_url(pkg, path)
    except ImportError:
        return f"/assets/{pkg}/{path}"


def _csrf_token() -> str:
    try:
        from core.web.auth import csrf_token
        return csrf_token()
    except ImportError:   # pragma: no cover - the app factory always provides it
        tok = session.get("csrf_token")
        if not tok:
            tok = session["csrf_token"] = secrets.token_urlsafe(32)
        return tok


def _csp_nonce() -> str:
    return g.get("csp_nonce") or ""


def _licence_banner():
    user = current_user()
    if user is None:
        return None
    try:
        st = get_kernel().licensing.status()
    except Exception:   # never break a page over the banner
        log.exception("licence status")
        return None
    if st.get("state") in ("expiring", "expired", "invalid"):
        return {"state": st["state"], "message": st.get("message", ""),
                "level": "warning" if st["state"] == "expiring" else "danger"}
    return None


def _menu():
    from core.ui import visible_menu
    user = current_user()
    if user is None:
        return []
    out = []
    language = lang()
    for node in visible_menu(registry(), user):
        out.append({"label": node.label(language), "icon": node.item.icon,
                    "url": _menu_url(node.item), "key": node.item.key,
                    "children": [{"label": c.label(language), "icon": c.item.icon,
                                  "url": _menu_url(c.item), "key": c.item.key}
                                 for c in node.children]})
    return out


UI_BLUEPRINTS = {"ui"}       # blueprints whose pages get the shell (see pages.py)


def _menu_url(item) -> str | None:
    if item.entity:
        return url_for("ui.entity_list", key=item.entity)
    return item.url


@bp.app_context_processor
def _context():
    user = current_user()
    ctx = {"csrf_token": _csrf_token, "asset_url": _asset_url, "csp_nonce": _csp_nonce,
           "lang": lang(), "ui_user": user, "can": can}
    if user is not None and request.blueprint in UI_BLUEPRINTS:
        from .views_admin import admin_sections
        from .views_shell import unread_count
        try:
            ctx.update(main_menu=_menu(), unread_notifications=unread_count(),
                       licence_banner=_licence_banner(), admin_links=admin_sections(user))
        except Exception:
            log.exception("shell context")
    return ctx


@bp.before_request
def _require_login():
    if request.endpoint in PUBLIC_ENDPOINTS or request.endpoint is None:
        return None
    if current_user() is None:
        if is_htmx():
            resp = jsonify({"title": _("Sesja wygasła"), "status": 401})
            resp.status_code = 401
            resp.headers["HX-Redirect"] = url_for("ui.login")
            return resp
        nxt = request.full_path if request.method == "GET" else None
        if nxt and nxt.endswith("?"):
            nxt = nxt[:-1]
        return redirect(url_for("ui.login", next=nxt))
    return None


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def _error_page(status: int, title: str, message: str, permission: str | None = None):
    if _wants_json():
        resp = jsonify({"title": title, "status": status, "detail": message})
        resp.status_code = status
        return resp
    if is_htmx():
        return render_template("ui/_error_fragment.html", title=title, message=message), status
    return render_template("ui/error.html", status=status, title=title, message=message,
                           permission=permission), status


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    try:
        from .common import db
        db().rollback()
    except Exception:   # pragma: no cover
        pass
    if isinstance(exc, PermissionDenied):
        return _error_page(403, _("Brak uprawnień"), exc.message, exc.extra.get("permission"))
    titles = {404: _("Nie znaleziono"), 409: _("Konflikt"), 412: _("Nieaktualna wersja"),
              422: _("Nieprawidłowe dane"), 402: _("Licencja")}
    return _error_page(exc.status, titles.get(exc.status, _("Błąd")), exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    if exc.code == 401:
        return redirect(url_for("ui.login"))
    messages = {403: _("Nie masz uprawnień do tej strony."),
                404: _("Nie ma takiej strony albo rekordu."),
                405: _("Niedozwolona metoda."), 400: _("Nieprawidłowe żądanie.")}
    titles = {403: _("Brak uprawnień"), 404: _("Nie znaleziono"), 400: _("Błąd")}
    code = exc.code or 500
    return _error_page(code, titles.get(code, exc.name), messages.get(code, exc.description))


def _plugin_folders(kernel, sub: str) -> dict[str, Path]:
    """``{plugin: <plugin package>/<sub>}`` for every known plugin that has one."""
    import importlib.util
    out = {}
    for name, man in kernel.manifests.items():
        try:
            spec = importlib.util.find_spec(man.package)
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            continue
        folder = Path(list(spec.submodule_search_locations)[0]) / sub
        if folder.is_dir():
            out[name] = folder
    return out


def _plugin_template_loader(kernel):
    """``"<plugin>/<file>.html"`` -> ``<plugin package>/templates/<file>.html``."""
    return PrefixLoader({name: FileSystemLoader(str(folder))
                         for name, folder in _plugin_folders(kernel, "templates").items()})


def init_ui(app) -> None:
    """Install the HTML UI on ``app`` (idempotent). Plugins' own message catalogues
    (``<plugin package>/translations/<lang>/LC_MESSAGES/messages.mo``) join the UI's."""
    if "ui" in app.blueprints:
        return
    kernel = getattr(app, "kernel", None)
    init_babel(app, [str(f) for f in _plugin_folders(kernel, "translations").values()]
               if kernel is not None else [])
    app.register_blueprint(bp)
    with app.app_context():
        try:
            kernel = get_kernel()
            app.jinja_loader = ChoiceLoader([app.jinja_loader, _plugin_template_loader(kernel)])
        except Exception:   # pragma: no cover - kernel not reachable at set-up
            log.warning("plugin templates not available to the UI")
