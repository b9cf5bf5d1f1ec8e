"""Admin pages: plugins (with the consequences of each operation shown before it runs),
users, roles and permissions, substitutions, licence, audit log, security log, dead jobs.

Each page is open to a superuser or to a user holding the page's permission (see
``ADMIN_PERMISSIONS``; they appear in the role editor's catalogue under "Administracja")."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.db import utcnow
from core.errors import DomainError, NotFoundError
from core.i18n import from_local
from core.plugins import closure, dependents, topo_order
from core.records import AuditEntry
from core.security import services as sec
from core.security.access import has_permission
from core.security.models import Role, SecurityEvent, Substitution, User

from .blueprint import bp
from .common import admin_required, commit, current_user, db, get_kernel, lang, rollback

log = logging.getLogger("kartoteka.web.ui")

ADMIN_PERMISSIONS = {
    "core.plugins.manage": ("Administracja: wtyczki", "Administration: plugins"),
    "core.users.manage": ("Administracja: użytkownicy", "Administration: users"),
    "core.roles.manage": ("Administracja: role i uprawnienia", "Administration: roles"),
    "core.substitutions.manage": ("Administracja: zastępstwa", "Administration: substitutions"),
    "core.license.manage": ("Administracja: licencja", "Administration: licence"),
    "core.audit.read": ("Administracja: dziennik zmian", "Administration: audit log"),
    "core.security.read": ("Administracja: dziennik bezpieczeństwa",
                           "Administration: security log"),
    "core.jobs.manage": ("Administracja: zadania w tle", "Administration: background jobs"),
}

SECTIONS = [
    ("plugins", "core.plugins.manage", "plug", "Wtyczki"),
    ("users", "core.users.manage", "people", "Użytkownicy"),
    ("roles", "core.roles.manage", "shield-lock", "Role i uprawnienia"),
    ("substitutions", "core.substitutions.manage", "arrow-left-right", "Zastępstwa"),
    ("license", "core.license.manage", "patch-check", "Licencja"),
    ("audit", "core.audit.read", "clock-history", "Dziennik zmian"),
    ("security", "core.security.read", "shield-exclamation", "Dziennik bezpieczeństwa"),
    ("jobs", "core.jobs.manage", "hourglass-split", "Zadania w tle"),
]
PER_PAGE = 50


def admin_sections(user) -> list[dict]:
    labels = {"plugins": _("Wtyczki"), "users": _("Użytkownicy"),
              "roles": _("Role i uprawnienia"), "substitutions": _("Zastępstwa"),
              "license": _("Licencja"), "audit": _("Dziennik zmian"),
              "security": _("Dziennik bezpieczeństwa"), "jobs": _("Zadania w tle")}
    return [{"key": k, "label": labels[k], "icon": icon, "url": url_for(f"ui.admin_{k}")}
            for k, perm, icon, _l in SECTIONS if has_permission(user, perm)]


def _page() -> int:
    try:
        return max(1, int(request.args.get("page", 1)))
    except ValueError:
        return 1


@bp.route("/admin/")
def admin_index():
    sections = admin_sections(current_user())
    if not sections:
        from core.errors import PermissionDenied
        raise PermissionDenied(_("Nie masz dostępu do administracji."))
    return render_template("ui/admin/index.html", sections=sections)


# -- plugins ---------------------------------------------------------------------------------

def _plugin_rows():
    k = get_kernel()
    k.refresh()
    rows = []
    for name in sorted(k.manifests):
        man = k.manifests[name]
        state = k.state_of(name)
        rows.append({
            "name": name, "title": man.label(lang()) if hasattr(man, "label") else man.title,
            "summary": man.summary, "version": str(man.version),
            "installed_version": k.installed[name].version if name in k.installed else None,
            "state": state, "edition": man.edition, "source": man.source,
            "licence_problem": k.licensing.problem_for(man) if state != "enabled" or
            man.edition != "free" else None,
            "depends": man.dependency_names,
            "dependents": sorted(dependents(k.manifests, [name], k.installed.keys())),
        })
    return rows


@bp.route("/admin/plugins")
@admin_required("core.plugins.manage")
def admin_plugins():
    return render_template("ui/admin/plugins.html", rows=_plugin_rows(),
                           status=get_kernel().licensing.status())


def _preview(op: str, name: str) -> dict:
    """What ``op`` on ``name`` would do, in words, before the admin confirms."""
    k = get_kernel()
    k.manifest(name)
    out = {"op": op, "name": name, "names": [name], "blocked": None, "notes": [],
           "plan": None, "needs_purge": False}
    if op == "install":
        plan = k.plan("install", [name])
        out["plan"] = plan
        out["names"] = [name]
        if plan.extra_dependencies:
            out["notes"].append(_("Zostaną też zainstalowane zależności: %(d)s.",
                                  d=", ".join(plan.extra_dependencies)))
        if plan.licence_problems:
            out["blocked"] = " ".join(plan.licence_problems)
        if name in k.installed:
            out["blocked"] = _("Wtyczka jest już zainstalowana.")
    elif op == "enable":
        if name not in k.installed:
            out["blocked"] = _("Wtyczka nie jest zainstalowana.")
        else:
            need = [n for n in topo_order(k.manifests, closure(k.manifests, [name]))
                    if n not in k.enabled]
            missing = [n for n in need if n not in k.installed]
            if missing:
                out["blocked"] = _("Brakuje zależności (niezainstalowane): %(d)s.",
                                   d=", ".join(missing))
            extra = [n for n in need if n != name]
            if extra:
                out["notes"].append(_("Zostaną też włączone zależności: %(d)s.",
                                      d=", ".join(extra)))
            out["names"] = need or [name]
            problems = [p for p in (k.licensing.problem_for(k.manifests[n]) for n in need) if p]
            if problems:
                out["blocked"] = " ".join(problems)
    elif op == "disable":
        if name not in k.enabled:
            out["blocked"] = _("Wtyczka nie jest włączona.")
        else:
            deps = sorted(dependents(k.manifests, [name], k.enabled))
            if deps:
                out["notes"].append(_("Zostaną też wyłączone wtyczki, które od niej zależą: "
                                      "%(d)s.", d=", ".join(deps)))
            out["names"] = [name] + deps
            out["notes"].append(_("Dane i tabele zostają zachowane; wtyczka znika z menu, "
                                  "API i zadań do czasu ponownego włączenia."))
    elif op == "uninstall":
        plan = k.plan("uninstall", [name])
        out["plan"] = plan
        deps = sorted(dependents(k.manifests, [name], k.installed.keys()))
        if deps:
            out["blocked"] = _("Najpierw odinstaluj wtyczki, które od niej zależą: %(d)s.",
                               d=", ".join(deps))
        rows = sum(sum(t.values()) for t in plan.exports.values())
        out["needs_purge"] = rows > 0
        out["notes"].append(_("Dane wtyczki zostaną wyeksportowane do katalogu var/exports, "
                              "a jej tabele usunięte."))
    else:
        abort(404)
    return out


@bp.route("/admin/plugins/<op>/<name>", methods=["GET", "POST"])
@admin_required("core.plugins.manage")
def admin_plugin_op(op, name):
    if op not in ("install", "enable", "disable", "uninstall"):
        abort(404)
    k = get_kernel()
    try:
        preview = _preview(op, name)
    except NotFoundError:
        abort(404)
    if request.method == "GET":
        return render_template("ui/admin/plugin_confirm.html", p=preview,
                               man=k.manifests[name])
    if preview["blocked"]:
        flash(preview["blocked"], "danger")
        return redirect(url_for("ui.admin_plugins"))
    names = preview["names"]
    user = current_user()
    commit()   # end the request's transaction before schema changes
    try:
        if op == "install":
            done = k.install(names, user=user)
            msg = _("Zainstalowano: %(n)s.", n=", ".join(done) or name)
        elif op == "enable":
            k.enable(names, user=user)
            msg = _("Włączono: %(n)s.", n=", ".join(names))
        elif op == "disable":
            k.disable(names, user=user)
            msg = _("Wyłączono: %(n)s.", n=", ".join(names))
        else:
            folder = k.uninstall(names, purge=bool(request.form.get("purge")), user=user)
            msg = _("Odinstalowano: %(n)s. Eksport danych: %(f)s", n=", ".join(names),
                    f=str(folder))
        flash(msg, "success")
    except DomainError as exc:
        flash(exc.message, "danger")
    return redirect(url_for("ui.admin_plugins"))


# -- users -----------------------------------------------------------------------------------

def _roles():
    return list(db().scalars(sa.select(Role).order_by(Role.name)))


@bp.route("/admin/users", methods=["GET", "POST"])
@admin_required("core.users.manage")
def admin_users():
    errors = {}
    form = {}
    if request.method == "POST":
        form = request.form
        if form.get("password") != form.get("password2"):
            errors["password2"] = _("Hasła nie są takie same.")
        superuser = bool(form.get("superuser")) and current_user().superuser
        if not errors:
            try:
                sec.create_user(db(), form.get("login", ""), password=form.get("password") or None,
                                name=form.get("name", ""), email=form.get("email") or None,
                                superuser=superuser, roles=form.getlist("roles"),
                                language=form.get("language") or "pl", kernel=get_kernel(),
                                actor=current_user())
                commit()
                flash(_("Utworzono użytkownika %(l)s.", l=form.get("login")), "success")
                return redirect(url_for("ui.admin_users"))
            except DomainError as exc:
                rollback()
                errors[exc.field or "_"] = exc.message
    users = list(db().scalars(sa.select(User).order_by(User.login)))
    return render_template("ui/admin/users.html", users=users, roles=_roles(), errors=errors,
                           form=form), (422 if errors else 200)


@bp.route("/admin/users/<int:uid>", methods=["GET", "POST"])
@admin_required("core.users.manage")
def admin_user(uid):
    user = db().get(User, uid)
    if user is None:
        abort(404)
    errors = {}
    if request.method == "POST":
        f = request.form
        what = f.get("what")
        try:
            if what == "profile":
                user.name = (f.get("name") or "").strip() or user.login
                email = (f.get("email") or "").strip() or None
                if email:
                    from email_validator import EmailNotValidError, validate_email
                    try:
                        email = validate_email(email, check_deliverability=False).normalized
                    except EmailNotValidError as exc:
                        raise DomainError(_("Nieprawidłowy adres e-mail: %(e)s", e=str(exc)),
                                          field="email")
                user.email = email
                if f.get("language") in ("pl", "en"):
                    user.language = f.get("language")
                sec.set_user_roles(db(), user, f.getlist("roles"), actor=current_user())
                if current_user().superuser and user.id != current_user().id:
                    user.superuser = bool(f.get("superuser"))
            elif what == "active":
                if user.id == current_user().id:
                    raise DomainError(_("Nie możesz dezaktywować własnego konta."))
                sec.set_user_active(db(), user, not user.active, actor=current_user(),
                                    kernel=get_kernel())
            elif what == "password":
                if f.get("password") != f.get("password2"):
                    raise DomainError(_("Hasła nie są takie same."), field="password2")
                sec.set_password(db(), user, f.get("password") or "", actor=current_user())
            commit()
            flash(_("Zapisano zmiany użytkownika %(l)s.", l=user.login), "success")
            return redirect(url_for("ui.admin_user", uid=uid))
        except DomainError as exc:
            rollback()
            user = db().get(User, uid)
            errors[exc.field or "_"] = exc.message
    return render_template("ui/admin/user.html", u=user, roles=_roles(), errors=errors), \
        (422 if errors else 200)


# -- roles -----------------------------------------------------------------------------------

def permission_catalogue() -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(group label, [(code, label)])]``: the kernel's admin permissions and every
    permission the enabled plugins registered, grouped by plugin."""
    k = get_kernel()
    groups: dict[str, list] = {}
    admin = _("Administracja")
    for code, (pl, en) in ADMIN_PERMISSIONS.items():
        groups.setdefault(admin, []).append((code, en if lang() == "en" else pl))
    for code, perm in sorted(k.registry.permissions.items()):
        man = k.manifests.get(perm.plugin)
        group = man.label(lang()) if man is not None and hasattr(man, "label") else perm.plugin
        groups.setdefault(group, []).append(
            (code, perm.label_en if lang() == "en" else perm.label))
    return list(groups.items())


