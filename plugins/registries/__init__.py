"""Rejestry: GUS (REGON), CEIDG, VIES and the VAT White List for the client base.

Hook implementations only; the protocol clients live in ``sources``, the rules in
``services``, the pages in ``views``.
"""

from __future__ import annotations

from core import hookimpl

from . import services
from .config import get_settings
from .registration import register


@hookimpl
def kartoteka_register(ctx):
    register(ctx)


@hookimpl
def kartoteka_install(kernel, session):
    get_settings(session)          # the settings row with the defaults (test endpoints)


@hookimpl
def kartoteka_record_replaced(entity, old_id, new_id, session):
    if entity == services.CLIENT:
        services.move_client(session, old_id, new_id)


@hookimpl
def clients_personal_data(client_id, session):
    return services.personal_data(session, client_id)


@hookimpl
def clients_anonymise(client_id, session):
    services.anonymise(session, client_id)


@hookimpl
def sales_before_issue(document_entity, document_id, client_id, amount, iban, session, user):
    """Asked by the sales plugin before it issues a document: for an amount above the
    threshold (15,000 PLN by default) the client's account is checked on the VAT White List
    for today and the result is stored with the document and returned. Raises a
    ConflictError (the veto) only when the settings block on a failed check."""
    return services.check_payment_account(
        session, client_id, iban, amount, document_entity=document_entity,
        document_id=document_id, user_id=getattr(user, "id", None))
