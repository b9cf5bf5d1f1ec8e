"""The public services of the ``registries`` plugin (free of Flask).

* :func:`fetch_from_gus` / :func:`fetch_from_ceidg` / :func:`fetch_proposal` — a proposal of
  the client's fields (name, short name, REGON, KRS, legal form, registered address, PKD);
* :func:`diff` — what the proposal would change; :func:`apply` — write the accepted fields
  through the data-access layer (the clients plugin's rules and audit apply);
* :func:`verify` — VIES and the VAT White List (status, bank accounts), recorded with date
  and request id in the client's history;
* :func:`panel_state` — the latest results per source and the warning badge;
* :func:`start_bulk` / :func:`run_bulk` — bulk verification as a background job;
* :func:`check_payment_account` — the White List check of an account before a payment
  document is issued (the sales hook ``sales_before_issue``).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import ConflictError, DomainError, PermissionDenied, ValidationError
from core.records import RecordRef, audit
from core.security.access import has_permission
from plugins.clients.models import Address, BankAccount, Client

from . import cache, lookups
from .config import get_settings
from .lookups import RegistryFailure, RegistryUnavailable, domain_error
from .models import (
    ASSIGNED,
    CEIDG,
    ERROR,
    GUS,
    NOT_ASSIGNED,
    NOT_FOUND,
    OK,
    SKIPPED,
    SOURCE_LABELS,
    VIES,
    WARNING,
    WHITELIST,
    BulkRun,
    CompanyData,
    DocumentCheck,
    Settings,
    Verification,
)
from .sources.whitelist import STATUS_VAT_ACTIVE

log = logging.getLogger("kartoteka.registries")

CLIENT = "clients.client"
FACET = "registry"
PERM_FETCH = "registries.fetch"
PERM_VERIFY = "registries.verify"
PERM_BULK = "registries.verify_bulk"
PERM_SETTINGS = "registries.settings"
BULK_JOB = "registries.verify_bulk"
#: Bulk runs: rounds of retries for clients whose registry was unavailable, and the
#: first delay (seconds; doubled every round).
MAX_RETRY_ROUNDS = 3
RETRY_BACKOFF = 60.0

__all__ = [
    "DiffRow", "RegistryFailure", "RegistryUnavailable", "apply", "check_payment_account",
    "diff", "fetch_from_ceidg", "fetch_from_gus", "fetch_proposal", "history",
    "latest_results",
    "panel_state", "run_bulk", "start_bulk", "verify",
]


# -- proposals ------------------------------------------------------------------------------

#: Client fields a proposal may fill, with their labels (the order of the diff page).
PROPOSAL_FIELDS = {
    "name": "Nazwa", "short_name": "Nazwa skrócona", "first_name": "Imię",
    "last_name": "Nazwisko", "legal_form": "Forma prawna", "nip": "NIP", "regon": "REGON",
    "krs": "KRS", "address": "Adres siedziby", "pkd": "PKD",
}
PROPOSAL_FIELDS_EN = {
    "name": "Name", "short_name": "Short name", "first_name": "First name",
    "last_name": "Last name", "legal_form": "Legal form", "nip": "Tax id (NIP)",
    "regon": "REGON", "krs": "KRS", "address": "Registered address", "pkd": "PKD codes",
}
CLIENT_COLUMNS = ("name", "short_name", "first_name", "last_name", "legal_form", "nip",
                  "regon", "krs")


def _proposal(payload: dict, cached: bool, day: dt.date) -> dict:
    pkd = payload.get("pkd") or []
    main = next((p for p in pkd if p.get("main")), pkd[0] if pkd else None)
    business = (payload.get("name") or "").strip() or None
    return {
        "source": payload["source"],
        "fetched_on": day.isoformat(),
        "cached": cached,
        "entity_type": payload.get("entity_type"),
        "name": business,
        "short_name": payload.get("short_name"),
        "first_name": _title(payload.get("first_name")),
        "last_name": _title(payload.get("last_name")),
        "legal_form": payload.get("legal_form"),
        "nip": payload.get("nip"),
        "regon": payload.get("regon"),
        "krs": payload.get("krs"),
        "address": payload.get("address"),
        "pkd_main": main["code"] if main else None,
        "pkd_codes": pkd,
        "pkd": ", ".join(p["code"] for p in pkd) or None,
        "activity_status": payload.get("status"),
        "start_date": payload.get("start_date"),
        "email": payload.get("email"),
        "phone": payload.get("phone"),
        "website": payload.get("website"),
    }


def _title(value: str | None) -> str | None:
    return value.strip().title() if value else None


def fetch_from_gus(session: Session, *, nip: str | None = None, regon: str | None = None,
                   krs: str | None = None, use_cache: bool = True) -> dict:
    """A proposal of client data from GUS (REGON), by NIP, REGON or KRS."""
    day = cache.today()
    payload, hit = lookups.lookup_gus(session, nip=nip, regon=regon, krs=krs, day=day,
                                      use_cache=use_cache)
    return _proposal(payload, hit, day)


def fetch_from_ceidg(session: Session, *, nip: str | None = None, regon: str | None = None,
                     use_cache: bool = True) -> dict:
    """A proposal of client data from CEIDG (sole proprietors), by NIP or REGON."""
    day = cache.today()
    payload, hit = lookups.lookup_ceidg(session, nip=nip, regon=regon, day=day,
                                        use_cache=use_cache)
    return _proposal(payload, hit, day)


def default_source(session: Session, client: Client) -> str:
    """CEIDG for a natural person when a CEIDG token is configured, else GUS."""
    if client.kind == "person" and get_settings(session).ceidg_token:
        return CEIDG
    return GUS


def fetch_proposal(session: Session, client: Client, source: str | None = None,
                   *, use_cache: bool = True) -> dict:
    """The proposal for ``client`` from ``source`` (``gus``/``ceidg``; default: see
    :func:`default_source`), looked up by the client's NIP, else REGON, else KRS."""
    source = source or default_source(session, client)
    if not (client.nip or client.regon or client.krs):
        raise ValidationError("Uzupełnij NIP, REGON lub KRS klienta, aby pobrać dane z "
                              "rejestru.", field="nip")
    if source == GUS:
        return fetch_from_gus(session, nip=client.nip, regon=None if client.nip else
                              client.regon, krs=None if client.nip or client.regon else
                              client.krs, use_cache=use_cache)
    if source == CEIDG:
        if not (client.nip or client.regon):
            raise ValidationError("CEIDG wyszukuje po NIP lub REGON; uzupełnij jeden z nich.",
                                  field="nip")
        return fetch_from_ceidg(session, nip=client.nip,
                                regon=None if client.nip else client.regon,
                                use_cache=use_cache)
    raise ValidationError(f"Nieznane źródło danych '{source}'.", field="source")


