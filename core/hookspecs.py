"""The plugin API: every kernel hook, in one file.

A plugin implements hooks with ``@hookimpl`` in its package ``__init__``::

    from core import hookimpl

    @hookimpl
    def kartoteka_register(ctx):
        ctx.entity(Offer, label="Oferta", label_en="Offer", search_fields=["number"])

Hooks are called in dependency order (a plugin's dependencies answer first), only for
enabled plugins. An exception in an implementation is reported as a ``HookError`` naming
the plugin; a ``DomainError`` passes through unchanged (that is how vetoing hooks veto).

Domain events are hooks too, declared by the plugin that emits them: its manifest names a
module (``hookspecs = "plugins.sales.hookspecs"``) with ``@hookspec`` functions; any
plugin may implement them without depending on the emitter.
"""

from __future__ import annotations

import pluggy

PROJECT = "kartoteka"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# -- registration -------------------------------------------------------------------------

@hookspec
def kartoteka_register(ctx):
    """Register everything the plugin contributes on the typed ``RegistrationContext``:
    ``ctx.entity``, ``ctx.facet``, ``ctx.permission``, ``ctx.role``, ``ctx.record_rule``,
    ``ctx.field_rule``, ``ctx.view``, ``ctx.menu``, ``ctx.slot``, ``ctx.action``,
    ``ctx.job``, ``ctx.schedule``, ``ctx.print_template``, ``ctx.blueprint``,
    ``ctx.seed``, ``ctx.demo``. Called whenever the set of enabled plugins changes; must
    be free of side effects other than registration."""


# -- lifecycle ----------------------------------------------------------------------------

@hookspec
def kartoteka_install(kernel, session):
    """After the plugin's tables were created (migrations ran) and before its state is
    committed. Seed data declared with ``ctx.seed`` is written by the kernel already."""


@hookspec
def kartoteka_upgrade(kernel, session, from_version):
    """After the plugin's migrations were upgraded from ``from_version`` (a string)."""


@hookspec
def kartoteka_enable(kernel, session):
    """After the plugin was enabled (also right after install)."""


@hookspec
def kartoteka_disable(kernel, session):
    """Before the plugin is disabled. Raise a DomainError to refuse."""


@hookspec
def kartoteka_uninstall(kernel, session):
    """Before the plugin's data is exported and its tables are dropped."""


# -- data access (called by the data-access layer for every entity) -----------------------

@hookspec
def kartoteka_before_create(entity, record, values, session, user):
    """Before a record is inserted. Raise DomainError to veto; nothing is written."""


@hookspec
def kartoteka_after_create(entity, record, session, user):
    """After a record is inserted (same transaction)."""


@hookspec
def kartoteka_before_update(entity, record, changes, session, user):
    """Before an update; ``changes`` maps field -> (old, new). Raise DomainError to veto."""


@hookspec
def kartoteka_after_update(entity, record, changes, session, user):
    """After an update (same transaction)."""


@hookspec
def kartoteka_before_delete(entity, record, session, user):
    """Before a delete. Raise DomainError to veto (e.g. the record is still in use)."""


@hookspec
def kartoteka_after_delete(entity, record, session, user):
    """After a delete (same transaction)."""


# -- integration ----------------------------------------------------------------------------

@hookspec
def kartoteka_cli(group):
    """Add click commands to the ``kartoteka`` command group."""


@hookspec
def kartoteka_record_replaced(entity, old_id, new_id, session):
    """A record was merged into another (``old_id`` → ``new_id``): move your references.
    Called for every entity whose records can be merged (e.g. clients)."""
