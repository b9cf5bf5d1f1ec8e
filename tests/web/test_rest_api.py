"""The generic REST API through the Flask test client: both doors (token and session),
permissions and rules, ETags, problems, bulk, disabled plugins, OpenAPI."""

import json
from pathlib import Path

import pytest

from core.kernel import Kernel
from core.security.services import create_token
from core.web.app import create_app

REG = Path(__file__).resolve().parents[1] / "fixtures" / "addons_registry.toml"


@pytest.fixture
def env(kernel_factory):
    k = kernel_factory(install=["beta"], registry_file=REG)
    with k.db.session() as s:
        admin = kernel_factory.admin(s)
        anna = kernel_factory.user(s, "anna", roles=["alpha_own"])
        _, admin_tok = create_token(s, admin, "t")
        _, anna_tok = create_token(s, anna, "t")
        ids = {"admin": admin.id, "anna": anna.id}
    app = create_app(k, testing=True)
    return k, app.test_client(), admin_tok, anna_tok, ids


def H(tok, **extra):
    return {"Authorization": f"Bearer {tok}", **extra}


def test_crud_with_etags_and_problems(env):
    k, c, tok, _, _ = env
    r = c.post("/api/v1/alpha/thing", json={"name": "Młotek", "price": "9.99",
                                            "extra": {"colour": "red"}}, headers=H(tok))
    assert r.status_code == 201, r.json
    tid = r.json["id"]
    assert r.headers["ETag"] == '"1"' and r.headers["Location"].endswith(f"/thing/{tid}")
    assert r.json["extra"] == {"colour": "red"}
    r = c.get(f"/api/v1/alpha/thing/{tid}", headers=H(tok))
    assert r.json["name"] == "Młotek"
    r = c.patch(f"/api/v1/alpha/thing/{tid}", json={"name": "Młot"}, headers=H(tok))
    assert r.status_code == 428 and r.mimetype == "application/problem+json"
    r = c.patch(f"/api/v1/alpha/thing/{tid}", json={"name": "Młot"},
                headers=H(tok, **{"If-Match": '"1"'}))
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    r = c.patch(f"/api/v1/alpha/thing/{tid}", json={"name": "Stary"},
                headers=H(tok, **{"If-Match": '"1"'}))
    assert r.status_code == 412 and "kogoś innego" in r.json["detail"]
    r = c.post("/api/v1/alpha/thing", json={"qty": "dużo"}, headers=H(tok))
    assert r.status_code == 422 and "qty" in r.json["errors"]
    r = c.post("/api/v1/alpha/thing", data="{not json", headers=H(
        tok, **{"Content-Type": "application/json"}))
    assert r.status_code == 422
    assert c.get("/api/v1/alpha/nothing", headers=H(tok)).status_code == 404
    assert c.patch("/api/v1/alpha/thing/1756237220027495971263873024", json={},
                   headers=H(tok)).status_code == 404
    assert c.get("/api/v1/alpha/thing?page=0", headers=H(tok)).status_code == 422
    assert c.get("/api/v1/alpha/thing?qty__gte=x", headers=H(tok)).status_code == 422
    r = c.post(f"/api/v1/alpha/thing/{tid}/actions/double", json={}, headers=H(tok))
    assert r.status_code == 200 and r.json["result"] == {"qty": 0}
    r = c.delete(f"/api/v1/alpha/thing/{tid}", headers=H(tok, **{"If-Match": '"2"'}))
    assert r.status_code == 204
    assert c.get(f"/api/v1/alpha/thing/{tid}", headers=H(tok)).status_code == 404


def test_list_paging_filters_sort_fields(env):
    k, c, tok, _, _ = env
    for i in range(5):
        c.post("/api/v1/alpha/thing", json={"name": f"Rzecz {i}", "qty": i}, headers=H(tok))
    r = c.get("/api/v1/alpha/thing?per_page=2&page=2&sort=-qty&fields=name,qty",
              headers=H(tok))
    assert r.json["total"] == 6 and r.headers["X-Total-Count"] == "6"
    assert [x["qty"] for x in r.json["items"]] == [2, 1]
    assert set(r.json["items"][0]) == {"id", "name", "qty", "_display"}
    assert 'rel="next"' in r.headers["Link"] and 'rel="prev"' in r.headers["Link"]
    r = c.get("/api/v1/alpha/thing?qty__gte=3&q=rzecz", headers=H(tok))
    assert sorted(x["qty"] for x in r.json["items"]) == [3, 4]


