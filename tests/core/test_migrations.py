"""Every plugin's models match its migrations (no drift), and migrations go up and down."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core import migrate
from core.db import Base, is_unmanaged, make_engine
from core.kernel import import_all_models, table_owner
from core.plugins import discover

from .helpers import FIXTURE_REGISTRY

IN_TREE = discover()
FIXTURES = discover(FIXTURE_REGISTRY)
CASES = [("core", IN_TREE)] + [(n, IN_TREE) for n in sorted(IN_TREE)] + \
    [(n, FIXTURES) for n in ("alpha", "beta")]


def _owned(obj, name, type_, owner, manifests) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    if is_unmanaged(name) or is_unmanaged(table):
        return False
    if type_ in ("table", "column", "index", "unique_constraint", "foreign_key_constraint") \
            and name != "alembic_version":
        return table_owner(table, manifests) == owner
    return True


def _drift(url: str, owner: str, manifests) -> list:
    engine = make_engine(url)
    import_all_models(manifests)
    targets = ["core@head"]
    if owner != "core" and migrate.has_branch(manifests, owner):
        targets.append(f"{owner}@head")
    with engine.begin() as conn:
        for t in targets:
            migrate.upgrade(manifests, conn, t)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_object": lambda obj, name, type_, reflected, compare_to: _owned(
                obj, name, type_, owner, manifests),
        })
        diffs = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    return diffs


@pytest.mark.parametrize("owner,manifests", CASES, ids=[c[0] for c in CASES])
def test_models_match_migrations(db_url, owner, manifests):
    diffs = _drift(db_url, owner, manifests)
    assert diffs == [], f"{owner}: models and migrations differ: {diffs}"


def test_branch_upgrade_and_downgrade_roundtrip(db_url):
    engine = make_engine(db_url)
    with engine.begin() as conn:
        migrate.upgrade(FIXTURES, conn, "core@head")
        migrate.upgrade(FIXTURES, conn, "beta@head")      # pulls alpha in (depends_on)
    insp = sa.inspect(engine)
    assert insp.has_table("alpha_thing") and insp.has_table("beta_thing_extra")
    with engine.begin() as conn:
        migrate.downgrade(FIXTURES, conn, "beta@base")
    insp = sa.inspect(engine)
    assert insp.has_table("alpha_thing") and not insp.has_table("beta_thing_extra")
    engine.dispose()
