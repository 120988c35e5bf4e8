"""Alerts, alert events and the audit log are tamper-evident hash chains."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from agent_monitor.cli import main
from agent_monitor.model.levels import WarningLevel
from agent_monitor.storage import repo
from agent_monitor.storage.chain import Anchor, chain_anchors
from agent_monitor.storage.engine import Database
from agent_monitor.storage.integrity import verify_chains
from agent_monitor.storage.migrate import head_revision

T0 = datetime(2025, 5, 6, 7, 8, 9, 101112, tzinfo=UTC)


def _evidence(db: Database) -> dict[str, int]:
    """A call with two alerts (one handed off and taken over) and five audit records."""
    with db.session() as s:
        repo.start_call(s, "c1", "A1", source_protocol="ws_ingest", started_at=T0)
        yellow = repo.raise_alert(
            s, "c1", WarningLevel.YELLOW, [{"rule_id": "r0", "score": 0.1}], raised_at_s=1.5
        )
        red = repo.raise_alert(
            s, "c1", WarningLevel.RED, [{"rule_id": "r1"}, {"stress": 88.25}], raised_at_s=7.0, handoff=True
        )
        ids = {"yellow": yellow.id, "red": red.id}
    with db.session() as s:
        repo.take_over(s, ids["red"], "sup1")
        repo.resolve_alert(s, ids["yellow"], "sup1", note="handled")
    with db.session() as s:
        for i, action in enumerate(["login", "replay", "download", "export", "login"]):
            repo.record_audit(
                s, f"user{i % 2}", action, object_id="c1", detail={"n": i}, at=T0 + timedelta(seconds=i)
            )
    return ids


def _problems(db: Database, anchors: dict[str, Anchor] | None = None) -> list[str]:
    with db.session() as s:
        return [p for r in verify_chains(s, anchors) for p in r.problems]


def _sql(db: Database, statement: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(statement))


def test_intact_chains_verify(db: Database) -> None:
    assert _problems(db) == []  # empty chains
    _evidence(db)
    with db.session() as s:
        reports = {r.name: r for r in verify_chains(s)}
        anchors = chain_anchors(s)
    assert {n: r.rows for n, r in reports.items()} == {
        "alerts": 2,
        "alert_events": 4,  # red: handoff_requested, acknowledged, taken_over; yellow: resolved
        "audit_log": 5,
        "evidence_log": 1,  # the call row, sealed once per transaction that changed it
        "qa_review_seals": 0,  # no review finished
        "alert_states": 2,
    }
    assert all(r.ok for r in reports.values()), reports
    assert anchors["audit_log"].seq == 5 and anchors["audit_log"].hash == reports["audit_log"].head_hash
    assert _problems(db, anchors) == []


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE alerts SET level = 'yellow' WHERE id = 2", "alerts: row 2 was changed"),
        ("UPDATE alerts SET raised_at_s = 6.5 WHERE id = 2", "alerts: row 2 was changed"),
        ("UPDATE audit_log SET actor = 'someone' WHERE id = 3", "audit_log: row 3 was changed"),
        ("UPDATE audit_log SET detail = '{\"n\": 99}' WHERE id = 2", "audit_log: row 2 was changed"),
        ("UPDATE alert_events SET actor = 'sup2' WHERE id = 3", "alert_events: row 3 was changed"),
        ("DELETE FROM audit_log WHERE id = 3", "audit_log: rows 3..3 are missing"),
        ("DELETE FROM audit_log WHERE id = 5", "audit_log: chain head is at row 5"),
        ("DELETE FROM alert_events WHERE id = 2", "alert_events: rows 2..2 are missing"),
        ("UPDATE audit_log SET row_hash = prev_hash WHERE id = 1", "audit_log: row 1 was changed"),
        ("UPDATE alerts SET state = 'raised' WHERE id = 1", "alerts: row 1: state is"),
        ("UPDATE alerts SET acknowledged_by = 'boss' WHERE id = 2", "alerts: row 2: acknowledged_by"),
        ("UPDATE handoffs SET taken_over_by = NULL", "handoffs: row 1: taken_over_by"),
        ("DELETE FROM handoffs", "handoff of alert 2 is missing"),
    ],
)
def test_any_edit_or_deletion_is_detected(db: Database, statement: str, expected: str) -> None:
    _evidence(db)
    assert _problems(db) == []
    _sql(db, statement)
    problems = _problems(db)
    assert any(expected in p for p in problems), problems


def test_rewritten_hash_breaks_the_next_link(db: Database) -> None:
    _evidence(db)
    # an attacker edits row 2 and recomputes its hash: row 3 no longer links to it
    from agent_monitor.storage.chain import row_digest
    from agent_monitor.storage.tables import AuditEntry

    with db.session() as s:
        row = s.get(AuditEntry, 2)
        assert row is not None
        row.actor = "nobody"
        row.row_hash = row_digest("audit_log", {k: getattr(row, k) for k in AuditEntry.HASHED})
    problems = _problems(db)
    assert problems == ["audit_log: row 3 does not link to the row before it"]


def test_truncated_tail_with_edited_head_needs_anchors(db: Database) -> None:
    _evidence(db)
    with db.session() as s:
        anchors = chain_anchors(s)
    _sql(db, "DELETE FROM audit_log WHERE id = 5")
    with db.engine.begin() as conn:
        head = conn.execute(text("SELECT row_hash FROM audit_log WHERE id = 4")).scalar_one()
        conn.execute(
            text("UPDATE chain_heads SET seq = 4, head_hash = :h WHERE name = 'audit_log'"), {"h": head}
        )
    assert _problems(db) == []  # consistent inside the database ...
    problems = _problems(db, anchors)  # ... but not with the heads kept outside
    assert problems == ["audit_log: anchored row 5 is gone (chain truncated)"]


def test_concurrent_appends_keep_one_unbroken_chain(db: Database) -> None:
    with db.session() as s:
        repo.start_call(s, "c1", "A1", source_protocol="ws_ingest")
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(15):
                with db.session() as s:
                    repo.record_audit(s, f"w{n}", "replay", object_id=str(i))
                with db.session() as s:
                    repo.raise_alert(s, "c1", WarningLevel.YELLOW, [{"w": n, "i": i}], raised_at_s=float(i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        reports = {r.name: r for r in verify_chains(s)}
    assert reports["audit_log"].rows == 60 and reports["alerts"].rows == 60
    assert all(r.ok for r in reports.values()), reports


def test_cli_upgrade_and_verify(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", db_url)
    assert main(["db", "upgrade"]) == 0
    assert f"schema revision {head_revision()}" in capsys.readouterr().out
    assert main(["db", "status"]) == 0
    assert "up to date" in capsys.readouterr().out
    db = Database.open(db_url)
    try:
        _evidence(db)
        anchors = tmp_path / "anchors.json"
        assert main(["db", "verify", "--write-anchors", str(anchors)]) == 0
        out = capsys.readouterr().out
        assert "audit_log: 5 rows" in out and "ok" in out
        assert json.loads(anchors.read_text())["audit_log"]["seq"] == 5
        _sql(db, "UPDATE audit_log SET action = 'login' WHERE id = 4")
        assert main(["db", "verify", "--anchors", str(anchors)]) == 1
        captured = capsys.readouterr()
        assert "audit_log: row 4 was changed after it was written" in captured.out
        assert captured.err.startswith("agent-monitor: error: 1 problem(s) found")
        for junk in (
            "{not json",
            '{"audit_log": {"seq": 1e400, "hash": "x"}}',
            '{"audit_log": {"seq": -3, "hash": "x"}}',
        ):
            anchors.write_text(junk)  # an infinite seq was a traceback, a negative one was taken
            assert main(["db", "verify", "--anchors", str(anchors)]) == 1
            assert "not an anchors file" in capsys.readouterr().err
        anchors.write_bytes(b"\xff\xfe")
        assert main(["db", "verify", "--anchors", str(anchors)]) == 1
        assert "not an anchors file" in capsys.readouterr().err
    finally:
        db.dispose()
