"""Services any entity may opt into: links between any two records, comments,
attachments (content-addressed files), audit trail, numbering series.

A record is addressed by its entity key and id, e.g. ``("offers.offer", 12)``; the
services therefore work for entities of any plugin without foreign keys to them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import mimetypes
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.db import Base, RecordMixin, UTCDateTime, utcnow
from core.errors import NotFoundError, ValidationError

WARSAW = ZoneInfo("Europe/Warsaw")


# -- tables ---------------------------------------------------------------------------------

class Link(RecordMixin, Base):
    """A manual association between two records ("kojarzenie dokumentów")."""

    __tablename__ = "core_link"
    __table_args__ = (UniqueConstraint("left_entity", "left_id", "right_entity", "right_id"),)

    left_entity: Mapped[str] = mapped_column(String(96), index=True)
    left_id: Mapped[int] = mapped_column(Integer, index=True)
    right_entity: Mapped[str] = mapped_column(String(96), index=True)
    right_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(32), default="related")
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[int | None] = mapped_column(Integer)


class Comment(RecordMixin, Base):
    __tablename__ = "core_comment"

    entity: Mapped[str] = mapped_column(String(96), index=True)
    record_id: Mapped[int] = mapped_column(Integer, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("core_comment.id",
                                                             ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)


class StoredFile(Base):
    """File content, stored once per SHA-256 under ``var/attachments/ab/cd/<hash>``."""

    __tablename__ = "core_file"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Attachment(RecordMixin, Base):
    """A named file attached to a record, or in the shared library (no record)."""

    __tablename__ = "core_attachment"

    entity: Mapped[str | None] = mapped_column(String(96), index=True)
    record_id: Mapped[int | None] = mapped_column(Integer, index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("core_file.sha256"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120), default="application/octet-stream")
    in_library: Mapped[bool] = mapped_column(default=False)
    uploaded_by: Mapped[int | None] = mapped_column(Integer)

    file: Mapped[StoredFile] = relationship(lazy="joined")


class AuditEntry(Base):
    """Who changed which fields of which record from what to what, when."""

    __tablename__ = "core_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    entity: Mapped[str] = mapped_column(String(96), index=True)
    record_id: Mapped[int] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(32))  # create|update|delete|<custom>
    user_id: Mapped[int | None] = mapped_column(Integer)
    changes: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> [old, new]
    note: Mapped[str | None] = mapped_column(String(500))


class NumberingSeries(RecordMixin, Base):
    __tablename__ = "core_numbering_series"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    pattern: Mapped[str] = mapped_column(String(120))
    reset: Mapped[str] = mapped_column(String(16), default="yearly")  # never|yearly|monthly
    plugin: Mapped[str | None] = mapped_column(String(64))


class NumberingCounter(Base):
    __tablename__ = "core_numbering_counter"
    __table_args__ = (UniqueConstraint("series_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(ForeignKey("core_numbering_series.id",
                                                      ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16))
    value: Mapped[int] = mapped_column(Integer, default=0)


# -- links ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordRef:
    entity: str
    id: int


def link(session: Session, a: RecordRef, b: RecordRef, *, note: str | None = None,
         kind: str = "related", user_id: int | None = None) -> Link:
    if a == b:
        raise ValidationError("Nie można powiązać rekordu z nim samym.")
    if existing := _find_link(session, a, b):
        return existing
    row = Link(left_entity=a.entity, left_id=a.id, right_entity=b.entity, right_id=b.id,
               note=note, kind=kind, created_by=user_id)
    session.add(row)
    session.flush()
    return row


def _find_link(session: Session, a: RecordRef, b: RecordRef) -> Link | None:
    return session.scalar(select(Link).where(or_(
        (Link.left_entity == a.entity) & (Link.left_id == a.id)
        & (Link.right_entity == b.entity) & (Link.right_id == b.id),
        (Link.left_entity == b.entity) & (Link.left_id == b.id)
        & (Link.right_entity == a.entity) & (Link.right_id == a.id))))


def unlink(session: Session, a: RecordRef, b: RecordRef) -> bool:
    row = _find_link(session, a, b)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def links_of(session: Session, ref: RecordRef) -> list[tuple[RecordRef, Link]]:
    """Every record linked with ``ref``, whichever side it was linked from."""
    rows = session.scalars(select(Link).where(or_(
        (Link.left_entity == ref.entity) & (Link.left_id == ref.id),
        (Link.right_entity == ref.entity) & (Link.right_id == ref.id))).order_by(Link.id))
    out = []
    for row in rows:
        if row.left_entity == ref.entity and row.left_id == ref.id:
            out.append((RecordRef(row.right_entity, row.right_id), row))
        else:
            out.append((RecordRef(row.left_entity, row.left_id), row))
    return out


# -- comments -------------------------------------------------------------------------------

def add_comment(session: Session, ref: RecordRef, body: str, *, author_id: int | None,
                parent_id: int | None = None) -> Comment:
    body = (body or "").strip()
    if not body:
        raise ValidationError("Komentarz nie może być pusty.", field="body")
    if parent_id is not None:
        parent = session.get(Comment, parent_id)
        if parent is None or (parent.entity, parent.record_id) != (ref.entity, ref.id):
            raise ValidationError("Nie ma takiego komentarza w tym wątku.", field="parent_id")
    row = Comment(entity=ref.entity, record_id=ref.id, body=body, author_id=author_id,
                  parent_id=parent_id)
    session.add(row)
    session.flush()
    return row


def comments_of(session: Session, ref: RecordRef) -> list[Comment]:
    return list(session.scalars(select(Comment).where(
        Comment.entity == ref.entity, Comment.record_id == ref.id).order_by(Comment.id)))


# -- attachments ----------------------------------------------------------------------------

class AttachmentStore:
    """Content-addressed file store under ``root``; content is written once per hash."""

    def __init__(self, root: Path, max_bytes: int):
        self.root = Path(root)
        self.max_bytes = max_bytes

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, stream: BinaryIO) -> tuple[str, int]:
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with tempfile.NamedTemporaryFile(dir=self.root, delete=False) as tmp:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > self.max_bytes:
                    tmp.close()
                    Path(tmp.name).unlink(missing_ok=True)
                    raise ValidationError(
                        f"Plik jest za duży (limit {self.max_bytes // (1024 * 1024)} MB).",
                        field="file")
                digest.update(chunk)
                tmp.write(chunk)
        sha = digest.hexdigest()
        target = self.path_for(sha)
        if target.exists():
            Path(tmp.name).unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(tmp.name, target)
        return sha, size

    def open(self, sha256: str) -> BinaryIO:
        path = self.path_for(sha256)
        if not path.exists():
            raise NotFoundError("Plik załącznika nie istnieje w magazynie.")
        return path.open("rb")


def attach(session: Session, store: AttachmentStore, ref: RecordRef | None, filename: str,
           stream: BinaryIO, *, user_id: int | None = None,
           content_type: str | None = None) -> Attachment:
    filename = Path(filename or "").name.strip()
    if not filename:
        raise ValidationError("Podaj nazwę pliku.", field="filename")
    sha, size = store.put(stream)
    if session.get(StoredFile, sha) is None:
        session.add(StoredFile(sha256=sha, size=size))
    row = Attachment(entity=ref.entity if ref else None, record_id=ref.id if ref else None,
                     sha256=sha, filename=filename, in_library=ref is None,
                     content_type=content_type or mimetypes.guess_type(filename)[0]
                     or "application/octet-stream", uploaded_by=user_id)
    session.add(row)
    session.flush()
    return row


def attach_from_library(session: Session, ref: RecordRef, attachment_id: int,
                        user_id: int | None = None) -> Attachment:
    src = session.get(Attachment, attachment_id)
    if src is None or not src.in_library:
        raise NotFoundError("Nie ma takiego pliku w bibliotece załączników.")
    row = Attachment(entity=ref.entity, record_id=ref.id, sha256=src.sha256,
                     filename=src.filename, content_type=src.content_type, uploaded_by=user_id)
    session.add(row)
    session.flush()
    return row


def attachments_of(session: Session, ref: RecordRef | None) -> list[Attachment]:
    q = select(Attachment)
    q = q.where(Attachment.in_library.is_(True)) if ref is None else q.where(
        Attachment.entity == ref.entity, Attachment.record_id == ref.id)
    return list(session.scalars(q.order_by(Attachment.id)))


# -- audit ----------------------------------------------------------------------------------

def _jsonable(value):
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


AUDITED = "kartoteka.audited"     # session.info: (entity, id, action) audited so far


def audit(session: Session, ref: RecordRef, action: str, *, user_id: int | None,
          changes: dict | None = None, note: str | None = None) -> AuditEntry:
    row = AuditEntry(entity=ref.entity, record_id=ref.id, action=action, user_id=user_id,
                     changes={k: [_jsonable(o), _jsonable(n)]
                              for k, (o, n) in (changes or {}).items()},
                     note=note[:500] if note else note)
    session.add(row)
    session.info.setdefault(AUDITED, set()).add((ref.entity, ref.id, action))
    return row


def audit_trail(session: Session, ref: RecordRef) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.entity == ref.entity, AuditEntry.record_id == ref.id
    ).order_by(AuditEntry.id)))


# -- numbering ------------------------------------------------------------------------------

_TOKEN = re.compile(r"\{(seq(?::(\d+))?|yyyy|yy|mm|dd|series)\}")


def ensure_series(session: Session, code: str, pattern: str, *, reset: str = "yearly",
                  name: str = "", plugin: str | None = None) -> NumberingSeries:
    if reset not in ("never", "yearly", "monthly"):
        raise ValidationError("Okres numeracji: never, yearly albo monthly.", field="reset")
    if "{seq" not in pattern:
        raise ValidationError("Wzorzec numeracji musi zawierać {seq}.", field="pattern")
    row = session.scalar(select(NumberingSeries).where(NumberingSeries.code == code))
    if row is None:
        row = NumberingSeries(code=code, pattern=pattern, reset=reset, name=name, plugin=plugin)
        session.add(row)
        session.flush()
    return row


def _period(reset: str, when: dt.datetime) -> str:
    if reset == "yearly":
        return f"{when:%Y}"
    if reset == "monthly":
        return f"{when:%Y-%m}"
    return "-"


def next_number(session: Session, code: str, when: dt.datetime | None = None) -> str:
    """The next number of series ``code``, e.g. ``OF/7/2026``.

    Gapless and unique under concurrent issuing: the counter row is locked (``UPDATE``
    first, so PostgreSQL takes a row lock) in the caller's transaction; if the caller rolls
    back, the number is not consumed. On SQLite call it in a write session
    (``db.session(write=True)``) so the transaction holds the write lock from its start.
    """
    series = session.scalar(select(NumberingSeries).where(NumberingSeries.code == code))
    if series is None:
        raise NotFoundError(f"Nie ma serii numeracji '{code}'.")
    local = (when or utcnow()).astimezone(WARSAW)
    period = _period(series.reset, local)
    dialect = session.get_bind().dialect.name
    ins = (pg_insert if dialect == "postgresql" else sqlite_insert)(NumberingCounter)
    stmt = update(NumberingCounter).where(
        NumberingCounter.series_id == series.id, NumberingCounter.period == period
    ).values(value=NumberingCounter.value + 1).returning(NumberingCounter.value)
    value = session.execute(stmt).scalar()
    if value is None:
        session.execute(ins.values(series_id=series.id, period=period, value=0)
                        .on_conflict_do_nothing())
        value = session.execute(stmt).scalar_one()

    def token(m: re.Match) -> str:
        name = m.group(1)
        if name.startswith("seq"):
            return str(value).zfill(int(m.group(2) or 0))
        return {"yyyy": f"{local:%Y}", "yy": f"{local:%y}", "mm": f"{local:%m}",
                "dd": f"{local:%d}", "series": series.code}[name]

    return _TOKEN.sub(token, series.pattern)
