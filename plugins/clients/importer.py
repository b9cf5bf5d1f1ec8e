"""CSV/XLSX import of clients: upload, column mapping, dry run, background job with
progress, per-row report, dedup by NIP/PESEL (against the base and within the file).

New clients are written in batches (one INSERT per batch, search text and FTS index
included) after each row passed the same validation as the form; updates of existing
clients go through the data-access layer. The whole import is one transaction: an
unexpected failure leaves nothing half-written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import multiprocessing
import os
import unicodedata
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from decimal import Decimal, InvalidOperation
from operator import itemgetter
from pathlib import Path

import sqlalchemy as sa

from core.db import utcnow
from core.errors import DomainError, NotFoundError, ValidationError
from core.jobs import enqueue
from core.records import AttachmentStore, AuditEntry

from . import services, validation
from .models import Accounting, Address, BankAccount, Client, ImportRun

BATCH = 1000
REPORT_LIMIT = 5000
PARALLEL_MIN_ROWS = 10 * BATCH       # from this size the rows are parsed in a second process

TARGETS = [
    ("kind", "Rodzaj (firma/osoba)"), ("name", "Nazwa"), ("short_name", "Nazwa skrócona"),
    ("legal_form", "Forma prawna"), ("nip", "NIP"), ("regon", "REGON"), ("krs", "KRS"),
    ("vat_eu", "NIP UE"), ("first_name", "Imię"), ("last_name", "Nazwisko"),
    ("pesel", "PESEL"), ("birth_date", "Data urodzenia"), ("email", "E-mail"),
    ("phone", "Telefon"), ("website", "Strona WWW"), ("street", "Ulica"),
    ("building", "Nr domu"), ("unit", "Nr lokalu"), ("postal_code", "Kod pocztowy"),
    ("city", "Miejscowość"), ("country", "Kraj"), ("segment", "Segment"),
    ("payment_method", "Forma płatności"), ("payment_days", "Termin płatności (dni)"),
    ("price_list", "Cennik"), ("discount_percent", "Rabat %"),
    ("credit_limit", "Limit kredytu"), ("iban", "Rachunek bankowy"), ("notes", "Uwagi"),
]
ADDRESS = ("street", "building", "unit", "postal_code", "city", "country")
SYNONYMS = {
    "kind": ["rodzaj", "typ", "kind", "type"],
    "name": ["nazwa", "nazwa pelna", "pelna nazwa", "firma", "name", "company", "kontrahent"],
    "short_name": ["nazwa skrocona", "skrot", "short name", "symbol"],
    "legal_form": ["forma prawna", "legal form"],
    "nip": ["nip", "vat id", "tax id", "nip kontrahenta"], "regon": ["regon"],
    "krs": ["krs"], "vat_eu": ["nip ue", "vat ue", "eu vat"],
    "first_name": ["imie", "first name", "firstname"],
    "last_name": ["nazwisko", "last name", "lastname", "surname"], "pesel": ["pesel"],
    "birth_date": ["data urodzenia", "birth date", "date of birth"],
    "email": ["email", "e-mail", "mail", "adres e-mail"],
    "phone": ["telefon", "tel", "phone", "nr telefonu", "komorka"],
    "website": ["www", "strona", "website"],
    "street": ["ulica", "street", "adres"], "building": ["nr domu", "numer domu", "budynek"],
    "unit": ["nr lokalu", "lokal"], "postal_code": ["kod", "kod pocztowy", "postal code"],
    "city": ["miasto", "miejscowosc", "city", "poczta"], "country": ["kraj", "country"],
    "segment": ["segment"], "payment_method": ["forma platnosci"],
    "payment_days": ["termin platnosci", "termin"], "price_list": ["cennik"],
    "discount_percent": ["rabat", "upust"], "credit_limit": ["limit kredytu", "limit"],
    "iban": ["rachunek", "konto", "iban", "nr rachunku"], "notes": ["uwagi", "notatki"],
}


def _key(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text or "").lower()).replace("ł", "l")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.replace("_", " ").replace(".", " ").split())


def suggest_mapping(headers: list[str]) -> dict[str, str]:
    out, used = {}, set()
    for h in headers:
        k = _key(h)
        for target, names in SYNONYMS.items():
            if target not in used and (k == target or k in names):
                out[h] = target
                used.add(target)
                break
    return out


# -- reading files --------------------------------------------------------------------------

def _store(kernel) -> AttachmentStore:
    st = kernel.settings
    return AttachmentStore(st.attachments_dir, max(st.attachment_max_bytes, 200 * 1024 * 1024))


def read_table(data: bytes, filename: str):
    """(headers, iterator of (row number, cells)) of a CSV (UTF-8 or Windows-1250; ; , or
    tab) or XLSX; the header is row 1, blank rows are left out (their numbers too, so a
    report points at the row the user sees in the spreadsheet)."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        import openpyxl
        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook
            raise ValidationError(f"Nie można odczytać arkusza XLSX: {exc}", field="file")
        rows = wb.worksheets[0].iter_rows(values_only=True)
        try:
            headers = [str(h).strip() if h is not None else "" for h in next(rows)]
        except StopIteration:
            raise ValidationError("Arkusz jest pusty.", field="file")
        return headers, ((n, [_cell(v) for v in r]) for n, r in enumerate(rows, 2)
                         if any(v not in (None, "") for v in r))
    for enc in ("utf-8-sig", "cp1250"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1250 decodes almost anything
        raise ValidationError("Nieznane kodowanie pliku (użyj UTF-8).", field="file")
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=";,\t")
    except csv.Error:
        dialect = csv.excel
        dialect.delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        headers = [h.strip() for h in next(reader)]
    except StopIteration:
        raise ValidationError("Plik jest pusty.", field="file")
    if len(headers) < 2 and not any(headers):
        raise ValidationError("Plik nie ma nagłówka z nazwami kolumn.", field="file")
    return headers, ((n, r) for n, r in enumerate(reader, 2) if any(c.strip() for c in r))


