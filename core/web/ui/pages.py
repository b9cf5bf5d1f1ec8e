"""Plugin pages that look and behave like the generated UI: ``page_blueprint`` gives a
Flask blueprint whose pages require a login, get the shell (menu, licence banner) in
their templates (extend ``ui/base.html``) and render domain errors as HTML pages.

    from core.web.ui.pages import page_blueprint
    bp = page_blueprint("clients_pages", __name__, url_prefix="/clients")

Register it with ``ctx.blueprint(bp)``. Templates of a plugin are found as
``"<plugin>/<file>.html"`` (from the plugin package's ``templates/`` folder). A page of a
disabled plugin must answer 404: check with ``entity_or_404`` or ``plugin_enabled``.
"""

from __future__ import annotations

from flask import Blueprint, abort
from werkzeug.exceptions import HTTPException

from core.errors import DomainError

from . import UI_BLUEPRINTS, _domain_error, _http_error, _require_login
from .common import registry


def page_blueprint(name: str, import_name: str, *, url_prefix: str | None = None,
                   plugin: str | None = None) -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix=url_prefix)
    UI_BLUEPRINTS.add(name)
    bp.before_request(_require_login)
    if plugin:
        @bp.before_request
        def _plugin_enabled():
            if not plugin_enabled(plugin):
                abort(404)
    bp.register_error_handler(DomainError, _domain_error)
    bp.register_error_handler(HTTPException, _http_error)
    return bp


def plugin_enabled(plugin: str) -> bool:
    """Is ``plugin`` enabled in this process's registry (refreshed per request)?"""
    return plugin in registry().plugins
