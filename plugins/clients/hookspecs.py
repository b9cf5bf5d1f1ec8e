"""Events and questions the ``clients`` plugin emits; any plugin may answer them without
depending on ``clients`` being imported first (they are called through the hook bus)."""

from core.hookspecs import hookspec


@hookspec
def clients_converted(client, old_kind, new_kind, session, user):
    """A client changed kind (``person`` ⇄ ``company``); its id and relations are kept."""


@hookspec
def clients_credit_exposure(client_id, session):
    """The client's current credit exposure (open receivables) as a ``Decimal``, or None
    when the plugin does not know it. The sales plugin answers; the results are summed."""


@hookspec
def clients_personal_data(client_id, session):
    """Personal data your plugin holds about the client, for the GDPR right of access:
    return ``{"section title": [dict, ...]}`` or None."""


@hookspec
def clients_anonymise(client_id, session):
    """The client is being anonymised on request: erase personal data your plugin holds
    (keep documents intact; replace names/addresses only where the law allows)."""
