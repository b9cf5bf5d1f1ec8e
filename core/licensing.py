"""Signed licences: Ed25519 over the canonical JSON of the payload, verified offline.

A licence file is ``{"payload": {...}, "signature": "<base64>"}`` with payload keys
``licensee, nip, edition, plugins, seats, valid_until, issued_at, key_id``. Trusted public
keys ship in :data:`TRUSTED_KEYS`; no setting replaces them. The installed licence is kept
in the database so every process of a deployment agrees.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from core.errors import LicenseError
from core.manifest import EDITION_RANK, Manifest

# key id -> raw Ed25519 public key (base64). The vendor keeps the private keys.
TRUSTED_KEYS: dict[str, str] = {
    "kartoteka-2026": "pY+52r32DNxXE5OCoqLcL4OCNdGUtRWXGZNmV5PQb7s=",
}
LICENSE_KEY = "license"
# A signed demonstration licence (PRO, 10 seats) installed by ``kartoteka init --demo``.
DEMO_LICENSE = Path(__file__).with_name("demo_license.json")
WARNING_DAYS = 30


def canonical(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


@dataclass
class License:
    licensee: str
    nip: str
    edition: str
    plugins: list[str]
    seats: int
    valid_until: dt.date
    issued_at: str
    key_id: str
    raw: dict

    def covers(self, man: Manifest) -> bool:
        if EDITION_RANK[self.edition] < EDITION_RANK[man.edition]:
            return False
        return not self.plugins or man.name in self.plugins

    def expired(self, today: dt.date | None = None) -> bool:
        return (today or dt.date.today()) > self.valid_until

    def days_left(self, today: dt.date | None = None) -> int:
        return (self.valid_until - (today or dt.date.today())).days


def verify(document: dict | str | bytes) -> License:
    """Check the signature against the trusted keys; raise LicenseError if tampered."""
    try:
        doc = json.loads(document) if isinstance(document, str | bytes) else document
        payload, sig = doc["payload"], base64.b64decode(doc["signature"], validate=True)
        key_id = payload["key_id"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise LicenseError("Plik licencji jest uszkodzony lub ma zły format.")
    if key_id not in TRUSTED_KEYS:
        raise LicenseError(f"Licencja podpisana nieznanym kluczem '{key_id}'.")
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(TRUSTED_KEYS[key_id]))
    try:
        key.verify(sig, canonical(payload))
    except InvalidSignature:
        raise LicenseError("Podpis licencji jest nieprawidłowy (plik zmieniony).")
    try:
        return License(
            licensee=payload["licensee"], nip=payload.get("nip", ""),
            edition=payload["edition"], plugins=list(payload.get("plugins", [])),
            seats=int(payload.get("seats", 0)),
            valid_until=dt.date.fromisoformat(payload["valid_until"]),
            issued_at=payload.get("issued_at", ""), key_id=key_id, raw=doc)
    except (KeyError, ValueError) as exc:
        raise LicenseError(f"Licencja ma niepełne dane: {exc}")


def issue(private_key_pem: bytes, key_id: str, *, licensee: str, nip: str, edition: str,
          plugins: list[str], seats: int, valid_until: dt.date) -> dict:
    """Vendor side: sign a licence. Used by ``kartoteka-vendor``."""
    if edition not in EDITION_RANK:
        raise LicenseError(f"Nieznana edycja '{edition}'")
    key = serialization.load_pem_private_key(private_key_pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise LicenseError("Klucz prywatny musi być kluczem Ed25519.")
    payload = {"licensee": licensee, "nip": nip, "edition": edition,
               "plugins": sorted(plugins), "seats": seats,
               "valid_until": valid_until.isoformat(),
               "issued_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
               "key_id": key_id}
    return {"payload": payload,
            "signature": base64.b64encode(key.sign(canonical(payload))).decode()}


class LicenseManager:
    def __init__(self, kernel):
        self.kernel = kernel

    def current(self) -> License | None:
        from core.models import KernelSetting
        if not self.kernel.is_initialised():
            return None
        with self.kernel.db.Session() as s:
            row = s.get(KernelSetting, LICENSE_KEY)
            if row is None or not row.value:
                return None
        # re-verified whenever the stored text changes: tampering in the DB shows
        cached = getattr(self, "_cache", None)
        if cached and cached[0] == row.value:
            return cached[1]
        lic = verify(row.value)
        self._cache = (row.value, lic)
        return lic

    def install(self, document: str | bytes | Path, user=None) -> License:
        from core.models import KernelSetting
        from core.security.models import SecurityEvent
        if isinstance(document, Path):
            try:
                document = document.read_text(encoding="utf-8")
            except OSError as exc:
                raise LicenseError(f"Nie można odczytać pliku licencji: {exc}")
        lic = verify(document)
        with self.kernel.db.session() as s:
            row = s.get(KernelSetting, LICENSE_KEY)
            text = json.dumps(lic.raw, ensure_ascii=False)
            if row is None:
                s.add(KernelSetting(key=LICENSE_KEY, value=text))
            else:
                row.value = text
            s.add(SecurityEvent(kind="license.install", user_id=getattr(user, "id", None),
                                login=getattr(user, "login", None),
                                detail=f"{lic.licensee} {lic.edition} do {lic.valid_until}"))
        return lic

    def problem_for(self, man: Manifest, today: dt.date | None = None) -> str | None:
        """Why ``man`` may not be enabled, or None."""
        if man.edition == "free":
            return None
        try:
            lic = self.current()
        except LicenseError as exc:
            return f"'{man.name}' wymaga licencji {man.edition.upper()}: {exc.message}"
        if lic is None:
            return (f"Wtyczka '{man.name}' wymaga licencji w edycji {man.edition.upper()}; "
                    f"brak zainstalowanej licencji.")
        if lic.expired(today):
            return f"Licencja wygasła {lic.valid_until}; '{man.name}' wymaga ważnej licencji."
        if not lic.covers(man):
            return (f"Wtyczka '{man.name}' wymaga licencji w edycji {man.edition.upper()}"
                    + ("" if EDITION_RANK[lic.edition] < EDITION_RANK[man.edition]
                       else " obejmującej tę wtyczkę")
                    + f"; posiadana licencja: {lic.edition.upper()}.")
        return None

    def require(self, man: Manifest) -> None:
        problem = self.problem_for(man)
        if problem:
            raise LicenseError(problem)

    def write_allowed(self, plugin: str, today: dt.date | None = None) -> str | None:
        """None if writes are allowed; otherwise the reason (expired/tampered licence).
        Reads, export and uninstall are never blocked."""
        man = self.kernel.manifests.get(plugin)
        if man is None or man.edition == "free":
            return None
        return self.problem_for(man, today)

    def status(self, today: dt.date | None = None) -> dict:
        try:
            lic = self.current()
        except LicenseError as exc:
            return {"state": "invalid", "message": exc.message}
        if lic is None:
            return {"state": "none", "message": "Brak licencji: dostępne wtyczki darmowe."}
        days = lic.days_left(today)
        state = "expired" if days < 0 else ("expiring" if days <= WARNING_DAYS else "valid")
        msg = {"expired": f"Licencja wygasła {lic.valid_until}: dane tylko do odczytu.",
               "expiring": f"Licencja wygasa za {days} dni ({lic.valid_until}).",
               "valid": f"Licencja ważna do {lic.valid_until}."}[state]
        return {"state": state, "message": msg, "licensee": lic.licensee, "nip": lic.nip,
                "edition": lic.edition, "plugins": lic.plugins, "seats": lic.seats,
                "valid_until": lic.valid_until.isoformat(), "days_left": days}
