"""Background jobs and periodic schedules.

Plugin API::

    def send_reminders(ctx, day=None):           # ctx: JobContext
        ctx.progress(0, 10, "Wysyłanie")
        ... ctx.session ... ctx.kernel ...
        return {"sent": 10}                       # stored as the job's result

    @hookimpl
    def kartoteka_register(ctx):
        ctx.job(send_reminders, name="clients.send_reminders", max_retries=5)
        ctx.schedule("clients.daily", "clients.send_reminders", cron="0 7 * * *")

    from core.jobs import enqueue
    enqueue(session, "clients.send_reminders", kwargs={"day": "2026-12-01"})

How it works:

* ``enqueue`` writes a ``core_job`` row in the caller's session — the transactional outbox:
  a rolled-back business transaction enqueues nothing, a committed one cannot lose its job.
* Workers claim due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; the write lock on
  SQLite) and run the job function in one transaction together with the row's ``done``
  mark, so a job's writes and its completion commit or roll back together and a job that
  is already done is never run again (idempotent redelivery). A worker that dies mid-job
  leaves the row ``running`` with an expired lease; another worker takes it over.
* A failing job is retried with exponential backoff (``min_backoff`` seconds × 2^attempt);
  after ``max_retries`` it is ``dead`` (the dead-letter list, with its last error): admins
  retry or discard it.
* Jobs of a disabled plugin wait (they are not claimed) and run after re-enabling; an
  uninstall cancels them.
* Schedules (``interval`` seconds, or ``cron`` "m h dom mon dow" evaluated in
  Europe/Warsaw, DST-correct) keep their next due time in ``core_schedule``; a due time
  missed while everything was down runs once on start-up.

Workers: ``kartoteka serve`` starts in-process worker threads on the embedded default;
``kartoteka worker`` runs a standalone worker (any number, on any machine sharing the
database). With ``KARTOTEKA_REDIS_URL`` the worker relays due jobs from the outbox to
dramatiq's Redis broker and runs a dramatiq worker (:class:`RedisRelay`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from dateutil import rrule
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import NotFoundError, ValidationError
from core.jobs_models import Job, ScheduleState

log = logging.getLogger("kartoteka.jobs")
WARSAW = ZoneInfo("Europe/Warsaw")


# -- enqueueing -----------------------------------------------------------------------------

def enqueue(session: Session, name: str, *, kwargs: dict | None = None,
            delay: float | None = None, job_id: str | None = None,
            user_id: int | None = None, max_retries: int | None = None,
            request_id: str | None = None) -> str:
    """Write the job in the caller's transaction; returns its id. With an explicit
    ``job_id`` an already queued or finished job of that id is not enqueued twice."""
    plugin = name.split(".", 1)[0]
    if job_id and session.get(Job, job_id) is not None:
        return job_id
    if request_id is None:
        try:
            from flask import g, has_request_context
            request_id = g.get("request_id") if has_request_context() else None
        except ImportError:  # pragma: no cover
            request_id = None
    job = Job(id=job_id or str(uuid.uuid4()), name=name, plugin=plugin, kwargs=kwargs or {},
              run_at=utcnow() + dt.timedelta(seconds=delay or 0), user_id=user_id,
              max_retries=3 if max_retries is None else max_retries, request_id=request_id)
    session.add(job)
    session.flush()
    return job.id


_live_progress: dict[str, tuple[int, int, str | None]] = {}


@dataclass
class JobContext:
    kernel: object
    session: Session
    job: Job

    def progress(self, done: int, total: int, message: str | None = None) -> None:
        """Record progress: in memory for this process at once (the embedded default runs
        jobs in the web process) and in the job row by a separate transaction. On SQLite
        the running job holds the write lock, so only the in-memory value is kept (the
        embedded default runs web and jobs in one process); PostgreSQL shows it to every
        process."""
        _live_progress[self.job.id] = (done, total, message)
        with self.kernel.db.Session() as s:
            if s.get_bind().dialect.name == "sqlite":
                return
            s.execute(sa.update(Job).where(Job.id == self.job.id).values(
                progress_done=done, progress_total=total, progress_message=message))
            s.commit()


# -- claiming and running -------------------------------------------------------------------

def claim(kernel, limit: int = 1) -> list[str]:
    """Mark up to ``limit`` due jobs of enabled plugins as running and return their ids."""
    now = utcnow()
    enabled = list(kernel.enabled) + ["core"]
    with kernel.db.session(write=True) as s:
        q = sa.select(Job.id).where(
            Job.plugin.in_(enabled), Job.run_at <= now,
            sa.or_(Job.state.in_(("queued", "failed")),
                   sa.and_(Job.state == "running", Job.locked_until < now))
        ).order_by(Job.run_at).limit(limit)
        if s.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        ids = list(s.scalars(q))
        if ids:
            lease = dt.timedelta(seconds=kernel.settings.job_lease_seconds)
            s.execute(sa.update(Job).where(Job.id.in_(ids)).values(
                state="running", locked_until=now + lease, attempts=Job.attempts + 1))
    return ids


def run(kernel, job_id: str) -> str:
    """Run one claimed job; returns its final state."""
    kernel.refresh()
    with kernel.db.Session() as s:
        job = s.get(Job, job_id)
        if job is None or job.state in ("done", "dead", "cancelled"):
            return job.state if job else "missing"   # redelivered: never act twice
        spec = kernel.registry.jobs.get(job.name)
        if spec is None:
            if job.plugin not in kernel.enabled:
                job.state, job.locked_until = "queued", None   # waits for re-enabling
                s.commit()
                return "queued"
            return _fail(kernel, job_id, f"Nieznane zadanie '{job.name}'", permanent=True)
        name, kwargs = job.name, dict(job.kwargs or {})
        from core.logging import request_id
        request_id.set(job.request_id)     # the enqueuing request's id in the job's logs
    from core.metrics import JOB_SECONDS
    started = time.perf_counter()
    try:
        with kernel.db.session(write=True) as s:
            job = s.get(Job, job_id)
            if job.state != "running":
                return job.state
            result = spec.fn(JobContext(kernel, s, job), **kwargs)
            s.execute(sa.update(Job).where(Job.id == job_id, Job.state == "running").values(
                state="done", finished_at=utcnow(), locked_until=None,
                result=result if isinstance(result, dict) else (
                    None if result is None else {"value": str(result)})))
        log.info("job %s %s done", name, job_id)
        JOB_SECONDS.labels(name, "done").observe(time.perf_counter() - started)
        return "done"
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job
        log.warning("job %s %s failed: %s", name, job_id, exc)
        JOB_SECONDS.labels(name, "failed").observe(time.perf_counter() - started)
        busy = isinstance(exc, sa.exc.OperationalError) and "locked" in str(exc).lower()
        return _fail(kernel, job_id, _describe(exc), options=spec.options, busy=busy)


def _describe(exc: Exception) -> str:
    msg = getattr(exc, "message", None) or str(exc)
    tb = "".join(traceback.format_exception(exc)[-3:])
    return f"{type(exc).__name__}: {msg}\n{tb}"[:4000]


def _fail(kernel, job_id: str, error: str, *, permanent: bool = False,
          options: dict | None = None, busy: bool = False) -> str:
    options = options or {}
    with kernel.db.session(write=True) as s:
        job = s.get(Job, job_id)
        job.last_error = error
        job.locked_until = None
        if busy:                  # a busy database is not the job's fault: try again soon
            job.attempts -= 1
            job.state, job.run_at = "failed", utcnow() + dt.timedelta(seconds=0.2)
        elif permanent or job.attempts > job.max_retries:
            job.state, job.finished_at = "dead", utcnow()
        else:
            backoff = float(options.get("min_backoff", 1.0)) * (2 ** (job.attempts - 1))
            job.state = "failed"
            job.run_at = utcnow() + dt.timedelta(seconds=min(backoff, 3600))
        return job.state


def work_once(kernel, limit: int = 10) -> int:
    """Claim and run due jobs; returns how many ran."""
    ids = claim(kernel, limit)
    for jid in ids:
        run(kernel, jid)
    return len(ids)


def drain(kernel, max_rounds: int = 1000) -> int:
    """Run jobs until none is due (tests, CLI ``demo``)."""
    total = 0
    for _ in range(max_rounds):
        n = work_once(kernel, 50)
        if not n:
            break
        total += n
    return total


# -- due items in plugins' own tables -----------------------------------------------------------

def claim_due(session: Session, model, due_column, *, now: dt.datetime | None = None,
              limit: int = 100, extra=None) -> list:
    """Rows of a plugin's table whose ``due_column`` has passed (reminders, recurring
    documents), locked for this transaction: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
    several schedulers split the work and never take the same row; on SQLite call it in a
    write session (one writer at a time). The caller processes the rows and moves
    ``due_column`` forward (or clears it) in the same transaction — that is what makes each
    due item run once."""
    now = now or utcnow()
    q = sa.select(model).where(due_column.is_not(None), due_column <= now)
    if extra is not None:
        q = q.where(extra)
    q = q.order_by(due_column).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return list(session.scalars(q))


# -- admin: status and dead letters -----------------------------------------------------------

def job_status(session: Session, job_id: str) -> dict:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFoundError("Nie ma takiego zadania.")
    done, total, message = _live_progress.get(
        job.id, (job.progress_done, job.progress_total, job.progress_message))
    return {"id": job.id, "name": job.name, "state": job.state, "attempts": job.attempts,
            "last_error": job.last_error, "result": job.result,
            "progress": {"done": done, "total": total, "message": message},
            "user_id": job.user_id}


def dead_letters(session: Session) -> list[Job]:
    return list(session.scalars(sa.select(Job).where(Job.state == "dead")
                                .order_by(Job.finished_at.desc())))


def retry_job(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None or job.state != "dead":
        raise ValidationError("Ponowić można tylko zadanie z listy nieudanych.")
    job.state, job.attempts, job.run_at, job.finished_at = "queued", 0, utcnow(), None
    return job


def discard_job(session: Session, job_id: str) -> None:
    job = session.get(Job, job_id)
    if job is None or job.state != "dead":
        raise ValidationError("Odrzucić można tylko zadanie z listy nieudanych.")
    job.state = "cancelled"


def cancel_plugin_jobs(session: Session, plugin: str) -> int:
    """Uninstall: cancel the plugin's waiting jobs."""
    res = session.execute(sa.update(Job).where(
        Job.plugin == plugin, Job.state.in_(("queued", "failed", "running"))
    ).values(state="cancelled"))
    return res.rowcount or 0


