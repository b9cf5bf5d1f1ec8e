"""Pages and JSON endpoints of the registries plugin: the diff page of "Pobierz z GUS",
the NIP lookup, bulk verification (start, report), the settings page; and the API."""

from __future__ import annotations

from functools import partial

from flask import flash, jsonify, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from core.errors import DomainError, NotFoundError, PermissionDenied, ValidationError
from core.security.access import has_permission
from core.web.api import api_dal, json_body, plugin_api
from core.web.openapi import operation
from core.web.ui.common import commit, dal, rollback
from core.web.ui.pages import page_blueprint

from . import config, services
from .models import CEIDG, GUS, SOURCE_LABELS, BulkRun

CLIENT = services.CLIENT
pages = page_blueprint("registries_pages", __name__, url_prefix="/registries",
                       plugin="registries")
api = plugin_api("registries", __name__)


def register(ctx) -> None:
    ctx.blueprint(pages)
    ctx.blueprint(api)
    for path, operations in OPENAPI:
        ctx.extend("openapi_paths", (path, operations))


_op = partial(operation, "registries")


UNAVAILABLE = {"424": {"description": "Rejestr chwilowo niedostępny (spróbuj później)"}}
RESULT = {"type": "object", "properties": {
    "source": {"type": "string"}, "status": {"type": "string"},
    "summary": {"type": "string", "nullable": True},
    "request_id": {"type": "string", "nullable": True}}}
OPENAPI = [
    ("/api/v1/registries/lookup", {"get": _op(
        "Dane firmy z GUS albo CEIDG po NIP, REGON lub KRS (nic nie zapisuje)",
        params=[("nip", "query"), ("regon", "query"), ("krs", "query"),
                ("source", "query")], extra=UNAVAILABLE)}),
    ("/api/v1/registries/client/{client_id}/proposal", {"get": _op(
        "Propozycja danych z rejestru i różnice względem klienta",
        params=[("client_id", "path"), ("source", "query")], extra=UNAVAILABLE)}),
    ("/api/v1/registries/client/{client_id}/apply", {"post": _op(
        "Przejmij wybrane pola z rejestru", params=[("client_id", "path")],
        body={"type": "object", "required": ["fields"], "properties": {
            "fields": {"type": "array", "items": {"type": "string"}},
            "source": {"type": "string", "enum": ["gus", "ceidg"]},
            "version": {"type": "integer"}}}, extra=UNAVAILABLE)}),
    ("/api/v1/registries/client/{client_id}/verify", {"post": _op(
        "Weryfikacja w VIES i na białej liście (zapisana w historii klienta)",
        params=[("client_id", "path")],
        result={"type": "object", "properties": {"results": {
            "type": "array", "items": RESULT}}})}),
    ("/api/v1/registries/client/{client_id}/status", {"get": _op(
        "Ostatnie wyniki weryfikacji i znacznik ostrzeżenia",
        params=[("client_id", "path")])}),
    ("/api/v1/registries/bulk", {"post": _op(
        "Weryfikacja zbiorcza w tle (ids albo all)",
        body={"type": "object", "properties": {
            "ids": {"type": "array", "items": {"type": "integer"}},
            "all": {"type": "boolean"},
            "sources": {"type": "array", "items": {"type": "string",
                                                   "enum": ["vies", "whitelist"]}}}},
        extra={"202": {"description": "Uruchomiono (run z job_id)"}})}),
    ("/api/v1/registries/bulk/{run_id}", {"get": _op(
        "Stan i raport weryfikacji zbiorczej", params=[("run_id", "path")])}),
    ("/api/v1/registries/check-account", {"post": _op(
        "Czy rachunek klienta jest dziś na białej liście",
        body={"type": "object", "required": ["client_id"], "properties": {
            "client_id": {"type": "integer"}, "iban": {"type": "string"},
            "amount": {"type": "string"}}}, extra=UNAVAILABLE)}),
    ("/api/v1/registries/settings", {
        "get": _op("Ustawienia rejestrów (klucze tylko jako ustawione/nieustawione)"),
        "patch": _op("Zmiana ustawień rejestrów",
                     body={"type": "object", "additionalProperties": True})}),
]


