"""Hook bus (events, errors naming the plugin, tracing, disabled plugins) and settings."""

import logging

import pytest

from core.config import load_settings
from core.errors import ConfigError, HookError

from .helpers import FIXTURE_REGISTRY


def test_event_declared_by_emitter_reaches_listener_without_dependency(kernel_factory):
    from tests.fixtures.plugins import emitter, listener
    listener.received.clear()
    k = kernel_factory(install=["emitter", "listener"], registry_file=FIXTURE_REGISTRY)
    assert "emitter" not in k.manifests["listener"].dependency_names
    with k.db.session() as s:
        assert emitter.issue(k, s, 10, 7) == ["listener saw 10"]
    assert listener.received == [(10, 7)]
    k.disable(["listener"])
    with k.db.session() as s:
        assert emitter.issue(k, s, 11, 7) == []          # disabled: not called
    assert listener.received == [(10, 7)]


def test_exception_in_hook_names_the_plugin(kernel_factory):
    from tests.fixtures.plugins import emitter
    k = kernel_factory(install=["emitter", "listener"], registry_file=FIXTURE_REGISTRY)
    with k.db.session() as s, pytest.raises(HookError) as exc:
        emitter.issue(k, s, 1, -1)
    assert exc.value.plugin == "listener"
    assert "Wtyczka 'listener'" in exc.value.message and "boom" in exc.value.message


def test_trace_hooks_logs_each_answer(kernel_factory, caplog):
    from tests.fixtures.plugins import emitter
    k = kernel_factory(install=["emitter", "listener"], registry_file=FIXTURE_REGISTRY,
                       trace_hooks=True)
    with caplog.at_level(logging.INFO, logger="kartoteka.plugins"):
        with k.db.session() as s:
            emitter.issue(k, s, 5, 1)
    assert any("emitter_document_issued answered by listener" in r.getMessage()
               for r in caplog.records)


def test_hook_order_is_dependency_order(kernel_factory):
    k = kernel_factory(install=["beta", "listener", "emitter"], registry_file=FIXTURE_REGISTRY)
    assert k.enabled == ["alpha", "beta", "emitter", "listener"]
    assert k.hooks.implementers("kartoteka_register") == k.enabled


def test_settings_defaults_need_nothing(tmp_path):
    s = load_settings(root=tmp_path, env={})
    assert s.database_url == f"sqlite:///{tmp_path / 'var' / 'kartoteka.db'}"
    assert len(s.secret_key) > 40
    assert (tmp_path / "var" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_settings(root=tmp_path, env={}).secret_key == s.secret_key  # kept
    assert s.redis_url is None and s.jobs_inprocess


def test_settings_from_toml_and_env(tmp_path):
    (tmp_path / "kartoteka.toml").write_text(
        '[kartoteka]\nlanguage = "en"\nworker_threads = 4\nbind = "0.0.0.0:9000"\n')
    s = load_settings(root=tmp_path, env={"KARTOTEKA_WORKER_THREADS": "8",
                                          "KARTOTEKA_REDIS_URL": "redis://h:6379/0",
                                          "KARTOTEKA_TRACE_HOOKS": "1"})
    assert s.language == "en" and s.bind == "0.0.0.0:9000"
    assert s.worker_threads == 8                        # env wins over the file
    assert s.redis_url == "redis://h:6379/0" and not s.jobs_inprocess
    assert s.trace_hooks is True


def test_bad_settings_are_clear_errors(tmp_path):
    with pytest.raises(ConfigError, match="WORKER_THREADS|worker_threads"):
        load_settings(root=tmp_path, env={"KARTOTEKA_WORKER_THREADS": "many"})
    (tmp_path / "kartoteka.toml").write_text("[kartoteka\n")
    with pytest.raises(ConfigError, match="kartoteka.toml"):
        load_settings(root=tmp_path, env={})


def test_sqlite_pragmas(sqlite_url):
    from core.db import Database
    db = Database(sqlite_url)
    with db.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    db.dispose()
