"""Every UI message has an English translation: the kernel's UI and each in-tree plugin
that ships a catalogue (``<plugin>/translations/catalogue.py`` with an ``EN`` table)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from core.i18n import build_catalogue

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = {"core-ui": (ROOT / "core/web/ui",
                         ROOT / "core/web/ui/translations/make_catalogue.py")}
CATALOGUES.update({p.parent.parent.name: (p.parent.parent, p)
                   for p in sorted((ROOT / "plugins").glob("*/translations/catalogue.py"))})


def _table(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(f"catalogue_{path.parent.parent.name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.EN


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_every_message_has_an_english_translation(name, tmp_path):
    source, table = CATALOGUES[name]
    missing = build_catalogue(source, tmp_path, _table(table), write=False)
    assert missing == [], f"{name}: add English for {missing} and regenerate ({table})"


@pytest.mark.parametrize("name", sorted(CATALOGUES))
def test_compiled_catalogue_is_up_to_date(name, tmp_path):
    source, table = CATALOGUES[name]
    build_catalogue(source, tmp_path, _table(table))
    committed = table.parent / "en" / "LC_MESSAGES" / "messages.po"
    fresh = tmp_path / "en" / "LC_MESSAGES" / "messages.po"
    strip = lambda p: [ln for ln in p.read_text().splitlines()  # noqa: E731
                       if not ln.startswith(('"POT-Creation-Date', '"PO-Revision-Date'))]
    assert strip(committed) == strip(fresh), f"run {table.relative_to(ROOT)}"
