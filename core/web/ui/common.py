"""Shared helpers of the HTML UI: request context access (kernel, session, user, DAL),
permission guards, value formatting, redirects and the slot render contract."""

from __future__ import annotations

import datetime as dt
import decimal
import logging
from dataclasses import dataclass, field
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup, escape

from core.errors import NotFoundError, PermissionDenied
from core.i18n import (
    current_language,
    format_date,
    format_datetime,
    format_decimal,
    format_money,
    format_number,
)
from core.security.access import has_permission

log = logging.getLogger("kartoteka.web.ui")

# -- request context ------------------------------------------------------------------------


def get_kernel():
    app = current_app
    for attr in ("kernel",):
        k = getattr(app, attr, None)
        if k is not None:
            return k
    ext = app.extensions.get("kartoteka")
    if ext is not None:
        return getattr(ext, "kernel", ext)
    k = app.config.get("KARTOTEKA_KERNEL") or app.config.get("KERNEL")
    if k is not None:
        return k
    from core.kernel import Kernel
    return Kernel.current()


def db():
    """The request-scoped SQLAlchemy session the app factory opened."""
    for attr in ("db", "session", "db_session", "s"):
        s = g.get(attr)
        if s is not None and hasattr(s, "execute"):
            return s
    # fall back to a session of our own, closed at the end of the request
    s = get_kernel().db.Session()
    g.ui_session = s
    g.db = s
    return s


def current_user():
    return g.get("user")


def dal():
    return get_kernel().dal(db(), current_user())


def registry():
    return get_kernel().registry


def lang() -> str:
    return current_language()


def can(code: str) -> bool:
    return has_permission(current_user(), code)


def require(code: str | None = None, *, superuser: bool = False) -> None:
    user = current_user()
    if user is None:
        abort(401)
    if superuser and not user.superuser:
        raise PermissionDenied(_("Ta strona jest dostępna tylko dla administratora."))
    if code and not has_permission(user, code):
        raise PermissionDenied(_("Brak uprawnienia: %(code)s", code=code), permission=code)


def admin_required(code: str):
    """Admin pages: a superuser, or a user holding ``code``."""
    def deco(fn):
        @wraps(fn)
        def wrapper(*a, **kw):
            require(code)
            return fn(*a, **kw)
        return wrapper
    return deco


def safe_next(target: str | None, default: str | None = None) -> str:
    """A same-site relative redirect target, else ``default`` (no open redirects)."""
    default = default or url_for("ui.home")
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def back(default: str | None = None):
    return redirect(safe_next(request.form.get("next") or request.args.get("next"), default))


def commit() -> None:
    db().commit()


def rollback() -> None:
    db().rollback()


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def entity_or_404(key: str):
    try:
        return registry().entity(key)
    except NotFoundError:
        abort(404)


# -- values ---------------------------------------------------------------------------------

def field_label(fm, language: str | None = None) -> str:
    """The field's label; the kernel's own columns get a translated default."""
    if not fm.label and fm.name in ("created_at", "updated_at", "id", "version"):
        return {"created_at": _("Utworzono"), "updated_at": _("Zmieniono"), "id": "ID",
                "version": _("Wersja")}[fm.name]
    return fm.text(language or lang())


def format_value(fm, value, *, related: dict | None = None) -> str | Markup:
    """A field value for display (escaped by Jinja; never marked safe)."""
    if value is None or value == "":
        return ""
    if fm.choices:
        return dict(fm.choices).get(value, str(value))
    if isinstance(value, bool) or fm.type == "boolean":
        return _("Tak") if value else _("Nie")
    if fm.relation and related is not None:
        return related.get((fm.relation, value), f"#{value}")
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return format_date(value)
    if fm.widget == "money":
        return format_money(value)
    if isinstance(value, decimal.Decimal):
        return format_decimal(value)
    if isinstance(value, int) and not fm.relation:
        return format_number(value)
    if isinstance(value, dict | list):
        import json
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def related_labels(entity, records, field_names) -> dict:
    """``{(relation_entity, id): display}`` for the relation fields of ``records``,
    fetched through the DAL (what the user may not read shows as ``#id``)."""
    out: dict = {}
    wanted: dict[str, set] = {}
    for name in field_names:
        fm = entity.fields.get(name)
        if fm is None or not fm.relation:
            continue
        for r in records:
            v = getattr(r, name, None) if not isinstance(r, dict) else r.get(name)
            if v is not None:
                wanted.setdefault(fm.relation, set()).add(v)
    for rel, ids in wanted.items():
        out.update(lookup_labels(rel, ids))
    return out