# -- diff and apply ---------------------------------------------------------------------------

class DiffRow(NamedTuple):
    """One field the proposal would change: ``(field, current, proposed)`` as display text."""

    field: str
    current: str | None
    proposed: str | None

    @property
    def label(self) -> str:
        return PROPOSAL_FIELDS.get(self.field, self.field)

    def text(self, lang: str = "pl") -> str:
        return (PROPOSAL_FIELDS_EN if lang == "en" else PROPOSAL_FIELDS).get(self.field,
                                                                             self.field)


def address_line(a: dict | Address | None) -> str | None:
    if a is None:
        return None
    get = a.get if isinstance(a, dict) else (lambda k: getattr(a, k, None))
    number = get("building") or ""
    if get("unit"):
        number = f"{number}/{get('unit')}" if number else get("unit")
    first = " ".join(p for p in (get("street"), number) if p)
    second = " ".join(p for p in (get("postal_code"), get("city")) if p)
    country = get("country")
    parts = [p for p in (first, second) if p]
    if country and country != "PL":
        parts.append(country)
    return ", ".join(parts) or None


def registered_address(session: Session, client_id: int) -> Address | None:
    return session.scalar(sa.select(Address).where(
        Address.client_id == client_id, Address.kind == "registered"
    ).order_by(Address.is_default.desc(), Address.id).limit(1))


def _fields_for(client: Client, proposal: dict) -> list[str]:
    if client.kind == "person":
        names = ["first_name", "last_name", "short_name", "regon"]
    else:
        names = ["name", "short_name", "legal_form", "regon", "krs"]
    if not client.nip and proposal.get("nip"):
        names.append("nip")
    return names + ["address", "pkd"]


def _same(a: Any, b: Any) -> bool:
    def norm(v):
        return " ".join(str(v).split()).casefold() if v not in (None, "") else ""
    return norm(a) == norm(b)


def _proposed_value(client: Client, proposal: dict, name: str) -> Any:
    if name == "short_name" and client.kind == "person":
        return proposal.get("short_name") or proposal.get("name")
    return proposal.get(name)


def diff(client: Client, proposal: dict, session: Session | None = None) -> list[DiffRow]:
    """The fields where ``proposal`` differs from ``client`` (empty proposals are
    skipped): ``[DiffRow(field, current, proposed), ...]``."""
    session = session or Session.object_session(client)
    rows: list[DiffRow] = []
    for name in _fields_for(client, proposal):
        if name == "address":
            proposed = address_line(proposal.get("address"))
            current = address_line(registered_address(session, client.id)) \
                if session is not None else None
        elif name == "pkd":
            proposed = proposal.get("pkd")
            facet = session.get(CompanyData, client.id) if session is not None else None
            current = facet.pkd if facet is not None else None
        else:
            proposed = _proposed_value(client, proposal, name)
            current = getattr(client, name)
        if proposed in (None, "") or _same(current, proposed):
            continue
        rows.append(DiffRow(name, None if current in (None, "") else str(current),
                            str(proposed)))
    return rows


