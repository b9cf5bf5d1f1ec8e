"""schemathesis over the clients API (generic entity routes, actions and the plugin's own
endpoints): no 5xx for any generated input, responses as documented."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks

from core.security.services import create_token
from core.web.app import create_app

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
    app = create_app(k, testing=True)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    schema.config.headers = {"Authorization": f"Bearer {token}"}
    checked = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if "/clients/" not in operation.path:
            continue

        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            response = case.call()
            assert response.status_code < 500, (case.method, case.path, response.text[:500])
            case.validate_response(response, checks=[
                checks.not_a_server_error, checks.response_schema_conformance,
                checks.content_type_conformance])

        run()
        checked.append(f"{operation.method.upper()} {operation.path}")
    assert "POST /api/v1/clients/merge" in checked
    assert "GET /api/v1/clients/client" in checked and len(checked) > 40
