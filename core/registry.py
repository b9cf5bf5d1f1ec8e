"""Entity registry and the typed registration context plugins fill.

Everything a plugin contributes is a descriptor here; the web layer renders views, the jobs
layer runs jobs, the data-access layer enforces permissions and rules. The registry is
rebuilt whenever the set of enabled plugins changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from marshmallow import fields as mfields
from marshmallow import validate
from marshmallow_sqlalchemy import ModelConverter, SQLAlchemyAutoSchema
from sqlalchemy.orm import DeclarativeBase

from core.errors import PluginError

CRUD = ("read", "create", "update", "delete")


@dataclass
class FieldMeta:
    name: str
    label: str = ""
    label_en: str = ""
    help: str = ""
    widget: str | None = None           # text, textarea, select, relation, date, money, ...
    choices: list[tuple[str, str]] | None = None
    readonly: bool = False
    required: bool | None = None
    relation: str | None = None         # entity key for relation pickers
    type: str = "string"
    facet: str | None = None            # facet name for facet fields

    def text(self, lang: str = "pl") -> str:
        return (self.label_en if lang == "en" and self.label_en else self.label) or self.name


@dataclass
class Facet:
    """A one-to-one extension table of another plugin's entity."""

    name: str
    plugin: str
    parent: str
    model: type
    parent_key: str                      # column of the facet holding the parent id
    fields: dict[str, FieldMeta] = field(default_factory=dict)
    label: str = ""
    label_en: str = ""


@dataclass
class Entity:
    key: str                             # "<plugin>.<name>"
    plugin: str
    name: str
    model: type
    label: str
    label_en: str
    label_plural: str
    label_plural_en: str
    fields: dict[str, FieldMeta]
    search_fields: list[str]
    order_by: list[str]
    display: Callable[[Any], str]
    schema: type[SQLAlchemyAutoSchema]
    services: set[str]
    facets: dict[str, Facet] = field(default_factory=dict)
    state_field: str | None = None       # for kanban
    audited: bool = True
    search: Callable | None = None       # search(select, q) -> select (e.g. FTS5/trigram)
    excluded: frozenset = frozenset()    # columns kept out of the schema and the API

    @property
    def table(self) -> sa.Table:
        return self.model.__table__

    @property
    def versioned(self) -> bool:
        return "version" in self.table.c

    def permission(self, op: str) -> str:
        return f"{self.key}.{op}"

    def text(self, lang: str = "pl", plural: bool = False) -> str:
        if plural:
            return self.label_plural_en if lang == "en" else self.label_plural
        return self.label_en if lang == "en" else self.label

    def column_names(self) -> list[str]:
        return [c.key for c in self.model.__mapper__.column_attrs]


@dataclass
class Permission:
    code: str
    label: str
    label_en: str
    plugin: str


@dataclass
class RoleSeed:
    code: str
    name: str
    name_en: str
    permissions: list[str]
    plugin: str


@dataclass
class RuleContext:
    """What a record rule sees: the user, the user ids they act for (themselves plus
    users whose active substitution names them), and the session."""

    user: Any
    acting_for: set[int]
    session: Any


@dataclass
class RecordRule:
    entity: str
    name: str
    domain: Callable[[RuleContext], Any]   # returns a SQLAlchemy boolean expression
    roles: list[str] | None                # None = global (ANDed); else ORed among roles
    operations: tuple[str, ...]
    plugin: str
    label: str = ""


@dataclass
class FieldRule:
    entity: str
    field: str
    mode: str                              # hidden | readonly
    roles: list[str] | None                # applies to users with any of these (None=all)
    except_roles: list[str]
    plugin: str


@dataclass
class Action:
    entity: str
    name: str
    handler: Callable                      # handler(ctx: ActionContext, record, params)
    label: str
    label_en: str
    permission: str
    plugin: str
    bulk: bool = False                     # can run on a selection from list views
    confirm: str | None = None
    schema: Any = None                     # marshmallow schema for params
    style: str = "secondary"