def _cell(v):
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _data(kernel, run: ImportRun) -> bytes:
    with _store(kernel).open(run.sha256) as fh:
        return fh.read()


def create_run(dal, filename: str, stream) -> ImportRun:
    dal.require("clients.client", "import")
    filename = Path(filename).name
    if not filename.lower().endswith((".csv", ".txt", ".xlsx", ".xlsm")):
        raise ValidationError("Obsługiwane pliki: CSV lub XLSX.", field="file")
    sha, _size = _store(dal.kernel).put(stream)
    run = ImportRun(filename=filename, sha256=sha, user_id=dal.user.id)
    with _store(dal.kernel).open(sha) as fh:
        headers, _rows = read_table(fh.read(), filename)
    run.mapping = suggest_mapping(headers)
    dal.session.add(run)
    dal.session.flush()
    return run


def preview(kernel, run: ImportRun, rows: int = 3) -> tuple[list[str], list[list[str]]]:
    headers, it = read_table(_data(kernel, run), run.filename)
    sample = []
    for _rowno, r in it:
        sample.append(list(r) + [""] * (len(headers) - len(r)))
        if len(sample) >= rows:
            break
    return headers, sample


def start(dal, run: ImportRun, *, mapping: dict, dry_run: bool, on_duplicate: str = "skip",
          template_id=None) -> str:
    dal.require("clients.client", "import")
    dal.require("clients.client", "create")
    mapping = {h: t for h, t in mapping.items() if t}
    targets = [t for t in mapping.values()]
    known = dict(TARGETS)
    for t in targets:
        if t not in known:
            raise ValidationError(f"Nieznane pole klienta '{t}'.", field="mapping")
        if targets.count(t) > 1:
            raise ValidationError(f"Pole '{known[t]}' przypisano do kilku kolumn.",
                                  field="mapping")
    if "name" not in targets and not {"first_name", "last_name"} <= set(targets):
        raise ValidationError("Przypisz kolumnę z nazwą (albo imię i nazwisko).",
                              field="mapping")
    if on_duplicate not in ("skip", "update"):
        raise ValidationError("Dla duplikatów: skip albo update.", field="on_duplicate")
    if run.status in ("queued", "running"):
        raise ValidationError("Ten import już trwa.")
    run.mapping, run.dry_run, run.on_duplicate = mapping, bool(dry_run), on_duplicate
    run.template_id = int(template_id) if template_id else None
    run.status = "queued"
    dal.session.flush()
    run.job_id = enqueue(dal.session, "clients.import", kwargs={"run_id": run.id},
                         user_id=dal.user.id, max_retries=0)
    return run.job_id