@bp.route("/admin/roles", methods=["GET", "POST"])
@admin_required("core.roles.manage")
def admin_roles():
    errors = {}
    if request.method == "POST":
        code = (request.form.get("code") or "").strip()
        name = (request.form.get("name") or "").strip()
        if not code or not code.replace("_", "").isalnum():
            errors["code"] = _("Kod roli: litery, cyfry i podkreślenia.")
        elif db().scalar(sa.select(Role).where(Role.code == code)):
            errors["code"] = _("Rola o tym kodzie już istnieje.")
        if not name:
            errors["name"] = _("Podaj nazwę roli.")
        if not errors:
            role = Role(code=code, name=name, name_en=request.form.get("name_en") or None)
            db().add(role)
            db().flush()
            sec.log_event(db(), "role.create", user=current_user(), detail=code)
            commit()
            flash(_("Utworzono rolę %(c)s.", c=code), "success")
            return redirect(url_for("ui.admin_role", rid=role.id))
    roles = _roles()
    counts = dict(db().execute(sa.text(
        "SELECT role_id, count(*) FROM core_user_role GROUP BY role_id")).all())
    return render_template("ui/admin/roles.html", roles=roles, counts=counts, errors=errors), \
        (422 if errors else 200)


@bp.route("/admin/roles/<int:rid>", methods=["GET", "POST"])
@admin_required("core.roles.manage")
def admin_role(rid):
    role = db().get(Role, rid)
    if role is None:
        abort(404)
    catalogue = permission_catalogue()
    known = {c for _g, items in catalogue for c, _l in items}
    if request.method == "POST":
        try:
            name = (request.form.get("name") or "").strip()
            if name:
                role.name = name
            role.name_en = request.form.get("name_en") or role.name_en
            # codes the catalogue does not show (disabled plugins) are kept
            hidden = {c for c in role.permission_codes if c not in known}
            sec.set_role_permissions(db(), role, list(hidden | set(request.form.getlist("perm"))),
                                     actor=current_user(), known=known | hidden)
            commit()
            flash(_("Zapisano rolę %(c)s.", c=role.code), "success")
            return redirect(url_for("ui.admin_role", rid=rid))
        except DomainError as exc:
            rollback()
            flash(exc.message, "danger")
            role = db().get(Role, rid)
    return render_template("ui/admin/role.html", role=role, catalogue=catalogue,
                           have=role.permission_codes)


