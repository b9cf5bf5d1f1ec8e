"""Tables of the jobs system: the job table doubles as the transactional outbox and the
status record; schedule state for periodic work."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class Job(Base):
    """One unit of background work. Written by ``enqueue`` inside the caller's business
    transaction (so a rollback enqueues nothing); a worker claims it when due."""

    __tablename__ = "core_job"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(160), index=True)
    plugin: Mapped[str] = mapped_column(String(64), index=True)
    kwargs: Mapped[dict] = mapped_column(JSON, default=dict)
    # queued | running | done | failed (will retry) | dead | cancelled
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_retries: Mapped[int] = mapped_column(Integer, default=3)
    run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict | None] = mapped_column(JSON)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    progress_message: Mapped[str | None] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(Integer)
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ScheduleState(Base):
    """When each registered schedule is next due; claimed with a row lock so any number of
    scheduler processes run each due time once."""

    __tablename__ = "core_schedule"

    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    next_run_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
