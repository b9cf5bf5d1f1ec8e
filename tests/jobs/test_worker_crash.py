"""A worker process killed (SIGKILL) in the middle of a job: the job is taken over by
another worker after its lease and completes exactly once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import sqlalchemy as sa

from core import jobs
from core.jobs_models import Job

ROOT = Path(__file__).resolve().parents[2]
REG = ROOT / "tests" / "fixtures" / "addons_registry.toml"
BIN = Path(sys.executable).with_name("kartoteka")


def _worker(db_url, tmp_path):
    env = {**os.environ, "KARTOTEKA_DATABASE_URL": db_url, "KARTOTEKA_ROOT": str(tmp_path),
           "KARTOTEKA_ADDONS_REGISTRY": str(REG), "KARTOTEKA_JOB_LEASE_SECONDS": "2",
           "PYTHONPATH": str(ROOT)}
    env.pop("KARTOTEKA_REDIS_URL", None)
    return subprocess.Popen([str(BIN), "worker", "--threads", "1", "--no-scheduler"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _state(k, jid):
    with k.db.session() as s:
        return s.get(Job, jid).state


def test_killed_worker_job_is_redelivered_and_completes_once(kernel_factory, db_url,
                                                            tmp_path):
    k = kernel_factory(install=["jobsdemo"],
                       registry_file=REG, var_dir=tmp_path / "var")
    with k.db.session() as s:
        jid = jobs.enqueue(s, "jobsdemo.slow", kwargs={"name": "raz", "seconds": 4})
    first = _worker(db_url, tmp_path)
    try:
        end = time.time() + 60
        while _state(k, jid) != "running" and time.time() < end:
            time.sleep(0.1)
        assert _state(k, jid) == "running"
        time.sleep(0.5)
        first.send_signal(signal.SIGKILL)             # dies inside the job
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    second = _worker(db_url, tmp_path)
    try:
        end = time.time() + 60
        while _state(k, jid) != "done" and time.time() < end:
            time.sleep(0.2)
    finally:
        second.terminate()
        second.wait(10)
    assert _state(k, jid) == "done"
    from tests.fixtures.plugins.alpha.models import Thing
    with k.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Thing).where(
            Thing.name == "raz")) == 1
        assert s.get(Job, jid).attempts == 2
