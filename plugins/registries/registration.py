"""What the ``registries`` plugin registers: the ``registry`` facet of a client, the
verification results and document checks (read-only entities), actions and the panel on
the client, pages, jobs, the weekly schedule, menus and roles."""

from __future__ import annotations

import sqlalchemy as sa

from core.security.access import rule_filter
from plugins.clients.models import Client

from . import models as m

CLIENT = "clients.client"


def _client_visible(registry, model):
    """A row about a client is visible to whoever may read that client."""
    def domain(rc):
        cond = rule_filter(registry, registry.entity(CLIENT), rc.user, "read", rc.session)
        sub = sa.select(Client.id)
        if cond is not None:
            sub = sub.where(cond)
        return model.client_id.in_(sub)
    return domain


def register(ctx) -> None:
    from . import actions, jobs, panels, views

    ctx.facet(CLIENT, m.CompanyData, name="registry", parent_key="client_id",
              label="Dane z rejestrów (GUS/CEIDG)", label_en="Registry data (GUS/CEIDG)",
              fields={
                  "pkd_main": {"label": "PKD przeważające", "label_en": "Main PKD code"},
                  "pkd": {"label": "Kody PKD", "label_en": "PKD codes", "widget": "text"},
                  "activity_status": {"label": "Status działalności",
                                      "label_en": "Activity status", "readonly": True},
                  "start_date": {"label": "Data rozpoczęcia działalności",
                                 "label_en": "Activity start date", "readonly": True},
                  "fetched_from": {"label": "Pobrano z", "label_en": "Fetched from",
                                   "readonly": True, "choices": m.SOURCES},
                  "fetched_on": {"label": "Pobrano dnia", "label_en": "Fetched on",
                                 "readonly": True}})
    status_meta = {"label": "Wynik", "label_en": "Result", "choices": m.STATUSES}
    ctx.entity(m.Verification, name="verification", label="Wynik weryfikacji",
               label_en="Verification result", label_plural="Wyniki weryfikacji",
               label_plural_en="Verification results",
               relations={"client_id": CLIENT, "user_id": "core.user"},
               fields={"client_id": {"label": "Klient", "label_en": "Client"},
                       "source": {"label": "Źródło", "label_en": "Source",
                                  "choices": m.SOURCES},
                       "checked_at": {"label": "Sprawdzono", "label_en": "Checked at"},
                       "number": {"label": "Numer", "label_en": "Number"},
                       "status": status_meta,
                       "summary": {"label": "Opis", "label_en": "Summary"},
                       "request_id": {"label": "Identyfikator zapytania",
                                      "label_en": "Request id"},
                       "data": {"label": "Odpowiedź", "label_en": "Answer"},
                       "error": {"label": "Błąd", "label_en": "Error"},
                       "cached": {"label": "Z pamięci dnia", "label_en": "From the day's cache"},
                       "user_id": {"label": "Użytkownik", "label_en": "User"},
                       "run_id": {"label": "Weryfikacja zbiorcza", "label_en": "Bulk run"}},
               search_fields=["number", "summary", "request_id"],
               order_by=["-checked_at"], services=(),
               display=lambda r: f"{m.SOURCE_LABELS.get(r.source, r.source)} "
                                 f"{r.checked_at:%d.%m.%Y}")
    ctx.entity(m.DocumentCheck, name="document_check", label="Sprawdzenie rachunku dokumentu",
               label_en="Document account check", label_plural="Sprawdzenia rachunków",
               label_plural_en="Document account checks",
               relations={"client_id": CLIENT, "user_id": "core.user"},
               fields={"document_entity": {"label": "Rodzaj dokumentu",
                                           "label_en": "Document type"},
                       "document_id": {"label": "Dokument", "label_en": "Document"},
                       "client_id": {"label": "Klient", "label_en": "Client"},
                       "nip": {"label": "NIP", "label_en": "Tax id (NIP)"},
                       "iban": {"label": "Rachunek", "label_en": "Account"},
                       "amount": {"label": "Kwota", "label_en": "Amount", "widget": "money"},
                       "day": {"label": "Na dzień", "label_en": "On"},
                       "result": {"label": "Wynik", "label_en": "Result",
                                  "choices": m.ACCOUNT_RESULTS},
                       "request_id": {"label": "Identyfikator zapytania",
                                      "label_en": "Request id"},
                       "message": {"label": "Komunikat", "label_en": "Message"},
                       "data": {"label": "Odpowiedź", "label_en": "Answer"},
                       "user_id": {"label": "Użytkownik", "label_en": "User"}},
               search_fields=["nip", "iban", "request_id"], order_by=["-day"], services=(),
               display=lambda r: f"{r.document_entity} #{r.document_id}")
    ctx.record_rule("registries.verification", "visible_clients",
                    _client_visible(ctx.registry, m.Verification),
                    label="Wyniki klientów, których użytkownik widzi")
    ctx.record_rule("registries.document_check", "visible_clients",
                    _client_visible(ctx.registry, m.DocumentCheck),
                    label="Sprawdzenia klientów, których użytkownik widzi")
    ctx.view("registries.verification", "list",
             columns=["checked_at", "client_id", "source", "status", "summary", "request_id"],
             filters=["source", "status", "client_id"])
    ctx.view("registries.verification", "detail",
             fields=["client_id", "source", "checked_at", "number", "status", "summary",
                     "request_id", "error", "cached", "user_id", "run_id", "data"])
    ctx.view("registries.document_check", "list",
             columns=["day", "document_entity", "document_id", "client_id", "iban", "result",
                      "request_id"], filters=["result", "client_id"])

    ctx.menu("registries", "Rejestry", "Registries", icon="building-check", order=15)
    ctx.menu("registries.lookup", "Sprawdź NIP w GUS/CEIDG", "Look up a NIP in GUS/CEIDG",
             url="/registries/lookup", parent="registries", permission="registries.fetch",
             order=10)
    ctx.menu("registries.verifications", "Wyniki weryfikacji", "Verification results",
             entity="registries.verification", parent="registries", order=20)
    ctx.menu("registries.bulk", "Weryfikacja zbiorcza", "Bulk verification",
             url="/registries/bulk", parent="registries",
             permission="registries.verify_bulk", order=30)
    ctx.menu("registries.document_checks", "Rachunki na dokumentach",
             "Accounts on documents", entity="registries.document_check",
             parent="registries", order=40)
    ctx.menu("registries.settings", "Ustawienia rejestrów", "Registry settings",
             url="/registries/settings", parent="registries",
             permission="registries.settings", order=90)

    actions.register(ctx)
    panels.register(ctx)
    jobs.register(ctx)
    views.register(ctx)

    user_perms = ["registries.fetch", "registries.verify", "registries.verify_bulk",
                  "registries.verification.read", "registries.document_check.read"]
    ctx.role("registries_user", "Rejestry: pobieranie danych i weryfikacja",
             "Registries: fetch and verify", permissions=user_perms)
    ctx.role("registries_admin", "Rejestry: administrator (klucze, adresy, harmonogram)",
             "Registries: administrator", permissions=user_perms + ["registries.settings"])
