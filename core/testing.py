"""Pytest fixtures for Kartoteka and for third-party plugin authors (``-p core.testing``).

``db_url`` runs a test on SQLite and, when ``KARTOTEKA_TEST_DATABASE_URL`` names a
PostgreSQL server, on a fresh database of that server too. ``kernel_factory`` builds an
initialised kernel on it; ``license_issuer`` swaps in a test signing key.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import uuid
from pathlib import Path

import pytest

from core.config import load_settings
from core.kernel import Kernel
from core.plugins import discover

PG_ENV = "KARTOTEKA_TEST_DATABASE_URL"


def servers_required() -> bool:
    """True when a missing server must fail a test rather than skip it (CI=true or
    KARTOTEKA_REQUIRE_SERVERS=1, as ``scripts/test.sh`` sets)."""
    ci = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
    return ci or os.environ.get("KARTOTEKA_REQUIRE_SERVERS", "").strip() == "1"


_require_servers = servers_required


def backends() -> list:
    out = [pytest.param("sqlite", id="sqlite")]
    out.append(pytest.param("postgresql", id="pg", marks=pytest.mark.postgres))
    return out


def _libpq_url(url: str) -> str:
    """``postgresql+psycopg://...`` -> ``postgresql://...`` for psycopg.connect()."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.startswith("postgres"):
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return "postgresql://" + rest


def _with_database(url: str, name: str) -> str:
    """``url`` with its database part replaced by ``name`` (keeps the scheme and the query)."""
    scheme, _, rest = url.partition("://")
    authority, slash, tail = rest.partition("/")
    query = ""
    if slash and "?" in tail:
        query = "?" + tail.split("?", 1)[1]
    elif not slash and "?" in authority:
        authority, query = authority.split("?", 1)
        query = "?" + query
    return f"{scheme}://{authority}/{name}{query}"


def _admin_connect(base_url: str):
    import psycopg

    return psycopg.connect(_libpq_url(base_url), autocommit=True, connect_timeout=10)


def fresh_pg_database(base_url: str, prefix: str = "kt") -> str:
    """Create a uniquely named, empty database on the server of ``base_url`` and return
    its URL, in the same form as ``base_url``. Drop it with
    ``drop_pg_database(url)``."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{prefix}_{worker}_{uuid.uuid4().hex[:10]}".lower()
    with _admin_connect(base_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_database(base_url, name)


def drop_pg_database(url: str) -> None:
    """Drop the database of ``url`` (made by ``fresh_pg_database``), closing its connections."""
    import psycopg
    from psycopg import sql

    info = psycopg.conninfo.conninfo_to_dict(_libpq_url(url))
    name = info.get("dbname")
    if not name or name in ("postgres", "template0", "template1"):
        raise ValueError(f"refusing to drop database {name!r}")
    with _admin_connect(_with_database(url, "postgres")) as conn:
        query = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        conn.execute(query)


def fresh_pg_url(base_url: str) -> tuple[str, callable]:
    """Create a uniquely named database on the server of ``base_url``; return its URL and
    a function that drops it."""
    url = fresh_pg_database(base_url)
    return url, lambda: drop_pg_database(url)


@pytest.fixture(params=backends())
def db_url(request, tmp_path):
    """A fresh empty database URL: SQLite file, then PostgreSQL when configured."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kartoteka.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        if _require_servers():
            pytest.fail(f"{PG_ENV} is not set but servers are required")
        pytest.skip(f"{PG_ENV} not set: PostgreSQL tests skipped")
    url, drop = fresh_pg_url(base)
    yield url
    drop()


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'kartoteka.db'}"


class KernelFactory:
    def __init__(self, db_url: str, tmp_path: Path):
        self.db_url = db_url
        self.tmp_path = tmp_path
        self.kernels: list[Kernel] = []

    def __call__(self, install=(), *, registry_file: Path | None = None, manifests=None,
                 **settings) -> Kernel:
        settings.setdefault("var_dir", self.tmp_path / "var")
        s = load_settings(root=self.tmp_path, env={}, database_url=self.db_url, **settings)
        if manifests is None:
            manifests = discover(registry_file) if registry_file else discover()
        k = Kernel(s, manifests=manifests)
        k.activate()
        k.init_db()
        if install:
            k.install(list(install))
        self.kernels.append(k)
        return k

    def admin(self, session):
        from sqlalchemy import select

        from core.security.models import User
        from core.security.services import create_user
        u = session.scalar(select(User).where(User.login == "admin"))
        return u or create_user(session, "admin", password="admin-pass-1", superuser=True)

    def user(self, session, login: str, *, permissions=(), roles=(), password="password-1"):
        """A user with one private role granting ``permissions`` plus existing ``roles``."""
        from core.security.models import Role, RolePermission
        from core.security.services import create_user
        role_codes = list(roles)
        if permissions:
            role = Role(code=f"r_{login}", name=f"rola {login}")
            role.permissions = [RolePermission(code=p) for p in permissions]
            session.add(role)
            session.flush()
            role_codes.append(role.code)
        return create_user(session, login, password=password, roles=role_codes)

    def close(self):
        for k in self.kernels:
            k.close()


@pytest.fixture
def kernel_factory(db_url, tmp_path):
    f = KernelFactory(db_url, tmp_path)
    yield f
    f.close()


@pytest.fixture
def license_issuer(monkeypatch):
    """Trust a throw-away Ed25519 key for this test; return ``issue(**payload) -> dict``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from core import licensing
    key = Ed25519PrivateKey.generate()
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    monkeypatch.setitem(licensing.TRUSTED_KEYS, "test-key", base64.b64encode(raw).decode())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())

    def issue(*, edition="pro", plugins=(), seats=10, valid_until=None, licensee="Test sp. z o.o.",
              nip="5260250274"):
        return licensing.issue(pem, "test-key", licensee=licensee, nip=nip, edition=edition,
                               plugins=list(plugins), seats=seats,
                               valid_until=valid_until or dt.date.today() + dt.timedelta(days=365))

    issue.pem = pem
    return issue