def apply(dal, client_id: int, accepted_fields, *, proposal: dict | None = None,
          source: str | None = None, expected_version=None) -> Client:
    """Write the accepted fields of the proposal to the client through the DAL (so the
    clients plugin validates, audits and versions the change). The proposal is fetched
    again when not given (the day's cache answers, so it is the one the user saw)."""
    if not has_permission(dal.user, PERM_FETCH):
        raise PermissionDenied("Brak uprawnienia do pobierania danych z rejestrów.",
                               permission=PERM_FETCH)
    client = dal.get(CLIENT, client_id, "update")
    if proposal is None:
        proposal = fetch_proposal(dal.session, client, source)
    accepted = [f for f in accepted_fields if f in PROPOSAL_FIELDS]
    allowed = set(_fields_for(client, proposal))
    unknown = [f for f in accepted if f not in allowed]
    if unknown:
        raise ValidationError(f"Tego pola nie można przejąć z rejestru: {', '.join(unknown)}.",
                              field=unknown[0])
    if not accepted:
        raise ValidationError("Zaznacz co najmniej jedno pole do przejęcia.")
    values: dict = {f: _proposed_value(client, proposal, f) for f in accepted
                    if f in CLIENT_COLUMNS and _proposed_value(client, proposal, f)}
    registry = {"activity_status": proposal.get("activity_status"),
                "start_date": proposal.get("start_date"),
                "fetched_from": proposal.get("source"),
                "fetched_on": proposal.get("fetched_on")}
    if "pkd" in accepted:
        registry.update(pkd_main=proposal.get("pkd_main"), pkd=proposal.get("pkd"))
    values[FACET] = registry
    dal.update(CLIENT, client.id, values, expected_version=expected_version)
    if "address" in accepted and proposal.get("address"):
        _apply_address(dal, client.id, proposal["address"])
    label = SOURCE_LABELS.get(proposal.get("source"), proposal.get("source"))
    audit(dal.session, RecordRef(CLIENT, client.id), "registry_fetch", user_id=dal.user.id,
          note=f"Dane z rejestru {label} z dnia {proposal.get('fetched_on')}: "
               + ", ".join(PROPOSAL_FIELDS[f] for f in accepted))
    dal.session.flush()
    return client


def _apply_address(dal, client_id: int, address: dict) -> None:
    values = {k: address.get(k) for k in ("street", "building", "unit", "postal_code",
                                          "city", "country")}
    values["country"] = values["country"] or "PL"
    current = registered_address(dal.session, client_id)
    if current is not None:
        dal.update("clients.address", current.id, values)
    else:
        dal.create("clients.address", dict(values, client_id=client_id, kind="registered",
                                           is_default=True))


# -- verification -----------------------------------------------------------------------------

@dataclass
class CheckResult:
    source: str
    status: str
    summary: str
    number: str | None = None
    request_id: str | None = None
    data: dict | None = None
    error: str | None = None
    retryable: bool = False
    cached: bool = False
    verification_id: int | None = None

    def as_dict(self) -> dict:
        return {"source": self.source, "status": self.status, "summary": self.summary,
                "number": self.number, "request_id": self.request_id, "error": self.error,
                "retryable": self.retryable, "cached": self.cached,
                "verification_id": self.verification_id}


@dataclass
class Outcome:
    client_id: int
    results: list[CheckResult] = field(default_factory=list)

    @property
    def status(self) -> str:
        states = {r.status for r in self.results}
        if ERROR in states:
            return ERROR
        if states & {WARNING, NOT_FOUND}:
            return WARNING
        return OK if states else SKIPPED

    @property
    def retryable(self) -> bool:
        return any(r.retryable for r in self.results)

    def as_dict(self) -> dict:
        return {"client_id": self.client_id, "status": self.status,
                "results": [r.as_dict() for r in self.results]}


def vat_number_of(client: Client) -> str | None:
    """The number VIES is asked about: the EU VAT number, else ``PL`` + NIP."""
    if client.vat_eu:
        return client.vat_eu.replace(" ", "").upper()
    if client.nip:
        return "PL" + client.nip
    return None


def _polish_accounts(session: Session, client_id: int) -> list[str]:
    out = []
    for iban in session.scalars(sa.select(BankAccount.iban).where(
            BankAccount.client_id == client_id).order_by(BankAccount.id)):
        compact = (iban or "").replace(" ", "").upper()
        if compact.startswith("PL"):
            compact = compact[2:]
        if compact.isdigit() and len(compact) == 26:
            out.append(compact)
    return out


