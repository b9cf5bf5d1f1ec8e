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
import sqlalchemy as sa

from core.config import load_settings
from core.kernel import Kernel
from core.plugins import discover

PG_ENV = "KARTOTEKA_TEST_DATABASE_URL"


def _require_servers() -> bool:
    return os.environ.get("KARTOTEKA_REQUIRE_SERVERS") == "1"


def backends() -> list:
    out = [pytest.param("sqlite", id="sqlite")]
    out.append(pytest.param("postgresql", id="pg", marks=pytest.mark.postgres))
    return out


def fresh_pg_url(base_url: str) -> tuple[str, callable]:
    """Create a uniquely named database on the server of ``base_url``; return its URL and
    a function that drops it."""
    url = sa.engine.make_url(base_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"kt_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()

    def drop():
        eng = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        eng.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


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
