"""Errors raised by the registry protocol clients.

Every error carries a message written for a Polish end user (``str(error)`` / ``error.message``)
plus machine-readable attributes: ``source`` (the registry's display name), ``code`` (the
registry's own error code, when it sent one) and ``details`` (anything else worth logging).

Hierarchy::

    RegistryError
    ├── NotFound              the registry has no such entity
    ├── InvalidNumber         a NIP/REGON/KRS/VAT/account number failed local validation
    │                         (raised BEFORE any request) or was rejected by the registry
    ├── TooManyIdentifiers    a batch query carried more identifiers than the service allows
    ├── AuthenticationError   bad API key / token, login refused
    ├── MalformedResponse     the answer could not be parsed
    └── Retryable             worth trying again later: service down, timeout, member state
        └── RateLimited       unavailable, …; ``retry_after`` in seconds when known
"""

from __future__ import annotations

from typing import Any


class RegistryError(Exception):
    """Base class: a registry query failed; ``message`` is fit for a Polish end user."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        code: str | None = None,
        details: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.code = code
        self.details = details

    def __str__(self) -> str:
        return self.message


class NotFound(RegistryError):
    """The registry answered, and it has no entity matching the query."""


class InvalidNumber(RegistryError, ValueError):
    """An identifier is malformed or has a wrong check digit."""

    def __init__(self, message: str, *, kind: str | None = None, value: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.kind = kind
        self.value = value


class TooManyIdentifiers(RegistryError):
    """A batch query exceeded the service's limit of identifiers per request."""

    def __init__(self, message: str, *, limit: int | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.limit = limit


class AuthenticationError(RegistryError):
    """The service refused the API key / token (or the session could not be established)."""


class MalformedResponse(RegistryError):
    """The service answered with something that cannot be parsed."""


class Retryable(RegistryError):
    """A temporary failure: the same query may succeed later."""

    def __init__(self, message: str, *, retry_after: float | None = None,
                 **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class RateLimited(Retryable):
    """The service rate-limited us and the bounded retries were used up."""


__all__ = [
    "AuthenticationError",
    "InvalidNumber",
    "MalformedResponse",
    "NotFound",
    "RateLimited",
    "RegistryError",
    "Retryable",
    "TooManyIdentifiers",
]
