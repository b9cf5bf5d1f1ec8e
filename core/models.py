"""Kernel tables that are not security or record services: plugin state, settings, seeds."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
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
