"""Due items kept in a plugin's own table are processed once by concurrent schedulers."""

import datetime as dt
import threading
from pathlib import Path

import sqlalchemy as sa

from core.db import utcnow
from core.jobs import claim_due

REG = Path(__file__).resolve().parents[1] / "fixtures" / "addons_registry.toml"


def test_each_due_row_claimed_once_by_concurrent_schedulers(kernel_factory):
    k = kernel_factory(install=["delta"], registry_file=REG)
    from tests.fixtures.plugins.alpha.models import Thing
    with k.db.session() as s:
        for i in range(30):
            s.add(Thing(name=f"r{i}", qty=1))      # qty=1: "due"; 0: done
    processed: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(3)

    def scheduler():
        barrier.wait()
        while True:
            with k.db.session(write=True) as s:
                rows = claim_due(s, Thing, Thing.updated_at, limit=5,
                                 now=utcnow() + dt.timedelta(days=1),
                                 extra=(Thing.qty == 1) & Thing.code.is_(None))
                if not rows:
                    return
                for r in rows:
                    r.qty = 0                      # moved out of "due" in the same tx
                with lock:
                    processed.extend(r.id for r in rows)

    ts = [threading.Thread(target=scheduler) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(processed) == 30 and len(set(processed)) == 30
    with k.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Thing).where(
            Thing.qty == 1, Thing.code.is_(None))) == 0
