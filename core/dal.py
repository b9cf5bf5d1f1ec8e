"""The data-access layer: every read and write of an entity goes through here.

It checks permissions (deny by default), applies record rules in SQL and field rules,
validates input with the entity's marshmallow schema, runs the before/after hooks (a
``DomainError`` in a before-hook vetoes with nothing written), writes the audit trail and
enforces optimistic concurrency via the ``version`` column.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError as MarshmallowError
from sqlalchemy.orm import Session

from core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDenied,
    PreconditionFailed,
    ValidationError,
)
from core.records import AUDITED, RecordRef, audit
from core.registry import Entity
from core.security.access import field_modes, has_permission, rule_filter

FILTER_OPS = {
    "eq": lambda c, v: c == v, "ne": lambda c, v: c != v,
    "gte": lambda c, v: c >= v, "lte": lambda c, v: c <= v,
    "gt": lambda c, v: c > v, "lt": lambda c, v: c < v,
    "in": lambda c, v: c.in_(v if isinstance(v, list | tuple) else str(v).split(",")),
    "contains": lambda c, v: c.ilike(f"%{v}%"),
    "isnull": lambda c, v: c.is_(None) if _truthy(v) else c.is_not(None),
}


_OPS_PL = {"read": "odczyt", "create": "dodawanie", "update": "edycja",
           "delete": "usuwanie"}


def _truthy(v) -> bool:
    return str(v).lower() in ("1", "true", "yes", "tak", "on")


def _plain(v):
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return str(v)
    return v


class DataAccess:
    def __init__(self, kernel, session: Session, user):
        self.kernel = kernel
        self.session = session
        self.user = user

    @property
    def registry(self):
        return self.kernel.registry

    def entity(self, key: str | Entity) -> Entity:
        return key if isinstance(key, Entity) else self.registry.entity(key)

    # -- permissions ------------------------------------------------------------------------

    def can(self, entity: str | Entity, op: str) -> bool:
        ent = self.entity(entity)
        code = ent.permission(op) if op in ("read", "create", "update", "delete") \
            else f"{ent.key}.{op}"
        return has_permission(self.user, code)

    def require(self, entity: str | Entity, op: str) -> Entity:
        ent = self.entity(entity)
        if not self.can(ent, op):
            what = _OPS_PL.get(op, op)
            raise PermissionDenied(f"Brak uprawnienia: {ent.label} — {what}.",
                                   permission=ent.permission(op))
        if op != "read":
            reason = self.kernel.licensing.write_allowed(ent.plugin)
            if reason:
                raise PermissionDenied(reason)
        return ent

    def fields(self, entity: str | Entity) -> dict[str, str]:
        return field_modes(self.registry, self.entity(entity), self.user)

    # -- reading ----------------------------------------------------------------------------

    def select(self, entity: str | Entity, op: str = "read") -> sa.Select:
        ent = self.require(entity, op)
        stmt = sa.select(ent.model)
        cond = rule_filter(self.registry, ent, self.user, op, self.session)
        if cond is not None:
            stmt = stmt.where(cond)
        return stmt

    def _column(self, ent: Entity, name: str):
        if name not in ent.fields or ent.fields[name].facet:
            raise ValidationError(f"Nieznane pole '{name}'.", field=name)
        if self.fields(ent).get(name) == "hidden":
            raise ValidationError(f"Nieznane pole '{name}'.", field=name)
        return getattr(ent.model, name)

    def _coerce(self, ent: Entity, name: str, value):
        col = getattr(ent.model, name).property.columns[0]
        try:
            if isinstance(value, list | tuple):
                return [self._coerce(ent, name, v) for v in value]
            if value is None or not isinstance(value, str):
                return value
            typ = getattr(col.type, "impl_instance", None) or col.type
            try:
                pytype = typ.python_type
            except NotImplementedError:      # a type without one: compared as given
                return value
            if pytype is bool:
                return _truthy(value)
            if pytype is int:
                number = int(value)
                if not -2**63 <= number < 2**63:     # no database column holds it
                    raise ValueError(value)
                return number
            if pytype in (decimal.Decimal, float):
                return pytype(value)
            if pytype is dt.datetime:
                v = dt.datetime.fromisoformat(value)
                return v if v.tzinfo else v.replace(tzinfo=dt.UTC)
            if pytype is dt.date:
                return dt.date.fromisoformat(value)
        except (ValueError, decimal.InvalidOperation):
            raise ValidationError(f"Nieprawidłowa wartość filtra pola '{name}': {value!r}",
                                  field=name)
        return value

    def filtered(self, entity: str | Entity, *, filters: dict | None = None,
                 q: str | None = None, op: str = "read") -> sa.Select:
        ent = self.entity(entity)
        stmt = self.select(ent, op)
        for key, value in (filters or {}).items():
            name, _, opname = key.partition("__")
            opname = opname or "eq"
            if opname not in FILTER_OPS:
                raise ValidationError(f"Nieznany operator filtra '{opname}'.", field=key)
            col = self._column(ent, name)
            if opname not in ("in", "isnull", "contains"):
                value = self._coerce(ent, name, value)
            elif opname == "in":
                value = self._coerce(ent, name, value if isinstance(value, list)
                                     else str(value).split(","))
            stmt = stmt.where(FILTER_OPS[opname](col, value))
        if q:
            q = q.strip()
            if ent.search is not None:
                stmt = ent.search(stmt, q)
            elif ent.search_fields:
                stmt = stmt.where(sa.or_(*[getattr(ent.model, f).ilike(f"%{q}%")
                                           for f in ent.search_fields]))
        return stmt

    def order(self, ent: Entity, stmt: sa.Select, order: list[str] | None) -> sa.Select:
        clauses = []
        for o in (order or ent.order_by):
            desc = o.startswith("-")
            col = self._column(ent, o.lstrip("-"))
            clauses.append(col.desc() if desc else col.asc())
        pk = ent.model.__mapper__.primary_key[0]
        if not any(o.lstrip("-") == pk.key for o in (order or ent.order_by)):
            clauses.append(pk.asc())
        return stmt.order_by(*clauses)

    def list(self, entity: str | Entity, *, filters: dict | None = None, q: str | None = None,
             order: list[str] | None = None, offset: int = 0, limit: int | None = 50,
             count: bool = True, count_limit: int | None = None) -> tuple[list, int | None]:
        """(rows, total). ``count_limit``: count at most this many plus one — a total of
        ``count_limit + 1`` means "more than ``count_limit``" (counting a million rows
        costs more than reading the page)."""
        ent = self.entity(entity)
        stmt = self.filtered(ent, filters=filters, q=q)
        total = None
        if count:
            counted = stmt.order_by(None)
            if count_limit is not None:
                counted = counted.limit(count_limit + 1)
            total = self.session.scalar(sa.select(sa.func.count()).select_from(
                counted.subquery()))
        stmt = self.order(ent, stmt, order)
        if offset:
            stmt = stmt.offset(offset)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt)), total

    def get(self, entity: str | Entity, record_id, op: str = "read"):
        ent = self.entity(entity)
        pk = ent.model.__mapper__.primary_key[0]
        try:
            record_id = int(record_id)
        except (TypeError, ValueError):
            raise NotFoundError(f"{ent.label}: nieprawidłowy identyfikator.")
        if not 0 < record_id < 2**31:        # outside every id column's range
            raise NotFoundError(f"{ent.label} #{record_id} nie istnieje.")
        rec = self.session.scalar(self.select(ent, op).where(pk == record_id))
        if rec is None:
            raise NotFoundError(f"{ent.label} #{record_id} nie istnieje lub nie masz do "
                                f"niego dostępu.")
        return rec

    # -- serialisation ----------------------------------------------------------------------

    def to_dict(self, entity: str | Entity, record, only: list[str] | None = None) -> dict:
        ent = self.entity(entity)
        hidden = {f for f, m in self.fields(ent).items() if m == "hidden"}
        data = {}
        for name in ent.column_names():
            if name in hidden or name in ent.excluded or (only and name not in only
                                                          and name != "id"):
                continue
            data[name] = _plain(getattr(record, name))
        for fname, facet in ent.facets.items():
            if only and fname not in only:
                continue
            row = self.facet_row(facet, record)
            data[fname] = None if row is None else {
                k: _plain(getattr(row, k)) for k in facet.fields if f"{fname}.{k}" not in hidden}
        data["_display"] = ent.display(record)
        return data

    def facet_row(self, facet, record):
        return self.session.scalar(sa.select(facet.model).where(
            getattr(facet.model, facet.parent_key) == record.id))

    # -- writing ----------------------------------------------------------------------------

    def _load(self, ent: Entity, values: dict, partial: bool) -> dict:
        modes = self.fields(ent)
        for name in values:
            if name in ent.facets:
                continue
            if name not in ent.fields:
                raise ValidationError(f"Nieznane pole '{name}'.", field=name,
                                      errors={name: ["Nieznane pole."]})
            if modes.get(name) == "hidden":
                raise ValidationError(f"Nieznane pole '{name}'.", field=name,
                                      errors={name: ["Nieznane pole."]})
            if modes.get(name) == "readonly":
                raise ValidationError(f"Pole '{ent.fields[name].label or name}' jest tylko do "
                                      f"odczytu.", field=name,
                                      errors={name: ["Pole tylko do odczytu."]})
        try:
            return ent.schema().load(values, partial=partial)
        except MarshmallowError as exc:
            errors = _flatten(exc.messages)
            first = next(iter(errors.items()), ("", ["błąd"]))
            label = ent.fields[first[0]].label if first[0] in ent.fields else first[0]
            raise ValidationError(f"Pole '{label or first[0]}': {first[1][0]}",
                                  field=first[0], errors=errors)

    def _apply_facets(self, ent: Entity, record, facet_values: dict, changes: dict) -> None:
        for fname, vals in facet_values.items():
            facet = ent.facets[fname]
            row = self.facet_row(facet, record)
            if vals is None:
                continue
            if row is None:
                row = facet.model(**{facet.parent_key: record.id})
                self.session.add(row)
            for k, v in vals.items():
                old = getattr(row, k, None)
                if old != v:
                    changes[f"{fname}.{k}"] = (old, v)
                    setattr(row, k, v)

    def create(self, entity: str | Entity, values: dict):
        ent = self.require(entity, "create")
        data = self._load(ent, dict(values), partial=False)
        facet_values = {k: data.pop(k) for k in list(data) if k in ent.facets}
        record = ent.model(**data)
        self.kernel.hooks.call("kartoteka_before_create", entity=ent, record=record,
                               values=data, session=self.session, user=self.user)
        self.session.add(record)
        self._flush(ent)
        changes = {k: (None, v) for k, v in data.items()}
        self._apply_facets(ent, record, facet_values, changes)
        self._flush(ent)
        self._check_visible(ent, record, "create")
        if "audit" in ent.services:
            audit(self.session, RecordRef(ent.key, record.id), "create",
                  user_id=self.user.id, changes=changes)
        self.kernel.hooks.call("kartoteka_after_create", entity=ent, record=record,
                               session=self.session, user=self.user)
        self.session.flush()
        return record

    def _check_visible(self, ent: Entity, record, op: str) -> None:
        """A user may not create or move a record out of what their rules let them see."""
        cond = rule_filter(self.registry, ent, self.user, op, self.session)
        if cond is None:
            return
        pk = ent.model.__mapper__.primary_key[0]
        ok = self.session.scalar(sa.select(sa.func.count()).select_from(ent.model).where(
            pk == record.id, cond))
        if not ok:
            raise PermissionDenied(f"{ent.label}: zapis poza zakresem Twoich uprawnień.")

    def _flush(self, ent: Entity) -> None:
        try:
            self.session.flush()
        except (sa.exc.IntegrityError, sa.exc.DataError) as exc:
            raise _integrity(exc, ent) from exc
        except sa.exc.OperationalError as exc:
            if "locked" in str(exc).lower():
                raise ConflictError("Baza danych jest zajęta zapisem innego użytkownika; "
                                    "spróbuj ponownie za chwilę.") from exc
            raise

    def check_version(self, ent: Entity, record, expected_version) -> None:
        if expected_version is None or not ent.versioned:
            return
        try:
            expected = int(expected_version)
        except (TypeError, ValueError):
            raise PreconditionFailed("Nieprawidłowa wersja rekordu.")
        if record.version != expected:
            raise PreconditionFailed(
                f"{ent.label} został w międzyczasie zmieniony przez kogoś innego "
                f"(wersja {record.version}, edytowano wersję {expected}). Odśwież i "
                f"wprowadź zmiany ponownie.", current_version=record.version)

    def update(self, entity: str | Entity, record_id, values: dict,
               expected_version=None):
        ent = self.require(entity, "update")
        record = self.get(ent, record_id, "update")
        self.check_version(ent, record, expected_version)
        data = self._load(ent, dict(values), partial=True)
        facet_values = {k: data.pop(k) for k in list(data) if k in ent.facets}
        changes = {k: (getattr(record, k), v) for k, v in data.items()
                   if getattr(record, k) != v}
        self.kernel.hooks.call("kartoteka_before_update", entity=ent, record=record,
                               changes=changes, session=self.session, user=self.user)
        for k, (_, v) in changes.items():
            setattr(record, k, v)
        self._apply_facets(ent, record, facet_values, changes)
        if changes and ent.versioned and not any("." not in k for k in changes):
            # facet-only change: touch the parent so its version counter still moves
            if "updated_at" in ent.table.c:
                from core.db import utcnow
                record.updated_at = utcnow()
        try:
            self._flush(ent)
        except sa.orm.exc.StaleDataError:
            raise ConflictError(f"{ent.label} został w międzyczasie zmieniony przez kogoś "
                                f"innego. Odśwież i spróbuj ponownie.")
        self._check_visible(ent, record, "update")
        if changes and "audit" in ent.services:
            audit(self.session, RecordRef(ent.key, record.id), "update",
                  user_id=self.user.id, changes=changes)
        self.kernel.hooks.call("kartoteka_after_update", entity=ent, record=record,
                               changes=changes, session=self.session, user=self.user)
        self.session.flush()
        return record

    def delete(self, entity: str | Entity, record_id, expected_version=None) -> None:
        ent = self.require(entity, "delete")
        record = self.get(ent, record_id, "delete")
        self.check_version(ent, record, expected_version)
        self.kernel.hooks.call("kartoteka_before_delete", entity=ent, record=record,
                               session=self.session, user=self.user)
        for facet in ent.facets.values():
            row = self.facet_row(facet, record)
            if row is not None:
                self.session.delete(row)
        self.session.flush()              # facet rows first: the parent's FK cascade is
        rid = record.id                   # then a no-op
        self.session.delete(record)
        try:
            self.session.flush()
        except sa.exc.IntegrityError:
            raise ConflictError(f"{ent.label} jest używany przez inne rekordy i nie może "
                                f"zostać usunięty.")
        if "audit" in ent.services:
            audit(self.session, RecordRef(ent.key, rid), "delete", user_id=self.user.id)
        self.kernel.hooks.call("kartoteka_after_delete", entity=ent, record=record,
                               session=self.session, user=self.user)

    def run_action(self, entity: str | Entity, name: str, record_id=None,
                   params: dict | None = None) -> Any:
        ent = self.entity(entity)
        action = self.registry.actions.get((ent.key, name))
        if action is None:
            raise NotFoundError(f"Nieznana akcja '{name}' dla {ent.label}.")
        if not has_permission(self.user, action.permission):
            raise PermissionDenied(f"Brak uprawnienia do akcji '{action.label}'.")
        reason = self.kernel.licensing.write_allowed(ent.plugin)
        if reason:
            raise PermissionDenied(reason)
        record = self.get(ent, record_id) if record_id is not None else None
        params = params or {}
        if action.schema is not None:
            try:
                params = action.schema().load(params)
            except MarshmallowError as exc:
                errors = _flatten(exc.messages)
                first = next(iter(errors.items()))
                raise ValidationError(f"{first[0]}: {first[1][0]}", field=first[0],
                                      errors=errors)
        self.session.info.pop(AUDITED, None)
        result = action.handler(self, record, params)
        # an action whose handler wrote its own entry (e.g. with a note) is not listed twice
        if record is not None and "audit" in ent.services and (ent.key, record.id, name) \
                not in self.session.info.get(AUDITED, ()):
            audit(self.session, RecordRef(ent.key, record.id), name, user_id=self.user.id)
        self.session.flush()
        return result


def _integrity(exc: Exception, ent: Entity):
    """A database constraint refused the write: say why in the user's terms."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "foreign key" in text:
        return ValidationError(f"{ent.label}: wskazany powiązany rekord nie istnieje.")
    if "unique" in text or "duplicate" in text:
        return ConflictError(f"{ent.label}: rekord z taką wartością już istnieje.")
    if "not null" in text or "null value" in text:
        return ValidationError(f"{ent.label}: brak wymaganej wartości.")
    if isinstance(exc, sa.exc.DataError) or "out of range" in text or "too long" in text:
        return ValidationError(f"{ent.label}: wartość spoza dopuszczalnego zakresu.")
    return ConflictError(f"{ent.label}: zapis odrzucony przez bazę danych.")


def _flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for k, v in messages.items():
            key = f"{prefix}.{k}" if prefix else str(k)
            if isinstance(v, dict):
                out.update(_flatten(v, key))
            else:
                out[key] = [str(m) for m in (v if isinstance(v, list) else [v])]
    else:
        out[prefix or "_"] = [str(m) for m in (messages if isinstance(messages, list)
                                                 else [messages])]
    return out
