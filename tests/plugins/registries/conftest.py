"""Fixtures: the fake registry servers (one per test session, reset before every test) and
clients pointed at them."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from plugins.registries.sources.ceidg import CeidgClient
from plugins.registries.sources.gus import GusClient
from plugins.registries.sources.vies import ViesClient
from plugins.registries.sources.whitelist import WhiteListClient
from tests.plugins.clients.conftest import Env as ClientsEnv

from .fakes import CEIDG_TOKEN, GUS_TEST_KEY, CeidgFake, GusFake, ViesFake, WhiteListFake

TIMEOUT = 3.0


def _serve(fake_class):
    @pytest.fixture(scope="session")
    def server():
        fake = fake_class().start()
        yield fake
        fake.stop()

    return server


gus_server = _serve(GusFake)
ceidg_server = _serve(CeidgFake)
vies_server = _serve(ViesFake)
whitelist_server = _serve(WhiteListFake)


def _fresh(server):
    server.reset()
    yield server
    errors = list(server.errors)
    server.reset()
    assert not errors, "the fake server crashed:\n" + "\n".join(errors)


@pytest.fixture
def gus_fake(gus_server: GusFake) -> Iterator[GusFake]:
    yield from _fresh(gus_server)


@pytest.fixture
def ceidg_fake(ceidg_server: CeidgFake) -> Iterator[CeidgFake]:
    yield from _fresh(ceidg_server)


@pytest.fixture
def vies_fake(vies_server: ViesFake) -> Iterator[ViesFake]:
    yield from _fresh(vies_server)


@pytest.fixture
def whitelist_fake(whitelist_server: WhiteListFake) -> Iterator[WhiteListFake]:
    yield from _fresh(whitelist_server)


@pytest.fixture
def gus(gus_fake: GusFake) -> Iterator[GusClient]:
    client = GusClient(GUS_TEST_KEY, gus_fake.service_url, timeout=TIMEOUT)
    yield client
    client.close()


@pytest.fixture
def ceidg(ceidg_fake: CeidgFake) -> Iterator[CeidgClient]:
    client = CeidgClient(CEIDG_TOKEN, ceidg_fake.base_url, timeout=TIMEOUT,
                         sleep=lambda seconds: None)
    yield client
    client.close()


@pytest.fixture
def vies(vies_fake: ViesFake) -> Iterator[ViesClient]:
    client = ViesClient(vies_fake.rest_url, vies_fake.soap_url, timeout=TIMEOUT)
    yield client
    client.close()


@pytest.fixture
def whitelist(whitelist_fake: WhiteListFake) -> Iterator[WhiteListClient]:
    client = WhiteListClient(whitelist_fake.url, timeout=TIMEOUT)
    yield client
    client.close()


@pytest.fixture
def closed_port_url() -> str:
    """A local URL where nothing listens (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# -- the plugin on a kernel ------------------------------------------------------------------

REGISTRY = Path(__file__).with_name("addons_registry.toml")
PLUGINS = ["clients", "registries", "fakesales2"]


def point_at_fakes(session, gus_fake, ceidg_fake, vies_fake, whitelist_fake, **extra):
    """Configure the installation's endpoints to the local fake servers."""
    from plugins.registries.config import update_settings
    return update_settings(session, {
        "gus_url": gus_fake.service_url, "ceidg_url": ceidg_fake.base_url,
        "vies_rest_url": vies_fake.rest_url, "vies_soap_url": vies_fake.soap_url,
        "whitelist_url": whitelist_fake.url, "ceidg_token": CEIDG_TOKEN,
        "timeout": 3, **extra})


def registries_kernel(kernel_factory, install=PLUGINS):
    """A kernel with the demonstration licence (registries is a Standard plugin)."""
    from core.licensing import DEMO_LICENSE
    k = kernel_factory(registry_file=REGISTRY)
    k.licensing.install(DEMO_LICENSE)
    k.install(list(install))
    return k


@dataclass
class Fakes:
    gus: GusFake
    ceidg: CeidgFake
    vies: ViesFake
    whitelist: WhiteListFake


@pytest.fixture
def fakes(gus_fake, ceidg_fake, vies_fake, whitelist_fake) -> Fakes:
    return Fakes(gus_fake, ceidg_fake, vies_fake, whitelist_fake)


@pytest.fixture
def kernel(kernel_factory, fakes):
    k = registries_kernel(kernel_factory)
    with k.db.session() as s:
        point_at_fakes(s, fakes.gus, fakes.ceidg, fakes.vies, fakes.whitelist)
    return k


class Env(ClientsEnv):
    """The clients tests' environment, with a shortcut for a company client."""

    def client(self, name="Firma testowa", **values):
        values.setdefault("kind", "company")
        return self.dal.create("clients.client", {"name": name, **values})


@pytest.fixture
def env(kernel, kernel_factory):
    e = Env(kernel, kernel_factory)
    yield e
    e.close()
