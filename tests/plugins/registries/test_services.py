"""The registries plugin's services against the local fake registries, on SQLite and
PostgreSQL: fetch + diff + apply through the DAL, verification (VIES, White List, bank
accounts) recorded in the client's history, the per-day cache, failures as clear domain
errors, the panel badge, bulk runs with retries, the schedule and the sales hook."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from core import jobs
from core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDenied,
    PreconditionFailed,
    ValidationError,
)
from core.records import RecordRef, audit_trail
from plugins.clients import services as clients
from plugins.clients.models import Address, Client
from plugins.registries import config, lookups, services
from plugins.registries.models import (
    BulkRun,
    CacheEntry,
    CompanyData,
    DocumentCheck,
    Verification,
)
from tests.fixtures.plugins.fakesales2 import issue

from .fakes import (
    FOREIGN_ACCOUNT,
    KOWALSKI_ACCOUNT,
    KOWALSKI_NIP,
    ORLEN_ACCOUNTS,
    ORLEN_NIP,
    ROZA_ACCOUNT,
    ROZA_NIP,
    UNKNOWN_NIP,
    ZIELINSKA_NIP,
)

C = "clients.client"


def orlen(env, **kw):
    return env.client("Orlen", nip=ORLEN_NIP, **kw)


def account(env, client, nrb, **kw):
    return env.dal.create("clients.bank_account", {"client_id": client.id,
                                                   "iban": "PL" + nrb, **kw})


def fresh(env):
    """End the test's transaction so it sees what the jobs committed (snapshots)."""
    env.session.commit()
    env.session.expire_all()


def wl_requests(fake, kind="search"):
    return [r for r in fake.requests if r.path.startswith(f"/api/{kind}/")]


# -- fetch, diff, apply ---------------------------------------------------------------------

def test_fetch_from_gus_diff_and_apply_through_the_dal(env, fakes):
    client = orlen(env)
    proposal = services.fetch_proposal(env.session, client)
    assert proposal["source"] == "gus" and not proposal["cached"]
    assert proposal["name"] == "ORLEN SPÓŁKA AKCYJNA"
    assert proposal["short_name"] == "ORLEN S.A."
    assert proposal["legal_form"] == "spółka akcyjna"
    assert (proposal["regon"], proposal["krs"]) == ("610188201", "0000028860")
    assert proposal["pkd_main"] == "19.20.Z"
    rows = services.diff(client, proposal)
    assert [r.field for r in rows] == ["name", "short_name", "legal_form", "regon", "krs",
                                       "address", "pkd"]
    assert rows[0] == ("name", "Orlen", "ORLEN SPÓŁKA AKCYJNA")
    assert rows[5].proposed == "ul. Chemików 7, 09-411 Płock"
    # nothing is written before the user accepts
    assert env.session.get(Client, client.id).regon is None
    services.apply(env.dal, client.id, ["short_name", "legal_form", "regon", "krs",
                                        "address", "pkd"], expected_version=client.version)
    env.session.commit()
    c = env.session.get(Client, client.id)
    assert c.name == "Orlen"                           # not accepted: kept
    assert (c.short_name, c.regon, c.krs) == ("ORLEN S.A.", "610188201", "0000028860")
    addr = env.session.scalar(sa.select(Address).where(Address.client_id == c.id))
    assert (addr.kind, addr.street, addr.building, addr.postal_code, addr.city) == (
        "registered", "ul. Chemików", "7", "09-411", "Płock")
    facet = env.session.get(CompanyData, c.id)
    assert facet.pkd_main == "19.20.Z" and "46.71.Z" in facet.pkd
    assert facet.activity_status == "AKTYWNY" and facet.fetched_from == "gus"
    # the facet is part of the client in the API representation
    assert env.dal.to_dict(C, c)["registry"]["pkd_main"] == "19.20.Z"
    trail = audit_trail(env.session, RecordRef(C, c.id))
    assert [e.action for e in trail][-2:] == ["update", "registry_fetch"]
    assert "regon" in trail[-2].changes and "name" not in trail[-2].changes
    assert "GUS (REGON)" in trail[-1].note and "REGON" in trail[-1].note
    # now only the name differs; the day's answer comes from the cache
    searches = len(fakes.gus.calls("DaneSzukajPodmioty"))
    again = services.fetch_proposal(env.session, c)
    assert again["cached"] is True
    assert len(fakes.gus.calls("DaneSzukajPodmioty")) == searches
    assert [r.field for r in services.diff(c, again)] == ["name"]


