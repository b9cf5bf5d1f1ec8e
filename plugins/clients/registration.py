"""What the ``clients`` plugin registers: entities, views, menus, permissions, roles,
record rules, actions, panels, jobs, schedules and demo data."""

from __future__ import annotations

import sqlalchemy as sa
from marshmallow import fields as mfields

from . import models as m
from . import services

CLIENT = "clients.client"

CLIENT_FIELDS = {
    "kind": {"label": "Rodzaj", "label_en": "Kind", "choices": m.KINDS},
    "segment": {"label": "Segment", "label_en": "Segment", "choices": m.SEGMENTS},
    "name": {"label": "Nazwa", "label_en": "Name", "required": False,
             "help": "Pełna nazwa firmy; dla osoby fizycznej uzupełniana z nazwiska i imienia"},
    "short_name": {"label": "Nazwa skrócona", "label_en": "Short name"},
    "legal_form": {"label": "Forma prawna", "label_en": "Legal form"},
    "nip": {"label": "NIP", "label_en": "Tax id (NIP)"},
    "regon": {"label": "REGON", "label_en": "REGON"},
    "krs": {"label": "KRS", "label_en": "KRS"},
    "vat_eu": {"label": "NIP UE", "label_en": "EU VAT number"},
    "first_name": {"label": "Imię", "label_en": "First name"},
    "last_name": {"label": "Nazwisko", "label_en": "Last name"},
    "pesel": {"label": "PESEL", "label_en": "PESEL"},
    "birth_date": {"label": "Data urodzenia", "label_en": "Date of birth"},
    "is_institution": {"label": "Instytucja", "label_en": "Institution"},
    "is_employee": {"label": "Pracownik", "label_en": "Employee"},
    "is_partner": {"label": "Wspólnik", "label_en": "Partner / shareholder"},
    "email": {"label": "E-mail", "label_en": "E-mail"},
    "phone": {"label": "Telefon", "label_en": "Phone"},
    "website": {"label": "Strona WWW", "label_en": "Website"},
    "head_office_id": {"label": "Centrala", "label_en": "Head office",
                       "help": "Wypełnij dla oddziału; płatności generuje się na centralę"},
    "template_id": {"label": "Szablon", "label_en": "Template"},
    "payment_method": {"label": "Forma płatności", "label_en": "Payment method",
                       "choices": m.PAYMENT_METHODS},
    "payment_days": {"label": "Termin płatności (dni)", "label_en": "Payment term (days)"},
    "price_list": {"label": "Cennik", "label_en": "Price list"},
    "discount_percent": {"label": "Rabat %", "label_en": "Discount %"},
    "credit_limit": {"label": "Limit kredytu kupieckiego", "label_en": "Credit limit",
                     "widget": "money"},
    "currency": {"label": "Waluta", "label_en": "Currency"},
    "caretaker_id": {"label": "Opiekun", "label_en": "Caretaker"},
    "importance": {"label": "Istotność", "label_en": "Importance", "choices": m.IMPORTANCE},
    "relationship": {"label": "Relacja", "label_en": "Relationship",
                     "choices": m.RELATIONSHIPS},
    "acquisition_source": {"label": "Źródło pozyskania", "label_en": "Acquisition source"},
    "contact_hours": {"label": "Preferowane godziny kontaktu",
                      "label_en": "Preferred contact hours"},
    "contact_channel": {"label": "Preferowany kanał kontaktu",
                        "label_en": "Preferred channel", "choices": m.CHANNELS},
    "offer_email": {"label": "E-mail do ofert", "label_en": "E-mail for offers"},
    "notes": {"label": "Uwagi", "label_en": "Notes"},
    "active": {"label": "Aktywny", "label_en": "Active"},
    "anonymised_at": {"label": "Zanonimizowano", "label_en": "Anonymised", "readonly": True},
    "search_text": {"label": "Tekst wyszukiwania", "label_en": "Search text",
                    "readonly": True},
}
FORM_FIELDS = ["kind", "segment", "template_id", "name", "short_name", "legal_form", "nip",
               "regon", "krs", "vat_eu", "first_name", "last_name", "pesel", "birth_date",
               "is_institution", "is_employee", "is_partner", "email", "phone", "website",
               "head_office_id", "payment_method", "payment_days", "price_list",
               "discount_percent", "credit_limit", "currency", "caretaker_id", "importance",
               "relationship", "acquisition_source", "contact_hours", "contact_channel",
               "offer_email", "notes", "active"]
