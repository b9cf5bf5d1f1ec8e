"""The client base at scale: duplicate check, lookup, list page, text search and CSV import.

Fills a fresh database with ``--rows`` generated clients (Polish company and person names,
NIPs with a valid checksum, PESELs, cities with postal codes, e-mails, phones, one address
each; written with ``insert(Client)`` in batches of 10,000, the text-search structures kept
by the database exactly as in production: the FTS5 triggers on SQLite, the pg_trgm GIN index
on PostgreSQL), runs ANALYZE (PostgreSQL: VACUUM ANALYZE, as autovacuum would; SQLite: the
FTS5 'optimize' of the weekly ``clients.optimise_search`` job and a WAL checkpoint) and then
times the real code paths as a superuser:

    nip_check             services.find_by_nip(session, nip)                     target  2 ms
    lookup                dal.get("clients.client", id)                          target  2 ms
    list_page             dal.list("clients.client", order=["name"], limit=50,
                                   count=False)                               target 30 ms
    list_page_with_count  the same with the count the list screen shows: up to
                          COUNT_LIMIT (10,000), then "more than"          target 30 ms
    search_<kind>         dal.list("clients.client", q=..., limit=50, count=False) for a
                          city, a name fragment, part of a NIP, the start of an e-mail and
                          part of a phone number; ``search`` pools them       target 100 ms
    import                a CSV of ``--import-rows`` new clients through importer.create_run,
                          importer.start and the ``clients.import`` job (core.jobs.drain):
                          rows/s from the upload until the job is done       target 5,000/s

Every measured call runs in its own session (as a web request would); ``median_ms`` and
``p95_ms`` are over ``--repeat`` calls after a short warm-up, ``ok`` is ``p95_ms < target``.

Run (2-core laptop-class machine: filling 1,000,000 clients takes a few minutes):

    .venv/bin/python bench/clients_bench.py --db sqlite --rows 1000000 \
        --import-rows 100000 --repeat 200
    .venv/bin/python bench/clients_bench.py --db postgresql \
        --url postgresql+psycopg://postgres@127.0.0.1:5432/postgres --rows 1000000
    .venv/bin/python bench/clients_bench.py --db sqlite --rows 20000 --import-rows 5000 \
        --repeat 50                                   # a quick run

SQLite uses a temporary file unless ``--url sqlite:///path.db`` is given. On PostgreSQL
``--url`` (or ``KARTOTEKA_BENCH_DATABASE_URL``) names the server: a fresh database is created
on it and dropped afterwards. ``--keep`` keeps the database (its URL goes to stderr) and
``--reuse`` measures an already filled one again (kept earlier; no install, no fill), e.g. to
look at query plans. ``--profile`` prints the import job's cProfile top to stderr.

Prints one JSON object on stdout::

    {"backend": "sqlite", "rows": 1000000, "results": {"nip_check": {"median_ms": ..,
     "p95_ms": .., "target_ms": 2, "ok": true}, ...},
     "import": {"rows": 100000, "seconds": .., "rows_per_s": .., "target": 5000, "ok": ..}}

Progress goes to stderr. The server must be loopback or otherwise disposable: the benchmark
writes a million rows.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import math
import os
import pstats
import random
import statistics
import sys
import tempfile
import time
import unicodedata
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from core import jobs  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.db import utcnow  # noqa: E402
from core.jobs_models import Job  # noqa: E402
from core.kernel import Kernel  # noqa: E402
from core.plugins import discover  # noqa: E402
from core.web.ui.views_entity import COUNT_LIMIT  # noqa: E402

CLIENT = "clients.client"
BATCH = 10_000
IMPORT_NIP_OFFSET = 500_000_000       # the import's NIPs come from a part of the stream the
                                      # base never reaches
TARGETS_MS = {"nip_check": 2, "lookup": 2, "list_page": 30, "list_page_with_count": 30,
              "search": 100}
IMPORT_TARGET = 5000
CSV_HEADER = ["Nazwa", "NIP", "Miejscowość", "Kod pocztowy", "Ulica", "E-mail", "Telefon"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# -- realistic data -------------------------------------------------------------------------

SURNAMES = (
    "Nowak Kowalski Wiśniewski Wójcik Kowalczyk Kamiński Lewandowski Zieliński Szymański "
    "Woźniak Dąbrowski Kozłowski Jankowski Mazur Kwiatkowski Krawczyk Piotrowski Grabowski "
    "Nowakowski Pawłowski Michalski Nowicki Adamczyk Dudek Zając Wieczorek Jabłoński Król "
    "Majewski Olszewski Jaworski Wróbel Malinowski Pawlak Witkowski Walczak Stępień Górski "
    "Rutkowski Michalak Sikora Ostrowski Baran Duda Szewczyk Tomaszewski Pietrzak Marciniak "
    "Wróblewski Zalewski Jakubowski Jasiński Zawadzki Sadowski Bąk Chmielewski Włodarczyk "
    "Borkowski Czarnecki Sawicki Sokołowski Urbański Kubiak Maciejewski Szczepański Kucharski "
    "Wilk Kalinowski Lis Mazurek Wysocki Adamski Kaźmierczak Wasilewski Sobczak Czerwiński "
    "Andrzejewski Cieślak Głowacki Zakrzewski Kołodziej Sikorski Krajewski Gajewski Szymczak "
    "Szulc Baranowski Laskowski Brzeziński Makowski Ziółkowski Przybylski").split()
FIRST_NAMES = (
    "Anna Maria Katarzyna Małgorzata Agnieszka Barbara Ewa Krystyna Magdalena Elżbieta Joanna "
    "Zofia Monika Teresa Danuta Piotr Krzysztof Andrzej Tomasz Paweł Jan Michał Marcin Jakub "
    "Adam Łukasz Marek Grzegorz Mateusz Wojciech Stanisław Józef Dariusz Rafał Zbigniew").split()
INDUSTRIES = (
    "Budownictwo Transport Handel Usługi Instalacje Stolarstwo Poligrafia Elektronika "
    "Ogrodnictwo Spedycja Logistyka Doradztwo Księgowość Serwis Meble Okna Dachy Hurtownia "
    "Piekarnia Cukiernia Apteka Motoryzacja Metalurgia Chemia Farby Tworzywa Energetyka "
    "Geodezja Architektura Informatyka Oprogramowanie Reklama Drukarnia Tekstylia Obuwie "
    "Gastronomia Catering Hotelarstwo Turystyka Rolnictwo Leśnictwo Kamieniarstwo").split()
PREFIXES = ["PHU", "PPHU", "FHU", "P.H.", "Zakład Usługowy", "Przedsiębiorstwo Handlowe",
            "Firma Handlowo-Usługowa", "Biuro Rachunkowe", "Hurtownia", "Pracownia",
            "Zakład Produkcyjny", "Centrum"]
FORMS = ["sp. z o.o.", "sp. z o.o.", "sp. z o.o.", "S.A.", "sp.j.", "sp.k.", "s.c.", "",
         "", ""]
ROOTS = ["Pol", "Stal", "Agro", "Drew", "Bud", "Trans", "Med", "Elektro", "Inter", "Euro",
         "Eko", "Tech", "Kom", "Auto", "Mar", "Sil", "Lux", "Mega", "Pro", "Wod", "Term",
         "Rol", "Gaz", "Chem", "Mot", "Kart", "Dom", "Inwest", "Vita", "Ener"]
SUFFIXES = ["bud", "mex", "pol", "tex", "trans", "med", "tech", "net", "plast", "met", "dar",
            "gaz", "rol", "kor", "san", "mar", "lex", "ton", "sys", "pak"]
# city, postal-code prefixes, trunk code, weight (about the population in thousands)
CITIES = [
    ("Warszawa", "00 01 02 03 04", "22", 1860), ("Kraków", "30 31", "12", 800),
    ("Wrocław", "50 51 52 53 54", "71", 670), ("Łódź", "90 91 92 93 94", "42", 660),
    ("Poznań", "60 61", "61", 540), ("Gdańsk", "80", "58", 490), ("Szczecin", "70 71", "91", 390),
    ("Bydgoszcz", "85", "52", 330), ("Lublin", "20", "81", 330), ("Białystok", "15", "85", 290),
    ("Katowice", "40", "32", 285), ("Gdynia", "81", "58", 240), ("Częstochowa", "42", "34", 210),
    ("Radom", "26", "48", 200), ("Toruń", "87", "56", 195), ("Rzeszów", "35", "17", 197),
    ("Sosnowiec", "41", "32", 190), ("Kielce", "25", "41", 185), ("Gliwice", "44", "32", 175),
    ("Olsztyn", "10", "89", 170), ("Zabrze", "41", "32", 155), ("Bielsko-Biała", "43", "33", 167),
    ("Bytom", "41", "32", 160), ("Zielona Góra", "65", "68", 140), ("Rybnik", "44", "32", 135),
    ("Ruda Śląska", "41", "32", 135), ("Opole", "45", "77", 127), ("Tychy", "43", "32", 126),
    ("Gorzów Wielkopolski", "66", "95", 120), ("Elbląg", "82", "55", 117),
    ("Płock", "09", "24", 117), ("Wałbrzych", "58", "74", 110), ("Włocławek", "87", "54", 107),
    ("Tarnów", "33", "14", 107), ("Chorzów", "41", "32", 106), ("Koszalin", "75", "94", 106),
    ("Kalisz", "62", "62", 99), ("Legnica", "59", "76", 98), ("Grudziądz", "86", "56", 92),
    ("Słupsk", "76", "59", 89), ("Jaworzno", "43", "32", 90), ("Nowy Sącz", "33", "18", 83),
    ("Jelenia Góra", "58", "75", 78), ("Siedlce", "08", "25", 77), ("Konin", "62", "63", 72),
    ("Piła", "64", "67", 73), ("Piotrków Trybunalski", "97", "44", 72),
    ("Inowrocław", "88", "52", 71), ("Lubin", "59", "76", 71), ("Ostrów Wielkopolski", "63",
                                                                 "62", 71),
    ("Suwałki", "16", "87", 69), ("Gniezno", "62", "61", 67), ("Głogów", "67", "76", 66),
    ("Pruszków", "05", "22", 62), ("Zamość", "22", "84", 62), ("Łomża", "18", "86", 62),
    ("Żory", "44", "32", 62), ("Pabianice", "95", "42", 64), ("Leszno", "64", "65", 63),
    ("Ełk", "19", "87", 61), ("Mielec", "39", "17", 60), ("Tczew", "83", "58", 60),
    ("Wadowice", "34", "33", 19), ("Zakopane", "34", "18", 27), ("Sopot", "81", "58", 35),
]
STREETS = ["Długa", "Krótka", "Polna", "Leśna", "Słoneczna", "Kościuszki", "Mickiewicza",
           "Sienkiewicza", "Piłsudskiego", "Kwiatowa", "Ogrodowa", "Lipowa", "Szkolna",
           "Brzozowa", "Łąkowa", "Kolejowa", "Przemysłowa", "Zielona", "Wiejska", "Ogrodnicza",
           "3 Maja", "Jana Pawła II", "Wojska Polskiego", "Grunwaldzka", "Rynek", "Fabryczna"]
MOBILE = ["501", "502", "503", "509", "512", "515", "519", "530", "533", "535", "570", "575",
          "600", "601", "602", "603", "604", "605", "606", "607", "660", "661", "662", "664",
          "691", "692", "693", "695", "721", "722", "724", "728", "730", "732", "781", "782",
          "784", "790", "791", "793", "880", "881", "883", "885", "888"]
LOCAL_PARTS = ["biuro", "kontakt", "info", "sekretariat", "handel", "zamowienia", "office",
               "firma", "sprzedaz", "ksiegowosc"]
MAILBOXES = ["gmail.com", "wp.pl", "onet.pl", "o2.pl", "interia.pl", "op.pl"]
TLDS = [".pl", ".pl", ".pl", ".com.pl", ".eu", ".com"]
NIP_WEIGHTS = (6, 5, 7, 2, 3, 4, 5, 6, 7)
PESEL_WEIGHTS = (1, 3, 7, 9, 1, 3, 7, 9, 1, 3)


def ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("ł", "l"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch if ch.isalnum() else "-" for ch in text).strip("-")


def nip_stream(start: int = 0):
    """Distinct valid NIPs: candidate ``j`` is a bijection of ``j`` onto the 9-digit bases
    100000000..999999999 (so streams starting far apart never meet); bases whose check
    digit would be 10 are skipped, as the tax office does."""
    j = start
    while True:
        base = 100_000_000 + (j * 123_456_791 + 54_321) % 900_000_000
        j += 1
        digits = str(base)
        check = sum(w * int(d) for w, d in zip(NIP_WEIGHTS, digits, strict=True)) % 11
        if check != 10:
            yield digits + str(check)


class Faker:
    def __init__(self, seed: int):
        self.r = random.Random(seed)
        self.cities = [c for c in CITIES]
        self.city_weights = [c[3] for c in CITIES]

    def city(self):
        name, prefixes, trunk, _w = self.r.choices(self.cities, self.city_weights)[0]
        postal = f"{self.r.choice(prefixes.split())}-{self.r.randint(0, 999):03d}"
        return name, postal, trunk

    def street(self) -> str:
        return f"ul. {self.r.choice(STREETS)} {self.r.randint(1, 180)}"

    def phone(self, trunk: str) -> str:
        """E.164, as the services store it: mobile or the city's landline."""
        r = self.r
        if r.random() < 0.7:
            return f"+48{r.choice(MOBILE)}{r.randint(0, 999_999):06d}"
        return f"+48{trunk}{r.randint(2, 8)}{r.randint(0, 999_999):06d}"

    def company_name(self) -> tuple[str, str]:
        """(name, a slug for its e-mail domain)."""
        r = self.r
        form = r.choice(FORMS)
        shape = r.random()
        if shape < 0.3:
            surname = r.choice(SURNAMES)
            base, slug = f"{r.choice(PREFIXES)} {surname}", ascii_slug(surname)
        elif shape < 0.6:
            surname, industry = r.choice(SURNAMES), r.choice(INDUSTRIES)
            base = f"{surname} {industry}"
            slug = f"{ascii_slug(surname)}-{ascii_slug(industry)[:6]}"
        elif shape < 0.9:
            coined = r.choice(ROOTS) + r.choice(SUFFIXES)
            if r.random() < 0.3:
                coined += f"-{r.choice(ROOTS)}"
            base = f"{coined.upper() if r.random() < 0.3 else coined} {r.choice(INDUSTRIES)}"
            slug = ascii_slug(coined)
        else:
            a, b = r.sample(SURNAMES, 2)
            base, slug = f"{r.choice(INDUSTRIES)} {a} i {b}", f"{ascii_slug(a)}-{ascii_slug(b)}"
            form = r.choice(["sp.j.", "s.c."])
        if r.random() < 0.4:
            slug += str(r.randint(1, 99))
        return (f"{base} {form}".strip(), slug)

    def company_email(self, slug: str) -> str:
        return f"{self.r.choice(LOCAL_PARTS)}@{slug}{self.r.choice(TLDS)}"

    def person_email(self, first: str, last: str) -> str:
        r = self.r
        local = f"{ascii_slug(first)}.{ascii_slug(last)}"
        if r.random() < 0.5:
            local += str(r.randint(1, 99))
        return f"{local}@{r.choice(MAILBOXES)}"

    def pesel(self) -> str:
        r = self.r
        year, month, day = r.randint(1950, 1999), r.randint(1, 12), r.randint(1, 28)
        digits = f"{year % 100:02d}{month:02d}{day:02d}{r.randint(0, 9999):04d}"
        check = (10 - sum(w * int(d) for w, d in zip(PESEL_WEIGHTS, digits, strict=True)) % 10) \
            % 10
        return digits + str(check)

    def client(self, nip: str) -> tuple[dict, dict]:
        """(client values, address values) of one client: 85 % companies with a NIP, the
        rest natural persons (a PESEL, one in four with a NIP of their business)."""
        r = self.r
        city, postal, trunk = self.city()
        if r.random() < 0.85:
            name, slug = self.company_name()
            values = {"kind": "company", "name": name, "nip": nip,
                      "email": self.company_email(slug), "phone": self.phone(trunk),
                      "first_name": None, "last_name": None, "pesel": None}
        else:
            first, last = r.choice(FIRST_NAMES), r.choice(SURNAMES)
            if first.endswith("a") and last.endswith("ski"):
                last = last[:-1] + "a"               # Kowalska
            values = {"kind": "person", "name": f"{last} {first}", "first_name": first,
                      "last_name": last, "pesel": self.pesel(),
                      "nip": nip if r.random() < 0.25 else None,
                      "email": self.person_email(first, last), "phone": self.phone(trunk)}
        address = {"city": city, "postal_code": postal, "street": self.street()}
        return values, address


