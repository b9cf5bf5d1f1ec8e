"""schemathesis over the clients API (generic entity routes, actions and the plugin's own
endpoints): no 5xx for any generated input, responses as documented."""

from __future__ import annotations

import pytest

from core.security.services import create_token
from core.web.app import create_app
from tests.e2e.support import fuzz_api

from .conftest import REGISTRY


@pytest.fixture
def db_url(sqlite_url):
    return sqlite_url          # the rules are the same on both backends (test_services.py)


def test_clients_api_never_fails_and_conforms(kernel_factory):
    k = kernel_factory(install=["clients"], registry_file=REGISTRY)
    with k.db.session() as s:
        admin = kernel_factory.admin(s)
        _, token = create_token(s, admin, "fuzz")
        dal = k.dal(s, admin)
        c = dal.create("clients.client", {"kind": "company", "name": "Alfa",
                                          "nip": "5260250274"})
        dal.create("clients.address", {"client_id": c.id, "city": "Kraków"})
    checked = fuzz_api(create_app(k, testing=True), token, max_examples=6,
                       path_contains="/clients/")
    assert "POST /api/v1/clients/merge" in checked
    assert "GET /api/v1/clients/client" in checked and len(checked) > 40
