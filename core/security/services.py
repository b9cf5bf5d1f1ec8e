"""Users, passwords (argon2), login with throttling, API tokens (stored hashed),
substitutions, and the security audit log."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import NotFoundError, PermissionDenied, ValidationError
from core.security.models import ApiToken, Role, SecurityEvent, Substitution, User

_hasher = PasswordHasher()
TOKEN_PREFIX = "kt_"
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(f"Hasło musi mieć co najmniej {MIN_PASSWORD} znaków.",
                              field="password")
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def log_event(session: Session, kind: str, *, user: User | None = None,
              login: str | None = None, address: str | None = None, detail: str = "") -> None:
    session.add(SecurityEvent(kind=kind, user_id=user.id if user else None,
                              login=login or (user.login if user else None),
                              address=address, detail=detail))


def create_user(session: Session, login: str, *, password: str | None = None, name: str = "",
                email: str | None = None, superuser: bool = False, roles: list[str] = (),
                language: str = "pl", kernel=None, actor: User | None = None) -> User:
    login = (login or "").strip()
    if not login:
        raise ValidationError("Podaj login.", field="login")
    if session.scalar(select(User).where(func.lower(User.login) == login.lower())):
        raise ValidationError(f"Użytkownik '{login}' już istnieje.", field="login")
    if email:
        from email_validator import EmailNotValidError, validate_email
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValidationError(f"Nieprawidłowy adres e-mail: {exc}", field="email")
    if kernel is not None:
        _check_seats(session, kernel)
    user = User(login=login, name=name or login, email=email, superuser=superuser,
                language=language,
                password_hash=hash_password(password) if password else None)
    for code in roles:
        role = session.scalar(select(Role).where(Role.code == code))
        if role is None:
            raise ValidationError(f"Nie ma roli '{code}'.", field="roles")
        user.roles.append(role)
    session.add(user)
    session.flush()
    log_event(session, "user.create", user=actor, detail=f"{login} role={','.join(roles)}")
    return user


def _check_seats(session: Session, kernel) -> None:
    from core.errors import LicenseError
    try:
        lic = kernel.licensing.current()
    except LicenseError:
        return
    if lic is None or not lic.seats:
        return
    active = session.scalar(select(func.count()).select_from(User).where(User.active))
    if active >= lic.seats:
        raise LicenseError(f"Licencja obejmuje {lic.seats} aktywnych użytkowników; "
                           f"limit został osiągnięty.")


def set_password(session: Session, user: User, password: str, actor: User | None = None):
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    log_event(session, "user.password", user=actor or user, detail=user.login)


def authenticate(session: Session, login: str, password: str, *, address: str | None = None,
                 max_failures: int = 5, lock_seconds: int = 300) -> User:
    """Check a login; count failures and lock the account for a while after too many."""
    user = session.scalar(select(User).where(func.lower(User.login) == (login or "").lower()))
    now = utcnow()
    if user is None or not user.active:
        log_event(session, "login.failed", login=login, address=address, detail="unknown")
        raise PermissionDenied("Nieprawidłowy login lub hasło.")
    if user.locked_until and user.locked_until > now:
        log_event(session, "login.locked", user=user, address=address)
        raise PermissionDenied("Zbyt wiele nieudanych prób logowania. Spróbuj ponownie "
                               "za kilka minut.")
    if not check_password(user, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + dt.timedelta(seconds=lock_seconds)
            user.failed_logins = 0
        log_event(session, "login.failed", user=user, address=address)
        raise PermissionDenied("Nieprawidłowy login lub hasło.")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    log_event(session, "login", user=user, address=address)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str,
                 expires_at: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """Return the token row and the secret, shown once; only its hash is stored."""
    if not (name or "").strip():
        raise ValidationError("Podaj nazwę tokenu.", field="name")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, name=name.strip(), prefix=secret[:10],
                   token_hash=_token_hash(secret), expires_at=expires_at)
    session.add(row)
    session.flush()
    log_event(session, "token.create", user=user, detail=f"{row.prefix}… {name}")
    return row, secret


def user_for_token(session: Session, secret: str) -> User | None:
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_hash(secret)))
    now = utcnow()
    if row is None or row.revoked_at or (row.expires_at and row.expires_at <= now):
        return None
    if not row.user.active:
        return None
    row.last_used_at = now
    return row.user


def revoke_token(session: Session, user: User, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or (row.user_id != user.id and not user.superuser):
        raise NotFoundError("Nie ma takiego tokenu.")
    row.revoked_at = utcnow()
    log_event(session, "token.revoke", user=user, detail=row.prefix)


def add_substitution(session: Session, user: User, substitute: User,
                     starts_at: dt.datetime, ends_at: dt.datetime | None = None,
                     note: str | None = None, is_default: bool = False) -> Substitution:
    if user.id == substitute.id:
        raise ValidationError("Użytkownik nie może zastępować samego siebie.",
                              field="substitute_id")
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationError("Koniec zastępstwa musi być po jego początku.", field="ends_at")
    row = Substitution(user_id=user.id, substitute_id=substitute.id, starts_at=starts_at,
                       ends_at=ends_at, note=note, is_default=is_default, active=True)
    session.add(row)
    session.flush()
    return row


def set_substitution_active(session: Session, sub_id: int, active: bool) -> Substitution:
    row = session.get(Substitution, sub_id)
    if row is None:
        raise NotFoundError("Nie ma takiego zastępstwa.")
    row.active = active
    return row


def acting_for(session: Session, user: User, at: dt.datetime | None = None) -> set[int]:
    """The user's id plus ids of users they substitute for right now."""
    at = at or utcnow()
    ids = {user.id}
    rows = session.scalars(select(Substitution.user_id).where(
        Substitution.substitute_id == user.id, Substitution.active.is_(True),
        Substitution.starts_at <= at,
        or_(Substitution.ends_at.is_(None), Substitution.ends_at >= at)))
    ids.update(rows)
    return ids


