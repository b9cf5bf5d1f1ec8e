"""Layering: the import contracts follow the manifests and hold."""

import subprocess
import sys
from pathlib import Path

from core.layering import contracts_text

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_file_is_up_to_date():
    assert (ROOT / ".importlinter").read_text() == contracts_text(), \
        "run `python -m core.layering` and commit .importlinter"


def test_import_contracts_hold():
    exe = Path(sys.executable).with_name("lint-imports")
    p = subprocess.run([str(exe)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-2000:]
    assert ", 0 broken." in p.stdout
