"""Generic entity pages rendered from registry descriptors: list (search, filters, sort,
pagination, bulk actions, CSV/XLSX export, saved filters), form (create/edit, inline child
rows, facets, tabs from slots, optimistic concurrency), detail (Informator panels, history,
links, comments, attachments), kanban and calendar, plus the relation lookup endpoint."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import secrets

import sqlalchemy as sa
from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup

from core.errors import DomainError, NotFoundError, PermissionDenied, PreconditionFailed
from core.i18n import to_local
from core.models import SavedFilter
from core.records import (
    Attachment,
    AttachmentStore,
    RecordRef,
    add_comment,
    attach,
    attach_from_library,
    attachments_of,
    audit_trail,
    comments_of,
    link,
    links_of,
    unlink,
)
from core.security.models import User
from core.ui import view as ui_view
from core.ui import visible_actions

from .blueprint import bp
from .common import (
    commit,
    current_user,
    dal,
    db,
    entity_or_404,
    field_label,
    format_value,
    get_kernel,
    is_htmx,
    lang,
    lookup_labels,
    registry,
    related_labels,
    render_slot,
    rollback,
    safe_next,
)
from .forms import (
    SYSTEM_FIELDS,
    build_field,
    form_field_names,
    parse_fields,
    polish_message,
)

PER_PAGE = 25
COUNT_LIMIT = 10_000       # the list counts up to this many rows, then says "more than"
EXPORT_LIMIT = 50_000


# -- list ------------------------------------------------------------------------------------

def list_columns(ent, view, modes) -> list[str]:
    cols = (view.options.get("columns") if view else None)
    if not cols:
        cols = [n for n, fm in ent.fields.items()
                if n not in SYSTEM_FIELDS and not fm.facet and fm.type not in ("text", "json")]
        cols = cols[:6]
    return [c for c in cols if c in ent.fields and modes.get(c) != "hidden"
            and not ent.fields[c].facet]


def filter_kind(fm) -> str:
    if fm.choices:
        return "select"
    if fm.type == "boolean":
        return "boolean"
    if fm.relation:
        return "relation"
    if fm.type in ("date", "datetime", "integer", "decimal"):
        return "range"
    return "text"


def list_filters(ent, view, modes) -> list[dict]:
    names = (view.options.get("filters") if view else None) or []
    out = []
    for n in names:
        fm = ent.fields.get(n)
        if fm is None or fm.facet or modes.get(n) == "hidden":
            continue
        kind = filter_kind(fm)
        item = {"name": n, "label": fm.text(lang()), "kind": kind, "fm": fm,
                "choices": fm.choices or [], "input": "date" if fm.type in ("date", "datetime")
                else ("number" if fm.type in ("integer", "decimal") else "text")}
        if kind == "relation":
            item["lookup_url"] = url_for("ui.lookup", key=fm.relation)
            v = request.args.get(f"f.{n}")
            item["option_label"] = ""
            if v and v.isdigit():
                item["option_label"] = lookup_labels(fm.relation, [int(v)]).get(
                    (fm.relation, int(v)), f"#{v}")
        out.append(item)
    return out


def dal_filters(ent, args) -> dict:
    """Query args ``f.<field>[__op]`` -> DAL filters (text fields match by 'contains')."""
    out = {}
    for key, value in args.items(multi=False):
        if not key.startswith("f.") or value in (None, ""):
            continue
        name, _sep, op = key[2:].partition("__")
        fm = ent.fields.get(name)
        if fm is None:
            continue
        if not op:
            op = "contains" if filter_kind(fm) == "text" else "eq"
        if fm.type == "datetime" and op not in ("in", "isnull", "contains"):
            # datetimes are passed as aware objects (Europe/Warsaw wall time from the form);
            # a bare date as the upper bound includes that whole day
            from core.i18n import from_local
            try:
                if op in ("lte", "lt") and len(value) == 10:
                    day = dt.date.fromisoformat(value) + dt.timedelta(days=1)
                    value = from_local(dt.datetime.combine(day, dt.time()))
                    op = "lt"
                else:
                    value = from_local(dt.datetime.fromisoformat(value))
            except ValueError:
                raise DomainError(_("Nieprawidłowa data w filtrze: %(v)s", v=value), field=name)
        elif fm.type == "decimal":
            from core.i18n import parse_decimal
            try:
                value = str(parse_decimal(value))
            except (decimal.InvalidOperation, ValueError):
                raise DomainError(_("Nieprawidłowa liczba w filtrze: %(v)s", v=value),
                                  field=name)
        out[f"{name}__{op}"] = value
    return out


def list_order(ent, cols, args) -> tuple[list[str] | None, str]:
    sort = args.get("sort") or ""
    name = sort.lstrip("-")
    if name and name in ent.fields and not ent.fields[name].facet:
        return [sort], sort
    return None, ""


def _query_args(**changes) -> dict:
    args = request.args.to_dict(flat=True)
    for k, v in changes.items():
        if v is None:
            args.pop(k, None)
        else:
            args[k] = v
    return args


@bp.route("/e/<key>/")
def entity_list(key):
    ent = entity_or_404(key)
    d = dal()
    d.require(ent, "read")
    view = ui_view(registry(), key, "list", request.args.get("view", "default"))
    modes = d.fields(ent)
    cols = list_columns(ent, view, modes)
    q = (request.args.get("q") or "").strip() or None
    order, sort = list_order(ent, cols, request.args)
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        page = 1
    try:
        per_page = min(200, max(5, int(request.args.get("per_page", PER_PAGE))))
    except ValueError:
        per_page = PER_PAGE
    error = None
    try:
        filters = dal_filters(ent, request.args)
        rows, total = d.list(ent, filters=filters, q=q, order=order,
                             offset=(page - 1) * per_page, limit=per_page,
                             count_limit=COUNT_LIMIT)
    except DomainError as exc:
        rollback()
        error = exc.message
        rows, total = [], 0
    labels = related_labels(ent, rows, cols)
    table = [{"id": r.id, "display": ent.display(r),
              "cells": [format_value(ent.fields[c], getattr(r, c), related=labels)
                        for c in cols]} for r in rows]
    more = total is not None and total > COUNT_LIMIT      # "more than 10 000"
    pages = max(1, -(-(min(total or 0, COUNT_LIMIT)) // per_page))
    if more:
        pages = max(pages, page + 1)
    saved = list(db().scalars(sa.select(SavedFilter).where(
        SavedFilter.user_id == current_user().id, SavedFilter.entity == key)
        .order_by(SavedFilter.name)))
    bulk = visible_actions(registry(), key, current_user(), bulk=True)
    return render_template(
        "ui/list.html", ent=ent, view=view, cols=[(c, ent.fields[c].text(lang())) for c in cols],
        table=table, total=min(total or 0, COUNT_LIMIT), more=more, page=page, pages=pages,
        per_page=per_page, q=q or "",
        sort=sort, filters=list_filters(ent, view, modes), args=request.args, error=error,
        saved=saved, bulk_actions=bulk, can_create=d.can(ent, "create"),
        can_delete=d.can(ent, "delete"), query_args=_query_args,
        has_kanban=bool(ent.state_field), has_calendar=bool(registry().views_for(key, "calendar")),
        export_args=_query_args(page=None, per_page=None))


def _export_rows(ent):
    d = dal()
    d.require(ent, "read")
    view = ui_view(registry(), ent.key, "list", request.args.get("view", "default"))
    modes = d.fields(ent)
    cols = list_columns(ent, view, modes)
    q = (request.args.get("q") or "").strip() or None
    order, _sort = list_order(ent, cols, request.args)
    rows, _total = d.list(ent, filters=dal_filters(ent, request.args), q=q, order=order,
                          limit=EXPORT_LIMIT, count=False)
    labels = related_labels(ent, rows, cols)
    return cols, rows, labels


def _plain_value(fm, value, labels):
    if value is None:
        return None
    if fm.choices:
        return dict(fm.choices).get(value, value)
    if fm.relation:
        return labels.get((fm.relation, value), value)
    if isinstance(value, dt.datetime):
        return to_local(value).replace(tzinfo=None)
    return value


@bp.route("/e/<key>/export.<fmt>")
def entity_export(key, fmt):
    ent = entity_or_404(key)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    cols, rows, labels = _export_rows(ent)
    headers = ["ID"] + [ent.fields[c].text(lang()) for c in cols]
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
    fname = f"{ent.key.replace('.', '-')}-{stamp}.{fmt}"
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=";")
        w.writerow(headers)
        for r in rows:
            vals = [r.id]
            for c in cols:
                v = _plain_value(ent.fields[c], getattr(r, c), labels)
                if isinstance(v, dt.datetime):
                    v = v.strftime("%Y-%m-%d %H:%M")
                elif isinstance(v, decimal.Decimal) and lang() == "pl":
                    v = str(v).replace(".", ",")
                elif isinstance(v, bool):
                    v = _("Tak") if v else _("Nie")
                vals.append("" if v is None else v)
            w.writerow(vals)
        data = "\ufeff" + buf.getvalue()
        return Response(data, mimetype="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{fname}"'})
    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.title = ent.text(lang(), plural=True)[:31] or "Dane"
    ws.append(headers)
    for r in rows:
        ws.append([r.id] + [_plain_value(ent.fields[c], getattr(r, c), labels) for c in cols])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return send_file(out, as_attachment=True, download_name=fname, mimetype=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))


@bp.route("/e/<key>/bulk", methods=["POST"])
def entity_bulk(key):
    ent = entity_or_404(key)
    d = dal()
    ids = request.form.getlist("ids")
    op = request.form.get("op") or ""
    nxt = safe_next(request.form.get("next"), url_for("ui.entity_list", key=key))
    if not ids:
        flash(_("Zaznacz co najmniej jeden rekord."), "warning")
        return redirect(nxt)
    try:
        if op == "delete":
            for rid in ids:
                d.delete(ent, rid)
            msg = _("Usunięto rekordy: %(n)s.", n=len(ids))
        else:
            action = registry().actions.get((key, op))
            if action is None or not action.bulk:
                raise NotFoundError(_("Nieznana akcja zbiorcza."))
            for rid in ids:
                d.run_action(ent, op, rid, {})
            label = action.label_en if lang() == "en" else action.label
            msg = _("Wykonano akcję „%(a)s” dla rekordów: %(n)s.", a=label, n=len(ids))
        commit()
        flash(msg, "success")
    except DomainError as exc:
        rollback()
        flash(_("Nic nie zmieniono: %(m)s", m=exc.message), "danger")
    return redirect(nxt)


@bp.route("/e/<key>/filters", methods=["POST"])
def saved_filter_save(key):
    ent = entity_or_404(key)
    dal().require(ent, "read")
    name = (request.form.get("name") or "").strip()
    try:
        raw = json.loads(request.form.get("params") or "{}")
    except ValueError:
        raw = {}
    params = {str(k): str(v) for k, v in (raw.items() if isinstance(raw, dict) else [])
              if k not in ("page", "csrf_token")}
    if not name:
        flash(_("Podaj nazwę filtra."), "warning")
        return redirect(url_for("ui.entity_list", key=key, **params))
    row = db().scalar(sa.select(SavedFilter).where(
        SavedFilter.user_id == current_user().id, SavedFilter.entity == key,
        SavedFilter.name == name))
    if row is None:
        db().add(SavedFilter(user_id=current_user().id, entity=key, name=name[:120],
                             params=params))
    else:
        row.params = params
    commit()
    flash(_("Zapisano filtr „%(n)s”.", n=name), "success")
    return redirect(url_for("ui.entity_list", key=key, **params))


@bp.route("/e/<key>/filters/<int:fid>/delete", methods=["POST"])
def saved_filter_delete(key, fid):
    row = db().get(SavedFilter, fid)
    if row is None or row.user_id != current_user().id:
        abort(404)
    db().delete(row)
    commit()
    flash(_("Usunięto zapisany filtr."), "success")
    return redirect(url_for("ui.entity_list", key=key))


# -- forms -----------------------------------------------------------------------------------

def _default(ent, name):
    col = ent.model.__table__.c.get(name)
    if col is not None and col.default is not None and getattr(col.default, "is_scalar", False):
        return col.default.arg
    return None


def child_specs(ent, view):
    """The form view's ``children`` option, resolved for the current user."""
    d = dal()
    out = []
    for idx, spec in enumerate((view.options.get("children") if view else None) or []):
        try:
            child = registry().entity(spec["entity"])
        except (NotFoundError, KeyError):
            continue
        if not d.can(child, "read"):
            continue
        fk = spec["fk"]
        modes = d.fields(child)
        names = [n for n in (spec.get("fields") or [
            n for n, fm in child.fields.items()
            if n not in SYSTEM_FIELDS and n != fk and not fm.facet])
            if n in child.fields and n != fk and modes.get(n) != "hidden"]
        label = (spec.get("label_en") if lang() == "en" else None) or spec.get("label") \
            or child.text(lang(), plural=True)
        out.append({"idx": idx, "entity": child, "fk": fk, "names": names, "label": label,
                    "modes": modes, "can_create": d.can(child, "create"),
                    "can_update": d.can(child, "update"), "can_delete": d.can(child, "delete")})
    return out


