"""Fixtures: the fake registry servers (one per test session, reset before every test) and
clients pointed at them."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from plugins.registries.sources.ceidg import CeidgClient
from plugins.registries.sources.gus import GusClient
from plugins.registries.sources.vies import ViesClient
from plugins.registries.sources.whitelist import WhiteListClient

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
