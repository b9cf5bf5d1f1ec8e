"""Pages and API endpoints of the client base beyond the generated UI: the new-client
flow with the NIP duplicate warning, the duplicate scan and merge, the import wizard,
the personal-data export; and JSON endpoints for payer, terms, consents, NIP check."""

from __future__ import annotations

import json
from functools import partial
from urllib.parse import urlencode

import sqlalchemy as sa
from flask import Response, current_app, flash, jsonify, redirect, render_template, request
from flask_babel import gettext as _

from core.errors import DomainError, NotFoundError, ValidationError
from core.web.api import api_dal, json_body, plugin_api
from core.web.openapi import operation
from core.web.ui.common import commit, dal, rollback
from core.web.ui.pages import page_blueprint

from . import services, validation
from .models import KINDS, Client, ImportRun

CLIENT = "clients.client"
pages = page_blueprint("clients_pages", __name__, url_prefix="/clients", plugin="clients")
api = plugin_api("clients", __name__)


def register(ctx) -> None:
    ctx.blueprint(pages)
    ctx.blueprint(api)
    for path, operations in OPENAPI:
        ctx.extend("openapi_paths", (path, operations))


_op = partial(operation, "clients")


CLIENT_REF = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": {"type": "string"}, "kind": {"type": "string"},
    "nip": {"type": "string", "nullable": True},
    "head_office_id": {"type": "integer", "nullable": True}}}
CONFLICT = {"409": {"description": "Klient o tym NIP/PESEL już istnieje (existing_id)"}}
OPENAPI = [
    ("/api/v1/clients/nip-check", {"get": _op(
        "Czy NIP jest poprawny i którzy klienci go mają", params=[("nip", "query")])}),
    ("/api/v1/clients/client/{rid}/payer", {"get": _op(
        "Płatnik (centrala) dla dokumentu wystawionego na klienta", params=[("rid", "path")],
        result=CLIENT_REF)}),
    ("/api/v1/clients/client/{rid}/terms", {"get": _op(
        "Warunki handlowe z dziedziczeniem po centrali i wykorzystanie limitu",
        params=[("rid", "path")])}),
    ("/api/v1/clients/client/{rid}/can-contact", {"get": _op(
        "Czy wolno kontaktować się z klientem (zgody RODO)",
        params=[("rid", "path"), ("channel", "query"), ("purpose", "query")],
        result={"type": "object", "properties": {"allowed": {"type": "boolean"},
                                                 "reason": {"type": "string"}}})}),
    ("/api/v1/clients/client/{rid}/personal-data", {"get": _op(
        "Eksport wszystkich danych osobowych klienta (RODO art. 15)",
        params=[("rid", "path")])}),
    ("/api/v1/clients/duplicates", {"get": _op(
        "Kandydaci do scalenia", result={"type": "array", "items": {"type": "object"}})}),
    ("/api/v1/clients/merge", {"post": _op(
        "Scal klienta drop_id z keep_id", result=CLIENT_REF,
        body={"type": "object", "required": ["keep_id", "drop_id"], "properties": {
            "keep_id": {"type": "integer"}, "drop_id": {"type": "integer"}}})}),
    ("/api/v1/clients/client/from-template", {"post": _op(
        "Nowy klient z szablonu; as=branch|head_office z duplicate_of dla duplikatu NIP",
        body={"type": "object", "properties": {
            "template_id": {"type": "integer"}, "as": {"type": "string",
                                                    "enum": ["branch", "head_office"]},
            "duplicate_of": {"type": "integer"}}, "additionalProperties": True},
        extra=CONFLICT)}),
]


# -- new client: template, NIP check, duplicate choices ------------------------------------

STEP_FIELDS = ("kind", "name", "first_name", "last_name", "nip", "pesel")


def _templates(d):
    rows, _ = d.list("clients.template", limit=200, count=False)
    return rows