def _child_row(spec, rowkey, values: dict, *, rid=None, version=None, errors=None,
               raw=False, deleted=False):
    errors = errors or {}
    ent = spec["entity"]
    prefix = f"c{spec['idx']}-{rowkey}-"
    readonly = not (spec["can_update"] if rid else spec["can_create"])
    labels = {}
    if not raw:
        labels = related_labels(ent, [values], spec["names"])
    fields = []
    for n in spec["names"]:
        fm = ent.fields[n]
        v = values.get(n)
        opt = ""
        if fm.relation and v not in (None, ""):
            try:
                opt = labels.get((fm.relation, int(v))) or lookup_labels(
                    fm.relation, [int(v)]).get((fm.relation, int(v)), f"#{v}")
            except (TypeError, ValueError):
                opt = ""
        fields.append(build_field(fm, prefix + n, v if not raw else (v or ""),
                                  readonly=readonly or spec["modes"].get(n) == "readonly",
                                  error=errors.get(prefix + n), language=lang(),
                                  option_label=opt))
    return {"key": rowkey, "prefix": prefix, "id": rid, "version": version, "fields": fields,
            "deleted": deleted, "can_delete": spec["can_delete"] if rid else True}


def build_form(ent, view, record=None, form=None, errors=None, current=None):
    """Everything the form template needs; values from ``form`` (a re-render after an
    error) or from ``record`` / defaults."""
    errors = errors or {}
    d = dal()
    modes = d.fields(ent)
    names = form_field_names(ent, view, modes)
    rec_labels = related_labels(ent, [record], names) if record is not None else {}
    fields = []
    for n in names:
        fm = ent.fields[n]
        if form is not None:
            value = form.get(n, "") if fm.type != "boolean" else (n in form)
        elif record is not None:
            value = getattr(record, n)
        else:
            value = request.args.get(n) if n in request.args else _default(ent, n)
        opt = ""
        if fm.relation and value not in (None, ""):
            try:
                vid = int(value)
                opt = rec_labels.get((fm.relation, vid)) or lookup_labels(
                    fm.relation, [vid]).get((fm.relation, vid), f"#{vid}")
            except (TypeError, ValueError):
                opt = ""
        f = build_field(fm, n, value, readonly=modes.get(n) == "readonly",
                        error=errors.get(n), language=lang(), option_label=opt)
        if current is not None and n in current:
            f.current = current[n]
        fields.append(f)
    facets = []
    for fname, facet in ent.facets.items():
        row = d.facet_row(facet, record) if record is not None else None
        ffields = []
        for k, fm in facet.fields.items():
            full = f"{fname}.{k}"
            if modes.get(full) == "hidden":
                continue
            if form is not None:
                value = form.get(full, "") if fm.type != "boolean" else (full in form)
            elif record is None:
                value = request.args.get(full)       # prefilled, e.g. from a template
            else:
                value = getattr(row, k) if row is not None else None
            ffields.append(build_field(fm, full, value, readonly=modes.get(full) == "readonly",
                                       error=errors.get(full), language=lang()))
        if ffields:
            label = (facet.label_en if lang() == "en" else facet.label) or facet.label \
                or fname
            facets.append({"name": fname, "label": label, "fields": ffields,
                           "tab": fname in ((view.options.get("facet_tabs") if view else None)
                                            or ())})
    children = []
    for spec in child_specs(ent, view):
        rows = []
        if form is not None:
            for rk in form.getlist(f"c{spec['idx']}-rows"):
                p = f"c{spec['idx']}-{rk}-"
                vals = {n: (form.get(p + n, "") if spec["entity"].fields[n].type != "boolean"
                            else (p + n) in form) for n in spec["names"]}
                rows.append(_child_row(spec, rk, vals, rid=form.get(p + "id") or None,
                                       version=form.get(p + "version"), errors=errors,
                                       raw=True, deleted=form.get(p + "_delete") == "1"))
        elif record is not None:
            crows, _t = d.list(spec["entity"], filters={spec["fk"]: record.id}, limit=500,
                               count=False)
            for r in crows:
                vals = {n: getattr(r, n) for n in spec["names"]}
                rows.append(_child_row(spec, f"e{r.id}", vals, rid=r.id,
                                       version=getattr(r, "version", None)))
        spec = dict(spec, rows=rows)
        children.append(spec)
    return {"fields": fields, "facets": facets, "children": children, "modes": modes}


