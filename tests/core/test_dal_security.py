"""Data access: permissions (deny by default), record rules, field rules, substitutions,
optimistic concurrency, hooks and vetoes, audit, explain."""

import datetime as dt

import pytest
import sqlalchemy as sa

from core.db import utcnow
from core.errors import (
    DomainError,
    NotFoundError,
    PermissionDenied,
    PreconditionFailed,
    ValidationError,
)
from core.records import RecordRef, audit_trail
from core.security.access import explain
from core.security.services import add_substitution, set_substitution_active

from .helpers import FIXTURE_REGISTRY


@pytest.fixture
def k(kernel_factory):
    k = kernel_factory(install=["beta"], registry_file=FIXTURE_REGISTRY)
    k.factory = kernel_factory
    return k


def things(k, s, user):
    rows, total = k.dal(s, user).list("alpha.thing", order=["name"])
    return [r.name for r in rows], total


def test_deny_by_default(k):
    with k.db.session() as s:
        nobody = k.factory.user(s, "nobody")
        dal = k.dal(s, nobody)
        with pytest.raises(PermissionDenied, match="odczyt"):
            dal.list("alpha.thing")
        with pytest.raises(PermissionDenied):
            dal.create("alpha.thing", {"name": "x"})
        assert not dal.can("alpha.thing", "read")


def test_record_rules_with_roles_and_substitution(k):
    with k.db.session() as s:
        admin = k.factory.admin(s)
        anna = k.factory.user(s, "anna", roles=["alpha_own"])
        jan = k.factory.user(s, "jan", roles=["alpha_own"])
        boss = k.factory.user(s, "boss", roles=["alpha_all"])
        dal = k.dal(s, admin)
        dal.create("alpha.thing", {"name": "Anny", "owner_id": anna.id})
        dal.create("alpha.thing", {"name": "Jana", "owner_id": jan.id})
        assert things(k, s, anna) == (["Anny"], 1)
        assert things(k, s, jan) == (["Jana"], 1)
        assert things(k, s, boss)[1] == 3            # incl. the seed record
        # jan substitutes anna this week: he sees her things too
        sub = add_substitution(s, anna, jan, utcnow() - dt.timedelta(days=1),
                               utcnow() + dt.timedelta(days=6))
        assert things(k, s, jan) == (["Anny", "Jana"], 2)
        set_substitution_active(s, sub.id, False)
        assert things(k, s, jan) == (["Jana"], 1)
        # a past substitution does not count
        add_substitution(s, anna, jan, utcnow() - dt.timedelta(days=10),
                         utcnow() - dt.timedelta(days=5))
        assert things(k, s, jan) == (["Jana"], 1)
        # get() of an invisible record is "not found", never a leak
        anny = s.scalar(sa.select(k.registry.entity("alpha.thing").model).where(
            k.registry.entity("alpha.thing").model.name == "Anny"))
        with pytest.raises(NotFoundError):
            k.dal(s, jan).get("alpha.thing", anny.id)
        # a user may not create a record outside their rules
        with pytest.raises(PermissionDenied):
            k.dal(s, jan).create("alpha.thing", {"name": "Cudze", "owner_id": anna.id})


def test_field_rules_hidden_and_readonly(k):
    with k.db.session() as s:
        admin = k.factory.admin(s)
        anna = k.factory.user(s, "anna", roles=["alpha_own"])
        boss = k.factory.user(s, "boss", roles=["alpha_all"])
        t = k.dal(s, admin).create("alpha.thing", {"name": "X", "owner_id": anna.id,
                                                   "secret": "tajne", "price": "10.00"})
        d_anna = k.dal(s, anna).to_dict("alpha.thing", t)
        assert "secret" not in d_anna and d_anna["price"] == "10.00"
        assert k.dal(s, boss).to_dict("alpha.thing", t)["secret"] == "tajne"
        with pytest.raises(ValidationError, match="tylko do odczytu"):
            k.dal(s, anna).update("alpha.thing", t.id, {"price": "1.00"})
        with pytest.raises(ValidationError, match="Nieznane pole 'secret'"):
            k.dal(s, anna).update("alpha.thing", t.id, {"secret": "x"})
        with pytest.raises(ValidationError):
            k.dal(s, anna).list("alpha.thing", filters={"secret": "tajne"})