def test_apply_refuses_a_stale_version_and_unknown_fields(env):
    client = orlen(env)
    env.session.commit()
    version = client.version
    env.dal.update(C, client.id, {"phone": "601234567"})
    with pytest.raises(PreconditionFailed):
        services.apply(env.dal, client.id, ["regon"], expected_version=version)
    env.session.rollback()
    with pytest.raises(ValidationError, match="Zaznacz"):
        services.apply(env.dal, client.id, [])
    with pytest.raises(ValidationError, match="nie można przejąć"):
        services.apply(env.dal, client.id, ["first_name"])   # a company has no first name


def test_ceidg_for_a_sole_proprietor_fills_the_person(env, fakes):
    person = env.dal.create(C, {"kind": "person", "first_name": "J", "last_name": "K",
                                "nip": KOWALSKI_NIP})
    assert services.default_source(env.session, person) == "ceidg"
    proposal = services.fetch_proposal(env.session, person)
    assert proposal["source"] == "ceidg"
    assert (proposal["first_name"], proposal["last_name"]) == ("Jan", "Kowalski")
    fields = [r.field for r in services.diff(person, proposal)]
    assert fields == ["first_name", "last_name", "short_name", "regon", "address", "pkd"]
    services.apply(env.dal, person.id, fields)
    c = env.session.get(Client, person.id)
    assert c.name == "Kowalski Jan"                   # clients derive a person's name
    assert c.short_name == "USŁUGI INFORMATYCZNE JAN KOWALSKI"
    assert env.session.get(CompanyData, c.id).pkd_main == "62.01.Z"
    assert len(fakes.ceidg.requests) == 2             # search + full record
    # GUS also knows him (type F)
    gus = services.fetch_proposal(env.session, c, "gus")
    assert gus["entity_type"] == "F" and gus["regon"] == c.regon


def test_checksum_is_validated_before_any_request(env, fakes):
    with pytest.raises(ValidationError, match="cyfra kontrolna") as exc:
        services.fetch_from_gus(env.session, nip="7740001455")
    assert exc.value.field == "nip"
    with pytest.raises(ValidationError, match="rachunku"):
        lookups.check_account(env.session, ORLEN_NIP, "12345678901234567890123456")
    assert fakes.gus.requests == [] and fakes.whitelist.requests == []


def test_a_source_that_is_down_is_a_clear_message_and_nothing_is_cached(env, fakes):
    client = orlen(env)
    fakes.gus.unavailable = True
    with pytest.raises(services.RegistryUnavailable) as exc:
        services.fetch_proposal(env.session, client)
    assert "chwilowo niedostępna" in exc.value.message
    assert exc.value.status == 424 and exc.value.extra["retryable"] is True
    assert env.session.scalar(sa.select(sa.func.count()).select_from(CacheEntry)) == 0
    fakes.gus.unavailable = False
    assert services.fetch_proposal(env.session, client)["cached"] is False


def test_unknown_entity_and_missing_identifiers(env):
    with pytest.raises(NotFoundError, match="Nie znaleziono"):
        services.fetch_from_gus(env.session, nip=UNKNOWN_NIP)
    bare = env.client("Bez numerów")
    with pytest.raises(ValidationError, match="NIP, REGON lub KRS"):
        services.fetch_proposal(env.session, bare)
    with pytest.raises(ValidationError, match="nie ma NIP"):
        services.verify(env.dal, bare.id)


def test_ceidg_without_a_token_says_so(env):
    config.update_settings(env.session, {"ceidg_token": "", "clear_ceidg_token": True})
    with pytest.raises(services.RegistryFailure, match="tokenu"):
        services.fetch_from_ceidg(env.session, nip=KOWALSKI_NIP)


# -- verification ---------------------------------------------------------------------------