@dataclass
class View:
    entity: str
    kind: str                              # list|form|detail|kanban|calendar
    name: str
    plugin: str
    options: dict = field(default_factory=dict)


@dataclass
class MenuItem:
    key: str
    label: str
    label_en: str
    plugin: str
    url: str | None = None
    entity: str | None = None
    parent: str | None = None
    permission: str | None = None
    icon: str | None = None
    order: int = 100


@dataclass
class SlotItem:
    slot: str                              # e.g. "clients.client.detail.panels"
    name: str
    plugin: str
    label: str = ""
    label_en: str = ""
    render: Callable | None = None         # render(ctx) -> HTML/markup or data
    template: str | None = None
    permission: str | None = None
    order: int = 100
    options: dict = field(default_factory=dict)


@dataclass
class JobSpec:
    name: str
    fn: Callable
    plugin: str
    options: dict = field(default_factory=dict)


@dataclass
class ScheduleSpec:
    name: str
    job: str
    plugin: str
    interval: float | None = None          # seconds
    cron: str | None = None                # "m h dom mon dow", Europe/Warsaw
    kwargs: dict = field(default_factory=dict)


@dataclass
class PrintTemplate:
    name: str
    entity: str
    template: str
    label: str
    label_en: str
    plugin: str
    kind: str = "document"


@dataclass
class SeedSpec:
    model: type
    key: str
    records: list[dict]
    plugin: str


_INT_LIMITS = {sa.SmallInteger: 2**15, sa.BigInteger: 2**63, sa.Integer: 2**31}


class BoundedConverter(ModelConverter):
    """Adds the column's range to integer and fixed-point fields, so an out-of-range number
    is a validation message naming the field rather than a database overflow."""

    def _add_column_kwargs(self, kwargs: dict[str, Any], column: Any) -> None:
        super()._add_column_kwargs(kwargs, column)
        if kwargs.get("dump_only") or not hasattr(column, "type"):
            return
        t = column.type
        if isinstance(t, sa.Integer) and not getattr(column, "primary_key", False):
            limit = next(v for k, v in _INT_LIMITS.items() if isinstance(t, k))
            kwargs["validate"].append(validate.Range(min=-limit, max=limit - 1))
        elif (isinstance(t, sa.Numeric) and not isinstance(t, sa.Float)
              and t.precision is not None):
            limit = 10 ** (t.precision - (t.scale or 0))
            kwargs["validate"].append(validate.Range(min=-limit, max=limit,
                                                     min_inclusive=False,
                                                     max_inclusive=False))


def build_schema(entity_key: str, model: type, extra: dict | None = None,
                 exclude: Iterable[str] = ()) -> type[SQLAlchemyAutoSchema]:
    """A marshmallow-sqlalchemy schema for ``model``; ``id``, timestamps and ``version``
    are dump-only."""
    cols = {c.key for c in model.__mapper__.column_attrs}
    dump_only = tuple(c for c in ("id", "created_at", "updated_at", "version") if c in cols)
    meta = type("Meta", (), {
        "model": model, "load_instance": False, "include_fk": True,
        "include_relationships": False, "dump_only": dump_only,
        "exclude": tuple(exclude), "model_converter": BoundedConverter,
    })
    attrs: dict[str, Any] = {"Meta": meta}
    attrs.update(extra or {})
    name = "".join(p.title() for p in entity_key.replace(".", "_").split("_")) + "Schema"
    return type(name, (SQLAlchemyAutoSchema,), attrs)


def _field_type(col: sa.Column) -> tuple[str, str | None]:
    t = col.type
    if isinstance(t, sa.Boolean):
        return "boolean", "checkbox"
    if isinstance(t, sa.Numeric) and not isinstance(t, sa.Float):
        return "decimal", "number"
    if isinstance(t, sa.Integer):
        return "integer", "number"
    if isinstance(t, sa.DateTime) or getattr(t, "impl", None).__class__ is sa.DateTime:
        return "datetime", "datetime"
    if isinstance(t, sa.Date):
        return "date", "date"
    if isinstance(t, sa.Text):
        return "text", "textarea"
    if isinstance(t, sa.JSON):
        return "json", "json"
    if isinstance(t, sa.Enum):
        return "string", "select"
    return "string", "text"