def _check_vies(session: Session, client: Client, day: dt.date, use_cache: bool
                ) -> CheckResult | None:
    number = vat_number_of(client)
    if not number:
        return None
    payload, hit = lookups.lookup_vies(session, number, day=day, use_cache=use_cache)
    full = payload["country_code"] + payload["vat_number"]
    if payload["valid"]:
        summary = f"Numer VAT UE {full} aktywny w VIES"
        if payload.get("name"):
            summary += f" ({payload['name']})"
        status = OK
    else:
        summary = f"Numer VAT UE {full} nieaktywny w VIES"
        status = WARNING
    return CheckResult(VIES, status, summary[:255], full, payload.get("request_id"), payload,
                       cached=hit)


def _check_whitelist(session: Session, client: Client, day: dt.date, use_cache: bool
                     ) -> CheckResult | None:
    if not client.nip:
        return None
    answer, hit = lookups.lookup_whitelist(session, client.nip, day=day, use_cache=use_cache)
    subject = answer.get("subject")
    accounts = []
    data = {"subject": subject, "request_date_time": answer.get("request_date_time"),
            "day": day.isoformat(), "accounts": accounts}
    if subject is None:
        return CheckResult(WHITELIST, NOT_FOUND,
                           "Brak podmiotu w wykazie podatników VAT (biała lista)",
                           client.nip, answer.get("request_id"), data, cached=hit)
    on_list = set(subject.get("account_numbers") or [])
    for nrb in _polish_accounts(session, client.id):
        entry = {"account": nrb, "on_list": nrb in on_list, "request_id": None}
        if not entry["on_list"] and subject.get("has_virtual_accounts"):
            try:
                check, _hit = lookups.check_account(session, client.nip, nrb, day=day,
                                                    use_cache=use_cache)
                entry.update(on_list=check["assigned"], request_id=check["request_id"])
            except DomainError as exc:
                entry["error"] = exc.message
        accounts.append(entry)
    status_vat = subject.get("status_vat") or "?"
    missing = [a for a in accounts if not a["on_list"]]
    summary = f"Status VAT: {status_vat}"
    if accounts:
        summary += f"; rachunki na liście: {len(accounts) - len(missing)}/{len(accounts)}"
    status = OK if status_vat == STATUS_VAT_ACTIVE and not missing else WARNING
    return CheckResult(WHITELIST, status, summary[:255], client.nip, answer.get("request_id"),
                       data, cached=hit)


CHECKS = {VIES: _check_vies, WHITELIST: _check_whitelist}


def verify_client(session: Session, kernel, client: Client, *, user_id: int | None = None,
                  sources=(VIES, WHITELIST), use_cache: bool = True,
                  day: dt.date | None = None, run_id: int | None = None,
                  emit: bool = True) -> Outcome:
    """Check one client in ``sources`` and record every result (also a source's failure)
    plus one audit entry with the date and request ids. Never raises for a registry
    failure: it is recorded with its message."""
    day = day or cache.today()
    outcome = Outcome(client.id)
    for source in sources:
        check = CHECKS.get(source)
        if check is None:
            raise ValidationError(f"Nieznane źródło weryfikacji '{source}'.", field="sources")
        try:
            result = check(session, client, day, use_cache)
        except DomainError as exc:
            result = CheckResult(source, ERROR, exc.message[:255], error=exc.message,
                                 retryable=isinstance(exc, RegistryUnavailable),
                                 number=client.nip)
        if result is None:
            continue
        row = Verification(client_id=client.id, source=source, checked_at=utcnow(),
                           number=result.number, status=result.status, summary=result.summary,
                           request_id=result.request_id, data=result.data, error=result.error,
                           cached=result.cached, user_id=user_id, run_id=run_id)
        session.add(row)
        session.flush()
        result.verification_id = row.id
        outcome.results.append(result)
    if outcome.results:
        audit(session, RecordRef(CLIENT, client.id), "registry_verify", user_id=user_id,
              note=_audit_note(outcome, day))
    if emit and kernel is not None and outcome.results:
        kernel.hooks.call("registries_client_verified", client_id=client.id,
                          results=[r.as_dict() for r in outcome.results], session=session,
                          user_id=user_id)
    session.flush()
    return outcome


def _audit_note(outcome: Outcome, day: dt.date) -> str:
    parts = []
    for r in outcome.results:
        label = SOURCE_LABELS.get(r.source, r.source)
        text = f"{label} ({day:%d.%m.%Y}): {r.error or r.summary}"
        if r.request_id:
            text += (", nr konsultacji " if r.source == VIES else ", requestId ") + r.request_id
        parts.append(text)
    return ("Weryfikacja w rejestrach — " + "; ".join(parts))[:500]


