"""Permission checks, record rules (row filters evaluated in SQL), field rules, explain.

Deny by default: a non-superuser may do only what a role of theirs grants. Record rules are
SQLAlchemy expressions built by the plugin for the user at hand; global rules (no roles)
AND together, role rules OR together among the rules of the user's roles.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.registry import Entity, Registry, RuleContext
from core.security.models import User
from core.security.services import acting_for


def user_permissions(user: User) -> set[str]:
    perms: set[str] = set()
    for role in user.roles:
        perms |= role.permission_codes
    return perms


def has_permission(user: User | None, code: str) -> bool:
    if user is None or not user.active:
        return False
    if user.superuser:
        return True
    perms = user_permissions(user)
    if code in perms:
        return True
    # wildcard grants: "clients.*" or "*"
    parts = code.split(".")
    return "*" in perms or any(".".join(parts[:i]) + ".*" in perms
                               for i in range(1, len(parts)))


def rule_filter(registry: Registry, entity: Entity, user: User, op: str,
                session: Session):
    """The SQL condition restricting ``user`` for ``op`` on ``entity``, or None."""
    if user.superuser:
        return None
    rules = [r for r in registry.record_rules if r.entity == entity.key and op in r.operations]
    if not rules:
        return None
    ctx = RuleContext(user=user, acting_for=acting_for(session, user), session=session)
    codes = user.role_codes
    global_conds = [r.domain(ctx) for r in rules if r.roles is None]
    role_rules = [r for r in rules if r.roles is not None and set(r.roles) & codes]
    conds = list(global_conds)
    if role_rules:
        conds.append(sa.or_(*[r.domain(ctx) for r in role_rules]))
    return sa.and_(*conds) if conds else None


def field_modes(registry: Registry, entity: Entity, user: User) -> dict[str, str]:
    """Field name -> 'hidden' or 'readonly' for this user."""
    out: dict[str, str] = {n: "readonly" for n, f in entity.fields.items() if f.readonly}
    if user.superuser:
        return out
    codes = user.role_codes
    for r in registry.field_rules:
        if r.entity != entity.key:
            continue
        if r.roles is not None and not set(r.roles) & codes:
            continue
        if set(r.except_roles) & codes:
            continue
        if out.get(r.field) != "hidden":
            out[r.field] = r.mode
    return out


@dataclass
class Explanation:
    kind: str          # permission | record_rule | field_rule | superuser
    name: str
    plugin: str
    outcome: str       # granted | denied | filters | applies | passes | blocks
    detail: str = ""

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def explain(registry: Registry, session: Session, user: User, entity: Entity, op: str,
            record=None) -> tuple[bool, list[Explanation]]:
    """Why ``user`` may or may not ``op`` on ``entity`` (and ``record``, if given)."""
    out: list[Explanation] = []
    code = entity.permission(op) if op in ("read", "create", "update", "delete") \
        else f"{entity.key}.{op}"
    perm = registry.permissions.get(code)
    if user.superuser:
        out.append(Explanation("superuser", user.login, "core", "granted",
                               "superużytkownik omija uprawnienia i reguły"))
        return True, out
    granted_by = [r.code for r in user.roles if code in r.permission_codes
                  or "*" in r.permission_codes]
    allowed = has_permission(user, code)
    out.append(Explanation("permission", code, perm.plugin if perm else "?",
                           "granted" if allowed else "denied",
                           ("przez role: " + ", ".join(granted_by)) if granted_by
                           else "żadna rola użytkownika nie nadaje tego uprawnienia"))
    rules = [r for r in registry.record_rules if r.entity == entity.key
             and op in r.operations]
    codes = user.role_codes
    ctx = RuleContext(user=user, acting_for=acting_for(session, user), session=session)
    for r in rules:
        applies = r.roles is None or bool(set(r.roles) & codes)
        outcome = "filters" if applies else "not-applicable"
        detail = "globalna (AND)" if r.roles is None else f"role {', '.join(r.roles)} (OR)"
        if record is not None and applies:
            pk = entity.model.__mapper__.primary_key[0]
            ok = session.scalar(sa.select(sa.func.count()).select_from(entity.model).where(
                pk == record.id, r.domain(ctx)))
            outcome = "passes" if ok else "blocks"
        out.append(Explanation("record_rule", r.name, r.plugin, outcome, detail))
    if record is not None and allowed:
        cond = rule_filter(registry, entity, user, op, session)
        if cond is not None:
            pk = entity.model.__mapper__.primary_key[0]
            allowed = bool(session.scalar(sa.select(sa.func.count()).select_from(
                entity.model).where(pk == record.id, cond)))
    for f, mode in field_modes(registry, entity, user).items():
        rule = next((r for r in registry.field_rules
                     if r.entity == entity.key and r.field == f), None)
        out.append(Explanation("field_rule", f"{entity.key}.{f}",
                               rule.plugin if rule else entity.plugin, mode))
    return allowed, out
