"""The shared client base: clients (companies and persons), their addresses, contact
persons, bank accounts, caretakers, significant dates, consents, interests, templates and
the accounting / print facets.

Other plugins reference ``clients_client.id``; a client keeps its id through a kind
conversion, and a merge moves every reference (``kartoteka_record_replaced``).
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
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Money, RecordMixin, UTCDateTime, VersionMixin, unmanaged

KINDS = [("company", "Firma"), ("person", "Osoba fizyczna")]
KINDS_EN = {"company": "Company", "person": "Natural person"}
SEGMENTS = [("standard", "Standardowy"), ("potential", "Potencjalny")]
IMPORTANCE = [("low", "Niska"), ("normal", "Normalna"), ("high", "Wysoka"),
              ("key", "Kluczowy klient")]
RELATIONSHIPS = [("customer", "Odbiorca"), ("supplier", "Dostawca"),
                 ("customer_supplier", "Odbiorca i dostawca"), ("partner", "Partner"),
                 ("competitor", "Konkurent"), ("other", "Inna")]
CHANNELS = [("email", "E-mail"), ("phone", "Telefon"), ("sms", "SMS"), ("letter", "List"),
            ("meeting", "Spotkanie")]
PAYMENT_METHODS = [("transfer", "Przelew"), ("cash", "Gotówka"), ("card", "Karta"),
                   ("cod", "Pobranie"), ("compensation", "Kompensata")]
ADDRESS_KINDS = [("registered", "Siedziby / zamieszkania"),
                 ("correspondence", "Korespondencyjny"), ("delivery", "Dostawy")]
DATE_KINDS = [("birthday", "Urodziny"), ("name_day", "Imieniny"),
              ("founding", "Data powstania"), ("cooperation", "Rozpoczęcie współpracy"),
              ("other", "Inna")]
PURPOSES = [("processing", "Przetwarzanie danych osobowych"),
            ("marketing_email", "Marketing — e-mail"),
            ("marketing_sms", "Marketing — SMS"),
            ("marketing_phone", "Marketing — telefon")]
VAT_SETTLEMENT = [("standard", "Zasady ogólne"), ("split_payment", "Podzielona płatność"),
                  ("reverse_charge", "Odwrotne obciążenie"), ("exempt", "Zwolniony z VAT"),
                  ("wdt_wnt", "WDT / WNT (UE)"), ("export", "Eksport / import")]

# The text-search structures are created by the migration in the database's own dialect
# (SQLite FTS5 table, PostgreSQL trigram index); the ORM does not model them.
unmanaged("clients_client_fts", "ix_clients_client_search_trgm")


class ClientTemplate(RecordMixin, VersionMixin, Base):
    """Defaults for new clients ("szablon klienta"): terms, CRM data, accounting, roles."""

    __tablename__ = "clients_template"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="company")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    segment: Mapped[str] = mapped_column(String(16), default="standard")
    payment_method: Mapped[str | None] = mapped_column(String(32))
    payment_days: Mapped[int | None] = mapped_column(Integer)
    price_list: Mapped[str | None] = mapped_column(String(64))
    discount_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    credit_limit: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="PLN")
    importance: Mapped[str | None] = mapped_column(String(16))
    relationship: Mapped[str | None] = mapped_column(String(32))
    acquisition_source: Mapped[str | None] = mapped_column(String(120))
    contact_channel: Mapped[str | None] = mapped_column(String(16))
    is_institution: Mapped[bool] = mapped_column(Boolean, default=False)
    is_employee: Mapped[bool] = mapped_column(Boolean, default=False)
    is_partner: Mapped[bool] = mapped_column(Boolean, default=False)
    receivable_account: Mapped[str | None] = mapped_column(String(32))
    payable_account: Mapped[str | None] = mapped_column(String(32))
    cost_centre: Mapped[str | None] = mapped_column(String(32))
    vat_settlement: Mapped[str | None] = mapped_column(String(20))


class Client(RecordMixin, VersionMixin, Base):
    __tablename__ = "clients_client"
    __table_args__ = (Index("ix_clients_client_name_id", "name", "id"),)

    kind: Mapped[str] = mapped_column(String(16), default="company")
    segment: Mapped[str] = mapped_column(String(16), default="standard", index=True)
    name: Mapped[str] = mapped_column(String(255))
    short_name: Mapped[str | None] = mapped_column(String(120))
    # company
    legal_form: Mapped[str | None] = mapped_column(String(80))
    nip: Mapped[str | None] = mapped_column(String(10), index=True)
    regon: Mapped[str | None] = mapped_column(String(14), index=True)
    krs: Mapped[str | None] = mapped_column(String(10))
    vat_eu: Mapped[str | None] = mapped_column(String(20))
    # natural person
    first_name: Mapped[str | None] = mapped_column(String(80))
    last_name: Mapped[str | None] = mapped_column(String(120))
    pesel: Mapped[str | None] = mapped_column(String(11), index=True)
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    # roles a client can hold (any number of them)
    is_institution: Mapped[bool] = mapped_column(Boolean, default=False)
    is_employee: Mapped[bool] = mapped_column(Boolean, default=False)
    is_partner: Mapped[bool] = mapped_column(Boolean, default=False)
    # contact
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    website: Mapped[str | None] = mapped_column(String(255))
    # organisation
    head_office_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients_client.id", ondelete="RESTRICT"), index=True)
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients_template.id", ondelete="SET NULL"))
    # commercial terms (a branch with empty terms inherits its head office's)
    payment_method: Mapped[str | None] = mapped_column(String(32))
    payment_days: Mapped[int | None] = mapped_column(Integer)
    price_list: Mapped[str | None] = mapped_column(String(64))
    discount_percent: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    credit_limit: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="PLN")
    # CRM
    caretaker_id: Mapped[int | None] = mapped_column(
        ForeignKey("core_user.id", ondelete="SET NULL"), index=True)
    importance: Mapped[str | None] = mapped_column(String(16))
    relationship: Mapped[str | None] = mapped_column(String(32))
    acquisition_source: Mapped[str | None] = mapped_column(String(120))
    contact_hours: Mapped[str | None] = mapped_column(String(80))
    contact_channel: Mapped[str | None] = mapped_column(String(16))
    offer_email: Mapped[str | None] = mapped_column(String(254))
    notes: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    anonymised_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # lower-cased name, NIP, city, e-mail and phone, kept by the services for text search
    search_text: Mapped[str | None] = mapped_column(Text)


class Address(RecordMixin, VersionMixin, Base):
    __tablename__ = "clients_address"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="registered")
    label: Mapped[str | None] = mapped_column(String(80))
    street: Mapped[str | None] = mapped_column(String(120))
    building: Mapped[str | None] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(16))
    postal_code: Mapped[str | None] = mapped_column(String(10))
    city: Mapped[str | None] = mapped_column(String(80))
    country: Mapped[str] = mapped_column(String(2), default="PL")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Contact(RecordMixin, VersionMixin, Base):
    """A contact person (representative / employee); may represent several clients."""

    __tablename__ = "clients_contact"

    first_name: Mapped[str] = mapped_column(String(80))
    last_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    notes: Mapped[str | None] = mapped_column(Text)


class ContactLink(RecordMixin, Base):
    """A contact person's role at one client."""

    __tablename__ = "clients_contact_link"
    __table_args__ = (UniqueConstraint("contact_id", "client_id"),)

    contact_id: Mapped[int] = mapped_column(
        ForeignKey("clients_contact.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), index=True)
    position: Mapped[str | None] = mapped_column(String(120))
    role: Mapped[str | None] = mapped_column(String(32))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)


class Caretaker(RecordMixin, Base):
    """An additional caretaker of a client (the primary one is ``Client.caretaker_id``)."""

    __tablename__ = "clients_caretaker"
    __table_args__ = (UniqueConstraint("client_id", "user_id"),)

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id", ondelete="CASCADE"),
                                         index=True)


