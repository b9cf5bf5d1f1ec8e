"""Helpers for kernel tests: fixture plugin registry and manifests built on the fly."""

from __future__ import annotations

from pathlib import Path

from core.manifest import parse_manifest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURE_REGISTRY = FIXTURES / "addons_registry.toml"


def make_manifest(tmp_path: Path, name: str, *, depends=(), version="1.0.0", kernel="",
                  edition="free", extra: str = ""):
    d = tmp_path / name
    d.mkdir(parents=True, exist_ok=True)
    deps = ", ".join(f'"{x}"' for x in depends)
    (d / "plugin.toml").write_text(
        f'[plugin]\nname = "{name}"\nversion = "{version}"\ntitle = "{name.title()}"\n'
        f'depends = [{deps}]\nkernel = "{kernel}"\nedition = "{edition}"\n{extra}')
    return parse_manifest(d / "plugin.toml", name)
