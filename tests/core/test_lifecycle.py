"""Plugin lifecycle: install with dependencies, plan, enable/disable, uninstall with export,
upgrade, seed data ownership, state shared between processes."""

import json

import pytest
import sqlalchemy as sa

from core.errors import LicenseError, PluginError
from core.kernel import Kernel
from core.models import PluginState

from .helpers import FIXTURE_REGISTRY


@pytest.fixture
def kf(kernel_factory):
    def make(install=()):
        return kernel_factory(install=install, registry_file=FIXTURE_REGISTRY)
    make.factory = kernel_factory
    return make


def second_process(k: Kernel) -> Kernel:
    """Another process of the same deployment: same database, own registry."""
    other = Kernel(k.settings, manifests=k.manifests)
    other.refresh(force=True)
    return other


def test_install_installs_missing_dependencies_in_order(kf):
    from tests.fixtures.plugins import alpha
    alpha.calls.clear()
    k = kf()
    plan = k.plan("install", ["beta"])
    assert plan.extra_dependencies == ["alpha"]
    assert [c[0] for c in plan.changes] == ["alpha", "beta"]
    assert any("alpha_0001" in r for r in plan.migrations["alpha"])
    assert "CREATE TABLE alpha_thing" in plan.ddl["alpha"]
    assert not sa.inspect(k.db.engine).has_table("alpha_thing")  # dry run wrote nothing
    assert k.install(["beta"]) == ["alpha", "beta"]
    assert k.enabled == ["alpha", "beta"]
    assert sa.inspect(k.db.engine).has_table("beta_thing_extra")
    assert ("install", "alpha") in alpha.calls and ("enable", "alpha") in alpha.calls
    assert "alpha.thing" in k.registry.entities
    assert "extra" in k.registry.entity("alpha.thing").facets


def test_state_change_seen_by_other_process_without_restart(kf):
    k = kf(install=["beta"])
    other = second_process(k)
    assert "extra" in other.registry.entity("alpha.thing").facets
    k.disable(["beta"])
    assert other.refresh() is True           # generation changed
    assert "beta" not in other.enabled
    assert "extra" not in other.registry.entity("alpha.thing").facets
    assert other.refresh() is False          # nothing new
    other.close()


def test_disable_refused_while_dependents_enabled(kf):
    k = kf(install=["beta"])
    with pytest.raises(PluginError) as exc:
        k.disable(["alpha"])
    assert "beta" in exc.value.message
    k.disable(["alpha", "beta"])
    assert k.enabled == []
    assert k.state_of("alpha") == "disabled"
    # data kept, hidden everywhere
    assert sa.inspect(k.db.engine).has_table("alpha_thing")
    assert "alpha.thing" not in k.registry.entities
    assert k.hooks.implementers("kartoteka_before_delete") == []
    k.enable(["alpha"])
    assert k.enabled == ["alpha"]


def test_enable_refused_when_dependency_disabled(kf):
    k = kf(install=["beta"])
    k.disable(["alpha", "beta"])
    with pytest.raises(PluginError, match="'alpha'"):
        k.enable(["beta"])
    k.enable(["alpha", "beta"])
    assert k.enabled == ["alpha", "beta"]


def test_uninstall_refuses_with_data_then_exports_and_drops(kf):
    k = kf(install=["beta"])
    with k.db.session() as s:
        dal = k.dal(s, kf.factory.admin(s))
        t = dal.create("alpha.thing", {"name": "Młotek", "code": "M1",
                                       "extra": {"colour": "czerwony"}})
        from core.records import RecordRef, add_comment
        add_comment(s, RecordRef("alpha.thing", t.id), "Uwaga!", author_id=None)
    with pytest.raises(PluginError, match="beta"):
        k.uninstall(["alpha"])                       # dependents
    with pytest.raises(PluginError, match="--purge"):
        k.uninstall(["alpha", "beta"])               # holds data
    assert sa.inspect(k.db.engine).has_table("alpha_thing")
    plan = k.plan("uninstall", ["alpha", "beta"])
    assert plan.exports["alpha"]["alpha_thing"] == 2  # seed + ours
    assert "DROP TABLE beta_thing_extra;" in plan.as_text()
    folder = k.uninstall(["alpha", "beta"], purge=True)
    rows = [json.loads(x) for x in (folder / "alpha_thing.jsonl").read_text().splitlines()]
    assert {r["name"] for r in rows} == {"Młotek", "Ziarno"}
    extra = [json.loads(x) for x in (folder / "beta_thing_extra.jsonl").read_text().splitlines()]
    assert extra[0]["colour"] == "czerwony"
    comments = (folder / "alpha__core_comment.jsonl").read_text()
    assert "Uwaga!" in comments
    insp = sa.inspect(k.db.engine)
    assert not insp.has_table("alpha_thing") and not insp.has_table("beta_thing_extra")
    assert k.state_of("alpha") == "available"
    with k.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(
            sa.table("core_comment"))) == 0
    # reinstall works from scratch
    k.install(["alpha"])
    assert k.enabled == ["alpha"]