def test_validation_errors_name_the_field_and_write_nothing(k):
    with k.db.session() as s:
        dal = k.dal(s, k.factory.admin(s))
        with pytest.raises(ValidationError) as exc:
            dal.create("alpha.thing", {"name": "x", "qty": "dużo"})
        assert exc.value.field == "qty"
        with pytest.raises(ValidationError) as exc:
            dal.create("alpha.thing", {"code": "x"})
        assert exc.value.field == "name"
        with pytest.raises(ValidationError, match="Nieznane pole"):
            dal.create("alpha.thing", {"name": "x", "colour": "red"})
        # a number the column cannot hold is the field's message, not a database overflow
        with pytest.raises(ValidationError) as exc:
            dal.create("alpha.thing", {"name": "x", "qty": 2**70})
        assert exc.value.field == "qty"
        assert dal.create("alpha.thing", {"name": "y", "qty": 2**31 - 1}).qty == 2**31 - 1
        assert dal.list("alpha.thing")[1] == 2


def test_stale_update_is_refused(k):
    with k.db.session() as s:
        t = k.dal(s, k.factory.admin(s)).create("alpha.thing", {"name": "v1"})
        tid = t.id
    # two users load version 1; the first saves, the second must be refused
    with k.db.session() as s:
        k.dal(s, k.factory.admin(s)).update("alpha.thing", tid, {"name": "v2"},
                                            expected_version=1)
    with k.db.session() as s:
        with pytest.raises(PreconditionFailed, match="zmieniony przez kogoś innego"):
            k.dal(s, k.factory.admin(s)).update("alpha.thing", tid, {"name": "v3"},
                                                expected_version=1)
    with k.db.session() as s:
        rec = k.dal(s, k.factory.admin(s)).get("alpha.thing", tid)
        assert (rec.name, rec.version) == ("v2", 2)


def test_concurrent_sessions_cannot_both_write_same_version(k):
    """Without an explicit expected version the version counter still refuses the
    second of two concurrent writers (UPDATE ... WHERE version = loaded)."""
    with k.db.session() as s:
        tid = k.dal(s, k.factory.admin(s)).create("alpha.thing", {"name": "a"}).id
    s1, s2 = k.db.Session(), k.db.Session()
    try:
        Thing = k.registry.entity("alpha.thing").model
        r1, r2 = s1.get(Thing, tid), s2.get(Thing, tid)
        r1.name = "from s1"
        s1.commit()
        r2.name = "from s2"
        # PostgreSQL: the versioned UPDATE matches no row; SQLite (WAL): the writer's
        # snapshot is stale and the write lock is refused. Either way: refused.
        with pytest.raises((sa.orm.exc.StaleDataError, sa.exc.OperationalError)):
            s2.commit()
        s2.rollback()
        assert s2.get(Thing, tid).name == "from s1"
    finally:
        s1.close()
        s2.close()


def test_veto_hook_stops_delete_and_audit_is_written(k):
    with k.db.session() as s:
        admin = k.factory.admin(s)
        dal = k.dal(s, admin)
        keep = dal.create("alpha.thing", {"name": "Zostaje", "code": "KEEP"})
        t = dal.create("alpha.thing", {"name": "A"})
        dal.update("alpha.thing", t.id, {"name": "B"})
        with pytest.raises(DomainError, match="nie wolno usunąć"):
            dal.delete("alpha.thing", keep.id)
        dal.delete("alpha.thing", t.id)
        trail = audit_trail(s, RecordRef("alpha.thing", t.id))
        assert [a.action for a in trail] == ["create", "update", "delete"]
        assert trail[1].changes == {"name": ["A", "B"]}
        assert trail[1].user_id == admin.id
        assert dal.get("alpha.thing", keep.id).name == "Zostaje"


