"""Kartoteka kernel: configuration, database, plugins, registry, security, records.

The kernel never imports a plugin. Plugins import the public API re-exported here and
in the submodules named in ``docs/plugins.md``.
"""

__version__ = "1.0.0"

from core.errors import (  # noqa: E402
    ConflictError,
    DomainError,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from core.hookspecs import hookimpl  # noqa: E402

__all__ = [
    "__version__",
    "hookimpl",
    "DomainError",
    "ValidationError",
    "PermissionDenied",
    "NotFoundError",
    "ConflictError",
]
