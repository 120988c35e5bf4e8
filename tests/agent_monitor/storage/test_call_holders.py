"""A live call names the process that holds it (``call_holders``, revision 0018: its node and
instance): a dead process's call is marked aborted only while it still names that process (or
none: stored before 0018), so a call another process resumed goes on; a floor node's start marks
aborted the live calls its node holds (its previous process's) and no other node's; the holder is
not evidence. On PostgreSQL (a floor) an abort holds the row until it commits, and a resume
meanwhile waits, then sets the call live again. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from agent_monitor.model.session import Holder
from agent_monitor.storage import CallStatus, repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.migrate import upgrade_database
from agent_monitor.storage.tables import CallHolder
from tests.agent_monitor.storage.conftest import PostgresDatabases
from tests.agent_monitor.storage.evidence_support import behind_the_app, chain_problems

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
P1, P2, B1 = Holder("node-a", "p1"), Holder("node-a", "p2"), Holder("node-b", "b1")


def _open(db: Database, call_id: str, holder: Holder | None) -> None:
    """Start or resume the call as a call manager's opening does."""
    with db.session() as s:
        repo.start_call(
            s, call_id, "A1", source_protocol="ws_ingest", started_at=T0, resume=True, holder=holder
        )


def _row(db: Database, call_id: str) -> tuple[CallStatus, Holder | None]:
    with db.session() as s:
        held = s.get(CallHolder, call_id)
        holder = None if held is None else Holder(held.node, held.instance)
        return repo.get_call(s, call_id).status, holder


def _abort(db: Database, call_id: str, instance: str) -> repo.AbortOutcome:
    with db.session() as s:
        return repo.abort_call(s, call_id, at=T0, instance=instance)


def test_a_call_is_aborted_only_while_the_dead_process_holds_it(db: Database) -> None:
    _open(db, "c1", P1)
    _open(db, "c1", B1)  # resumed by another node's process
    assert _row(db, "c1") == (CallStatus.LIVE, B1)
    assert _abort(db, "c1", "p1") == "resumed" and _row(db, "c1") == (CallStatus.LIVE, B1)
    assert _abort(db, "c1", "b1") == "aborted" and _row(db, "c1") == (CallStatus.ABORTED, B1)
    assert _abort(db, "c1", "b1") == "not_live"
    _open(db, "old", None)  # stored before revision 0018: no holder named
    assert _abort(db, "old", "p1") == "aborted" and _row(db, "old") == (CallStatus.ABORTED, None)
    _open(db, "c2", P1)
    assert _abort(db, "c2", "") == "aborted"  # an entry that names no process (before instances)
    behind_the_app(db, "UPDATE call_holders SET node = 'x', instance = 'y' WHERE call_id = 'c1'")
    assert chain_problems(db) == []  # who holds a call is not evidence


def test_a_floor_nodes_start_aborts_the_live_calls_its_node_holds(db: Database) -> None:
    _open(db, "a-old", P1)  # node-a's previous process, killed before it listed the call
    _open(db, "a-new", P2)  # a call of node-a resumed by its newest process
    _open(db, "b", B1)
    _open(db, "moved", P1)
    _open(db, "moved", B1)  # node-a's call, reconnected to node-b
    _open(db, "unnamed", None)
    with db.session() as s:
        assert repo.abort_live_calls(s, at=T0, node="node-a") == ["a-new", "a-old"]
    status = {c: _row(db, c)[0] for c in ("a-old", "a-new", "b", "moved", "unnamed")}
    live, aborted = CallStatus.LIVE, CallStatus.ABORTED
    assert status == {"a-old": aborted, "a-new": aborted, "b": live, "moved": live, "unnamed": live}
    with db.session() as s:  # a single server's start: every live call
        assert repo.abort_live_calls(s, at=T0) == ["b", "moved", "unnamed"]


def _resume(db: Database) -> None:
    _open(db, "moved", B1)


def test_an_abort_holds_the_row_that_a_resume_on_another_node_sets_live_again(
    postgres: PostgresDatabases,
) -> None:
    """Without the resume's lock its update ran after the abort on what it had read before it
    (the row already live): the ORM wrote the holder alone and the call stayed aborted."""
    url = postgres.create()
    upgrade_database(url)
    db = Database.open(url)
    try:
        _open(db, "moved", P1)
        resume = threading.Thread(target=_resume, args=(db,))
        with db.session() as s:
            assert repo.abort_call(s, "moved", at=T0, instance="p1") == "aborted"
            resume.start()
            resume.join(1.0)
            assert resume.is_alive()  # waiting for the abort's row lock
        resume.join(10.0)
        assert not resume.is_alive()
        assert _row(db, "moved") == (CallStatus.LIVE, B1)
    finally:
        db.dispose()
        postgres.drop(url)