# -- schedules ------------------------------------------------------------------------------------

_DOW = [rrule.SU, rrule.MO, rrule.TU, rrule.WE, rrule.TH, rrule.FR, rrule.SA]


def _field(text: str, lo: int, hi: int) -> list[int] | None:
    if text == "*":
        return None
    out: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, s = part.split("/")
            step = int(s)
        if part in ("*", ""):
            a, b = lo, hi
        elif "-" in part:
            a, b = (int(x) for x in part.split("-"))
        else:
            a = b = int(part)
        if not (lo <= a <= hi and lo <= b <= hi):
            raise ValidationError(f"Pole harmonogramu '{text}' poza zakresem {lo}-{hi}.")
        out.update(range(a, b + 1, step))
    return sorted(out)


def next_cron(expr: str, after: dt.datetime) -> dt.datetime:
    """Next time after ``after`` matching ``expr`` ("m h dom mon dow") in Europe/Warsaw,
    returned in UTC. Wall-clock times skipped by DST do not run that day; repeated ones
    run once."""
    try:
        m, h, dom, mon, dow = expr.split()
        minutes, hours = _field(m, 0, 59), _field(h, 0, 23)
        days, months = _field(dom, 1, 31), _field(mon, 1, 12)
        wdays = _field(dow, 0, 7)
    except ValueError as exc:
        raise ValidationError(f"Nieprawidłowe wyrażenie cron '{expr}': {exc}")
    local = after.astimezone(WARSAW).replace(tzinfo=None, second=0, microsecond=0)
    rule = rrule.rrule(
        rrule.MINUTELY, dtstart=local + dt.timedelta(minutes=1),
        byminute=minutes, byhour=hours, bymonthday=days, bymonth=months,
        byweekday=[_DOW[d % 7] for d in wdays] if wdays is not None else None)
    for cand in rule:
        aware = cand.replace(tzinfo=WARSAW)
        # skip nonexistent local times (spring forward): they do not round-trip
        if aware.astimezone(dt.UTC).astimezone(WARSAW).replace(tzinfo=None) != cand:
            continue
        utc = aware.astimezone(dt.UTC)     # fold=0: the first of repeated times
        if utc > after:
            return utc
    raise ValidationError(f"Wyrażenie cron '{expr}' nigdy nie wypada.")


