"""Fixtures for the clients plugin: a kernel with ``clients`` (and the ``fakesales``
stand-in for the sales plugin) installed on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

REGISTRY = Path(__file__).with_name("addons_registry.toml")


@pytest.fixture
def kernel(kernel_factory):
    return kernel_factory(install=["clients"], registry_file=REGISTRY)


@pytest.fixture
def sales_kernel(kernel_factory):
    return kernel_factory(install=["clients", "fakesales"], registry_file=REGISTRY)


class Env:
    """A session with an admin's data-access layer; commit() ends the unit of work."""

    def __init__(self, kernel, factory):
        self.kernel = kernel
        self.factory = factory
        self.session = kernel.db.Session()
        self.admin = factory.admin(self.session)
        self.dal = kernel.dal(self.session, self.admin)

    def as_user(self, user):
        return self.kernel.dal(self.session, user)

    def close(self):
        self.session.rollback()
        self.session.close()


@pytest.fixture
def env(kernel, kernel_factory):
    e = Env(kernel, kernel_factory)
    yield e
    e.close()


@pytest.fixture
def sales_env(sales_kernel, kernel_factory):
    e = Env(sales_kernel, kernel_factory)
    yield e
    e.close()