def test_verify_records_results_and_history_with_request_ids(env, fakes):
    config.update_settings(env.session, {"own_vat_number": "PL5260250274"})
    client = orlen(env)
    account(env, client, ORLEN_ACCOUNTS[0], is_default=True)
    outcome = services.verify(env.dal, client.id)
    env.session.commit()
    assert outcome.status == "ok"
    by_source = {r.source: r for r in outcome.results}
    assert by_source["vies"].request_id.startswith("WAPIAAAAY")      # consultation number
    assert by_source["whitelist"].summary == "Status VAT: Czynny; rachunki na liście: 1/1"
    rows = list(env.session.scalars(sa.select(Verification).where(
        Verification.client_id == client.id)))
    assert {r.source for r in rows} == {"vies", "whitelist"}
    wl = next(r for r in rows if r.source == "whitelist")
    assert wl.request_id == by_source["whitelist"].request_id
    assert wl.data["accounts"] == [{"account": ORLEN_ACCOUNTS[0], "on_list": True,
                                    "request_id": None}]
    assert wl.user_id == env.admin.id
    entry = [e for e in audit_trail(env.session, RecordRef(C, client.id))
             if e.action == "registry_verify"][-1]
    assert f"requestId {wl.request_id}" in entry.note
    assert dt.date.today().strftime("%d.%m.%Y") in entry.note
    assert "nr konsultacji WAPIAAAAY" in entry.note
    rest = [r for r in fakes.vies.requests if r.operation == "rest"][0]
    assert rest.params["requesterNumber"] == "5260250274"
    badge = services.panel_state(env.session, client.id)["badge"]
    assert badge["state"] == "ok" and badge["label"] == "Czynny podatnik VAT"


def test_account_off_the_list_and_inactive_vat_raise_the_badge(env, fakes):
    client = orlen(env)
    account(env, client, ORLEN_ACCOUNTS[1])
    account(env, client, FOREIGN_ACCOUNT)
    outcome = services.verify(env.dal, client.id)
    wl = next(r for r in outcome.results if r.source == "whitelist")
    assert wl.status == "warning" and "1/2" in wl.summary
    # ORLEN has virtual accounts: the account not listed was asked about individually
    assert len(wl_requests(fakes.whitelist, "check")) == 1
    badge = services.panel_state(env.session, client.id)["badge"]
    assert badge["state"] == "warning"
    assert any("nie jest na białej liście" in r for r in badge["reasons"])
    kowalski = env.client("Kowalski IT", nip=KOWALSKI_NIP)
    account(env, kowalski, KOWALSKI_ACCOUNT)
    services.verify(env.dal, kowalski.id)
    badge = services.panel_state(env.session, kowalski.id)["badge"]
    assert badge["state"] == "warning" and badge["reasons"] == ["Status VAT: Zwolniony"]
    zielinska = env.client("Biuro Zielińska", nip=ZIELINSKA_NIP)
    services.verify(env.dal, zielinska.id)
    reasons = services.panel_state(env.session, zielinska.id)["badge"]["reasons"]
    assert "Status VAT: Niezarejestrowany" in reasons
    # the VIES number of a company unknown to VIES is reported as not valid
    vies = [r for r in services.verify(env.dal, zielinska.id).results if r.source == "vies"]
    assert vies[0].status == "warning" and "nieaktywny" in vies[0].summary


def test_a_failing_source_is_recorded_and_the_others_still_run(env, fakes):
    client = orlen(env)
    fakes.whitelist.unavailable = True
    outcome = services.verify(env.dal, client.id)
    env.session.commit()
    by_source = {r.source: r for r in outcome.results}
    assert by_source["vies"].status == "ok"
    assert by_source["whitelist"].status == "error" and by_source["whitelist"].retryable
    assert "chwilowo niedostępna" in by_source["whitelist"].error
    state = services.panel_state(env.session, client.id)
    assert state["latest"]["whitelist"].status == "error"
    assert "whitelist" not in state["good"] and state["badge"]["state"] == "ok"
    # the registry comes back: the day's answer was not cached while it was down
    fakes.whitelist.unavailable = False
    services.verify(env.dal, client.id)
    assert services.panel_state(env.session, client.id)["latest"]["whitelist"].status == "ok"


