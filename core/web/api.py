"""The generic REST API, generated at request time from the registry.

Routes dispatch through the current registry (not one static route per entity), so an
entity of a plugin disabled in another process is gone at the next request. Every read and
write goes through :class:`core.dal.DataAccess`: the same permissions, record rules and field
rules as the HTML UI.

``GET /api/v1/<plugin>/<entity>``  list: ``page``, ``per_page`` (≤200), ``q``, ``sort``
(``-name,code``), ``fields``, filters ``field=v``, ``field__gte=``, ``__lte``, ``__gt``,
``__lt``, ``__in``, ``__contains``, ``__isnull``, ``__ne``; ``Link`` + ``X-Total-Count``.
``GET|PATCH|DELETE .../<id>``  with ``ETag: "<version>"``; writes need ``If-Match``
(428 when missing, 412 when stale). ``POST .../<id>/actions/<name>``, ``POST
.../actions/<name>`` (``{"ids": [...]}``), ``POST .../bulk`` (all-or-nothing with a per-row
report). ``/api/openapi.json`` and ``/api/docs`` describe it.
"""

from __future__ import annotations

import math
from urllib.parse import urlencode

from flask import Blueprint, g, jsonify, request, url_for
from werkzeug.exceptions import BadRequest

from core.errors import (
    DomainError,
    NotFoundError,
    PermissionDenied,
    PreconditionRequired,
    ValidationError,
)
from core.security.access import explain
from core.security.services import create_token, revoke_token

bp = Blueprint("api", __name__, url_prefix="/api")
RESERVED = {"page", "per_page", "q", "sort", "fields"}
MAX_PER_PAGE = 200


def _kernel():
    from flask import current_app
    return current_app.kernel


def _user():
    if g.get("user") is None:
        raise _Unauthorized()
    return g.user


class _Unauthorized(DomainError):
    status = 401
    title = "Wymagane uwierzytelnienie"

    def __init__(self):
        super().__init__("Zaloguj się albo podaj token API (nagłówek Authorization: "
                         "Bearer ...).")


def _dal():
    return _kernel().dal(g.db, _user())


def plugin_api(plugin: str, import_name: str) -> Blueprint:
    """The blueprint for a plugin's own JSON endpoints, at ``/api/v1/<plugin>``: a 404
    problem while the plugin is disabled. Register it with ``ctx.blueprint``."""
    bp = Blueprint(f"{plugin}_api", import_name, url_prefix=f"/api/v1/{plugin}")

    @bp.before_request
    def _enabled():
        if plugin not in _kernel().registry.plugins:
            raise NotFoundError(f"Wtyczka '{plugin}' jest wyłączona.")
    return bp


def api_dal():
    """For plugins' own API endpoints: the caller's DataAccess (401 problem when
    anonymous). Raise DomainErrors; the app turns them into problem responses."""
    return _dal()


def json_body() -> dict:
    """The request's JSON object, or a 422 problem."""
    return _json_body()


def _entity(plugin: str, name: str):
    key = f"{plugin}.{name}"
    ent = _kernel().registry.entities.get(key)
    if ent is None:
        raise NotFoundError(f"Nie ma zasobu '{key}' (wtyczka wyłączona lub nieznana).")
    return ent


def _json_body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError("Treść żądania musi być obiektem JSON.")
    return data


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        v = int(raw)
    except ValueError:
        raise ValidationError(f"Parametr '{name}' musi być liczbą całkowitą.", field=name)
    if not lo <= v <= hi:
        raise ValidationError(f"Parametr '{name}' musi być w zakresie {lo}–{hi}.", field=name)
    return v


def _etag(record) -> str:
    return f'"{getattr(record, "version", 0)}"'


def _if_match(ent, required: bool = True):
    raw = request.headers.get("If-Match")
    if raw is None:
        if required and ent.versioned:
            raise PreconditionRequired("Podaj nagłówek If-Match z wersją rekordu (ETag), "
                                       "aby nie nadpisać cudzych zmian.")
        return None
    raw = raw.strip()
    if raw.startswith("W/"):
        raw = raw[2:]
    return raw.strip('"')


def _one(ent, record, status=200):
    resp = jsonify(_dal().to_dict(ent, record))
    resp.status_code = status
    if ent.versioned:
        resp.headers["ETag"] = _etag(record)
    return resp


@bp.route("/v1/me")
def me():
    u = _user()
    return jsonify({"id": u.id, "login": u.login, "name": u.name, "email": u.email,
                    "language": u.language, "superuser": u.superuser,
                    "roles": sorted(u.role_codes)})