# -- database -------------------------------------------------------------------------------

def fresh_pg_database(server_url: str) -> tuple[str, callable]:
    url = sa.engine.make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"kt_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()

    def drop():
        eng = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        eng.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def make_kernel(url: str, tmp: str, install: bool) -> Kernel:
    """A kernel that knows only the clients plugin (other in-tree plugins stay out of the
    measurement, whatever state their code is in)."""
    registry = Path(tmp) / "addons_registry.toml"
    registry.write_text(f'[plugins]\nclients = {{ path = "{ROOT / "plugins" / "clients"}", '
                        f'package = "plugins.clients", edition = "free" }}\n',
                        encoding="utf-8")
    settings = load_settings(root=tmp, env={}, database_url=url, var_dir=Path(tmp) / "var")
    k = Kernel(settings, manifests=discover(registry))
    k.activate()
    k.init_db()
    if install:
        k.install(["clients"])
    return k


def admin_user(k: Kernel):
    from core.security.models import User
    from core.security.services import create_user
    with k.db.session() as s:
        user = s.scalar(sa.select(User).where(User.login == "bench-admin"))
        if user is None:
            user = create_user(s, "bench-admin", password="bench-admin-pass-1", superuser=True)
        s.flush()
        return user.id


def fill(k: Kernel, rows: int, seed: int) -> float:
    """``rows`` clients and their addresses, in transactions of BATCH rows."""
    from plugins.clients import services
    from plugins.clients.models import Address, Client
    fake = Faker(seed)
    nips = nip_stream(0)
    t0 = time.perf_counter()
    with k.db.engine.connect() as conn:
        next_id = (conn.scalar(sa.select(sa.func.max(Client.id))) or 0) + 1
        conn.rollback()
        done = 0
        while done < rows:
            n = min(BATCH, rows - done)
            now = utcnow()
            clients, addresses = [], []
            for i in range(next_id, next_id + n):
                values, addr = fake.client(next(nips))
                clients.append({
                    "id": i, **values, "segment": "potential" if i % 10 == 0 else "standard",
                    "is_institution": False, "is_employee": False, "is_partner": False,
                    "currency": "PLN", "payment_method": "transfer", "payment_days": 14,
                    "active": True, "version": 1, "created_at": now, "updated_at": now,
                    "search_text": services.search_text_of(values, addr["city"])})
                addresses.append({"client_id": i, "kind": "registered", "is_default": True,
                                  "country": "PL", "version": 1, "created_at": now,
                                  "updated_at": now, **addr})
            with conn.begin():
                conn.execute(sa.insert(Client), clients)
                conn.execute(sa.insert(Address), addresses)
            next_id += n
            done += n
            if done % 100_000 == 0 or done == rows:
                el = time.perf_counter() - t0
                log(f"filled {done:,}/{rows:,} clients ({el:.0f} s, {done / el:,.0f} rows/s)")
        if k.db.dialect == "postgresql":       # the ids were given: move the sequences on
            with conn.begin():
                for table in ("clients_client", "clients_address"):
                    conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', "
                                         f"'id'), (SELECT max(id) FROM {table}))")
    seconds = time.perf_counter() - t0
    analyze(k)
    return seconds