class SignificantDate(RecordMixin, Base):
    """A yearly date (birthday, name day, founding, start of cooperation) with a reminder."""

    __tablename__ = "clients_date"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="other")
    date: Mapped[dt.date] = mapped_column(Date)
    label: Mapped[str | None] = mapped_column(String(120))
    remind_days_before: Mapped[int] = mapped_column(Integer, default=7)


class Reminder(RecordMixin, Base):
    """A reminder of a significant date, created once per date and year by the daily job."""

    __tablename__ = "clients_reminder"
    __table_args__ = (UniqueConstraint("date_id", "year"),)

    date_id: Mapped[int] = mapped_column(ForeignKey("clients_date.id", ondelete="CASCADE"))
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[dt.date] = mapped_column(Date, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(String(255))
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class Consent(RecordMixin, VersionMixin, Base):
    """A GDPR consent for one purpose; valid from ``given_at`` until ``withdrawn_at``."""

    __tablename__ = "clients_consent"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[dt.date] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(120))
    withdrawn_at: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(255))


class Interest(RecordMixin, Base):
    """The dictionary of interests (tags)."""

    __tablename__ = "clients_interest"

    name: Mapped[str] = mapped_column(String(80), unique=True)


class ClientInterest(RecordMixin, Base):
    __tablename__ = "clients_client_interest"
    __table_args__ = (UniqueConstraint("client_id", "interest_id"),)

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), index=True)
    interest_id: Mapped[int] = mapped_column(
        ForeignKey("clients_interest.id", ondelete="CASCADE"), index=True)


