"""Record services: links, comments, attachments, numbering under concurrency."""

import datetime as dt
import io
import threading

import pytest
import sqlalchemy as sa

from core.errors import NotFoundError, ValidationError
from core.records import (
    AttachmentStore,
    RecordRef,
    add_comment,
    attach,
    attach_from_library,
    attachments_of,
    comments_of,
    ensure_series,
    link,
    links_of,
    next_number,
    unlink,
)


@pytest.fixture
def k(kernel_factory):
    return kernel_factory()


def test_links_listed_from_both_sides(k):
    offer, client, order = RecordRef("offers.offer", 1), RecordRef("clients.client", 7), \
        RecordRef("service.order", 3)
    with k.db.session() as s:
        link(s, offer, client, note="oferta dla klienta")
        link(s, order, offer)
        assert link(s, client, offer).note == "oferta dla klienta"   # no duplicate
        with pytest.raises(ValidationError):
            link(s, offer, offer)
    with k.db.session() as s:
        assert {r for r, _ in links_of(s, offer)} == {client, order}
        assert [r for r, _ in links_of(s, client)] == [offer]
        assert unlink(s, client, offer) is True
        assert [r for r, _ in links_of(s, offer)] == [order]


def test_comment_threads(k):
    ref = RecordRef("offers.offer", 5)
    with k.db.session() as s:
        first = add_comment(s, ref, "Klient prosi o rabat", author_id=None)
        add_comment(s, ref, "Zgoda na 5%", author_id=None, parent_id=first.id)
        with pytest.raises(ValidationError):
            add_comment(s, ref, "   ", author_id=None)
        with pytest.raises(ValidationError):
            add_comment(s, RecordRef("offers.offer", 6), "x", author_id=None,
                        parent_id=first.id)
        thread = comments_of(s, ref)
        assert [c.body for c in thread] == ["Klient prosi o rabat", "Zgoda na 5%"]
        assert thread[1].parent_id == first.id


def test_attachments_content_addressed_with_limit_and_library(k, tmp_path):
    store = AttachmentStore(tmp_path / "att", max_bytes=1000)
    ref = RecordRef("offers.offer", 1)
    with k.db.session() as s:
        a = attach(s, store, ref, "../../etc/umowa.pdf", io.BytesIO(b"%PDF-1.4 umowa"))
        b = attach(s, store, RecordRef("offers.offer", 2), "kopia.pdf",
                   io.BytesIO(b"%PDF-1.4 umowa"))
        assert a.filename == "umowa.pdf"                 # path stripped
        assert a.sha256 == b.sha256
        assert a.content_type == "application/pdf"
        files = list((tmp_path / "att").rglob("*"))
        assert len([f for f in files if f.is_file()]) == 1   # stored once
        with store.open(a.sha256) as fh:
            assert fh.read() == b"%PDF-1.4 umowa"
        with pytest.raises(ValidationError, match="za duży"):
            attach(s, store, ref, "big.bin", io.BytesIO(b"x" * 1001))
        lib = attach(s, store, None, "regulamin.pdf", io.BytesIO(b"regulamin"))
        assert [x.filename for x in attachments_of(s, None)] == ["regulamin.pdf"]
        attach_from_library(s, ref, lib.id)
        assert [x.filename for x in attachments_of(s, ref)] == ["umowa.pdf", "regulamin.pdf"]
        with pytest.raises(NotFoundError):
            attach_from_library(s, ref, a.id)            # not a library file


def test_numbering_patterns_and_periods(k):
    with k.db.session() as s:
        ensure_series(s, "OF", "OF/{seq}/{yyyy}")
        ensure_series(s, "SRV", "SRV/{seq:4}/{mm}/{yyyy}", reset="monthly")
        with pytest.raises(ValidationError):
            ensure_series(s, "BAD", "no sequence")
    jan = dt.datetime(2026, 1, 31, 12, tzinfo=dt.UTC)
    feb = dt.datetime(2026, 2, 1, 12, tzinfo=dt.UTC)
    # 31 Dec 23:30 UTC is already 1 Jan in Warsaw: the period follows local time
    new_year = dt.datetime(2026, 12, 31, 23, 30, tzinfo=dt.UTC)
    with k.db.session() as s:
        assert next_number(s, "OF", jan) == "OF/1/2026"
        assert next_number(s, "OF", feb) == "OF/2/2026"
        assert next_number(s, "OF", new_year) == "OF/1/2027"
        assert next_number(s, "SRV", jan) == "SRV/0001/01/2026"
        assert next_number(s, "SRV", feb) == "SRV/0001/02/2026"
        assert next_number(s, "SRV", feb) == "SRV/0002/02/2026"
        with pytest.raises(NotFoundError):
            next_number(s, "NOPE")


def test_rolled_back_number_is_not_consumed(k):
    with k.db.session() as s:
        ensure_series(s, "FV", "FV/{seq}/{yyyy}")
    s = k.db.Session()
    first = next_number(s, "FV")
    s.rollback()
    s.close()
    with k.db.session() as s:
        assert next_number(s, "FV") == first


def test_numbering_without_gaps_or_duplicates_under_concurrency(k):
    with k.db.session() as s:
        ensure_series(s, "OF", "OF/{seq}/{yyyy}")
    issued: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker():
        for _ in range(15):
            try:
                with k.db.session(write=True) as s:
                    n = next_number(s, "OF")
                with lock:
                    issued.append(n)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:1]
    seqs = sorted(int(n.split("/")[1]) for n in issued)
    assert seqs == list(range(1, 91))                    # 90 numbers, no gap, no duplicate
    with k.db.session() as s:
        assert s.scalar(sa.text("select value from core_numbering_counter")) == 90
