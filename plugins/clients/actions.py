"""Actions on a client (buttons on its page, ``POST /api/v1/clients/client/<id>/actions/…``)."""

from __future__ import annotations

from urllib.parse import urlencode

from . import services

CLIENT = "clients.client"


def _convert(dal, record, params):
    new_kind = params.get("kind") or ("company" if record.kind == "person" else "person")
    values = {k: v for k, v in params.items() if k != "kind"}
    client = services.convert(dal, record.id, new_kind, values)
    return {"id": client.id, "kind": client.kind, "name": client.name}


def _new_related(mode):
    def handler(dal, record, params):
        if not params:       # from the page: continue on the new-client form
            query = urlencode({"duplicate_of": record.id, "as": mode, "kind": record.kind,
                               **({"nip": record.nip} if record.nip else {})})
            return {"redirect": f"/clients/new?{query}"}
        template_id = params.pop("template_id", None)
        client = services.create_client(dal, dict(params), template_id=template_id,
                                        duplicate=mode, duplicate_of=record.id)
        return {"id": client.id, "name": client.name, "head_office_id": client.head_office_id}
    return handler


def _anonymise(dal, record, params):
    client = services.anonymise(dal, record.id)
    return {"id": client.id, "anonymised_at": client.anonymised_at.isoformat()}


def _personal_data(dal, record, params):
    return {"redirect": f"/clients/{record.id}/personal-data.json"}


def _promote(dal, record, params):
    changed = services.promote_to_standard(dal.session, record.id, user_id=dal.user.id,
                                           reason="Zmiana ręczna")
    return {"id": record.id, "segment": "standard", "changed": changed}


def register(ctx) -> None:
    ctx.action(CLIENT, "convert", _convert, label="Przekształć (osoba ⇄ firma)",
               label_en="Convert (person ⇄ company)", permission="clients.client.convert",
               confirm="Przekształcić klienta? Wszystkie powiązane dokumenty, notatki i "
                       "historia zostaną zachowane.")
    ctx.action(CLIENT, "add_branch", _new_related("branch"), label="Dodaj oddział",
               label_en="Add branch", permission="clients.client.create")
    ctx.action(CLIENT, "add_head_office", _new_related("head_office"),
               label="Dodaj centralę", label_en="Add head office",
               permission="clients.client.create")
    ctx.action(CLIENT, "promote", _promote, label="Oznacz jako standardowego",
               label_en="Mark as standard", permission="clients.client.update", bulk=True)
    ctx.action(CLIENT, "personal_data", _personal_data, label="Eksport danych osobowych (RODO)",
               label_en="Personal data export (GDPR)",
               permission="clients.client.personal_data")
    ctx.action(CLIENT, "anonymise", _anonymise, label="Anonimizuj (RODO)",
               label_en="Anonymise (GDPR)", permission="clients.client.anonymise",
               style="danger",
               confirm="Nieodwracalnie usunąć dane osobowe klienta? Dokumenty zostaną "
                       "zachowane.")