def _parse_form(ent, view, form, creating: bool):
    errors: dict[str, str] = {}
    d = dal()
    modes = d.fields(ent)
    names = [n for n in form_field_names(ent, view, modes) if modes.get(n) != "readonly"
             and not ent.fields[n].readonly]
    values = parse_fields(form, "", ent.fields, names, ent.model, check_required=creating,
                          errors=errors)
    for fname, facet in ent.facets.items():
        fnames = [k for k in facet.fields if modes.get(f"{fname}.{k}") not in
                  ("hidden", "readonly") and not facet.fields[k].readonly]
        fvals = parse_fields(form, f"{fname}.", facet.fields, fnames, facet.model,
                             check_required=False, errors=errors, error_prefix=f"{fname}.")
        if fvals:
            values[fname] = fvals
    child_ops = []
    for spec in child_specs(ent, view):
        cent = spec["entity"]
        cnames = [n for n in spec["names"] if spec["modes"].get(n) != "readonly"
                  and not cent.fields[n].readonly]
        for rk in form.getlist(f"c{spec['idx']}-rows"):
            p = f"c{spec['idx']}-{rk}-"
            rid = form.get(p + "id") or None
            deleted = form.get(p + "_delete") == "1"
            if deleted and not rid:
                continue
            if deleted:
                child_ops.append(("delete", spec, rk, rid, None, form.get(p + "version")))
                continue
            cvals = parse_fields(form, p, cent.fields, cnames, cent.model,
                                 check_required=not rid, errors=errors, error_prefix=p)
            child_ops.append(("update" if rid else "create", spec, rk, rid, cvals,
                              form.get(p + "version")))
    return values, child_ops, errors