# -- the job --------------------------------------------------------------------------------

KIND_WORDS = {"firma": "company", "company": "company", "f": "company", "spolka": "company",
              "osoba": "person", "osoba fizyczna": "person", "person": "person", "o": "person"}
SEGMENT_WORDS = {"standardowy": "standard", "standard": "standard", "potencjalny": "potential",
                 "potential": "potential", "lead": "potential"}


def _row_values(headers, row, mapping) -> dict:
    values = {}
    for i, h in enumerate(headers):
        target = mapping.get(h)
        if target and i < len(row) and str(row[i]).strip() != "":
            values[target] = str(row[i]).strip()
    return values


def _convert(values: dict) -> dict:
    """Text cells to typed client values; raises ValidationError naming the field."""
    out = dict(values)
    if "kind" in out:
        kind = KIND_WORDS.get(services.fold(out["kind"]).replace("ó", "o"))
        if kind is None:
            raise ValidationError(f"Rodzaj: '{out['kind']}' (firma albo osoba).", field="kind")
        out["kind"] = kind
    elif "name" not in out and out.get("last_name"):
        out["kind"] = "person"
    elif out.get("pesel") and not out.get("nip"):
        out["kind"] = "person"
    if "segment" in out:
        seg = SEGMENT_WORDS.get(services.fold(out["segment"]))
        if seg is None:
            raise ValidationError(f"Segment: '{out['segment']}'.", field="segment")
        out["segment"] = seg
    for f in ("payment_days",):
        if f in out:
            try:
                out[f] = int(out[f])
            except ValueError:
                raise ValidationError(f"Termin płatności: '{out[f]}' nie jest liczbą dni.",
                                      field=f)
    for f in ("credit_limit", "discount_percent"):
        if f in out:
            try:
                out[f] = Decimal(out[f].replace(" ", "").replace(",", "."))
            except InvalidOperation:
                raise ValidationError(f"{dict(TARGETS)[f]}: '{out[f]}' nie jest liczbą.",
                                      field=f)
    if "birth_date" in out:
        raw = out["birth_date"]
        for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y"):
            try:
                out["birth_date"] = dt.datetime.strptime(raw, fmt).date()
                break
            except ValueError:
                continue
        else:
            raise ValidationError(f"Data urodzenia: '{raw}' (użyj RRRR-MM-DD).",
                                  field="birth_date")
    return out


class _Rec:
    """A stand-in record for the validation rules (``services.prepare``): every column
    of a client, ``None`` unless given."""

    def __init__(self, **kw):
        self.__dict__.update(kw)


for _column in Client.__table__.columns:
    setattr(_Rec, _column.key, None)


def run_import(ctx, run_id: int) -> dict:
    s = ctx.session
    run = s.get(ImportRun, run_id)
    if run is None:
        raise NotFoundError(f"Import #{run_id} nie istnieje.")
    from core.security.models import User
    user = s.get(User, run.user_id)
    dal = ctx.kernel.dal(s, user)
    try:
        return _run(ctx, dal, run)
    except DomainError as exc:
        s.rollback()
        run = s.get(ImportRun, run_id)
        run.status = "failed"
        run.report = [{"row": 0, "status": "error", "message": exc.message}]
        return {"error": exc.message}


