"""Actions the registries plugin adds to a client (buttons on its page and
``POST /api/v1/clients/client/<id>/actions/<name>``)."""

from __future__ import annotations

from . import services
from .models import CEIDG, GUS, SOURCE_LABELS

CLIENT = services.CLIENT


def _fetch(dal, record, params):
    """From the page: on to the diff page. Through the API with ``{"fields": [...]}``: apply
    those fields at once; with ``{}``: return the proposal and the diff."""
    source = params.get("source") or None
    if source not in (None, GUS, CEIDG):
        from core.errors import ValidationError
        raise ValidationError("Źródło: gus albo ceidg.", field="source")
    fields = params.get("fields")
    if fields:
        if isinstance(fields, str):
            fields = [f.strip() for f in fields.split(",") if f.strip()]
        client = services.apply(dal, record.id, fields, source=source,
                                expected_version=params.get("version"))
        return {"id": client.id, "applied": list(fields)}
    if not _from_api():
        query = f"?source={source}" if source else ""
        return {"redirect": f"/registries/fetch/{record.id}{query}"}
    proposal = services.fetch_proposal(dal.session, record, source)
    return {"proposal": {k: v for k, v in proposal.items() if k != "pkd_codes"},
            "diff": [{"field": r.field, "current": r.current, "proposed": r.proposed}
                     for r in services.diff(record, proposal, dal.session)]}


def _from_api() -> bool:
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover
        return True
    return not has_request_context() or request.path.startswith("/api/")


def _verify(dal, record, params):
    outcome = services.verify(dal, record.id)
    failed = [r for r in outcome.results if r.error]
    if failed and not _from_api():
        from flask import flash
        for r in failed:
            flash(f"{SOURCE_LABELS.get(r.source, r.source)}: {r.error}", "warning")
    return outcome.as_dict()


def _verify_bulk(dal, record, params):
    run = services.collect_for_bulk(dal, record.id)
    return {"run_id": run.id, "job_id": run.job_id,
            "redirect": f"/jobs/{run.job_id}?next=/registries/bulk/{run.id}"}


def register(ctx) -> None:
    ctx.permission(services.PERM_FETCH, "Rejestry: pobieranie danych z GUS/CEIDG",
                   "Registries: fetch data from GUS/CEIDG")
    ctx.permission(services.PERM_VERIFY, "Rejestry: weryfikacja VIES i białej listy",
                   "Registries: VIES and White List verification")
    ctx.permission(services.PERM_BULK, "Rejestry: weryfikacja zbiorcza",
                   "Registries: bulk verification")
    ctx.permission(services.PERM_SETTINGS, "Rejestry: ustawienia (klucze, adresy usług)",
                   "Registries: settings (keys, endpoints)")
    ctx.action(CLIENT, "registry_fetch", _fetch, label="Pobierz z GUS",
               label_en="Fetch from GUS", permission=services.PERM_FETCH, style="primary")
    ctx.action(CLIENT, "registry_verify", _verify, label="Weryfikuj",
               label_en="Verify", permission=services.PERM_VERIFY, style="success")
    ctx.action(CLIENT, "registry_verify_bulk", _verify_bulk,
               label="Weryfikuj w rejestrach (w tle)",
               label_en="Verify in registries (background)", permission=services.PERM_BULK,
               bulk=True)
