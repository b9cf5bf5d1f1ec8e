"""``plugin.toml`` parsing and validation. Errors name the file and the key."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from core.errors import ManifestError

EDITIONS = ("free", "standard", "pro")
EDITION_RANK = {e: i for i, e in enumerate(EDITIONS)}
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")


@dataclass(frozen=True)
class Dependency:
    name: str
    specifier: SpecifierSet = field(default_factory=SpecifierSet)

    def __str__(self) -> str:
        return f"{self.name}{self.specifier}"


@dataclass
class Manifest:
    name: str
    version: Version
    title: str
    title_en: str
    summary: str
    depends: list[Dependency]
    optional: list[str]
    kernel: SpecifierSet
    edition: str
    package: str                  # importable module holding the hook implementations
    path: Path                    # directory with plugin.toml
    source: str = "registry"      # "registry" (in-tree) or "entry_point"
    hookspecs: str | None = None  # module declaring the plugin's own event hookspecs
    raw: dict = field(default_factory=dict)

    @property
    def migrations_dir(self) -> Path:
        return self.path / "migrations"

    @property
    def dependency_names(self) -> list[str]:
        return [d.name for d in self.depends]

    def label(self, lang: str = "pl") -> str:
        return self.title_en if lang == "en" and self.title_en else self.title


def _req(data: dict, key: str, file: Path, typ=str):
    if key not in data:
        raise ManifestError(f"{file}: brak wymaganego klucza '{key}'")
    value = data[key]
    if not isinstance(value, typ):
        raise ManifestError(f"{file}: klucz '{key}' ma zły typ ({type(value).__name__})")
    return value


def parse_manifest(file: Path, package: str, source: str = "registry",
                   edition_override: str | None = None) -> Manifest:
    file = Path(file)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"{file}: brak pliku manifestu")
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{file}: błąd składni TOML: {exc}")
    if "plugin" not in data or not isinstance(data["plugin"], dict):
        raise ManifestError(f"{file}: brak sekcji [plugin]")
    p = data["plugin"]
    name = _req(p, "name", file)
    if not NAME_RE.match(name):
        raise ManifestError(f"{file}: klucz 'name': '{name}' — 2 do 41 znaków: a-z, 0-9 "
                            f"i _, na początku litera")
    try:
        version = Version(_req(p, "version", file))
    except InvalidVersion:
        raise ManifestError(f"{file}: klucz 'version': nieprawidłowa wersja {p['version']!r}")
    depends = []
    for item in p.get("depends", []):
        if not isinstance(item, str):
            raise ManifestError(f"{file}: klucz 'depends': oczekiwano napisów")
        try:
            req = Requirement(item)
        except InvalidRequirement:
            raise ManifestError(f"{file}: klucz 'depends': nieprawidłowy wpis {item!r}")
        depends.append(Dependency(req.name.replace("-", "_"), req.specifier))
    optional = p.get("optional", [])
    if not isinstance(optional, list) or not all(isinstance(o, str) for o in optional):
        raise ManifestError(f"{file}: klucz 'optional': oczekiwano listy nazw wtyczek")
    try:
        kernel = SpecifierSet(p.get("kernel", ""))
    except InvalidSpecifier:
        raise ManifestError(f"{file}: klucz 'kernel': nieprawidłowy zakres {p.get('kernel')!r}")
    edition = edition_override or p.get("edition", "free")
    if edition not in EDITIONS:
        raise ManifestError(f"{file}: klucz 'edition': '{edition}' — dozwolone "
                            f"{', '.join(EDITIONS)}")
    title = _req(p, "title", file)
    return Manifest(
        name=name, version=version, title=title, title_en=p.get("title_en", title),
        summary=p.get("summary", ""), depends=depends, optional=list(optional),
        kernel=kernel, edition=edition, package=package, path=file.parent, source=source,
        hookspecs=p.get("hookspecs"), raw=data,
    )
