"""Jobs through the outbox, retries, dead letters, idempotency, plugin state, schedules."""

import datetime as dt
import os
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import jobs
from core.db import utcnow
from core.jobs_models import Job, ScheduleState
from tests.fixtures.plugins import jobsdemo

REG = Path(__file__).resolve().parents[1] / "fixtures" / "addons_registry.toml"


@pytest.fixture
def k(kernel_factory):
    jobsdemo.calls.clear()
    return kernel_factory(install=["jobsdemo"], registry_file=REG)


@pytest.fixture(params=["inprocess", pytest.param("redis", marks=pytest.mark.redis)])
def drain(request, k):
    """Run due jobs to the end through the in-process worker or the Redis broker."""
    if request.param == "inprocess":
        yield jobs.drain
        return
    url = os.environ.get("KARTOTEKA_TEST_REDIS_URL")
    if not url:
        if os.environ.get("KARTOTEKA_REQUIRE_SERVERS") == "1":
            pytest.fail("KARTOTEKA_TEST_REDIS_URL required")
        pytest.skip("KARTOTEKA_TEST_REDIS_URL not set")
    relay = jobs.RedisRelay(k, url, namespace=f"kt-test-{uuid.uuid4().hex[:8]}")
    worker = relay.worker(2)
    worker.start()

    def running():
        with k.db.session() as s:
            return s.scalar(sa.select(sa.func.count()).select_from(Job).where(
                Job.state == "running"))

    def drain_redis(kernel, max_rounds=1000):
        total = 0
        for _ in range(max_rounds):
            n = relay.relay_once(50)
            total += n
            end = time.time() + 30
            while running() and time.time() < end:
                time.sleep(0.02)
            if not n:
                break
        return total

    yield drain_redis
    worker.stop()
    relay.broker.close()


def things(k):
    from tests.fixtures.plugins.alpha.models import Thing
    with k.db.session() as s:
        return sorted(s.scalars(sa.select(Thing.name).where(Thing.code.is_(None))))


def test_rolled_back_transaction_enqueues_nothing(k, drain):
    s = k.db.Session()
    jobs.enqueue(s, "jobsdemo.make_thing", kwargs={"name": "nie"})
    s.rollback()
    s.close()
    with k.db.session() as s:
        jid = jobs.enqueue(s, "jobsdemo.make_thing", kwargs={"name": "tak"})
    assert drain(k) == 1
    assert things(k) == ["tak"]
    with k.db.session() as s:
        st = jobs.job_status(s, jid)
    assert st["state"] == "done" and st["result"] == {"made": "tak"}
    assert st["progress"]["message"] in ("start", None)


def test_redelivered_job_does_not_act_twice(k, drain):
    with k.db.session() as s:
        jid = jobs.enqueue(s, "jobsdemo.make_thing", kwargs={"name": "raz"})
        assert jobs.enqueue(s, "jobsdemo.make_thing", kwargs={"name": "raz"},
                            job_id=jid) == jid
    drain(k)
    assert jobs.run(k, jid) == "done"            # a second delivery of the same job
    assert things(k) == ["raz"] and jobsdemo.calls == ["raz"]


def test_crashed_worker_lease_expires_and_job_completes_once(k, drain):
    with k.db.session() as s:
        jid = jobs.enqueue(s, "jobsdemo.make_thing", kwargs={"name": "po awarii"})
    assert jobs.claim(k, 1) == [jid]           # the worker claimed it and "died"
    assert jobs.work_once(k) == 0              # leased: nobody else takes it yet
    with k.db.session() as s:
        s.get(Job, jid).locked_until = utcnow() - dt.timedelta(seconds=1)
    assert drain(k) == 1
    assert things(k) == ["po awarii"]


def test_retries_with_backoff_then_dead_letter(k, drain):
    jobsdemo.flaky_state["fail_times"] = 2
    with k.db.session() as s:
        ok = jobs.enqueue(s, "jobsdemo.flaky")
        bad = jobs.enqueue(s, "jobsdemo.always_fails", max_retries=2)
    drain(k)
    with k.db.session() as s:
        assert jobs.job_status(s, ok)["state"] == "done"
        assert jobs.job_status(s, ok)["attempts"] == 3
        st = jobs.job_status(s, bad)
        assert st["state"] == "dead" and st["attempts"] == 3
        assert "serwer SMS nie odpowiada" in st["last_error"]
        assert [j.id for j in jobs.dead_letters(s)] == [bad]
        jobs.retry_job(s, bad)
    with k.db.session() as s:
        assert jobs.job_status(s, bad)["state"] == "queued"
    drain(k)                                 # fails again -> dead again
    with k.db.session() as s:
        jobs.discard_job(s, bad)
        assert jobs.dead_letters(s) == []
        with pytest.raises(Exception, match="nieudanych"):
            jobs.retry_job(s, ok)