def analyze(k: Kernel) -> None:
    t0 = time.perf_counter()
    if k.db.dialect == "postgresql":
        # a live server's autovacuum would have done this after a million inserts: the
        # visibility map lets count(*) use an index-only scan
        with k.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("VACUUM (ANALYZE) clients_client")
            c.exec_driver_sql("VACUUM (ANALYZE) clients_address")
    else:
        with k.db.engine.begin() as c:
            c.exec_driver_sql("ANALYZE")
        # the fill left the FTS5 index as a hundred bulk-loaded segments whose merging
        # the next writes would pay for; the weekly clients.optimise_search job merges them
        from plugins.clients.services import optimise_search_index
        with k.db.session() as s:
            optimise_search_index(s)
        # the fill wrote a million rows through the WAL; a live database checkpoints as it
        # goes (and when the last connection closes), so measure after one
        with k.db.engine.connect() as c:
            c.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    log(f"ANALYZE done ({time.perf_counter() - t0:.1f} s)")


# -- measuring ------------------------------------------------------------------------------

def summary(times: list[float], target: float) -> dict:
    ms = sorted(t * 1000 for t in times)
    p95 = ms[max(0, math.ceil(0.95 * len(ms)) - 1)]
    return {"median_ms": round(statistics.median(ms), 3), "p95_ms": round(p95, 3),
            "max_ms": round(ms[-1], 3), "n": len(ms), "target_ms": target, "ok": p95 < target}