@pages.route("/new", methods=["GET", "POST"])
def new_client():
    d = dal()
    d.require(CLIENT, "create")
    src = request.form if request.method == "POST" else request.args
    values = {f: (src.get(f) or "").strip() for f in STEP_FIELDS}
    values["kind"] = values["kind"] or "company"
    template_id = src.get("template_id") or ""
    mode = src.get("as") or ""
    duplicate_of = src.get("duplicate_of") or ""
    existing, errors, message = [], {}, None
    if mode and duplicate_of:
        try:
            existing = [d.get(CLIENT, duplicate_of)]
        except DomainError as exc:
            message = exc.message
    if request.method == "POST":
        try:
            for f in ("nip", "pesel"):
                values[f] = validation.VALIDATORS[f](values[f], field=f) or ""
            if not existing:
                existing = services.find_by_nip(d.session, values["nip"]) + \
                    services.find_by_pesel(d.session, values["pesel"])
            choice = request.form.get("choice")
            if existing and choice == "use":
                return redirect(f"/e/{CLIENT}/{existing[0].id}")
            if existing and choice in ("branch", "head_office"):
                base = existing[0]
                data = _step_values(values)
                client = services.create_client(d, data, template_id=template_id or None,
                                                duplicate=choice, duplicate_of=base.id)
                commit()
                flash(_("Zapisano %(c)s jako oddział klienta %(b)s. Uzupełnij pozostałe "
                        "dane.", c=client.name, b=base.name) if choice == "branch" else
                      _("Zapisano %(c)s jako centralę klienta %(b)s. Uzupełnij pozostałe "
                        "dane.", c=client.name, b=base.name), "success")
                return redirect(f"/e/{CLIENT}/{client.id}/edit")
            if not existing:
                query = services.apply_template(d.session, _step_values(values),
                                                template_id or None)
                query.update({f"accounting.{k}": v
                              for k, v in (query.pop("accounting", None) or {}).items()})
                query = {k: ("y" if v is True else v) for k, v in query.items()
                         if v not in (None, "", False)}
                return redirect(f"/e/{CLIENT}/new?{urlencode(query)}")
            message = _("Klient o tym numerze już istnieje. Wybierz, co zrobić: użyj "
                        "istniejącego klienta albo zapisz nowego jako jego oddział lub "
                        "centralę.")
        except DomainError as exc:
            rollback()
            message = exc.message
            if exc.field:
                errors[exc.field] = exc.message
    return render_template("clients/new.html", values=values, templates=_templates(d),
                           template_id=str(template_id), existing=existing, errors=errors,
                           message=message, mode=mode, kinds=KINDS,
                           title=_("Nowy klient")), 422 if errors else 200


def _step_values(values: dict) -> dict:
    out = {k: v for k, v in values.items() if v}
    if out.get("kind") == "person" and not out.get("name"):
        out["name"] = services.person_name(out.get("first_name"), out.get("last_name"))
    return out


# -- duplicates and merge -------------------------------------------------------------------

@pages.route("/duplicates", methods=["GET", "POST"])
def duplicates():
    d = dal()
    d.require(CLIENT, "merge")
    if request.method == "POST":
        try:
            keep = int(request.form["keep_id"])
            drop = int(request.form["drop_id"])
            kept = services.merge(d, keep, drop)
            commit()
            flash(_("Scalono klientów: zachowano %(n)s (#%(i)s).", n=kept.name, i=kept.id),
                  "success")
            return redirect(f"/e/{CLIENT}/{kept.id}")
        except (KeyError, ValueError):
            flash(_("Wybierz klienta do zachowania."), "danger")
        except DomainError as exc:
            rollback()
            flash(exc.message, "danger")
    groups = services.duplicate_scan(d.session)
    return render_template("clients/duplicates.html", groups=groups,
                           title=_("Duplikaty i scalanie"))


# -- personal data export -------------------------------------------------------------------

@pages.route("/<int:rid>/personal-data.json")
def personal_data(rid):
    d = dal()
    d.require(CLIENT, "personal_data")
    client = d.get(CLIENT, rid)
    data = services.personal_data(current_app.kernel, d.session, client.id)
    from core.records import RecordRef, audit
    audit(d.session, RecordRef(CLIENT, client.id), "personal_data", user_id=d.user.id,
          note="Eksport danych osobowych (RODO art. 15)")
    commit()
    return Response(json.dumps(data, ensure_ascii=False, indent=2, default=str),
                    mimetype="application/json", headers={
                        "Content-Disposition":
                            f"attachment; filename=dane-osobowe-klient-{client.id}.json"})


# -- import ---------------------------------------------------------------------------------

@pages.route("/import", methods=["GET", "POST"])
def import_upload():
    d = dal()
    d.require(CLIENT, "import")
    from . import importer
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            if upload is None or not upload.filename:
                raise ValidationError("Wybierz plik CSV lub XLSX.", field="file")
            run = importer.create_run(d, upload.filename, upload.stream)
            commit()
            return redirect(f"/clients/import/{run.id}")
        except DomainError as exc:
            rollback()
            flash(exc.message, "danger")
    runs = d.session.scalars(sa.select(ImportRun).order_by(ImportRun.id.desc()).limit(20))
    return render_template("clients/import_upload.html", runs=runs,
                           title=_("Import klientów"))


@pages.route("/import/<int:run_id>", methods=["GET", "POST"])
def import_mapping(run_id):
    d = dal()
    d.require(CLIENT, "import")
    from . import importer
    run = _run_or_404(d, run_id)
    headers, sample = importer.preview(d.kernel, run)
    if request.method == "POST":
        mapping = {h: request.form.get(f"map-{i}") or "" for i, h in enumerate(headers)}
        try:
            job_id = importer.start(d, run, mapping=mapping,
                                    dry_run=request.form.get("dry_run") == "y",
                                    on_duplicate=request.form.get("on_duplicate", "skip"),
                                    template_id=request.form.get("template_id") or None)
            commit()
            return redirect(f"/jobs/{job_id}?next=/clients/import/{run.id}/report")
        except DomainError as exc:
            rollback()
            flash(exc.message, "danger")
    mapping = run.mapping or importer.suggest_mapping(headers)
    return render_template("clients/import_mapping.html", run=run, headers=headers,
                           sample=sample, mapping=mapping, targets=importer.TARGETS,
                           templates=_templates(d), title=_("Import: %(f)s", f=run.filename))