def _run(ctx, dal, run: ImportRun) -> dict:
    s = dal.session
    dal.require("clients.client", "create")
    run.status = "running"
    template_defaults = services.apply_template(s, {}, run.template_id) \
        if run.template_id else None
    data = _data(ctx.kernel, run)
    headers, rows = read_table(data, run.filename)
    rows = list(rows)
    total = len(rows)
    ctx.progress(0, total, "Sprawdzanie wierszy")
    counts = {"created": 0, "updated": 0, "skipped": 0, "error": 0}
    report: list[dict] = []
    seen: dict[tuple[str, str], int] = {}
    default_templates: dict = {}        # kind -> its default template's values

    def with_template(values: dict) -> dict:
        """``services.apply_template(s, values)``, the default template read once per kind
        (the same template for every row of the import)."""
        kind = values.get("kind") or "company"
        if kind not in default_templates:
            template = services.default_template(s, kind)
            default_templates[kind] = services.template_values(template) \
                if template is not None else {}
        return services.over_template(default_templates[kind], values)

    def note(rowno, status, message=None):
        counts[status] += 1
        if status != "created" and len(report) < REPORT_LIMIT:
            report.append({"row": rowno, "status": status, "message": message})

    def write(parsed):
        """One batch of parsed rows: dedup against the base and the file, insert."""
        nips = {v["nip"] for _, v, _, _ in parsed if v.get("nip")}
        pesels = {v["pesel"] for _, v, _, _ in parsed if v.get("pesel")}
        existing = {}
        taken = set()           # every NIP/PESEL of the batch some client already has
        if nips:
            existing.update({("nip", n): i for n, i in s.execute(sa.select(
                Client.nip, Client.id).where(Client.nip.in_(nips), Client.head_office_id
                                             .is_(None)))})
            taken.update(("nip", n) for n in s.scalars(sa.select(Client.nip).where(
                Client.nip.in_(nips))))
        if pesels:
            existing.update({("pesel", p): i for p, i in s.execute(sa.select(
                Client.pesel, Client.id).where(Client.pesel.in_(pesels)))})
            taken.update(("pesel", p) for p in s.scalars(sa.select(Client.pesel).where(
                Client.pesel.in_(pesels))))
        inserts = []
        for rowno, values, address, iban in parsed:
            keys = [(f, values[f]) for f in ("nip", "pesel") if values.get(f)]
            dup_row = next((seen[k] for k in keys if k in seen), None)
            if dup_row is not None:
                note(rowno, "skipped", f"Duplikat wiersza {dup_row} w pliku (ten sam NIP/PESEL).")
                continue
            for k in keys:
                seen[k] = rowno
            match = next((existing[k] for k in keys if k in existing), None)
            try:
                if match is not None:
                    if run.on_duplicate == "skip":
                        note(rowno, "skipped", f"Klient już istnieje (#{match}).")
                        continue
                    if not run.dry_run:
                        with s.begin_nested():
                            dal.update("clients.client", match, values)
                    note(rowno, "updated", f"Klient #{match}.")
                    continue
                full = dict(template_defaults or with_template(values))
                accounting = full.pop("accounting", None)
                full.update(values)
                rec = _Rec(**{k: v for k, v in full.items() if k != "template_id"})
                _prepare(s, rec, full, check_unique=any(k in taken for k in keys))
                full.pop("accounting", None)
                inserts.append((rowno, full, address, iban, accounting))
            except DomainError as exc:
                note(rowno, "error", exc.message)
        if not run.dry_run and inserts:
            _insert(s, dal, run, inserts)
        counts["created"] += len(inserts)

    for start_at, (parsed, errors) in _parsed_batches(headers, rows, run.mapping):
        for rowno, message in errors:
            note(rowno, "error", message)
        write(parsed)
        ctx.progress(min(start_at + BATCH, total), total, "Import klientów")
    run.total = total
    run.created, run.updated = counts["created"], counts["updated"]
    run.skipped, run.failed = counts["skipped"], counts["error"]
    run.report = report
    run.status = "checked" if run.dry_run else "done"
    s.flush()
    return {"run_id": run.id, "total": total, **counts, "dry_run": run.dry_run}