def set_role_permissions(session: Session, role: Role, codes: list[str], *,
                         actor: User | None = None, known: set[str] | None = None) -> None:
    """Replace a role's permissions; every change is written to the security log."""
    from core.security.models import RolePermission
    codes = sorted(set(codes))
    if known is not None:
        unknown = [c for c in codes if c not in known and not c.endswith("*")]
        if unknown:
            raise ValidationError(f"Nieznane uprawnienia: {', '.join(unknown)}",
                                  field="permissions")
    have = role.permission_codes
    added, removed = set(codes) - have, have - set(codes)
    role.permissions = [p for p in role.permissions if p.code not in removed]
    role.permissions.extend(RolePermission(code=c) for c in sorted(added))
    if added or removed:
        log_event(session, "role.permissions", user=actor,
                  detail=f"{role.code}: +{','.join(sorted(added))} -{','.join(sorted(removed))}")


def set_user_roles(session: Session, user: User, role_codes: list[str], *,
                   actor: User | None = None) -> None:
    roles = list(session.scalars(select(Role).where(Role.code.in_(role_codes))))
    missing = set(role_codes) - {r.code for r in roles}
    if missing:
        raise ValidationError(f"Nie ma ról: {', '.join(sorted(missing))}", field="roles")
    before = user.role_codes
    user.roles = roles
    if before != set(role_codes):
        log_event(session, "user.roles", user=actor,
                  detail=f"{user.login}: {','.join(sorted(before))} -> "
                         f"{','.join(sorted(role_codes))}")


def set_user_active(session: Session, user: User, active: bool, *, actor: User | None = None,
                    kernel=None) -> None:
    if active and not user.active and kernel is not None:
        _check_seats(session, kernel)
    user.active = active
    log_event(session, "user.activate" if active else "user.deactivate", user=actor,
              detail=user.login)
