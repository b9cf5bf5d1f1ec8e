"""Sections of the client information panel ("Informator o kliencie") contributed by
``clients``; other plugins add theirs to the slot ``clients.client.detail.panels``."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from markupsafe import Markup

from core.i18n import format_decimal, format_money

from . import services
from .models import CHANNELS, PAYMENT_METHODS, Client, Reminder

CLIENT = "clients.client"


def _organisation(ctx):
    s, client = ctx.session, ctx.record
    head = s.get(Client, client.head_office_id) if client.head_office_id else None
    branches = list(s.scalars(sa.select(Client).where(Client.head_office_id == client.id)
                              .order_by(Client.name).limit(200)))
    payer = services.payer_for(s, client.id)
    terms = services.effective_terms(s, client.id)
    exposure = services.credit_exposure(ctx.kernel, s, client.id)
    names = {c.id: c.name for c in [head, payer, *branches] if c is not None}
    for cid in terms.inherited_from.values():
        if cid not in names:
            other = s.get(Client, cid)
            names[cid] = other.name if other else f"#{cid}"
    currency = terms.currency or "PLN"
    labels = {f: ctx.entity.fields[f].text(ctx.lang) for f in services.TERMS}
    return Markup(render_template(
        "clients/panel_organisation.html", client=client, head=head, branches=branches,
        payer=payer, terms=terms, names=names, labels=labels, methods=dict(PAYMENT_METHODS),
        limit=format_money(terms.credit_limit, currency, ctx.lang)
        if terms.credit_limit is not None else None,
        exposure=format_money(exposure, currency, ctx.lang) if exposure is not None else None,
        discount=format_decimal(terms.discount_percent or 0, 2, ctx.lang)))


def _contact(ctx):
    checks = [(label, services.can_contact(ctx.session, ctx.record.id, channel))
              for channel, label in CHANNELS if channel in services.CHANNEL_PURPOSE]
    return Markup(render_template("clients/panel_contact.html", checks=checks,
                                  client=ctx.record))


def _reminders(ctx):
    rows = list(ctx.session.scalars(sa.select(Reminder).where(
        Reminder.client_id == ctx.record.id, Reminder.done.is_(False)
    ).order_by(Reminder.due_on).limit(20)))
    if not rows:
        return None
    return [(f"{r.due_on:%d.%m.%Y}", r.text) for r in rows]


def _upcoming_widget(ctx):
    return len(services.upcoming_reminders(ctx.session, ctx.user.id, days=14))


def register(ctx) -> None:
    ctx.slot(f"{CLIENT}.detail.panels", "organisation", label="Struktura i warunki handlowe",
             label_en="Organisation and terms", render=_organisation, order=10)
    ctx.slot(f"{CLIENT}.detail.panels", "contact", label="Zgody na kontakt (RODO)",
             label_en="Contact consents (GDPR)", render=_contact, order=20)
    ctx.slot(f"{CLIENT}.detail.panels", "reminders", label="Zbliżające się daty",
             label_en="Upcoming dates", render=_reminders, order=30)
    ctx.extend("dashboard_widgets", {
        "name": "clients_reminders", "title": "Moje przypomnienia o datach (14 dni)",
        "title_en": "My date reminders (14 days)", "kind": "count",
        "data": _upcoming_widget, "url": "/e/clients.reminder/?done=false",
        "permission": "clients.reminder.read", "icon": "calendar-heart"})
    ctx.extend("dashboard_widgets", {
        "name": "clients_potential", "title": "Klienci potencjalni",
        "title_en": "Potential clients", "kind": "count",
        "data": lambda c: c.dal.session.scalar(sa.select(sa.func.count()).select_from(
            c.dal.filtered(CLIENT, filters={"segment": "potential"}).subquery())),
        "url": "/e/clients.client/?segment=potential", "permission": "clients.client.read",
        "icon": "person-plus"})
