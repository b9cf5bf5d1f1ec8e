"""Database: engine and session factory, the one declarative ``Base``, shared column types.

Table names are prefixed with the owner: ``core_`` for the kernel, ``<plugin>_`` for a
plugin. Migrations, drift checks, export and uninstall rely on that prefix.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from sqlalchemy import (
    DateTime,
    Integer,
    MetaData,
    Numeric,
    TypeDecorator,
    create_engine,
    event,
    func,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    sessionmaker,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


UNMANAGED: set[str] = set()


def unmanaged(*names: str) -> None:
    """Declare database objects a plugin's migration creates with dialect-specific DDL and
    the ORM does not model (an FTS5 table, a trigram index). Migration autogenerate and the
    drift check ignore them, and any table whose name starts with one of them (FTS5
    shadow tables)."""
    UNMANAGED.update(names)


def is_unmanaged(name: str | None) -> bool:
    return bool(name) and any(name == n or name.startswith(n + "_") for n in UNMANAGED)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored in UTC on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware datetime (UTC)")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def Money() -> Numeric:  # noqa: N802 - reads like a type
    """NUMERIC(18, 2) as Decimal; never float."""
    return Numeric(18, 2, asdecimal=True)


def Quantity() -> Numeric:  # noqa: N802
    return Numeric(18, 4, asdecimal=True)


ZERO = Decimal("0.00")


class IdMixin:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                     server_default=func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow,
                                                     onupdate=utcnow, server_default=func.now())


class VersionMixin:
    """Optimistic concurrency: ``version`` grows on every UPDATE (SQLAlchemy's version
    counter); an UPDATE against a stale row fails instead of overwriting."""

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.__table__.c.version}


class RecordMixin(IdMixin, TimestampMixin):
    """The usual columns of a business record: id, created_at, updated_at."""


def _sqlite_pragmas(dbapi_conn, _record):
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    # 64 MiB of page cache per connection (the default 2 MiB holds a fraction of the
    # indexes of a large client base: every insert and search re-read pages)
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def make_engine(url: str, **kw) -> Engine:
    """Engine for SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (psycopg 3)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        kw.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kw)
        event.listen(engine, "connect", _sqlite_pragmas)

        # pysqlite's own transaction handling defers BEGIN; make BEGIN explicit so
        # SELECT ... then UPDATE inside one transaction is serialisable.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _rec):
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn):
            immediate = conn.get_execution_options().get("sqlite_immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    kw.setdefault("pool_pre_ping", True)
    return create_engine(url, **kw)


def is_sqlite(engine_or_session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) \
        else engine_or_session
    return bind.dialect.name == "sqlite"


class Database:
    """Engine + session factories. ``with db.session() as s:`` commits on success.

    ``db.session(write=True)`` (``db.WriteSession``) takes SQLite's write lock when the
    transaction begins (``BEGIN IMMEDIATE``), so a read-then-write transaction never fails
    on a stale snapshot; use it for writes that read first (numbering, counters, jobs).
    On PostgreSQL both factories are the same.
    """

    def __init__(self, url: str, **engine_kw):
        self.url = url
        self.engine = make_engine(url, **engine_kw)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)
        self.WriteSession = sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False)

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        s = (self.WriteSession if write else self.Session)()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()