def lookup_labels(rel: str, ids) -> dict:
    out = {}
    ids = [i for i in ids if i is not None]
    if not ids:
        return out
    if rel == "core.user":
        from sqlalchemy import select

        from core.security.models import User
        for u in db().scalars(select(User).where(User.id.in_(ids))):
            out[(rel, u.id)] = str(u)
        return out
    try:
        ent = registry().entity(rel)
        d = dal()
        if not d.can(ent, "read"):
            return out
        rows, _total = d.list(ent, filters={"id__in": list(ids)}, limit=None, count=False)
        for r in rows:
            out[(rel, r.id)] = ent.display(r)
    except Exception:  # a broken related entity never breaks the page
        log.exception("relation labels for %s", rel)
    return out


# -- slot render contract ---------------------------------------------------------------------

@dataclass
class SlotContext:
    """What ``SlotItem.render(ctx)`` receives.

    ``kernel``, ``session`` (the request's SQLAlchemy session), ``dal`` (the user's
    DataAccess), ``user``, ``entity`` (the Entity descriptor), ``record`` (the model
    instance, or None on a create form), ``lang`` ("pl"|"en"), ``slot`` (the slot name),
    ``item`` (the SlotItem itself) and ``request`` (the Flask request)."""

    kernel: Any
    session: Any
    dal: Any
    user: Any
    entity: Any
    record: Any
    lang: str
    slot: str
    item: Any = None
    request: Any = None
    extra: dict = field(default_factory=dict)


@dataclass
class RenderedSlot:
    name: str
    label: str
    plugin: str
    html: Markup | None = None
    error: str | None = None


def _as_html(result) -> Markup | None:
    """Turn what a slot returned into safe markup (the render contract):

    * ``None`` -> the section is not shown;
    * an object with ``__html__`` (``markupsafe.Markup``) -> used as is — the plugin
      escaped its own data (``Markup("<b>{}</b>").format(value)``);
    * ``str`` -> escaped text in a paragraph;
    * ``dict`` -> a definition list of label: value (both escaped);
    * ``list``/``tuple`` of ``(label, value)`` pairs -> a definition list; of other
      items -> a bulleted list (escaped);
    * anything else -> ``str(value)``, escaped.
    """
    if result is None:
        return None
    if hasattr(result, "__html__"):
        return Markup(result.__html__())
    if isinstance(result, str):
        return Markup("<p>{}</p>").format(result)
    if isinstance(result, dict):
        items = list(result.items())
        return _dl(items)
    if isinstance(result, list | tuple):
        if result and all(isinstance(x, tuple | list) and len(x) == 2 for x in result):
            return _dl(list(result))
        return Markup("<ul class='mb-0'>{}</ul>").format(
            Markup("").join(Markup("<li>{}</li>").format(x) for x in result))
    return Markup("<p>{}</p>").format(str(result))


def _dl(items) -> Markup:
    rows = Markup("").join(
        Markup("<dt class='col-sm-5'>{}</dt><dd class='col-sm-7'>{}</dd>").format(k, v)
        for k, v in items)
    return Markup("<dl class='row mb-0'>{}</dl>").format(rows)


def render_slot(slot: str, entity, record, **extra) -> list[RenderedSlot]:
    """Render every visible item of ``slot`` for the current user."""
    from flask import render_template

    from core.ui import visible_slot
    out = []
    language = lang()
    for item in visible_slot(registry(), slot, current_user()):
        label = (item.label_en if language == "en" and item.label_en else item.label) \
            or item.name
        ctx = SlotContext(kernel=get_kernel(), session=db(), dal=dal(), user=current_user(),
                          entity=entity, record=record, lang=language, slot=slot, item=item,
                          request=request, extra=extra)
        try:
            if item.render is not None:
                html = _as_html(item.render(ctx))
            elif item.template:
                html = Markup(render_template(item.template, ctx=ctx, record=record,
                                              entity=entity))
            else:
                html = None
            if html is None and item.render is not None:
                continue
            out.append(RenderedSlot(item.name, label, item.plugin, html))
        except Exception as exc:  # one broken panel never breaks the page
            log.exception("slot %s item %s failed", slot, item.name)
            msg = getattr(exc, "message", None) or _("Sekcja jest chwilowo niedostępna.")
            out.append(RenderedSlot(item.name, label, item.plugin, None, str(msg)))
    return out


def text_or_empty(value) -> str:
    return "" if value is None else str(escape(value))
