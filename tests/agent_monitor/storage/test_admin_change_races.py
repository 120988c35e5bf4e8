"""Audited admin changes sent twice at once (a double click, two admins, a second tab), on SQLite
and PostgreSQL: each is decided on what is stored under the audit lock, so exactly one of a pair
that excludes the other goes through and the other is a clear error, never a crash.

They used to decide before taking any lock: the same username created twice was a 500 (the
unique index) or, differing in case, two users; two admins deactivating each other left no active
admin; two teams renamed onto one new name merged; an admin's "end sessions" or a sign-out sent
twice inserted the same revocation twice (a 500)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

from agent_monitor.accounts import users as accounts
from agent_monitor.errors import ConflictError, NotFoundError
from agent_monitor.model.roles import Role
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.integrity import verify_chains
from tests.agent_monitor.storage.race_support import at_once, failures

AT_ONCE = 6
ROUNDS = 4  # a race is intermittent: each test runs its storm several times
QUICK_ROUNDS = 12  # (the sign-outs are quick: more rounds to meet the race)
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$c29tZWhhc2g"
LATER = datetime.now(UTC) + timedelta(hours=8)


def _chains_ok(db: Database) -> None:
    with db.session() as s:
        assert all(r.ok for r in verify_chains(s)), [p for r in verify_chains(s) for p in r.problems]


def _add_user(db: Database, username: str, role: Role = Role.QA, team: str | None = None) -> None:
    with db.session() as s:
        accounts.add_user(s, "admin1", username, HASH, role, team=team)


def _audits(db: Database, action: str, object_id: str) -> int:
    with db.session() as s:
        return len(repo.list_audit(s, action=action, object_id=object_id))


def test_one_username_created_at_once_makes_one_user(db: Database) -> None:
    for n in range(ROUNDS):
        names = [f"user{n}", f"User{n}"] * (AT_ONCE // 2)  # the same name, also differing in case
        results = at_once([partial(_add_user, db, name) for name in names])
        assert not failures(results, ConflictError), results
        assert sum(r is None for r in results) == 1, results
        with db.session() as s:
            assert [u.username.lower() for u in repo.list_users(s)].count(f"user{n}") == 1
        assert _audits(db, "user_created", f"user{n}") + _audits(db, "user_created", f"User{n}") == 1
    _chains_ok(db)


def _deactivate(db: Database, actor: str, username: str) -> None:
    with db.session() as s:
        accounts.update_user(s, actor, username, accounts.UserChange(active=False))


def test_admins_deactivating_each_other_at_once_leave_an_active_admin(db: Database) -> None:
    _add_user(db, "admin1", Role.ADMIN)
    for n in range(ROUNDS):
        _add_user(db, f"admin-{n}", Role.ADMIN)
        with db.session() as s:
            admins = [u.username for u in repo.list_users(s, role=Role.ADMIN, active=True)]
        results = at_once([partial(_deactivate, db, a, b) for a in admins for b in admins if a != b])
        assert not failures(results, ConflictError), results
        with db.session() as s:
            active = repo.list_users(s, role=Role.ADMIN, active=True)
            assert len(active) == 1, [u.username for u in active]
            for name in admins:
                repo.set_user_active(s, name, True)
    _chains_ok(db)


def _rename(db: Database, old: str, new: str) -> None:
    with db.session() as s:
        changed = repo.rename_team(s, old, new)
        accounts.record(s, "admin1", "team_renamed", "team", old, to=new, members=changed)


def test_two_teams_renamed_onto_one_name_at_once_are_not_merged(db: Database) -> None:
    for n in range(ROUNDS):
        with db.session() as s:
            repo.ensure_agent(s, f"a-{n}", team=f"A{n}")
            repo.ensure_agent(s, f"b-{n}", team=f"B{n}")
        results = at_once([partial(_rename, db, old, f"X{n}") for old in (f"A{n}", f"B{n}")])
        assert not failures(results, ConflictError), results
        assert sorted(type(r).__name__ for r in results) == ["ConflictError", "NoneType"], results
        with db.session() as s:
            assert len(repo.list_agents(s, team=f"X{n}")) == 1
    _chains_ok(db)


def test_one_rename_sent_at_once_is_done_and_audited_once(db: Database) -> None:
    for n in range(ROUNDS):
        with db.session() as s:
            repo.ensure_agent(s, f"s-{n}", team=f"S{n}")
        rename = partial(_rename, db, f"S{n}", f"T{n}")
        results = at_once([rename] * AT_ONCE)
        assert not failures(results, NotFoundError), results
        assert sum(r is None for r in results) == 1, results
        assert _audits(db, "team_renamed", f"S{n}") == 1
    _chains_ok(db)


def test_ending_a_users_sessions_at_once_ends_them_once(db: Database) -> None:
    _add_user(db, "agent9")
    for n in range(QUICK_ROUNDS):
        now = datetime.now(UTC) + timedelta(seconds=n)

        def end(now: datetime = now) -> None:
            with db.session() as s:
                repo.end_user_sessions(s, "agent9", LATER, at=now)

        assert not failures(at_once([end] * AT_ONCE))
        with db.session() as s:
            assert repo.sessions_ended(s, "agent9", now)
            assert not repo.sessions_ended(s, "agent9", now + timedelta(seconds=1))


def test_signing_out_one_session_at_once_revokes_it(db: Database) -> None:
    for n in range(QUICK_ROUNDS):

        def sign_out(sid: str = f"sid-{n}") -> None:
            with db.session() as s:
                accounts.end_session(s, sid, "qa1", LATER)

        assert not failures(at_once([sign_out] * AT_ONCE))
        with db.session() as s:
            assert repo.session_revoked(s, f"sid-{n}")
