"""App shell: login/logout, dashboard, global search, notifications, the user's account
(language, password, API tokens)."""

from __future__ import annotations

import datetime as dt
import logging

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from core.db import utcnow
from core.errors import DomainError, PermissionDenied
from core.i18n import LANGUAGES, normalise_language
from core.models import Notification
from core.security import services as sec
from core.security.models import ApiToken
from core.ui import visible_menu

from .blueprint import bp
from .common import (
    SlotContext,
    commit,
    current_user,
    dal,
    db,
    get_kernel,
    lang,
    registry,
    rollback,
    safe_next,
)

log = logging.getLogger("kartoteka.web.ui")


def _auth():
    from core.web import auth
    return auth


# -- login / logout --------------------------------------------------------------------------

@bp.route("/login", methods=["GET", "POST"])
def login():
    nxt = request.values.get("next", "")
    if request.method == "GET":
        if current_user() is not None:
            return redirect(safe_next(nxt))
        return render_template("ui/login.html", next=nxt, login="")
    login_name = (request.form.get("login") or "").strip()
    password = request.form.get("password") or ""
    settings = get_kernel().settings
    s = db()
    try:
        user = sec.authenticate(s, login_name, password, address=request.remote_addr,
                                max_failures=settings.login_max_failures,
                                lock_seconds=settings.login_lock_seconds)
    except PermissionDenied as exc:
        commit()   # keep the failure counter and the security log entry
        return render_template("ui/login.html", next=nxt, login=login_name,
                               error=exc.message), 401
    commit()
    _auth().login_user(user)
    g.user = user
    return redirect(safe_next(nxt))


@bp.route("/logout", methods=["POST"])
def logout():
    user = current_user()
    if user is not None:
        sec.log_event(db(), "logout", user=user, address=request.remote_addr)
        commit()
    _auth().logout_user()
    flash(_("Wylogowano."), "info")
    return redirect(url_for("ui.login"))


# -- dashboard -------------------------------------------------------------------------------

def _widget_attr(w, name, default=None):
    return w.get(name, default) if isinstance(w, dict) else getattr(w, name, default)


def dashboard_widgets():
    """Render the ``dashboard_widgets`` extension list for the current user."""
    from core.security.access import has_permission
    out = []
    language = lang()
    widgets = list(registry().extras.get("dashboard_widgets", []))
    widgets.sort(key=lambda w: (_widget_attr(w, "order", 100), _widget_attr(w, "name", "")))
    for w in widgets:
        perm = _widget_attr(w, "permission")
        if perm and not has_permission(current_user(), perm):
            continue
        title = (_widget_attr(w, "title_en") if language == "en" else None) \
            or _widget_attr(w, "title") or _widget_attr(w, "name", "")
        kind = _widget_attr(w, "kind", "count")
        item = {"name": _widget_attr(w, "name", ""), "title": title, "kind": kind,
                "url": _widget_attr(w, "url"), "icon": _widget_attr(w, "icon"),
                "chart": _widget_attr(w, "chart", "bar"), "value": None, "error": None}
        ctx = SlotContext(kernel=get_kernel(), session=db(), dal=dal(), user=current_user(),
                          entity=None, record=None, lang=language, slot="dashboard",
                          item=w, request=request)
        try:
            fn = _widget_attr(w, "data")
            data = fn(ctx) if callable(fn) else fn
            if kind == "chart":
                item["value"] = {"labels": [str(x) for x in data.get("labels", [])],
                                 "datasets": [{"label": str(d.get("label", "")),
                                               "data": [float(v or 0) for v in d.get("data", [])]}
                                              for d in data.get("datasets", [])]}
            else:
                item["value"] = data.get("value") if isinstance(data, dict) else data
        except Exception as exc:
            log.exception("dashboard widget %s", item["name"])
            rollback_if_broken()
            item["error"] = getattr(exc, "message", None) or _("Widżet jest niedostępny.")
        out.append(item)
    return out


def rollback_if_broken():
    try:
        db().execute(select(1))
    except Exception:
        rollback()


@bp.route("/")
def home():
    menu = visible_menu(registry(), current_user())
    shortcuts = []
    for node in menu:
        for n in [node, *node.children]:
            if n.item.entity:
                shortcuts.append((n.label(lang()), url_for("ui.entity_list", key=n.item.entity),
                                  n.item.icon))
    return render_template("ui/dashboard.html", widgets=dashboard_widgets(),
                           shortcuts=shortcuts)


# -- global search ---------------------------------------------------------------------------

@bp.route("/search")
def search():
    q = (request.args.get("q") or "").strip()
    groups = []
    if q:
        d = dal()
        for ent in registry().entities.values():
            if not (ent.search_fields or ent.search) or not d.can(ent, "read"):
                continue
            try:
                rows, total = d.list(ent, q=q, limit=10)
            except DomainError:
                continue
            except Exception:
                log.exception("search in %s", ent.key)
                rollback_if_broken()
                continue
            if rows:
                groups.append({"entity": ent, "label": ent.text(lang(), plural=True),
                               "total": total,
                               "rows": [(ent.display(r), url_for("ui.entity_detail",
                                                                 key=ent.key, rid=r.id))
                                        for r in rows],
                               "more": url_for("ui.entity_list", key=ent.key, q=q)})
        groups.sort(key=lambda gr: gr["label"])
    return render_template("ui/search.html", q=q, groups=groups)