def _require(user, code: str) -> None:
    if user is None or not has_permission(user, code):
        raise PermissionDenied("Brak uprawnienia: " + code, permission=code)


# -- "Pobierz z GUS": the diff page --------------------------------------------------------

@pages.route("/fetch/<int:client_id>", methods=["GET", "POST"])
def fetch(client_id):
    d = dal()
    _require(d.user, services.PERM_FETCH)
    client = d.get(CLIENT, client_id)
    source = request.values.get("source") or services.default_source(d.session, client)
    if source not in (GUS, CEIDG):
        raise ValidationError("Źródło: gus albo ceidg.", field="source")
    back = f"/e/{CLIENT}/{client.id}"
    if request.method == "POST":
        fields = request.form.getlist("fields")
        try:
            services.apply(d, client.id, fields, source=source,
                           expected_version=request.form.get("version") or None)
            commit()
            names = services.PROPOSAL_FIELDS_EN if get_locale().language == "en" \
                else services.PROPOSAL_FIELDS
            flash(_("Przejęto dane z rejestru %(source)s: %(fields)s.",
                    source=SOURCE_LABELS[source],
                    fields=", ".join(names[f] for f in fields if f in names)), "success")
            return redirect(back)
        except DomainError as exc:
            rollback()
            flash(exc.message, "danger")
            client = d.get(CLIENT, client_id)
    proposal, rows, error = None, [], None
    try:
        proposal = services.fetch_proposal(d.session, client, source)
        rows = services.diff(client, proposal, d.session)
        commit()                      # the day's cache entry
    except DomainError as exc:
        rollback()
        error = exc
        client = d.get(CLIENT, client_id)
    ceidg_ready = bool(config.get_settings(d.session).ceidg_token)
    return render_template(
        "registries/fetch.html", client=client, source=source, proposal=proposal, rows=rows,
        error=error, back=back, ceidg_ready=ceidg_ready, labels=SOURCE_LABELS,
        title=f"{SOURCE_LABELS[source]}: {client.name}")


# -- a NIP lookup before the client exists -------------------------------------------------

@pages.route("/lookup")
def lookup():
    d = dal()
    _require(d.user, services.PERM_FETCH)
    nip = (request.args.get("nip") or "").strip()
    source = request.args.get("source") or GUS
    proposal, error, existing = None, None, []
    if nip:
        try:
            proposal = (services.fetch_from_ceidg if source == CEIDG
                        else services.fetch_from_gus)(d.session, nip=nip)
            from plugins.clients.services import find_by_nip
            found = find_by_nip(d.session, proposal.get("nip") or nip)
            visible = set(services.visible_client_ids(d, [c.id for c in found]))
            existing = [c for c in found if c.id in visible]
            commit()
        except DomainError as exc:
            rollback()
            error = exc
    new_url = None
    if proposal:
        from urllib.parse import urlencode
        query = {"nip": proposal.get("nip") or nip}
        if proposal.get("entity_type") == "F" and proposal.get("first_name") and \
                proposal.get("last_name") and source == CEIDG:
            query.update(kind="person", first_name=proposal["first_name"],
                         last_name=proposal["last_name"])
        else:
            query.update(kind="company", name=proposal.get("name") or "")
        new_url = "/clients/new?" + urlencode(query)
    return render_template("registries/lookup.html", nip=nip, source=source,
                           proposal=proposal, error=error, existing=existing, new_url=new_url,
                           address_line=services.address_line,
                           title=_("Sprawdź NIP w rejestrach"))


# -- bulk verification -----------------------------------------------------------------------

@pages.route("/bulk", methods=["GET", "POST"])
def bulk():
    d = dal()
    _require(d.user, services.PERM_BULK)
    if request.method == "POST":
        sources = request.form.getlist("sources")
        ids = [i for i in request.form.get("ids", "").replace(",", " ").split() if i]
        try:
            run = services.start_bulk(d, [int(i) for i in ids] if ids else None,
                                      all_active=not ids, sources=sources)
            commit()
            return redirect(f"/jobs/{run.job_id}?next=/registries/bulk/{run.id}")
        except ValueError:
            rollback()
            flash(_("Identyfikatory klientów to liczby oddzielone przecinkami."), "danger")
        except DomainError as exc:
            rollback()
            flash(exc.message, "danger")
    runs = d.session.scalars(_runs_query(d.user).limit(30))
    return render_template("registries/bulk.html", runs=list(runs), labels=SOURCE_LABELS,
                           title=_("Weryfikacja zbiorcza w rejestrach"))


