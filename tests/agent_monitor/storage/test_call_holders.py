"""A live call names the process that holds it (``call_holders``, revision 0018: its node and
instance): a dead process's call is marked aborted only while it still names that process (or
none: stored before 0018), so a call another process resumed goes on; a floor node's start marks
aborted the live calls its node holds (its previous process's) and no other node's; the holder is
not evidence. On PostgreSQL (a floor) an abort holds the row until it commits, and a resume
meanwhile waits, then sets the call live again. A call live on a node whose presence is current
is not taken over by another node, and a process ends a call only while it holds it (a call
resumed elsewhere meanwhile goes on). On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from agent_monitor.errors import ConflictError
from agent_monitor.model.session import Holder
from agent_monitor.pipeline import records
from agent_monitor.pipeline.records import Write
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


def _resume_on(db: Database, call_id: str, holder: Holder, present: set[str]) -> str:
    """Resume as a floor node's opening does (``present``: the nodes whose presence is current);
    "live" or the refusal's message."""
    with db.session() as s:
        try:
            repo.start_call(
                s, call_id, "A1", source_protocol="ws_ingest", resume=True, holder=holder, present=present
            )
        except ConflictError as exc:
            return str(exc)
    return "live"


def test_a_call_live_on_a_running_node_is_not_taken_over(db: Database) -> None:
    _open(db, "c1", P1)
    refused = "call 'c1' is live on node 'node-a': it can go on here once that node has ended it"
    assert _resume_on(db, "c1", B1, {"node-a", "node-b"}).startswith(refused)
    assert _row(db, "c1") == (CallStatus.LIVE, P1)  # the holder and the row as they were
    with db.session() as s:
        assert repo.held_elsewhere(s, "c1", "node-b", {"node-a"}) == "node-a"
        assert repo.held_elsewhere(s, "c1", "node-a", {"node-a"}) is None  # its own node
    assert _resume_on(db, "c1", P2, {"node-a", "node-b"}) == "live"  # node-a's next process
    assert _row(db, "c1") == (CallStatus.LIVE, P2)
    assert _resume_on(db, "c1", B1, {"node-b"}) == "live"  # node-a has left the floor: taken over
    assert _row(db, "c1") == (CallStatus.LIVE, B1)
    _open(db, "done", P1)
    with db.session() as s:
        repo.end_call(s, "done", ended_at=T0, instance="p1")
    assert _resume_on(db, "done", B1, {"node-a", "node-b"}) == "live"  # ended: resumed anywhere
    _open(db, "old", None)  # no holder named (stored before revision 0018): nothing to refuse
    assert _resume_on(db, "old", B1, {"node-a"}) == "live"


def _end(db: Database, call_id: str, instance: str) -> CallStatus:
    with db.session() as s:
        return repo.end_call(s, call_id, ended_at=T0, status=CallStatus.ABORTED, instance=instance).status


def test_a_process_ends_a_call_only_while_it_holds_it(db: Database) -> None:
    _open(db, "c1", P1)
    _open(db, "c1", B1)  # resumed on node-b while node-a's process was still stopping it
    assert _end(db, "c1", "p1") is CallStatus.LIVE and _row(db, "c1") == (CallStatus.LIVE, B1)
    assert _end(db, "c1", "b1") is CallStatus.ABORTED
    _open(db, "old", None)
    assert _end(db, "old", "p1") is CallStatus.ABORTED  # no holder named: ended
    _open(db, "c2", P1)
    with db.session() as s:  # a journal written before the holder was kept: no instance, ended
        records.run_write(s, Write("end_call", {"call_id": "c2", "status": CallStatus.ENDED, "at": T0}))
    assert _row(db, "c2") == (CallStatus.ENDED, P1)


def test_a_new_call_opened_by_two_nodes_at_once_is_refused_to_the_second(
    postgres: PostgresDatabases,
) -> None:
    """Two nodes opening one new call at once (an AudioSocket call's legs sent to two nodes): the
    second's insert waits for the first's commit, then is refused, naming the cause (it was the
    database's own unique violation)."""
    url = postgres.create()
    upgrade_database(url)
    db = Database.open(url)
    second: list[str] = []
    opening = threading.Thread(target=lambda: second.append(_resume_on(db, "new", B1, {"node-a", "node-b"})))
    try:
        with db.session() as s:
            repo.start_call(s, "new", "A1", source_protocol="ws_ingest", resume=True, holder=P1)
            opening.start()
            opening.join(1.0)
            assert opening.is_alive()  # waiting for this opening's commit
        opening.join(10.0)
        assert second == ["call 'new' was opened by another process at the same moment"]
        assert _row(db, "new") == (CallStatus.LIVE, P1)
    finally:
        db.dispose()
        postgres.drop(url)