def verify(dal, client_id: int, *, sources=(VIES, WHITELIST), use_cache: bool = True
           ) -> Outcome:
    """Verify one client the user may read: VIES (EU VAT number, else PL + NIP) and the
    VAT White List (status and the client's bank accounts)."""
    if not has_permission(dal.user, PERM_VERIFY):
        raise PermissionDenied("Brak uprawnienia do weryfikacji w rejestrach.",
                               permission=PERM_VERIFY)
    client = dal.get(CLIENT, client_id)
    if not (client.nip or client.vat_eu):
        raise ValidationError("Klient nie ma NIP ani numeru VAT UE — nie ma czego "
                              "weryfikować.", field="nip")
    return verify_client(dal.session, dal.kernel, client, user_id=dal.user.id,
                         sources=_parse_sources(sources), use_cache=use_cache)


# -- the information panel --------------------------------------------------------------------

def latest_results(session: Session, client_id: int) -> dict[str, Verification]:
    """The newest result per source (errors included)."""
    out: dict[str, Verification] = {}
    rows = session.scalars(sa.select(Verification).where(
        Verification.client_id == client_id).order_by(Verification.checked_at.desc(),
                                                      Verification.id.desc()).limit(50))
    for row in rows:
        out.setdefault(row.source, row)
    return out


def history(session: Session, client_id: int, limit: int = 20) -> list[Verification]:
    """The client's checks, newest first."""
    return list(session.scalars(sa.select(Verification).where(
        Verification.client_id == client_id).order_by(Verification.checked_at.desc(),
                                                      Verification.id.desc()).limit(limit)))


def _latest_good(session: Session, client_id: int, source: str) -> Verification | None:
    return session.scalar(sa.select(Verification).where(
        Verification.client_id == client_id, Verification.source == source,
        Verification.status != ERROR).order_by(Verification.checked_at.desc(),
                                               Verification.id.desc()).limit(1))


def age_days(when: dt.datetime | None, now: dt.datetime | None = None) -> int | None:
    if when is None:
        return None
    now = now or utcnow()
    return max(0, (now.astimezone(cache.WARSAW).date() - when.astimezone(cache.WARSAW).date()
                   ).days)


def panel_state(session: Session, client_id: int, *, settings: Settings | None = None,
                now: dt.datetime | None = None) -> dict:
    """What the verification panel shows: ``{"latest": {source: row}, "good": {source:
    row}, "badge": {"state", "label", "reasons"}, "max_age_days"}``.

    Badge: ``warning`` when the last successful check says the VAT status is not active, the
    subject is missing from the White List, a bank account is not on it or the VIES number
    is not valid; ``stale`` when the last check is older than ``max_age_days``;
    ``unknown`` when never checked; else ``ok``."""
    settings = settings or get_settings(session)
    latest = latest_results(session, client_id)
    good = {s: row for s in (WHITELIST, VIES)
            if (row := _latest_good(session, client_id, s)) is not None}
    reasons: list[str] = []
    for source in (WHITELIST, VIES):
        row = good.get(source)
        if row is None or row.status == OK:
            continue
        if source == WHITELIST:
            subject = (row.data or {}).get("subject")
            if row.status == NOT_FOUND or subject is None:
                reasons.append("Podmiotu nie ma w wykazie podatników VAT")
            else:
                if subject.get("status_vat") != STATUS_VAT_ACTIVE:
                    reasons.append(f"Status VAT: {subject.get('status_vat') or 'nieznany'}")
                for acc in (row.data or {}).get("accounts") or []:
                    if not acc.get("on_list"):
                        reasons.append(f"Rachunek {format_nrb(acc['account'])} nie jest na "
                                       f"białej liście")
        else:
            reasons.append(row.summary or "Numer VAT UE nieaktywny w VIES")
    last = max((r.checked_at for r in good.values()), default=None)
    age = age_days(last, now)
    if not good:
        state, label = "unknown", "Nie weryfikowano"
    elif reasons:
        state, label = "warning", "Uwaga: " + reasons[0]
    elif age is not None and age > settings.max_age_days:
        state, label = "stale", f"Weryfikacja nieaktualna ({age} dni)"
        reasons.append(f"Ostatnia weryfikacja {age} dni temu (limit {settings.max_age_days})")
    else:
        state, label = "ok", "Czynny podatnik VAT" if WHITELIST in good else "Zweryfikowany"
    if state == "warning" and age is not None and age > settings.max_age_days:
        reasons.append(f"Ostatnia weryfikacja {age} dni temu (limit {settings.max_age_days})")
    return {"latest": latest, "good": good, "age_days": age, "last_checked": last,
            "max_age_days": settings.max_age_days,
            "badge": {"state": state, "label": label, "reasons": reasons}}


