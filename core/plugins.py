"""Plugin discovery, dependency graph, hook bus and lifecycle.

Discovery reads ``addons_registry.toml`` (in-tree plugins) and the entry point group
``kartoteka.plugins`` (pip packages); both give :class:`~core.manifest.Manifest` objects.
State (installed version, enabled) lives in ``core_plugin`` so every process agrees.
"""

from __future__ import annotations

import heapq
import importlib
import importlib.metadata
import importlib.util
import logging
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pluggy
from packaging.version import Version

from core import hookspecs
from core.errors import DomainError, HookError, ManifestError, PluginError
from core.manifest import Manifest, parse_manifest

log = logging.getLogger("kartoteka.plugins")
ENTRY_POINT_GROUP = "kartoteka.plugins"
REPO_ROOT = Path(__file__).resolve().parent.parent
REGISTRY_FILE = REPO_ROOT / "addons_registry.toml"


# -- discovery ------------------------------------------------------------------------------

def read_addons_registry(path: Path = REGISTRY_FILE) -> tuple[dict[str, dict], dict]:
    """The in-tree catalogue: ``{name: {"path": ..., "edition": ...}}`` and editions."""
    if not path.exists():
        return {}, {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: błąd składni TOML: {exc}")
    return data.get("plugins", {}), data.get("editions", {})


def discover(registry_file: Path = REGISTRY_FILE,
             extra_paths: Iterable[Path] = ()) -> dict[str, Manifest]:
    found: dict[str, Manifest] = {}
    entries, _ = read_addons_registry(registry_file)
    for name, entry in sorted(entries.items()):
        rel = entry.get("path", f"plugins/{name}")
        pdir = (registry_file.parent / rel).resolve()
        package = entry.get("package", ".".join(Path(rel).parts))
        man = parse_manifest(pdir / "plugin.toml", package, "registry", entry.get("edition"))
        if man.name != name:
            raise ManifestError(f"{pdir / 'plugin.toml'}: klucz 'name': '{man.name}' "
                                f"nie zgadza się z wpisem '{name}' w {registry_file.name}")
        found[name] = man
    for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP),
                     key=lambda e: e.name):
        spec = importlib.util.find_spec(ep.value.split(":")[0])
        if spec is None or not spec.submodule_search_locations:
            raise ManifestError(f"Punkt wejścia '{ep.name}' ({ep.value}): pakiet nie istnieje")
        pdir = Path(list(spec.submodule_search_locations)[0])
        man = parse_manifest(pdir / "plugin.toml", ep.value.split(":")[0], "entry_point")
        if man.name in found:
            raise PluginError(f"Wtyczka '{man.name}' występuje dwukrotnie "
                              f"({found[man.name].path} i {pdir})")
        found[man.name] = man
    for pdir in extra_paths:
        man = parse_manifest(Path(pdir) / "plugin.toml", Path(pdir).name, "path")
        found[man.name] = man
    return found


# -- dependency graph -----------------------------------------------------------------------

def check_graph(manifests: dict[str, Manifest], kernel_version: str) -> None:
    """Refuse loudly: missing dependency, unmet version constraint, kernel mismatch, cycle."""
    kv = Version(kernel_version)
    for m in manifests.values():
        if m.kernel and kv not in m.kernel:
            raise PluginError(f"Wtyczka '{m.name}' wymaga jądra {m.kernel}, "
                              f"a zainstalowane jest {kernel_version}")
        for dep in m.depends:
            if dep.name not in manifests:
                raise PluginError(f"Wtyczka '{m.name}' wymaga wtyczki '{dep.name}', "
                                  f"której nie ma w systemie")
            have = manifests[dep.name].version
            if dep.specifier and have not in dep.specifier:
                raise PluginError(f"Wtyczka '{m.name}' wymaga '{dep}', "
                                  f"a dostępna jest '{dep.name}' {have}")
    topo_order(manifests, manifests.keys())


def closure(manifests: dict[str, Manifest], names: Iterable[str]) -> set[str]:
    """``names`` plus everything they depend on, transitively."""
    out: set[str] = set()
    stack = list(names)
    while stack:
        n = stack.pop()
        if n in out:
            continue
        if n not in manifests:
            raise PluginError(f"Nieznana wtyczka '{n}'")
        out.add(n)
        stack.extend(manifests[n].dependency_names)
    return out