def _runs_query(user):
    import sqlalchemy as sa
    stmt = sa.select(BulkRun).order_by(BulkRun.id.desc())
    if not user.superuser and not has_permission(user, services.PERM_SETTINGS):
        stmt = stmt.where(BulkRun.user_id == user.id)
    return stmt


def _run_for(user, run_id: int) -> BulkRun:
    run = dal().session.scalar(_runs_query(user).where(BulkRun.id == run_id))
    if run is None:
        raise NotFoundError(f"Weryfikacja zbiorcza #{run_id} nie istnieje.")
    return run


@pages.route("/bulk/<int:run_id>")
def bulk_report(run_id):
    d = dal()
    _require(d.user, services.PERM_BULK)
    run = _run_for(d.user, run_id)
    return render_template("registries/bulk_report.html", run=run, labels=SOURCE_LABELS,
                           title=_("Weryfikacja zbiorcza #%(id)s", id=run.id))


# -- settings --------------------------------------------------------------------------------

@pages.route("/settings", methods=["GET", "POST"])
def settings_page():
    d = dal()
    _require(d.user, services.PERM_SETTINGS)
    errors = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in config.EDITABLE}
        for key in ("block_on_whitelist", "schedule_enabled"):
            values[key] = request.form.get(key) == "y"
        for key in config.SECRETS:
            values[f"clear_{key}"] = request.form.get(f"clear_{key}") == "y"
        try:
            config.update_settings(d.session, values)
            commit()
            flash(_("Zapisano ustawienia rejestrów."), "success")
            return redirect("/registries/settings")
        except DomainError as exc:
            rollback()
            errors[exc.field or "_"] = exc.message
            flash(exc.message, "danger")
    row = config.get_settings(d.session)
    commit()
    return render_template("registries/settings.html", s=row, errors=errors,
                           urls=config.DEFAULT_URLS, effective=config.endpoints(row),
                           title=_("Ustawienia rejestrów")), 422 if errors else 200


# -- JSON API ----------------------------------------------------------------------------------

def _proposal_json(p: dict) -> dict:
    return {k: v for k, v in p.items()}


@api.get("/lookup")
def api_lookup():
    """``?nip=|regon=|krs=&source=gus|ceidg`` → the proposal of client data."""
    d = api_dal()
    _require(d.user, services.PERM_FETCH)
    source = request.args.get("source") or GUS
    args = {k: request.args.get(k) for k in ("nip", "regon", "krs") if request.args.get(k)}
    if source == CEIDG:
        args.pop("krs", None)
        proposal = services.fetch_from_ceidg(d.session, **args)
    elif source == GUS:
        proposal = services.fetch_from_gus(d.session, **args)
    else:
        raise ValidationError("Źródło: gus albo ceidg.", field="source")
    return jsonify(_proposal_json(proposal))


@api.get("/client/<int:client_id>/proposal")
def api_proposal(client_id):
    d = api_dal()
    _require(d.user, services.PERM_FETCH)
    client = d.get(CLIENT, client_id)
    proposal = services.fetch_proposal(d.session, client, request.args.get("source"))
    return jsonify({"proposal": _proposal_json(proposal), "version": client.version,
                    "diff": [r._asdict() | {"label": r.label}
                             for r in services.diff(client, proposal, d.session)]})


@api.post("/client/<int:client_id>/apply")
def api_apply(client_id):
    """``{"fields": [...], "source": "gus", "version": 3}`` → the updated client."""
    d = api_dal()
    body = json_body()
    fields = body.get("fields")
    if not isinstance(fields, list):
        raise ValidationError("Podaj listę pól 'fields'.", field="fields")
    client = services.apply(d, client_id, fields, source=body.get("source"),
                            expected_version=body.get("version"))
    return jsonify(d.to_dict(CLIENT, client))