def _errors_from(exc: DomainError, prefix: str = "") -> dict[str, str]:
    out = {}
    for k, msgs in (exc.errors or {}).items():
        msg = msgs[0] if isinstance(msgs, list) and msgs else str(msgs)
        out[prefix + k] = polish_message(str(msg))
    return out


def _save(ent, view, record_id=None):
    """Handle a submitted form; return a redirect, or (context, status) to re-render."""
    d = dal()
    form = request.form
    creating = record_id is None
    values, child_ops, errors = _parse_form(ent, view, form, creating)
    message = None
    message_actions = None
    conflict = None
    if not errors:
        try:
            if creating:
                rec = d.create(ent, values)
            else:
                rec = d.update(ent, record_id, values, expected_version=form.get("version"))
            for op, spec, rk, rid, cvals, version in child_ops:
                p = f"c{spec['idx']}-{rk}-"
                try:
                    if op == "delete":
                        d.delete(spec["entity"], rid, expected_version=version or None)
                    elif op == "update":
                        if cvals:
                            d.update(spec["entity"], rid, cvals,
                                     expected_version=version or None)
                    else:
                        cvals[spec["fk"]] = rec.id
                        d.create(spec["entity"], cvals)
                except PreconditionFailed:
                    raise
                except DomainError as exc:
                    mapped = {p + k: v for k, v in (exc.errors or {}).items()}
                    if not mapped and spec["names"]:
                        mapped = {p + spec["names"][0]: [exc.message]}
                    exc.errors = mapped
                    raise
            commit()
            flash(_("Zapisano: %(r)s.", r=ent.display(rec)), "success")
            return redirect(url_for("ui.entity_detail", key=ent.key, rid=rec.id))
        except PreconditionFailed as exc:
            rollback()
            conflict = exc
        except DomainError as exc:
            rollback()
            errors.update(_errors_from(exc))
            message = exc.message
            message_actions = exc.extra.get("actions")   # [(label, url)] offered by a rule
            if exc.field and exc.field not in errors and exc.field in ent.fields:
                errors[exc.field] = polish_message(exc.message)
    current = None
    version = form.get("version")
    if conflict is not None:
        message = _("Ktoś inny zapisał ten rekord, gdy go edytowałeś(-aś). Twoje zmiany nie "
                    "zostały zapisane — są nadal w formularzu. Pod polami pokazano aktualnie "
                    "zapisane wartości. Zapisz ponownie, aby nadpisać zmiany tamtej osoby.")
        try:
            rec = d.get(ent, record_id)
            version = str(getattr(rec, "version", version))
            modes = d.fields(ent)
            labels = related_labels(ent, [rec], list(ent.fields))
            current = {n: format_value(ent.fields[n], getattr(rec, n), related=labels)
                       for n in form_field_names(ent, view, modes)}
            current = {n: str(v) for n, v in current.items()
                       if str(form.get(n, "")) != _input_of(ent.fields[n], getattr(rec, n))}
        except DomainError:
            current = None
    elif errors and not message:
        message = _("Popraw zaznaczone pola.")
    ctx = build_form(ent, view, record=None, form=form, errors=errors, current=current)
    return dict(ctx, message=message, message_actions=message_actions,
                conflict=conflict is not None, version=version), \
        (409 if conflict is not None else 422)


