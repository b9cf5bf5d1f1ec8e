"""Settings: ``KARTOTEKA_*`` environment variables over an optional ``kartoteka.toml``.

Defaults need nothing: an SQLite file under ``./var/`` and a secret key generated on
first use and kept in ``var/secret_key``.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from core.errors import ConfigError


@dataclass
class Settings:
    var_dir: Path = Path("var")
    database_url: str = ""
    secret_key: str = ""
    redis_url: str | None = None
    language: str = "pl"
    timezone: str = "Europe/Warsaw"
    attachment_max_bytes: int = 25 * 1024 * 1024
    trace_hooks: bool = False
    jobs_inprocess: bool = True
    worker_threads: int = 2
    bind: str = "127.0.0.1:8000"
    web_workers: int = 2
    login_max_failures: int = 5
    login_lock_seconds: int = 300
    license_warning_days: int = 30
    secure_cookies: bool = False
    job_lease_seconds: int = 600      # a claimed job is taken over after this long
    addons_registry: str = ""         # catalogue file; default: the in-tree one
    extra: dict = field(default_factory=dict)

    @property
    def attachments_dir(self) -> Path:
        return self.var_dir / "attachments"

    @property
    def exports_dir(self) -> Path:
        return self.var_dir / "exports"

    @property
    def license_path(self) -> Path:
        return self.var_dir / "license.json"


_BOOL = {"1": True, "true": True, "yes": True, "on": True,
         "0": False, "false": False, "no": False, "off": False, "": False}


def _coerce(name: str, value, typ):
    try:
        if typ in (bool, "bool"):
            if isinstance(value, bool):
                return value
            return _BOOL[str(value).strip().lower()]
        if typ in (int, "int"):
            return int(value)
        if typ in (Path, "Path"):
            return Path(value)
        return value
    except (KeyError, ValueError):
        raise ConfigError(f"Ustawienie {name}: nieprawidłowa wartość {value!r}")


def load_settings(root: Path | str | None = None, env: dict | None = None,
                  **overrides) -> Settings:
    """Build settings: defaults < kartoteka.toml < KARTOTEKA_* env < keyword overrides."""
    env = os.environ if env is None else env
    root = Path(root or env.get("KARTOTEKA_ROOT") or os.getcwd())
    values: dict = {}
    toml_path = Path(env.get("KARTOTEKA_CONFIG") or root / "kartoteka.toml")
    if toml_path.exists():
        try:
            data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{toml_path}: błąd składni TOML: {exc}")
        values.update(data.get("kartoteka", data))
    known = {f.name: f.type for f in fields(Settings)}
    for key, val in env.items():
        if key.startswith("KARTOTEKA_"):
            name = key[len("KARTOTEKA_"):].lower()
            if name in known and name != "extra":
                values[name] = val
    values.update({k: v for k, v in overrides.items() if v is not None})
    extra = {k: v for k, v in values.items() if k not in known}
    settings = Settings(**{k: _coerce(k, v, known[k]) for k, v in values.items() if k in known})
    settings.extra.update(extra)
    if not settings.var_dir.is_absolute():
        settings.var_dir = (root / settings.var_dir).resolve()
    if not settings.database_url:
        settings.database_url = f"sqlite:///{settings.var_dir / 'kartoteka.db'}"
    if settings.redis_url == "":
        settings.redis_url = None
    if settings.redis_url:
        settings.jobs_inprocess = False
    if not settings.secret_key:
        settings.secret_key = _secret_key(settings.var_dir)
    return settings


def _secret_key(var_dir: Path) -> str:
    """Return the kept secret key, generating it on first use (mode 0600)."""
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