def _next_due(spec, after: dt.datetime) -> dt.datetime:
    if spec.interval is not None:
        return after + dt.timedelta(seconds=spec.interval)
    return next_cron(spec.cron, after)


def schedule_tick(kernel, now: dt.datetime | None = None) -> list[str]:
    """Enqueue every due schedule once; returns the names enqueued. Safe to run in any
    number of processes at once."""
    now = now or utcnow()
    fired = []
    for name, spec in sorted(kernel.registry.schedules.items()):
        with kernel.db.session(write=True) as s:
            q = sa.select(ScheduleState).where(ScheduleState.name == name)
            if s.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            row = s.scalar(q)
            if row is None:
                exists = s.get(ScheduleState, name)
                if exists is not None:
                    continue                    # another scheduler holds it right now
                first = _next_due(spec, now) if spec.cron else now
                try:
                    with s.begin_nested():
                        s.add(ScheduleState(name=name, next_run_at=first))
                except sa.exc.IntegrityError:
                    continue
                if first > now:
                    continue
                row = s.get(ScheduleState, name)
            if row.next_run_at > now:
                continue
            # catch-up: one run for however many due times were missed
            enqueue(s, spec.job, kwargs=dict(spec.kwargs),
                    job_id=f"sched:{name}:{row.next_run_at.isoformat()}")
            row.last_run_at = now
            row.next_run_at = _next_due(spec, max(now, row.next_run_at))
            fired.append(name)
    return fired