# -- substitutions ---------------------------------------------------------------------------

def _dt_input(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        return from_local(dt.datetime.fromisoformat(value))
    except ValueError:
        raise DomainError(_("Nieprawidłowa data: %(v)s", v=value))


@bp.route("/admin/substitutions", methods=["GET", "POST"])
@admin_required("core.substitutions.manage")
def admin_substitutions():
    errors = {}
    if request.method == "POST":
        f = request.form
        try:
            if f.get("toggle"):
                row = sec.set_substitution_active(db(), int(f["toggle"]),
                                                  f.get("active") == "1")
                sec.log_event(db(), "substitution.active" if row.active
                              else "substitution.inactive", user=current_user(),
                              detail=f"{row.id}")
            else:
                user = db().get(User, int(f.get("user_id") or 0))
                sub = db().get(User, int(f.get("substitute_id") or 0))
                if user is None or sub is None:
                    raise DomainError(_("Wybierz zastępowanego i zastępcę."), field="user_id")
                starts = _dt_input(f.get("starts_at")) or utcnow()
                row = sec.add_substitution(db(), user, sub, starts, _dt_input(f.get("ends_at")),
                                           note=f.get("note") or None)
                sec.log_event(db(), "substitution.create", user=current_user(),
                              detail=f"{sub.login} za {user.login}")
            commit()
            flash(_("Zapisano zastępstwo."), "success")
            return redirect(url_for("ui.admin_substitutions"))
        except (DomainError, ValueError) as exc:
            rollback()
            errors[getattr(exc, "field", None) or "_"] = getattr(exc, "message", str(exc))
    rows = list(db().scalars(sa.select(Substitution).order_by(Substitution.starts_at.desc())))
    users = list(db().scalars(sa.select(User).where(User.active.is_(True)).order_by(User.name)))
    return render_template("ui/admin/substitutions.html", rows=rows, users=users,
                           errors=errors, now=utcnow()), (422 if errors else 200)


# -- licence ---------------------------------------------------------------------------------

@bp.route("/admin/license", methods=["GET", "POST"])
@admin_required("core.license.manage")
def admin_license():
    k = get_kernel()
    error = None
    if request.method == "POST":
        f = request.files.get("file")
        text = f.read().decode("utf-8", "replace") if f is not None and f.filename else \
            (request.form.get("text") or "")
        if not text.strip():
            error = _("Wybierz plik licencji albo wklej jego treść.")
        else:
            commit()
            try:
                lic = k.licensing.install(text, user=current_user())
                flash(_("Zainstalowano licencję: %(l)s, edycja %(e)s, ważna do %(d)s.",
                        l=lic.licensee, e=lic.edition.upper(), d=lic.valid_until.isoformat()),
                      "success")
                return redirect(url_for("ui.admin_license"))
            except DomainError as exc:
                error = exc.message
    return render_template("ui/admin/license.html", status=k.licensing.status(), error=error), \
        (422 if error else 200)


# -- logs ------------------------------------------------------------------------------------

@bp.route("/admin/audit")
@admin_required("core.audit.read")
def admin_audit():
    stmt = sa.select(AuditEntry)
    ent = request.args.get("entity") or ""
    if ent:
        stmt = stmt.where(AuditEntry.entity == ent)
    rid = request.args.get("record_id") or ""
    if rid.isdigit():
        stmt = stmt.where(AuditEntry.record_id == int(rid))
    uid = request.args.get("user_id") or ""
    if uid.isdigit():
        stmt = stmt.where(AuditEntry.user_id == int(uid))
    page = _page()
    total = db().scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = list(db().scalars(stmt.order_by(AuditEntry.id.desc()).offset((page - 1) * PER_PAGE)
                             .limit(PER_PAGE)))
    names = {u.id: str(u) for u in db().scalars(sa.select(User))}
    return render_template("ui/admin/audit.html", rows=rows, names=names, total=total,
                           page=page, pages=max(1, -(-total // PER_PAGE)),
                           entities=sorted(get_kernel().registry.entities))


@bp.route("/admin/security")
@admin_required("core.security.read")
def admin_security():
    stmt = sa.select(SecurityEvent)
    kind = request.args.get("kind") or ""
    if kind:
        stmt = stmt.where(SecurityEvent.kind == kind)
    login = request.args.get("login") or ""
    if login:
        stmt = stmt.where(SecurityEvent.login.ilike(f"%{login}%"))
    page = _page()
    total = db().scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    rows = list(db().scalars(stmt.order_by(SecurityEvent.id.desc())
                             .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
    kinds = list(db().scalars(sa.select(SecurityEvent.kind).distinct().order_by(
        SecurityEvent.kind)))
    return render_template("ui/admin/security.html", rows=rows, total=total, page=page,
                           pages=max(1, -(-total // PER_PAGE)), kinds=kinds)


# -- background jobs -------------------------------------------------------------------------

def _jobs_api():
    try:
        from core import jobs
    except ImportError:
        return None
    if not all(hasattr(jobs, n) for n in ("dead_letters", "retry_job", "discard_job")):
        return None
    return jobs


@bp.route("/admin/jobs", methods=["GET", "POST"])
@admin_required("core.jobs.manage")
def admin_jobs():
    jobs = _jobs_api()
    if request.method == "POST" and jobs is not None:
        jid = request.form.get("id")
        try:
            if request.form.get("op") == "retry":
                jobs.retry_job(db(), jid)
                msg = _("Zadanie #%(i)s przekazano do ponownego wykonania.", i=jid)
            else:
                jobs.discard_job(db(), jid)
                msg = _("Zadanie #%(i)s odrzucono.", i=jid)
            commit()
            flash(msg, "success")
        except (DomainError, ValueError) as exc:
            rollback()
            flash(getattr(exc, "message", str(exc)), "danger")
        return redirect(url_for("ui.admin_jobs"))
    rows = []
    if jobs is not None:
        try:
            rows = list(jobs.dead_letters(db()))
        except Exception:
            log.exception("dead letters")
            rollback()
    return render_template("ui/admin/jobs.html", available=jobs is not None, rows=rows)


def job_attr(row, name, default=None):
    if isinstance(row, dict):
        return row.get(name, default)
    return getattr(row, name, default)
