"""Value objects shared by the registry clients (addresses, PKD codes, activity statuses)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

# Normalised activity status, shared by GUS and CEIDG results (CEIDG's own values).
STATUS_ACTIVE = "AKTYWNY"
STATUS_SUSPENDED = "ZAWIESZONY"
STATUS_ENDED = "ZAKONCZONY"
STATUS_REMOVED = "WYKRESLONY"
STATUS_PENDING = "OCZEKUJE_NA_ROZPOCZECIE_DZIALANOSCI"
STATUS_ONLY_IN_PARTNERSHIP = "WYLACZNIE_W_FORMIE_SPOLKI"


@dataclass(frozen=True)
class Address:
    """A Polish address split into the parts the registries return."""

    street: str | None = None
    building_no: str | None = None
    unit_no: str | None = None
    postal_code: str | None = None
    city: str | None = None
    post_office: str | None = None
    voivodeship: str | None = None
    county: str | None = None
    commune: str | None = None
    country: str | None = None

    def as_line(self) -> str:
        """``"ul. Chemików 7/2, 09-411 Płock"`` (empty parts are skipped)."""
        number = self.building_no or ""
        if self.unit_no:
            number = f"{number}/{self.unit_no}" if number else self.unit_no
        # Without a street the locality carries the number ("Wólka 12, 05-500 Piaseczno").
        place = self.street or (self.city if number else None)
        first = " ".join(part for part in (place, number) if part)
        town = self.post_office or self.city
        second = " ".join(part for part in (self.postal_code, town) if part)
        return ", ".join(part for part in (first, second) if part)

    def __bool__(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)


@dataclass(frozen=True)
class PkdCode:
    """One PKD (Polish Classification of Activities) entry; ``code`` like ``"62.01.Z"``."""

    code: str
    name: str | None = None
    main: bool = False


_PKD_COMPACT = re.compile(r"^(\d{2})\.?(\d{2})\.?([A-Z])$")


def normalise_pkd(code: str | None) -> str | None:
    """``"6201Z"`` / ``"62.01.Z"`` / ``"62.01z"`` → ``"62.01.Z"``; other shapes kept as given."""
    if not code:
        return None
    text = code.strip().upper().replace(" ", "")
    match = _PKD_COMPACT.match(text)
    if match:
        return "{}.{}.{}".format(*match.groups())
    return text or None


def parse_date(value: object) -> date | None:
    """Parse ``YYYY-MM-DD`` (optionally followed by a time / zone) or ``DD-MM-YYYY``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    if not text:
        return None
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = re.match(r"^(\d{2})[-.](\d{2})[-.](\d{4})", text)
        if not match:
            return None
        day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def blank_to_none(value: object) -> str | None:
    """Strip a string; empty strings (and VIES' ``"---"``) become None."""
    if value is None:
        return None
    text = str(value).strip()
    return text if text and text != "---" else None


__all__ = [
    "STATUS_ACTIVE",
    "STATUS_ENDED",
    "STATUS_ONLY_IN_PARTNERSHIP",
    "STATUS_PENDING",
    "STATUS_REMOVED",
    "STATUS_SUSPENDED",
    "Address",
    "PkdCode",
    "blank_to_none",
    "normalise_pkd",
    "parse_date",
]
