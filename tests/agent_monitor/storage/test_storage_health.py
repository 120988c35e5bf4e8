"""Signal-health rows on SQLite and PostgreSQL: stored, read back in call-clock order, refused
when they make no sense; migration 0009 lets the ``unclear`` issue in (and takes it out again)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from agent_monitor.errors import InvalidRecordError, NotFoundError
from agent_monitor.model.audio import Leg
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.storage import Database, repo
from agent_monitor.storage.migrate import alembic_config, head_revision, upgrade_database

STARTED = datetime(2025, 3, 3, 15, 0, tzinfo=UTC)


def test_health_events_come_back_in_call_clock_order(db: Database) -> None:
    silent = LegHealth(Leg.DEBTOR, HealthIssue.SILENT, True, "debtor leg silent for 45 s", {"silent_s": 45.0})
    clipping = LegHealth(
        Leg.AGENT,
        HealthIssue.CLIPPING,
        True,
        "agent leg clipping (1.8% of samples at full scale)",
        {"clip_share": 0.018, "speech_dbfs": -15.8},
    )
    audible = LegHealth(
        Leg.DEBTOR, HealthIssue.SILENT, False, "debtor leg audible again after 52 s", {"silent_s": 52.0}
    )
    with db.session() as s:
        repo.start_call(s, "c-h", "a-1", source_protocol="test", started_at=STARTED)
        repo.start_call(s, "c-other", "a-1", source_protocol="test", started_at=STARTED)
        repo.save_signal_health(s, "c-h", 97.0, audible)
        repo.save_signal_health(s, "c-h", 45.0, silent)
        repo.save_signal_health(s, "c-h", 12.5, clipping)
        repo.save_signal_health(s, "c-other", 1.0, clipping)
    with db.session() as s:
        rows = repo.list_signal_health(s, "c-h")
        assert [(r.t_s, repo.to_leg_health(r)) for r in rows] == [
            (12.5, clipping),
            (45.0, silent),
            (97.0, audible),
        ]
        assert [repo.to_leg_health(r) for r in repo.list_signal_health(s, "c-h", leg=Leg.DEBTOR)] == [
            silent,
            audible,
        ]
        assert rows[0].issue is HealthIssue.CLIPPING and rows[0].leg is Leg.AGENT and rows[0].active is True


def test_nonsense_health_rows_are_refused(db: Database) -> None:
    event = LegHealth(Leg.AGENT, HealthIssue.LOW_LEVEL, True, "agent leg very quiet", {"speech_dbfs": -60.0})
    with db.session() as s:
        repo.start_call(s, "c-bad", "a-1", source_protocol="test", started_at=STARTED)
    with db.session() as s, pytest.raises(NotFoundError):
        repo.save_signal_health(s, "no-such-call", 1.0, event)
    with db.session() as s, pytest.raises(InvalidRecordError, match="call time"):
        repo.save_signal_health(s, "c-bad", -1.0, event)
    with db.session() as s, pytest.raises(InvalidRecordError, match="finite"):
        repo.save_signal_health(
            s, "c-bad", 1.0, LegHealth(Leg.AGENT, HealthIssue.NOISY, True, "x", {"snr": float("nan")})
        )
    with db.session() as s:
        assert repo.list_signal_health(s, "c-bad") == []


UNCLEAR_ROW = (
    "INSERT INTO signal_health (call_id, leg, issue, active, t_s, message, figures)"
    " VALUES ('c-u', 'debtor', 'unclear', true, 61.5, 'debtor leg hard to make out', '{}')"
)


def _migrate(db: Database, step: str, revision: str) -> None:
    with db.engine.begin() as conn:  # alembic alone, as `agent-monitor db upgrade` runs it
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        getattr(command, step)(cfg, revision)


def test_migration_0009_admits_unclear_legs_and_downgrade_takes_them_out(empty_db_url: str) -> None:
    db = Database.open(empty_db_url)
    try:
        _migrate(db, "upgrade", "0008")
        with db.session() as s:
            repo.start_call(s, "c-u", "a-1", source_protocol="test", started_at=STARTED)
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text(UNCLEAR_ROW))  # the older schema has no such issue
        assert upgrade_database(empty_db_url) == head_revision()
        unclear = LegHealth(
            Leg.DEBTOR, HealthIssue.UNCLEAR, True, "debtor leg hard to make out", {"word_conf": 0.74}
        )
        with db.session() as s:
            repo.save_signal_health(s, "c-u", 61.5, unclear)
            repo.save_signal_health(s, "c-u", 70.0, LegHealth(Leg.AGENT, HealthIssue.SILENT, True, "x"))
        with db.session() as s:
            assert [repo.to_leg_health(r) for r in repo.list_signal_health(s, "c-u", leg=Leg.DEBTOR)] == [
                unclear
            ]
        _migrate(db, "downgrade", "0008")
        with db.engine.connect() as conn:
            left = conn.execute(text("SELECT issue FROM signal_health WHERE call_id = 'c-u'")).scalars().all()
        assert left == ["silent"]  # the unclear row went, the rest stayed
        with pytest.raises(IntegrityError), db.engine.begin() as conn:
            conn.execute(text(UNCLEAR_ROW))
    finally:
        db.dispose()
