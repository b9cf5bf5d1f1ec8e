"""Structured logs carry the web request's id into the jobs it enqueued."""

import json
import logging
from pathlib import Path

from core import jobs
from core.logging import JsonFormatter
from core.security.services import create_token
from core.web.app import create_app

REG = Path(__file__).resolve().parents[1] / "fixtures" / "addons_registry.toml"


def test_request_id_flows_into_job_logs(kernel_factory):
    import flask
    k = kernel_factory(install=["jobsdemo"], registry_file=REG)
    app = create_app(k, testing=True)

    @app.route("/_enqueue", methods=["POST"])
    def _enqueue():
        return {"id": jobs.enqueue(flask.g.db, "jobsdemo.tick", kwargs={"label": "log"})}

    with k.db.session() as s:
        _, tok = create_token(s, kernel_factory.admin(s), "t")
    r = app.test_client().post("/_enqueue", headers={"Authorization": f"Bearer {tok}",
                                                     "X-Request-ID": "req-42"})
    assert r.headers["X-Request-ID"] == "req-42"
    records = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(JsonFormatter().format(record))

    h = Capture()
    logging.getLogger("kartoteka.jobs").addHandler(h)
    logging.getLogger("kartoteka.jobs").setLevel(logging.INFO)
    try:
        jobs.drain(k)
    finally:
        logging.getLogger("kartoteka.jobs").removeHandler(h)
    lines = [json.loads(x) for x in records]
    done = [x for x in lines if x["message"].endswith("done")]
    assert done and done[0]["request_id"] == "req-42"