class BankAccount(RecordMixin, VersionMixin, Base):
    __tablename__ = "clients_bank_account"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), index=True)
    iban: Mapped[str] = mapped_column(String(34))
    bank_name: Mapped[str | None] = mapped_column(String(120))
    label: Mapped[str | None] = mapped_column(String(80))
    currency: Mapped[str] = mapped_column(String(3), default="PLN")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


class Accounting(Base):
    """Accounting parameters for manual and automatic posting (facet ``accounting``)."""

    __tablename__ = "clients_accounting"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), primary_key=True)
    receivable_account: Mapped[str | None] = mapped_column(String(32))
    payable_account: Mapped[str | None] = mapped_column(String(32))
    cost_centre: Mapped[str | None] = mapped_column(String(32))
    vat_settlement: Mapped[str | None] = mapped_column(String(20))
    auto_posting: Mapped[bool] = mapped_column(Boolean, default=True)


class PrintSettings(Base):
    """Per-client print and message settings (facet ``printing``)."""

    __tablename__ = "clients_print"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), primary_key=True)
    commercial_template: Mapped[str | None] = mapped_column(String(80))
    warehouse_template: Mapped[str | None] = mapped_column(String(80))
    documents_email: Mapped[str | None] = mapped_column(String(254))
    sms_phone: Mapped[str | None] = mapped_column(String(32))
    email_template: Mapped[str | None] = mapped_column(String(80))
    sms_template: Mapped[str | None] = mapped_column(String(80))


class Merge(RecordMixin, Base):
    """The record of a merge: ``merged_id`` was folded into ``kept_id``."""

    __tablename__ = "clients_merge"

    kept_id: Mapped[int] = mapped_column(
        ForeignKey("clients_client.id", ondelete="CASCADE"), index=True)
    merged_id: Mapped[int] = mapped_column(Integer)
    merged_name: Mapped[str] = mapped_column(String(255))
    snapshot: Mapped[dict] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(Integer)


class ImportRun(RecordMixin, Base):
    """A CSV/XLSX import: its column mapping, options and per-row report."""

    __tablename__ = "clients_import"

    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    mapping: Mapped[dict] = mapped_column(JSON, default=dict)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=True)
    on_duplicate: Mapped[str] = mapped_column(String(16), default="skip")
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("clients_template.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="new")
    job_id: Mapped[str | None] = mapped_column(String(36))
    total: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[list] = mapped_column(JSON, default=list)
    user_id: Mapped[int | None] = mapped_column(Integer)