@api.post("/client/<int:client_id>/verify")
def api_verify(client_id):
    d = api_dal()
    body = request.get_json(silent=True)            # optional: {"sources": [...]}
    sources = body.get("sources") if isinstance(body, dict) else None
    outcome = services.verify(d, client_id, sources=sources)
    return jsonify(outcome.as_dict())


def _row_json(row) -> dict | None:
    if row is None:
        return None
    return {"id": row.id, "source": row.source, "checked_at": row.checked_at.isoformat(),
            "status": row.status, "summary": row.summary, "number": row.number,
            "request_id": row.request_id, "error": row.error, "data": row.data}


@api.get("/client/<int:client_id>/status")
def api_status(client_id):
    d = api_dal()
    d.require("registries.verification", "read")
    client = d.get(CLIENT, client_id)
    state = services.panel_state(d.session, client.id)
    return jsonify({"client_id": client.id, "badge": state["badge"],
                    "age_days": state["age_days"], "max_age_days": state["max_age_days"],
                    "latest": {k: _row_json(v) for k, v in state["latest"].items()}})


def _run_json(run: BulkRun) -> dict:
    return {"id": run.id, "status": run.status, "scope": run.scope, "sources": run.sources,
            "total": run.total, "done": run.done, "ok": run.ok, "warnings": run.warnings,
            "errors": run.errors, "pending": run.pending, "job_id": run.job_id,
            "report": run.report, "attempts": run.attempts,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None}


@api.post("/bulk")
def api_bulk():
    """``{"ids": [1, 2]}`` or ``{"all": true}``, optional ``"sources"`` → 202 with the run
    and its job (``GET /api/v1/registries/bulk/<id>`` for the report)."""
    d = api_dal()
    body = json_body()
    ids = body.get("ids")
    if ids is not None and (not isinstance(ids, list)
                            or not all(isinstance(i, int) for i in ids)):
        raise ValidationError("'ids' musi być listą liczb.", field="ids")
    run = services.start_bulk(d, ids, all_active=bool(body.get("all")) and ids is None,
                              sources=body.get("sources"))
    resp = jsonify(_run_json(run))
    resp.status_code = 202
    return resp


@api.get("/bulk/<int:run_id>")
def api_bulk_status(run_id):
    d = api_dal()
    _require(d.user, services.PERM_BULK)
    run = d.session.scalar(_runs_query(d.user).where(BulkRun.id == run_id))
    if run is None:
        raise NotFoundError(f"Weryfikacja zbiorcza #{run_id} nie istnieje.")
    return jsonify(_run_json(run))


@api.post("/check-account")
def api_check_account():
    """``{"client_id", "iban"?, "amount"?}`` → is the account on the White List today?"""
    d = api_dal()
    _require(d.user, services.PERM_VERIFY)
    body = json_body()
    client = d.get(CLIENT, body.get("client_id"))
    result = services.check_payment_account(d.session, client.id, body.get("iban"),
                                            body.get("amount"), user_id=d.user.id,
                                            block=False)
    return jsonify(result)


def _settings_json(row) -> dict:
    eff = config.endpoints(row)
    return {"environment": row.environment, "gus_key_set": bool(row.gus_key),
            "ceidg_token_set": bool(row.ceidg_token), "gus_url": row.gus_url,
            "ceidg_url": row.ceidg_url, "vies_rest_url": row.vies_rest_url,
            "vies_soap_url": row.vies_soap_url, "whitelist_url": row.whitelist_url,
            "timeout": row.timeout, "own_vat_number": row.own_vat_number,
            "max_age_days": row.max_age_days,
            "whitelist_threshold": str(row.whitelist_threshold),
            "block_on_whitelist": row.block_on_whitelist,
            "schedule_enabled": row.schedule_enabled, "cache_days": row.cache_days,
            "effective_endpoints": eff.__dict__}


@api.route("/settings", methods=["GET", "PATCH"])
def api_settings():
    d = api_dal()
    _require(d.user, services.PERM_SETTINGS)
    if request.method == "PATCH":
        row = config.update_settings(d.session, json_body())
    else:
        row = config.get_settings(d.session)
    return jsonify(_settings_json(row))

