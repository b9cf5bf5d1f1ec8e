"""Service-level rules of the client base, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from core.errors import ConflictError, PermissionDenied, ValidationError
from core.records import RecordRef, add_comment, audit_trail, comments_of, link, links_of
from plugins.clients import services
from plugins.clients.models import (
    Accounting,
    Address,
    Client,
    Consent,
    ContactLink,
    Merge,
    Reminder,
    SignificantDate,
)

C = "clients.client"
NIP_A = "5260250274"        # valid checksums
NIP_B = "7740001454"
PESEL = "85051212345"


def company(env, name="Alfa sp. z o.o.", **kw):
    return env.dal.create(C, {"kind": "company", "name": name, **kw})


# -- identifiers ----------------------------------------------------------------------------

@pytest.mark.parametrize("field,value,fragment", [
    ("nip", "5260250275", "NIP: błędna suma kontrolna"),
    ("regon", "123456788", "REGON"),
    ("pesel", "85051212349", "PESEL"),
    ("vat_eu", "DE12345678", "NIP UE"),
    ("phone", "12", "Telefon"),
    ("email", "jan@", "E-mail"),
])
def test_invalid_identifier_names_the_field(env, field, value, fragment):
    with pytest.raises(ValidationError) as exc:
        company(env, **{field: value})
    assert exc.value.field == field
    assert fragment in exc.value.message
    assert env.session.scalar(sa.select(sa.func.count()).select_from(Client)) == 0


def test_identifiers_are_normalised(env):
    c = company(env, nip="526-025-02-74", phone="601 234 567", email="Jan@Example.PL",
                vat_eu="de 136695976", regon="192598184")
    assert c.nip == NIP_A
    assert c.phone == "+48601234567"
    assert c.email == "Jan@example.pl"
    assert c.vat_eu == "DE136695976"
    assert c.regon == "192598184"


def test_person_name_and_birth_date_from_pesel(env):
    p = env.dal.create(C, {"kind": "person", "first_name": "Anna", "last_name": "Kowalska",
                           "pesel": PESEL})
    assert p.name == "Kowalska Anna"
    assert p.birth_date == dt.date(1985, 5, 12)
    with pytest.raises(ValidationError) as exc:
        env.dal.create(C, {"kind": "person", "first_name": "Jan"})
    assert exc.value.field == "last_name"


def test_bank_account_iban_and_postal_code_validated(env):
    c = company(env)
    acc = env.dal.create("clients.bank_account", {"client_id": c.id,
                                                  "iban": "61 1090 1014 0000 0712 1981 2874"})
    assert acc.iban == "PL61109010140000071219812874"
    with pytest.raises(ValidationError) as exc:
        env.dal.create("clients.bank_account", {"client_id": c.id,
                                                "iban": "PL61109010140000071219812875"})
    assert exc.value.field == "iban"
    with pytest.raises(ValidationError) as exc:
        env.dal.create("clients.address", {"client_id": c.id, "city": "Kraków",
                                           "postal_code": "3115"})
    assert exc.value.field == "postal_code"
    a = env.dal.create("clients.address", {"client_id": c.id, "city": "Kraków",
                                           "postal_code": "31154"})
    assert a.postal_code == "31-154"


# -- templates ------------------------------------------------------------------------------

def test_default_templates_seeded_and_applied(env):
    c = company(env)
    assert c.template_id is not None
    assert (c.payment_method, c.payment_days, c.currency) == ("transfer", 14, "PLN")
    acc = env.session.get(Accounting, c.id)
    assert acc is not None and acc.vat_settlement == "standard"
    p = env.dal.create(C, {"kind": "person", "first_name": "Jan", "last_name": "Nowak"})
    assert p.payment_method == "cash"


def test_custom_template_and_user_values_win(env):
    tpl = env.dal.create("clients.template", {
        "name": "Hurt", "kind": "company", "payment_days": 45, "price_list": "Hurtowy",
        "credit_limit": "50000.00", "discount_percent": "7.50", "importance": "key",
        "is_partner": True, "receivable_account": "201-1", "vat_settlement": "split_payment",
        "segment": "potential"})
    c = services.create_client(env.dal, {"kind": "company", "name": "Beta SA",
                                         "payment_days": 60}, template_id=tpl.id)
    assert c.template_id == tpl.id
    assert c.payment_days == 60                       # the user's value wins
    assert c.price_list == "Hurtowy" and c.credit_limit == Decimal("50000.00")
    assert c.is_partner and c.importance == "key" and c.segment == "potential"
    acc = env.session.get(Accounting, c.id)
    assert (acc.receivable_account, acc.vat_settlement) == ("201-1", "split_payment")


# -- NIP uniqueness, branches, head office ---------------------------------------------------

def test_duplicate_nip_is_refused_naming_the_existing_client(env):
    first = company(env, nip=NIP_A)
    with pytest.raises(ConflictError) as exc:
        company(env, name="Alfa kopia", nip=NIP_A)
    assert exc.value.extra["existing_id"] == first.id
    assert exc.value.field == "nip"
    labels = [label for label, _url in exc.value.extra["actions"]]
    assert labels[1:] == ["Zapisz jako oddział", "Zapisz jako centralę"]
    other = company(env, name="Gamma", nip=NIP_B)
    with pytest.raises(ConflictError):
        env.dal.update(C, other.id, {"nip": NIP_A})


def test_duplicate_recorded_as_branch_or_head_office(env):
    first = company(env, nip=NIP_A)
    branch = services.create_client(env.dal, {"kind": "company", "name": "Alfa Oddział",
                                              "nip": NIP_A}, duplicate="branch",
                                    duplicate_of=first.id)
    assert branch.head_office_id == first.id
    # editing the branch's other data never trips the duplicate check
    env.dal.update(C, branch.id, {"phone": "601234567"})
    other = company(env, name="Delta", nip=NIP_B)
    head = services.create_client(env.dal, {"kind": "company", "name": "Delta Holding",
                                            "nip": NIP_B}, duplicate="head_office",
                                  duplicate_of=other.id)
    env.session.refresh(other)
    assert other.head_office_id == head.id and head.head_office_id is None
    assert [c.id for c in services.organisation(env.session, other)] == [head.id, other.id]


def test_head_office_cycle_refused(env):
    a = company(env, name="A")
    b = company(env, name="B", head_office_id=a.id)
    with pytest.raises(ValidationError) as exc:
        env.dal.update(C, a.id, {"head_office_id": b.id})
    assert exc.value.field == "head_office_id"


def test_payer_is_head_office_and_terms_inherit(sales_env):
    env = sales_env
    head = company(env, name="Centrala", nip=NIP_A, payment_days=30, price_list="A",
                   credit_limit="10000.00", discount_percent="3.00")
    branch = company(env, name="Oddział", nip=NIP_A, head_office_id=head.id,
                     price_list="B", payment_days=None)
    sub = company(env, name="Pododdział", head_office_id=branch.id, payment_days=None,
                  discount_percent=None, credit_limit=None)
    assert services.payer_for(env.session, sub.id).id == head.id
    assert services.payer_for(env.session, head.id).id == head.id
    t = services.effective_terms(env.session, sub.id)
    assert t.price_list == "B" and t.inherited_from["price_list"] == branch.id
    assert t.payment_days == 30 and t.inherited_from["payment_days"] == head.id
    assert t.credit_limit == Decimal("10000.00")
    own = services.effective_terms(env.session, branch.id)
    assert own.price_list == "B" and "price_list" not in own.inherited_from
    # documents addressed to a branch are paid by the head office: exposure lands there
    from tests.fixtures.plugins.fakesales import issue
    doc = issue(env.kernel, env.session, env.admin, sub.id, "FV/1/2026", "1230.00")
    assert doc.client_id == sub.id and doc.payer_id == head.id
    assert services.credit_exposure(env.kernel, env.session, head.id) == Decimal("1230.00")


def test_head_office_with_branches_cannot_be_deleted(env):
    head = company(env, name="Centrala")
    company(env, name="Oddział", head_office_id=head.id)
    with pytest.raises(ConflictError) as exc:
        env.dal.delete(C, head.id)
    assert "oddział" in exc.value.message


# -- segments and kind conversion ------------------------------------------------------------

def test_first_sales_document_turns_a_lead_into_a_standard_client(sales_env):
    from tests.fixtures.plugins.fakesales import issue
    env = sales_env
    lead = company(env, name="Lead", segment="potential")
    issue(env.kernel, env.session, env.admin, lead.id, "FV/1")
    env.session.refresh(lead)
    assert lead.segment == "standard"
    trail = audit_trail(env.session, RecordRef(C, lead.id))
    assert trail[-1].action == "segment"
    assert trail[-1].changes == {"segment": ["potential", "standard"]}
    issue(env.kernel, env.session, env.admin, lead.id, "FV/2")
    assert [e.action for e in audit_trail(env.session, RecordRef(C, lead.id))].count(
        "segment") == 1


def test_conversion_keeps_id_and_related_records(sales_env):
    from tests.fixtures.plugins.fakesales import issue
    from tests.fixtures.plugins.fakesales.models import Document
    env = sales_env
    p = env.dal.create(C, {"kind": "person", "first_name": "Marek", "last_name": "Wójcik",
                           "pesel": PESEL, "nip": NIP_A})
    doc = issue(env.kernel, env.session, env.admin, p.id, "FV/7")
    add_comment(env.session, RecordRef(C, p.id), "Stały klient", author_id=env.admin.id)
    c = services.convert(env.dal, p.id, "company",
                         {"name": "Wójcik sp. z o.o.", "legal_form": "spółka z o.o."})
    assert c.id == p.id and c.kind == "company" and c.name == "Wójcik sp. z o.o."
    assert c.pesel is None and c.nip == NIP_A
    assert env.session.get(Document, doc.id).client_id == p.id
    assert len(comments_of(env.session, RecordRef(C, p.id))) == 1
    trail = audit_trail(env.session, RecordRef(C, p.id))
    assert any(e.action == "convert" and e.changes["kind"] == ["person", "company"]
               for e in trail)
    back = services.convert(env.dal, p.id, "person", {"first_name": "Marek",
                                                      "last_name": "Wójcik"})
    assert back.kind == "person" and back.legal_form is None
    with pytest.raises(ConflictError):
        services.convert(env.dal, p.id, "person")


# -- consents -------------------------------------------------------------------------------

def test_can_contact_honours_consents(env):
    c = company(env, email="a@example.pl")
    today = dt.date.today()
    check = services.can_contact(env.session, c.id, "email")
    assert not check and "Marketing — e-mail" in check.reason
    assert services.can_contact(env.session, c.id, "email", "transactional")
    env.dal.create("clients.consent", {"client_id": c.id, "purpose": "marketing_email",
                                       "given_at": (today - dt.timedelta(days=3)).isoformat(),
                                       "source": "formularz"})
    assert services.can_contact(env.session, c.id, "email")
    assert not services.can_contact(env.session, c.id, "sms")
    consent = env.session.scalar(sa.select(Consent).where(Consent.client_id == c.id))
    env.dal.update("clients.consent", consent.id, {"withdrawn_at": today.isoformat()})
    assert not services.can_contact(env.session, c.id, "email")
    with pytest.raises(ValidationError):
        env.dal.update("clients.consent", consent.id,
                       {"withdrawn_at": (today - dt.timedelta(days=30)).isoformat()})
    env.dal.create("clients.consent", {"client_id": c.id, "purpose": "processing",
                                       "given_at": (today - dt.timedelta(days=9)).isoformat(),
                                       "withdrawn_at": today.isoformat()})
    refused = services.can_contact(env.session, c.id, "email", "transactional")
    assert not refused and "wycofał" in refused.reason
    other = company(env, name="Inny")
    env.dal.create("clients.consent", {"client_id": other.id, "purpose": "marketing_sms",
                                       "given_at": today.isoformat()})
    ok, skipped = services.filter_contactable(env.session, [c.id, other.id, 999999], "sms")
    assert ok == [other.id]
    assert [s[0] for s in skipped] == [c.id, 999999]
    with pytest.raises(ValidationError):
        services.can_contact(env.session, c.id, "pigeon")


# -- duplicates and merge -------------------------------------------------------------------

def test_duplicate_scan_lists_candidates_but_not_branches(env):
    head = company(env, name="Centrala", nip=NIP_A)
    company(env, name="Oddział", nip=NIP_A, head_office_id=head.id)
    env.session.info[services.ALLOW_DUPLICATE] = True       # e.g. an old import
    dup = company(env, name="Kopia Centrali", nip=NIP_A)
    env.session.info.pop(services.ALLOW_DUPLICATE)
    x = company(env, name="Hurtownia Kowalski sp. z o.o.")
    y = company(env, name="HURTOWNIA KOWALSKI Sp. z o.o")
    z = company(env, name="Zupełnie inna firma")
    for c in (x, y, z):
        env.dal.create("clients.address", {"client_id": c.id, "city": "Radom",
                                           "postal_code": "26-600"})
    groups = services.duplicate_scan(env.session)
    pairs = {frozenset(c.id for c in g.clients): g.reason for g in groups}
    assert pairs[frozenset({head.id, dup.id})] == "ten sam NIP"
    assert pairs[frozenset({x.id, y.id})] == "podobna nazwa i adres"
    assert not any(z.id in k for k in pairs)


def test_merge_moves_every_related_record(sales_env):
    from tests.fixtures.plugins.fakesales import issue
    from tests.fixtures.plugins.fakesales.models import Document
    env = sales_env
    keep = company(env, name="Alfa", nip=NIP_A)
    env.session.info[services.ALLOW_DUPLICATE] = True
    drop = company(env, name="Alfa (duplikat)", nip=NIP_A, phone="601234567",
                   segment="standard")
    env.session.info.pop(services.ALLOW_DUPLICATE)
    branch = company(env, name="Oddział duplikatu", head_office_id=drop.id)
    env.dal.create("clients.address", {"client_id": drop.id, "city": "Opole"})
    person = env.dal.create("clients.contact", {"first_name": "Ewa", "last_name": "Nowak"})
    for cid in (keep.id, drop.id):      # linked to both: one link survives
        env.dal.create("clients.contact_link", {"client_id": cid, "contact_id": person.id})
    doc = issue(env.kernel, env.session, env.admin, drop.id, "FV/9")
    add_comment(env.session, RecordRef(C, drop.id), "notatka", author_id=env.admin.id)
    other = company(env, name="Trzeci")
    link(env.session, RecordRef(C, drop.id), RecordRef(C, other.id), user_id=env.admin.id)
    kept = services.merge(env.dal, keep.id, drop.id)
    s = env.session
    assert s.get(Client, drop.id) is None
    assert kept.phone == "+48601234567"                 # filled from the merged client
    assert s.get(Document, doc.id).client_id == keep.id
    assert s.get(Document, doc.id).payer_id == keep.id
    assert s.get(Client, branch.id).head_office_id == keep.id
    assert s.scalar(sa.select(Address.client_id).where(Address.city == "Opole")) == keep.id
    assert s.scalar(sa.select(sa.func.count()).select_from(ContactLink).where(
        ContactLink.contact_id == person.id)) == 1
    assert [c.body for c in comments_of(s, RecordRef(C, keep.id))] == ["notatka"]
    assert [r.id for r, _ in links_of(s, RecordRef(C, keep.id))] == [other.id]
    merge = s.scalar(sa.select(Merge))
    assert (merge.kept_id, merge.merged_id, merge.merged_name) == (keep.id, drop.id,
                                                                    "Alfa (duplikat)")
    assert merge.snapshot["nip"] == NIP_A
    assert audit_trail(s, RecordRef(C, keep.id))[-1].action == "merge"
    with pytest.raises(ValidationError):
        services.merge(env.dal, keep.id, keep.id)


# -- GDPR -----------------------------------------------------------------------------------

def test_personal_data_export_and_anonymisation(sales_env):
    from tests.fixtures.plugins.fakesales import issue
    from tests.fixtures.plugins.fakesales.models import Document
    env = sales_env
    p = env.dal.create(C, {"kind": "person", "first_name": "Anna", "last_name": "Kowalska",
                           "pesel": PESEL, "email": "anna@example.pl",
                           "phone": "601234567"})
    env.dal.create("clients.address", {"client_id": p.id, "city": "Kraków",
                                       "street": "Długa", "building": "1"})
    env.dal.create("clients.date", {"client_id": p.id, "kind": "birthday",
                                    "date": "1985-05-12"})
    env.dal.update(C, p.id, {"email": "anna.k@example.pl"})
    doc = issue(env.kernel, env.session, env.admin, p.id, "FV/3", "99.00")
    data = services.personal_data(env.kernel, env.session, p.id)
    assert data["client"]["pesel"] == PESEL
    assert data["addresses"][0]["street"] == "Długa"
    assert data["other"]["Dokumenty sprzedaży"][0]["number"] == "FV/3"
    assert any(h["action"] == "update" for h in data["history"])
    services.anonymise(env.dal, p.id)
    s = env.session
    s.refresh(p)
    assert p.name == f"Klient zanonimizowany #{p.id}"
    assert (p.first_name, p.last_name, p.pesel, p.email, p.phone, p.birth_date) == \
        (None, None, None, None, None, None)
    assert s.scalar(sa.select(sa.func.count()).select_from(Address).where(
        Address.client_id == p.id)) == 0
    assert s.scalar(sa.select(sa.func.count()).select_from(SignificantDate)) == 0
    assert s.get(Document, doc.id).client_id == p.id            # documents intact
    for entry in audit_trail(s, RecordRef(C, p.id)):
        assert "anna" not in str(entry.changes).lower()
    assert not services.can_contact(s, p.id, "email", "transactional")
    assert services.search(sa.select(Client.id), "kowalska", env.kernel.db.dialect) \
        is not None
    assert s.scalars(services.search(sa.select(Client.id), "kowalska",
                                     env.kernel.db.dialect)).all() == []
    with pytest.raises(ConflictError):
        services.anonymise(env.dal, p.id)


def test_anonymise_and_merge_need_their_permissions(env):
    c = company(env)
    user = env.factory.user(env.session, "handlowiec",
                            permissions=["clients.client.read", "clients.client.update"])
    with pytest.raises(PermissionDenied):
        services.anonymise(env.as_user(user), c.id)
    other = company(env, name="Beta")
    with pytest.raises(PermissionDenied):
        services.merge(env.as_user(user), c.id, other.id)


# -- significant dates ----------------------------------------------------------------------

def test_yearly_reminders_created_once(env):
    c = company(env, name="Jubilat")
    env.dal.create("clients.date", {"client_id": c.id, "kind": "founding",
                                    "date": "2001-03-10", "remind_days_before": 5})
    env.dal.create("clients.date", {"client_id": c.id, "kind": "birthday",
                                    "date": "1996-02-29", "remind_days_before": 1})
    assert services.due_reminders(env.session, dt.date(2026, 3, 1)) == 0
    assert services.due_reminders(env.session, dt.date(2026, 3, 6)) == 1
    assert services.due_reminders(env.session, dt.date(2026, 3, 7)) == 0   # once a year
    assert services.due_reminders(env.session, dt.date(2027, 2, 27)) == 1  # 29.02 → 28.02
    rows = env.session.scalars(sa.select(Reminder).order_by(Reminder.id)).all()
    assert [(r.year, r.due_on) for r in rows] == [(2026, dt.date(2026, 3, 10)),
                                                  (2027, dt.date(2027, 2, 28))]
    assert "Jubilat" in rows[0].text


def test_reminder_job_runs_through_the_jobs_system(kernel, env):
    from core import jobs
    c = company(env, name="Urodzinowa")
    today = dt.date.today()
    env.dal.create("clients.date", {"client_id": c.id, "kind": "birthday",
                                    "date": today.replace(year=1990).isoformat()
                                    if not (today.month == 2 and today.day == 29)
                                    else "1990-02-28"})
    env.session.commit()
    with kernel.db.session() as s:
        jobs.enqueue(s, "clients.remind_dates")
    jobs.drain(kernel)
    with kernel.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Reminder)) == 1
    assert "clients.daily_reminders" in kernel.registry.schedules


def test_weekly_search_index_upkeep_keeps_search_working(kernel, env):
    from core import jobs
    a = company(env, name="Zakład Optymalny", nip=NIP_A)
    env.session.commit()
    with kernel.db.session() as s:
        jobs.enqueue(s, "clients.optimise_search")
    assert jobs.drain(kernel) == 1
    with kernel.db.session() as s:
        from core.jobs_models import Job
        job = s.scalar(sa.select(Job).where(Job.name == "clients.optimise_search"))
        assert job.state == "done"
        assert job.result == {"optimised": kernel.db.dialect == "sqlite"}
    assert [r.id for r in env.dal.list(C, q="optymaln")[0]] == [a.id]
    assert kernel.registry.schedules["clients.weekly_search_upkeep"].cron == "30 2 * * 0"


# -- record rule "my clients" ---------------------------------------------------------------

def test_my_clients_rule_with_caretakers_and_substitutions(env):
    from core.security.services import add_substitution
    s = env.session
    ala = env.factory.user(s, "ala", roles=["clients_salesperson"])
    ola = env.factory.user(s, "ola", roles=["clients_salesperson"])
    boss = env.factory.user(s, "szef", roles=["clients_manager"])
    mine = company(env, name="Ali", caretaker_id=ala.id)
    theirs = company(env, name="Oli", caretaker_id=ola.id)
    shared = company(env, name="Wspólny", caretaker_id=ola.id)
    env.dal.create("clients.caretaker", {"client_id": shared.id, "user_id": ala.id})
    env.dal.create("clients.address", {"client_id": theirs.id, "city": "Gniezno"})

    def visible(user, entity=C):
        return {r.id for r in env.as_user(user).list(entity, limit=None)[0]}

    assert visible(ala) == {mine.id, shared.id}
    assert visible(boss) == {mine.id, theirs.id, shared.id}
    assert visible(ala, "clients.address") == set()
    sub = add_substitution(s, ola, ala, starts_at=dt.datetime.now(dt.UTC)
                              - dt.timedelta(hours=1))
    s.flush()
    assert visible(ala) == {mine.id, theirs.id, shared.id}
    sub.active = False
    s.flush()
    assert visible(ala) == {mine.id, shared.id}
    with pytest.raises(PermissionDenied):      # may not create a client outside their scope
        env.as_user(ala).create(C, {"kind": "company", "name": "Cudzy",
                                    "caretaker_id": ola.id})


# -- text search ----------------------------------------------------------------------------

@pytest.mark.parametrize("frequent_from,common_from",
                         [(services.FREQUENT_MATCHES, services.COMMON_MATCHES), (0, 10**9),
                          (0, 0)], ids=["rare", "frequent", "common"])
def test_text_search_over_name_nip_city_email_phone(env, monkeypatch, frequent_from,
                                                    common_from):
    # SQLite looks rare words up in the FTS5 index, checks the list against the matches
    # of frequent ones and checks common ones row by row: all ways find the same clients
    monkeypatch.setattr(services, "FREQUENT_MATCHES", frequent_from)
    monkeypatch.setattr(services, "COMMON_MATCHES", common_from)
    a = company(env, name="Zakład Stolarski Drewmax", nip=NIP_A, email="biuro@drewmax.pl",
                phone="+48 17 850 12 34")
    b = company(env, name="Apteka pod Orłem", nip=NIP_B)
    env.dal.create("clients.address", {"client_id": b.id, "city": "Rzeszów"})

    def find(q):
        return {r.id for r in env.dal.list(C, q=q, limit=None)[0]}

    assert find("drewmax") == {a.id}
    assert find("STOLARSKI drew") == {a.id}
    assert find("rzeszów") == {b.id}
    assert find("0250") == {a.id}                     # part of the NIP
    assert find("drewmax.pl") == {a.id}
    assert find("178501234") == {a.id}                # phone digits
    assert find("orł") == {b.id}
    assert find("50%") == set()
    assert find('drew"max') == set() and find('"drewmax"') == set()   # quotes are text
    env.dal.update(C, a.id, {"name": "Meble Drewmax"})
    assert find("stolarski") == set() and find("meble") == {a.id}
    env.dal.delete(C, b.id)
    assert find("rzeszów") == set()
