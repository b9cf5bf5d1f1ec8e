"""The Kernel: settings + database + plugins + registry, one object per process.

Lifecycle operations (install / upgrade / enable / disable / uninstall) run in one
database transaction each: migrations, state row, seed data and lifecycle hooks commit
together or not at all. Every state change bumps ``plugins.generation`` so every other
process rebuilds its registry on its next :meth:`Kernel.refresh` — no restart.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import logging
import threading
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from packaging.version import Version
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import __version__ as KERNEL_VERSION
from core import migrate
from core.config import Settings, load_settings
from core.db import Base, Database, utcnow
from core.errors import NotFoundError, PluginError
from core.manifest import Manifest
from core.models import KernelSetting, PluginState, SeedRecord
from core.plugins import (
    HookBus,
    call_one,
    check_graph,
    closure,
    dependents,
    discover,
    import_hookspecs,
    import_plugin,
    topo_order,
)
from core.registry import RegistrationContext, Registry

log = logging.getLogger("kartoteka.kernel")
GENERATION_KEY = "plugins.generation"
_current: ContextVar[Kernel | None] = ContextVar("kartoteka_kernel", default=None)


def table_owner(table: str, manifests: dict[str, Manifest] | Iterable[str]) -> str | None:
    """``core`` or the plugin owning ``table`` by its name prefix (longest match wins)."""
    if table.startswith("core_") or table == "alembic_version":
        return "core"
    best = None
    for name in manifests:
        if table.startswith(name + "_") and (best is None or len(name) > len(best)):
            best = name
    return best


def import_all_models(manifests: dict[str, Manifest]) -> None:
    """Import the kernel's tables and each plugin's ``models`` module (if it has one)."""
    for mod in ("core.models", "core.security.models", "core.records", "core.jobs_models"):
        if importlib.util.find_spec(mod) is not None:
            importlib.import_module(mod)
    for man in manifests.values():
        modname = f"{man.package}.models"
        try:
            spec = importlib.util.find_spec(modname)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            importlib.import_module(modname)


def plugin_tables(manifests: dict[str, Manifest], name: str) -> list[sa.Table]:
    import_all_models(manifests)
    return [t for t in Base.metadata.sorted_tables if table_owner(t.name, manifests) == name]


@dataclass
class Plan:
    """What a lifecycle operation would do (``kartoteka plugins plan``)."""

    operation: str
    targets: list[str]
    changes: list[tuple[str, str]] = field(default_factory=list)   # (plugin, "install"...)
    migrations: dict[str, list[str]] = field(default_factory=dict)
    ddl: dict[str, str] = field(default_factory=dict)
    exports: dict[str, dict[str, int]] = field(default_factory=dict)  # plugin -> table->rows
    extra_dependencies: list[str] = field(default_factory=list)
    licence_problems: list[str] = field(default_factory=list)

    def as_text(self) -> str:
        lines = [f"Plan: {self.operation} {', '.join(self.targets)}"]
        if self.extra_dependencies:
            lines.append("Dodatkowo (zależności): " + ", ".join(self.extra_dependencies))
        for plugin, what in self.changes:
            lines.append(f"  {plugin}: {what}")
        for plugin, revs in self.migrations.items():
            for r in revs:
                lines.append(f"  migracja {plugin}: {r}")
        for plugin, sql in self.ddl.items():
            if sql.strip():
                lines.append(f"  DDL {plugin}:")
                lines.extend("    " + ln for ln in sql.strip().splitlines() if ln.strip())
        for plugin, tables in self.exports.items():
            for t, n in tables.items():
                lines.append(f"  eksport {plugin}: {t} ({n} wierszy)")
        for p in self.licence_problems:
            lines.append(f"  LICENCJA: {p}")
        return "\n".join(lines)


class Kernel:
    def __init__(self, settings: Settings | None = None, *, manifests=None,
                 database: Database | None = None):
        self.settings = settings or load_settings()
        self.db = database or Database(self.settings.database_url)
        if manifests is None:
            reg = self.settings.addons_registry
            manifests = discover(Path(reg)) if reg else discover()
        self.manifests: dict[str, Manifest] = manifests
        check_graph(self.manifests, KERNEL_VERSION)
        self.registry = Registry()
        self.hooks = HookBus(trace=self.settings.trace_hooks)
        self.enabled: list[str] = []
        self.installed: dict[str, PluginState] = {}
        self.generation: int | None = None
        self._lock = threading.RLock()
        self.listeners: list = []   # callables(kernel) run after each rebuild
        from core.licensing import LicenseManager
        self.licensing = LicenseManager(self)

    # -- process-wide access ---------------------------------------------------------------

    @staticmethod
    def current() -> Kernel:
        k = _current.get()
        if k is None:
            raise RuntimeError("no active Kartoteka kernel")
        return k

    def activate(self) -> Kernel:
        _current.set(self)
        return self

    # -- database bootstrap ----------------------------------------------------------------

    def is_initialised(self) -> bool:
        if not getattr(self, "_initialised", False):
            self._initialised = sa.inspect(self.db.engine).has_table("core_plugin")
        return self._initialised

    def init_db(self) -> None:
        """Create/upgrade the kernel's own tables (branch ``core``)."""
        with self.db.engine.begin() as conn:
            migrate.upgrade(self.manifests, conn, "core@head")
        self.refresh(force=True)

    def upgrade_all(self) -> list[str]:
        """``kartoteka db upgrade``: the kernel, then every installed plugin to head."""
        self.init_db()
        done = []
        for name in topo_order(self.manifests, self.installed.keys()):
            done.append(self.upgrade(name))
        self.refresh(force=True)
        return [d for d in done if d]

    # -- state -----------------------------------------------------------------------------

    def _read_generation(self, session: Session | None = None) -> int:
        stmt = select(KernelSetting.value).where(KernelSetting.key == GENERATION_KEY)
        if session is not None:
            v = session.scalar(stmt)
        else:
            with self.db.engine.connect() as conn:
                v = conn.execute(stmt).scalar()
        return int(v or 0)

    def _bump_generation(self, session: Session) -> None:
        row = session.get(KernelSetting, GENERATION_KEY)
        if row is None:
            session.add(KernelSetting(key=GENERATION_KEY, value="1"))
        else:
            row.value = str(int(row.value or 0) + 1)
        session.flush()

    def refresh(self, force: bool = False) -> bool:
        """Rebuild hooks and registry if another process changed plugin state."""
        if not self.is_initialised():
            return False
        gen = self._read_generation()
        if not force and gen == self.generation:
            return False
        with self._lock:
            with self.db.Session() as s:
                states = {p.name: p for p in s.scalars(select(PluginState))}
            self._rebuild(states)
            self.generation = gen
        return True

    def _rebuild(self, states: dict[str, PluginState]) -> None:
        missing = sorted(n for n in states if n not in self.manifests)
        if missing:
            log.warning("installed plugins without code (skipped): %s", ", ".join(missing))
        self.installed = {n: st for n, st in states.items() if n in self.manifests}
        enabled = [n for n, st in self.installed.items() if st.enabled
                   and all(d in self.installed and self.installed[d].enabled
                           for d in self.manifests[n].dependency_names)]
        self.enabled = topo_order(self.manifests, enabled)
        self.hooks, self.registry = self._build(self.enabled)
        for fn in list(self.listeners):
            fn(self)

    def _build(self, names: list[str]) -> tuple[HookBus, Registry]:
        bus = HookBus(trace=self.settings.trace_hooks)
        for man in self.manifests.values():
            specs = import_hookspecs(man)
            if specs is not None:
                bus.add_specs(specs)
        import_all_models(self.manifests)
        bus.register([(n, import_plugin(self.manifests[n])) for n in names])
        registry = Registry()
        registry.plugins = list(names)
        caller = bus.pm.hook.kartoteka_register
        for impl in reversed(caller.get_hookimpls()):
            ctx = RegistrationContext(registry, impl.plugin_name, self)
            try:
                impl.function(ctx=ctx)
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(f"Wtyczka '{impl.plugin_name}': błąd rejestracji: "
                                  f"{type(exc).__name__}: {exc}") from exc
        return bus, registry

    def manifest(self, name: str) -> Manifest:
        try:
            return self.manifests[name]
        except KeyError:
            raise NotFoundError(f"Nieznana wtyczka '{name}'")

    def state_of(self, name: str) -> str:
        self.manifest(name)
        st = self.installed.get(name)
        if st is None:
            return "available"
        return "enabled" if st.enabled else "disabled"

    def is_enabled(self, name: str) -> bool:
        return name in self.enabled

    # -- planning --------------------------------------------------------------------------

    def plan(self, operation: str, names: Iterable[str], *, with_ddl: bool = True) -> Plan:
        self.refresh()
        names = list(names)
        for n in names:
            self.manifest(n)
        plan = Plan(operation, names)
        if operation == "install":
            need = closure(self.manifests, names)
            todo = topo_order(self.manifests, [n for n in need if n not in self.installed])
            plan.extra_dependencies = [n for n in todo if n not in names]
            for n in todo:
                plan.changes.append((n, "instalacja + włączenie"))
                problem = self.licensing.problem_for(self.manifests[n])
                if problem:
                    plan.licence_problems.append(problem)
            with self.db.engine.connect() as conn:
                for n in todo:
                    if migrate.has_branch(self.manifests, n):
                        plan.migrations[n] = migrate.pending_revisions(self.manifests, conn, n)
            if with_ddl:
                plan.ddl = self._offline_ddl(todo)
            for n in names:
                if n in self.installed:
                    plan.changes.append((n, "już zainstalowana"))
        elif operation == "uninstall":
            order = list(reversed(topo_order(self.manifests, names)))
            deps = dependents(self.manifests, names, self.installed.keys())
            if deps:
                plan.changes.append(("!", "odmowa: zależą od niej " + ", ".join(sorted(deps))))
            for n in order:
                if n not in self.installed:
                    plan.changes.append((n, "nie jest zainstalowana"))
                    continue
                plan.changes.append((n, "eksport danych + usunięcie tabel"))
                plan.exports[n] = self.table_counts(n)
                if with_ddl:
                    plan.ddl[n] = "\n".join(f"DROP TABLE {t};" for t in reversed(
                        list(plan.exports[n])))
                with self.db.engine.connect() as conn:
                    plan.migrations[n] = [
                        "cofnięcie " + r for r in migrate.applied_revisions(
                            self.manifests, conn, n)]
        elif operation == "upgrade":
            for n in topo_order(self.manifests, names):
                st = self.installed.get(n)
                if st is None:
                    plan.changes.append((n, "nie jest zainstalowana"))
                    continue
                code = self.manifests[n].version
                plan.changes.append((n, f"{st.version} → {code}"))
                with self.db.engine.connect() as conn:
                    plan.migrations[n] = migrate.pending_revisions(self.manifests, conn, n)
        else:
            raise PluginError(f"Nieznana operacja '{operation}' (install, uninstall, upgrade)")
        return plan

    def _offline_ddl(self, names: list[str]) -> dict[str, str]:
        """Render the CREATE statements the install would run, without touching the DB."""
        out = {}
        for n in names:
            tables = plugin_tables(self.manifests, n)
            dialect = self.db.engine.dialect
            stmts = [str(sa.schema.CreateTable(t).compile(dialect=dialect)).strip() + ";"
                     for t in tables]
            out[n] = "\n".join(stmts)
        return out

    def table_counts(self, name: str) -> dict[str, int]:
        insp = sa.inspect(self.db.engine)
        counts = {}
        with self.db.engine.connect() as conn:
            for t in plugin_tables(self.manifests, name):
                if insp.has_table(t.name):
                    counts[t.name] = conn.execute(
                        select(sa.func.count()).select_from(t)).scalar_one()
        return counts

    # -- lifecycle -------------------------------------------------------------------------

    def install(self, names: Iterable[str], *, user=None) -> list[str]:
        """Install (and enable) ``names`` and their missing dependencies, in order."""
        self.refresh()
        names = list(names)
        need = closure(self.manifests, names)
        todo = topo_order(self.manifests, [n for n in need if n not in self.installed])
        for n in todo:
            self.licensing.require(self.manifests[n])
        for n in todo:
            self._install_one(n, user=user)
        self.refresh(force=True)
        return todo

    def _install_one(self, name: str, user=None) -> None:
        man = self.manifests[name]
        with self.db.engine.begin() as conn:
            if migrate.has_branch(self.manifests, name):
                migrate.upgrade(self.manifests, conn, f"{name}@head")
            s = Session(bind=conn)
            s.add(PluginState(name=name, version=str(man.version), enabled=True))
            s.flush()
            enabled = topo_order(self.manifests, set(self.enabled) | {name})
            bus, registry = self._build(enabled)
            self.apply_seeds(s, registry, name)
            call_one(bus, name, "kartoteka_install", kernel=self, session=s)
            call_one(bus, name, "kartoteka_enable", kernel=self, session=s)
            self._bump_generation(s)
            self._security_event(s, "plugin.install", f"{name} {man.version}", user)
            s.flush()
        self.refresh(force=True)

    def upgrade(self, name: str, *, user=None) -> str | None:
        self.refresh()
        st = self.installed.get(name)
        if st is None:
            raise PluginError(f"Wtyczka '{name}' nie jest zainstalowana")
        man = self.manifests[name]
        old = st.version
        with self.db.engine.begin() as conn:
            if migrate.has_branch(self.manifests, name):
                migrate.upgrade(self.manifests, conn, f"{name}@head")
            if Version(old) == man.version:
                s = Session(bind=conn)
                self.apply_seeds(s, self._build(self.enabled)[1], name)
                s.flush()
                return None
            s = Session(bind=conn)
            row = s.get(PluginState, name)
            row.version = str(man.version)
            bus, registry = self._build(self.enabled)
            self.apply_seeds(s, registry, name)
            call_one(bus, name, "kartoteka_upgrade", kernel=self, session=s, from_version=old)
            self._bump_generation(s)
            self._security_event(s, "plugin.upgrade", f"{name} {old} -> {man.version}", user)
            s.flush()
        self.refresh(force=True)
        return f"{name}: {old} -> {man.version}"

    def enable(self, names: Iterable[str], *, user=None) -> list[str]:
        self.refresh()
        names = list(names)
        for n in names:
            if n not in self.installed:
                raise PluginError(f"Wtyczka '{n}' nie jest zainstalowana")
            for d in self.manifests[n].dependency_names:
                dep = self.installed.get(d)
                if d not in names and (dep is None or not dep.enabled):
                    raise PluginError(f"Nie można włączyć '{n}': zależność '{d}' jest "
                                      f"wyłączona lub niezainstalowana (włącz je razem)")
            self.licensing.require(self.manifests[n])
        with self.db.session() as s:
            order = topo_order(self.manifests, names)
            for n in order:
                s.get(PluginState, n).enabled = True
            s.flush()
            bus, _ = self._build(topo_order(self.manifests, set(self.enabled) | set(names)))
            for n in order:
                call_one(bus, n, "kartoteka_enable", kernel=self, session=s)
            self._bump_generation(s)
            self._security_event(s, "plugin.enable", ", ".join(order), user)
        self.refresh(force=True)
        return names

    def disable(self, names: Iterable[str], *, user=None) -> list[str]:
        self.refresh()
        names = list(names)
        for n in names:
            if n not in self.installed:
                raise PluginError(f"Wtyczka '{n}' nie jest zainstalowana")
        active = [n for n in self.enabled if n not in names]
        deps = dependents(self.manifests, names, active)
        if deps:
            raise PluginError(
                f"Nie można wyłączyć {', '.join(names)}: zależą od niej włączone wtyczki "
                f"{', '.join(sorted(deps))} (wyłącz je razem)")
        with self.db.session() as s:
            order = list(reversed(topo_order(self.manifests, names)))
            for n in order:
                if n in self.enabled:
                    call_one(self.hooks, n, "kartoteka_disable", kernel=self, session=s)
                s.get(PluginState, n).enabled = False
            self._bump_generation(s)
            self._security_event(s, "plugin.disable", ", ".join(order), user)
        self.refresh(force=True)
        return names

    def uninstall(self, names: Iterable[str], *, purge: bool = False, user=None,
                  export_format: str = "jsonl") -> Path | None:
        """Export the plugins' tables to ``var/exports/<stamp>-<names>/`` and drop them.
        Without ``purge``, refuse when any of the tables holds data."""
        self.refresh()
        names = list(names)
        for n in names:
            if n not in self.installed:
                raise PluginError(f"Wtyczka '{n}' nie jest zainstalowana")
        deps = dependents(self.manifests, names, self.installed.keys())
        if deps:
            raise PluginError(
                f"Nie można odinstalować {', '.join(names)}: zależą od niej "
                f"{', '.join(sorted(deps))} (odinstaluj je razem)")
        order = list(reversed(topo_order(self.manifests, names)))
        holding = {n: {t: c for t, c in self.table_counts(n).items() if c}
                   for n in order}
        holding = {n: t for n, t in holding.items() if t}
        if holding and not purge:
            detail = "; ".join(f"{n}: " + ", ".join(f"{t} ({c})" for t, c in t_.items())
                               for n, t_ in holding.items())
            raise PluginError(f"Wtyczka przechowuje dane ({detail}). Użyj --purge, aby "
                              f"wyeksportować je i usunąć tabele.")
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        folder = self.settings.exports_dir / f"{stamp}-{'-'.join(order)}"
        from core.exporting import export_plugin_data
        export_plugin_data(self, order, folder, export_format)
        with self.db.engine.begin() as conn:
            s = Session(bind=conn)
            for n in order:
                if n in self.enabled:
                    call_one(self.hooks, n, "kartoteka_uninstall", kernel=self, session=s)
            s.flush()
            for n in order:
                self._purge_core_rows(s, n)
                s.execute(sa.delete(SeedRecord).where(SeedRecord.plugin == n))
                s.delete(s.get(PluginState, n))
            s.flush()
            for n in order:
                if migrate.has_branch(self.manifests, n):
                    migrate.downgrade(self.manifests, conn, f"{n}@base")
            self._bump_generation(s)
            self._security_event(s, "plugin.uninstall",
                                 f"{', '.join(order)} (eksport: {folder})", user)
            s.flush()
        self.refresh(force=True)
        return folder

    def _purge_core_rows(self, s: Session, name: str) -> None:
        from core.records import Attachment, AuditEntry, Comment, Link
        prefix = name + "."
        for model, cols in ((Link, ("left_entity", "right_entity")),
                            (Comment, ("entity",)), (Attachment, ("entity",)),
                            (AuditEntry, ("entity",))):
            cond = sa.or_(*[getattr(model, c).startswith(prefix) for c in cols])
            s.execute(sa.delete(model).where(cond))
        from core.security.models import RolePermission
        s.execute(sa.delete(RolePermission).where(RolePermission.code.startswith(prefix)))
        from core.jobs import cancel_plugin_jobs
        cancel_plugin_jobs(s, name)

    def _security_event(self, s: Session, kind: str, detail: str, user=None) -> None:
        from core.security.models import SecurityEvent
        s.add(SecurityEvent(kind=kind, detail=detail,
                            user_id=getattr(user, "id", None),
                            login=getattr(user, "login", None)))

    # -- seed data -------------------------------------------------------------------------

    def apply_seeds(self, s: Session, registry: Registry, plugin: str) -> None:
        """Write ``plugin``'s seed data; on upgrade update only records the user left
        untouched since they were seeded."""
        from core.security.models import Role, RolePermission
        for code, seed in registry.roles.items():
            if seed.plugin != plugin:
                continue
            role = s.scalar(select(Role).where(Role.code == code))
            marker = s.scalar(select(SeedRecord).where(
                SeedRecord.plugin == plugin, SeedRecord.model == "core.role",
                SeedRecord.key == code))
            if role is None:
                role = Role(code=code, name=seed.name, name_en=seed.name_en, plugin=plugin)
                s.add(role)
                s.flush()
            previously = set(marker.values.get("permissions", [])) if marker else set()
            have = role.permission_codes
            for p in seed.permissions:
                if p not in previously and p not in have:
                    s.add(RolePermission(role_id=role.id, code=p))
            values = {"permissions": sorted(set(seed.permissions))}
            if marker is None:
                s.add(SeedRecord(plugin=plugin, model="core.role", key=code,
                                 record_id=role.id, values=values))
            else:
                marker.values = values
        for spec in registry.seeds:
            if spec.plugin != plugin:
                continue
            model_name = f"{spec.model.__module__}.{spec.model.__name__}"
            for rec in spec.records:
                keyval = str(rec[spec.key])
                marker = s.scalar(select(SeedRecord).where(
                    SeedRecord.plugin == plugin, SeedRecord.model == model_name,
                    SeedRecord.key == keyval))
                obj = s.get(spec.model, marker.record_id) if marker else s.scalar(
                    select(spec.model).where(getattr(spec.model, spec.key) == rec[spec.key]))
                written = json.loads(json.dumps(rec, default=str))
                if obj is None:
                    obj = spec.model(**rec)
                    s.add(obj)
                    s.flush()
                elif marker is not None:
                    current = json.loads(json.dumps(
                        {k: getattr(obj, k) for k in marker.values}, default=str))
                    if current != marker.values:
                        continue  # changed by a user: leave it alone
                    for k, v in rec.items():
                        setattr(obj, k, v)
                    s.flush()
                if marker is None:
                    s.add(SeedRecord(plugin=plugin, model=model_name, key=keyval,
                                     record_id=obj.id, values=written))
                else:
                    marker.values = written
        s.flush()

    # -- demo --------------------------------------------------------------------------------

    def load_demo(self) -> list[str]:
        self.refresh()
        done = []
        with self.db.session() as s:
            for plugin, fn in self.registry.demos:
                fn(self, s)
                done.append(plugin)
        return done

    # -- helpers -----------------------------------------------------------------------------

    def dal(self, session: Session, user):
        from core.dal import DataAccess
        return DataAccess(self, session, user)

    def now(self) -> dt.datetime:
        return utcnow()

    def close(self) -> None:
        self.db.dispose()