def format_nrb(nrb: str) -> str:
    """``61109010140000071219812874`` → ``61 1090 1014 0000 0712 1981 2874``."""
    if len(nrb) != 26:
        return nrb
    return nrb[:2] + " " + " ".join(nrb[i:i + 4] for i in range(2, 26, 4))


# -- bulk verification ------------------------------------------------------------------------

def visible_client_ids(dal, ids=None, *, all_active: bool = False) -> list[int]:
    """Ids of the clients (of ``ids``, or all / all active) the user may read and that
    have a NIP or an EU VAT number to check."""
    stmt = dal.select(CLIENT).with_only_columns(Client.id).order_by(Client.id)
    if all_active:
        stmt = stmt.where(Client.active.is_(True))
    if ids is not None:
        stmt = stmt.where(Client.id.in_([int(i) for i in ids]))
    stmt = stmt.where(sa.or_(Client.nip.is_not(None), Client.vat_eu.is_not(None)))
    return list(dal.session.scalars(stmt))


def _parse_sources(sources) -> list[str]:
    """The sources asked for (a list, or "vies,whitelist"); both when none."""
    if isinstance(sources, str):
        sources = sources.split(",")
    if sources and (not isinstance(sources, list | tuple)
                    or not all(isinstance(s, str) for s in sources)):
        raise ValidationError("Źródła weryfikacji: vies, whitelist.", field="sources")
    out = [s.strip() for s in (sources or (VIES, WHITELIST)) if s.strip()]
    bad = [s for s in out if s not in CHECKS]
    if bad or not out:
        raise ValidationError("Źródła weryfikacji: vies, whitelist.", field="sources")
    return list(dict.fromkeys(out))


def start_bulk(dal, client_ids=None, *, all_active: bool = False, sources=None,
               backoff: float | None = None) -> BulkRun:
    """Queue a bulk verification of ``client_ids`` (or every active client the user may
    see) as a background job; returns the run (``run.job_id`` for the progress page)."""
    from core.jobs import enqueue
    if not has_permission(dal.user, PERM_BULK):
        raise PermissionDenied("Brak uprawnienia do zbiorczej weryfikacji w rejestrach.",
                               permission=PERM_BULK)
    if client_ids is None and not all_active:
        raise ValidationError("Wybierz klientów albo „wszyscy aktywni”.", field="ids")
    ids = visible_client_ids(dal, client_ids, all_active=all_active)
    if not ids:
        raise ValidationError("Żaden z wybranych klientów nie ma NIP ani numeru VAT UE.",
                              field="ids")
    run = BulkRun(status="queued", scope="all" if all_active else "selected",
                  sources=_parse_sources(sources), client_ids=ids, pending=list(ids),
                  total=len(ids), user_id=dal.user.id, report=[])
    dal.session.add(run)
    dal.session.flush()
    kwargs: dict = {"run_id": run.id}
    if backoff is not None:
        kwargs["backoff"] = backoff
    run.job_id = enqueue(dal.session, BULK_JOB, kwargs=kwargs, user_id=dal.user.id)
    dal.session.flush()
    return run


SESSION_KEY = "registries.bulk_run"


def collect_for_bulk(dal, client_id: int) -> BulkRun:
    """A bulk action is called once per selected record in one transaction: the first call
    queues a run, the next ones add their client to it (the job starts after the commit,
    so it sees them all)."""
    from sqlalchemy import event
    session = dal.session
    run_id = session.info.get(SESSION_KEY)
    run = session.get(BulkRun, run_id) if run_id else None
    if run is None or run.status != "queued":
        run = start_bulk(dal, [client_id])
        session.info[SESSION_KEY] = run.id

        def forget(*_a):
            session.info.pop(SESSION_KEY, None)
        event.listen(session, "after_commit", forget, once=True)
        event.listen(session, "after_soft_rollback", forget, once=True)
        return run
    ids = visible_client_ids(dal, [client_id])
    if ids and ids[0] not in run.client_ids:
        run.client_ids = [*run.client_ids, ids[0]]
        run.pending = [*run.pending, ids[0]]
        run.total = len(run.client_ids)
        session.flush()
    return run