def test_answers_are_cached_per_number_and_day(env, fakes):
    client = orlen(env)
    first = services.verify(env.dal, client.id)
    second = services.verify(env.dal, client.id)
    assert len(wl_requests(fakes.whitelist)) == 1
    assert len([r for r in fakes.vies.requests if r.operation == "rest"]) == 1
    assert all(r.cached for r in second.results) and not any(r.cached for r in first.results)
    assert [r.request_id for r in first.results] == [r.request_id for r in second.results]
    services.verify(env.dal, client.id, use_cache=False)
    assert len(wl_requests(fakes.whitelist)) == 2
    # yesterday's answers are not today's
    env.session.execute(sa.update(CacheEntry).values(day=dt.date.today() - dt.timedelta(1)))
    services.verify(env.dal, client.id)
    assert len(wl_requests(fakes.whitelist)) == 3


def test_badge_goes_stale_after_the_configured_days(env):
    client = orlen(env)
    state = services.panel_state(env.session, client.id)
    assert state["badge"]["state"] == "unknown"
    services.verify(env.dal, client.id)
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
    env.session.execute(sa.update(Verification).values(checked_at=old))
    env.session.expire_all()
    state = services.panel_state(env.session, client.id)
    assert state["badge"]["state"] == "stale" and state["age_days"] == 40
    assert "40 dni" in state["badge"]["label"]
    config.update_settings(env.session, {"max_age_days": 60})
    assert services.panel_state(env.session, client.id)["badge"]["state"] == "ok"


def test_verify_needs_the_permission_and_rows_follow_client_visibility(env):
    client = orlen(env)
    services.verify(env.dal, client.id)
    other = env.client("Róża", nip=ROZA_NIP)
    services.verify(env.dal, other.id)
    ala = env.factory.user(env.session, "ala", roles=["clients_salesperson"])
    own = env.as_user(ala).create(C, {"kind": "company", "name": "Moja firma", "nip":
                                      KOWALSKI_NIP, "caretaker_id": ala.id})
    with pytest.raises(PermissionDenied):
        services.verify(env.as_user(ala), own.id)
    ola = env.factory.user(env.session, "ola", roles=["clients_salesperson",
                                                      "registries_user"])
    mine = env.as_user(ola).create(C, {"kind": "company", "name": "Firma Oli", "nip":
                                       ZIELINSKA_NIP, "caretaker_id": ola.id})
    services.verify(env.as_user(ola), mine.id)
    with pytest.raises(NotFoundError):
        services.verify(env.as_user(ola), client.id)          # not her client
    rows, total = env.as_user(ola).list("registries.verification", limit=None)
    assert total == 2 and {r.client_id for r in rows} == {mine.id}
    assert env.dal.list("registries.verification", limit=None)[1] == 6


# -- bulk ------------------------------------------------------------------------------------

def _clients(env):
    a = orlen(env)
    b = env.client("Kowalski IT", nip=KOWALSKI_NIP)
    c = env.client("Róża", nip=ROZA_NIP)
    account(env, c, ROZA_ACCOUNT)
    d = env.client("Bez NIP")
    return a, b, c, d


def test_bulk_run_batches_the_white_list_and_reports(env, kernel, fakes):
    a, b, c, d = _clients(env)
    run = services.start_bulk(env.dal, [a.id, b.id, c.id, d.id])
    env.session.commit()
    assert run.total == 3 and run.status == "queued"       # no NIP: nothing to check
    jobs.drain(kernel)
    fresh(env)
    run = env.session.get(BulkRun, run.id)
    assert run.status == "done" and run.finished_at is not None
    assert (run.ok, run.warnings, run.errors) == (1, 2, 0)
    report = {e["client_id"]: e for e in run.report}
    assert report[a.id]["status"] == "ok"
    assert report[b.id]["status"] == "warning" and "Zwolniony" in report[b.id]["summary"]
    assert "nieaktywny w VIES" in report[c.id]["summary"]         # unknown to VIES
    # one batch request for the three NIPs, no single searches
    assert [r.path.split("/")[3] for r in wl_requests(fakes.whitelist)] == ["nips"]
    rows = env.session.scalars(sa.select(Verification).where(Verification.run_id == run.id))
    assert len(list(rows)) == 6
    with kernel.db.session() as s:
        st = jobs.job_status(s, run.job_id)
    assert st["state"] == "done" and st["result"]["ok"] == 1