def test_same_rules_through_token_and_session(env):
    k, c, tok, anna_tok, ids = env
    c.post("/api/v1/alpha/thing", json={"name": "Anny", "owner_id": ids["anna"],
                                        "secret": "x"}, headers=H(tok))
    c.post("/api/v1/alpha/thing", json={"name": "Cudze"}, headers=H(tok))
    r = c.get("/api/v1/alpha/thing", headers=H(anna_tok))
    assert [x["name"] for x in r.json["items"]] == ["Anny"]
    assert "secret" not in r.json["items"][0]
    assert c.get("/api/v1/alpha/thing").status_code == 401
    # the browser door: session cookie + CSRF
    s = k.db.Session()
    with c.session_transaction() as sess:
        sess["uid"] = ids["anna"]
        sess["csrf_token"] = "tok123"
    s.close()
    r = c.get("/api/v1/alpha/thing")
    assert [x["name"] for x in r.json["items"]] == ["Anny"]
    r = c.post("/api/v1/alpha/thing", json={"name": "bez csrf", "owner_id": ids["anna"]})
    assert r.status_code == 403 and "CSRF" in r.json["detail"]
    r = c.post("/api/v1/alpha/thing", json={"name": "z csrf", "owner_id": ids["anna"]},
               headers={"X-CSRFToken": "tok123"})
    assert r.status_code == 201
    r = c.get("/api/v1/explain?entity=alpha.thing&op=delete", headers=H(anna_tok))
    assert r.json["allowed"] is False and r.json["reasons"][0]["outcome"] == "denied"


def test_bulk_is_all_or_nothing(env):
    k, c, tok, _, _ = env
    r = c.post("/api/v1/alpha/thing/bulk", json={"create": [{"name": "a"}, {"qty": 1},
                                                             {"name": "c"}]}, headers=H(tok))
    assert r.status_code == 422
    assert [row["status"] for row in r.json["rows"]] == [201, 422, 201]
    assert c.get("/api/v1/alpha/thing", headers=H(tok)).json["total"] == 1  # seed only
    r = c.post("/api/v1/alpha/thing/bulk", json={"create": [{"name": "a"}, {"name": "b"}]},
               headers=H(tok))
    assert r.status_code == 200
    assert c.get("/api/v1/alpha/thing", headers=H(tok)).json["total"] == 3


def test_disabled_plugin_vanishes_from_routes_and_openapi(env):
    k, c, tok, _, _ = env
    spec = c.get("/api/openapi.json").json
    assert "/api/v1/alpha/thing" in spec["paths"]
    assert "extra" in json.dumps(spec["components"]["schemas"])
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    other = Kernel(k.settings, manifests=k.manifests)     # another process
    other.refresh(force=True)
    other.disable(["beta"])
    spec = c.get("/api/openapi.json").json
    assert "extra" not in json.dumps(spec["components"]["schemas"])
    other.disable(["alpha"])
    assert "/api/v1/alpha/thing" not in c.get("/api/openapi.json").json["paths"]
    assert c.get("/api/v1/alpha/thing", headers=H(tok)).status_code == 404
    other.close()


def test_tokens_and_security_headers(env):
    k, c, tok, _, _ = env
    r = c.post("/api/v1/me/tokens", json={"name": "skrypt"}, headers=H(tok))
    assert r.status_code == 201 and r.json["token"].startswith("kt_")
    new = r.json["token"]
    assert c.get("/api/v1/me", headers=H(new)).json["login"] == "admin"
    c.delete(f"/api/v1/me/tokens/{r.json['id']}", headers=H(tok))
    r = c.get("/api/v1/me", headers=H(new))
    assert r.status_code == 401
    assert "default-src 'self'" in r.headers["Content-Security-Policy"]
    assert r.headers["X-Frame-Options"] == "DENY" and r.headers["X-Request-ID"]