def derive_fields(model: type, meta: dict[str, dict] | None = None,
                  relations: dict[str, str] | None = None) -> dict[str, FieldMeta]:
    meta = meta or {}
    out: dict[str, FieldMeta] = {}
    for attr in model.__mapper__.column_attrs:
        col = attr.columns[0]
        typ, widget = _field_type(col)
        if isinstance(getattr(col.type, "impl", None), sa.DateTime):
            typ, widget = "datetime", "datetime"
        m = dict(meta.get(attr.key, {}))
        fm = FieldMeta(name=attr.key, type=typ, widget=widget,
                       required=not col.nullable and col.default is None
                       and col.server_default is None and not col.primary_key)
        if col.foreign_keys and relations and attr.key in relations:
            fm.relation = relations[attr.key]
            fm.widget = "relation"
        if isinstance(col.type, sa.Enum):
            fm.choices = [(v, v) for v in col.type.enums]
        for k, v in m.items():
            setattr(fm, k, v)
        if fm.choices and not m.get("widget"):
            fm.widget = "select"
        out[attr.key] = fm
    return out


class Registry:
    """What the enabled plugins registered. Rebuilt as a whole on every plugin change."""

    def __init__(self):
        self.entities: dict[str, Entity] = {}
        self.permissions: dict[str, Permission] = {}
        self.roles: dict[str, RoleSeed] = {}
        self.record_rules: list[RecordRule] = []
        self.field_rules: list[FieldRule] = []
        self.actions: dict[tuple[str, str], Action] = {}
        self.views: list[View] = []
        self.menus: list[MenuItem] = []
        self.slots: dict[str, list[SlotItem]] = {}
        self.jobs: dict[str, JobSpec] = {}
        self.schedules: dict[str, ScheduleSpec] = {}
        self.print_templates: dict[str, PrintTemplate] = {}
        self.blueprints: list[tuple[str, Any, dict]] = []
        self.seeds: list[SeedSpec] = []
        self.demos: list[tuple[str, Callable]] = []
        self.plugins: list[str] = []
        self.extras: dict[str, list] = {}

    # lookups
    def entity(self, key: str) -> Entity:
        try:
            return self.entities[key]
        except KeyError:
            from core.errors import NotFoundError
            raise NotFoundError(f"Nieznana encja '{key}' (wtyczka wyłączona lub nieznana).")

    def entity_for_model(self, model: type) -> Entity | None:
        for e in self.entities.values():
            if e.model is model:
                return e
        return None

    def slot(self, name: str) -> list[SlotItem]:
        return sorted(self.slots.get(name, []), key=lambda s: (s.order, s.name))

    def views_for(self, entity: str, kind: str | None = None) -> list[View]:
        return [v for v in self.views if v.entity == entity and (kind is None or v.kind == kind)]

    def entity_actions(self, entity: str) -> list[Action]:
        return [a for (e, _), a in self.actions.items() if e == entity]


