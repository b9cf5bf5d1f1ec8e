"""The shared client base: hook implementations (registration, data rules, events).

The rules themselves live in ``services``; the web pages in ``views``; the import in
``importer``.
"""

from __future__ import annotations

import sqlalchemy as sa

from core import hookimpl
from core.errors import ConflictError, ValidationError

from . import services, validation
from .models import Accounting, Address, BankAccount, Client, PrintSettings
from .registration import register

CLIENT = "clients.client"


@hookimpl
def kartoteka_register(ctx):
    register(ctx)


# -- data rules (called by the data-access layer) ---------------------------------------------

def _default_flag(session, model, record, kind_field: str | None = None) -> None:
    """Only one default row per client (and per kind, for addresses)."""
    if not getattr(record, "is_default", False):
        return
    stmt = sa.update(model).where(model.client_id == record.client_id, model.id != record.id)
    if kind_field:
        stmt = stmt.where(getattr(model, kind_field) == getattr(record, kind_field))
    session.execute(stmt.values(is_default=False).execution_options(
        synchronize_session=False))


def _fill_from_template(session, record: Client, values: dict) -> None:
    template = None
    if record.template_id:
        template = session.get(services.ClientTemplate, record.template_id)
    if template is None and "template_id" not in values:
        template = services.default_template(session, record.kind or "company")
        if template is not None:
            record.template_id = template.id
    if template is None:
        return
    for name, value in services.template_values(template).items():
        if name in ("accounting", "template_id", "kind") or name in values:
            continue
        setattr(record, name, value)
        values[name] = value


def _check_facets(session, record: Client) -> None:
    ps = session.get(PrintSettings, record.id)
    if ps is not None:
        for f in ("documents_email", "sms_phone"):
            try:
                setattr(ps, f, validation.VALIDATORS[f](getattr(ps, f), field=f))
            except ValidationError as exc:
                raise ValidationError(exc.message, field=f"printing.{f}")


def _client_template_accounting(session, record: Client) -> None:
    """The template's accounting parameters for what the new client left empty."""
    if not record.template_id:
        return
    template = session.get(services.ClientTemplate, record.template_id)
    acc = services.template_values(template).get("accounting") if template else None
    if not acc:
        return
    row = session.get(Accounting, record.id)
    if row is None:
        session.add(Accounting(client_id=record.id, **acc))
        return
    for k, v in acc.items():
        if getattr(row, k) in (None, ""):
            setattr(row, k, v)


@hookimpl
def kartoteka_before_create(entity, record, values, session, user):
    key = entity.key
    if key == CLIENT:
        _fill_from_template(session, record, values)
        services.prepare(session, record, values)
        for k, v in values.items():
            if k in entity.fields:
                setattr(record, k, v)
        record.search_text = services.search_text_of(services._client_values(record))
    elif key == "clients.contact":
        for f in ("email", "phone"):
            setattr(record, f, validation.VALIDATORS[f](getattr(record, f), field=f))
    elif key == "clients.address":
        record.postal_code = validation.postal_code(record.postal_code, record.country)
        if record.country:
            record.country = record.country.upper()
    elif key == "clients.bank_account":
        record.iban = validation.iban(record.iban)
        if not record.iban:
            raise ValidationError("Numer rachunku (IBAN): podaj numer.", field="iban")
    elif key == "clients.consent":
        _check_consent(record.given_at, record.withdrawn_at, record.purpose)


def _check_consent(given, withdrawn, purpose) -> None:
    if purpose not in dict(services.PURPOSES):
        raise ValidationError("Zgoda: nieznany cel.", field="purpose")
    if withdrawn is not None and given is not None and withdrawn < given:
        raise ValidationError("Data wycofania zgody nie może być wcześniejsza niż data jej "
                              "udzielenia.", field="withdrawn_at")


@hookimpl
def kartoteka_after_create(entity, record, session, user):
    if entity.key == CLIENT:
        _client_template_accounting(session, record)
    _after_write(entity.key, record, session)


def _after_write(key: str, record, session) -> None:
    """After a create or update: facets checked, one default row, search text fresh."""
    if key == CLIENT:
        _check_facets(session, record)
    elif key == "clients.address":
        _default_flag(session, Address, record, "kind")
        services.refresh_search_text(session, record.client_id)
    elif key == "clients.bank_account":
        _default_flag(session, BankAccount, record)


@hookimpl
def kartoteka_before_update(entity, record, changes, session, user):
    key = entity.key
    if key == CLIENT:
        values = {k: new for k, (_old, new) in changes.items() if "." not in k}
        services.prepare(session, record, values)
        for k, v in values.items():
            if k in entity.fields and getattr(record, k) != v:
                changes[k] = (getattr(record, k), v)
            elif k in changes and getattr(record, k) == v:
                changes.pop(k)
        merged = services._client_values(record)
        merged.update({k: v for k, (_o, v) in changes.items() if k in merged})
        record.search_text = services.search_text_of(merged,
                                                     services.main_city(session, record.id))
    elif key in ("clients.contact", "clients.address", "clients.bank_account"):
        for f, (old, new) in list(changes.items()):
            if f == "postal_code":
                country = changes.get("country", (None, record.country))[1]
                changes[f] = (old, validation.postal_code(new, country))
            elif f in validation.VALIDATORS:
                changes[f] = (old, validation.VALIDATORS[f](new, field=f))
        if key == "clients.bank_account" and "iban" in changes and not changes["iban"][1]:
            raise ValidationError("Numer rachunku (IBAN): podaj numer.", field="iban")
    elif key == "clients.consent":
        get = lambda f: changes[f][1] if f in changes else getattr(record, f)  # noqa: E731
        _check_consent(get("given_at"), get("withdrawn_at"), get("purpose"))


@hookimpl
def kartoteka_after_update(entity, record, changes, session, user):
    _after_write(entity.key, record, session)


@hookimpl
def kartoteka_before_delete(entity, record, session, user):
    if entity.key == CLIENT:
        branches = session.scalar(sa.select(sa.func.count()).select_from(Client).where(
            Client.head_office_id == record.id))
        if branches:
            raise ConflictError(f"{record.name} jest centralą {branches} oddziału(-ów); "
                                f"najpierw odłącz lub usuń oddziały.")


@hookimpl
def kartoteka_after_delete(entity, record, session, user):
    if entity.key == "clients.address":
        services.refresh_search_text(session, record.client_id)


# -- events of other plugins --------------------------------------------------------------------

@hookimpl
def sales_document_issued(client_id, session):
    """The first sales document turns a potential client into a standard one."""
    services.promote_to_standard(session, client_id,
                                 reason="Pierwszy dokument sprzedaży dla klienta potencjalnego")
