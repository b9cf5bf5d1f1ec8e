"""OpenAPI 3 document built per request from the current registry with apispec and its
marshmallow plugin. Built by hand rather than with flask-smorest's static blueprints
because the set of entities changes at run time (plugins enabled and disabled without a
restart); the schemas are the entities' own marshmallow-sqlalchemy schemas, facets
included."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

import core

PROBLEM = {"type": "object", "properties": {
    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
    "detail": {"type": "string"}, "instance": {"type": "string"},
    "errors": {"type": "object", "additionalProperties": {
        "type": "array", "items": {"type": "string"}}}}}


def operation(tag: str, summary: str, *, params=(), body: dict | None = None,
              result: dict | None = None, extra: dict | None = None) -> dict:
    """An OpenAPI operation for a plugin's own JSON endpoint, for
    ``ctx.extend("openapi_paths", (path, {"get": operation(...)}))``. ``params``: (name,
    "path" | "query") pairs (path parameters are integers); ``body``/``result``: JSON
    schemas; ``extra``: more responses by status. The error responses are added for you."""
    op = {"tags": [tag], "summary": summary,
          "parameters": [{"name": n, "in": where, "required": where == "path",
                          "schema": {"type": "integer" if where == "path" else "string"}}
                         for n, where in params],
          "responses": {"200": {"description": "OK", "content": {"application/json": {
              "schema": result or {"type": "object"}}}}, **(extra or {})}}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": body}}}
    return op


def _problem(desc: str) -> dict:
    return {"description": desc,
            "content": {"application/problem+json": {"schema": {"$ref":
                                                                 "#/components/schemas/Problem"}}}}


def build_spec(kernel, server: str = "") -> dict:
    spec = APISpec(title="Kartoteka API", version=core.__version__, openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Generic REST API of the enabled plugins' entities."},
                   servers=[{"url": server}] if server else [])
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("cookieAuth", {"type": "apiKey", "in": "cookie",
                                                   "name": "session"})
    spec.components.schema("Problem", PROBLEM)
    errors = {"400": _problem("Nieprawidłowe żądanie"), "401": _problem("Brak uwierzytelnienia"),
              "403": _problem("Brak uprawnień"), "404": _problem("Nie znaleziono"),
              "422": _problem("Nieprawidłowe dane")}
    security = [{"bearerAuth": []}, {"cookieAuth": []}]
    for key, ent in sorted(kernel.registry.entities.items()):
        plugin, name = key.split(".", 1)
        schema_name = ent.schema.__name__.removesuffix("Schema")
        spec.components.schema(schema_name, schema=ent.schema)
        ref = {"$ref": f"#/components/schemas/{schema_name}"}
        filters = [{"name": f, "in": "query", "required": False, "schema": {"type": "string"}}
                   for f, meta in ent.fields.items() if not meta.facet]
        base = f"/api/v1/{plugin}/{name}"
        tag = ent.label_plural
        spec.path(path=base, operations={
            "get": {"tags": [tag], "summary": f"Lista: {ent.label_plural}", "security": security,
                    "parameters": [
                        {"name": "page", "in": "query", "schema": {"type": "integer",
                                                                   "minimum": 1}},
                        {"name": "per_page", "in": "query",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                        {"name": "sort", "in": "query", "schema": {"type": "string"}},
                        {"name": "fields", "in": "query", "schema": {"type": "string"}},
                        *filters],
                    "responses": {"200": {"description": "Strona wyników", "content": {
                        "application/json": {"schema": {"type": "object", "properties": {
                            "items": {"type": "array", "items": ref},
                            "total": {"type": "integer"}, "page": {"type": "integer"},
                            "per_page": {"type": "integer"}}}}}}, **errors}},
            "post": {"tags": [tag], "summary": f"Dodaj: {ent.label}", "security": security,
                     "requestBody": {"required": True,
                                     "content": {"application/json": {"schema": ref}}},
                     "responses": {"201": {"description": "Utworzono",
                                           "content": {"application/json": {"schema": ref}}},
                                   **errors}},
        })
        idp = {"name": "record_id", "in": "path", "required": True,
               "schema": {"type": "integer"}}
        ifm = {"name": "If-Match", "in": "header", "required": ent.versioned,
               "schema": {"type": "string"}}
        spec.path(path=base + "/{record_id}", operations={
            "get": {"tags": [tag], "security": security, "parameters": [idp],
                    "responses": {"200": {"description": ent.label,
                                          "content": {"application/json": {"schema": ref}}},
                                  **errors}},
            "patch": {"tags": [tag], "security": security, "parameters": [idp, ifm],
                      "requestBody": {"required": True,
                                      "content": {"application/json": {"schema": ref}}},
                      "responses": {"200": {"description": "Zapisano",
                                            "content": {"application/json": {"schema": ref}}},
                                    "412": _problem("Nieaktualna wersja"),
                                    "428": _problem("Brak If-Match"), **errors}},
            "delete": {"tags": [tag], "security": security, "parameters": [idp, ifm],
                       "responses": {"204": {"description": "Usunięto"},
                                     "409": _problem("Rekord w użyciu"),
                                     "412": _problem("Nieaktualna wersja"),
                                     "428": _problem("Brak If-Match"), **errors}},
        })
        for act in kernel.registry.entity_actions(key):
            spec.path(path=base + "/{record_id}/actions/" + act.name, operations={
                "post": {"tags": [tag], "summary": act.label, "security": security,
                         "parameters": [idp],
                         "requestBody": {"required": False, "content": {"application/json": {
                             "schema": {"type": "object"}}}},
                         "responses": {"200": {"description": "Wynik akcji"}, **errors}}})
    # a plugin's own endpoints: ctx.extend("openapi_paths", (path, {method: operation}))
    for path, operations in kernel.registry.extras.get("openapi_paths", []):
        spec.path(path=path, operations={
            m: {"security": security, **op, "responses": {**op.get("responses", {}), **errors}}
            for m, op in operations.items()})
    doc = spec.to_dict()
    _as_served(doc, kernel)
    return doc


def _as_served(doc: dict, kernel) -> None:
    """Describe what the API really sends: money and quantities as decimal strings (never
    floats), plus the read-only ``_display`` label."""
    schemas = doc["components"]["schemas"]
    for ent in kernel.registry.entities.values():
        sch = schemas.get(ent.schema.__name__.removesuffix("Schema"))
        if not sch:
            continue
        props = sch.setdefault("properties", {})
        for name, meta in ent.fields.items():
            if meta.type == "decimal" and name in props:
                nullable = props[name].get("nullable", False)
                props[name] = {"type": "string", "format": "decimal",
                               "pattern": r"^-?\d+(\.\d+)?$", "nullable": nullable}
        props["_display"] = {"type": "string", "readOnly": True}
