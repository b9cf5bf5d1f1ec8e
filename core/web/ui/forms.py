"""Generic forms from entity descriptors: which fields a form shows, how a value is put
into an input, and how a submitted form becomes the values the DAL validates."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from core.i18n import from_local, parse_decimal, to_local

SYSTEM_FIELDS = ("id", "created_at", "updated_at", "version")

# marshmallow's English messages, as users see them
_MM = [
    (re.compile(r"^Missing data for required field\.$"), lambda m: _("To pole jest wymagane.")),
    (re.compile(r"^Field may not be null\.$"), lambda m: _("To pole jest wymagane.")),
    (re.compile(r"^Not a valid integer\.$"), lambda m: _("Podaj liczbę całkowitą.")),
    (re.compile(r"^Not a valid (number|decimal)\.$"), lambda m: _("Podaj liczbę.")),
    (re.compile(r"^Not a valid date\.$"), lambda m: _("Podaj poprawną datę.")),
    (re.compile(r"^Not a valid datetime\.$"), lambda m: _("Podaj poprawną datę i godzinę.")),
    (re.compile(r"^Not a valid boolean\.$"), lambda m: _("Nieprawidłowa wartość.")),
    (re.compile(r"^Longer than maximum length (\d+)\.$"),
     lambda m: _("Maksymalnie %(n)s znaków.", n=m.group(1))),
    (re.compile(r"^Unknown field\.$"), lambda m: _("Nieznane pole.")),
]


def polish_message(msg: str) -> str:
    for rx, fn in _MM:
        m = rx.match(msg)
        if m:
            return fn(m)
    return msg


@dataclass
class FormField:
    name: str              # input name (facet fields: "facet.field")
    field: str             # field name on the entity or facet
    label: str
    widget: str
    value: Any = ""
    checked: bool = False
    choices: list = field(default_factory=list)
    required: bool = False
    readonly: bool = False
    help: str = ""
    error: str | None = None
    current: str | None = None   # someone else's value after a conflict
    lookup_url: str | None = None
    option_label: str = ""
    step: str | None = None
    fm: Any = None

    @property
    def input_id(self) -> str:
        return "f_" + re.sub(r"[^A-Za-z0-9_-]", "_", self.name)


def widget_for(fm) -> str:
    if fm.relation:
        return "relation"
    if fm.choices:
        return "select"
    w = fm.widget or "text"
    if fm.type == "boolean":
        return "checkbox"
    if w in ("number", "money") or fm.type in ("integer", "decimal"):
        return "money" if w == "money" else "number"
    if fm.type == "datetime":
        return "datetime"
    if fm.type == "date":
        return "date"
    if w == "textarea" or fm.type == "text":
        return "textarea"
    if w == "json":
        return "textarea"
    return w if w in ("email", "tel", "url", "password", "color") else "text"


def form_field_names(entity, view, modes: dict) -> list[str]:
    """The entity's own fields of the form, in order (facets are rendered separately)."""
    names = (view.options.get("fields") if view else None) or [
        n for n, fm in entity.fields.items() if n not in SYSTEM_FIELDS and not fm.facet]
    return [n for n in names if n in entity.fields and modes.get(n) != "hidden"
            and n not in SYSTEM_FIELDS]


def input_value(fm, value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return to_local(value).strftime("%Y-%m-%dT%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and fm.type == "datetime" and value:
        try:
            return to_local(dt.datetime.fromisoformat(value)).strftime("%Y-%m-%dT%H:%M")
        except ValueError:
            return value
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dict | list):
        import json
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def build_field(fm, name: str, value, *, readonly: bool = False, error=None,
                language: str = "pl", option_label: str = "") -> FormField:
    widget = widget_for(fm)
    f = FormField(name=name, field=fm.name, label=fm.text(language), widget=widget,
                  required=bool(fm.required), readonly=readonly or fm.readonly,
                  help=fm.help or "", error=error, fm=fm)
    if widget == "checkbox":
        f.checked = bool(value) and value not in ("0", "false", "")
    else:
        f.value = value if isinstance(value, str) else input_value(fm, value)
    if widget == "select":
        f.choices = list(fm.choices or [])
    if widget == "relation":
        try:
            f.lookup_url = url_for("ui.lookup", key=fm.relation)
        except Exception:
            f.lookup_url = None
        f.option_label = option_label
    if widget == "money":
        f.step = "0.01"
    elif widget == "number":
        f.step = "1" if fm.type == "integer" else "any"
    return f


class FormErrors(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__("form errors")
        self.errors = errors


def parse_value(fm, raw, *, present: bool = True):
    """One submitted value -> what the entity schema loads. Raises ValueError with a
    user message."""
    if fm.type == "boolean":
        return raw not in (None, "", "0", "false", "off") and present
    if raw is None:
        return None
    raw = raw.strip() if isinstance(raw, str) else raw
    if raw == "":
        return None
    if fm.relation or fm.type == "integer":
        try:
            return int(raw)
        except ValueError:
            raise ValueError(_("Podaj liczbę całkowitą."))
    if fm.type == "decimal":
        try:
            return str(parse_decimal(raw))
        except (decimal.InvalidOperation, ValueError):
            raise ValueError(_("Podaj liczbę."))
    if fm.type == "datetime":
        try:
            return from_local(dt.datetime.fromisoformat(raw)).isoformat()
        except ValueError:
            raise ValueError(_("Podaj poprawną datę i godzinę."))
    if fm.type == "date":
        try:
            return dt.date.fromisoformat(raw).isoformat()
        except ValueError:
            raise ValueError(_("Podaj poprawną datę."))
    if fm.type == "json":
        import json
        try:
            return json.loads(raw)
        except ValueError:
            raise ValueError(_("Nieprawidłowy JSON."))
    return raw


def nullable(entity_or_model, name: str) -> bool:
    model = getattr(entity_or_model, "model", entity_or_model)
    col = model.__table__.c.get(name)
    return True if col is None else bool(col.nullable)


def parse_fields(form, prefix: str, fields: dict, names, model, *, check_required: bool,
                 errors: dict, error_prefix: str = "") -> dict:
    """Parse ``names`` of ``fields`` from ``form`` (input names ``prefix + name``)."""
    values = {}
    for name in names:
        fm = fields[name]
        key = prefix + name
        present = key in form
        if fm.type != "boolean" and not present:
            continue
        raw = form.get(key)
        try:
            fm_null = nullable(model, name)
            v = parse_value(fm, raw, present=present)
            if v is None and fm.type in ("string", "text") and not fm_null and not fm.relation:
                v = ""
        except ValueError as exc:
            errors[error_prefix + name] = str(exc)
            continue
        if check_required and fm.required and (v is None or v == ""):
            errors[error_prefix + name] = _("To pole jest wymagane.")
            continue
        values[name] = v
    return values
