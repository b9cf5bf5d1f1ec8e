"""Kernel tables that are not security or record services: plugin state, settings, seeds."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow


class PluginState(Base):
    """One row per installed plugin. No row = available (not installed)."""

    __tablename__ = "core_plugin"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(32))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    installed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                     onupdate=utcnow)


class KernelSetting(Base):
    """Key/value settings shared by every process. ``plugins.generation`` grows on every
    plugin state change so other processes reload without a restart."""

    __tablename__ = "core_setting"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class SeedRecord(Base):
    """Seed data a plugin wrote: ``checksum`` of the values as written, so an upgrade can
    tell whether a user changed the record since (then it is left alone)."""

    __tablename__ = "core_seed"
    __table_args__ = (UniqueConstraint("plugin", "model", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plugin: Mapped[str] = mapped_column(String(64), index=True)
    model: Mapped[str] = mapped_column(String(128))
    key: Mapped[str] = mapped_column(String(255))
    record_id: Mapped[int] = mapped_column(Integer)
    values: Mapped[dict] = mapped_column(JSON)


class SavedFilter(Base):
    """A list-view filter a user saved (entity, name, query parameters)."""

    __tablename__ = "core_saved_filter"
    __table_args__ = (UniqueConstraint("user_id", "entity", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"),
                                         index=True)
    entity: Mapped[str] = mapped_column(String(96))
    name: Mapped[str] = mapped_column(String(120))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Notification(Base):
    """A message for one user shown in the notifications area (reminders, job results,
    licence warnings, suspended contracts coming due, ...)."""

    __tablename__ = "core_notification"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"),
                                         index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(500))
    level: Mapped[str] = mapped_column(String(16), default="info")  # info|warning|danger
    plugin: Mapped[str | None] = mapped_column(String(64))
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


def notify(session, user_id: int, title: str, body: str = "", *, url: str | None = None,
           level: str = "info", plugin: str | None = None) -> Notification:
    n = Notification(user_id=user_id, title=title, body=body, url=url, level=level,
                     plugin=plugin)
    session.add(n)
    return n