def dependents(manifests: dict[str, Manifest], names: Iterable[str],
               among: Iterable[str]) -> set[str]:
    """Plugins in ``among`` that depend (transitively) on any of ``names``."""
    names = set(names)
    among = set(among)
    out: set[str] = set()
    changed = True
    while changed:
        changed = False
        for m in among - out - names:
            if set(manifests[m].dependency_names) & (names | out):
                out.add(m)
                changed = True
    return out


def topo_order(manifests: dict[str, Manifest], names: Iterable[str]) -> list[str]:
    """Dependencies first; ties broken by name, so the order is the same everywhere."""
    names = set(names)
    indeg = {n: 0 for n in names}
    children: dict[str, list[str]] = {n: [] for n in names}
    for n in names:
        for d in manifests[n].dependency_names:
            if d in names:
                indeg[n] += 1
                children[d].append(n)
    heap = [n for n, d in indeg.items() if d == 0]
    heapq.heapify(heap)
    order: list[str] = []
    while heap:
        n = heapq.heappop(heap)
        order.append(n)
        for c in children[n]:
            indeg[c] -= 1
            if indeg[c] == 0:
                heapq.heappush(heap, c)
    if len(order) != len(names):
        cyc = sorted(n for n in names if n not in order)
        raise PluginError(f"Cykl zależności między wtyczkami: {', '.join(cyc)}")
    return order


# -- hook bus -------------------------------------------------------------------------------

@dataclass
class HookBus:
    """pluggy underneath; calls go through :meth:`call` so a failure names its plugin,
    order is dependency order, and ``KARTOTEKA_TRACE_HOOKS=1`` logs every answer."""

    trace: bool = False
    pm: pluggy.PluginManager = field(default_factory=lambda: pluggy.PluginManager(
        hookspecs.PROJECT))

    def __post_init__(self):
        self.pm.add_hookspecs(hookspecs)

    def add_specs(self, module) -> None:
        self.pm.add_hookspecs(module)

    def register(self, plugins_in_order: list[tuple[str, object]]) -> None:
        # pluggy calls the most recently registered first: register in reverse so the
        # first plugin in dependency order answers first.
        for name, module in reversed(plugins_in_order):
            self.pm.register(module, name=name)

    def has(self, hook: str) -> bool:
        return hasattr(self.pm.hook, hook)

    def call(self, hook: str, **kwargs) -> list:
        """Call ``hook`` on every enabled plugin in dependency order; collect non-None
        results. A DomainError (veto) propagates; anything else becomes HookError."""
        caller = getattr(self.pm.hook, hook, None)
        if caller is None:
            return []
        results = []
        firstresult = bool(caller.spec and caller.spec.opts.get("firstresult"))
        for impl in reversed(caller.get_hookimpls()):
            args = {a: kwargs[a] for a in impl.argnames if a in kwargs}
            try:
                res = impl.function(**args)
            except DomainError:
                raise
            except Exception as exc:  # noqa: BLE001 - reported with the plugin's name
                log.exception("hook %s failed in plugin %s", hook, impl.plugin_name)
                raise HookError(impl.plugin_name, hook, exc) from exc
            if self.trace:
                log.info("hook %s answered by %s -> %r", hook, impl.plugin_name, res)
            if res is not None:
                results.append(res)
                if firstresult:
                    break
        return results

    def implementers(self, hook: str) -> list[str]:
        caller = getattr(self.pm.hook, hook, None)
        return [i.plugin_name for i in reversed(caller.get_hookimpls())] if caller else []


def import_plugin(man: Manifest):
    try:
        return importlib.import_module(man.package)
    except ImportError as exc:
        raise PluginError(f"Nie można zaimportować wtyczki '{man.name}' "
                          f"({man.package}): {exc}")


def import_hookspecs(man: Manifest):
    if not man.hookspecs:
        return None
    try:
        return importlib.import_module(man.hookspecs)
    except ImportError as exc:
        raise PluginError(f"Wtyczka '{man.name}': moduł zdarzeń {man.hookspecs}: {exc}")


def call_one(bus: HookBus, plugin: str, hook: str, **kwargs):
    """Call ``hook`` on one plugin only (lifecycle hooks concern their own plugin)."""
    caller = getattr(bus.pm.hook, hook, None)
    if caller is None:
        return None
    for impl in caller.get_hookimpls():
        if impl.plugin_name == plugin:
            args = {a: kwargs[a] for a in impl.argnames if a in kwargs}
            try:
                return impl.function(**args)
            except DomainError:
                raise
            except Exception as exc:  # noqa: BLE001
                raise HookError(plugin, hook, exc) from exc
    return None
