"""Background work of the client base: date reminders (daily) and imports."""

from __future__ import annotations

import datetime as dt

from . import services


def remind_dates(ctx, today: str | None = None):
    """Create the reminders of significant dates due in the next days (idempotent)."""
    day = dt.date.fromisoformat(today) if today else None
    created = services.due_reminders(ctx.session, day)
    return {"created": created}


def import_clients(ctx, run_id: int):
    from .importer import run_import
    return run_import(ctx, run_id)


def register(ctx) -> None:
    ctx.job(remind_dates, name="clients.remind_dates")
    ctx.job(import_clients, name="clients.import")
    ctx.schedule("clients.daily_reminders", "clients.remind_dates", cron="15 6 * * *")