DETAIL_FIELDS = [f for f in FORM_FIELDS if f != "template_id"] + ["anonymised_at"]
COMPANY_ONLY = {"legal_form", "krs", "regon"}
PERSON_ONLY = {"first_name", "last_name", "pesel", "birth_date"}
SECTIONS = [
    {"label": "Klient", "label_en": "Client",
     "fields": ["kind", "segment", "template_id", "name", "short_name", "is_institution",
                "is_employee", "is_partner", "active"]},
    {"label": "Firma", "label_en": "Company", "when": {"kind": "company"},
     "fields": ["legal_form", "regon", "krs"]},
    {"label": "Osoba fizyczna", "label_en": "Natural person", "when": {"kind": "person"},
     "fields": ["first_name", "last_name", "pesel", "birth_date"]},
    {"label": "Identyfikacja i struktura", "label_en": "Identifiers and organisation",
     "fields": ["nip", "vat_eu", "head_office_id"]},
    {"label": "Kontakt", "label_en": "Contact",
     "fields": ["email", "phone", "website", "offer_email", "contact_channel",
                "contact_hours"]},
    {"label": "Warunki handlowe", "label_en": "Commercial terms",
     "fields": ["payment_method", "payment_days", "price_list", "discount_percent",
                "credit_limit", "currency"]},
    {"label": "CRM", "label_en": "CRM",
     "fields": ["caretaker_id", "importance", "relationship", "acquisition_source", "notes"]},
]


def detail_fields(record) -> list[str]:
    """A company's page shows no personal fields and a person's no company ones."""
    skip = PERSON_ONLY if record.kind == "company" else COMPANY_ONLY
    return [f for f in DETAIL_FIELDS if f not in skip
            and not (f == "anonymised_at" and record.anonymised_at is None)]

TEMPLATE_FIELDS = {k: v for k, v in CLIENT_FIELDS.items()
                   if k in services.TEMPLATE_CLIENT_FIELDS}
TEMPLATE_FIELDS.update({
    "name": {"label": "Nazwa szablonu", "label_en": "Template name"},
    "is_default": {"label": "Domyślny dla rodzaju", "label_en": "Default for its kind"},
    "receivable_account": {"label": "Konto rozrachunkowe należności",
                           "label_en": "Receivables account"},
    "payable_account": {"label": "Konto rozrachunkowe zobowiązań",
                        "label_en": "Payables account"},
    "cost_centre": {"label": "Miejsce powstawania kosztów", "label_en": "Cost centre"},
    "vat_settlement": {"label": "Rozliczenie VAT", "label_en": "VAT settlement",
                       "choices": m.VAT_SETTLEMENT},
})


def _loose(*names: str) -> dict:
    """Identifier fields accept formatted input ("526-025-02-74", "+48 601 234 567"): the
    length is checked after the rules normalise the value, not by the schema."""
    return {n: mfields.String(allow_none=True, validate=lambda v: len(v) <= 64) for n in names}


def _visible_clients(ctx):
    """Client ids the user may see under "my clients": primary or additional caretaker,
    also for the users they substitute (active substitutions)."""
    acting = list(ctx.acting_for)
    return sa.or_(m.Client.caretaker_id.in_(acting),
                  m.Client.id.in_(sa.select(m.Caretaker.client_id).where(
                      m.Caretaker.user_id.in_(acting))))


def _my_children(model):
    def domain(ctx):
        return model.client_id.in_(sa.select(m.Client.id).where(_visible_clients(ctx)))
    return domain


