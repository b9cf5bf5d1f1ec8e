"""Passwords (argon2), login throttling, API tokens, security log, role changes."""

import datetime as dt

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.errors import PermissionDenied, ValidationError
from core.security.models import ApiToken, Role, SecurityEvent
from core.security.services import (
    authenticate,
    create_token,
    create_user,
    revoke_token,
    set_role_permissions,
    set_user_roles,
    user_for_token,
)
from core.ui import visible_actions, visible_menu, visible_slot

from .helpers import FIXTURE_REGISTRY


@pytest.fixture
def k(kernel_factory):
    k = kernel_factory(install=["beta"], registry_file=FIXTURE_REGISTRY)
    k.factory = kernel_factory
    return k


def events(s, kind):
    return list(s.scalars(sa.select(SecurityEvent).where(SecurityEvent.kind == kind)))


def test_passwords_are_argon2_and_checked(k):
    with k.db.session() as s:
        u = create_user(s, "ola", password="bardzo-tajne", email="Ola@Example.com")
        assert u.password_hash.startswith("$argon2")
        assert u.email == "Ola@example.com"
        assert authenticate(s, "OLA", "bardzo-tajne").id == u.id
        assert events(s, "login")[0].login == "ola"
        with pytest.raises(ValidationError, match="8 znaków"):
            create_user(s, "krotkie", password="abc")
        with pytest.raises(ValidationError, match="e-mail"):
            create_user(s, "zly", password="password-1", email="nie-mail")


def test_login_throttling_locks_after_failures(k):
    with k.db.session() as s:
        create_user(s, "jan", password="poprawne-haslo")
        for _ in range(3):
            with pytest.raises(PermissionDenied, match="Nieprawidłowy"):
                authenticate(s, "jan", "złe", max_failures=3, lock_seconds=60)
        # locked now: even the right password is refused for a while
        with pytest.raises(PermissionDenied, match="Zbyt wiele"):
            authenticate(s, "jan", "poprawne-haslo", max_failures=3)
        assert len(events(s, "login.failed")) == 3
        assert len(events(s, "login.locked")) == 1
        with pytest.raises(PermissionDenied, match="Nieprawidłowy"):
            authenticate(s, "nikt", "x")     # unknown user: same message, no hint


def test_api_tokens_hashed_expiring_revocable(k):
    with k.db.session() as s:
        u = create_user(s, "api", password="password-1")
        row, secret = create_token(s, u, "integracja")
        assert secret.startswith("kt_") and secret not in row.token_hash
        assert s.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(
            ApiToken.token_hash == secret)) == 0                # never stored in clear
        assert user_for_token(s, secret).id == u.id
        assert row.last_used_at is not None
        assert user_for_token(s, secret + "x") is None
        revoke_token(s, u, row.id)
        assert user_for_token(s, secret) is None
        _, old = create_token(s, u, "stary", expires_at=utcnow() - dt.timedelta(seconds=1))
        assert user_for_token(s, old) is None
        _, live = create_token(s, u, "aktywny")
        u.active = False
        assert user_for_token(s, live) is None                  # inactive user


def test_role_and_permission_changes_are_logged(k):
    with k.db.session() as s:
        admin = k.factory.admin(s)
        role = Role(code="handlowiec", name="Handlowiec")
        s.add(role)
        s.flush()
        set_role_permissions(s, role, ["alpha.thing.read", "alpha.thing.create"], actor=admin,
                             known=set(k.registry.permissions))
        with pytest.raises(ValidationError, match="Nieznane uprawnienia"):
            set_role_permissions(s, role, ["nope.read"], known=set(k.registry.permissions))
        u = create_user(s, "ewa", password="password-1")
        set_user_roles(s, u, ["handlowiec"], actor=admin)
        assert u.role_codes == {"handlowiec"}
        kinds = [e.kind for e in s.scalars(sa.select(SecurityEvent).order_by(SecurityEvent.id))]
        assert "role.permissions" in kinds and "user.roles" in kinds
        detail = events(s, "role.permissions")[0].detail
        assert "+alpha.thing.create,alpha.thing.read" in detail


def test_plugins_extend_other_plugins_views_and_menus_follow_permissions(k):
    reg = k.registry
    # beta (a dependent) adds a panel to alpha's detail view without editing alpha
    assert [s.name for s in reg.slot("alpha.thing.detail.panels")] == ["beta_panel"]
    assert "extra" in reg.entity("alpha.thing").schema().fields
    with k.db.session() as s:
        reader = k.factory.user(s, "reader", permissions=["alpha.thing.read"])
        nobody = k.factory.user(s, "nobody")
        assert [n.item.key for n in visible_menu(reg, reader)] == ["alpha", "beta"]
        assert [n.item.key for n in visible_menu(reg, nobody)] == ["beta"]
        assert visible_actions(reg, "alpha.thing", reader) == []
        admin = k.factory.admin(s)
        assert [a.name for a in visible_actions(reg, "alpha.thing", admin)] == ["double"]
        assert len(visible_slot(reg, "alpha.thing.detail.panels", nobody)) == 1
