"""UI extension points as data, free of Flask: what a user may see of the menus, slots,
actions and views that enabled plugins registered. The web layer renders these."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.registry import Action, MenuItem, Registry, SlotItem, View
from core.security.access import has_permission


@dataclass
class MenuNode:
    item: MenuItem
    children: list[MenuNode] = field(default_factory=list)

    def label(self, lang: str = "pl") -> str:
        return self.item.label_en if lang == "en" and self.item.label_en else self.item.label


def visible_menu(registry: Registry, user) -> list[MenuNode]:
    """The menu tree for ``user``: items whose permission (or whose entity's read
    permission) the user holds; parents without visible children and without a target are
    dropped. Ordered by ``order`` then label."""
    def allowed(m: MenuItem) -> bool:
        perm = m.permission or (f"{m.entity}.read" if m.entity else None)
        return perm is None or has_permission(user, perm)

    items = [m for m in registry.menus if allowed(m)]
    nodes = {m.key: MenuNode(m) for m in items}
    roots: list[MenuNode] = []
    for m in items:
        if m.parent and m.parent in nodes:
            nodes[m.parent].children.append(nodes[m.key])
        elif not m.parent:
            roots.append(nodes[m.key])

    def prune(ns: list[MenuNode]) -> list[MenuNode]:
        out = []
        for n in sorted(ns, key=lambda n: (n.item.order, n.item.label)):
            n.children = prune(n.children)
            if n.children or n.item.url or n.item.entity:
                out.append(n)
        return out

    return prune(roots)


def visible_slot(registry: Registry, slot: str, user) -> list[SlotItem]:
    return [s for s in registry.slot(slot) if s.permission is None
            or has_permission(user, s.permission)]


def visible_actions(registry: Registry, entity: str, user, *, bulk: bool | None = None
                    ) -> list[Action]:
    return [a for a in registry.entity_actions(entity)
            if has_permission(user, a.permission) and (bulk is None or a.bulk == bulk)]


def view(registry: Registry, entity: str, kind: str, name: str = "default") -> View | None:
    """The named view descriptor, else the first of that kind, else None (the renderer
    then derives one from the entity's fields)."""
    views = registry.views_for(entity, kind)
    return next((v for v in views if v.name == name), views[0] if views else None)
