"""Jobs through the real Redis broker (dramatiq): delivery, Redis down while business
transactions commit, redelivery after a lost worker."""

import time
from pathlib import Path

import sqlalchemy as sa

from core import jobs
from core.jobs_models import Job
from tests.fixtures.plugins import jobsdemo

REG = Path(__file__).resolve().parents[1] / "fixtures" / "addons_registry.toml"


def wait_for(pred, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def states(k):
    with k.db.session() as s:
        return dict(s.execute(sa.select(Job.state, sa.func.count()).group_by(Job.state)).all())


def test_jobs_delivered_through_redis_and_survive_an_outage(kernel_factory, redis_server):
    jobsdemo.calls.clear()
    k = kernel_factory(install=["jobsdemo"], registry_file=REG)
    relay = jobs.RedisRelay(k, redis_server.url)
    worker = relay.worker(threads=2)
    worker.start()
    try:
        with k.db.session() as s:
            for i in range(5):
                jobs.enqueue(s, "jobsdemo.make_thing", kwargs={"name": f"r{i}"})
        assert relay.relay_once() == 5
        assert wait_for(lambda: states(k).get("done") == 5)
        # Redis goes down while business transactions commit: jobs wait in the outbox
        redis_server.stop()
        with k.db.session() as s:
            for i in range(3):
                jobs.enqueue(s, "jobsdemo.make_thing", kwargs={"name": f"down{i}"})
        assert relay.relay_once() == 0
        assert states(k).get("queued") == 3
        redis_server.start()
        assert wait_for(lambda: relay.relay_once() or states(k).get("queued", 0) == 0)
        assert wait_for(lambda: states(k).get("done") == 8)
    finally:
        worker.stop()
        relay.broker.close()
    assert sorted(jobsdemo.calls) == sorted([f"r{i}" for i in range(5)] +
                                            [f"down{i}" for i in range(3)])