def _input_of(fm, value) -> str:
    from .forms import input_value
    if fm.type == "boolean":
        return "y" if value else ""
    return input_value(fm, value)


def _form_page(ent, view, record, ctx, status=200):
    d = dal()
    tabs = render_slot(f"{ent.key}.form.tabs", ent, record)
    actions = visible_actions(registry(), ent.key, current_user()) if record is not None else []
    sections = [{"label": (sec.get("label_en") if lang() == "en" else None)
                 or sec.get("label", ""), "fields": list(sec.get("fields", ())),
                 "when": next(iter((sec.get("when") or {}).items()), None)}
                for sec in ((view.options.get("sections") if view else None) or [])]
    return render_template(
        "ui/form.html", ent=ent, record=record, tabs=tabs, actions=actions, sections=sections,
        can_delete=record is not None and d.can(ent, "delete"),
        title=(ent.display(record) if record is not None
               else _("Nowy rekord: %(e)s", e=ent.text(lang()))), **ctx), status


@bp.route("/e/<key>/new", methods=["GET", "POST"])
def entity_new(key):
    ent = entity_or_404(key)
    d = dal()
    d.require(ent, "create")
    view = ui_view(registry(), key, "form")
    if request.method == "POST":
        result = _save(ent, view)
        if not isinstance(result, tuple):
            return result
        ctx, status = result
        return _form_page(ent, view, None, ctx, status)
    ctx = build_form(ent, view)
    return _form_page(ent, view, None, dict(ctx, message=None, conflict=False, version=""))


@bp.route("/e/<key>/<int:rid>/edit", methods=["GET", "POST"])
def entity_edit(key, rid):
    ent = entity_or_404(key)
    d = dal()
    d.require(ent, "update")
    view = ui_view(registry(), key, "form")
    record = d.get(ent, rid)
    if request.method == "POST":
        result = _save(ent, view, rid)
        if not isinstance(result, tuple):
            return result
        ctx, status = result
        try:
            record = d.get(ent, rid)
        except DomainError:
            pass
        return _form_page(ent, view, record, ctx, status)
    ctx = build_form(ent, view, record=record)
    return _form_page(ent, view, record, dict(ctx, message=None, conflict=False,
                                              version=str(getattr(record, "version", ""))))


@bp.route("/e/<key>/child-row")
def child_row(key):
    """htmx: a new empty child row for the inline table of a form."""
    ent = entity_or_404(key)
    view = ui_view(registry(), key, "form")
    try:
        idx = int(request.args.get("child", "0"))
    except ValueError:
        abort(400)
    spec = next((s for s in child_specs(ent, view) if s["idx"] == idx), None)
    if spec is None or not spec["can_create"]:
        raise PermissionDenied(_("Brak uprawnienia do dodawania pozycji."))
    rowkey = "n" + secrets.token_hex(4)
    defaults = {n: _default(spec["entity"], n) for n in spec["names"]}
    row = _child_row(spec, rowkey, defaults)
    return render_template("ui/_child_row.html", spec=spec, row=row)


@bp.route("/e/<key>/<int:rid>/delete", methods=["POST"])
def entity_delete(key, rid):
    ent = entity_or_404(key)
    d = dal()
    try:
        d.delete(ent, rid, expected_version=request.form.get("version") or None)
        commit()
        flash(_("Usunięto rekord."), "success")
        return redirect(url_for("ui.entity_list", key=key))
    except PermissionDenied:
        rollback()
        raise
    except DomainError as exc:
        rollback()
        flash(exc.message, "danger")
        return redirect(url_for("ui.entity_detail", key=key, rid=rid))


@bp.route("/e/<key>/<int:rid>/action/<name>", methods=["POST"])
def entity_action(key, rid, name):
    ent = entity_or_404(key)
    d = dal()
    try:
        result = d.run_action(ent, name, rid, {k: v for k, v in request.form.items()
                                               if k not in ("csrf_token", "next")})
        commit()
        action = registry().actions.get((key, name))
        label = (action.label_en if lang() == "en" else action.label) if action else name
        flash(_("Wykonano: %(a)s.", a=label), "success")
        if isinstance(result, dict) and result.get("redirect"):
            return redirect(safe_next(result["redirect"]))
    except PermissionDenied:
        rollback()
        raise
    except DomainError as exc:
        rollback()
        flash(exc.message, "danger")
    return redirect(safe_next(request.form.get("next"),
                              url_for("ui.entity_detail", key=key, rid=rid)))


# -- detail ----------------------------------------------------------------------------------

def _user_names(ids) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return {u.id: str(u) for u in db().scalars(sa.select(User).where(User.id.in_(ids)))}


def _action_label(action) -> str | None:
    if action is None:
        return None
    return (action.label_en if lang() == "en" else action.label) or action.label


