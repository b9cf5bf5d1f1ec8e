"""Property-based API testing with schemathesis against /api/openapi.json of the real app
(in-process WSGI), authenticated as a superuser: no 5xx for any generated input, and
responses conform to the documented schema."""

from pathlib import Path

from core.security.services import create_token
from core.web.app import create_app
from tests.e2e.support import fuzz_api

REG = Path(__file__).resolve().parents[1] / "fixtures" / "addons_registry.toml"


def test_api_never_fails_and_conforms(kernel_factory):
    """Each operation gets a bounded, deterministic set of generated cases."""
    k = kernel_factory(install=["beta"], registry_file=REG)
    with k.db.session() as s:
        admin = kernel_factory.admin(s)
        _, token = create_token(s, admin, "schemathesis")
    checked = fuzz_api(create_app(k, testing=True), token, max_examples=12)
    assert "GET /api/v1/alpha/thing" in checked and len(checked) >= 5
