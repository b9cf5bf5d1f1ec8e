"""Client services: the rules of the client base, free of Flask.

Public API for other plugins (import ``plugins.clients.services``): ``payer_for``,
``effective_terms``, ``can_contact``, ``filter_contactable``, ``find_by_nip``,
``promote_to_standard``, ``organisation``. Writes go through the data-access layer
(``kernel.dal(session, user)``) so permissions, record rules and the audit trail apply.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.db import utcnow
from core.errors import ConflictError, NotFoundError, ValidationError
from core.records import (
    Attachment,
    AuditEntry,
    Comment,
    Link,
    RecordRef,
    audit,
    audit_trail,
    comments_of,
)

from . import validation
from .models import (
    DATE_KINDS,
    PURPOSES,
    Accounting,
    Address,
    BankAccount,
    Caretaker,
    Client,
    ClientInterest,
    ClientTemplate,
    Consent,
    Contact,
    ContactLink,
    Interest,
    Merge,
    PrintSettings,
    Reminder,
    SignificantDate,
)

ENTITY = "clients.client"
ALLOW_DUPLICATE = "clients.allow_duplicate"     # session.info flag set by the flows below
TERMS = ("payment_method", "payment_days", "price_list", "discount_percent", "credit_limit",
         "currency")
TEMPLATE_CLIENT_FIELDS = ("kind", "segment", "payment_method", "payment_days", "price_list",
                          "discount_percent", "credit_limit", "currency", "importance",
                          "relationship", "acquisition_source", "contact_channel",
                          "is_institution", "is_employee", "is_partner")
TEMPLATE_ACCOUNTING_FIELDS = ("receivable_account", "payable_account", "cost_centre",
                              "vat_settlement")
MAX_DEPTH = 20


def _today() -> dt.date:
    return utcnow().date()


# -- text search ----------------------------------------------------------------------------

def fold(text: str | None) -> str:
    return " ".join((text or "").lower().split())


def search_text_of(values: dict, city: str | None = None) -> str:
    """What the text search indexes: name, short name, names, NIP, PESEL, city, e-mail,
    phone (E.164, so "601234" finds "+48601234567"). A part already contained in the text
    is left out (a person's names are in its name, a short name often is): the search
    matches substrings, and every character less is less index to write."""
    text = ""
    for part in (values.get("name"), values.get("short_name"), values.get("first_name"),
                 values.get("last_name"), values.get("nip"), values.get("pesel"), city,
                 values.get("email"), values.get("phone")):
        part = fold(part)
        if part and part not in text:
            text = f"{text} {part}" if text else part
    return text


def _client_values(client: Client) -> dict:
    return {c: getattr(client, c) for c in ("name", "short_name", "first_name", "last_name",
                                            "nip", "pesel", "email", "phone")}


def main_city(session: Session, client_id: int) -> str | None:
    return session.scalar(sa.select(Address.city).where(Address.client_id == client_id)
                          .order_by(sa.case((Address.kind == "registered", 0), else_=1),
                                    Address.is_default.desc(), Address.id).limit(1))


def refresh_search_text(session: Session, client_id: int) -> None:
    """Recompute the search text (without touching the record's version)."""
    client = session.get(Client, client_id)
    if client is None:
        return
    text = search_text_of(_client_values(client), main_city(session, client_id))
    session.execute(sa.update(Client).where(Client.id == client_id)
                    .values(search_text=text).execution_options(synchronize_session=False))
    sa.orm.attributes.set_committed_value(client, "search_text", text)


FREQUENT_MATCHES = 40_000      # SQLite: from this many matches a word is "frequent" ...
COMMON_MATCHES = 100_000       # ... and from this many "common"
_FTS = sa.table("clients_client_fts", sa.column("rowid"))


def search(stmt: sa.Select, q: str, dialect: str = "sqlite", engine=None) -> sa.Select:
    """Text search for the client list: every word must occur in the search text.

    PostgreSQL: ``LIKE '%word%'``, answered by the pg_trgm GIN index; the planner weighs it
    against the order of the list with its statistics (see below). SQLite has none, so
    the FTS5 trigram table is asked first how common the word is (``engine``; a count up
    to ``COMMON_MATCHES``). A word with fewer than ``FREQUENT_MATCHES`` matches ("gmail",
    "pracownia" in a million clients) is looked up in the index and its matches sorted
    (``id IN (MATCH)``; the cost grows with the matches, wherever they sit in the
    alphabet). A frequent one ("info@") is gathered from the index once and the list,
    read in its order, checks ids against it (no sorting of tens of thousands of rows; slow
    only when the matches all sit late in the alphabet). A common one ("warszawa", a tenth
    of the base) is checked row by row while the list is read — the first page fills after
    a few hundred rows. Words shorter than 3 letters scan."""
    for term in [t for t in fold(q).split() if t]:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") \
            + "%"
        like = Client.search_text.like(pattern, escape="\\")
        if dialect == "postgresql" and len(term) >= 3:
            # the condition twice: the planner multiplies the two estimates, so only a
            # word that is really common (about a tenth of the base) is looked for by
            # reading the list in its order; any rarer word goes through the trigram index
            # and a top-N sort. With the estimate once, a word of 2% of the base gathered
            # in one part of the alphabet ("Pracownia …") read 700,000 rows for 50.
            stmt = stmt.where(like, Client.search_text.like(pattern, escape="\\"))
            continue
        if dialect != "sqlite" or len(term) < 3:
            stmt = stmt.where(like)
            continue
        phrase = '"' + term.replace('"', '""') + '"'          # an FTS5 string: the substring
        matches = _matches(engine, phrase) if engine is not None else 0
        in_index = sa.select(_FTS.c.rowid).where(
            sa.literal_column("clients_client_fts").op("MATCH")(phrase))
        if matches >= COMMON_MATCHES:
            stmt = stmt.where(like)
        elif matches >= FREQUENT_MATCHES:
            # "+id": SQLite may not look the matches up by id and sort them; it reads the
            # list in order and checks each id against the matches gathered once
            stmt = stmt.where(sa.literal_column("+clients_client.id").in_(in_index))
        else:
            stmt = stmt.where(Client.id.in_(in_index))
    return stmt


def optimise_search_index(session: Session) -> bool:
    """SQLite: FTS5 'optimize' (all segments merged into one); False elsewhere."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    session.execute(sa.text("INSERT INTO clients_client_fts(clients_client_fts) "
                            "VALUES ('optimize')"))
    return True


def _matches(engine, phrase: str) -> int:
    """How many clients the FTS5 index finds for ``phrase``, counted up to
    ``COMMON_MATCHES``."""
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text(
                "SELECT count(*) FROM (SELECT rowid FROM clients_client_fts "
                "WHERE clients_client_fts MATCH :phrase LIMIT :limit)"),
                {"phrase": phrase, "limit": COMMON_MATCHES}).scalar()
    except sa.exc.DBAPIError:
        return 0


# -- validation and uniqueness --------------------------------------------------------------

def normalise_client(values: dict) -> dict:
    validation.normalise(values)
    if values.get("pesel") and not values.get("birth_date"):
        values["birth_date"] = validation.pesel_birth_date(values["pesel"])
    for key in ("name", "short_name", "first_name", "last_name"):
        if isinstance(values.get(key), str):
            values[key] = " ".join(values[key].split()) or None
    return values


def person_name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (last, first) if p)


def find_by_nip(session: Session, nip: str | None, *, exclude_id: int | None = None
                ) -> list[Client]:
    """Clients with this NIP (normalised first); an invalid NIP raises."""
    nip = validation.nip(nip)
    if not nip:
        return []
    stmt = sa.select(Client).where(Client.nip == nip).order_by(Client.id)
    if exclude_id is not None:
        stmt = stmt.where(Client.id != exclude_id)
    return list(session.scalars(stmt))


def find_by_pesel(session: Session, pesel: str | None, *, exclude_id: int | None = None
                  ) -> list[Client]:
    pesel = validation.pesel(pesel)
    if not pesel:
        return []
    stmt = sa.select(Client).where(Client.pesel == pesel).order_by(Client.id)
    if exclude_id is not None:
        stmt = stmt.where(Client.id != exclude_id)
    return list(session.scalars(stmt))


def organisation_root(session: Session, client: Client) -> Client:
    seen = set()
    node = client
    while node.head_office_id and node.id not in seen and len(seen) < MAX_DEPTH:
        seen.add(node.id)
        parent = session.get(Client, node.head_office_id)
        if parent is None:
            break
        node = parent
    return node


def organisation(session: Session, client: Client) -> list[Client]:
    """Every client of the organisation (head office and all branches), head office first."""
    root = organisation_root(session, client)
    out, frontier = [root], [root.id]
    while frontier and len(out) < 10_000:
        children = list(session.scalars(sa.select(Client).where(
            Client.head_office_id.in_(frontier)).order_by(Client.name, Client.id)))
        out.extend(children)
        frontier = [c.id for c in children]
    return out


def _same_organisation(session: Session, a_id: int | None, head_office_id: int | None,
                       other: Client) -> bool:
    """Would a client (``a_id``, being a branch of ``head_office_id``) share an
    organisation with ``other``?"""
    if head_office_id is not None:
        parent = session.get(Client, head_office_id)
        if parent is not None and organisation_root(session, parent).id == \
                organisation_root(session, other).id:
            return True
    return a_id is not None and other.head_office_id == a_id


def duplicate_error(existing: Client, field: str, value: str) -> ConflictError:
    label = "NIP" if field == "nip" else "PESEL"
    q = f"?duplicate_of={existing.id}&{field}={value}"
    return ConflictError(
        f"Klient z numerem {label} {value} już istnieje: {existing.name} (#{existing.id}). "
        f"Użyj istniejącego klienta albo zapisz nowego jako jego oddział lub centralę.",
        field=field, existing_id=existing.id, existing_name=existing.name,
        actions=[(f"Otwórz: {existing.name}", f"/e/clients.client/{existing.id}"),
                 ("Zapisz jako oddział", f"/clients/new{q}&as=branch"),
                 ("Zapisz jako centralę", f"/clients/new{q}&as=head_office")])


def check_unique(session: Session, record: Client, values: dict) -> None:
    """Refuse a silent duplicate NIP/PESEL; a branch or head office of the same
    organisation may share the NIP. ``values`` are the new values (merged view)."""
    if session.info.get(ALLOW_DUPLICATE):
        return
    head = values.get("head_office_id", record.head_office_id)
    for field_name in ("nip", "pesel"):
        if field_name not in values and not (field_name == "nip" and "head_office_id" in values):
            continue                    # unchanged: an edit of other fields never trips
        value = values.get(field_name, getattr(record, field_name))
        if not value:
            continue
        col = getattr(Client, field_name)
        stmt = sa.select(Client).where(col == value).order_by(Client.id)
        if record.id is not None:
            stmt = stmt.where(Client.id != record.id)
        for other in session.scalars(stmt.limit(20)):
            if field_name == "nip" and _same_organisation(session, record.id, head, other):
                continue
            raise duplicate_error(other, field_name, value)


def check_head_office(session: Session, record: Client, head_office_id: int | None) -> None:
    if head_office_id is None:
        return
    if record.id is not None and head_office_id == record.id:
        raise ValidationError("Klient nie może być własną centralą.", field="head_office_id")
    node = session.get(Client, head_office_id)
    depth = 0
    while node is not None and depth < MAX_DEPTH:
        if record.id is not None and node.id == record.id:
            raise ValidationError("Wybrana centrala jest oddziałem tego klienta — struktura "
                                  "nie może tworzyć cyklu.", field="head_office_id")
        node = session.get(Client, node.head_office_id) if node.head_office_id else None
        depth += 1


def prepare(session: Session, record: Client, values: dict, *,
            normalised: bool = False) -> dict:
    """Normalise and check a client's new values; returns the normalised dict. Used by the
    data-access hooks for create and update (``normalised``: the caller has already run
    ``normalise_client`` on these values, e.g. the import)."""
    if not normalised:
        normalise_client(values)
    kind = values.get("kind", record.kind) or "company"
    if kind not in ("company", "person"):
        raise ValidationError("Rodzaj klienta: firma albo osoba fizyczna.", field="kind")
    merged = {k: values.get(k, getattr(record, k, None)) for k in
              ("name", "first_name", "last_name")}
    if kind == "person":
        if not (merged["first_name"] and merged["last_name"]):
            field_name = "first_name" if not merged["first_name"] else "last_name"
            raise ValidationError("Osoba fizyczna: podaj imię i nazwisko.", field=field_name)
        if not merged["name"] or ("first_name" in values or "last_name" in values) and \
                "name" not in values:
            values["name"] = person_name(merged["first_name"], merged["last_name"])
    elif not merged["name"]:
        raise ValidationError("Firma: podaj nazwę.", field="name")
    if values.get("segment", record.segment) not in ("standard", "potential", None):
        raise ValidationError("Segment: standardowy albo potencjalny.", field="segment")
    check_head_office(session, record, values.get("head_office_id"))
    check_unique(session, record, values)
    return values


# -- templates ------------------------------------------------------------------------------

def default_template(session: Session, kind: str) -> ClientTemplate | None:
    return session.scalar(sa.select(ClientTemplate).where(
        ClientTemplate.kind == kind, ClientTemplate.is_default.is_(True)
    ).order_by(ClientTemplate.id).limit(1))


def template_values(template: ClientTemplate) -> dict:
    """The client values a template gives (``accounting`` as the facet dict)."""
    values = {f: getattr(template, f) for f in TEMPLATE_CLIENT_FIELDS
              if getattr(template, f) is not None}
    acc = {f: getattr(template, f) for f in TEMPLATE_ACCOUNTING_FIELDS
           if getattr(template, f) is not None}
    if acc:
        values["accounting"] = acc
    values["template_id"] = template.id
    return values


def apply_template(session: Session, values: dict, template_id: int | None = None) -> dict:
    """``values`` over the template's defaults (the user's values win). Without a
    template id the default template of the client's kind is used, if any."""
    if template_id:
        template = session.get(ClientTemplate, int(template_id))
        if template is None:
            raise NotFoundError(f"Szablon klienta #{template_id} nie istnieje.")
    else:
        template = default_template(session, values.get("kind") or "company")
    if template is None:
        return dict(values)
    return over_template(template_values(template), values)


def over_template(defaults: dict, values: dict) -> dict:
    """``values`` over a template's ``template_values`` (the accounting facet merged)."""
    out = dict(defaults)
    acc = dict(out.pop("accounting", {}))
    acc.update(values.get("accounting") or {})
    out.update({k: v for k, v in values.items() if k != "accounting"})
    if acc:
        out["accounting"] = acc
    return out


def create_client(dal, values: dict, *, template_id: int | None = None,
                  duplicate: str | None = None, duplicate_of: int | None = None) -> Client:
    """Create a client from a template. ``duplicate``: ``branch`` records it as a branch
    of ``duplicate_of`` (a client with the same NIP), ``head_office`` as its head office."""
    values = apply_template(dal.session, values, template_id)
    if duplicate not in (None, "branch", "head_office"):
        raise ValidationError("Nieznany sposób zapisu duplikatu.", field="as")
    if duplicate is None:
        return dal.create(ENTITY, values)
    existing = dal.get(ENTITY, duplicate_of)
    if duplicate == "branch":
        values["head_office_id"] = existing.id
        return dal.create(ENTITY, values)
    if existing.head_office_id is not None:
        raise ConflictError(f"{existing.name} ma już centralę; wskaż ją jako centralę "
                            f"albo zapisz nowego klienta jako oddział.")
    values.pop("head_office_id", None)
    dal.session.info[ALLOW_DUPLICATE] = True
    try:
        client = dal.create(ENTITY, values)
        dal.update(ENTITY, existing.id, {"head_office_id": client.id})
    finally:
        dal.session.info.pop(ALLOW_DUPLICATE, None)
    return client


# -- organisation: payer and inherited terms --------------------------------------------------

def payer_for(session: Session, client_id: int) -> Client:
    """Who pays for a document addressed to ``client_id``: the head office of the
    organisation for a branch, otherwise the client itself."""
    client = session.get(Client, client_id)
    if client is None:
        raise NotFoundError(f"Klient #{client_id} nie istnieje.")
    return organisation_root(session, client)


@dataclass
class Terms:
    payment_method: str | None = None
    payment_days: int | None = None
    price_list: str | None = None
    discount_percent: Decimal | None = None
    credit_limit: Decimal | None = None
    currency: str | None = None
    inherited_from: dict[str, int] = field(default_factory=dict)   # field -> client id


def effective_terms(session: Session, client_id: int) -> Terms:
    """The commercial terms of a client: its own, else the nearest head office's."""
    client = session.get(Client, client_id)
    if client is None:
        raise NotFoundError(f"Klient #{client_id} nie istnieje.")
    terms = Terms()
    node, depth = client, 0
    while node is not None and depth < MAX_DEPTH:
        for f in TERMS:
            if getattr(terms, f) is None and getattr(node, f) is not None:
                setattr(terms, f, getattr(node, f))
                if node.id != client.id:
                    terms.inherited_from[f] = node.id
        node = session.get(Client, node.head_office_id) if node.head_office_id else None
        depth += 1
    return terms


def credit_exposure(kernel, session: Session, client_id: int) -> Decimal | None:
    """The client's open receivables as reported by plugins (sales); None if none knows."""
    answers = [a for a in kernel.hooks.call("clients_credit_exposure", client_id=client_id,
                                            session=session) if a is not None]
    return sum((Decimal(a) for a in answers), Decimal("0.00")) if answers else None


# -- segments -------------------------------------------------------------------------------

def promote_to_standard(session: Session, client_id: int, *, reason: str,
                        user_id: int | None = None) -> bool:
    """A potential client becomes a standard one (first sales document). Idempotent."""
    client = session.get(Client, client_id)
    if client is None or client.segment != "potential":
        return False
    client.segment = "standard"
    session.flush()
    audit(session, RecordRef(ENTITY, client.id), "segment", user_id=user_id,
          changes={"segment": ("potential", "standard")}, note=reason)
    return True


# -- kind conversion ------------------------------------------------------------------------

PERSON_ONLY = ("first_name", "last_name", "pesel", "birth_date")
COMPANY_ONLY = ("legal_form", "krs")


def convert(dal, client_id: int, new_kind: str, values: dict | None = None) -> Client:
    """Person ⇄ company. The client keeps its id, so every related record (documents,
    notes, activities, messages, history) stays attached; the change is audited."""
    if new_kind not in ("company", "person"):
        raise ValidationError("Rodzaj klienta: firma albo osoba fizyczna.", field="kind")
    client = dal.get(ENTITY, client_id, "update")
    if client.kind == new_kind:
        raise ConflictError(f"{client.name} jest już klientem rodzaju "
                            f"'{'firma' if new_kind == 'company' else 'osoba fizyczna'}'.")
    old_kind = client.kind
    changes = dict(values or {})
    changes["kind"] = new_kind
    if new_kind == "company":
        changes.setdefault("name", client.name)
        # the natural person's own data no longer describe the company
        for f in ("pesel", "birth_date"):
            changes.setdefault(f, None)
    else:
        if not (changes.get("first_name") or client.first_name) or \
                not (changes.get("last_name") or client.last_name):
            parts = (client.name or "").split()
            if len(parts) < 2:
                raise ValidationError("Podaj imię i nazwisko osoby.", field="first_name")
            changes.setdefault("first_name", parts[-1] if len(parts) == 2 else parts[0])
            changes.setdefault("last_name", parts[0] if len(parts) == 2 else parts[-1])
        for f in COMPANY_ONLY:
            changes.setdefault(f, None)
    client = dal.update(ENTITY, client.id, changes)
    audit(dal.session, RecordRef(ENTITY, client.id), "convert", user_id=dal.user.id,
          changes={"kind": (old_kind, new_kind)},
          note=f"Przekształcenie: {old_kind} → {new_kind}")
    dal.kernel.hooks.call("clients_converted", client=client, old_kind=old_kind,
                          new_kind=new_kind, session=dal.session, user=dal.user)
    dal.session.flush()
    return client


# -- duplicates and merge -------------------------------------------------------------------

_FORMS = re.compile(r"\b(sp(ó|o)łka|sp\.?|z\s*o\.?\s*o\.?|s\.?\s*a\.?|s\.?\s*c\.?|sp\.?\s*j\.?|"
                    r"sp\.?\s*k\.?|p\.?\s*h\.?\s*u\.?|f\.?\s*h\.?\s*u\.?|ltd|gmbh|inc)\b")


def name_key(name: str | None) -> str:
    text = unicodedata.normalize("NFKD", (name or "").lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).replace("ł", "l")
    text = _FORMS.sub(" ", text)
    return " ".join(re.sub(r"[^a-z0-9 ]+", " ", text).split())


@dataclass
class DuplicateGroup:
    reason: str
    clients: list[Client]
    score: float = 1.0


def duplicate_scan(session: Session, *, limit: int = 200, similarity: float = 0.9
                   ) -> list[DuplicateGroup]:
    """Candidates for merging: the same NIP outside one organisation, the same PESEL,
    near-identical names in the same city / postal code."""
    groups: list[DuplicateGroup] = []
    seen_pairs: set[frozenset] = set()

    def add(reason, clients, score=1.0):
        key = frozenset(c.id for c in clients)
        if len(key) < 2 or key in seen_pairs:
            return
        seen_pairs.add(key)
        groups.append(DuplicateGroup(reason, sorted(clients, key=lambda c: c.id), score))

    for col, label in ((Client.nip, "ten sam NIP"), (Client.pesel, "ten sam PESEL")):
        dupes = sa.select(col).where(col.is_not(None), Client.anonymised_at.is_(None)) \
            .group_by(col).having(sa.func.count() > 1).limit(limit)
        for value in session.scalars(dupes):
            clients = list(session.scalars(sa.select(Client).where(col == value)))
            if col is Client.nip:
                roots = defaultdict(list)
                for c in clients:
                    roots[organisation_root(session, c).id].append(c)
                if len(roots) < 2:
                    continue              # one organisation: branches share the NIP
                clients = [group[0] for group in roots.values()]
            add(label, clients)
    # names: block by postal code / city, compare normalised names
    rows = session.execute(
        sa.select(Client, Address.postal_code, Address.city)
        .join(Address, Address.client_id == Client.id, isouter=True)
        .where(Client.anonymised_at.is_(None)).order_by(Client.id).limit(200_000)).all()
    blocks: dict[str, dict[int, Client]] = defaultdict(dict)
    for client, postal, city in rows:
        block = (postal or "") + "|" + fold(city)
        if block != "|":
            blocks[block][client.id] = client
    for members in blocks.values():
        items = [(name_key(c.name), c) for c in members.values()]
        for i, (ka, a) in enumerate(items):
            for kb, b in items[i + 1:]:
                if not ka or not kb:
                    continue
                score = 1.0 if ka == kb else difflib.SequenceMatcher(None, ka, kb).ratio()
                if score >= similarity:
                    add("podobna nazwa i adres", [a, b], round(score, 2))
        if len(groups) >= limit:
            break
    return groups[:limit]


_FILL_FIELDS = ("short_name", "legal_form", "nip", "regon", "krs", "vat_eu", "first_name",
                "last_name", "pesel", "birth_date", "email", "phone", "website",
                "payment_method", "payment_days", "price_list", "discount_percent",
                "credit_limit", "caretaker_id", "importance", "relationship",
                "acquisition_source", "contact_hours", "contact_channel", "offer_email")


def _snapshot(client: Client) -> dict:
    out = {}
    for col in Client.__table__.columns:
        v = getattr(client, col.key)
        out[col.key] = v.isoformat() if isinstance(v, dt.date | dt.datetime) else \
            (str(v) if isinstance(v, Decimal) else v)
    return out


def merge(dal, keep_id: int, drop_id: int) -> Client:
    """Merge client ``drop_id`` into ``keep_id``: every related record (addresses,
    contacts, consents, dates, bank accounts, branches, links, comments, attachments,
    history and other plugins' records through ``kartoteka_record_replaced``) moves to the
    kept client, empty fields are filled from the merged one, the merge is recorded and
    the merged client is deleted."""
    s = dal.session
    if int(keep_id) == int(drop_id):
        raise ValidationError("Wybierz dwóch różnych klientów do scalenia.")
    dal.require(ENTITY, "delete")
    keep = dal.get(ENTITY, keep_id, "update")
    drop = dal.get(ENTITY, drop_id, "delete")
    if keep.head_office_id == drop.id:
        keep_head = drop.head_office_id
    else:
        keep_head = keep.head_office_id
    snapshot = _snapshot(drop)
    filled = {}
    for f in _FILL_FIELDS:
        if getattr(keep, f) in (None, "") and getattr(drop, f) not in (None, ""):
            filled[f] = (None, getattr(drop, f))
    # children of this plugin
    for model in (Address, SignificantDate, Consent, BankAccount, Reminder):
        s.execute(sa.update(model).where(model.client_id == drop.id)
                  .values(client_id=keep.id).execution_options(synchronize_session=False))
    for model, other in ((ContactLink, ContactLink.contact_id),
                         (ClientInterest, ClientInterest.interest_id),
                         (Caretaker, Caretaker.user_id)):
        have = set(s.scalars(sa.select(other).where(model.client_id == keep.id)))
        s.execute(sa.delete(model).where(model.client_id == drop.id, other.in_(have))
                  .execution_options(synchronize_session=False))
        s.execute(sa.update(model).where(model.client_id == drop.id)
                  .values(client_id=keep.id).execution_options(synchronize_session=False))
    for facet in (Accounting, PrintSettings):
        if s.get(facet, keep.id) is None:
            s.execute(sa.update(facet).where(facet.client_id == drop.id)
                      .values(client_id=keep.id).execution_options(synchronize_session=False))
        else:
            s.execute(sa.delete(facet).where(facet.client_id == drop.id)
                      .execution_options(synchronize_session=False))
    s.execute(sa.update(Client).where(Client.head_office_id == drop.id, Client.id != keep.id)
              .values(head_office_id=keep.id).execution_options(synchronize_session=False))
    move_record_services(s, ENTITY, drop.id, keep.id)
    dal.kernel.hooks.call("kartoteka_record_replaced", entity=ENTITY, old_id=drop.id,
                          new_id=keep.id, session=s)
    s.flush()
    drop_id, drop_name, drop_segment = drop.id, drop.name, drop.segment
    s.expire_all()                 # the bulk moves above bypassed the identity map
    for f, (_old, new) in filled.items():
        setattr(keep, f, new)
    if keep.head_office_id != keep_head:
        keep.head_office_id = keep_head
    if drop_segment == "standard":
        keep.segment = "standard"
    s.add(Merge(kept_id=keep.id, merged_id=drop_id, merged_name=drop_name, snapshot=snapshot,
                user_id=dal.user.id))
    s.delete(s.get(Client, drop_id))
    s.flush()
    refresh_search_text(s, keep.id)
    audit(s, RecordRef(ENTITY, keep.id), "merge", user_id=dal.user.id,
          changes=filled, note=f"Scalono klienta #{drop_id} {drop_name}")
    s.flush()
    return keep


def move_record_services(session: Session, entity: str, old_id: int, new_id: int) -> None:
    """Move the kernel's per-record services (links, comments, attachments, audit) from
    one record to another (used by merge)."""
    for model in (Comment, Attachment, AuditEntry):
        session.execute(sa.update(model).where(model.entity == entity,
                                               model.record_id == old_id)
                        .values(record_id=new_id).execution_options(synchronize_session=False))
    for side in ("left", "right"):
        ent_col, id_col = getattr(Link, f"{side}_entity"), getattr(Link, f"{side}_id")
        other_ent = getattr(Link, f"{'right' if side == 'left' else 'left'}_entity")
        other_id = getattr(Link, f"{'right' if side == 'left' else 'left'}_id")
        for link in session.scalars(sa.select(Link).where(ent_col == entity, id_col == old_id)):
            exists = session.scalar(sa.select(sa.func.count()).select_from(Link).where(
                ent_col == entity, id_col == new_id,
                other_ent == getattr(link, other_ent.key),
                other_id == getattr(link, other_id.key)))
            self_link = getattr(link, other_ent.key) == entity and \
                getattr(link, other_id.key) in (old_id, new_id)
            if exists or self_link:
                session.delete(link)
            else:
                setattr(link, id_col.key, new_id)
    session.flush()


# -- consents (RODO) ------------------------------------------------------------------------

CHANNEL_PURPOSE = {"email": "marketing_email", "sms": "marketing_sms",
                   "phone": "marketing_phone"}
PURPOSE_LABELS = dict(PURPOSES)


@dataclass
class ContactCheck:
    allowed: bool
    reason: str
    consent_id: int | None = None

    def __bool__(self) -> bool:
        return self.allowed


def _valid_consent(session: Session, client_id: int, purpose: str, on: dt.date
                   ) -> Consent | None:
    return session.scalar(sa.select(Consent).where(
        Consent.client_id == client_id, Consent.purpose == purpose, Consent.given_at <= on,
        sa.or_(Consent.withdrawn_at.is_(None), Consent.withdrawn_at > on),
    ).order_by(Consent.given_at.desc()).limit(1))


def can_contact(session: Session, client_id: int, channel: str, purpose: str = "marketing",
                on: dt.date | None = None) -> ContactCheck:
    """May we contact the client over ``channel`` (email, sms, phone) for ``purpose``?

    ``marketing`` needs a valid consent for that channel; ``transactional`` (documents,
    service notices) needs no marketing consent, but is refused when the client withdrew
    the consent to processing or was anonymised. The mail and SMS plugins warn the user
    on a refusal and skip such clients in bulk sends."""
    if channel not in CHANNEL_PURPOSE:
        raise ValidationError(f"Nieznany kanał kontaktu '{channel}' (email, sms, phone).",
                              field="channel")
    if purpose not in ("marketing", "transactional"):
        raise ValidationError("Cel kontaktu: marketing albo transactional.", field="purpose")
    on = on or _today()
    client = session.get(Client, client_id)
    if client is None:
        raise NotFoundError(f"Klient #{client_id} nie istnieje.")
    if client.anonymised_at is not None:
        return ContactCheck(False, "Dane klienta zostały zanonimizowane.")
    withdrawn = session.scalar(sa.select(Consent).where(
        Consent.client_id == client_id, Consent.purpose == "processing",
        Consent.withdrawn_at.is_not(None), Consent.withdrawn_at <= on).limit(1))
    if withdrawn is not None and _valid_consent(session, client_id, "processing", on) is None:
        return ContactCheck(False, f"Klient wycofał zgodę na przetwarzanie danych "
                                   f"({withdrawn.withdrawn_at:%d.%m.%Y}).", withdrawn.id)
    if purpose == "transactional":
        return ContactCheck(True, "Kontakt w sprawie realizacji umowy.")
    consent = _valid_consent(session, client_id, CHANNEL_PURPOSE[channel], on)
    if consent is None:
        label = PURPOSE_LABELS[CHANNEL_PURPOSE[channel]]
        return ContactCheck(False, f"Brak ważnej zgody: {label}.")
    return ContactCheck(True, f"Zgoda z {consent.given_at:%d.%m.%Y}"
                              + (f" ({consent.source})" if consent.source else ""), consent.id)


def filter_contactable(session: Session, client_ids, channel: str,
                       purpose: str = "marketing") -> tuple[list[int], list[tuple[int, str]]]:
    """Split ``client_ids`` for a bulk send: the allowed ones and (id, reason) skipped."""
    ok, skipped = [], []
    for cid in client_ids:
        try:
            check = can_contact(session, cid, channel, purpose)
        except NotFoundError as exc:
            skipped.append((cid, exc.message))
            continue
        (ok.append(cid) if check.allowed else skipped.append((cid, check.reason)))
    return ok, skipped


# -- GDPR: right of access and anonymisation -----------------------------------------------

def _row(obj, exclude=("version",)) -> dict:
    out = {}
    for col in obj.__table__.columns:
        if col.key in exclude:
            continue
        v = getattr(obj, col.key)
        if isinstance(v, dt.date | dt.datetime):
            v = v.isoformat()
        elif isinstance(v, Decimal):
            v = str(v)
        out[col.key] = v
    return out


def personal_data(kernel, session: Session, client_id: int) -> dict:
    """Everything held about the client (GDPR art. 15), including what other plugins
    report through ``clients_personal_data``."""
    client = session.get(Client, client_id)
    if client is None:
        raise NotFoundError(f"Klient #{client_id} nie istnieje.")
    ref = RecordRef(ENTITY, client_id)

    def rows(model):
        return [_row(r) for r in session.scalars(sa.select(model).where(
            model.client_id == client_id).order_by(model.id))]

    contacts = [dict(_row(c), position=link.position, role=link.role)
                for link, c in session.execute(
                    sa.select(ContactLink, Contact).join(Contact, Contact.id ==
                                                         ContactLink.contact_id)
                    .where(ContactLink.client_id == client_id))]
    interests = list(session.scalars(sa.select(Interest.name).join(
        ClientInterest, ClientInterest.interest_id == Interest.id).where(
        ClientInterest.client_id == client_id)))
    data = {
        "generated_at": utcnow().isoformat(),
        "client": _row(client, exclude=("version", "search_text")),
        "addresses": rows(Address), "bank_accounts": rows(BankAccount),
        "consents": rows(Consent), "significant_dates": rows(SignificantDate),
        "contacts": contacts, "interests": interests,
        "accounting": _row(session.get(Accounting, client_id))
        if session.get(Accounting, client_id) else None,
        "print_settings": _row(session.get(PrintSettings, client_id))
        if session.get(PrintSettings, client_id) else None,
        "comments": [{"at": c.created_at.isoformat(), "body": c.body}
                     for c in comments_of(session, ref)],
        "history": [{"at": e.at.isoformat(), "action": e.action, "changes": e.changes,
                     "note": e.note} for e in audit_trail(session, ref)],
    }
    for answer in kernel.hooks.call("clients_personal_data", client_id=client_id,
                                    session=session):
        data.setdefault("other", {}).update(answer)
    return data


ANON_FIELDS = ("short_name", "first_name", "last_name", "pesel", "birth_date", "email",
               "phone", "website", "contact_hours", "offer_email", "notes", "vat_eu")


def anonymise(dal, client_id: int) -> Client:
    """Erase the personal data of a client on request (GDPR art. 17) while documents
    stay intact: the client row remains (documents point at it) under a neutral name,
    addresses, contacts, dates, bank accounts are removed, history values are blanked."""
    s = dal.session
    client = dal.get(ENTITY, client_id, "update")
    if not dal.can(ENTITY, "anonymise"):
        from core.errors import PermissionDenied
        raise PermissionDenied("Brak uprawnienia do anonimizacji danych klienta.")
    if client.anonymised_at is not None:
        raise ConflictError("Dane tego klienta zostały już zanonimizowane.")
    for f in ANON_FIELDS:
        setattr(client, f, None)
    client.name = f"Klient zanonimizowany #{client.id}"
    if client.kind == "person":
        client.nip = client.regon = None
    client.active = False
    client.anonymised_at = utcnow()
    client.search_text = ""
    for model in (Address, SignificantDate, BankAccount, Reminder, ClientInterest):
        s.execute(sa.delete(model).where(model.client_id == client_id)
                  .execution_options(synchronize_session=False))
    contact_ids = list(s.scalars(sa.select(ContactLink.contact_id).where(
        ContactLink.client_id == client_id)))
    s.execute(sa.delete(ContactLink).where(ContactLink.client_id == client_id))
    for cid in contact_ids:      # contact persons who represented only this client
        if not s.scalar(sa.select(sa.func.count()).select_from(ContactLink).where(
                ContactLink.contact_id == cid)):
            s.execute(sa.delete(Contact).where(Contact.id == cid))
    ps = s.get(PrintSettings, client_id)
    if ps is not None:
        ps.documents_email = ps.sms_phone = None
    for entry in audit_trail(s, RecordRef(ENTITY, client_id)):
        if entry.changes:
            entry.changes = {k: ["***", "***"] for k in entry.changes}
    dal.kernel.hooks.call("clients_anonymise", client_id=client_id, session=s)
    s.flush()
    s.expire_all()                 # the bulk deletes above bypassed the identity map
    audit(s, RecordRef(ENTITY, client_id), "anonymise", user_id=dal.user.id,
          note="Anonimizacja na żądanie (RODO art. 17)")
    s.flush()
    return client


# -- significant dates ----------------------------------------------------------------------

def anniversary(date: dt.date, year: int) -> dt.date:
    try:
        return date.replace(year=year)
    except ValueError:              # 29 February in a common year
        return dt.date(year, 2, 28)


def due_reminders(session: Session, today: dt.date | None = None) -> int:
    """Create the reminders due today (once per date and year); returns how many."""
    today = today or _today()
    created = 0
    rows = session.execute(sa.select(SignificantDate, Client).join(
        Client, Client.id == SignificantDate.client_id).where(
        Client.active.is_(True))).all()
    labels = dict(DATE_KINDS)
    for date, client in rows:
        for year in (today.year, today.year + 1):
            when = anniversary(date.date, year)
            days = (when - today).days
            if 0 <= days <= (date.remind_days_before or 0):
                exists = session.scalar(sa.select(Reminder.id).where(
                    Reminder.date_id == date.id, Reminder.year == year))
                if exists:
                    continue
                what = date.label or labels.get(date.kind, date.kind)
                session.add(Reminder(date_id=date.id, client_id=client.id, year=year,
                                     due_on=when, user_id=client.caretaker_id,
                                     text=f"{what}: {client.name} ({when:%d.%m})"))
                created += 1
    session.flush()
    return created


def upcoming_reminders(session: Session, user_id: int | None = None, days: int = 30
                       ) -> list[Reminder]:
    today = _today()
    stmt = sa.select(Reminder).where(Reminder.done.is_(False), Reminder.due_on >= today,
                                     Reminder.due_on <= today + dt.timedelta(days=days))
    if user_id is not None:
        stmt = stmt.where(Reminder.user_id == user_id)
    return list(session.scalars(stmt.order_by(Reminder.due_on, Reminder.id)))
