"""Background work: bulk verification runs and the weekly White List schedule."""

from __future__ import annotations

from . import services


def verify_bulk(ctx, run_id: int, backoff: float | None = None):
    """Verify the clients of a bulk run (see :func:`services.run_bulk`)."""
    return services.run_bulk(ctx, run_id, backoff=backoff)


def weekly_whitelist(ctx):
    """White List check of every active client; runs only when switched on in settings."""
    return services.scheduled_whitelist(ctx)


def register(ctx) -> None:
    ctx.job(verify_bulk, name=services.BULK_JOB, max_retries=3, min_backoff=30)
    ctx.job(weekly_whitelist, name="registries.weekly_whitelist", max_retries=3,
            min_backoff=300)
    # Mondays 05:30 Europe/Warsaw; the job itself checks Settings.schedule_enabled
    ctx.schedule("registries.weekly_whitelist", "registries.weekly_whitelist",
                 cron="30 5 * * 1")
