"""Demo data for ``kartoteka demo``: realistic Polish clients with valid NIP, REGON and
PESEL checksums, branches, contact persons, consents and significant dates."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from . import services
from .models import (
    Address,
    BankAccount,
    Client,
    Consent,
    Contact,
    ContactLink,
    Interest,
    SignificantDate,
)


def _nip(prefix: str) -> str:
    """A valid NIP from its first 9 digits (the checksum digit appended; prefixes whose
    checksum would be 10 are skipped by the caller)."""
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    check = sum(int(d) * w for d, w in zip(prefix, weights, strict=True)) % 11
    return prefix + str(check) if check < 10 else ""


def _regon(prefix: str) -> str:
    weights = (8, 9, 2, 3, 4, 5, 6, 7)
    check = sum(int(d) * w for d, w in zip(prefix, weights, strict=True)) % 11 % 10
    return prefix + str(check)


def _pesel(prefix: str) -> str:
    weights = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)
    check = (10 - sum(int(d) * w for d, w in zip(prefix, weights, strict=True)) % 10) % 10
    return prefix + str(check)


def _valid_nip(seed: int) -> str:
    n = seed
    while True:
        nip = _nip(f"{n:09d}")
        if nip:
            return nip
        n += 1


COMPANIES = [
    ("Przedsiębiorstwo Handlowe „Wisła” sp. z o.o.", "PH Wisła", "spółka z o.o.",
     "Kraków", "31-154", "ul. Długa", "12", "0000123456", "high"),
    ("Mazowieckie Centrum Serwisowe S.A.", "MCS", "spółka akcyjna", "Warszawa", "00-950",
     "al. Jerozolimskie", "101", "0000345678", "key"),
    ("Pomorska Hurtownia Spożywcza sp. j.", "PHS", "spółka jawna", "Gdańsk", "80-001",
     "ul. Grunwaldzka", "45", None, "normal"),
    ("Biuro Rachunkowe Kalkulus s.c.", "Kalkulus", "spółka cywilna", "Poznań", "61-001",
     "ul. Półwiejska", "7", None, "normal"),
    ("Gmina Miasto Zielonka", "Gmina Zielonka", "jednostka samorządu terytorialnego",
     "Zielonka", "05-220", "ul. Kilińskiego", "1", None, "high"),
    ("TechSerwis Marek Wójcik", "TechSerwis", "jednoosobowa działalność gospodarcza",
     "Łódź", "90-001", "ul. Piotrkowska", "120", None, "low"),
    ("Zakład Stolarski Drewmax sp. z o.o.", "Drewmax", "spółka z o.o.", "Rzeszów",
     "35-001", "ul. Lwowska", "9", "0000567890", "normal"),
    ("Apteka pod Orłem sp. z o.o.", "Apteka pod Orłem", "spółka z o.o.", "Lublin",
     "20-001", "Krakowskie Przedmieście", "18", "0000678901", "normal"),
]
PERSONS = [
    ("Anna", "Kowalska", "850512", "Warszawa", "02-495", "ul. Ryżowa", "5"),
    ("Piotr", "Nowak", "790823", "Wrocław", "50-001", "ul. Świdnicka", "30"),
    ("Katarzyna", "Wiśniewska", "920101", "Szczecin", "70-001", "al. Wojska Polskiego", "2"),
    ("Tomasz", "Zieliński", "680715", "Katowice", "40-001", "ul. Mariacka", "11"),
]


def load_demo(kernel, session) -> None:
    if session.scalar(sa.select(sa.func.count()).select_from(Client)):
        return                                  # demo data once, never over real data
    interests = {}
    for name in ("Serwis urządzeń", "Oprogramowanie", "Materiały biurowe", "Szkolenia"):
        row = Interest(name=name)
        session.add(row)
        interests[name] = row
    session.flush()
    company_tpl = services.default_template(session, "company")
    person_tpl = services.default_template(session, "person")
    today = dt.date.today()
    created = []
    for i, (name, short, form, city, postal, street, no, krs, imp) in enumerate(COMPANIES):
        nip = _valid_nip(525_000_000 + i * 7919)
        c = Client(kind="company", name=name, short_name=short, legal_form=form, nip=nip,
                   regon=_regon(f"{14_000_000 + i * 131:08d}"), krs=krs, importance=imp,
                   segment="potential" if i in (3, 6) else "standard",
                   email=f"biuro@{services.name_key(short).replace(' ', '')}.example.pl",
                   phone=f"+4822{5550100 + i:07d}",
                   template_id=company_tpl.id if company_tpl else None,
                   payment_method="transfer", payment_days=14 if i % 2 else 30,
                   credit_limit=10000 + 5000 * i, currency="PLN",
                   acquisition_source=["polecenie", "targi", "strona WWW"][i % 3],
                   contact_channel="email", relationship="customer",
                   is_institution=form.startswith("jednostka"))
        session.add(c)
        session.flush()
        session.add(Address(client_id=c.id, kind="registered", street=street, building=no,
                            postal_code=postal, city=city, is_default=True))
        session.add(SignificantDate(client_id=c.id, kind="cooperation",
                                    date=today - dt.timedelta(days=365 * (i + 1) - 5),
                                    label="Rocznica współpracy", remind_days_before=10))
        session.add(Consent(client_id=c.id, purpose="marketing_email",
                            given_at=today - dt.timedelta(days=200), source="formularz WWW"))
        created.append(c)
    # a multi-branch company: two branches sharing the head office's NIP, own delivery
    head = created[1]
    for j, (city, postal) in enumerate((("Gdynia", "81-001"), ("Kielce", "25-001"))):
        b = Client(kind="company", name=f"{head.name} — Oddział {city}", short_name=f"MCS {city}",
                   nip=head.nip, head_office_id=head.id, segment="standard",
                   email=f"{city.lower()}@mcs.example.pl", phone=f"+4858{5550200 + j:07d}",
                   price_list="Hurtowy" if j == 0 else None, discount_percent=5 if j == 0
                   else None, currency="PLN", relationship="customer")
        session.add(b)
        session.flush()
        session.add(Address(client_id=b.id, kind="delivery", label=f"Magazyn {city}",
                            street="ul. Portowa", building=str(3 + j), postal_code=postal,
                            city=city, is_default=True))
    for i, (first, last, birth, city, postal, street, no) in enumerate(PERSONS):
        pesel = _pesel(birth + f"{1234 + i * 2}")
        p = Client(kind="person", first_name=first, last_name=last,
                   name=services.person_name(first, last), pesel=pesel,
                   birth_date=services.validation.pesel_birth_date(pesel),
                   email=f"{services.name_key(first)}.{services.name_key(last)}@example.pl",
                   phone=f"+48601{200300 + i:06d}", segment="standard" if i < 2 else "potential",
                   template_id=person_tpl.id if person_tpl else None,
                   payment_method="cash", currency="PLN", contact_channel="phone",
                   contact_hours="9:00–16:00")
        session.add(p)
        session.flush()
        session.add(Address(client_id=p.id, kind="registered", street=street, building=no,
                            postal_code=postal, city=city, is_default=True))
        session.add(SignificantDate(client_id=p.id, kind="birthday", date=p.birth_date,
                                    remind_days_before=7))
        session.add(Consent(client_id=p.id, purpose="processing",
                            given_at=today - dt.timedelta(days=100), source="umowa"))
        if i % 2 == 0:
            session.add(Consent(client_id=p.id, purpose="marketing_sms",
                                given_at=today - dt.timedelta(days=90), source="SMS"))
        created.append(p)
    session.add(BankAccount(client_id=created[0].id, iban="PL61109010140000071219812874",
                            bank_name="Santander Bank Polska", is_default=True))
    # one contact person representing two companies
    ewa = Contact(first_name="Ewa", last_name="Lewandowska", email="ewa.lewandowska@example.pl",
                  phone="+48602111222")
    jan = Contact(first_name="Jan", last_name="Kamiński", email="jan.kaminski@example.pl",
                  phone="+48603222333")
    session.add_all([ewa, jan])
    session.flush()
    session.add_all([
        ContactLink(contact_id=ewa.id, client_id=created[0].id, position="Główna księgowa",
                    role="accounting", is_primary=True),
        ContactLink(contact_id=ewa.id, client_id=created[3].id, position="Wspólniczka",
                    role="decision_maker"),
        ContactLink(contact_id=jan.id, client_id=created[1].id, position="Kierownik zakupów",
                    role="decision_maker", is_primary=True),
    ])
    session.flush()
    for c in session.scalars(sa.select(Client)):
        services.refresh_search_text(session, c.id)

