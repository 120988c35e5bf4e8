"""Management reports aggregated in SQL, on SQLite and PostgreSQL, against counts written out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text

from agent_monitor.errors import InvalidRecordError
from agent_monitor.model.rules import RuleHit, Severity
from agent_monitor.model.scorecard import ScorecardForm
from agent_monitor.storage import Database, WarningLevel, repo
from agent_monitor.storage.enums import HitStatus
from agent_monitor.storage.migrate import alembic_config, upgrade_database
from agent_monitor.storage.reports import build_report, suggest

DAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


FIVE_POINT = ScorecardForm.parse(
    {
        "name": "five-point",
        "title": "Five-point card",
        "items": [
            {"key": "greeting", "en": "Greeting", "zh": "问候", "max": 5},
            {"key": "respect", "en": "Respect", "zh": "尊重", "max": 5, "weight": 3.0},
        ],
    }
)


def _hit(rule: str, category: str = "abuse", severity: Severity = Severity.RED) -> RuleHit:
    return RuleHit(rule, rule, category, severity, None, None, "call-x", "why", "cite")


def _fill(db: Database) -> list[int]:
    """Agents A (team T1, 3 calls in the period, 1 before it), B (team T2, 1 call)."""
    alert_ids: list[int] = []
    with db.session() as s:
        repo.ensure_agent(s, "A", team="T1")
        repo.ensure_agent(s, "B", team="T2")
        calls = [("a1", "A", 0), ("a2", "A", 1), ("a3", "A", 2), ("old", "A", -5), ("b1", "B", 0)]
        for call_id, agent, day in calls:
            repo.start_call(s, call_id, agent, source_protocol="file", started_at=DAY + timedelta(days=day))
        # a1: red alert (hand-off acknowledged after 90 s) from rule insult + stress combo naming it too
        reasons = [{"kind": "rule", "rule": "insult"}, {"kind": "combo", "rule": "insult"}]
        red = repo.raise_alert(
            s, "a1", WarningLevel.RED, reasons, raised_at_s=5.0, raised_at=DAY, handoff=True
        )
        repo.acknowledge_alert(s, red.id, "sup", at=DAY + timedelta(seconds=90))
        yellow = repo.raise_alert(
            s, "a2", WarningLevel.YELLOW, [{"kind": "rule", "rule": "threat"}], raised_at_s=3.0
        )
        unacked = repo.raise_alert(
            s, "b1", WarningLevel.RED, [{"kind": "stress"}], raised_at_s=1.0, raised_at=DAY, handoff=True
        )
        repo.raise_alert(s, "old", WarningLevel.RED, [{"kind": "rule", "rule": "insult"}], raised_at_s=1.0)
        alert_ids += [red.id, yellow.id, unacked.id]
        repo.save_rule_hit(s, "a1", _hit("insult"), status=HitStatus.CONFIRMED)
        repo.save_rule_hit(s, "a2", _hit("threat", severity=Severity.ORANGE))
        repo.save_rule_hit(s, "a2", _hit("insult"), status=HitStatus.WITHDRAWN)
        repo.save_rule_hit(s, "a3", _hit("US-FREQ-1", "call_frequency", Severity.ORANGE))
        repo.save_rule_hit(s, "old", _hit("insult"))
        repo.save_form(s, FIVE_POINT, "admin")  # the reviews below are scored on it
        repo.save_review(
            s,
            "a1",
            "qa1",
            scorecard={"greeting": 5, "respect": 2},  # (1 * 5/5 + 3 * 2/5) / 4 = 55 %
            verdicts={red.id: "confirmed"},
            done=True,
        )
        # a draft: its verdict counts, its score does not
        repo.save_review(s, "a1", "qa2", scorecard={"greeting": 1}, verdicts={red.id: "false_alarm"})
        repo.save_review(
            s,
            "a2",
            "qa1",
            scorecard={"greeting": 4, "respect": 5},  # (0.8 + 3) / 4 = 95 %
            verdicts={yellow.id: "false_alarm"},
            done=True,
        )
        # finished, then saved as a draft again: no longer counted
        repo.save_review(s, "a3", "qa1", scorecard={"greeting": 0, "respect": 0}, done=True)
        repo.save_review(s, "a3", "qa1", scorecard={"greeting": 0, "respect": None})
    return alert_ids


def test_report_counts_per_agent_team_and_rule(db: Database) -> None:
    _fill(db)
    with db.session() as s:
        report = build_report(s, DAY - timedelta(hours=1), DAY + timedelta(days=7))
    a, b = report.agents
    assert (a.key, a.team, a.calls, b.key, b.calls) == ("A", "T1", 3, "B", 1)
    assert dict(a.alerts) == {"red": 1, "yellow": 1} and dict(b.alerts) == {"red": 1}
    assert a.per_100(a.alerts["red"]) == pytest.approx(100 / 3)
    assert (a.reg_f, a.hits, b.reg_f) == (1, 3, 0)  # the withdrawn hit and the older call left out
    assert (a.handoffs, a.acknowledged, b.handoffs, b.acknowledged) == (1, 1, 1, 0)
    assert a.ack_mean_s == pytest.approx(90.0, abs=0.01) and a.ack_max_s == pytest.approx(90.0, abs=0.01)
    assert b.ack_mean_s is None
    # the stored scores of the finished reviews, weighted on their form: (55 + 95) / 2
    assert (a.reviews, a.qa_scored) == (2, 2) and a.qa_score == pytest.approx(75.0)
    assert (b.reviews, b.qa_score) == (0, None)
    assert report.teams[0].qa_score == pytest.approx(75.0) and report.teams[1].qa_score is None
    assert [t.key for t in report.teams] == ["T1", "T2"] and report.teams[0].calls == 3
    rules = {r.rule_id: r for r in report.rules}
    assert dict(rules["insult"].hits) == {"red": 1}
    assert (rules["insult"].confirmed, rules["insult"].false_alarm) == (
        1,
        1,
    )  # the combo is not counted twice
    assert (rules["threat"].confirmed, rules["threat"].false_alarm, rules["threat"].precision) == (0, 1, 0.0)
    assert rules["US-FREQ-1"].category == "call_frequency" and rules["US-FREQ-1"].verdicts == 0


def test_report_of_one_team_and_an_empty_period(db: Database) -> None:
    _fill(db)
    with db.session() as s:
        t2 = build_report(s, DAY - timedelta(hours=1), DAY + timedelta(days=7), team="T2")
        empty = build_report(s, DAY + timedelta(days=30), DAY + timedelta(days=31))
        with pytest.raises(InvalidRecordError):
            build_report(s, DAY, DAY)
    assert [a.key for a in t2.agents] == ["B"] and not any(r.rule_id == "insult" for r in t2.rules)
    assert empty.agents == () and empty.rules == () and empty.calls == 0


def test_suggestions_follow_precision() -> None:
    assert suggest("r", 1, 1).startswith("too few verdicts")
    assert suggest("r", 10, 0).startswith("keep")
    assert suggest("r", 7, 3).startswith("raise its threshold")
    assert suggest("r", 1, 9).startswith("fix rule r")


OLD_REVIEW = (
    "INSERT INTO qa_reviews (call_id, reviewer, scorecard, notes, score, created_at, updated_at)"
    " VALUES (:c, :r, '{}', '', :score, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
)
OLD_QUEUE = (
    "INSERT INTO qa_queue (call_id, level, reason, queued_at, updated_at, state, assigned_to)"
    " VALUES (:c, 'red', 'test', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, :state, 'qa1')"
)


def test_migration_0008_finishes_the_reviews_of_done_entries(empty_db_url: str) -> None:
    db = Database.open(empty_db_url)
    try:
        with db.engine.begin() as conn:  # alembic alone: the ORM already has the columns of 0008
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0007")
        with db.session() as s:
            repo.ensure_agent(s, "A", team="T1")
            for call_id in ("done", "open"):
                repo.start_call(s, call_id, "A", source_protocol="file", started_at=DAY)
        with db.engine.begin() as conn:
            for call_id, state in (("done", "done"), ("open", "in_review")):
                conn.execute(text(OLD_QUEUE), {"c": call_id, "state": state})
            for call_id, reviewer, score in (
                ("done", "qa1", 80.0),
                ("done", "qa2", 10.0),
                ("open", "qa1", 20.0),
            ):
                conn.execute(text(OLD_REVIEW), {"c": call_id, "r": reviewer, "score": score})
        upgrade_database(empty_db_url)
        with db.session() as s:
            (a,) = build_report(s, DAY - timedelta(hours=1), DAY + timedelta(days=1)).agents
        assert (a.reviews, a.qa_score) == (1, pytest.approx(80.0))  # only qa1's review of "done"
    finally:
        db.dispose()