def measure(k: Kernel, user_id: int, fn, args: list, warmup: int = 5) -> list[float]:
    """Time ``fn(dal, arg)`` once per ``arg``, each call in its own session."""
    from core.security.models import User
    times = []
    for i, arg in enumerate(list(args[:warmup]) + list(args)):
        with k.db.Session() as s:
            user = s.get(User, user_id)          # load the user outside the timing
            dal = k.dal(s, user)
            s.commit()                           # the measured call begins its transaction
            t0 = time.perf_counter()
            fn(dal, arg)
            el = time.perf_counter() - t0
            s.rollback()
        if i >= warmup:
            times.append(el)
    return times


def samples(k: Kernel, n: int, seed: int) -> list[dict]:
    """``n`` random existing clients with their city (the queries are built from them)."""
    from plugins.clients.models import Address, Client
    r = random.Random(seed)
    with k.db.Session() as s:
        lo, hi = s.execute(sa.select(sa.func.min(Client.id), sa.func.max(Client.id))).one()
        ids = sorted({r.randint(lo, hi) for _ in range(n * 2)})
        out = []
        for chunk in range(0, len(ids), 500):
            rows = s.execute(sa.select(Client.id, Client.name, Client.nip, Client.email,
                                       Client.phone, Address.city)
                             .outerjoin(Address, Address.client_id == Client.id)
                             .where(Client.id.in_(ids[chunk:chunk + 500])))
            out.extend(dict(row._mapping) for row in rows)
    r.shuffle(out)
    return out[:n]


