"""RFC 9457 problem responses for the API: every error a user can cause becomes a JSON
problem with a 4xx code and a message fit for that user; nothing leaks a traceback."""

from __future__ import annotations

import logging

from flask import g, jsonify, request
from werkzeug.exceptions import HTTPException

from core.errors import DomainError

log = logging.getLogger("kartoteka.web")

TITLES = {400: "Nieprawidłowe żądanie", 401: "Wymagane uwierzytelnienie",
          403: "Brak uprawnień", 404: "Nie znaleziono", 405: "Niedozwolona metoda",
          409: "Konflikt", 412: "Nieaktualna wersja", 413: "Za duże żądanie",
          415: "Nieobsługiwany format", 422: "Nieprawidłowe dane",
          428: "Wymagany nagłówek If-Match", 500: "Błąd serwera"}


def problem(status: int, detail: str, *, title: str | None = None,
            errors: dict | None = None, **extra):
    body = {"type": "about:blank", "title": title or TITLES.get(status, "Błąd"),
            "status": status, "detail": detail, "instance": request.path}
    if errors:
        body["errors"] = errors
    if g.get("request_id"):
        body["request_id"] = g.request_id
    body.update({k: v for k, v in extra.items() if v is not None})
    resp = jsonify(body)
    resp.status_code = status
    resp.mimetype = "application/problem+json"
    return resp


def from_domain(exc: DomainError):
    extra = {k: v for k, v in exc.extra.items() if isinstance(v, str | int | float | bool)}
    return problem(exc.status if exc.status < 500 else 500, exc.message, title=exc.title,
                   errors=exc.errors or None, **extra)


def from_http(exc: HTTPException):
    return problem(exc.code or 500, exc.description or TITLES.get(exc.code or 500, ""))


def from_unexpected(exc: Exception):
    log.exception("unexpected error on %s %s", request.method, request.path)
    return problem(500, "Wystąpił nieoczekiwany błąd. Zgłoś go administratorowi, podając "
                        "identyfikator żądania.")
