"""/healthz, /metrics and job status through the API."""

from pathlib import Path

from core import jobs
from core.security.services import create_token
from core.web.app import create_app

REG = Path(__file__).resolve().parents[1] / "fixtures" / "addons_registry.toml"


def test_health_metrics_and_job_status(kernel_factory):
    k = kernel_factory(install=["jobsdemo"], registry_file=REG)
    with k.db.session() as s:
        admin = kernel_factory.admin(s)
        other = kernel_factory.user(s, "inny")
        _, tok = create_token(s, admin, "t")
        _, other_tok = create_token(s, other, "t")
        jid = jobs.enqueue(s, "jobsdemo.make_thing", kwargs={"name": "x"}, user_id=admin.id)
    c = create_app(k, testing=True).test_client()
    r = c.get("/healthz")
    assert r.status_code == 200 and r.json["database"] == "ok"
    assert "jobsdemo" in r.json["plugins"]
    r = c.get("/metrics")
    assert b'kartoteka_jobs{state="queued"} 1.0' in r.data
    assert b"kartoteka_queue_depth 1.0" in r.data
    assert b"kartoteka_request_seconds" in r.data
    jobs.drain(k)
    assert b'kartoteka_job_seconds_count{job="jobsdemo.make_thing",state="done"}' in \
        c.get("/metrics").data
    r = c.get(f"/api/v1/jobs/{jid}", headers={"Authorization": f"Bearer {tok}"})
    assert r.json["state"] == "done" and r.json["result"] == {"made": "x"}
    r = c.get(f"/api/v1/jobs/{jid}", headers={"Authorization": f"Bearer {other_tok}"})
    assert r.status_code == 404