def run_bulk(ctx, run_id: int, backoff: float | None = None) -> dict:
    """The job: verify the run's pending clients (White List answers prefetched in batches
    of 30), write the report; clients whose registry was unavailable are retried in a new
    job after ``backoff`` × 2^round seconds, at most ``MAX_RETRY_ROUNDS`` times."""
    from core.jobs import enqueue
    from core.security.models import User
    session, kernel = ctx.session, ctx.kernel
    run = session.get(BulkRun, run_id)
    if run is None or run.status in ("done", "cancelled"):
        return {"run_id": run_id, "skipped": True}
    backoff = RETRY_BACKOFF if backoff is None else float(backoff)
    run.status, run.attempts = "running", run.attempts + 1
    run.started_at = run.started_at or utcnow()
    session.flush()
    user = session.get(User, run.user_id) if run.user_id else None
    dal = kernel.dal(session, user) if user is not None else None
    settings = get_settings(session)
    day = cache.today()
    pending = [int(i) for i in run.pending or []]
    clients = {c.id: c for c in session.scalars(sa.select(Client).where(
        Client.id.in_(pending)))}
    if WHITELIST in run.sources:
        lookups.prefetch_whitelist(session, [c.nip for c in clients.values() if c.nip],
                                   day=day)
    report = {entry["client_id"]: entry for entry in run.report or []}
    retry: list[int] = []
    last_round = run.attempts > MAX_RETRY_ROUNDS
    visible = set(visible_client_ids(dal, pending)) if dal is not None else set(clients)
    for i, cid in enumerate(pending):
        ctx.progress(run.done, run.total, f"Weryfikacja {i + 1} z {len(pending)}")
        client = clients.get(cid)
        if client is None or cid not in visible:
            report[cid] = {"client_id": cid, "name": f"#{cid}", "nip": None, "status": ERROR,
                           "summary": "Klient nie istnieje albo nie masz do niego dostępu."}
            run.done += 1
            continue
        outcome = verify_client(session, kernel, client, user_id=run.user_id,
                                sources=run.sources, day=day, run_id=run.id)
        if outcome.retryable and not last_round:
            retry.append(cid)
        else:
            run.done += 1
        report[cid] = {"client_id": cid, "name": client.name, "nip": client.nip,
                       "status": outcome.status,
                       "summary": "; ".join(f"{SOURCE_LABELS[r.source]}: {r.summary}"
                                            for r in outcome.results) or "—",
                       "retrying": cid in retry}
    entries = [report[cid] for cid in run.client_ids if cid in report]
    run.report = entries
    run.ok = sum(1 for e in entries if e["status"] == OK and not e.get("retrying"))
    run.warnings = sum(1 for e in entries if e["status"] == WARNING)
    run.errors = sum(1 for e in entries if e["status"] == ERROR and not e.get("retrying"))
    run.pending = retry
    if retry:
        run.status = "retrying"
        delay = backoff * (2 ** (run.attempts - 1))
        run.job_id = enqueue(session, BULK_JOB, kwargs={"run_id": run.id, "backoff": backoff},
                             delay=delay, user_id=run.user_id)
    else:
        run.status, run.finished_at = "done", utcnow()
    cache.prune(session, settings.cache_days, day)
    ctx.progress(run.done, run.total, "Zakończono" if not retry else "Ponowienie zaplanowane")
    session.flush()
    return {"run_id": run.id, "total": run.total, "ok": run.ok, "warnings": run.warnings,
            "errors": run.errors, "retrying": len(retry)}


def scheduled_whitelist(ctx) -> dict:
    """The weekly schedule: when switched on in the settings, a White List check of every
    active client with a NIP (a bulk run without a user)."""
    session = ctx.session
    settings = get_settings(session)
    if not settings.schedule_enabled:
        return {"skipped": "harmonogram wyłączony w ustawieniach"}
    ids = list(session.scalars(sa.select(Client.id).where(
        Client.active.is_(True), Client.nip.is_not(None)).order_by(Client.id)))
    run = BulkRun(status="queued", scope="all", sources=[WHITELIST], client_ids=ids,
                  pending=list(ids), total=len(ids), scheduled=True, report=[],
                  job_id=getattr(ctx.job, "id", None))
    session.add(run)
    session.flush()
    return run_bulk(ctx, run.id)


# -- the White List check of a payment account (sales hook) ----------------------------------

def _money(value) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValidationError("Nieprawidłowa kwota dokumentu.", field="amount")