NOISE = {"sp.", "z", "o.o.", "s.a.", "sp.j.", "sp.k.", "s.c.", "i", "phu", "pphu", "fhu",
         "p.h."}


def queries(pool: list[dict], repeat: int, seed: int) -> dict[str, list[str]]:
    """Search terms a user would type, built from existing clients."""
    r = random.Random(seed)
    out: dict[str, list[str]] = {"city": [], "name": [], "nip": [], "email": [], "phone": []}
    for c in pool:
        if c["city"]:
            out["city"].append(c["city"])
        words = [w for w in c["name"].split() if w.lower() not in NOISE and len(w) >= 4]
        if words:
            w = r.choice(words)
            out["name"].append(w[:r.randint(min(5, len(w)), len(w))])
        if c["nip"]:
            at = r.randint(0, 4)
            out["nip"].append(c["nip"][at:at + 6])
        if c["email"]:
            local, _, domain = c["email"].partition("@")
            out["email"].append(f"{local}@{domain[:5]}")
        if c["phone"]:
            digits = c["phone"][3:]
            at = r.choice((0, 3))
            out["phone"].append(digits[at:at + 6])
    return {kind: (terms * (repeat // max(1, len(terms)) + 1))[:repeat]
            for kind, terms in out.items() if terms}


def bench_reads(k: Kernel, user_id: int, repeat: int, seed: int) -> dict:
    from plugins.clients import services
    pool = samples(k, max(repeat, 50), seed)
    r = random.Random(seed + 1)
    nips = [c["nip"] for c in pool if c["nip"]]
    nips = (nips * (repeat // max(1, len(nips)) + 1))[:repeat]
    ids = [c["id"] for c in pool][:repeat]
    r.shuffle(ids)
    results = {}

    def run(name, fn, args, target):
        log(f"measuring {name} ({len(args)} calls)")
        results[name] = summary(measure(k, user_id, fn, args), target)
        log(f"  {name}: {json.dumps(results[name])}")
        return results[name]

    run("nip_check", lambda d, nip: services.find_by_nip(d.session, nip), nips,
        TARGETS_MS["nip_check"])
    run("lookup", lambda d, cid: d.get(CLIENT, cid), ids, TARGETS_MS["lookup"])
    run("list_page", lambda d, _: d.list(CLIENT, order=["name"], limit=50, count=False),
        [None] * repeat, TARGETS_MS["list_page"])
    run("list_page_with_count", lambda d, _: d.list(CLIENT, order=["name"], limit=50,
                                                    count_limit=COUNT_LIMIT),
        [None] * repeat, TARGETS_MS["list_page_with_count"])
    pooled = []
    examples = {}
    for kind, terms in queries(pool, repeat, seed + 2).items():
        times = measure(k, user_id, lambda d, q: d.list(CLIENT, q=q, limit=50, count=False),
                        terms)
        pooled.extend(times)
        results[f"search_{kind}"] = summary(times, TARGETS_MS["search"])
        examples[kind] = terms[:3]
        log(f"  search_{kind} {terms[:3]}: {json.dumps(results[f'search_{kind}'])}")
    results["search"] = summary(pooled, TARGETS_MS["search"])
    results["search"]["examples"] = examples
    return results


# -- import ---------------------------------------------------------------------------------

def write_csv(path: Path, rows: int, start: int, seed: int) -> None:
    """A CSV as an accounting program exports it: ``;``-separated, NIPs and phones in the
    usual human formats."""
    fake = Faker(seed)
    nips = nip_stream(start)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    for _ in range(rows):
        values, addr = fake.client(next(nips))
        nip = values["nip"] or ""
        if nip and fake.r.random() < 0.5:
            nip = f"{nip[:3]}-{nip[3:6]}-{nip[6:8]}-{nip[8:]}"
        if values["kind"] == "person" and not values["nip"]:
            values["name"] = f"{values['first_name']} {values['last_name']}"
        p = values["phone"][3:]
        phone = f"{p[:3]} {p[3:6]} {p[6:]}" if fake.r.random() < 0.5 else f"+48 {p}"
        w.writerow([values["name"], nip, addr["city"], addr["postal_code"], addr["street"],
                    values["email"], phone])
    path.write_text(buf.getvalue(), encoding="utf-8")


def bench_import(k: Kernel, user_id: int, rows: int, tmp: str, seed: int,
                 profile: bool) -> dict:
    from core.security.models import User
    from plugins.clients import importer
    from plugins.clients.models import Client, ImportRun
    with k.db.Session() as s:
        existing = s.scalar(sa.select(sa.func.count()).select_from(Client))
    path = Path(tmp) / "klienci.csv"
    write_csv(path, rows, IMPORT_NIP_OFFSET + 2 * existing, seed + 3)
    log(f"importing {rows:,} clients from {path.name} ({path.stat().st_size / 1e6:.1f} MB)")
    prof = cProfile.Profile() if profile else None
    t0 = time.perf_counter()
    with k.db.Session() as s:
        dal = k.dal(s, s.get(User, user_id))
        with path.open("rb") as fh:
            run = importer.create_run(dal, path.name, fh)
        mapping = dict(run.mapping)
        missing = set(CSV_HEADER) - set(mapping)
        if missing:
            raise SystemExit(f"the importer did not map the columns {sorted(missing)}")
        job_id = importer.start(dal, run, mapping=mapping, dry_run=False)
        run_id = run.id
        s.commit()
    t_queued = time.perf_counter()
    if prof:
        prof.enable()
    ran = jobs.drain(k)
    if prof:
        prof.disable()
    t1 = time.perf_counter()
    with k.db.Session() as s:
        job = s.get(Job, job_id)
        run = s.get(ImportRun, run_id)
        state, error = job.state, job.last_error
        counts = {"created": run.created, "updated": run.updated, "skipped": run.skipped,
                  "failed": run.failed, "status": run.status}
    if state != "done":
        raise SystemExit(f"import job {job_id} ended {state}: {error}")
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(40)
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
        print(buf.getvalue(), file=sys.stderr)
    seconds = t1 - t0
    out = {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds, 1),
           "target": IMPORT_TARGET, "ok": rows / seconds > IMPORT_TARGET,
           "upload_seconds": round(t_queued - t0, 2), "job_seconds": round(t1 - t_queued, 2),
           "jobs_run": ran, **counts}
    log(f"import: {json.dumps(out)}")
    return out


# -- main -----------------------------------------------------------------------------------

def server_version(k: Kernel) -> str:
    with k.db.engine.connect() as c:
        if k.db.dialect == "sqlite":
            return "SQLite " + c.exec_driver_sql("select sqlite_version()").scalar()
        return c.exec_driver_sql("select version()").scalar().split(" on ")[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--url", default=None,
                    help="SQLite: sqlite:///file (default: a temp file); PostgreSQL: the "
                         "server (default: $KARTOTEKA_BENCH_DATABASE_URL)")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--import-rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=200)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--keep", action="store_true", help="keep the filled database")
    ap.add_argument("--reuse", action="store_true",
                    help="--url is an already filled database: no install, no fill")
    ap.add_argument("--profile", action="store_true", help="cProfile the import job")
    a = ap.parse_args()

    drop = None
    with tempfile.TemporaryDirectory(prefix="kt-clients-bench-") as tmp:
        url = a.url
        if a.db == "postgresql":
            url = url or os.environ.get("KARTOTEKA_BENCH_DATABASE_URL")
            if not url or not url.startswith("postgresql"):
                ap.error("--db postgresql needs --url postgresql://... "
                         "(or KARTOTEKA_BENCH_DATABASE_URL)")
            if not a.reuse:
                url, drop = fresh_pg_database(url)
        else:
            if a.reuse and not url:
                ap.error("--reuse needs --url sqlite:///path")
            if url and not url.startswith("sqlite"):
                ap.error("--db sqlite takes --url sqlite:///path")
            url = url or f"sqlite:///{tmp}/clients-bench.db"
            if a.keep and not a.url:
                url = f"sqlite:///{tempfile.mkdtemp(prefix='kt-clients-bench-')}/clients.db"
        try:
            k = make_kernel(url, tmp, install=not a.reuse)
            user_id = admin_user(k)
            setup = {"server": server_version(k)}
            if not a.reuse:
                log(f"filling {a.rows:,} clients on {k.db.dialect}")
                setup["fill_seconds"] = round(fill(k, a.rows, a.seed), 1)
            from plugins.clients.models import Client
            with k.db.Session() as s:
                rows = s.scalar(sa.select(sa.func.count()).select_from(Client))
            results = bench_reads(k, user_id, a.repeat, a.seed)
            imported = bench_import(k, user_id, a.import_rows, tmp, a.seed, a.profile) \
                if a.import_rows else None
            k.close()
            out = {"backend": k.db.dialect, "rows": rows, "results": results,
                   "import": imported, "setup": setup}
            print(json.dumps(out, indent=2, ensure_ascii=False))
        finally:
            if a.keep or a.reuse:
                log(f"database kept: {url}")
            elif drop is not None:
                drop()


if __name__ == "__main__":
    main()
