"""docs/plugins.md is executable: its files form a pip package that is installed, found
through its entry point, installed as a plugin and tested. Also `kartoteka plugin new`."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core.plugins import discover

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "plugins.md"
FILE_RE = re.compile(r"<!-- file: (?P<path>[^ ]+) -->\n```[a-z]*\n(?P<body>.*?)```", re.S)


def doc_files() -> dict[str, str]:
    return {m["path"]: m["body"] for m in FILE_RE.finditer(DOC.read_text(encoding="utf-8"))}


def pip_install_target(src: Path, target: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(src)],
                   check=True, capture_output=True, text=True,
                   env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})


@pytest.fixture
def installed_package(tmp_path, monkeypatch):
    """Install a package directory into a private site dir on sys.path."""
    def install(src: Path, modname: str):
        site = tmp_path / "site"
        pip_install_target(src, site)
        monkeypatch.syspath_prepend(str(site))
        importlib.invalidate_caches()
        yield_mod = importlib.import_module(modname)
        return site, yield_mod

    yield install
    # forget the package: its modules, its tables and mapped classes (the next test
    # variant imports it again from a fresh directory)
    from core.db import Base
    for m in [m for m in sys.modules if m.startswith(("field_notes", "hello_notes"))]:
        del sys.modules[m]
    for t in [t for t in Base.metadata.tables.values()
              if t.name.startswith(("field_notes_", "hello_notes_"))]:
        Base.metadata.remove(t)
    reg = Base.registry._class_registry
    for key in [k for k, v in list(reg.items())
                if getattr(v, "__module__", "").startswith(("field_notes", "hello_notes"))]:
        reg.pop(key, None)


def test_doc_example_is_a_working_plugin_package(tmp_path, installed_package, kernel_factory):
    files = doc_files()
    assert {"pyproject.toml", "field_notes/plugin.toml", "field_notes/models.py",
            "field_notes/__init__.py", "tests/test_field_notes.py"} <= set(files)
    src = tmp_path / "src"
    for rel, body in files.items():
        p = src / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(body, encoding="utf-8")
    installed_package(src, "field_notes")
    found = discover()
    assert found["field_notes"].source == "entry_point"
    assert found["field_notes"].title == "Notatki terenowe"
    # the doc's own test, run against a kernel that knows the installed package
    ns: dict = {}
    exec(compile(files["tests/test_field_notes.py"], "test_field_notes.py", "exec"), ns)
    kernel_factory_with = _factory_with(kernel_factory, found)
    ns["test_author_sees_own_notes_and_publishes"](kernel_factory_with)
    k = kernel_factory.kernels[-1]
    assert "field_notes.weekly_digest" in k.registry.jobs
    assert k.registry.schedules["field_notes.weekly"].cron == "0 7 * * 1"
    from tests.core.test_migrations import _drift
    assert _drift(f"sqlite:///{tmp_path / 'drift.db'}", "field_notes", found) == []


def _factory_with(kernel_factory, manifests):
    class F:
        def __call__(self, install=(), **kw):
            return kernel_factory(install=install, manifests=manifests, **kw)

        def __getattr__(self, name):
            return getattr(kernel_factory, name)
    return F()


def test_scaffolded_plugin_installs_and_passes_its_test(tmp_path, installed_package,
                                                        kernel_factory):
    from click.testing import CliRunner

    from core.cli import cli
    result = CliRunner().invoke(cli, ["plugin", "new", "hello_notes", "--path",
                                      str(tmp_path / "pkg")])
    assert result.exit_code == 0, result.output
    installed_package(tmp_path / "pkg", "hello_notes")
    found = discover()
    assert found["hello_notes"].source == "entry_point"
    ns: dict = {}
    test_src = (tmp_path / "pkg" / "tests" / "test_hello_notes.py").read_text()
    exec(compile(test_src, "test_hello_notes.py", "exec"), ns)
    ns["test_note_roundtrip"](_factory_with(kernel_factory, found))
    from tests.core.test_migrations import _drift
    assert _drift(f"sqlite:///{tmp_path / 'drift.db'}", "hello_notes", found) == []


def test_scaffold_refuses_bad_name_and_existing_dir(tmp_path):
    from click.testing import CliRunner

    from core.cli import cli
    r = CliRunner().invoke(cli, ["plugin", "new", "Bad-Name", "--path", str(tmp_path / "x")])
    assert r.exit_code == 1 and "Błąd:" in r.output
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "f").write_text("x")
    r = CliRunner().invoke(cli, ["plugin", "new", "okname", "--path", str(tmp_path / "busy")])
    assert r.exit_code == 1 and "już istnieje" in r.output