def test_action_needs_its_permission(k):
    with k.db.session() as s:
        admin = k.factory.admin(s)
        t = k.dal(s, admin).create("alpha.thing", {"name": "A", "qty": 3})
        reader = k.factory.user(s, "reader", permissions=["alpha.thing.read"])
        with pytest.raises(PermissionDenied, match="Podwój"):
            k.dal(s, reader).run_action("alpha.thing", "double", t.id)
        doer = k.factory.user(s, "doer", permissions=["alpha.thing.read",
                                                      "alpha.thing.double"])
        assert k.dal(s, doer).run_action("alpha.thing", "double", t.id) == {"qty": 6}


def test_filters_search_order_and_paging(k):
    with k.db.session() as s:
        dal = k.dal(s, k.factory.admin(s))
        for i, n in enumerate(["Łopata", "Grabie", "Wiadro", "Grabki"]):
            dal.create("alpha.thing", {"name": n, "qty": i, "price": f"{i}.50"})
        rows, total = dal.list("alpha.thing", q="grab", order=["-name"])
        assert [r.name for r in rows] == ["Grabki", "Grabie"] and total == 2
        rows, total = dal.list("alpha.thing", filters={"qty__gte": "1", "qty__lte": "2"})
        assert sorted(r.name for r in rows) == ["Grabie", "Wiadro", "Ziarno"]  # seed qty=1
        rows, total = dal.list("alpha.thing", filters={"name__in": "Wiadro,Łopata"})
        assert total == 2
        rows, total = dal.list("alpha.thing", order=["name"], offset=1, limit=2)
        assert total == 5 and len(rows) == 2
        # a capped count: at most limit + 1 ("more than 3"), exact when below the cap
        assert dal.list("alpha.thing", limit=2, count_limit=3)[1] == 4
        assert dal.list("alpha.thing", q="grab", count_limit=3)[1] == 2
        with pytest.raises(ValidationError, match="filtra"):
            dal.list("alpha.thing", filters={"qty__gte": "abc"})
        with pytest.raises(ValidationError, match="filtra"):     # no column holds it
            dal.list("alpha.thing", filters={"qty": str(2**70)})
        with pytest.raises(ValidationError, match="operator"):
            dal.list("alpha.thing", filters={"qty__near": "1"})


def test_explain_lists_permissions_and_rules_with_plugins(k):
    with k.db.session() as s:
        admin = k.factory.admin(s)
        anna = k.factory.user(s, "anna", roles=["alpha_own"])
        jan = k.factory.user(s, "jan", roles=["alpha_own"])
        ent = k.registry.entity("alpha.thing")
        t = k.dal(s, admin).create("alpha.thing", {"name": "A", "owner_id": anna.id})
        ok, why = explain(k.registry, s, anna, ent, "read", t)
        assert ok
        assert why[0].kind == "permission" and why[0].outcome == "granted"
        assert "alpha_own" in why[0].detail
        rule = next(w for w in why if w.name == "own_things")
        assert (rule.plugin, rule.outcome) == ("alpha", "passes")
        ok, why = explain(k.registry, s, jan, ent, "read", t)
        assert not ok
        assert next(w for w in why if w.name == "own_things").outcome == "blocks"
        ok, why = explain(k.registry, s, jan, ent, "delete")
        assert not ok and why[0].outcome == "denied"
        assert any(w.kind == "field_rule" and w.name == "alpha.thing.secret" for w in why)


def test_facet_only_update_bumps_version_and_is_audited(k):
    with k.db.session() as s:
        dal = k.dal(s, k.factory.admin(s))
        t = dal.create("alpha.thing", {"name": "A", "extra": {"colour": "red"}})
        t2 = dal.update("alpha.thing", t.id, {"extra": {"colour": "blue"}},
                        expected_version=1)
        assert t2.version == 2
        assert dal.to_dict("alpha.thing", t2)["extra"] == {"colour": "blue"}
        assert audit_trail(s, RecordRef("alpha.thing", t.id))[-1].changes == {
            "extra.colour": ["red", "blue"]}


def test_datetime_filters_accept_iso_strings(k):
    with k.db.session() as s:
        dal = k.dal(s, k.factory.admin(s))
        dal.create("alpha.thing", {"name": "A"})
        past = (utcnow() - dt.timedelta(days=1)).isoformat()
        assert dal.list("alpha.thing", filters={"created_at__gte": past})[1] == 2
        assert dal.list("alpha.thing", filters={"created_at__lt": past})[1] == 0