def check_payment_account(session: Session, client_id: int, iban: str | None = None,
                          amount=None, *, on: dt.date | None = None,
                          document_entity: str | None = None, document_id: int | None = None,
                          user_id: int | None = None, block: bool | None = None) -> dict:
    """Is the client's bank account (``iban``, else its default account) on the VAT White
    List for ``on`` (today)? Only for amounts above the threshold in the settings
    (15,000 PLN by default); below it the answer is ``skipped``. With a document the
    result is stored with it (one row per document, replaced on a new check). When the
    settings block on the White List (or ``block=True``) and the account is not confirmed,
    a ConflictError is raised instead."""
    settings = get_settings(session)
    day = on or cache.today()
    amount = _money(amount)
    block = settings.block_on_whitelist if block is None else block
    client = session.get(Client, client_id) if client_id is not None else None
    account = iban or (_default_account(session, client_id) if client_id else None)
    result: dict = {"status": SKIPPED, "day": day.isoformat(), "request_id": None,
                    "nip": client.nip if client else None, "account": account,
                    "amount": None if amount is None else str(amount), "message": None}
    if amount is not None and amount <= settings.whitelist_threshold:
        result["message"] = (f"Kwota nie przekracza {settings.whitelist_threshold} zł — "
                             "sprawdzenie rachunku nie jest wymagane.")
    elif client is None or not client.nip:
        result.update(status=ERROR, message="Klient nie ma NIP — nie można sprawdzić rachunku "
                                            "na białej liście.")
    elif not account:
        result.update(status=ERROR, message="Nie podano rachunku bankowego, a klient nie ma "
                                            "rachunku domyślnego.")
    else:
        try:
            answer, hit = lookups.check_account(session, client.nip, account, day=day)
            assigned = bool(answer["assigned"])
            result.update(
                status=ASSIGNED if assigned else NOT_ASSIGNED, request_id=answer["request_id"],
                account=answer["account"], cached=hit,
                message=(f"Rachunek {format_nrb(answer['account'])} jest na białej liście "
                         f"dla NIP {client.nip} na dzień {day:%d.%m.%Y}."
                         if assigned else
                         f"Rachunku {format_nrb(answer['account'])} nie ma na białej liście "
                         f"dla NIP {client.nip} na dzień {day:%d.%m.%Y}."))
        except DomainError as exc:
            result.update(status=ERROR, message=exc.message)
    if document_entity and document_id is not None:
        result["check_id"] = _store_document_check(session, document_entity, document_id,
                                                   client_id, amount, day, result, user_id)
    if block and result["status"] in (NOT_ASSIGNED, ERROR):
        raise ConflictError(result["message"] + " Wystawienie dokumentu zablokowano "
                            "(ustawienia rejestrów).", whitelist_status=result["status"])
    return result


def _default_account(session: Session, client_id: int) -> str | None:
    return session.scalar(sa.select(BankAccount.iban).where(
        BankAccount.client_id == client_id).order_by(BankAccount.is_default.desc(),
                                                     BankAccount.id).limit(1))


def _store_document_check(session, document_entity, document_id, client_id, amount, day,
                          result, user_id) -> int:
    row = session.scalar(sa.select(DocumentCheck).where(
        DocumentCheck.document_entity == document_entity,
        DocumentCheck.document_id == int(document_id)))
    if row is None:
        row = DocumentCheck(document_entity=document_entity, document_id=int(document_id))
        session.add(row)
    row.client_id, row.nip, row.amount, row.day = client_id, result["nip"], amount, day
    row.iban = (result["account"] or None) and str(result["account"])[:34]
    row.result, row.request_id = result["status"], result["request_id"]
    row.message = (result["message"] or "")[:500] or None
    row.data = {k: v for k, v in result.items() if k != "check_id"}
    row.user_id = user_id
    session.flush()
    return row.id


def document_check(session: Session, document_entity: str, document_id: int
                   ) -> DocumentCheck | None:
    """The White List check stored with a document, if any."""
    return session.scalar(sa.select(DocumentCheck).where(
        DocumentCheck.document_entity == document_entity,
        DocumentCheck.document_id == int(document_id)))


# -- other plugins' events --------------------------------------------------------------------

def move_client(session: Session, old_id: int, new_id: int) -> None:
    """A client was merged into another: its results and checks follow it."""
    for model in (Verification, DocumentCheck):
        session.execute(sa.update(model).where(model.client_id == old_id)
                        .values(client_id=new_id).execution_options(synchronize_session=False))
    if session.get(CompanyData, new_id) is None:
        session.execute(sa.update(CompanyData).where(CompanyData.client_id == old_id)
                        .values(client_id=new_id).execution_options(synchronize_session=False))
    else:
        session.execute(sa.delete(CompanyData).where(CompanyData.client_id == old_id)
                        .execution_options(synchronize_session=False))


def personal_data(session: Session, client_id: int) -> dict | None:
    rows = list(session.scalars(sa.select(Verification).where(
        Verification.client_id == client_id).order_by(Verification.id)))
    if not rows:
        return None
    return {"Weryfikacje w rejestrach": [
        {"source": r.source, "checked_at": r.checked_at.isoformat(), "number": r.number,
         "status": r.status, "summary": r.summary, "request_id": r.request_id, "data": r.data}
        for r in rows]}


def anonymise(session: Session, client_id: int) -> None:
    """Registry answers repeat the person's name and address: remove them."""
    session.execute(sa.delete(Verification).where(Verification.client_id == client_id))
    session.execute(sa.delete(CompanyData).where(CompanyData.client_id == client_id))


def describe_error(exc: Exception) -> str:
    """A user-facing message for anything a page caught (registry errors included)."""
    from .sources import RegistryError
    if isinstance(exc, RegistryError):
        return domain_error(exc).message
    return getattr(exc, "message", None) or "Nieoczekiwany błąd."
