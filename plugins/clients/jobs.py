"""Background work of the client base: date reminders (daily), imports and the weekly
upkeep of the text-search index."""

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


def optimise_search(ctx):
    """SQLite: merge the FTS5 index's segments into one (imports and everyday writes leave
    many; the merging would otherwise be paid by later writes and searches). PostgreSQL
    keeps its trigram index itself (autovacuum): nothing to do."""
    return {"optimised": services.optimise_search_index(ctx.session)}


def register(ctx) -> None:
    ctx.job(remind_dates, name="clients.remind_dates")
    ctx.job(import_clients, name="clients.import")
    ctx.job(optimise_search, name="clients.optimise_search")
    ctx.schedule("clients.daily_reminders", "clients.remind_dates", cron="15 6 * * *")
    ctx.schedule("clients.weekly_search_upkeep", "clients.optimise_search", cron="30 2 * * 0")
