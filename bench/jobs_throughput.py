"""Jobs per second through the outbox, on the database broker and on Redis (dramatiq).

    .venv/bin/python bench/jobs_throughput.py [--jobs 2000] [--db URL] [--redis URL]

Prints JSON: {"database": {"jobs": N, "enqueue_per_s": .., "run_per_s": ..}, "redis": ...}.
Loopback only; bounded by --jobs.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from core import jobs  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.jobs_models import Job  # noqa: E402
from core.kernel import Kernel  # noqa: E402
from core.plugins import discover  # noqa: E402

REG = ROOT / "tests" / "fixtures" / "addons_registry.toml"


def kernel(url: str, tmp: str) -> Kernel:
    k = Kernel(load_settings(root=tmp, env={}, database_url=url), manifests=discover(REG))
    k.init_db()
    k.install(["jobsdemo"])
    return k


def enqueue_all(k: Kernel, n: int, producers: int = 4) -> float:
    t0 = time.perf_counter()

    def produce(i):
        for j in range(i, n, producers):
            with k.db.session(write=True) as s:
                jobs.enqueue(s, "jobsdemo.tick", kwargs={"label": f"b{j}"})

    ts = [threading.Thread(target=produce, args=(i,)) for i in range(producers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - t0


def done(k: Kernel) -> int:
    with k.db.session() as s:
        return s.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.state == "done"))


def bench(k: Kernel, n: int, redis_url: str | None) -> dict:
    enq = enqueue_all(k, n)
    t0 = time.perf_counter()
    if redis_url:
        relay = jobs.RedisRelay(k, redis_url)
        w = relay.worker(4)
        w.start()
        while done(k) < n and time.perf_counter() - t0 < 600:
            if not relay.relay_once(200):
                time.sleep(0.05)
        w.stop()
    else:
        w = jobs.Worker(k, threads=4, scheduler=False, poll=0.01).start()
        while done(k) < n and time.perf_counter() - t0 < 600:
            time.sleep(0.05)
        w.stop()
    run = time.perf_counter() - t0
    return {"jobs": n, "done": done(k), "enqueue_per_s": round(n / enq, 1),
            "run_per_s": round(n / run, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--db", default=None, help="database URL (default: a temp SQLite file)")
    ap.add_argument("--redis", default=None, help="redis URL for the Redis broker run")
    a = ap.parse_args()
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = a.db or f"sqlite:///{tmp}/bench.db"
        out["database"] = bench(kernel(url, tmp), a.jobs, None)
        if a.redis:
            if a.db:                        # same database: start from an empty job table
                k = Kernel(load_settings(root=tmp, env={}, database_url=url),
                           manifests=discover(REG))
                k.refresh(force=True)
                with k.db.session() as s:
                    s.execute(sa.delete(Job))
            else:
                k = kernel(f"sqlite:///{tmp}/bench-redis.db", tmp)
            out["redis"] = bench(k, a.jobs, a.redis)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