def test_jobs_of_disabled_plugin_wait_and_uninstall_cancels(k, drain):
    k.disable(["jobsdemo"])
    with k.db.session() as s:
        jid = jobs.enqueue(s, "jobsdemo.make_thing", kwargs={"name": "czeka"})
    assert drain(k) == 0
    k.enable(["jobsdemo"])
    assert drain(k) == 1 and things(k) == ["czeka"]
    with k.db.session() as s:
        later = jobs.enqueue(s, "jobsdemo.tick", delay=3600)
    k.uninstall(["jobsdemo"])
    with k.db.session() as s:
        assert s.get(Job, later).state == "cancelled"
        assert s.get(Job, jid).state == "done"


def test_two_schedulers_run_each_due_time_once(k, drain):
    t0 = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
    barrier = threading.Barrier(4)
    fired: list = []

    def scheduler():
        barrier.wait()
        fired.extend(jobs.schedule_tick(k, now=t0))

    ts = [threading.Thread(target=scheduler) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert fired.count("jobsdemo.every_minute") == 1
    # catch-up: two hours down -> one run, not 120
    fired = jobs.schedule_tick(k, now=t0 + dt.timedelta(hours=2))
    assert fired == ["jobsdemo.every_minute"]
    with k.db.session() as s:
        row = s.get(ScheduleState, "jobsdemo.every_minute")
        assert row.next_run_at == t0 + dt.timedelta(hours=2, minutes=1)
        n = s.scalar(sa.select(sa.func.count()).select_from(Job).where(
            Job.name == "jobsdemo.tick"))
    assert n == 2
    drain(k)
    assert jobsdemo.calls.count("minute") == 2


@pytest.mark.parametrize("after,expected", [
    # 29 March 2026: 02:00 -> 03:00 in Warsaw; 02:30 does not exist that night
    (dt.datetime(2026, 3, 28, 12, 0, tzinfo=dt.UTC), dt.datetime(2026, 3, 30, 0, 30,
                                                                 tzinfo=dt.UTC)),
    # 25 October 2026: 03:00 -> 02:00; 02:30 happens twice, run once (first, CEST)
    (dt.datetime(2026, 10, 24, 12, 0, tzinfo=dt.UTC), dt.datetime(2026, 10, 25, 0, 30,
                                                                  tzinfo=dt.UTC)),
    (dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC), dt.datetime(2026, 10, 26, 1, 30,
                                                                  tzinfo=dt.UTC)),
])
def test_cron_in_warsaw_across_dst(after, expected):
    assert jobs.next_cron("30 2 * * *", after) == expected


def test_cron_fields_and_errors():
    after = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)   # Monday 13:00 Warsaw
    assert jobs.next_cron("0 7 * * 1", after) == dt.datetime(2026, 11, 30, 6, 0,
                                                             tzinfo=dt.UTC)
    assert jobs.next_cron("*/15 13 * * *", after) == dt.datetime(2026, 11, 23, 12, 15,
                                                                 tzinfo=dt.UTC)
    with pytest.raises(Exception, match="cron"):
        jobs.next_cron("61 * * *", after)
    with pytest.raises(Exception, match="zakresem"):
        jobs.next_cron("61 * * * *", after)


def test_many_jobs_from_concurrent_transactions_run_exactly_once(k):
    def producer(i):
        for j in range(25):
            with k.db.session(write=True) as s:
                jobs.enqueue(s, "jobsdemo.make_thing", kwargs={"name": f"{i}-{j}"})

    ts = [threading.Thread(target=producer, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    workers = [jobs.Worker(k, threads=3, scheduler=False, poll=0.05).start()]
    for t in ts:
        t.join()
    deadline = utcnow() + dt.timedelta(seconds=60)
    while utcnow() < deadline:
        with k.db.session() as s:
            left = s.scalar(sa.select(sa.func.count()).select_from(Job).where(
                Job.state != "done"))
        if not left:
            break
        threading.Event().wait(0.2)
    for w in workers:
        w.stop()
    made = things(k)
    assert len(made) == 100 and len(set(made)) == 100


@pytest.mark.slow
def test_ten_thousand_jobs_from_concurrent_transactions_run_exactly_once(k):
    """The bounded load test: 10,000 jobs enqueued by concurrent transactions."""
    from bench.jobs_throughput import enqueue_all
    jobsdemo.calls.clear()
    enqueue_all(k, 10_000, producers=4)
    w = jobs.Worker(k, threads=4, scheduler=False, poll=0.01).start()
    deadline = utcnow() + dt.timedelta(seconds=240)
    try:
        while utcnow() < deadline:
            with k.db.session() as s:
                left = s.scalar(sa.select(sa.func.count()).select_from(Job).where(
                    Job.state != "done"))
            if not left:
                break
            threading.Event().wait(0.5)
    finally:
        w.stop()
    assert left == 0
    assert len(jobsdemo.calls) == 10_000 and len(set(jobsdemo.calls)) == 10_000