class RegistrationContext:
    """Handed to ``kartoteka_register``; every method records a descriptor for ``plugin``."""

    def __init__(self, registry: Registry, plugin: str, kernel=None):
        self.registry = registry
        self.plugin = plugin
        self.kernel = kernel

    # -- entities and facets --------------------------------------------------------------

    def entity(self, model: type[DeclarativeBase], *, name: str | None = None,
               label: str, label_en: str, label_plural: str | None = None,
               label_plural_en: str | None = None, fields: dict[str, dict] | None = None,
               relations: dict[str, str] | None = None,
               search_fields: Iterable[str] = (), order_by: Iterable[str] = ("id",),
               display: Callable[[Any], str] | str | None = None,
               schema_fields: dict | None = None, exclude: Iterable[str] = (),
               services: Iterable[str] = ("links", "comments", "attachments", "audit"),
               state_field: str | None = None, permissions: bool = True,
               search: Callable | None = None) -> Entity:
        table = model.__tablename__
        if not table.startswith(self.plugin + "_"):
            raise PluginError(
                f"Wtyczka '{self.plugin}': tabela '{table}' musi mieć prefiks '{self.plugin}_'")
        name = name or table[len(self.plugin) + 1:]
        key = f"{self.plugin}.{name}"
        if key in self.registry.entities:
            raise PluginError(f"Encja '{key}' zarejestrowana dwukrotnie")
        if isinstance(display, str):
            attr = display
            display = lambda r, _a=attr: str(getattr(r, _a) or "")  # noqa: E731
        display = display or (lambda r: f"{label} #{r.id}")
        fmeta = derive_fields(model, fields, relations)
        for sf in list(search_fields) + [o.lstrip("-") for o in order_by]:
            if sf not in fmeta:
                raise PluginError(f"Encja '{key}': nieznane pole '{sf}'")
        ent = Entity(
            key=key, plugin=self.plugin, name=name, model=model, label=label,
            label_en=label_en, label_plural=label_plural or label,
            label_plural_en=label_plural_en or label_en, fields=fmeta,
            search_fields=list(search_fields), order_by=list(order_by), display=display,
            schema=build_schema(key, model, schema_fields, exclude),
            services=set(services), state_field=state_field, search=search,
            excluded=frozenset(exclude),
        )
        self.registry.entities[key] = ent
        if permissions:
            for op in CRUD:
                self.permission(ent.permission(op), f"{label}: {_OPS_PL[op]}",
                                f"{label_en}: {op}")
        return ent

    def facet(self, parent: str, model: type, *, name: str | None = None,
              parent_key: str = "parent_id", fields: dict[str, dict] | None = None,
              label: str = "", label_en: str = "") -> Facet:
        if parent not in self.registry.entities:
            raise PluginError(f"Wtyczka '{self.plugin}': aspekt dla nieznanej encji '{parent}'")
        table = model.__tablename__
        if not table.startswith(self.plugin + "_"):
            raise PluginError(f"Wtyczka '{self.plugin}': tabela '{table}' bez prefiksu")
        name = name or table[len(self.plugin) + 1:]
        fmeta = {k: v for k, v in derive_fields(model, fields).items()
                 if k not in (parent_key, "id", "version")}
        for fm in fmeta.values():
            fm.facet = name
        facet = Facet(name=name, plugin=self.plugin, parent=parent, model=model,
                      parent_key=parent_key, fields=fmeta, label=label, label_en=label_en)
        ent = self.registry.entities[parent]
        ent.facets[name] = facet
        ent.schema = _with_facet(ent, facet)
        return facet

    # -- security ---------------------------------------------------------------------------

    def permission(self, code: str, label: str, label_en: str | None = None) -> Permission:
        perm = Permission(code, label, label_en or label, self.plugin)
        self.registry.permissions[code] = perm
        return perm

    def role(self, code: str, name: str, name_en: str | None = None,
             permissions: Iterable[str] = ()) -> RoleSeed:
        """A role seeded by this plugin; permissions are added on install/upgrade."""
        seed = self.registry.roles.get(code)
        if seed is None:
            seed = RoleSeed(code, name, name_en or name, [], self.plugin)
            self.registry.roles[code] = seed
        seed.permissions.extend(p for p in permissions if p not in seed.permissions)
        return seed

    def record_rule(self, entity: str, name: str, domain: Callable[[RuleContext], Any], *,
                    roles: Iterable[str] | None = None,
                    operations: Iterable[str] = CRUD, label: str = "") -> RecordRule:
        rule = RecordRule(entity, name, domain, list(roles) if roles is not None else None,
                          tuple(operations), self.plugin, label or name)
        self.registry.record_rules.append(rule)
        return rule

    def field_rule(self, entity: str, field_name: str, mode: str = "hidden", *,
                   roles: Iterable[str] | None = None,
                   except_roles: Iterable[str] = ()) -> FieldRule:
        if mode not in ("hidden", "readonly"):
            raise PluginError(f"Reguła pola {entity}.{field_name}: tryb hidden albo readonly")
        rule = FieldRule(entity, field_name, mode, list(roles) if roles is not None else None,
                         list(except_roles), self.plugin)
        self.registry.field_rules.append(rule)
        return rule

    # -- UI descriptors ---------------------------------------------------------------------

    def view(self, entity: str, kind: str, name: str = "default", **options) -> View:
        if kind not in ("list", "form", "detail", "kanban", "calendar"):
            raise PluginError(f"Nieznany rodzaj widoku '{kind}'")
        view = View(entity, kind, name, self.plugin, options)
        self.registry.views.append(view)
        return view

    def menu(self, key: str, label: str, label_en: str | None = None, **kw) -> MenuItem:
        item = MenuItem(key=key, label=label, label_en=label_en or label, plugin=self.plugin,
                        **kw)
        self.registry.menus.append(item)
        return item

    def slot(self, slot: str, name: str, **kw) -> SlotItem:
        item = SlotItem(slot=slot, name=name, plugin=self.plugin, **kw)
        self.registry.slots.setdefault(slot, []).append(item)
        return item

    def action(self, entity: str, name: str, handler: Callable, *, label: str,
               label_en: str | None = None, permission: str | None = None,
               **kw) -> Action:
        perm = permission or f"{entity}.{name}"
        if perm not in self.registry.permissions:
            self.permission(perm, label, label_en)
        act = Action(entity=entity, name=name, handler=handler, label=label,
                     label_en=label_en or label, permission=perm, plugin=self.plugin, **kw)
        self.registry.actions[(entity, name)] = act
        return act

    # -- runtime ----------------------------------------------------------------------------

    def job(self, fn: Callable, *, name: str | None = None, **options) -> JobSpec:
        name = name or f"{self.plugin}.{fn.__name__}"
        spec = JobSpec(name, fn, self.plugin, options)
        self.registry.jobs[name] = spec
        return spec

    def schedule(self, name: str, job: str, *, interval: float | None = None,
                 cron: str | None = None, **kwargs) -> ScheduleSpec:
        if (interval is None) == (cron is None):
            raise PluginError(f"Harmonogram '{name}': podaj interval albo cron")
        spec = ScheduleSpec(name, job, self.plugin, interval, cron, kwargs)
        self.registry.schedules[name] = spec
        return spec

    def print_template(self, name: str, entity: str, template: str, *, label: str,
                       label_en: str | None = None, kind: str = "document") -> PrintTemplate:
        tpl = PrintTemplate(name, entity, template, label, label_en or label, self.plugin, kind)
        self.registry.print_templates[name] = tpl
        return tpl

    def blueprint(self, bp, **options) -> None:
        self.registry.blueprints.append((self.plugin, bp, options))

    def seed(self, model: type, *, key: str, records: list[dict]) -> SeedSpec:
        spec = SeedSpec(model, key, records, self.plugin)
        self.registry.seeds.append(spec)
        return spec

    def demo(self, fn: Callable) -> Callable:
        """``fn(kernel, session)`` writes demo data for ``kartoteka demo``."""
        self.registry.demos.append((self.plugin, fn))
        return fn

    def extend(self, kind: str, item: Any) -> None:
        """A free-form extension list other layers read (e.g. dashboard widgets)."""
        self.registry.extras.setdefault(kind, []).append(item)


_OPS_PL = {"read": "odczyt", "create": "dodawanie", "update": "edycja", "delete": "usuwanie"}


def _with_facet(ent: Entity, facet: Facet) -> type[SQLAlchemyAutoSchema]:
    inner = build_schema(f"{ent.key}.{facet.name}", facet.model,
                         exclude=[c for c in (facet.parent_key, "id", "version")
                                  if c in facet.model.__table__.c])
    extra = {facet.name: mfields.Nested(inner, allow_none=True, required=False)}
    return type(ent.schema.__name__, (ent.schema,), extra)