def test_bulk_retries_an_unavailable_source_with_backoff(env, kernel, fakes):
    a, b, *_ = _clients(env)
    fakes.whitelist.unavailable = True
    run = services.start_bulk(env.dal, [a.id, b.id], sources=["whitelist"], backoff=0)
    env.session.commit()
    assert jobs.work_once(kernel) == 1
    fresh(env)
    run = env.session.get(BulkRun, run.id)
    assert run.status == "retrying" and sorted(run.pending) == sorted([a.id, b.id])
    assert run.attempts == 1 and all(e["retrying"] for e in run.report)
    fakes.whitelist.unavailable = False
    jobs.drain(kernel)
    fresh(env)
    run = env.session.get(BulkRun, run.id)
    assert run.status == "done" and run.pending == [] and run.attempts == 2
    assert (run.ok, run.warnings) == (1, 1)


def test_bulk_gives_up_after_the_last_round(env, kernel, fakes):
    a, *_ = _clients(env)
    fakes.whitelist.unavailable = True
    run = services.start_bulk(env.dal, [a.id], sources=["whitelist"], backoff=0)
    env.session.commit()
    jobs.drain(kernel)
    fresh(env)
    run = env.session.get(BulkRun, run.id)
    assert run.status == "done" and run.attempts == services.MAX_RETRY_ROUNDS + 1
    assert run.errors == 1 and run.report[0]["status"] == "error"


def test_bulk_action_on_a_selection_makes_one_run(env, kernel):
    a, b, c, _d = _clients(env)
    results = [env.dal.run_action(C, "registry_verify_bulk", i) for i in (a.id, b.id, c.id)]
    env.session.commit()
    assert len({r["run_id"] for r in results}) == 1
    run = env.session.get(BulkRun, results[0]["run_id"])
    assert run.client_ids == [a.id, b.id, c.id]
    jobs.drain(kernel)
    fresh(env)
    assert env.session.get(BulkRun, run.id).done == 3
    # a new transaction starts a new run
    again = env.dal.run_action(C, "registry_verify_bulk", a.id)
    assert again["run_id"] != run.id


def test_weekly_schedule_runs_only_when_switched_on(env, kernel, fakes):
    spec = kernel.registry.schedules["registries.weekly_whitelist"]
    assert spec.cron == "30 5 * * 1" and spec.job == "registries.weekly_whitelist"
    _clients(env)
    env.dal.update(C, env.session.scalar(sa.select(Client.id).where(
        Client.nip == ROZA_NIP)), {"active": False})
    env.session.commit()
    with kernel.db.session() as s:
        jobs.enqueue(s, "registries.weekly_whitelist")
    jobs.drain(kernel)
    assert env.session.scalar(sa.select(sa.func.count()).select_from(BulkRun)) == 0
    config.update_settings(env.session, {"schedule_enabled": True})
    env.session.commit()
    monday = dt.datetime(2030, 1, 7, 5, 0, tzinfo=dt.UTC)
    assert "registries.weekly_whitelist" not in jobs.schedule_tick(kernel, now=monday)
    fired = jobs.schedule_tick(kernel, now=monday + dt.timedelta(days=7))   # 06:00 Warsaw
    assert "registries.weekly_whitelist" in fired
    jobs.drain(kernel)
    fresh(env)
    run = env.session.scalar(sa.select(BulkRun))
    assert run.scheduled and run.sources == ["whitelist"] and run.status == "done"
    assert run.total == 2 and run.user_id is None           # active clients with a NIP


# -- the sales hook ----------------------------------------------------------------------------

def test_sales_hook_checks_the_account_over_the_threshold(env, kernel, fakes):
    client = orlen(env)
    account(env, client, ORLEN_ACCOUNTS[0], is_default=True)
    small = issue(kernel, env.session, env.admin, client.id, "FV/1", "15000.00")
    assert small.checks[0]["status"] == "skipped" and wl_requests(fakes.whitelist,
                                                                  "check") == []
    big = issue(kernel, env.session, env.admin, client.id, "FV/2", "15000.01")
    answer = big.checks[0]
    assert answer["status"] == "assigned" and answer["request_id"]
    stored = services.document_check(env.session, "fakesales2.invoice", big.id)
    assert (stored.result, stored.request_id, stored.day) == (
        "assigned", answer["request_id"], dt.date.today())
    assert stored.iban == ORLEN_ACCOUNTS[0] and stored.amount == Decimal("15000.01")
    req = wl_requests(fakes.whitelist, "check")[0]
    assert req.path.endswith(f"/nip/{ORLEN_NIP}/bank-account/{ORLEN_ACCOUNTS[0]}")
    assert req.query["date"] == [dt.date.today().isoformat()]
    off = issue(kernel, env.session, env.admin, client.id, "FV/3", "20000",
                iban="PL" + FOREIGN_ACCOUNT)
    assert off.checks[0]["status"] == "not_assigned" and off.state == "issued"
    env.session.commit()
    assert env.session.scalar(sa.select(sa.func.count()).select_from(DocumentCheck)) == 3