def register(ctx) -> None:
    from . import actions, jobs, panels, views

    dialect = ctx.kernel.db.dialect if ctx.kernel is not None else "sqlite"
    engine = ctx.kernel.db.engine if ctx.kernel is not None else None
    ctx.entity(m.Client, label="Klient", label_en="Client", label_plural="Klienci",
               label_plural_en="Clients", fields=CLIENT_FIELDS,
               relations={"head_office_id": CLIENT, "template_id": "clients.template",
                          "caretaker_id": "core.user"},
               search_fields=["name", "nip", "email", "phone"], order_by=["name"],
               display="name", exclude=["search_text"],
               schema_fields=_loose("nip", "regon", "krs", "pesel", "vat_eu", "phone", "email",
                                    "offer_email")
               | {"name": mfields.String(allow_none=True, validate=lambda v: len(v) <= 255)},
               search=lambda stmt, q: services.search(stmt, q, dialect, engine))
    ctx.facet(CLIENT, m.Accounting, name="accounting", parent_key="client_id",
              label="Parametry księgowe", label_en="Accounting",
              fields={k: v for k, v in TEMPLATE_FIELDS.items()
                      if k in services.TEMPLATE_ACCOUNTING_FIELDS}
              | {"auto_posting": {"label": "Dekretacja automatyczna",
                                  "label_en": "Automatic posting"}})
    ctx.facet(CLIENT, m.PrintSettings, name="printing", parent_key="client_id",
              label="Wydruki i komunikacja", label_en="Printing and messages", fields={
                  "commercial_template": {"label": "Wzorzec wydruku dokumentów handlowych",
                                          "label_en": "Print template: commercial"},
                  "warehouse_template": {"label": "Wzorzec wydruku dokumentów magazynowych",
                                         "label_en": "Print template: warehouse"},
                  "documents_email": {"label": "E-mail do wysyłki dokumentów",
                                      "label_en": "E-mail for documents"},
                  "sms_phone": {"label": "Telefon do SMS", "label_en": "Phone for SMS"},
                  "email_template": {"label": "Szablon wiadomości e-mail",
                                     "label_en": "E-mail message template"},
                  "sms_template": {"label": "Szablon wiadomości SMS",
                                   "label_en": "SMS message template"}})
    ctx.entity(m.ClientTemplate, name="template", label="Szablon klienta",
               label_en="Client template", label_plural="Szablony klientów",
               label_plural_en="Client templates", fields=TEMPLATE_FIELDS,
               search_fields=["name"], order_by=["name"], display="name",
               services=("audit",))
    ctx.entity(m.Address, label="Adres", label_en="Address", label_plural="Adresy",
               label_plural_en="Addresses", relations={"client_id": CLIENT},
               search_fields=["city", "street", "postal_code"], order_by=["client_id", "id"],
               display=lambda a: ", ".join(p for p in (
                   " ".join(x for x in (a.street, a.building) if x),
                   " ".join(x for x in (a.postal_code, a.city) if x)) if p),
               fields={"client_id": {"label": "Klient", "label_en": "Client"},
                       "kind": {"label": "Rodzaj", "label_en": "Kind",
                                "choices": m.ADDRESS_KINDS},
                       "label": {"label": "Etykieta", "label_en": "Label"},
                       "street": {"label": "Ulica", "label_en": "Street"},
                       "building": {"label": "Nr domu", "label_en": "Building"},
                       "unit": {"label": "Nr lokalu", "label_en": "Unit"},
                       "postal_code": {"label": "Kod pocztowy", "label_en": "Postal code"},
                       "city": {"label": "Miejscowość", "label_en": "City"},
                       "country": {"label": "Kraj", "label_en": "Country"},
                       "is_default": {"label": "Domyślny", "label_en": "Default"}},
               services=("audit",))
    ctx.entity(m.Contact, label="Osoba kontaktowa", label_en="Contact person",
               label_plural="Osoby kontaktowe", label_plural_en="Contact persons",
               search_fields=["last_name", "first_name", "email", "phone"],
               order_by=["last_name", "first_name"],
               display=lambda c: f"{c.last_name} {c.first_name}",
               schema_fields=_loose("email", "phone"),
               fields={"first_name": {"label": "Imię", "label_en": "First name"},
                       "last_name": {"label": "Nazwisko", "label_en": "Last name"},
                       "email": {"label": "E-mail", "label_en": "E-mail"},
                       "phone": {"label": "Telefon", "label_en": "Phone"},
                       "notes": {"label": "Uwagi", "label_en": "Notes"}})
    link_fields = {"contact_id": {"label": "Osoba", "label_en": "Person"},
                   "client_id": {"label": "Klient", "label_en": "Client"},
                   "position": {"label": "Stanowisko", "label_en": "Position"},
                   "role": {"label": "Rola", "label_en": "Role", "choices": [
                       ("representative", "Przedstawiciel"), ("employee", "Pracownik"),
                       ("decision_maker", "Decydent"), ("accounting", "Księgowość"),
                       ("other", "Inna")]},
                   "is_primary": {"label": "Główna osoba", "label_en": "Primary"}}
    ctx.entity(m.ContactLink, label="Osoba przy kliencie", label_en="Client contact",
               label_plural="Osoby przy klientach", label_plural_en="Client contacts",
               relations={"contact_id": "clients.contact", "client_id": CLIENT},
               fields=link_fields, order_by=["client_id", "id"], services=("audit",),
               display=lambda r: r.position or f"#{r.id}")
    ctx.entity(m.Caretaker, label="Opiekun dodatkowy", label_en="Additional caretaker",
               label_plural="Opiekunowie dodatkowi", label_plural_en="Additional caretakers",
               relations={"client_id": CLIENT, "user_id": "core.user"},
               fields={"client_id": {"label": "Klient", "label_en": "Client"},
                       "user_id": {"label": "Użytkownik", "label_en": "User"}},
               order_by=["client_id", "id"], services=("audit",))
    ctx.entity(m.SignificantDate, name="date", label="Ważna data", label_en="Significant date",
               label_plural="Ważne daty", label_plural_en="Significant dates",
               relations={"client_id": CLIENT}, order_by=["client_id", "date"],
               fields={"client_id": {"label": "Klient", "label_en": "Client"},
                       "kind": {"label": "Rodzaj", "label_en": "Kind",
                                "choices": m.DATE_KINDS},
                       "date": {"label": "Data", "label_en": "Date"},
                       "label": {"label": "Opis", "label_en": "Label"},
                       "remind_days_before": {"label": "Przypomnij dni wcześniej",
                                              "label_en": "Remind days before"}},
               services=("audit",), display=lambda d: f"{d.label or d.kind} {d.date}")
    ctx.entity(m.Reminder, label="Przypomnienie", label_en="Reminder",
               label_plural="Przypomnienia o datach", label_plural_en="Date reminders",
               relations={"client_id": CLIENT, "user_id": "core.user",
                          "date_id": "clients.date"},
               fields={"client_id": {"label": "Klient", "label_en": "Client"},
                       "due_on": {"label": "Termin", "label_en": "Due"},
                       "text": {"label": "Treść", "label_en": "Text"},
                       "user_id": {"label": "Dla", "label_en": "For"},
                       "year": {"label": "Rok", "label_en": "Year"},
                       "date_id": {"label": "Data", "label_en": "Date"},
                       "done": {"label": "Załatwione", "label_en": "Done"}},
               order_by=["due_on"], display="text", services=())
    ctx.entity(m.Consent, label="Zgoda RODO", label_en="GDPR consent",
               label_plural="Zgody RODO", label_plural_en="GDPR consents",
               relations={"client_id": CLIENT}, order_by=["client_id", "purpose"],
               fields={"client_id": {"label": "Klient", "label_en": "Client"},
                       "purpose": {"label": "Cel", "label_en": "Purpose",
                                   "choices": m.PURPOSES},
                       "given_at": {"label": "Data udzielenia", "label_en": "Given on"},
                       "source": {"label": "Źródło", "label_en": "Source"},
                       "withdrawn_at": {"label": "Data wycofania", "label_en": "Withdrawn on"},
                       "note": {"label": "Uwagi", "label_en": "Note"}},
               display=lambda c: dict(m.PURPOSES).get(c.purpose, c.purpose))
    ctx.entity(m.Interest, label="Zainteresowanie", label_en="Interest",
               label_plural="Zainteresowania", label_plural_en="Interests",
               fields={"name": {"label": "Nazwa", "label_en": "Name"}},
               search_fields=["name"], order_by=["name"], display="name", services=())
    ctx.entity(m.ClientInterest, label="Zainteresowanie klienta", label_en="Client interest",
               relations={"client_id": CLIENT, "interest_id": "clients.interest"},
               fields={"client_id": {"label": "Klient", "label_en": "Client"},
                       "interest_id": {"label": "Zainteresowanie", "label_en": "Interest"}},
               order_by=["client_id", "id"], services=())
    ctx.entity(m.BankAccount, label="Rachunek bankowy", label_en="Bank account",
               label_plural="Rachunki bankowe", label_plural_en="Bank accounts",
               relations={"client_id": CLIENT}, order_by=["client_id", "id"],
               fields={"client_id": {"label": "Klient", "label_en": "Client"},
                       "iban": {"label": "Numer rachunku (IBAN)", "label_en": "IBAN"},
                       "bank_name": {"label": "Bank", "label_en": "Bank"},
                       "label": {"label": "Opis", "label_en": "Label"},
                       "currency": {"label": "Waluta", "label_en": "Currency"},
                       "is_default": {"label": "Domyślny", "label_en": "Default"}},
               display="iban", services=("audit",), schema_fields=_loose("iban"))

    # views
    ctx.view(CLIENT, "list", columns=["name", "kind", "segment", "nip", "email", "phone",
                                      "caretaker_id"], create_url="/clients/new",
             filters=["kind", "segment", "caretaker_id", "importance", "active",
                      "is_institution", "is_employee", "is_partner"])
    ctx.view(CLIENT, "form", fields=FORM_FIELDS, sections=SECTIONS,
             facet_tabs=["accounting", "printing"], children=[
        {"entity": "clients.address", "fk": "client_id", "label": "Adresy",
         "label_en": "Addresses",
         "fields": ["kind", "label", "street", "building", "unit", "postal_code", "city",
                    "country", "is_default"]},
        {"entity": "clients.contact_link", "fk": "client_id", "label": "Osoby kontaktowe",
         "label_en": "Contact persons", "fields": ["contact_id", "position", "role",
                                                   "is_primary"]},
        {"entity": "clients.bank_account", "fk": "client_id", "label": "Rachunki bankowe",
         "label_en": "Bank accounts", "fields": ["iban", "bank_name", "label", "currency",
                                                 "is_default"]},
        {"entity": "clients.consent", "fk": "client_id", "label": "Zgody RODO",
         "label_en": "GDPR consents", "fields": ["purpose", "given_at", "source",
                                                 "withdrawn_at", "note"]},
        {"entity": "clients.date", "fk": "client_id", "label": "Ważne daty",
         "label_en": "Significant dates", "fields": ["kind", "date", "label",
                                                     "remind_days_before"]},
        {"entity": "clients.client_interest", "fk": "client_id", "label": "Zainteresowania",
         "label_en": "Interests", "fields": ["interest_id"]},
        {"entity": "clients.caretaker", "fk": "client_id", "label": "Opiekunowie dodatkowi",
         "label_en": "Additional caretakers", "fields": ["user_id"]},
    ])
    ctx.view(CLIENT, "detail", fields=detail_fields)
    ctx.view("clients.contact", "form", fields=["first_name", "last_name", "email", "phone",
                                                "notes"],
             children=[{"entity": "clients.contact_link", "fk": "contact_id",
                        "label": "Reprezentowani klienci", "label_en": "Represents",
                        "fields": ["client_id", "position", "role", "is_primary"]}])
    ctx.view("clients.reminder", "list", columns=["due_on", "text", "client_id", "user_id",
                                                  "done"], filters=["done", "user_id"])

    # menu
    ctx.menu("clients", "Klienci", "Clients", icon="people", order=10)
    ctx.menu("clients.clients", "Kartoteka klientów", "Client base", entity=CLIENT,
             parent="clients", order=10)
    ctx.menu("clients.new", "Nowy klient", "New client", url="/clients/new",
             parent="clients", permission="clients.client.create", order=15)
    ctx.menu("clients.contacts", "Osoby kontaktowe", "Contact persons",
             entity="clients.contact", parent="clients", order=20)
    ctx.menu("clients.reminders", "Przypomnienia o datach", "Date reminders",
             entity="clients.reminder", parent="clients", order=30)
    ctx.menu("clients.duplicates", "Duplikaty i scalanie", "Duplicates and merge",
             url="/clients/duplicates", parent="clients", permission="clients.client.merge",
             order=40)
    ctx.menu("clients.import", "Import z CSV/XLSX", "Import from CSV/XLSX",
             url="/clients/import", parent="clients", permission="clients.client.import",
             order=50)
    ctx.menu("clients.templates", "Szablony klientów", "Client templates",
             entity="clients.template", parent="clients", order=60)
    ctx.menu("clients.interests", "Słownik zainteresowań", "Interests",
             entity="clients.interest", parent="clients", order=70)

    # security
    ctx.permission("clients.client.merge", "Klient: scalanie duplikatów",
                   "Client: merge duplicates")
    ctx.permission("clients.client.import", "Klient: import", "Client: import")
    ctx.permission("clients.client.anonymise", "Klient: anonimizacja (RODO)",
                   "Client: anonymise (GDPR)")
    ctx.permission("clients.client.personal_data", "Klient: eksport danych osobowych (RODO)",
                   "Client: personal data export (GDPR)")
    children = ["clients.address", "clients.contact_link", "clients.bank_account",
                "clients.consent", "clients.date", "clients.client_interest",
                "clients.caretaker"]
    crud = [f"{e}.{op}" for e in [CLIENT, "clients.contact"] + children
            for op in ("read", "create", "update", "delete")]
    reading = ["clients.template.read", "clients.interest.read", "clients.reminder.read",
               "clients.reminder.update", "clients.client.convert"]
    ctx.role("clients_salesperson", "Handlowiec (moi klienci)", "Salesperson (my clients)",
             permissions=[p for p in crud if p != "clients.client.delete"] + reading)
    ctx.role("clients_manager", "Kierownik sprzedaży (wszyscy klienci)",
             "Sales manager (all clients)",
             permissions=crud + reading + [
                 "clients.client.merge", "clients.client.import", "clients.client.anonymise",
                 "clients.client.personal_data", "clients.template.create",
                 "clients.template.update", "clients.interest.create",
                 "clients.interest.update", "clients.reminder.create"])
    ctx.record_rule(CLIENT, "my_clients", _visible_clients, roles=["clients_salesperson"],
                    label="Moi klienci (opiekun, opiekun dodatkowy lub zastępstwo)")
    ctx.record_rule(CLIENT, "all_clients", lambda c: sa.true(), roles=["clients_manager"],
                    label="Wszyscy klienci")
    for model, key in ((m.Address, "clients.address"), (m.ContactLink, "clients.contact_link"),
                       (m.BankAccount, "clients.bank_account"), (m.Consent, "clients.consent"),
                       (m.SignificantDate, "clients.date"),
                       (m.ClientInterest, "clients.client_interest"),
                       (m.Caretaker, "clients.caretaker"), (m.Reminder, "clients.reminder")):
        ctx.record_rule(key, "my_clients", _my_children(model), roles=["clients_salesperson"])
        ctx.record_rule(key, "all_clients", lambda c: sa.true(), roles=["clients_manager"])

    actions.register(ctx)
    panels.register(ctx)
    jobs.register(ctx)
    views.register(ctx)
    ctx.seed(m.ClientTemplate, key="name", records=[
        {"name": "Firma", "kind": "company", "is_default": True, "segment": "standard",
         "payment_method": "transfer", "payment_days": 14, "currency": "PLN",
         "vat_settlement": "standard", "relationship": "customer"},
        {"name": "Osoba fizyczna", "kind": "person", "is_default": True,
         "segment": "standard", "payment_method": "cash", "payment_days": 0,
         "currency": "PLN", "vat_settlement": "standard", "relationship": "customer"},
    ])
    from .demo import load_demo
    ctx.demo(load_demo)