def test_uninstall_csv_export(kf):
    k = kf(install=["alpha"])
    folder = k.uninstall(["alpha"], purge=True, export_format="csv")
    lines = (folder / "alpha_thing.csv").read_text().splitlines()
    assert lines[0].startswith("name,code") and "Ziarno" in lines[1]


def test_upgrade_runs_when_code_is_newer_and_keeps_user_changes(kf):
    k = kf(install=["alpha"])
    from tests.fixtures.plugins.alpha.models import Thing
    with k.db.session() as s:
        seeded = s.scalar(sa.select(Thing).where(Thing.code == "SEED1"))
        assert seeded.name == "Ziarno"
        s.get(PluginState, "alpha").version = "0.9.0"   # the database is behind the code
    k.refresh(force=True)
    assert k.plan("upgrade", ["alpha"]).changes == [("alpha", "0.9.0 → 1.0.0")]
    assert k.upgrade("alpha") == "alpha: 0.9.0 -> 1.0.0"
    assert k.installed["alpha"].version == "1.0.0"
    # seed changed in code: record untouched by the user is updated...
    from core.registry import SeedSpec
    seed = next(x for x in k.registry.seeds if x.plugin == "alpha")
    assert isinstance(seed, SeedSpec)
    seed.records[0] = {"code": "SEED1", "name": "Ziarno v2", "qty": 1}
    with k.db.session() as s:
        k.apply_seeds(s, k.registry, "alpha")
    with k.db.session() as s:
        rec = s.scalar(sa.select(Thing).where(Thing.code == "SEED1"))
        assert rec.name == "Ziarno v2"
        rec.name = "Moje ziarno"                        # ...but a user's change is kept
    seed.records[0] = {"code": "SEED1", "name": "Ziarno v3", "qty": 1}
    with k.db.session() as s:
        k.apply_seeds(s, k.registry, "alpha")
    with k.db.session() as s:
        assert s.scalar(sa.select(Thing.name).where(Thing.code == "SEED1")) == "Moje ziarno"


def test_seeded_roles_created(kf):
    k = kf(install=["alpha"])
    from core.security.models import Role
    with k.db.session() as s:
        role = s.scalar(sa.select(Role).where(Role.code == "alpha_all"))
        assert role.plugin == "alpha"
        assert "alpha.thing.delete" in role.permission_codes


def test_pro_plugin_needs_licence(kf, license_issuer):
    k = kf()
    with pytest.raises(LicenseError, match="PRO"):
        k.install(["gamma"])
    assert k.state_of("gamma") == "available"
    k.licensing.install(json.dumps(license_issuer(edition="standard")))
    with pytest.raises(LicenseError, match="PRO"):
        k.install(["gamma"])
    k.licensing.install(json.dumps(license_issuer(edition="pro")))
    k.install(["gamma"])
    assert k.state_of("gamma") == "enabled"


def test_install_is_atomic_when_a_hook_fails(kf, monkeypatch):
    from tests.fixtures.plugins import alpha
    k = kf()

    def broken(kernel, session):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(alpha.kartoteka_install, "__code__", broken.__code__)
    with pytest.raises(Exception) as exc:
        k.install(["alpha"])
    assert "alpha" in str(exc.value)
    assert k.state_of("alpha") == "available"
    assert not sa.inspect(k.db.engine).has_table("alpha_thing")


def test_unknown_plugin_is_a_clear_error(kf):
    k = kf()
    with pytest.raises(PluginError, match="Nieznana wtyczka 'nope'"):
        k.install(["nope"])
