"""The per-number, per-day response cache.

A registry's answer about a number is kept for the day it was asked (Europe/Warsaw): the
same question on the same day is answered from the table, also for other users and for
bulk jobs. Failures are never cached. Old days are pruned after ``Settings.cache_days``.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .models import CacheEntry

WARSAW = ZoneInfo("Europe/Warsaw")
log = logging.getLogger("kartoteka.registries")


def today() -> dt.date:
    """The current day in Poland (the day the registries answer for)."""
    return dt.datetime.now(WARSAW).date()


def get(session: Session, source: str, number: str, day: dt.date) -> dict | None:
    row = session.scalar(sa.select(CacheEntry).where(
        CacheEntry.source == source, CacheEntry.number == number, CacheEntry.day == day))
    return dict(row.response) if row is not None else None


def put(session: Session, source: str, number: str, day: dt.date, response: dict) -> None:
    """Store an answer; a concurrent writer of the same key wins silently."""
    try:
        with session.begin_nested():
            session.add(CacheEntry(source=source, number=number, day=day, response=response))
    except sa.exc.IntegrityError:
        log.debug("cache entry %s/%s/%s written concurrently", source, number, day)


def cached(session: Session, source: str, number: str, day: dt.date,
           fetch: Callable[[], dict], *, use_cache: bool = True) -> tuple[dict, bool]:
    """``(response, from_cache)``: the cached answer, or ``fetch()`` stored for the day."""
    if use_cache:
        hit = get(session, source, number, day)
        if hit is not None:
            return hit, True
    response = fetch()
    if use_cache:
        put(session, source, number, day, response)
    else:
        session.execute(sa.delete(CacheEntry).where(
            CacheEntry.source == source, CacheEntry.number == number, CacheEntry.day == day))
        put(session, source, number, day, response)
    return response, False


def prune(session: Session, keep_days: int, day: dt.date | None = None) -> int:
    """Delete cached answers older than ``keep_days``; returns how many."""
    limit = (day or today()) - dt.timedelta(days=max(1, keep_days))
    res = session.execute(sa.delete(CacheEntry).where(CacheEntry.day < limit))
    return res.rowcount or 0
