"""Issue #15 item 12: transcripts, rule hits, a call's level and a recording's checksum are under
the hash chain, and a truncated chain tail is caught from the anchors the server writes itself."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from agent_monitor.cli import main
from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import RuleHit, Severity
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.storage import repo
from agent_monitor.storage.anchors import AnchorWriter, anchor_path, read_latest_anchors
from agent_monitor.storage.engine import Database
from agent_monitor.storage.enums import HitStatus
from agent_monitor.storage.evidence import verify_all
from agent_monitor.storage.migrate import head_revision, upgrade_database
from agent_monitor.storage.recordings import RecordingWriter, recording_path
from tests.agent_monitor.storage.evidence_support import behind_the_app, chain_problems

T0 = datetime(2025, 5, 6, 7, 8, 9, 101112, tzinfo=UTC)


def _transcript(no: int, text_: str, final: bool = True) -> Transcript:
    words = tuple(Word(w, 1.0 + i * 0.3, 1.25 + i * 0.3, 0.9) for i, w in enumerate(text_.split()))
    return Transcript(Leg.AGENT, no, 1.0, 1.0 + 0.3 * len(words), text_, final, words)


def _hit() -> RuleHit:
    return RuleHit(
        rule="EN-ABUSE-1",
        title="Abusive language",
        category="abuse",
        severity=Severity.ORANGE,
        leg=Leg.AGENT,
        utterance=0,
        span=(10, 16),
        evidence="stupid",
        reason="insult",
        citation="FDCPA 806(2)",
        start=1.3,
        end=1.55,
    )


def _call(db: Database, media_dir: Path) -> None:
    """A call as the live pipeline writes it, in several transactions, its agent leg recorded to a
    real file under ``media_dir``."""
    path = recording_path(media_dir, "c1", Leg.AGENT)
    with db.session() as s:
        repo.start_call(s, "c1", "A1", source_protocol="ws_ingest", started_at=T0)
        repo.register_recording(s, "c1", Leg.AGENT, str(path), 8000, started_at=T0)
    with db.session() as s:
        repo.save_utterance(s, "c1", _transcript(0, "you are so", final=False))
    with db.session() as s:
        repo.save_utterance(s, "c1", _transcript(0, "you are so stupid"))
        hit = repo.save_rule_hit(s, "c1", _hit(), status=HitStatus.PROVISIONAL)
    with db.session() as s:
        repo.set_rule_hit_status(s, hit.id, HitStatus.CONFIRMED)
        repo.raise_alert(
            s, "c1", WarningLevel.ORANGE, [{"rule_id": "EN-ABUSE-1"}], raised_at_s=1.6, raised_at=T0
        )
    with db.session() as s:
        repo.update_recording_progress(s, "c1", Leg.AGENT, bytes_written=1600, samples_written=800)
        writer = RecordingWriter(path, 8000)
        writer.write(bytes(range(256)) * 12 + bytes(128))
        info = writer.close()
        repo.close_recording(
            s, "c1", Leg.AGENT, bytes_written=3200, samples_written=1600, sha256=info.sha256, closed_at=T0
        )
        repo.end_call(s, "c1", ended_at=T0)


def test_the_live_writes_verify_clean(db: Database, tmp_path: Path) -> None:
    _call(db, tmp_path)
    assert chain_problems(db) == []
    with db.session() as s:
        evidence = {r.name: r.rows for r in verify_all(s)}
    assert evidence["evidence_rows"] == 4  # call, recording, utterance, hit


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE utterances SET text = 'you are so nice'", "utterances: row 1 was changed"),
        ("UPDATE words SET text = 'nice' WHERE idx = 3", "utterances: row 1 was changed"),
        ("DELETE FROM words WHERE idx = 3", "utterances: row 1 was changed"),
        ("UPDATE rule_hits SET evidence = 'so'", "rule_hits: row 1 was changed"),
        ("UPDATE rule_hits SET status = 'withdrawn'", "rule_hits: row 1 was changed"),
        ("UPDATE calls SET final_level = 'none'", "calls: row c1 was changed"),
        ("UPDATE calls SET high_sensitivity = true", "calls: row c1 was changed"),
        ("UPDATE recordings SET sha256 = '" + "cd" * 32 + "'", "recordings: row 1 was changed"),
        ("UPDATE recordings SET path = 'elsewhere.wav'", "recordings: row 1 was changed"),
        ("DELETE FROM rule_hits", "rule_hits: row 1 is in the evidence log but missing"),
        (
            "INSERT INTO utterances (call_id, leg, utterance_no, start_s, end_s, text, final, lang,"
            " updated_at) VALUES ('c1', 'debtor', 0, 0.5, 0.9, 'planted', true, 'en', '2025-01-01')",
            "utterances: row 2 is not in the evidence log",
        ),
        (
            "UPDATE evidence_log SET digest = '" + "0" * 64 + "' WHERE id = 1",
            "evidence_log: row 1 was changed",
        ),
    ],
)
def test_db_verify_catches_edited_evidence(
    db: Database,
    db_url: str,
    statement: str,
    expected: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path))
    _call(db, tmp_path)
    assert main(["db", "verify"]) == 0
    capsys.readouterr()
    behind_the_app(db, statement)
    assert main(["db", "verify"]) == 1
    out = capsys.readouterr().out
    assert expected in out, out


def test_truncated_audit_tail_is_caught_from_the_servers_own_anchors(
    db: Database,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AGENT_MONITOR_DATABASE_URL", db_url)
    monkeypatch.setenv("AGENT_MONITOR_DATA_DIR", str(tmp_path))
    with db.session() as s:
        repo.start_call(s, "c1", "A1", source_protocol="ws_ingest", started_at=T0)
        for i in range(5):
            repo.record_audit(s, "qa1", "replay", object_id=f"c1/{i}", at=T0)
    writer = AnchorWriter(db, anchor_path(tmp_path), every_s=300.0)
    assert writer.save_now() is True
    assert writer.save_now() is False  # nothing moved: no new line
    assert read_latest_anchors(anchor_path(tmp_path))["audit_log"].seq == 5
    # the tail is cut and the head moved back: consistent inside the database
    behind_the_app(db, "DELETE FROM audit_log WHERE id >= 4")
    with db.engine.begin() as conn:
        head = conn.execute(text("SELECT row_hash FROM audit_log WHERE id = 3")).scalar_one()
        conn.execute(
            text("UPDATE chain_heads SET seq = 3, head_hash = :h WHERE name = 'audit_log'"), {"h": head}
        )
    assert chain_problems(db) == []
    assert main(["db", "verify"]) == 1  # no --anchors: the server's anchor file is used
    out = capsys.readouterr().out
    assert "audit_log: anchored row 5 is gone (chain truncated)" in out


def test_a_torn_last_anchor_line_is_skipped(tmp_path: Path) -> None:
    path = anchor_path(tmp_path)
    good = '{"at":"2025-01-01T00:00:00+00:00","heads":{"audit_log":{"seq":2,"hash":"' + "a" * 64 + '"}}}'
    path.write_text(good + '\n{"at": "20')
    assert read_latest_anchors(path)["audit_log"].seq == 2


def test_rows_from_before_the_evidence_chain_are_sealed_once_at_upgrade(empty_db_url: str) -> None:
    upgrade_database(empty_db_url, "0001")
    db = Database.open(empty_db_url)
    try:
        behind_the_app(
            db, "INSERT INTO agents (id, name, created_at) VALUES ('A1', 'A1', '2025-01-01 00:00:00+00')"
        )
        behind_the_app(
            db,
            "INSERT INTO calls (id, agent_id, source_protocol, started_at, status, final_level,"
            " high_sensitivity, lang) VALUES ('old', 'A1', 'file', '2025-01-01 00:00:00+00', 'ended',"
            " 'orange', false, 'en')",
        )
        behind_the_app(
            db,
            "INSERT INTO utterances (call_id, leg, utterance_no, start_s, end_s, text, final, lang,"
            " updated_at) VALUES ('old', 'agent', 0, 0.5, 0.9, 'hello', true, 'en',"
            " '2025-01-01 00:00:00+00')",
        )
        assert upgrade_database(empty_db_url) == head_revision()
        assert chain_problems(db) == []
        with db.session() as s:
            assert {r.name: r.rows for r in verify_all(s)}["evidence_log"] == 2
        behind_the_app(db, "UPDATE calls SET final_level = 'none'")
        assert any("calls: row old was changed" in p for p in chain_problems(db))
        assert upgrade_database(empty_db_url) == head_revision()  # sealing happens once, not again
        assert any("calls: row old was changed" in p for p in chain_problems(db))
    finally:
        db.dispose()
