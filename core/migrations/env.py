"""The one alembic environment. Knows every plugin through the manifests handed in by
``core.migrate.alembic_config``; imports each plugin's ``models`` so autogenerate sees them."""

from __future__ import annotations


from alembic import context

from core.db import Base, is_unmanaged
from core.kernel import import_all_models, table_owner

config = context.config
connection = config.attributes.get("connection")
manifests = config.attributes.get("manifests") or {}
only_owner = config.attributes.get("only_owner")  # autogenerate for one plugin's tables

import_all_models(manifests)


def include_object(obj, name, type_, reflected, compare_to):
    if name == "alembic_version" or is_unmanaged(name):
        return False
    table = obj if type_ == "table" else getattr(obj, "table", None)
    tname = name if type_ == "table" else (table.name if table is not None else None)
    if tname is None:
        return True
    if only_owner is None:
        return True
    return table_owner(tname, manifests) == only_owner


def render_item(type_, obj, autogen_context):
    # keep UTCDateTime portable in generated revisions
    if type_ == "type" and obj.__class__.__name__ == "UTCDateTime":
        autogen_context.imports.add("import core.db")
        return "core.db.UTCDateTime()"
    return False


def run() -> None:
    if connection is None:
        context.configure(url=config.get_main_option("sqlalchemy.url") or "sqlite://",
                          target_metadata=Base.metadata, literal_binds=True,
                          include_object=include_object, render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
        return
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        render_item=render_item,
        compare_type=True,
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