def _parsed_batches(headers, rows, mapping):
    """(index of the batch's first row in ``rows``, ``_parse`` result) for every batch, in
    order. A large file is
    parsed and validated in a second process, a few batches ahead of the writing (with two
    cores the validation no longer adds to the database time; a thread would not do: the
    GIL)."""
    starts = range(0, len(rows), BATCH)
    if len(rows) < PARALLEL_MIN_ROWS or (os.cpu_count() or 1) < 2:
        for start_at in starts:
            yield start_at, _parse(headers, rows[start_at:start_at + BATCH], mapping)
        return
    ahead: deque = deque()
    first_pending = True        # batch 0 is parsed here while the second process starts
    with ProcessPoolExecutor(max_workers=1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        for start_at in starts[1:]:
            ahead.append((start_at, pool.submit(_parse, headers,
                                                rows[start_at:start_at + BATCH], mapping)))
            if first_pending and len(ahead) >= 3:
                first_pending = False
                yield 0, _parse(headers, rows[:BATCH], mapping)
            elif not first_pending and len(ahead) > 3:
                first, future = ahead.popleft()
                yield first, future.result()
        if first_pending:
            yield 0, _parse(headers, rows[:BATCH], mapping)
        while ahead:
            first, future = ahead.popleft()
            yield first, future.result()


def _parse(headers, chunk, mapping) -> tuple[list, list]:
    """Read and validate one batch of (row number, cells) (no database): the parsed rows
    and the errors as (row number, message)."""
    parsed, errors = [], []
    for rowno, row in chunk:
        try:
            values = _convert(_row_values(headers, row, mapping))
            address = {k: values.pop(k) for k in ADDRESS if k in values}
            if address.get("postal_code"):
                address["postal_code"] = validation.postal_code(
                    address["postal_code"], address.get("country"))
            iban = validation.iban(values.pop("iban", None))
            services.normalise_client(values)
            parsed.append((rowno, values, address, iban))
        except DomainError as exc:
            errors.append((rowno, exc.message))
    return parsed, errors


def _prepare(s, rec: _Rec, values: dict, *, check_unique: bool) -> None:
    """``services.prepare``; its per-row NIP/PESEL query is left out when the batch's
    query already showed no client has the row's NIP or PESEL (duplicates within the file
    are caught by ``seen``), which is what made the import slow on a large base."""
    if check_unique or s.info.get(services.ALLOW_DUPLICATE):
        services.prepare(s, rec, values, normalised=True)
        return
    s.info[services.ALLOW_DUPLICATE] = True
    try:
        services.prepare(s, rec, values, normalised=True)
    finally:
        s.info.pop(services.ALLOW_DUPLICATE, None)


def _insert(s, dal, run: ImportRun, inserts) -> None:
    now = utcnow()
    cols = {c.key for c in Client.__table__.columns}
    payload = []
    for _rowno, full, address, _iban, _acc in inserts:
        row = {k: v for k, v in full.items() if k in cols}
        row.setdefault("kind", "company")
        row.setdefault("segment", "standard")
        row.setdefault("currency", "PLN")
        for flag in ("is_institution", "is_employee", "is_partner"):
            row.setdefault(flag, False)
        row.update(active=True, version=1, created_at=now, updated_at=now,
                   search_text=services.search_text_of(row, address.get("city")))
        payload.append(row)
    keys = sorted({k for r in payload for k in r})
    payload = [{k: r.get(k) for k in keys} for r in payload]
    # Core inserts on the tables (not the ORM's bulk path, which inspects every row):
    # every row has the same columns and the defaults are filled above
    conn = s.connection()
    ids = _new_ids(conn, Client.__table__, len(payload))
    for cid, row in zip(ids, payload, strict=True):
        row["id"] = cid
    _bulk_insert(conn, Client.__table__, payload)
    addresses, accounts, accountings, audits = [], [], [], []
    for cid, (_rowno, _full, address, iban, acc) in zip(ids, inserts, strict=True):
        if address:
            addresses.append({"client_id": cid, "kind": "registered", "is_default": True,
                              "street": address.get("street"),
                              "building": address.get("building"),
                              "unit": address.get("unit"),
                              "postal_code": address.get("postal_code"),
                              "city": address.get("city"),
                              "country": (address.get("country") or "PL")[:2].upper(),
                              "version": 1, "created_at": now, "updated_at": now,
                              "label": None})
        if iban:
            accounts.append({"client_id": cid, "iban": iban, "is_default": True,
                             "currency": "PLN", "version": 1, "created_at": now,
                             "updated_at": now, "bank_name": None, "label": None})
        if acc:
            accountings.append({"client_id": cid, "auto_posting": True,
                                **{k: acc.get(k) for k in services.TEMPLATE_ACCOUNTING_FIELDS}})
        audits.append({"entity": "clients.client", "record_id": cid, "action": "import",
                       "user_id": dal.user.id, "changes": {}, "at": now,
                       "note": f"Import #{run.id}: {run.filename}"})
    for model, rows in ((Address, addresses), (BankAccount, accounts),
                        (Accounting, accountings), (AuditEntry, audits)):
        if rows:
            _bulk_insert(conn, model.__table__, rows)


def _new_ids(conn, table: sa.Table, n: int) -> list[int]:
    """Ids for ``n`` new rows, taken before the insert (a multi-row INSERT cannot return
    them in order everywhere). PostgreSQL: from the id column's sequence. SQLite: max + 1
    onwards, as SQLite itself would number them; the import holds the write lock, so a
    concurrent writer ends in an error, never in wrong ids."""
    if conn.dialect.name == "postgresql":
        return list(conn.execute(sa.text(
            "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
            "FROM generate_series(1, :n)"), {"table": table.name, "n": n}).scalars())
    first = (conn.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
    return list(range(first, first + n))


def _bulk_insert(conn, table: sa.Table, rows: list[dict]) -> None:
    """``conn.execute(table.insert(), rows)`` for rows that all have the same keys, the
    values converted once by the columns' types: PostgreSQL takes them through COPY, the
    others through the driver's executemany (SQLAlchemy's per-row parameter handling, and
    on PostgreSQL parsing the multi-row statements, cost more than the database's work)."""
    keys = list(rows[0])
    processors = {k: table.c[k].type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
                  for k in keys}

    def values(order):
        get = itemgetter(*order)
        convert = [(i, processors[k]) for i, k in enumerate(order) if processors[k]]
        if len(order) == 1:
            out = [[get(r)] for r in rows]
        else:
            out = [list(get(r)) for r in rows]
        for i, p in convert:                 # the same value converted once (the
            done: dict = {}                  # timestamps of a batch, flags, currencies)
            for row in out:
                v = row[i]
                try:
                    row[i] = done[v]
                except KeyError:
                    row[i] = done[v] = p(v)
                except TypeError:            # unhashable (a JSON dict)
                    row[i] = p(v)
        return out

    if conn.dialect.name == "postgresql":
        columns = ", ".join(conn.dialect.identifier_preparer.quote(k) for k in keys)
        with conn.connection.driver_connection.cursor() as cur, cur.copy(
                f"COPY {table.name} ({columns}) FROM STDIN") as copy:
            for row in values(keys):
                copy.write_row(row)
        return
    compiled = table.insert().compile(dialect=conn.dialect, column_keys=keys)
    order = list(compiled.positiontup) if compiled.positional else keys
    params = [tuple(r) for r in values(order)]
    if not compiled.positional:
        params = [dict(zip(order, t, strict=True)) for t in params]
    conn.exec_driver_sql(compiled.string, params)