# -- workers ---------------------------------------------------------------------------------------

class Worker:
    """Threads that run due jobs (and, optionally, the scheduler) until stopped."""

    def __init__(self, kernel, threads: int = 2, scheduler: bool = True,
                 poll: float = 0.5):
        self.kernel, self.threads, self.scheduler, self.poll = kernel, threads, scheduler, poll
        self.stop_event = threading.Event()
        self._threads: list[threading.Thread] = []

    def _loop(self, with_scheduler: bool) -> None:
        while not self.stop_event.is_set():
            try:
                self.kernel.refresh()
                if with_scheduler:
                    schedule_tick(self.kernel)
                if not work_once(self.kernel, 5):
                    self.stop_event.wait(self.poll)
            except Exception:  # noqa: BLE001 - a worker thread must survive errors
                log.exception("worker loop error")
                self.stop_event.wait(self.poll * 4)

    def start(self) -> Worker:
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, args=(self.scheduler and i == 0,),
                                 name=f"kartoteka-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, timeout: float = 10) -> None:
        self.stop_event.set()
        for t in self._threads:
            t.join(timeout)


_inprocess: Worker | None = None


def start_inprocess_worker(kernel) -> Worker:
    """Started by ``kartoteka serve`` in each web process on the embedded default."""
    global _inprocess
    if _inprocess is None:
        _inprocess = Worker(kernel, kernel.settings.worker_threads).start()
    return _inprocess


def run_worker(kernel, threads: int | None = None, scheduler: bool = True) -> None:
    """``kartoteka worker``: run until interrupted. With Redis configured: the outbox relay,
    the scheduler and a dramatiq worker; otherwise worker threads over the database."""
    threads = threads or kernel.settings.worker_threads
    if kernel.settings.redis_url:
        relay = RedisRelay(kernel)
        dw = relay.worker(threads)
        dw.start()
        log.info("dramatiq worker on %s (%d threads)", kernel.settings.redis_url, threads)
        try:
            while True:
                kernel.refresh()
                if scheduler:
                    schedule_tick(kernel)
                if not relay.relay_once():
                    time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            dw.stop()
        return
    w = Worker(kernel, threads, scheduler).start()
    log.info("worker started (%d threads, scheduler=%s)", w.threads, scheduler)
    try:
        while not w.stop_event.wait(1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        w.stop()


# -- Redis broker (dramatiq) -------------------------------------------------------------------

class RedisRelay:
    """With ``KARTOTEKA_REDIS_URL``: a relay hands due jobs from the outbox to dramatiq's
    Redis broker, and dramatiq workers (``kartoteka worker``, any number, any machine) run
    them. The job row stays the source of truth: the relay claims a row (lease) before it
    sends the message, so a Redis outage leaves jobs waiting in the outbox (the claim is
    rolled back) and they are sent when Redis is back; a worker killed mid-job leaves an
    unacknowledged message that Redis redelivers and an expiring lease — completion is
    recorded with the job's own writes, so it acts once."""

    def __init__(self, kernel, url: str | None = None, namespace: str = "kartoteka"):
        import dramatiq
        from dramatiq.brokers.redis import RedisBroker
        self.kernel = kernel
        self.broker = RedisBroker(url=url or kernel.settings.redis_url, namespace=namespace)
        self.actor = dramatiq.actor(self._perform, broker=self.broker,
                                    actor_name="kartoteka_run", queue_name="kartoteka",
                                    max_retries=0, time_limit=3600 * 1000)

    def _perform(self, job_id: str) -> None:
        run(self.kernel, job_id)

    def relay_once(self, limit: int = 50) -> int:
        """Claim due jobs and send them; on a broker error the claim is undone."""
        ids = claim(self.kernel, limit)
        sent = 0
        for jid in ids:
            try:
                self.actor.send(jid)
                sent += 1
            except Exception:  # noqa: BLE001 - broker down: the job waits in the outbox
                log.warning("broker unavailable; job %s stays in the outbox", jid)
                with self.kernel.db.session(write=True) as s:
                    s.execute(sa.update(Job).where(Job.id == jid, Job.state == "running")
                              .values(state="queued", locked_until=None,
                                      attempts=Job.attempts - 1))
        return sent

    def worker(self, threads: int = 2):
        import dramatiq
        return dramatiq.Worker(self.broker, queues={"kartoteka"}, worker_threads=threads,
                               worker_timeout=100)