@bp.route("/v1/me/tokens", methods=["GET", "POST"])
def tokens():
    from sqlalchemy import select

    from core.security.models import ApiToken
    u = _user()
    if request.method == "POST":
        body = _json_body()
        row, secret = create_token(g.db, u, str(body.get("name") or ""))
        return jsonify({"id": row.id, "name": row.name, "token": secret}), 201
    rows = g.db.scalars(select(ApiToken).where(ApiToken.user_id == u.id).order_by(ApiToken.id))
    return jsonify([{"id": r.id, "name": r.name, "prefix": r.prefix,
                     "expires_at": r.expires_at.isoformat() if r.expires_at else None,
                     "revoked": r.revoked_at is not None} for r in rows])


@bp.route("/v1/me/tokens/<int:token_id>", methods=["DELETE"])
def token_revoke(token_id: int):
    revoke_token(g.db, _user(), token_id)
    return "", 204


@bp.route("/v1/explain")
def explain_view():
    from core.security.models import User
    user = _user()
    key = request.args.get("entity", "")
    op = request.args.get("op", "read")
    ent = _kernel().registry.entities.get(key)
    if ent is None:
        raise NotFoundError(f"Nie ma encji '{key}'.")
    target = user
    if request.args.get("user"):
        if not user.superuser:
            raise PermissionDenied("Tylko administrator może sprawdzać uprawnienia innych.")
        target = g.db.get(User, _int_arg("user", 0, 1, 2**31))
        if target is None:
            raise NotFoundError("Nie ma takiego użytkownika.")
    record = None
    if request.args.get("record"):
        rid = _int_arg("record", 0, 1, 2**31)
        record = g.db.get(ent.model, rid)
        if record is None:
            raise NotFoundError(f"{ent.label} #{rid} nie istnieje.")
    allowed, why = explain(_kernel().registry, g.db, target, ent, op, record)
    return jsonify({"allowed": allowed, "user": target.login, "entity": key, "op": op,
                    "reasons": [w.as_dict() for w in why]})


@bp.route("/v1/<plugin>/<name>", methods=["GET"])
def list_view(plugin: str, name: str):
    ent = _entity(plugin, name)
    page = _int_arg("page", 1, 1, 10**6)
    per_page = _int_arg("per_page", 50, 1, MAX_PER_PAGE)
    filters = {k: v for k, v in request.args.items() if k not in RESERVED}
    sort = [s for s in request.args.get("sort", "").split(",") if s] or None
    only = [f for f in request.args.get("fields", "").split(",") if f] or None
    if only:
        unknown = [f for f in only if f not in ent.fields and f not in ent.facets]
        if unknown:
            raise ValidationError(f"Nieznane pola: {', '.join(unknown)}", field="fields")
    dal = _dal()
    rows, total = dal.list(ent, filters=filters, q=request.args.get("q") or None, order=sort,
                           offset=(page - 1) * per_page, limit=per_page)
    resp = jsonify({"items": [dal.to_dict(ent, r, only) for r in rows], "total": total,
                    "page": page, "per_page": per_page})
    last = max(1, math.ceil((total or 0) / per_page))
    links = []
    for rel, p in (("first", 1), ("prev", page - 1), ("next", page + 1), ("last", last)):
        if 1 <= p <= last and not (rel == "prev" and page == 1) and not (
                rel == "next" and page >= last):
            args = {**request.args.to_dict(), "page": p, "per_page": per_page}
            links.append(f'<{request.base_url}?{urlencode(args)}>; rel="{rel}"')
    if links:
        resp.headers["Link"] = ", ".join(links)
    resp.headers["X-Total-Count"] = str(total)
    return resp


@bp.route("/v1/<plugin>/<name>", methods=["POST"])
def create_view(plugin: str, name: str):
    ent = _entity(plugin, name)
    record = _dal().create(ent, _json_body())
    resp = _one(ent, record, 201)
    resp.headers["Location"] = url_for("api.item_view", plugin=plugin, name=name,
                                       record_id=record.id)
    return resp


@bp.route("/v1/<plugin>/<name>/<int:record_id>", methods=["GET"])
def item_view(plugin: str, name: str, record_id: int):
    ent = _entity(plugin, name)
    record = _dal().get(ent, record_id)
    if ent.versioned and request.headers.get("If-None-Match") == _etag(record):
        return "", 304
    return _one(ent, record)


@bp.route("/v1/<plugin>/<name>/<int:record_id>", methods=["PATCH"])
def patch_view(plugin: str, name: str, record_id: int):
    ent = _entity(plugin, name)
    dal = _dal()
    dal.get(ent, record_id, "update")           # 404 before 428 for invisible records
    version = _if_match(ent)
    record = dal.update(ent, record_id, _json_body(), expected_version=version)
    return _one(ent, record)