# -- notifications ---------------------------------------------------------------------------

def unread_count() -> int:
    user = current_user()
    if user is None:
        return 0
    return db().scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


@bp.route("/notifications")
def notifications():
    user = current_user()
    rows = list(db().scalars(select(Notification).where(Notification.user_id == user.id)
                             .order_by(Notification.created_at.desc(), Notification.id.desc())
                             .limit(200)))
    return render_template("ui/notifications.html", rows=rows)


@bp.route("/notifications/<int:nid>/read", methods=["POST"])
def notification_read(nid: int):
    user = current_user()
    row = db().get(Notification, nid)
    if row is None or row.user_id != user.id:
        from flask import abort
        abort(404)
    row.read_at = row.read_at or utcnow()
    commit()
    if row.url and request.form.get("open"):
        return redirect(safe_next(row.url, url_for("ui.notifications")))
    return redirect(url_for("ui.notifications"))


@bp.route("/notifications/read-all", methods=["POST"])
def notifications_read_all():
    user = current_user()
    db().execute(update(Notification).where(Notification.user_id == user.id,
                                            Notification.read_at.is_(None))
                 .values(read_at=utcnow()))
    commit()
    flash(_("Wszystkie powiadomienia oznaczono jako przeczytane."), "success")
    return redirect(url_for("ui.notifications"))


# -- account ---------------------------------------------------------------------------------

@bp.route("/language", methods=["POST"])
def set_language():
    code = normalise_language(request.form.get("lang"))
    if code not in LANGUAGES:
        flash(_("Nieznany język."), "danger")
        return redirect(safe_next(request.form.get("next")))
    user = current_user()
    session["lang"] = code
    if user is not None:
        user.language = code
        commit()
    return redirect(safe_next(request.form.get("next"),
                              url_for("ui.home") if user else url_for("ui.login")))


@bp.route("/account")
def account():
    return render_template("ui/account.html")


@bp.route("/account/password", methods=["POST"])
def change_password():
    user = current_user()
    current = request.form.get("current_password") or ""
    new = request.form.get("new_password") or ""
    repeat = request.form.get("repeat_password") or ""
    errors = {}
    if not sec.check_password(user, current):
        errors["current_password"] = _("Nieprawidłowe obecne hasło.")
    if new != repeat:
        errors["repeat_password"] = _("Hasła nie są takie same.")
    if not errors:
        try:
            sec.set_password(db(), user, new)
            commit()
            flash(_("Hasło zostało zmienione."), "success")
            return redirect(url_for("ui.account"))
        except DomainError as exc:
            rollback()
            errors["new_password"] = exc.message
    return render_template("ui/account.html", errors=errors), 422


@bp.route("/account/tokens", methods=["GET", "POST"])
def tokens():
    user = current_user()
    secret = None
    error = None
    if request.method == "POST":
        name = request.form.get("name") or ""
        days = request.form.get("days") or ""
        expires = None
        try:
            if days.strip():
                n = int(days)
                if n <= 0:
                    raise ValueError
                expires = utcnow() + dt.timedelta(days=n)
            _row, secret = sec.create_token(db(), user, name, expires_at=expires)
            commit()
        except ValueError:
            error = _("Podaj liczbę dni (dodatnią) albo zostaw puste.")
        except DomainError as exc:
            rollback()
            error = exc.message
    rows = list(db().scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                             .order_by(ApiToken.id.desc())))
    return render_template("ui/tokens.html", rows=rows, secret=secret, error=error,
                           now=utcnow()), (422 if error else 200)


@bp.route("/account/tokens/<int:tid>/revoke", methods=["POST"])
def token_revoke(tid: int):
    try:
        sec.revoke_token(db(), current_user(), tid)
        commit()
        flash(_("Token został unieważniony."), "success")
    except DomainError as exc:
        rollback()
        flash(exc.message, "danger")
    return redirect(url_for("ui.tokens"))


@bp.route("/jobs/<job_id>")
def job_progress(job_id: str):
    """A progress page for long user-started work (imports, bulk checks): the bar below
    refreshes itself through htmx until the job ends; ``?next=`` (a local URL) is offered
    as the way on once it has (e.g. an import's report)."""
    return render_template("ui/job.html", job=_job_for_user(job_id), next=_job_next())


@bp.route("/jobs/<job_id>/bar")
def job_progress_bar(job_id: str):
    return render_template("ui/_job_bar.html", job=_job_for_user(job_id), next=_job_next())


def _job_next() -> str | None:
    nxt = request.args.get("next")
    return safe_next(nxt) if nxt else None


def _job_for_user(job_id: str) -> dict:
    from core.errors import NotFoundError
    from core.jobs import job_status
    user = current_user()
    st = job_status(db(), job_id)
    if user is None or (st["user_id"] != user.id and not user.superuser):
        raise NotFoundError(_("Nie ma takiego zadania."))
    return st
