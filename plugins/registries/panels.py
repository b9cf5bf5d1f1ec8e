"""The verification section of the client information panel (slot
``clients.client.detail.panels``): the latest result per source with its age, and the
badge (``#kt-registries-badge``, ``data-state`` = ok | warning | stale | unknown)."""

from __future__ import annotations

from flask import render_template
from markupsafe import Markup

from core.i18n import format_date, format_datetime
from core.security.access import has_permission

from . import services
from .models import SOURCE_LABELS, VIES, WHITELIST


def _panel(ctx):
    client = ctx.record
    state = services.panel_state(ctx.session, client.id)
    rows = []
    for source in (WHITELIST, VIES):
        latest = state["latest"].get(source)
        good = state["good"].get(source)
        rows.append({"source": source, "label": SOURCE_LABELS[source], "latest": latest,
                     "good": good, "age": services.age_days(good.checked_at) if good else None,
                     "checked": format_datetime(good.checked_at, lang=ctx.lang) if good else "",
                     "accounts": ((good.data or {}).get("accounts") or []) if good else []})
    from .models import CompanyData
    facet = ctx.session.get(CompanyData, client.id)
    history = [{"when": format_datetime(v.checked_at, lang=ctx.lang), "source": v.source,
                "label": SOURCE_LABELS.get(v.source, v.source), "status": v.status,
                "text": v.error or v.summary, "request_id": v.request_id}
               for v in services.history(ctx.session, client.id, limit=10)]
    return Markup(render_template(
        "registries/panel.html", client=client, state=state, rows=rows, facet=facet,
        fetched_on=format_date(facet.fetched_on, lang=ctx.lang) if facet else "",
        history=history,
        format_nrb=services.format_nrb,
        can_verify=has_permission(ctx.user, services.PERM_VERIFY),
        can_fetch=has_permission(ctx.user, services.PERM_FETCH)))


def _widget(ctx):
    """Dashboard: clients whose last White List check found a problem."""
    import sqlalchemy as sa

    from .models import WARNING, Verification
    sub = sa.select(Verification.client_id, sa.func.max(Verification.id).label("last")) \
        .where(Verification.source == WHITELIST, Verification.status != "error") \
        .group_by(Verification.client_id).subquery()
    return ctx.dal.session.scalar(sa.select(sa.func.count()).select_from(Verification).join(
        sub, Verification.id == sub.c.last).where(Verification.status.in_(
            [WARNING, "not_found"])))


def register(ctx) -> None:
    ctx.slot("clients.client.detail.panels", "registries", label="Rejestry: weryfikacja VAT",
             label_en="Registries: VAT verification", render=_panel, order=5,
             permission="registries.verification.read")
    ctx.extend("dashboard_widgets", {
        "name": "registries_warnings", "title": "Klienci z ostrzeżeniem z białej listy VAT",
        "title_en": "Clients with a VAT White List warning", "kind": "count",
        "data": _widget, "url": "/e/registries.verification/?status=warning",
        "permission": "registries.verification.read", "icon": "shield-exclamation"})