@bp.route("/v1/<plugin>/<name>/<int:record_id>", methods=["DELETE"])
def delete_view(plugin: str, name: str, record_id: int):
    ent = _entity(plugin, name)
    dal = _dal()
    dal.get(ent, record_id, "delete")
    dal.delete(ent, record_id, expected_version=_if_match(ent))
    return "", 204


@bp.route("/v1/<plugin>/<name>/<int:record_id>/actions/<action>", methods=["POST"])
def action_view(plugin: str, name: str, record_id: int, action: str):
    ent = _entity(plugin, name)
    body = request.get_json(silent=True) or {}
    if not isinstance(body, dict):
        raise ValidationError("Parametry akcji muszą być obiektem JSON.")
    result = _dal().run_action(ent, action, record_id, body)
    return jsonify({"result": result if isinstance(result, dict | list | str | int | float |
                                                   bool | type(None)) else str(result)})


@bp.route("/v1/<plugin>/<name>/actions/<action>", methods=["POST"])
def bulk_action_view(plugin: str, name: str, action: str):
    ent = _entity(plugin, name)
    body = _json_body()
    ids = body.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids) or not ids:
        raise ValidationError("Podaj listę identyfikatorów 'ids'.", field="ids")
    params = body.get("params") or {}
    dal = _dal()
    results = {str(i): dal.run_action(ent, action, i, params) for i in ids}
    return jsonify({"results": {k: v if isinstance(v, dict | list | str | int | float | bool |
                                                   type(None)) else str(v)
                                for k, v in results.items()}})


@bp.route("/v1/<plugin>/<name>/bulk", methods=["POST"])
def bulk_view(plugin: str, name: str):
    """All-or-nothing: any failing row -> 422 with a per-row report, nothing written."""
    ent = _entity(plugin, name)
    body = _json_body()
    dal = _dal()
    report, ok = [], True
    for op in ("create", "update", "delete"):
        rows = body.get(op) or []
        if not isinstance(rows, list):
            raise ValidationError(f"'{op}' musi być listą.", field=op)
        for i, row in enumerate(rows):
            entry = {"op": op, "index": i}
            savepoint = g.db.begin_nested()
            try:
                if not isinstance(row, dict):
                    raise ValidationError("Wiersz musi być obiektem JSON.")
                if op == "create":
                    rec = dal.create(ent, row)
                    entry.update(id=rec.id, status=201)
                else:
                    row = dict(row)
                    rid, ver = row.pop("id", None), row.pop("version", None)
                    if not isinstance(rid, int):
                        raise ValidationError("Podaj 'id' wiersza.", field="id")
                    if ver is None and ent.versioned:
                        raise PreconditionRequired("Podaj 'version' wiersza.")
                    if op == "update":
                        dal.update(ent, rid, row, expected_version=ver)
                        entry.update(id=rid, status=200)
                    else:
                        dal.delete(ent, rid, expected_version=ver)
                        entry.update(id=rid, status=204)
                savepoint.commit()
            except DomainError as exc:
                savepoint.rollback()
                ok = False
                entry.update(status=exc.status, error=exc.message, errors=exc.errors or None)
            report.append(entry)
    if not ok:
        g.rollback = True
        return jsonify({"title": "Część wierszy jest nieprawidłowa; nic nie zapisano.",
                        "status": 422, "rows": report}), 422
    return jsonify({"rows": report})


@bp.route("/openapi.json")
def openapi():
    from core.web.openapi import build_spec
    return jsonify(build_spec(_kernel(), request.host_url.rstrip("/")))


@bp.route("/docs")
def docs():
    from core.web.assets import NODE_MODULES
    if not (NODE_MODULES / "swagger-ui-dist").is_dir():
        return ("<!doctype html><meta charset=utf-8><title>API</title><p>Dokumentacja "
                "interaktywna wymaga pakietów npm (uruchom scripts/install.sh). Specyfikacja: "
                "<a href=/api/openapi.json>/api/openapi.json</a>", 200)
    nonce = g.get("csp_nonce", "")
    return (f"""<!doctype html><html lang="pl"><head><meta charset="utf-8">
<title>Kartoteka API</title>
<link rel="stylesheet" href="/assets/swagger-ui-dist/swagger-ui.css">
<style nonce="{nonce}">body{{margin:0}}</style></head><body><div id="swagger-ui"></div>
<script src="/assets/swagger-ui-dist/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>""", 200)


@bp.route("/docs/init.js")
def docs_init():
    js = ('window.ui = SwaggerUIBundle({url: "/api/openapi.json", dom_id: "#swagger-ui"});')
    return js, 200, {"Content-Type": "application/javascript"}


@bp.errorhandler(BadRequest)
def _bad_request(exc):
    from core.web.problems import problem
    return problem(400, "Nieprawidłowe żądanie (uszkodzona treść lub parametry).")
