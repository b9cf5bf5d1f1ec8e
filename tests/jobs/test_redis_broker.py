"""Jobs through the real Redis broker (dramatiq): delivery, Redis down while business
transactions commit, redelivery after a lost worker."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import jobs
from core.jobs_models import Job
from tests.fixtures.plugins import jobsdemo

REG = Path(__file__).resolve().parents[1] / "fixtures" / "addons_registry.toml"


def _redis_binary():
    path = os.environ.get("KARTOTEKA_TEST_REDIS_SERVER") or shutil.which("redis-server")
    if not path:
        if os.environ.get("KARTOTEKA_REQUIRE_SERVERS") == "1":
            pytest.fail("redis-server required but not found")
        pytest.skip("redis-server not installed")
    return path


class Redis:
    """A private redis-server that a test may stop and start again on the same port."""

    def __init__(self, tmp):
        self.bin = _redis_binary()
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.tmp = tmp
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.proc = subprocess.Popen([self.bin, "--port", str(self.port), "--bind",
                                      "127.0.0.1", "--save", "", "--appendonly", "no",
                                      "--dir", str(self.tmp)], stdout=subprocess.DEVNULL)
        import redis
        for _ in range(100):
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def redis_server(tmp_path):
    r = Redis(tmp_path)
    r.start()
    yield r
    r.stop()


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
