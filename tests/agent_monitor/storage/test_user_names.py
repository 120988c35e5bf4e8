"""A username is found whatever its case (``repo.get_user``), as ``create_user`` holds names
differing only in case to be one name; real database, SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from agent_monitor.errors import NotFoundError
from agent_monitor.model.roles import Role
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.tables import User


def test_a_user_is_found_whatever_the_case_typed(db: Database) -> None:
    with db.session() as s:
        repo.create_user(s, "Alice", "h", Role.QA)
        repo.create_user(s, "kate", "h", Role.QA)
    with db.session() as s:
        for typed in ("Alice", "alice", "ALICE", "aLiCe"):
            found = repo.get_user(s, typed)
            assert found is not None and found.username == "Alice", typed
        assert repo.require_user(s, "alice").username == "Alice"
        repo.set_user_active(s, "ALICE", False)  # the changes find her too
        assert repo.get_user(s, "alicia") is None
        # "\u212a" (KELVIN SIGN) lowers to "k" in Python: no stored name is typed so
        assert repo.get_user(s, "\u212aate") is None
    with db.session() as s:
        assert repo.require_user(s, "Alice").active is False
        with pytest.raises(NotFoundError, match="'bob' not found"):
            repo.require_user(s, "bob")


def test_two_names_stored_before_the_one_name_rule_are_each_found_by_their_own(db: Database) -> None:
    """The unique index is on the exact name: a database from before ``create_user`` refused
    ``Bob`` beside ``bob`` may hold both. Each is found by its own spelling; another spelling could
    mean either and finds none."""
    with db.session() as s:
        row = {"password_hash": "h", "role": Role.QA, "active": True}
        s.execute(insert(User), [{"username": n, **row} for n in ("bob", "Bob")])
    with db.session() as s:
        assert [repo.require_user(s, n).username for n in ("bob", "Bob")] == ["bob", "Bob"]
        assert repo.get_user(s, "BOB") is None
