"""Tables of the ``registries`` plugin: per-installation settings, verification results,
the per-day response cache, bulk verification runs, White List checks stored with sales
documents, and the ``registry`` facet of a client (PKD codes and activity status).

Other plugins may read these models (``plugins.registries.models``) when they depend on
``registries``; everyone else talks to it through hooks.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Money, RecordMixin, UTCDateTime, VersionMixin, utcnow

#: Sources the plugin talks to.
GUS, CEIDG, VIES, WHITELIST = "gus", "ceidg", "vies", "whitelist"
SOURCES = [(GUS, "GUS (REGON)"), (CEIDG, "CEIDG"), (VIES, "VIES"),
           (WHITELIST, "Biała lista VAT")]
SOURCE_LABELS = dict(SOURCES)

#: Outcome of one check.
OK, WARNING, NOT_FOUND, ERROR = "ok", "warning", "not_found", "error"
STATUSES = [(OK, "Poprawny"), (WARNING, "Ostrzeżenie"), (NOT_FOUND, "Nie znaleziono"),
            (ERROR, "Błąd źródła")]

ENVIRONMENTS = [("test", "Testowe (środowiska testowe usług)"), ("production", "Produkcyjne")]

#: Outcome of a White List account check stored with a document.
ASSIGNED, NOT_ASSIGNED, SKIPPED = "assigned", "not_assigned", "skipped"
ACCOUNT_RESULTS = [(ASSIGNED, "Rachunek na białej liście"),
                   (NOT_ASSIGNED, "Rachunku nie ma na białej liście"),
                   (ERROR, "Nie udało się sprawdzić"), (SKIPPED, "Nie sprawdzano")]


class Settings(RecordMixin, VersionMixin, Base):
    """One row: keys, endpoints and policy of this installation."""

    __tablename__ = "registries_settings"

    environment: Mapped[str] = mapped_column(String(16), default="test")
    gus_key: Mapped[str | None] = mapped_column(String(64))
    ceidg_token: Mapped[str | None] = mapped_column(Text)
    # explicit endpoints override the environment's defaults (a proxy, a local mirror)
    gus_url: Mapped[str | None] = mapped_column(String(255))
    ceidg_url: Mapped[str | None] = mapped_column(String(255))
    vies_rest_url: Mapped[str | None] = mapped_column(String(255))
    vies_soap_url: Mapped[str | None] = mapped_column(String(255))
    whitelist_url: Mapped[str | None] = mapped_column(String(255))
    timeout: Mapped[int] = mapped_column(Integer, default=10)
    own_vat_number: Mapped[str | None] = mapped_column(String(20))
    max_age_days: Mapped[int] = mapped_column(Integer, default=30)
    whitelist_threshold: Mapped[Decimal] = mapped_column(Money(), default=Decimal("15000.00"))
    block_on_whitelist: Mapped[bool] = mapped_column(Boolean, default=False)
    schedule_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    cache_days: Mapped[int] = mapped_column(Integer, default=7)


class Verification(RecordMixin, Base):
    """The result of one check of one client in one source."""

    __tablename__ = "registries_verification"
    __table_args__ = (Index("ix_registries_verification_client_source", "client_id",
                            "source", "checked_at"),)

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    number: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str | None] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(64))
    data: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("registries_bulk_run.id", ondelete="SET NULL"), index=True)


class CacheEntry(Base):
    """A registry's answer for one number on one day (errors are never cached)."""

    __tablename__ = "registries_cache"
    __table_args__ = (UniqueConstraint("source", "number", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(80))
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BulkRun(RecordMixin, Base):
    """A bulk verification of selected (or all active) clients, run as a background job."""

    __tablename__ = "registries_bulk_run"

    status: Mapped[str] = mapped_column(String(16), default="queued")
    scope: Mapped[str] = mapped_column(String(16), default="selected")
    sources: Mapped[list] = mapped_column(JSON, default=list)
    client_ids: Mapped[list] = mapped_column(JSON, default=list)
    pending: Mapped[list] = mapped_column(JSON, default=list)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    ok: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[list] = mapped_column(JSON, default=list)
    job_id: Mapped[str | None] = mapped_column(String(120))
    scheduled: Mapped[bool] = mapped_column(Boolean, default=False)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"))
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DocumentCheck(RecordMixin, Base):
    """A White List check of the account on a (sales) document, kept with the document."""

    __tablename__ = "registries_document_check"
    __table_args__ = (UniqueConstraint("document_entity", "document_id"),)

    document_entity: Mapped[str] = mapped_column(String(64))
    document_id: Mapped[int] = mapped_column(Integer)
    client_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients_client.id", ondelete="SET NULL"), index=True)
    nip: Mapped[str | None] = mapped_column(String(10))
    iban: Mapped[str | None] = mapped_column(String(34))
    amount: Mapped[Decimal | None] = mapped_column(Money())
    day: Mapped[dt.date] = mapped_column(Date)
    result: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(String(500))
    data: Mapped[dict | None] = mapped_column(JSON)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"))


class CompanyData(Base):
    """Facet ``registry`` of ``clients.client``: what GUS/CEIDG say beyond the client's own
    columns (PKD codes, activity status) and where it came from."""

    __tablename__ = "registries_company"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), primary_key=True)
    pkd_main: Mapped[str | None] = mapped_column(String(10))
    pkd: Mapped[str | None] = mapped_column(Text)
    activity_status: Mapped[str | None] = mapped_column(String(40))
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    fetched_from: Mapped[str | None] = mapped_column(String(16))
    fetched_on: Mapped[dt.date | None] = mapped_column(Date)


__all__ = [
    "ASSIGNED", "CEIDG", "ERROR", "GUS", "NOT_ASSIGNED", "NOT_FOUND", "OK", "SKIPPED",
    "SOURCES", "SOURCE_LABELS", "VIES", "WARNING", "WHITELIST",
    "BulkRun", "CacheEntry", "CompanyData", "DocumentCheck", "Settings", "Verification",
]
