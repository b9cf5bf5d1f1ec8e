"""The HTTP plumbing shared by the clients: an injectable ``httpx.Client``, the timeout, and
the translation of transport failures (connection refused, timeout, dropped connection) into
:class:`~plugins.registries.sources.errors.Retryable` errors with a Polish message."""

from __future__ import annotations

import email.utils
import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx

from .errors import MalformedResponse, Retryable

USER_AGENT = "Kartoteka-registries/1.0 (+https://kartoteka.invalid)"
DEFAULT_TIMEOUT = 10.0


class BaseClient:
    """Owns (or borrows) an ``httpx.Client``; usable as a context manager.

    ``client``: inject an ``httpx.Client`` (tests, proxies, custom TLS). A borrowed client is
    never closed by :meth:`close`. ``timeout`` (seconds) is applied to every request, also on an
    injected client.
    """

    #: The registry's name as shown to the user in error messages.
    source_name = "rejestr"
    logger = logging.getLogger("kartoteka.registries")

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT,
                 client: httpx.Client | None = None) -> None:
        self.timeout = timeout
        self._owns_client = client is None
        self._http = client if client is not None else httpx.Client(
            timeout=timeout, headers={"User-Agent": USER_AGENT}, follow_redirects=False)

    # -- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        if self._owns_client:
            self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- transport -----------------------------------------------------------------------------
    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request; transport failures become :class:`Retryable`."""
        kwargs.setdefault("timeout", self.timeout)
        headers = {"User-Agent": USER_AGENT}
        headers.update(kwargs.pop("headers", None) or {})
        try:
            return self._http.request(method, url, headers=headers, **kwargs)
        except httpx.TimeoutException as exc:
            self.logger.warning("%s: timeout (%s %s): %s", self.source_name, method, url, exc)
            raise Retryable(
                f"Usługa {self.source_name} nie odpowiedziała w wymaganym czasie "
                f"({self.timeout:g} s). Spróbuj ponownie za chwilę.",
                source=self.source_name, code="TRANSPORT-TIMEOUT", details=repr(exc))
        except httpx.ConnectError as exc:
            self.logger.warning("%s: connection failed (%s): %s", self.source_name, url, exc)
            raise Retryable(
                f"Nie można połączyć się z usługą {self.source_name}. Usługa może być "
                "niedostępna albo brak połączenia z internetem. Spróbuj ponownie później.",
                source=self.source_name, code="TRANSPORT-CONNECT", details=repr(exc))
        except httpx.TransportError as exc:
            self.logger.warning("%s: transport error (%s): %s", self.source_name, url, exc)
            raise Retryable(
                f"Połączenie z usługą {self.source_name} zostało przerwane. "
                "Spróbuj ponownie później.",
                source=self.source_name, code="TRANSPORT-ERROR", details=repr(exc))

    def _json(self, response: httpx.Response) -> Any:
        """The response body as JSON, or :class:`MalformedResponse`."""
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self._malformed("odpowiedź nie jest poprawnym dokumentem JSON",
                                  response=response, exc=exc)

    def _malformed(self, what: str, *, response: httpx.Response | None = None,
                   exc: BaseException | None = None) -> MalformedResponse:
        snippet = None
        if response is not None:
            snippet = response.content[:300].decode("utf-8", "replace")
        self.logger.warning("%s: malformed response (%s): %r", self.source_name, what, snippet)
        return MalformedResponse(
            f"Usługa {self.source_name} zwróciła odpowiedź, której nie da się odczytać "
            f"({what}). Spróbuj ponownie później.",
            source=self.source_name, details={"snippet": snippet, "error": repr(exc)})


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date; None when absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


__all__ = ["DEFAULT_TIMEOUT", "USER_AGENT", "BaseClient", "parse_retry_after"]
