"""A call's debt and consent (``call_debts``): stored with the call, given back with the debtor's
call history for the frequency rule, and sealed as evidence of their own (``call_debt``): an edit,
a deletion or a row written behind the application's back is reported by ``db verify`` and by the
export's per-call check. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from agent_monitor.cli import main
from agent_monitor.errors import InvalidRecordError
from agent_monitor.storage import repo
from agent_monitor.storage.call_integrity import call_problems
from agent_monitor.storage.engine import Database
from tests.agent_monitor.storage.evidence_support import behind_the_app, chain_problems

T0 = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)


def _start(db: Database, call_id: str, hours_ago: int, **debt: object) -> None:
    with db.session() as s:
        repo.start_call(
            s,
            call_id,
            "A1",
            source_protocol="ws_ingest",
            started_at=T0 - timedelta(hours=hours_ago),
            debtor_id="d1",
            debtor_tz="America/New_York",
            **debt,  # type: ignore[arg-type]
        )


def test_the_debtor_history_gives_each_call_its_own_debt_and_consent(db: Database) -> None:
    _start(db, "plain", 5)  # stored without either: its debt is the debtor id's, not consented
    _start(db, "other-debt", 4, debt_id="L-2")
    _start(db, "callback", 3, consented=True)
    _start(db, "callback-l1", 2, debt_id="L-1", consented=True)
    _start(db, "now", 0, debt_id="L-1")
    with db.session() as s:
        history = repo.debtor_calls_since(s, "d1", T0 - timedelta(days=1), besides="now")
        assert [(r.call.id, r.debt_id, r.consented, r.conversation) for r in history] == [
            ("plain", "d1", False, False),
            ("other-debt", "L-2", False, False),
            ("callback", "d1", True, False),
            ("callback-l1", "L-1", True, False),
        ]
        rows = s.execute(text("SELECT call_id FROM call_debts ORDER BY call_id")).scalars().all()
    assert list(rows) == ["callback", "callback-l1", "now", "other-debt"]  # none for "plain"
    assert chain_problems(db) == []


def test_the_calls_about_a_debt_are_found_without_a_debtor_id(db: Database) -> None:
    """A start message may name the debt and not the debtor: its history is the calls about the debt."""
    _start(db, "with-debtor", 5, debt_id="L-1")
    with db.session() as s:
        for call_id, hours, zone in (("no-debtor", 4, "America/Chicago"), ("other", 3, None)):
            repo.start_call(
                s, call_id, "A1", source_protocol="ws_ingest", started_at=T0 - timedelta(hours=hours),
                debtor_tz=zone, debt_id="L-1" if call_id == "no-debtor" else "L-2",
            )  # fmt: skip
    with db.session() as s:
        history = repo.debtor_calls_since(s, None, T0 - timedelta(days=1), besides="x", debt_id="L-1")
        assert [(r.call.id, r.debt_id) for r in history] == [("with-debtor", "L-1"), ("no-debtor", "L-1")]
        zones = repo.debtor_time_zones(s, None, besides="x", debt_id="L-1")
        assert zones == ["America/Chicago", "America/New_York"]
        # with a debtor id the history is the debtor's, whatever debt_id says (as before)
        assert [r.call.id for r in repo.debtor_calls_since(s, "d1", T0 - timedelta(days=1), besides="x")] == [
            "with-debtor"
        ]


def test_a_resumed_call_keeps_the_debt_it_started_with(db: Database) -> None:
    _start(db, "c1", 1, debt_id="L-1")
    with db.session() as s:
        repo.start_call(
            s, "c1", "A1", source_protocol="ws_ingest", resume=True, debt_id="L-2", consented=True
        )
    with db.session() as s:
        [row] = repo.debtor_calls_since(s, "d1", T0 - timedelta(days=1), besides="x")
        assert (row.debt_id, row.consented) == ("L-1", False)


def test_consent_must_be_a_bool(db: Database) -> None:
    with db.session() as s, pytest.raises(InvalidRecordError, match="consented must be true or false"):
        repo.start_call(s, "c1", "A1", source_protocol="ws_ingest", consented="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ("UPDATE call_debts SET debt_id = 'L-9'", "call_debts: row 1 was changed after it was written"),
        ("UPDATE call_debts SET debt_id = NULL", "call_debts: row 1 was changed after it was written"),
        ("UPDATE call_debts SET consented = NOT consented", "call_debts: row 1 was changed"),
        ("DELETE FROM call_debts", "call_debts: row 1 is in the evidence log but missing (deleted)"),
        (
            "INSERT INTO call_debts (id, call_id, debt_id, consented) VALUES (2, 'c2', 'L-3', true)",
            "call_debts: row 2 is not in the evidence log (written behind the application's back)",
        ),
    ],
)
def test_the_debt_and_consent_are_evidence(
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
    _start(db, "c1", 1, debt_id="L-1", consented=True)
    _start(db, "c2", 2)
    assert main(["db", "verify"]) == 0
    capsys.readouterr()
    behind_the_app(db, statement)
    assert main(["db", "verify"]) == 1
    out = capsys.readouterr().out
    assert expected in out, out
    call_id = "c2" if statement.startswith("INSERT") else "c1"
    with db.session() as s:  # the evidence export's check of one call finds it too
        assert any(expected in p for p in call_problems(s, call_id)), call_problems(s, call_id)
