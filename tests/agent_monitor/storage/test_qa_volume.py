"""The QA queue at volume (search, sort, pages, next, assignment) and scorecard forms as data,
on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from agent_monitor.errors import InvalidRecordError
from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import RuleHit, Severity
from agent_monitor.model.scorecard import DEFAULT_FORM, ScorecardForm
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.enums import CallStatus, QaState
from agent_monitor.storage.repo import QueueQuery
from agent_monitor.storage.tables import QaForm
from tests.agent_monitor.storage.repo_support import FULL_SCORECARD

T0 = datetime(2025, 3, 4, 9, 30, tzinfo=UTC)
CALLS = [
    # call id, agent, team, level, rule, seconds, transcript
    (
        "Call-EN-001",
        "agent-1",
        "North",
        WarningLevel.RED,
        "en-insult-1",
        300,
        "you are a stupid idiot pay now",
    ),
    (
        "call-en-002",
        "agent-2",
        "North",
        WarningLevel.ORANGE,
        "en-threat-2",
        60,
        "we will take your house tomorrow",
    ),
    (
        "call-zh-003",
        "agent-3",
        "South",
        WarningLevel.YELLOW,
        "zh-privacy-1",
        120,
        "confirm your bankruptcy case",
    ),
]


def _utterance(text: str, n: int = 0) -> Transcript:
    words = tuple(Word(w, 1.0 + i, 1.5 + i, 0.9) for i, w in enumerate(text.split()))
    return Transcript(Leg.AGENT, n, 1.0, words[-1].end, text, True, words, "en")


def _fill(db: Database) -> None:
    with db.session() as s:
        for i, (call_id, agent, team, level, rule, seconds, text) in enumerate(CALLS):
            repo.ensure_agent(s, agent, name=agent.title(), team=team)
            started = T0 + timedelta(days=i)
            repo.start_call(s, call_id, agent, source_protocol="file", started_at=started)
            repo.save_utterance(s, call_id, _utterance(text))
            hit = RuleHit(rule, rule.title(), "abuse", Severity.RED, Leg.AGENT, None, text, "r", "cite")
            repo.save_rule_hit(s, call_id, hit)
            repo.end_call(s, call_id, ended_at=started + timedelta(seconds=seconds), status=CallStatus.ENDED)
            repo.enqueue_for_qa(s, call_id, level, "test", at=started)


def _ids(db: Database, **kw: object) -> list[str]:
    with db.session() as s:
        return [r.call.id for r in repo.search_qa_queue(s, QueueQuery(**kw)).rows]  # type: ignore[arg-type]


def test_filters_are_partial_and_case_insensitive(db: Database) -> None:
    _fill(db)
    assert _ids(db, rule="insult") == ["Call-EN-001"]
    assert _ids(db, rule="EN-INSULT-1") == ["Call-EN-001"]
    assert _ids(db, agent="AGENT-2") == ["call-en-002"]
    assert sorted(_ids(db, team="nor")) == ["Call-EN-001", "call-en-002"]
    assert sorted(_ids(db, call_id="call-en")) == ["Call-EN-001", "call-en-002"]
    assert _ids(db, call_id="100%_") == []  # LIKE wildcards are taken literally
    assert _ids(db, levels=[WarningLevel.YELLOW]) == ["call-zh-003"]
    assert _ids(db, since=T0 + timedelta(days=1), until=T0 + timedelta(days=2)) == ["call-en-002"]


def test_transcript_search_uses_the_full_text_index(db: Database) -> None:
    _fill(db)
    assert _ids(db, text="idiot") == ["Call-EN-001"]
    assert _ids(db, text="Bankr") == ["call-zh-003"]  # the last word is a prefix
    assert _ids(db, text="take house") == ["call-en-002"]  # every word, any order
    assert _ids(db, text="house idiot") == []
    # a transcript stored (or corrected) later is found at once: the index follows the writes
    with db.session() as s:
        repo.save_utterance(s, "call-zh-003", _utterance("a later sentence about lawyers", 1))
        repo.save_utterance(s, "call-en-002", _utterance("we will call again", 0))  # replaces utterance 0
    assert _ids(db, text="lawyers") == ["call-zh-003"]
    assert _ids(db, text="house") == []
    with pytest.raises(InvalidRecordError, match="no words"), db.session() as s:
        repo.search_qa_queue(s, QueueQuery(text='"*:&'))


def test_sorting_pages_assignment_and_next(db: Database) -> None:
    _fill(db)
    assert _ids(db, sort="duration", descending=False) == ["call-en-002", "call-zh-003", "Call-EN-001"]
    assert _ids(db, sort="level") == ["Call-EN-001", "call-en-002", "call-zh-003"]
    assert _ids(db, sort="date", descending=False) == ["Call-EN-001", "call-en-002", "call-zh-003"]
    with db.session() as s:
        page = repo.search_qa_queue(s, QueueQuery(sort="date", limit=2, offset=2))
        assert page.total == 3 and [r.call.id for r in page.rows] == ["Call-EN-001"]
        assert page.rows[0].duration_s == pytest.approx(300.0) and page.rows[0].team == "North"
        assert page.rows[0].rules == ("en-insult-1",)
        repo.assign_qa(s, "call-en-002", "qa2", by="lead1")
        # next: highest level first, then the longest waiting
        assert repo.next_in_queue(s, QueueQuery(), "qa1") == "Call-EN-001"
        assert repo.next_in_queue(s, QueueQuery(), "qa1", after="Call-EN-001") == "call-zh-003"
        assert repo.next_in_queue(s, QueueQuery(), "qa2", after="Call-EN-001") == "call-en-002"
    assert _ids(db, assigned_to="qa2") == ["call-en-002"]
    assert _ids(db, states=[QaState.IN_REVIEW]) == ["call-en-002"]
    with db.session() as s:
        repo.save_review(s, "call-zh-003", "qa1", scorecard=FULL_SCORECARD, done=True)
        repo.save_review(s, "call-en-002", "qa2", scorecard={**FULL_SCORECARD, "respect": 1}, done=True)
    assert _ids(db, sort="score") == ["call-zh-003", "call-en-002", "Call-EN-001"]
    with db.session() as s:
        assert repo.next_in_queue(s, QueueQuery(), "qa1", after="Call-EN-001") is None


def _entry(db: Database, call_id: str) -> tuple[QaState, str | None]:
    with db.session() as s:
        item = repo.get_qa_item(s, call_id)
        return item.state, item.assigned_to


def _next(db: Database, reviewer: str) -> str | None:
    with db.session() as s:
        return repo.next_in_queue(s, QueueQuery(), reviewer)


def test_a_draft_claims_the_entry_for_its_reviewer(db: Database) -> None:
    """A reviewer's draft takes the call out of everyone else's "next" (it stayed pending and
    unassigned, so the next reviewer was handed the call being worked on); another reviewer's
    draft does not take it from them, an explicit assignment still does, finishing completes it
    and a finished review saved as a draft again puts it back in review by its reviewer."""
    _fill(db)
    assert _next(db, "qa1") == _next(db, "qa2") == "Call-EN-001"
    with db.session() as s:
        repo.save_review(s, "Call-EN-001", "qa1", scorecard={"identification": 2})
    assert _entry(db, "Call-EN-001") == (QaState.IN_REVIEW, "qa1")
    assert _next(db, "qa2") == "call-en-002" and _next(db, "qa1") == "Call-EN-001"
    with db.session() as s:  # qa2 opened the call directly: their draft is kept, the call stays qa1's
        repo.save_review(s, "Call-EN-001", "qa2", scorecard={"identification": 1})
        repo.save_review(s, "Call-EN-001", "qa1", scorecard={"identification": 2, "respect": 2})
    assert _entry(db, "Call-EN-001") == (QaState.IN_REVIEW, "qa1")
    with db.session() as s:  # qa1 left it: it is taken over explicitly, as before
        repo.assign_qa(s, "Call-EN-001", "qa2", by="lead1")
    assert _next(db, "qa1") == "call-en-002" and _next(db, "qa2") == "Call-EN-001"
    with db.session() as s:
        repo.save_review(s, "Call-EN-001", "qa2", scorecard=FULL_SCORECARD, done=True)
        repo.save_review(s, "Call-EN-001", "qa1", scorecard={"identification": 0})  # a draft of a done call
    assert _entry(db, "Call-EN-001") == (QaState.DONE, "qa2")
    assert _next(db, "qa1") == _next(db, "qa2") == "call-en-002"
    with db.session() as s:  # the queue's own assignment is not who reopens
        repo.assign_qa(s, "call-en-002", "qa1", by="lead1")
        repo.save_review(s, "call-en-002", "qa2", scorecard=FULL_SCORECARD, done=True)
    assert _entry(db, "call-en-002") == (QaState.DONE, "qa1")
    with db.session() as s:
        repo.save_review(s, "call-en-002", "qa2", scorecard=FULL_SCORECARD, notes="reconsidering")
    assert _entry(db, "call-en-002") == (QaState.IN_REVIEW, "qa2")
    assert _next(db, "qa1") == "call-zh-003" and _next(db, "qa2") == "call-en-002"


def test_scorecard_refuses_to_finish_with_unscored_items(db: Database) -> None:
    _fill(db)
    with db.session() as s:
        draft = repo.save_review(s, "Call-EN-001", "qa1", scorecard={"identification": 2})
        assert draft.score == 100.0 and draft.scorecard == {"identification": 2}
    with pytest.raises(InvalidRecordError, match="before finishing: disclosure, respect"), db.session() as s:
        repo.save_review(s, "Call-EN-001", "qa1", scorecard={"identification": 2}, done=True)
    card = {"identification": 2, "disclosure": 2, "respect": 0, "accuracy": 2, "resolution": 2}
    with pytest.raises(InvalidRecordError, match="needs a comment: respect"), db.session() as s:
        repo.save_review(s, "Call-EN-001", "qa1", scorecard=card, done=True)
    with pytest.raises(InvalidRecordError, match="cannot be marked N/A"), db.session() as s:
        repo.save_review(s, "Call-EN-001", "qa1", scorecard={**card, "respect": "na"})
    with pytest.raises(InvalidRecordError, match="a score from 0 to 2"), db.session() as s:
        repo.save_review(s, "Call-EN-001", "qa1", scorecard={**card, "respect": 3})
    with db.session() as s:
        review = repo.save_review(
            s, "Call-EN-001", "qa1", scorecard=card, comments={"respect": "insult at 0:08"}, done=True
        )
        # weights: respect counts twice; 2+2+0+2+2 of 1+1+2+1+1 possible halves
        assert review.score == pytest.approx(100 * 4 / 6, abs=0.1)
        assert repo.get_qa_item(s, "Call-EN-001").state is QaState.DONE


def test_forms_are_versioned_and_reviews_keep_theirs(db: Database) -> None:
    _fill(db)
    with db.session() as s:
        first = repo.current_form(s)  # seeded
        assert (first.name, first.version) == ("default", 1)
        repo.save_review(s, "Call-EN-001", "qa1", scorecard={"respect": 2})
        edited = dict(DEFAULT_FORM, items=[*DEFAULT_FORM["items"][:2], {"key": "empathy", "en": "Empathy"}])
        second = repo.save_form(s, ScorecardForm.parse(edited), "admin1")
        assert (second.name, second.version) == ("default", 2)
        assert repo.save_form(s, ScorecardForm.parse(edited), "admin1").id == second.id  # unchanged
        assert repo.current_form(s).id == second.id
        assert [(f.name, f.version) for f in repo.list_forms(s)] == [("default", 1), ("default", 2)]
    with db.session() as s:
        # the old review stays on version 1 (its "respect" item is not on version 2)
        kept = repo.save_review(s, "Call-EN-001", "qa1", scorecard={"respect": 1})
        assert kept.form_id == first.id
        new = repo.save_review(s, "call-en-002", "qa1", scorecard={"empathy": 2})
        assert new.form_id == second.id
    with pytest.raises(InvalidRecordError, match="unknown scorecard items: respect"), db.session() as s:
        repo.save_review(s, "call-zh-003", "qa1", scorecard={"respect": 1})
    for bad, message in (
        ({"name": "x", "items": []}, "1 to 50 items"),
        ({"name": "x", "items": [{"key": "a b", "en": "A"}]}, "letters, digits"),
        ({"name": "x", "items": [{"key": "a", "en": "A"}, {"key": "a", "en": "B"}]}, "used twice"),
        ({"name": "x", "items": [{"key": "a", "en": "A", "weight": 0}]}, "weight"),
        ({"name": "x", "items": [{"key": "a", "en": "A", "colour": 1}]}, "unknown fields colour"),
    ):
        with pytest.raises(InvalidRecordError, match=message):
            ScorecardForm.parse(bad)


def test_a_stored_title_longer_than_a_new_form_may_have_still_loads(db: Database) -> None:
    """A form title is at most 200 characters (``qa_forms.title``, and longer ones are refused when a
    form is saved); PostgreSQL holds no longer one, SQLite does not check the length: a longer title
    written there by hand still loads (a stored form is read as it is, never parsed again)."""
    row = QaForm(name="old", version=1, title="T" * 250, items=DEFAULT_FORM["items"], created_by="x")
    if db.engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="too long"), db.session() as s:
            s.add(row)
        return
    with db.session() as s:
        s.add(row)
    with db.session() as s:
        current = repo.current_form(s)
        assert (current.name, current.title) == ("old", "T" * 250)
        assert repo.to_form(current).title == "T" * 250 and len(repo.to_form(current).items) == 5