def informator(ent, record) -> dict:
    """The built-in sections of the information panel (by the entity's services)."""
    s = db()
    ref = RecordRef(ent.key, record.id)
    out = {}
    if "audit" in ent.services:
        trail = list(reversed(audit_trail(s, ref)))[:100]
        names = _user_names(e.user_id for e in trail)
        acts = registry().actions
        out["history"] = [{"at": e.at, "action": e.action, "user": names.get(e.user_id, "—"),
                           "label": _action_label(acts.get((ent.key, e.action))),
                           "note": e.note,
                           "changes": [(_field_text(ent, k), v[0] if v else None,
                                        v[1] if v and len(v) > 1 else None)
                                       for k, v in (e.changes or {}).items()
                                       if not _hidden_change(ent, k)]}
                          for e in trail]
    if "links" in ent.services:
        items = links_of(s, ref)
        by_ent: dict[str, set] = {}
        for other, _row in items:
            by_ent.setdefault(other.entity, set()).add(other.id)
        labels = {}
        for ekey, ids in by_ent.items():
            labels.update(lookup_labels(ekey, ids))
        links = []
        for other, row in items:
            oent = registry().entities.get(other.entity)
            readable = oent is not None and dal().can(oent, "read") \
                and (other.entity, other.id) in labels
            links.append({"entity": other.entity, "id": other.id,
                          "entity_label": oent.text(lang()) if oent else other.entity,
                          "label": labels.get((other.entity, other.id), f"#{other.id}")
                          if readable else _("(brak dostępu)"),
                          "url": url_for("ui.entity_detail", key=other.entity, rid=other.id)
                          if readable else None, "note": row.note, "at": row.created_at})
        out["links"] = links
        out["link_entities"] = sorted(
            [(e.key, e.text(lang())) for e in registry().entities.values()
             if dal().can(e, "read")], key=lambda x: x[1])
    if "comments" in ent.services:
        comments = comments_of(s, ref)
        names = _user_names(c.author_id for c in comments)
        out["comments"] = [{"id": c.id, "parent_id": c.parent_id, "body": c.body,
                            "author": names.get(c.author_id, "—"), "at": c.created_at}
                           for c in comments]
    if "attachments" in ent.services:
        out["attachments"] = attachments_of(s, ref)
        out["library"] = attachments_of(s, None)
    return out


def _field_text(ent, key):
    if "." in key:
        facet, _sep, f = key.partition(".")
        fc = ent.facets.get(facet)
        if fc and f in fc.fields:
            return fc.fields[f].text(lang())
    fm = ent.fields.get(key)
    return fm.text(lang()) if fm else key


def _hidden_change(ent, key) -> bool:
    return dal().fields(ent).get(key) == "hidden"


@bp.route("/e/<key>/<int:rid>")
def entity_detail(key, rid):
    ent = entity_or_404(key)
    d = dal()
    record = d.get(ent, rid)
    modes = d.fields(ent)
    dview = ui_view(registry(), key, "detail")
    fview = ui_view(registry(), key, "form")
    names = (dview.options.get("fields") if dview else None) or [
        n for n, fm in ent.fields.items() if n not in ("id", "version") and not fm.facet]
    if callable(names):                   # fields chosen per record (e.g. by its kind)
        names = names(record)
    names = [n for n in names if n in ent.fields and modes.get(n) != "hidden"]
    labels = related_labels(ent, [record], names)
    fields = [(field_label(ent.fields[n]), format_value(ent.fields[n], getattr(record, n),
                                                        related=labels),
               _link_for(ent.fields[n], getattr(record, n))) for n in names]
    facets = []
    for fname, facet in ent.facets.items():
        row = d.facet_row(facet, record)
        items = [(fm.text(lang()), format_value(fm, getattr(row, k) if row else None))
                 for k, fm in facet.fields.items() if modes.get(f"{fname}.{k}") != "hidden"]
        if items:
            facets.append(((facet.label_en if lang() == "en" else facet.label) or fname, items))
    children = []
    for spec in child_specs(ent, fview):
        crows, _t = d.list(spec["entity"], filters={spec["fk"]: record.id}, limit=500,
                           count=False)
        clabels = related_labels(spec["entity"], crows, spec["names"])
        children.append({"label": spec["label"],
                         "cols": [spec["entity"].fields[n].text(lang()) for n in spec["names"]],
                         "rows": [[format_value(spec["entity"].fields[n], getattr(r, n),
                                                related=clabels) for n in spec["names"]]
                                  for r in crows]})
    panels = render_slot(f"{key}.detail.panels", ent, record)
    actions = visible_actions(registry(), key, current_user())
    return render_template(
        "ui/detail.html", ent=ent, record=record, fields=fields, facets=facets,
        children=children, panels=panels, info=informator(ent, record), actions=actions,
        can_update=d.can(ent, "update"), can_delete=d.can(ent, "delete"),
        title=ent.display(record))


def _link_for(fm, value):
    if fm.relation and value is not None and fm.relation in registry().entities:
        return url_for("ui.entity_detail", key=fm.relation, rid=value)
    return None


# -- record services: comments, links, attachments -----------------------------------------

def _record_for(key, rid, op="read"):
    ent = entity_or_404(key)
    d = dal()
    if op != "read":
        d.require(ent, op)
    rec = d.get(ent, rid)
    return ent, rec


def _service(ent, name):
    if name not in ent.services:
        abort(404)


@bp.route("/e/<key>/<int:rid>/comments", methods=["POST"])
def comment_add(key, rid):
    ent, rec = _record_for(key, rid)
    _service(ent, "comments")
    parent = request.form.get("parent_id") or None
    try:
        add_comment(db(), RecordRef(key, rec.id), request.form.get("body", ""),
                    author_id=current_user().id, parent_id=int(parent) if parent else None)
        commit()
        flash(_("Dodano komentarz."), "success")
    except (DomainError, ValueError) as exc:
        rollback()
        flash(getattr(exc, "message", str(exc)), "danger")
    return redirect(url_for("ui.entity_detail", key=key, rid=rid) + "#comments")


