"""Operational endpoints: ``/healthz`` (database, broker, scheduler lag), ``/metrics``
(Prometheus: request latency, job counts, queue depth) and job status for the API."""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, g, jsonify, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    generate_latest,
)

from core.db import utcnow
from core.errors import NotFoundError, PermissionDenied
from core.metrics import JOBS, QUEUE, REGISTRY
from core.metrics import REQUEST_SECONDS as LATENCY

bp = Blueprint("ops", __name__)


def init_ops(app) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _t0():
        g.t0 = time.perf_counter()

    @app.after_request
    def _observe(resp):
        if g.get("t0") is not None:
            LATENCY.labels(request.method, request.endpoint or "-",
                           str(resp.status_code)).observe(time.perf_counter() - g.t0)
        return resp


def _scheduler_lag(session) -> float | None:
    from core.jobs_models import ScheduleState
    oldest = session.scalar(sa.select(sa.func.min(ScheduleState.next_run_at)))
    if oldest is None:
        return None
    return max(0.0, (utcnow() - oldest).total_seconds())


@bp.route("/healthz")
def healthz():
    kernel = current_app.kernel
    out = {"database": "ok", "broker": "database", "scheduler_lag_seconds": None}
    status = 200
    try:
        g.db.execute(sa.text("SELECT 1"))
        out["scheduler_lag_seconds"] = _scheduler_lag(g.db)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        out["database"] = f"error: {type(exc).__name__}"
        status = 503
    if kernel.settings.redis_url:
        out["broker"] = "redis"
        try:
            import redis
            redis.Redis.from_url(kernel.settings.redis_url, socket_timeout=2).ping()
        except Exception as exc:  # noqa: BLE001
            out["broker"] = f"redis error: {type(exc).__name__}"
            status = 503
    out["plugins"] = list(kernel.enabled)
    return jsonify(out), status


@bp.route("/metrics")
def metrics():
    from core.jobs_models import Job
    for state, n in g.db.execute(sa.select(Job.state, sa.func.count()).group_by(Job.state)):
        JOBS.labels(state).set(n)
    QUEUE.set(g.db.scalar(sa.select(sa.func.count()).select_from(Job).where(
        Job.state.in_(("queued", "failed")), Job.run_at <= utcnow())) or 0)
    return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)


@bp.route("/api/v1/jobs/<job_id>")
def job(job_id: str):
    """Status of one job (for progress bars): its owner or a superuser."""
    from core.jobs import job_status
    from core.jobs_models import Job
    user = g.get("user")
    row = g.db.get(Job, job_id)
    if user is None:
        raise PermissionDenied("Zaloguj się, aby zobaczyć stan zadania.")
    if row is None or (row.user_id != user.id and not user.superuser):
        raise NotFoundError("Nie ma takiego zadania.")
    return jsonify(job_status(g.db, job_id))
