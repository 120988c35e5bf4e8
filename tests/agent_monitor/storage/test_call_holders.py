"""A live call names the process that holds it (``call_holders``, revision 0018): a dead process's
call is marked aborted only while it still names that process (or none: stored before 0018), so a
call another process resumed goes on; the holder is not evidence. On PostgreSQL (a floor) an abort
holds the row until it commits, and a resume meanwhile waits, then sets the call live again.
On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.migrate import upgrade_database
from agent_monitor.storage.tables import CallHolder
from tests.agent_monitor.storage.conftest import PostgresDatabases
from tests.agent_monitor.storage.evidence_support import behind_the_app, chain_problems

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)


def _open(db: Database, call_id: str, holder: str | None) -> None:
    """Start or resume the call as a call manager's opening does."""
    with db.session() as s:
        repo.start_call(
            s, call_id, "A1", source_protocol="ws_ingest", started_at=T0, resume=True, holder=holder
        )


def _row(db: Database, call_id: str) -> tuple[CallStatus, str | None]:
    with db.session() as s:
        held = s.get(CallHolder, call_id)
        return repo.get_call(s, call_id).status, None if held is None else held.holder


def _abort(db: Database, call_id: str, holder: str) -> bool:
    with db.session() as s:
        return repo.abort_call(s, call_id, at=T0, holder=holder)


def test_a_call_is_aborted_only_while_the_dead_process_holds_it(db: Database) -> None:
    _open(db, "c1", "p1")
    _open(db, "c1", "p2")  # resumed by another process
    assert _row(db, "c1") == (CallStatus.LIVE, "p2")
    assert _abort(db, "c1", "p1") is False and _row(db, "c1") == (CallStatus.LIVE, "p2")
    assert _abort(db, "c1", "p2") is True and _row(db, "c1") == (CallStatus.ABORTED, "p2")
    assert _abort(db, "c1", "p2") is False  # not live any more
    _open(db, "old", None)  # stored before revision 0018: no holder named
    assert _abort(db, "old", "p1") is True
    _open(db, "c2", "p1")
    assert _abort(db, "c2", "") is True  # an entry that names no process (written before instances)
    assert _row(db, "old") == (CallStatus.ABORTED, None)
    behind_the_app(db, "UPDATE call_holders SET holder = 'someone' WHERE call_id = 'c1'")
    assert chain_problems(db) == []  # who holds a call is not evidence


def _resume(db: Database) -> None:
    _open(db, "moved", "p2")


def test_an_abort_holds_the_row_that_a_resume_on_another_node_sets_live_again(
    postgres: PostgresDatabases,
) -> None:
    """Without the resume's lock its update ran after the abort on what it had read before it
    (the row already live): the ORM wrote the holder alone and the call stayed aborted."""
    url = postgres.create()
    upgrade_database(url)
    db = Database.open(url)
    try:
        _open(db, "moved", "p1")
        resume = threading.Thread(target=_resume, args=(db,))
        with db.session() as s:
            assert repo.abort_call(s, "moved", at=T0, holder="p1") is True
            resume.start()
            resume.join(1.0)
            assert resume.is_alive()  # waiting for the abort's row lock
        resume.join(10.0)
        assert not resume.is_alive()
        assert _row(db, "moved") == (CallStatus.LIVE, "p2")
    finally:
        db.dispose()
        postgres.drop(url)