@bp.route("/e/<key>/<int:rid>/links", methods=["POST"])
def link_add(key, rid):
    ent, rec = _record_for(key, rid, "update")
    _service(ent, "links")
    other_key = request.form.get("entity") or ""
    other_id = request.form.get("record_id") or ""
    try:
        oent = registry().entity(other_key)
        other = dal().get(oent, other_id)
        link(db(), RecordRef(key, rec.id), RecordRef(oent.key, other.id),
             note=(request.form.get("note") or None), user_id=current_user().id)
        commit()
        flash(_("Powiązano z: %(r)s.", r=oent.display(other)), "success")
    except DomainError as exc:
        rollback()
        flash(exc.message, "danger")
    return redirect(url_for("ui.entity_detail", key=key, rid=rid) + "#links")


@bp.route("/e/<key>/<int:rid>/links/remove", methods=["POST"])
def link_remove(key, rid):
    ent, rec = _record_for(key, rid, "update")
    _service(ent, "links")
    try:
        unlink(db(), RecordRef(key, rec.id), RecordRef(request.form.get("entity", ""),
                                                       int(request.form.get("record_id", 0))))
        commit()
        flash(_("Usunięto powiązanie."), "success")
    except ValueError:
        abort(400)
    return redirect(url_for("ui.entity_detail", key=key, rid=rid) + "#links")


def _store():
    st = get_kernel().settings
    return AttachmentStore(st.attachments_dir, st.attachment_max_bytes)


@bp.route("/e/<key>/<int:rid>/attachments", methods=["POST"])
def attachment_add(key, rid):
    ent, rec = _record_for(key, rid, "update")
    _service(ent, "attachments")
    ref = RecordRef(key, rec.id)
    try:
        lib_id = request.form.get("library_id")
        if lib_id:
            attach_from_library(db(), ref, int(lib_id), user_id=current_user().id)
        else:
            f = request.files.get("file")
            if f is None or not f.filename:
                raise DomainError(_("Wybierz plik do wysłania."), field="file")
            attach(db(), _store(), ref, f.filename, f.stream, user_id=current_user().id,
                   content_type=f.mimetype or None)
        commit()
        flash(_("Dodano załącznik."), "success")
    except (DomainError, ValueError) as exc:
        rollback()
        flash(getattr(exc, "message", str(exc)), "danger")
    return redirect(url_for("ui.entity_detail", key=key, rid=rid) + "#attachments")


@bp.route("/attachments", methods=["GET", "POST"])
def attachment_library():
    """The shared attachment library: files not tied to a record, attachable anywhere."""
    if request.method == "POST":
        f = request.files.get("file")
        try:
            if f is None or not f.filename:
                raise DomainError(_("Wybierz plik do wysłania."), field="file")
            attach(db(), _store(), None, f.filename, f.stream, user_id=current_user().id,
                   content_type=f.mimetype or None)
            commit()
            flash(_("Dodano plik do biblioteki."), "success")
        except DomainError as exc:
            rollback()
            flash(exc.message, "danger")
        return redirect(url_for("ui.attachment_library"))
    rows = attachments_of(db(), None)
    names = _user_names(a.uploaded_by for a in rows)
    return render_template("ui/library.html", rows=rows, names=names)


@bp.route("/attachments/<int:aid>")
def attachment_download(aid):
    row = db().get(Attachment, aid)
    if row is None:
        abort(404)
    if not row.in_library:
        ent = registry().entities.get(row.entity or "")
        if ent is None:
            abort(404)
        dal().get(ent, row.record_id)   # the record must be readable by this user
    fh = _store().open(row.sha256)
    return send_file(fh, as_attachment=True, download_name=row.filename,
                     mimetype=row.content_type or "application/octet-stream")


# -- relation lookup -------------------------------------------------------------------------

@bp.route("/lookup/<key>")
def lookup(key):
    """Relation pickers (Tom Select): ``[{"value": id, "text": display}]``."""
    q = (request.args.get("q") or "").strip()
    if key == "core.user":
        stmt = sa.select(User).where(User.active.is_(True))
        if q:
            stmt = stmt.where(sa.or_(User.login.ilike(f"%{q}%"), User.name.ilike(f"%{q}%")))
        return jsonify([{"value": u.id, "text": str(u)}
                        for u in db().scalars(stmt.order_by(User.name).limit(20))])
    ent = entity_or_404(key)
    d = dal()
    if not d.can(ent, "read"):
        return jsonify([]), 403
    rows, _t = d.list(ent, q=q or None, limit=20, count=False)
    return jsonify([{"value": r.id, "text": ent.display(r)} for r in rows])


# -- kanban ----------------------------------------------------------------------------------

def _card(ent, r, columns, card_fields, labels):
    return {"id": r.id, "display": ent.display(r), "version": getattr(r, "version", ""),
            "state": getattr(r, ent.state_field),
            "fields": [(ent.fields[c].text(lang()),
                        format_value(ent.fields[c], getattr(r, c), related=labels))
                       for c in card_fields],
            "url": url_for("ui.entity_detail", key=ent.key, rid=r.id),
            "patch_url": url_for("ui.kanban_move", key=ent.key, rid=r.id)}


def _kanban_setup(ent):
    if not ent.state_field:
        raise NotFoundError(_("Ta encja nie ma widoku kanban (brak pola stanu)."))
    view = ui_view(registry(), ent.key, "kanban")
    fm = ent.fields[ent.state_field]
    columns = list(fm.choices or [])
    modes = dal().fields(ent)
    card_fields = [c for c in ((view.options.get("card_fields") if view else None) or [])
                   if c in ent.fields and modes.get(c) != "hidden"]
    return view, columns, card_fields


