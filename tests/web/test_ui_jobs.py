"""The dead-letter admin page with the real jobs system: list, retry, discard."""

from pathlib import Path

import sqlalchemy as sa

from core import jobs
from core.jobs_models import Job
from tests.e2e.support import UIClient, make_app

REG = Path(__file__).resolve().parents[1] / "fixtures" / "addons_registry.toml"


def test_dead_letters_retry_and_discard(kernel_factory):
    k = kernel_factory(install=["jobsdemo"], registry_file=REG)
    with k.db.session() as s:
        kernel_factory.admin(s)
        a = jobs.enqueue(s, "jobsdemo.always_fails", max_retries=0)
        b = jobs.enqueue(s, "jobsdemo.always_fails", max_retries=0)
    jobs.drain(k)
    c = UIClient(make_app(k))
    c.login()
    page = c.get("/admin/jobs").get_data(as_text=True)
    assert "serwer SMS nie odpowiada" in page and a in page and b in page
    r = c.post("/admin/jobs", data={"id": a, "op": "retry"})
    assert r.status_code == 302
    r = c.post("/admin/jobs", data={"id": b, "op": "discard"})
    with k.db.session() as s:
        assert s.get(Job, a).state == "queued"
        assert s.get(Job, b).state == "cancelled"
        assert s.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.state == "dead")) == 0


def test_progress_page_for_a_users_job(kernel_factory):
    k = kernel_factory(install=["jobsdemo"], registry_file=REG)
    with k.db.session() as s:
        admin = kernel_factory.admin(s)
        jid = jobs.enqueue(s, "jobsdemo.make_thing", kwargs={"name": "x"}, user_id=admin.id)
    c = UIClient(make_app(k))
    c.login()
    page = c.get(f"/jobs/{jid}").get_data(as_text=True)
    assert "W kolejce" in page and 'hx-trigger="every 1s"' in page
    jobs.drain(k)
    bar = c.get(f"/jobs/{jid}/bar").get_data(as_text=True)
    assert "Zakończone" in bar and "hx-trigger" not in bar
    assert c.get("/jobs/nope").status_code == 404
