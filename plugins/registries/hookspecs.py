"""Events the ``registries`` plugin emits; any plugin may implement them without depending
on ``registries`` (they are called through the hook bus, only while it is enabled)."""

from core.hookspecs import hookspec


@hookspec
def registries_client_verified(client_id, results, session, user_id):
    """A client was checked in the registries (by a user, a bulk run or the schedule).
    ``results`` is a list of dicts: ``source`` (``vies`` | ``whitelist``), ``status``
    (``ok`` | ``warning`` | ``not_found`` | ``error``), ``summary``, ``number``,
    ``request_id``, ``error``. Called in the same transaction as the recorded results."""
