"""The real servers of the test run: PostgreSQL and Redis started by ``scripts/test.sh``.

``pg_url()`` / ``redis_url()`` give the server URLs (or None when the suite runs without them);
``require_pg()`` / ``require_redis()`` return them or skip the test — but fail it when
``CI=true`` or ``KARTOTEKA_REQUIRE_SERVERS=1`` (set by ``scripts/test.sh``), so that a run with
servers can never silently skip their tests. ``fresh_pg_database()`` gives each test (and each
xdist worker) a database of its own; ``RedisServer`` starts a dedicated redis-server that a
fault test may stop and restart.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from core.testing import drop_pg_database, servers_required
from core.testing import fresh_pg_database as _fresh_pg_database

PG_ENV = "KARTOTEKA_TEST_DATABASE_URL"
REDIS_ENV = "KARTOTEKA_TEST_REDIS_URL"
REDIS_SERVER_ENV = "KARTOTEKA_TEST_REDIS_SERVER"
PG_BIN_ENV = "KARTOTEKA_TEST_PG_BIN"


def pg_url() -> str | None:
    """SQLAlchemy URL of the test PostgreSQL database, or None."""
    return os.environ.get(PG_ENV) or None


def redis_url() -> str | None:
    """URL of the test Redis server, or None."""
    return os.environ.get(REDIS_ENV) or None


def _missing(what: str, env: str) -> None:
    reason = f"{env} is not set: {what} tests need the server started by scripts/test.sh"
    if servers_required():
        pytest.fail(f"{reason} (servers are required: CI=true or KARTOTEKA_REQUIRE_SERVERS=1)",
                    pytrace=False)
    pytest.skip(reason)


def require_pg() -> str:
    """The PostgreSQL URL; skip (or, when servers are required, fail) without one."""
    url = pg_url()
    if not url:
        _missing("PostgreSQL", PG_ENV)
    return url


def require_redis() -> str:
    """The Redis URL; skip (or, when servers are required, fail) without one."""
    url = redis_url()
    if not url:
        _missing("Redis", REDIS_ENV)
    return url


# -- PostgreSQL: one database per test / worker ---------------------------------------------------

def fresh_pg_database(base_url: str | None = None, prefix: str = "kt") -> str:
    """A fresh database on the test server (``core.testing.fresh_pg_database``)."""
    return _fresh_pg_database(base_url or require_pg(), prefix)


@pytest.fixture
def pg_database():
    """Fixture: URL of a fresh PostgreSQL database, dropped after the test."""
    url = fresh_pg_database(require_pg())
    try:
        yield url
    finally:
        drop_pg_database(url)


def pg_ctl_command(*args: str) -> list[str]:
    """Command line running ``pg_ctl *args`` of the test cluster as the user that owns it."""
    pg_bin = os.environ.get(PG_BIN_ENV)
    if not pg_bin:
        _missing("PostgreSQL control", PG_BIN_ENV)
    cmd = [str(Path(pg_bin) / "pg_ctl"), *args]
    os_user = os.environ.get("KARTOTEKA_TEST_PG_OS_USER")
    if os_user and os.geteuid() == 0:
        cmd = ["runuser", "-u", os_user, "--", *cmd]
    return cmd


# -- Redis: a dedicated server that a test may stop and restart -----------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_path() -> str:
    path = os.environ.get(REDIS_SERVER_ENV) or shutil.which("redis-server")
    if not path:
        _missing("dedicated Redis", REDIS_SERVER_ENV)
    return path


class RedisServer:
    """A redis-server of the test's own on a free port of 127.0.0.1 (no persistence).

    ``start()`` / ``stop()`` / ``restart()``; the port stays the same across restarts, so
    clients built from ``url`` reconnect. Usable as a context manager. ``kill()`` stops it
    abruptly (SIGKILL), as a crash would.
    """

    def __init__(self, port: int | None = None, server: str | None = None):
        self.server = server or redis_server_path()
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="kartoteka-redis-"))
        self.log = self.dir / "redis.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **kwargs):
        import redis

        kwargs.setdefault("socket_timeout", 5)
        return redis.Redis(host="127.0.0.1", port=self.port, **kwargs)

    def is_up(self) -> bool:
        """True when the server answers PING (one plain socket try: no client retries)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def start(self, timeout: float = 10.0) -> RedisServer:
        if self.proc is not None and self.proc.poll() is None:
            return self
        self.proc = subprocess.Popen(
            [self.server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.dir), "--logfile", str(self.log),
             "--daemonize", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if self.is_up():
                return self
            time.sleep(0.05)
        tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        self._reap(signal.SIGKILL)
        raise RuntimeError(f"redis-server on port {self.port} did not start:\n{tail}")

    def _reap(self, sig: int, timeout: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)

    def stop(self) -> None:
        """Stop the server (SIGTERM) and wait until it is gone."""
        self._reap(signal.SIGTERM)

    def kill(self) -> None:
        """Stop the server abruptly (SIGKILL)."""
        self._reap(signal.SIGKILL)

    def restart(self, timeout: float = 10.0) -> RedisServer:
        self.stop()
        return self.start(timeout)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()


@pytest.fixture
def redis_server():
    """Fixture: a started dedicated ``RedisServer``, closed after the test."""
    srv = RedisServer()
    try:
        yield srv.start()
    finally:
        srv.close()