@pages.route("/import/<int:run_id>/report")
def import_report(run_id):
    d = dal()
    d.require(CLIENT, "import")
    run = _run_or_404(d, run_id)
    return render_template("clients/import_report.html", run=run,
                           title=_("Raport importu: %(f)s", f=run.filename))


def _run_or_404(d, run_id: int) -> ImportRun:
    run = d.session.get(ImportRun, run_id)
    if run is None:
        raise NotFoundError(f"Import #{run_id} nie istnieje.")
    return run


# -- JSON API -------------------------------------------------------------------------------

def _client_json(c: Client) -> dict:
    return {"id": c.id, "name": c.name, "kind": c.kind, "nip": c.nip,
            "head_office_id": c.head_office_id}


@api.get("/nip-check")
def api_nip_check():
    """``?nip=`` → is it valid, its normalised form, and the clients already holding it."""
    d = api_dal()
    d.require(CLIENT, "read")
    raw = request.args.get("nip", "")
    nip = validation.nip(raw)
    if not nip:
        raise ValidationError("NIP: podaj numer.", field="nip")
    found = services.find_by_nip(d.session, nip)
    visible = {c.id for c in d.session.scalars(d.select(CLIENT).where(
        Client.id.in_([c.id for c in found])))} if found else set()
    return jsonify({"nip": nip, "valid": True,
                    "existing": [_client_json(c) if c.id in visible else
                                 {"id": c.id, "name": None, "hidden": True} for c in found]})


@api.get("/client/<int:rid>/payer")
def api_payer(rid):
    d = api_dal()
    client = d.get(CLIENT, rid)
    return jsonify(_client_json(services.payer_for(d.session, client.id)))


@api.get("/client/<int:rid>/terms")
def api_terms(rid):
    d = api_dal()
    client = d.get(CLIENT, rid)
    t = services.effective_terms(d.session, client.id)
    exposure = services.credit_exposure(current_app.kernel, d.session, client.id)
    return jsonify({"payment_method": t.payment_method, "payment_days": t.payment_days,
                    "price_list": t.price_list,
                    "discount_percent": None if t.discount_percent is None
                    else str(t.discount_percent),
                    "credit_limit": None if t.credit_limit is None else str(t.credit_limit),
                    "currency": t.currency, "inherited_from": t.inherited_from,
                    "credit_exposure": None if exposure is None else str(exposure)})


@api.get("/client/<int:rid>/can-contact")
def api_can_contact(rid):
    d = api_dal()
    client = d.get(CLIENT, rid)
    check = services.can_contact(d.session, client.id, request.args.get("channel", ""),
                                 request.args.get("purpose", "marketing"))
    return jsonify({"allowed": check.allowed, "reason": check.reason,
                    "consent_id": check.consent_id})


@api.get("/client/<int:rid>/personal-data")
def api_personal_data(rid):
    d = api_dal()
    d.require(CLIENT, "personal_data")
    client = d.get(CLIENT, rid)
    return jsonify(json.loads(json.dumps(
        services.personal_data(current_app.kernel, d.session, client.id), default=str)))


@api.get("/duplicates")
def api_duplicates():
    d = api_dal()
    d.require(CLIENT, "merge")
    return jsonify([{"reason": g.reason, "score": g.score,
                     "clients": [_client_json(c) for c in g.clients]}
                    for g in services.duplicate_scan(d.session)])


@api.post("/merge")
def api_merge():
    d = api_dal()
    body = json_body()
    try:
        keep, drop = int(body["keep_id"]), int(body["drop_id"])
    except (KeyError, TypeError, ValueError):
        raise ValidationError("Podaj keep_id i drop_id (liczby).", field="keep_id")
    kept = services.merge(d, keep, drop)
    return jsonify(_client_json(kept))


@api.post("/client/from-template")
def api_create_from_template():
    """Create a client from a template (``template_id``; default: the kind's default
    template); ``as`` = ``branch`` | ``head_office`` with ``duplicate_of`` for the NIP
    duplicate choices."""
    d = api_dal()
    body = dict(json_body())
    template_id = body.pop("template_id", None)
    mode = body.pop("as", None)
    duplicate_of = body.pop("duplicate_of", None)
    client = services.create_client(d, body, template_id=template_id, duplicate=mode,
                                    duplicate_of=duplicate_of)
    resp = jsonify(d.to_dict(CLIENT, client))
    resp.status_code = 201
    return resp

