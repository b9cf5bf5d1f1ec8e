"""Domain errors: every error a user can cause, with a message fit for that user.

The web layer turns them into RFC 9457 problem responses (``status`` is the HTTP code);
the CLI prints ``message`` on one line and exits non-zero.
"""

from __future__ import annotations


class DomainError(Exception):
    """An error caused by the user's input or by the state of the data."""

    status = 400
    title = "Błąd"

    def __init__(self, message: str, *, field: str | None = None,
                 errors: dict[str, list[str]] | None = None, **extra):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ({field: [message]} if field else {})
        self.extra = extra

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


class ValidationError(DomainError):
    status = 422
    title = "Nieprawidłowe dane"


class PermissionDenied(DomainError):
    status = 403
    title = "Brak uprawnień"


class NotFoundError(DomainError):
    status = 404
    title = "Nie znaleziono"


class ConflictError(DomainError):
    """A stale write (someone else saved first) or a state conflict."""

    status = 409
    title = "Konflikt"


class PreconditionFailed(ConflictError):
    status = 412
    title = "Nieaktualna wersja"


class PreconditionRequired(DomainError):
    status = 428
    title = "Wymagany nagłówek If-Match"


class PluginError(DomainError):
    """Plugin discovery, dependency or lifecycle error; names the plugins involved."""

    status = 409
    title = "Błąd wtyczki"


class ManifestError(PluginError):
    pass


class LicenseError(DomainError):
    status = 402
    title = "Licencja"


class ConfigError(DomainError):
    title = "Błąd konfiguracji"


class HookError(DomainError):
    """An unexpected exception raised inside a plugin's hook implementation."""

    status = 500
    title = "Błąd wtyczki"

    def __init__(self, plugin: str, hook: str, original: BaseException):
        super().__init__(
            f"Wtyczka '{plugin}' zgłosiła błąd w haku '{hook}': "
            f"{type(original).__name__}: {original}",
            plugin=plugin, hook=hook,
        )
        self.plugin = plugin
        self.hook = hook
        self.original = original