def test_sales_hook_blocks_when_configured(env, kernel, fakes):
    client = orlen(env)
    config.update_settings(env.session, {"block_on_whitelist": True})
    env.session.commit()
    with pytest.raises(ConflictError, match="Rachunku .* nie ma na białej liście"):
        issue(kernel, env.session, env.admin, client.id, "FV/4", "50000",
              iban="PL" + FOREIGN_ACCOUNT)
    env.session.rollback()
    fakes.whitelist.unavailable = True
    with pytest.raises(ConflictError, match="chwilowo niedostępna"):
        issue(kernel, env.session, env.admin, client.id, "FV/5", "50000",
              iban="PL" + ORLEN_ACCOUNTS[0])
    env.session.rollback()
    fakes.whitelist.unavailable = False
    ok = issue(kernel, env.session, env.admin, client.id, "FV/6", "50000",
               iban="PL" + ORLEN_ACCOUNTS[0])
    assert ok.checks[0]["status"] == "assigned"


def test_sales_hook_is_silent_while_the_plugin_is_disabled(env, kernel, fakes):
    client = orlen(env)
    env.session.commit()
    kernel.disable(["registries"])
    inv = issue(kernel, env.session, env.admin, client.id, "FV/7", "99999")
    assert inv.checks == [] and fakes.whitelist.requests == []
    assert ("clients.client", "registry_fetch") not in kernel.registry.actions


# -- clients' events -----------------------------------------------------------------------------

def test_merge_moves_results_and_personal_data_reports_them(env, kernel):
    keep = orlen(env)
    drop = env.client("Orlen duplikat", nip=ORLEN_NIP, head_office_id=keep.id)
    services.verify(env.dal, drop.id)
    services.apply(env.dal, drop.id, ["pkd"])
    clients.merge(env.dal, keep.id, drop.id)
    assert env.session.scalar(sa.select(sa.func.count()).select_from(Verification).where(
        Verification.client_id == keep.id)) == 2
    assert env.session.get(CompanyData, keep.id).pkd_main == "19.20.Z"
    data = clients.personal_data(kernel, env.session, keep.id)
    assert len(data["other"]["Weryfikacje w rejestrach"]) == 2


# -- settings ---------------------------------------------------------------------------------

def test_settings_defaults_validation_and_secrets(kernel_factory):
    from .conftest import registries_kernel
    k = registries_kernel(kernel_factory)
    with k.db.session() as s:
        row = config.get_settings(s)
        assert row.environment == "test" and row.gus_key == "abcde12345abcde12345"
        assert row.max_age_days == 30 and row.whitelist_threshold == Decimal("15000.00")
        assert not row.block_on_whitelist and not row.schedule_enabled
        eff = config.endpoints(row)
        assert eff.gus.startswith("https://wyszukiwarkaregontest.stat.gov.pl")
        assert eff.whitelist == "https://wl-test.mf.gov.pl"
        config.update_settings(s, {"environment": "production", "gus_key": "",
                                   "own_vat_number": "pl 526-025-02-74"})
        assert row.gus_key == "abcde12345abcde12345"      # a blank secret keeps the old one
        assert row.own_vat_number == "PL5260250274"
        assert config.endpoints(row).whitelist == "https://wl-api.mf.gov.pl"
        with pytest.raises(ValidationError) as exc:
            config.update_settings(s, {"gus_url": "ftp://x"})
        assert exc.value.field == "gus_url"
        with pytest.raises(ValidationError) as exc:
            config.update_settings(s, {"own_vat_number": "PL5260250275"})
        assert exc.value.field == "own_vat_number"
        with pytest.raises(ValidationError):
            config.update_settings(s, {"max_age_days": "0"})
