"""Ed25519 licences: tampering, expiry, editions, read-only after expiry, seats."""

import base64
import datetime as dt
import json

import pytest

from core import licensing
from core.errors import LicenseError, PermissionDenied
from core.licensing import verify

from .helpers import FIXTURE_REGISTRY


def test_valid_licence_verifies(license_issuer):
    lic = verify(license_issuer(edition="standard", plugins=["offers"], seats=3))
    assert (lic.edition, lic.plugins, lic.seats) == ("standard", ["offers"], 3)


def test_tampered_licence_is_detected(license_issuer):
    doc = license_issuer(edition="standard")
    doc["payload"]["edition"] = "pro"
    with pytest.raises(LicenseError, match="Podpis licencji jest nieprawidłowy"):
        verify(doc)
    doc = license_issuer(edition="standard")
    doc["payload"]["valid_until"] = "2099-12-31"
    with pytest.raises(LicenseError, match="nieprawidłowy"):
        verify(doc)


def test_unknown_key_and_garbage(license_issuer):
    doc = license_issuer()
    doc["payload"]["key_id"] = "someone-else"
    with pytest.raises(LicenseError, match="nieznanym kluczem"):
        verify(doc)
    with pytest.raises(LicenseError, match="format"):
        verify("not json")
    with pytest.raises(LicenseError, match="format"):
        verify({"payload": {}, "signature": "!!!"})


def test_trusted_keys_not_replaceable_by_settings(kernel_factory, license_issuer, monkeypatch):
    """A licence signed by a key the code does not ship is refused whatever the env says."""
    monkeypatch.setenv("KARTOTEKA_TRUSTED_KEYS", "anything")
    doc = license_issuer()
    monkeypatch.delitem(licensing.TRUSTED_KEYS, "test-key")
    with pytest.raises(LicenseError):
        verify(doc)


def test_shipped_demo_licence_is_genuine():
    lic = verify(licensing.DEMO_LICENSE.read_text())
    assert lic.edition == "pro" and lic.key_id in licensing.TRUSTED_KEYS


def test_expired_licence_keeps_data_readable_but_refuses_writes(kernel_factory, license_issuer):
    k = kernel_factory(registry_file=FIXTURE_REGISTRY)
    k.licensing.install(json.dumps(license_issuer(edition="pro")))
    k.install(["gamma", "alpha"])
    # give alpha's entity a PRO edition for this test: pretend alpha is in the PRO tier
    k.manifests["alpha"].edition = "pro"
    with k.db.session() as s:
        admin = kernel_factory.admin(s)
        k.dal(s, admin).create("alpha.thing", {"name": "przed wygaśnięciem"})
    k.licensing.install(json.dumps(license_issuer(
        edition="pro", valid_until=dt.date.today() - dt.timedelta(days=1))))
    assert k.licensing.status()["state"] == "expired"
    with k.db.session() as s:
        dal = k.dal(s, kernel_factory.admin(s))
        assert dal.list("alpha.thing")[1] == 2               # readable
        with pytest.raises(PermissionDenied, match="wygasła"):
            dal.create("alpha.thing", {"name": "po wygaśnięciu"})
    # uninstall (with export) is never blocked
    folder = k.uninstall(["alpha"], purge=True)
    assert (folder / "alpha_thing.jsonl").read_text().count("\n") == 2
    # enabling a licensed plugin is refused while the licence is expired
    k.disable(["gamma"])
    with pytest.raises(LicenseError, match="wygasła"):
        k.enable(["gamma"])


def test_expiry_warning_30_days_before(kernel_factory, license_issuer):
    k = kernel_factory()
    k.licensing.install(json.dumps(license_issuer(
        valid_until=dt.date.today() + dt.timedelta(days=20))))
    st = k.licensing.status()
    assert st["state"] == "expiring" and st["days_left"] == 20
    assert "20 dni" in st["message"]
    k.licensing.install(json.dumps(license_issuer(
        valid_until=dt.date.today() + dt.timedelta(days=90))))
    assert k.licensing.status()["state"] == "valid"


def test_licence_tampered_in_database_is_detected(kernel_factory, license_issuer):
    from core.models import KernelSetting
    k = kernel_factory()
    k.licensing.install(json.dumps(license_issuer(edition="standard")))
    with k.db.session() as s:
        row = s.get(KernelSetting, licensing.LICENSE_KEY)
        doc = json.loads(row.value)
        doc["payload"]["seats"] = 1000
        row.value = json.dumps(doc)
    assert k.licensing.status()["state"] == "invalid"


def test_seats_limit_active_users(kernel_factory, license_issuer):
    from core.security.services import create_user
    k = kernel_factory()
    k.licensing.install(json.dumps(license_issuer(seats=2)))
    with k.db.session() as s:
        create_user(s, "u1", password="password-1", kernel=k)
        create_user(s, "u2", password="password-1", kernel=k)
        with pytest.raises(LicenseError, match="2 aktywnych"):
            create_user(s, "u3", password="password-1", kernel=k)


def test_signature_is_ed25519_over_canonical_payload(license_issuer):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    doc = license_issuer()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(licensing.TRUSTED_KEYS["test-key"]))
    key.verify(base64.b64decode(doc["signature"]), licensing.canonical(doc["payload"]))