@bp.route("/e/<key>/kanban")
def kanban(key):
    ent = entity_or_404(key)
    d = dal()
    d.require(ent, "read")
    view, columns, card_fields = _kanban_setup(ent)
    q = (request.args.get("q") or "").strip() or None
    rows, total = d.list(ent, q=q, limit=500)
    labels = related_labels(ent, rows, card_fields)
    cards = {k: [] for k, _l in columns}
    for r in rows:
        cards.setdefault(getattr(r, ent.state_field), []).append(
            _card(ent, r, columns, card_fields, labels))
    return render_template("ui/kanban.html", ent=ent, columns=columns, cards=cards, q=q or "",
                           can_update=d.can(ent, "update"), total=total)


@bp.route("/e/<key>/<int:rid>/state", methods=["PATCH", "POST"])
def kanban_move(key, rid):
    ent = entity_or_404(key)
    d = dal()
    _view, columns, card_fields = _kanban_setup(ent)
    state = request.form.get("state") or ""
    if state not in dict(columns):
        raise DomainError(_("Nieznany stan: %(s)s", s=state), field="state")
    try:
        rec = d.update(ent, rid, {ent.state_field: state},
                       expected_version=request.form.get("version") or None)
        commit()
    except DomainError:
        rollback()
        raise
    labels = related_labels(ent, [rec], card_fields)
    card = _card(ent, rec, columns, card_fields, labels)
    return render_template("ui/_kanban_card.html", ent=ent, card=card, columns=columns,
                           can_update=True)


# -- calendar --------------------------------------------------------------------------------

def _calendar_view(ent):
    view = ui_view(registry(), ent.key, "calendar")
    if view is None:
        raise NotFoundError(_("Ta encja nie ma widoku kalendarza."))
    opts = view.options
    start = opts.get("start_field")
    if start not in ent.fields:
        raise NotFoundError(_("Widok kalendarza bez pola początku (start_field)."))
    end = opts.get("end_field") if opts.get("end_field") in ent.fields else None
    title = opts.get("title_field") if opts.get("title_field") in ent.fields else None
    return view, start, end, title


@bp.route("/e/<key>/calendar")
def calendar(key):
    ent = entity_or_404(key)
    d = dal()
    d.require(ent, "read")
    view, start, end, _title = _calendar_view(ent)
    return render_template("ui/calendar.html", ent=ent, can_update=d.can(ent, "update"),
                           can_create=d.can(ent, "create"), start_field=start,
                           initial=view.options.get("initial_view", "dayGridMonth"))


def _parse_iso(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        v = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise DomainError(_("Nieprawidłowa data: %(v)s", v=value))
    if v.tzinfo is None:
        from core.i18n import from_local
        v = from_local(v)
    return v.astimezone(dt.UTC)


@bp.route("/e/<key>/events")
def calendar_events(key):
    ent = entity_or_404(key)
    d = dal()
    _view, start, end, title = _calendar_view(ent)
    lo = _parse_iso(request.args.get("start"))
    hi = _parse_iso(request.args.get("end"))
    filters = {}
    is_dt = ent.fields[start].type == "datetime"
    if hi is not None:
        filters[f"{start}__lt"] = hi if is_dt else to_local(hi).date()
    if lo is not None:
        low = lo - dt.timedelta(days=62)
        filters[f"{start}__gte"] = low if is_dt else to_local(low).date()
    filters[f"{start}__isnull"] = "false"
    rows, _t = d.list(ent, filters=filters, limit=2000, count=False)
    out = []
    for r in rows:
        s = getattr(r, start)
        e = getattr(r, end) if end else None
        if lo is not None and isinstance(s, dt.datetime) and (e or s) < lo:
            continue
        out.append({"id": r.id, "title": str(getattr(r, title)) if title else ent.display(r),
                    "start": s.isoformat() if s else None,
                    "end": e.isoformat() if e else None,
                    "allDay": not isinstance(s, dt.datetime),
                    "url": url_for("ui.entity_detail", key=key, rid=r.id),
                    "extendedProps": {"version": getattr(r, "version", None),
                                      "move_url": url_for("ui.calendar_move", key=key,
                                                          rid=r.id)}})
    return jsonify(out)


@bp.route("/e/<key>/<int:rid>/move", methods=["POST"])
def calendar_move(key, rid):
    ent = entity_or_404(key)
    d = dal()
    _view, start, end, _title = _calendar_view(ent)
    values = {}
    s = _parse_iso(request.form.get("start"))
    if s is None:
        raise DomainError(_("Brak daty początku."), field=start)
    values[start] = s.isoformat() if ent.fields[start].type == "datetime" \
        else to_local(s).date().isoformat()
    if end:
        e = _parse_iso(request.form.get("end"))
        if e is not None:
            values[end] = e.isoformat() if ent.fields[end].type == "datetime" \
                else to_local(e).date().isoformat()
    try:
        rec = d.update(ent, rid, values, expected_version=request.form.get("version") or None)
        commit()
    except DomainError:
        rollback()
        raise
    return jsonify({"id": rec.id, "version": getattr(rec, "version", None),
                    "message": _("Zapisano termin: %(r)s.", r=ent.display(rec))})


def render_markup(html: str) -> Markup:   # pragma: no cover - helper for templates
    return Markup(html)


def is_fragment() -> bool:
    return is_htmx()
