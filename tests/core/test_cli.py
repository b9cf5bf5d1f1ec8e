"""The `kartoteka` command, run as a real subprocess in a fresh directory."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import FIXTURE_REGISTRY

BIN = Path(sys.executable).with_name("kartoteka")


@pytest.fixture
def run(tmp_path, db_url):
    env = {**os.environ, "KARTOTEKA_ROOT": str(tmp_path), "KARTOTEKA_DATABASE_URL": db_url,
           "KARTOTEKA_ADDONS_REGISTRY": str(FIXTURE_REGISTRY),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}

    def run(*args, input=None, ok=True):
        p = subprocess.run([str(BIN), *args], cwd=tmp_path, env=env, input=input,
                           capture_output=True, text=True, timeout=120)
        if ok:
            assert p.returncode == 0, p.stdout + p.stderr
        return p
    return run


def test_help_everywhere(run):
    for cmd in ([], ["plugins"], ["users"], ["license"], ["db"], ["migrations"], ["plugin"],
                ["plugins", "uninstall"], ["serve"], ["worker"], ["demo"], ["init"]):
        p = run(*cmd, "--help")
        assert "Usage:" in p.stdout


def test_full_admin_flow(run, tmp_path, license_issuer):
    assert "nie jest zainicjowana" in run("plugins", "list", ok=False).stderr
    out = run("init", "--admin-password", "sekret-123").stdout
    assert "Utworzono administratora 'admin'" in out
    assert "Utworzono" not in run("init").stdout            # idempotent, no prompt
    assert "alpha" in run("plugins", "list").stdout
    plan = run("plugins", "plan", "install", "beta").stdout
    assert "Dodatkowo (zależności): alpha" in plan and "CREATE TABLE beta_thing_extra" in plan
    # without --yes the missing dependency is listed and asked about
    p = run("plugins", "install", "beta", input="n\n", ok=False)
    assert p.returncode == 1 and "alpha" in p.stdout
    assert "Zainstalowano: alpha, beta" in run("plugins", "install", "beta", "--yes").stdout
    p = run("plugins", "disable", "alpha", ok=False)
    assert p.returncode == 1
    assert p.stderr.strip().count("\n") == 0 and "beta" in p.stderr      # one clear line
    run("plugins", "disable", "alpha", "beta")
    assert "disabled" in run("plugins", "list").stdout
    run("plugins", "enable", "alpha", "beta")
    p = run("plugins", "install", "gamma", "--yes", ok=False)
    assert p.returncode == 1 and "PRO" in p.stderr
    lic = tmp_path / "lic.json"
    lic.write_text(json.dumps(license_issuer(edition="pro")))
    # the subprocess only trusts shipped keys: a test-key licence is refused there
    p = run("license", "install", str(lic), ok=False)
    assert p.returncode == 1 and "nieznanym kluczem" in p.stderr
    assert "Brak licencji" in run("license", "show").stdout
    run("users", "create", "ola", "--password", "haslo-ola-1", "--role", "alpha_own")
    p = run("users", "create", "ola", "--password", "haslo-ola-1", ok=False)
    assert "już istnieje" in p.stderr
    run("users", "passwd", "ola", "--password", "nowe-haslo-2")
    assert "alpha_own" in run("users", "list").stdout
    assert run("users", "token", "ola", "--name", "skrypt").stdout.startswith("kt_")
    p = run("plugins", "uninstall", "alpha", "beta", ok=False)
    assert "--purge" in p.stderr                             # seed row is data
    out = run("plugins", "uninstall", "alpha", "beta", "--purge").stdout
    folder = Path(out.split("Eksport danych: ")[1].strip())
    assert (folder / "alpha_thing.jsonl").exists()
    assert "available" in run("plugins", "list").stdout.split("alpha")[1].split("\n")[0]


def test_unknown_plugin_and_bad_file_fail_cleanly(run, tmp_path):
    run("init", "--admin-password", "sekret-123")
    p = run("plugins", "install", "nope", "--yes", ok=False)
    assert p.returncode == 1 and "Nieznana wtyczka 'nope'" in p.stderr
    assert "Traceback" not in p.stderr
    p = run("license", "install", str(tmp_path / "missing.json"), ok=False)
    assert p.returncode != 0 and "Traceback" not in p.stderr
    (tmp_path / "bad.json").write_text("{}")
    p = run("license", "install", str(tmp_path / "bad.json"), ok=False)
    assert p.returncode == 1 and "format" in p.stderr


def test_init_demo_installs_demo_licence_and_defaults(run):
    out = run("init", "--demo").stdout
    assert "licencję demonstracyjną" in out
    assert "pro" in run("license", "show").stdout
