"""The repository API for alerts (raise, hand off, resolve) and the QA queue and reviews, against
a real database (SQLite and, when configured, PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent_monitor.errors import InvalidRecordError, InvalidTransitionError, NotFoundError, StorageError
from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import RuleHit, Severity
from agent_monitor.model.scorecard import ItemValue
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.enums import AlertState, QaState, Verdict
from tests.agent_monitor.storage.repo_support import T0, start_call


def test_alert_lifecycle_and_handoff(db: Database) -> None:
    start_call(db)
    reasons = [{"rule_id": "en.threat", "hit_id": 1, "stress": 81.5}]
    with db.session() as s:
        yellow = repo.raise_alert(s, "c1", WarningLevel.YELLOW, [{"rule_id": "en.rude"}], raised_at_s=3.5)
        red = repo.raise_alert(
            s, "c1", WarningLevel.RED, reasons, raised_at_s=12.25, raised_at=T0, handoff=True
        )
        red_id, yellow_id = red.id, yellow.id
    with db.session() as s:
        call = repo.get_call(s, "c1")
        assert call.final_level is WarningLevel.RED and call.high_sensitivity
        red = repo.get_alert(s, red_id)
        assert (red.level, red.reasons, red.raised_at_s, red.raised_at) == (
            WarningLevel.RED,
            reasons,
            12.25,
            T0,
        )
        handoff = repo.get_handoff(s, red_id)
        assert handoff is not None and handoff.requested_at == T0 and handoff.acknowledged_at is None
        due = repo.handoffs_due_for_escalation(s, requested_before=T0 + timedelta(seconds=30))
        assert [h.alert_id for h in due] == [red_id]
        assert repo.handoffs_due_for_escalation(s, requested_before=T0) == []
        repo.escalate_handoff(s, red_id, at=T0 + timedelta(seconds=30))
    with db.session() as s:
        assert repo.handoffs_due_for_escalation(s, requested_before=T0 + timedelta(hours=1)) == []
        repo.take_over(s, red_id, "sup", at=T0 + timedelta(seconds=40))
        repo.acknowledge_alert(s, yellow_id, "sup", note="seen")
    with db.session() as s:
        red = repo.get_alert(s, red_id)
        assert (red.state.value, red.acknowledged_by) == ("acknowledged", "sup")
        handoff = repo.get_handoff(s, red_id)
        assert handoff is not None
        assert (handoff.escalated_at, handoff.taken_over_by) == (T0 + timedelta(seconds=30), "sup")
        assert handoff.acknowledged_at == T0 + timedelta(seconds=40)
        assert [e.action.value for e in repo.alert_events(s, red_id)] == [
            "handoff_requested",
            "escalated",
            "acknowledged",
            "taken_over",
        ]
        assert [h.alert_id for h in repo.list_handoffs(s)] == []
        assert [h.alert_id for h in repo.list_handoffs(s, open_only=False)] == [red_id]
        repo.resolve_alert(s, red_id, "sup", at=T0 + timedelta(minutes=2))
    with db.session() as s:
        assert [a.id for a in repo.list_alerts(s, call_id="c1", states=[AlertState.RESOLVED])] == [red_id]
        assert [a.id for a in repo.list_alerts(s, levels=[WarningLevel.YELLOW])] == [yellow_id]
        assert len(repo.list_alerts(s, call_ids=["c1"], since=T0 - timedelta(seconds=1))) == 2
    for step in (
        lambda s: repo.acknowledge_alert(s, yellow_id, "other"),  # already acknowledged
        lambda s: repo.resolve_alert(s, red_id, "sup"),  # already resolved
        lambda s: repo.escalate_handoff(s, yellow_id),  # no handoff
        lambda s: repo.request_handoff(s, red_id),  # resolved
    ):
        with pytest.raises(StorageError, match="cannot record"), db.session() as s:
            step(s)
    with pytest.raises(InvalidRecordError), db.session() as s:
        repo.raise_alert(s, "c1", WarningLevel.NONE, [], raised_at_s=1.0)
    with pytest.raises(NotFoundError), db.session() as s:
        repo.acknowledge_alert(s, 999, "sup")


def test_the_alert_of_a_call_that_ended_is_not_taken_over(db: Database) -> None:
    """Nothing to take over once the call ended (or was aborted): refused, nothing recorded (not
    even the acknowledgement a take-over makes first); acknowledging and resolving stay allowed."""
    start_call(db, "c1")
    with db.session() as s:
        alert_id = repo.raise_alert(s, "c1", WarningLevel.RED, [], raised_at_s=1.0, handoff=True).id
        repo.end_call(s, "c1", ended_at=T0 + timedelta(seconds=30))
    message = "call 'c1' has ended: there is nothing to take over"
    with pytest.raises(InvalidTransitionError, match=message), db.session() as s:
        repo.take_over(s, alert_id, "sup")
    with db.session() as s:
        assert [e.action.value for e in repo.alert_events(s, alert_id)] == ["handoff_requested"]
        assert repo.get_alert(s, alert_id).state is AlertState.RAISED
        repo.acknowledge_alert(s, alert_id, "sup")
        repo.resolve_alert(s, alert_id, "sup")
    with db.session() as s:
        repo.start_call(s, "c1", "A1", source_protocol="ws_ingest", resume=True)  # live again
        alert_id = repo.raise_alert(s, "c1", WarningLevel.RED, [], raised_at_s=40.0, handoff=True).id
        assert repo.abort_call(s, "c1")
    with pytest.raises(InvalidTransitionError, match=message), db.session() as s:
        repo.take_over(s, alert_id, "sup")


def test_qa_queue_and_reviews(db: Database) -> None:
    start_call(db, "c1", "A1")
    with db.session() as s:
        repo.start_call(s, "c2", "A2", source_protocol="file", started_at=T0 + timedelta(days=3))
        a1 = repo.raise_alert(s, "c1", WarningLevel.RED, [{"rule_id": "r1"}], raised_at_s=1.0).id
        a2 = repo.raise_alert(s, "c1", WarningLevel.ORANGE, [{"rule_id": "r2"}], raised_at_s=2.0).id
        a3 = repo.raise_alert(s, "c2", WarningLevel.YELLOW, [], raised_at_s=2.0).id
        hit = RuleHit("r1", "t", "c", Severity.RED, Leg.AGENT, None, "e", "r", "cite", start=0.5, end=1.0)
        repo.save_rule_hit(s, "c1", hit)
        repo.enqueue_for_qa(s, "c1", WarningLevel.ORANGE, "orange alert", at=T0)
        repo.enqueue_for_qa(s, "c1", WarningLevel.RED, "high-sensitivity call")  # same entry, level raised
        repo.enqueue_for_qa(s, "c2", WarningLevel.YELLOW, "finished", at=T0 + timedelta(days=3))
    with db.session() as s:
        item = repo.get_qa_item(s, "c1")
        assert (item.level, item.reason, item.state) == (
            WarningLevel.RED,
            "orange alert; high-sensitivity call",
            QaState.PENDING,
        )
        assert [i.call_id for i in repo.list_qa_queue(s)] == ["c2", "c1"]
        assert [i.call_id for i in repo.list_qa_queue(s, levels=[WarningLevel.RED])] == ["c1"]
        assert [i.call_id for i in repo.list_qa_queue(s, agent_id="A2")] == ["c2"]
        assert [i.call_id for i in repo.list_qa_queue(s, rule_id="r1")] == ["c1"]
        assert [i.call_id for i in repo.list_qa_queue(s, since=T0 + timedelta(days=1))] == ["c2"]
        assert [i.call_id for i in repo.list_qa_queue(s, until=T0 + timedelta(days=1))] == ["c1"]
        repo.assign_qa(s, "c1", "qa1", by="lead1")
        repo.save_review(
            s,
            "c1",
            "qa1",
            scorecard={"identification": 2, "disclosure": 0},
            notes="threat at 1 s",
            verdicts={a1: Verdict.CONFIRMED, a2: Verdict.FALSE_ALARM},
        )
    with db.session() as s:
        assert [i.call_id for i in repo.list_qa_queue(s, states=[QaState.IN_REVIEW])] == ["c1"]
        card: dict[str, ItemValue] = {
            "identification": 2,
            "disclosure": 1,
            "respect": 2,
            "accuracy": 2,
            "resolution": "na",
        }
        review = repo.save_review(s, "c1", "qa1", scorecard=card, verdicts={a2: "confirmed"}, done=True)
        created = review.created_at
    with db.session() as s:
        (review,) = repo.list_reviews(s, "c1")
        assert review.scorecard == card and review.notes == ""
        assert review.created_at == created and review.updated_at >= created
        assert [(v.alert_id, v.verdict) for v in review.verdicts] == [
            (a1, Verdict.CONFIRMED),
            (a2, Verdict.CONFIRMED),
        ]
        assert repo.get_qa_item(s, "c1").state is QaState.DONE
    with pytest.raises(InvalidRecordError, match="not alerts of call"), db.session() as s:
        repo.save_review(s, "c1", "qa1", scorecard={}, verdicts={a3: Verdict.CONFIRMED})
    with pytest.raises(NotFoundError), db.session() as s:
        repo.get_qa_item(s, "nope")
