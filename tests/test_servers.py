"""The real servers of the test run really work: PostgreSQL and Redis from scripts/test.sh."""

from __future__ import annotations

import psycopg
import pytest

from tests import servers


def _libpq(url: str) -> str:
    return "postgresql://" + url.partition("://")[2]


@pytest.mark.postgres
def test_postgresql_answers():
    url = servers.require_pg()
    assert url.startswith("postgresql+psycopg://")
    with psycopg.connect(_libpq(url), connect_timeout=10) as conn:
        version = conn.execute("SELECT version()").fetchone()[0]
        db = conn.execute("SELECT current_database()").fetchone()[0]
    assert version.startswith("PostgreSQL ")
    assert db == "kartoteka_test"


@pytest.mark.postgres
def test_fresh_database_is_created_and_dropped():
    base = servers.require_pg()
    url = servers.fresh_pg_database(base)
    other = servers.fresh_pg_database(base)
    name = url.rsplit("/", 1)[1]
    assert url.startswith("postgresql+psycopg://") and url != other
    try:
        with psycopg.connect(_libpq(url)) as conn:
            assert conn.execute("SELECT current_database()").fetchone()[0] == name
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (42)")
            conn.commit()
        with psycopg.connect(_libpq(other)) as conn:  # a database of its own: no table t
            assert conn.execute("SELECT to_regclass('t')").fetchone()[0] is None
        # an open connection does not stop the drop
        held = psycopg.connect(_libpq(url))
        servers.drop_pg_database(url)
        held.close()
    finally:
        servers.drop_pg_database(other)
        servers.drop_pg_database(url)  # IF EXISTS: dropping twice is harmless
    with psycopg.connect(_libpq(base)) as conn:
        names = {r[0] for r in conn.execute("SELECT datname FROM pg_database")}
    assert name not in names and other.rsplit("/", 1)[1] not in names


def test_drop_refuses_system_databases():
    with pytest.raises(ValueError):
        servers.drop_pg_database("postgresql+psycopg://u@127.0.0.1:1/postgres")


@pytest.mark.redis
def test_shared_redis_answers():
    import redis

    r = redis.Redis.from_url(servers.require_redis(), socket_timeout=5)
    assert r.ping()
    r.close()


@pytest.mark.redis
def test_dedicated_redis_stop_and_restart():
    import redis

    srv = servers.RedisServer()
    try:
        srv.start()
        r = redis.Redis.from_url(srv.url, socket_timeout=2, socket_connect_timeout=2)
        assert r.set("kartoteka:test", "1")
        assert r.get("kartoteka:test") == b"1"

        srv.stop()
        assert not srv.is_up()
        with pytest.raises(redis.ConnectionError):
            r.get("kartoteka:test")

        srv.restart()
        assert srv.is_up()
        assert r.get("kartoteka:test") is None  # no persistence: a fresh, empty server
        assert r.set("kartoteka:test", "2") and r.get("kartoteka:test") == b"2"

        srv.kill()
        assert not srv.is_up()
        srv.start()
        assert srv.is_up()
        r.close()
    finally:
        srv.close()
    assert not srv.is_up()


def test_missing_server_fails_when_required(monkeypatch):
    monkeypatch.delenv(servers.REDIS_ENV, raising=False)
    monkeypatch.setenv("KARTOTEKA_REQUIRE_SERVERS", "1")
    with pytest.raises(pytest.fail.Exception):
        servers.require_redis()
    monkeypatch.delenv("KARTOTEKA_REQUIRE_SERVERS")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        servers.require_redis()
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        servers.require_redis()
