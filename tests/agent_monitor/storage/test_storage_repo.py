"""The repository API against a real database (SQLite and, when configured, PostgreSQL)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from agent_monitor.errors import ConflictError, InvalidRecordError, NotFoundError
from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.roles import Role
from agent_monitor.model.rules import WRONG_PARTY, RuleHit, Severity
from agent_monitor.model.stress import BaselineStatus, StressLevel, StressSample
from agent_monitor.model.transcript import Transcript, Word
from agent_monitor.storage import repo
from agent_monitor.storage.engine import Database
from agent_monitor.storage.enums import CallStatus, HitStatus
from agent_monitor.storage.tables import RevokedSession
from tests.agent_monitor.storage.repo_support import T0, start_call


def test_users_and_agents(db: Database) -> None:
    with db.session() as s:
        repo.ensure_agent(s, "A1", name="Li Wei", team="east")
        repo.create_user(s, "admin", "$argon2id$x", Role.ADMIN)
        repo.create_user(s, "li", "$argon2id$y", Role.AGENT, agent_id="A1")
        repo.create_user(s, "sup", "$argon2id$z", Role.SUPERVISOR, team="east")
        repo.create_user(s, "bo", "h", Role.AGENT, agent_id="A2")  # unknown agent is created
    with db.session() as s:
        assert repo.count_users(s) == 4
        assert repo.count_users(s, role=Role.AGENT) == 2
        li = repo.get_user(s, "li")
        assert li is not None and li.role is Role.AGENT and li.agent_id == "A1" and li.active
        assert li.created_at.tzinfo is not None
        assert [u.username for u in repo.list_users(s, role=Role.AGENT)] == ["bo", "li"]
        assert repo.get_agent(s, "A2").name == "A2"
        assert [a.id for a in repo.list_agents(s, team="east")] == ["A1"]
        repo.set_password(s, "li", "$argon2id$new")
        repo.set_user_active(s, "bo", False)
        repo.set_user_role(s, "bo", Role.QA)
    with db.session() as s:
        assert repo.require_user(s, "li").password_hash == "$argon2id$new"
        assert [u.username for u in repo.list_users(s, active=False)] == ["bo"]
        assert repo.require_user(s, "bo").role is Role.QA and repo.require_user(s, "bo").agent_id is None
        assert repo.get_user(s, "nobody") is None
    with pytest.raises(ConflictError, match="already exists"), db.session() as s:
        repo.create_user(s, "li", "h", Role.QA)
    # one name whatever its case: "LI" would sign in as someone else than "li" and read alike in the audit
    with pytest.raises(ConflictError, match="'LI' already exists as 'li'"), db.session() as s:
        repo.create_user(s, "LI", "h", Role.QA)
    with pytest.raises(InvalidRecordError, match="agent id"), db.session() as s:
        repo.create_user(s, "x", "h", Role.AGENT)
    with pytest.raises(InvalidRecordError, match="unknown role"), db.session() as s:
        repo.create_user(s, "x", "h", "boss")  # type: ignore[arg-type]  # an untyped caller's unknown role
    with pytest.raises(NotFoundError), db.session() as s:
        repo.set_password(s, "nobody", "h")
    # the database itself refuses an agent user without an agent id
    with pytest.raises(Exception, match=r"(?i)check"), db.engine.begin() as conn:
        conn.execute(text("UPDATE users SET agent_id = NULL WHERE username = 'li'"))


def test_call_lifecycle_and_listing(db: Database) -> None:
    with db.session() as s:
        repo.ensure_agent(s, "A1", team="east")
        repo.ensure_agent(s, "A2", team="west")
    shanghai = timezone(timedelta(hours=8))
    with db.session() as s:
        call = repo.start_call(
            s,
            "c1",
            "A1",
            source_protocol="twilio",
            started_at=T0.astimezone(shanghai),
            debtor_id="D9",
            debtor_phone="+8613800000000",
            debtor_tz="Asia/Shanghai",
            lang="zh",
        )
        assert call.status is CallStatus.LIVE
        repo.start_call(s, "c2", "A2", source_protocol="ws_ingest", started_at=T0 + timedelta(hours=1))
        repo.start_call(s, "c3", "A1", source_protocol="file", started_at=T0 + timedelta(days=1))
    with db.session() as s:
        c1 = repo.get_call(s, "c1")
        # wall-clock times come back tz-aware UTC, microseconds intact, whatever zone went in
        assert c1.started_at == T0 and c1.started_at.tzinfo is not None
        assert c1.started_at.utcoffset() == timedelta(0)
        assert (c1.debtor_tz, c1.lang, c1.source_protocol) == ("Asia/Shanghai", "zh", "twilio")
        repo.raise_call_level(s, "c1", WarningLevel.ORANGE)
        repo.raise_call_level(s, "c1", WarningLevel.YELLOW)  # never goes down
        repo.end_call(s, "c1", ended_at=T0 + timedelta(minutes=5))
        repo.raise_call_level(s, "c2", WarningLevel.RED)
    with db.session() as s:
        c1 = repo.get_call(s, "c1")
        assert (c1.status, c1.final_level, c1.high_sensitivity) == (
            CallStatus.ENDED,
            WarningLevel.ORANGE,
            False,
        )
        assert c1.ended_at == T0 + timedelta(minutes=5)
        c2 = repo.get_call(s, "c2")
        assert c2.final_level is WarningLevel.RED and c2.high_sensitivity
        assert [c.id for c in repo.list_calls(s)] == ["c3", "c2", "c1"]
        assert [c.id for c in repo.list_calls(s, status=CallStatus.LIVE)] == ["c3", "c2"]
        assert [c.id for c in repo.list_calls(s, team="east")] == ["c3", "c1"]
        assert [c.id for c in repo.list_calls(s, agent_ids=["A2"])] == ["c2"]
        assert [c.id for c in repo.list_calls(s, levels=[WarningLevel.RED, WarningLevel.ORANGE])] == [
            "c2",
            "c1",
        ]
        assert [c.id for c in repo.list_calls(s, high_sensitivity=True)] == ["c2"]
        window = repo.list_calls(s, since=T0 + timedelta(minutes=1), until=T0 + timedelta(days=1))
        assert [c.id for c in window] == ["c2"]
        assert [c.id for c in repo.list_calls(s, limit=1, offset=1)] == ["c2"]
    with pytest.raises(ConflictError, match="already exists"), db.session() as s:
        repo.start_call(s, "c1", "A1", source_protocol="ws_ingest")
    with db.session() as s:  # a reconnecting client resumes its call
        assert (
            repo.start_call(s, "c1", "A1", source_protocol="ws_ingest", resume=True).status is CallStatus.LIVE
        )
        assert sorted(repo.abort_live_calls(s, at=T0 + timedelta(days=2))) == ["c1", "c2", "c3"]
    with db.session() as s:
        assert repo.get_call(s, "c3").status is CallStatus.ABORTED
    with pytest.raises(ConflictError, match="belongs to agent"), db.session() as s:
        repo.start_call(s, "c1", "A2", source_protocol="ws_ingest", resume=True)
    with pytest.raises(NotFoundError), db.session() as s:
        repo.get_call(s, "nope")
    # naive datetimes are ambiguous: refused with a one-line error, on writes and in filters
    with pytest.raises(InvalidRecordError, match="no time zone"), db.session() as s:
        repo.start_call(s, "c9", "A1", source_protocol="x", started_at=datetime(2025, 1, 1))
    with pytest.raises(InvalidRecordError, match="no time zone"), db.session() as s:
        repo.list_calls(s, since=datetime(2025, 1, 1))


def test_debtor_call_history_for_the_frequency_rule(db: Database) -> None:
    with db.session() as s:
        calls = [("d1", 9), ("d1", 3), ("d1", 1), ("d2", 1), (None, 1), ("d1", 2), ("d1", 2)]
        for i, (debtor, days) in enumerate(calls):
            repo.start_call(
                s,
                f"h{i}",
                "A1",
                source_protocol="ws_ingest",
                started_at=T0 - timedelta(days=days),
                debtor_id=debtor,
            )
        # h1: the debtor says hello, the agent speaks, the debtor answers: a conversation
        for leg, n, start, text in [
            (Leg.DEBTOR, 0, 0.5, "hello"),
            (Leg.AGENT, 0, 1.5, "is this John"),
            (Leg.DEBTOR, 1, 3.0, "yes"),
        ]:
            repo.save_utterance(s, "h1", Transcript(leg, n, start, start + 1.0, text, final=True))
        agent_only = Transcript(leg=Leg.AGENT, utterance=0, start=0.5, end=1.0, text="hello", final=True)
        repo.save_utterance(s, "h2", agent_only)
        # h5: a voicemail greeting, then the agent's message: nobody answered the agent
        greeting = Transcript(Leg.DEBTOR, 0, 0.5, 4.0, "you have reached John leave a message", final=True)
        repo.save_utterance(s, "h5", greeting)
        message = Transcript(Leg.AGENT, 0, 5.0, 9.0, "this is Mary please call me back", final=True)
        repo.save_utterance(s, "h5", message)
        # h6: the debtor's answer is still a partial: not (yet) a conversation
        repo.save_utterance(s, "h6", Transcript(Leg.AGENT, 0, 0.5, 1.0, "hello", final=True))
        repo.save_utterance(s, "h6", Transcript(Leg.DEBTOR, 0, 1.5, 2.0, "yes", final=False))
        repo.start_call(s, "now", "A1", source_protocol="ws_ingest", started_at=T0, debtor_id="d1")
    with db.session() as s:
        history = repo.debtor_calls_since(s, "d1", T0 - timedelta(days=8), besides="now")
        assert [(row.call.id, row.conversation) for row in history] == [
            ("h1", True),
            ("h5", False),
            ("h6", False),
            ("h2", False),
        ]
        with pytest.raises(InvalidRecordError, match="no time zone"):
            repo.debtor_calls_since(s, "d1", datetime(2025, 1, 1), besides="now")


def test_a_call_answered_by_someone_else_is_no_conversation(db: Database) -> None:
    """A confirmed ``wrong_party`` hit (the person said they are not the debtor) makes the call a
    call placed, not a conversation with the debtor; a provisional or withdrawn one does not."""
    said = RuleHit(
        rule="EN-WRONG-PARTY-1",
        title="The person who answered says they are not the debtor",
        category=WRONG_PARTY,
        severity=Severity.INFO,
        leg=Leg.DEBTOR,
        span=(0, 12),
        evidence="wrong number",
        reason="not the debtor",
        citation="Reg F 1006.14(b)(2)(i)(B)",
        utterance=0,
    )
    with db.session() as s:
        for call_id, status in [("wp", HitStatus.CONFIRMED), ("wd", HitStatus.WITHDRAWN), ("ok", None)]:
            repo.start_call(
                s,
                call_id,
                "A1",
                source_protocol="ws_ingest",
                started_at=T0 - timedelta(days=1),
                debtor_id="d1",
            )
            repo.save_utterance(s, call_id, Transcript(Leg.AGENT, 0, 0.5, 1.5, "is this John", final=True))
            repo.save_utterance(s, call_id, Transcript(Leg.DEBTOR, 0, 2.0, 3.0, "wrong number", final=True))
            if status is not None:
                repo.save_rule_hit(s, call_id, said, status=status)
    with db.session() as s:
        history = repo.debtor_calls_since(s, "d1", T0 - timedelta(days=8), besides="")
        assert sorted((row.call.id, row.conversation) for row in history) == [
            ("ok", True),
            ("wd", True),
            ("wp", False),
        ]


def test_debtor_time_zones_latest_call_first(db: Database) -> None:
    with db.session() as s:
        for i, (debtor, days, tz) in enumerate(
            [
                ("d1", 30, "America/New_York"),
                ("d1", 2, "America/Los_Angeles"),
                ("d1", 5, "America/New_York"),
                ("d1", 1, None),
                ("d2", 0, "America/Chicago"),
            ]
        ):
            repo.start_call(
                s,
                f"z{i}",
                "A1",
                source_protocol="ws_ingest",
                started_at=T0 - timedelta(days=days),
                debtor_id=debtor,
                debtor_tz=tz,
            )
    with db.session() as s:
        assert repo.debtor_time_zones(s, "d1", besides="z3") == ["America/Los_Angeles", "America/New_York"]
        assert repo.debtor_time_zones(s, "d1", besides="z1") == ["America/New_York"]
        assert repo.debtor_time_zones(s, "d3", besides="z0") == []


def test_utterances_words_hits_and_stress(db: Database) -> None:
    start_call(db)
    partial = Transcript(Leg.AGENT, 0, 1.0, 2.0, "you must pay", final=False)
    final = Transcript(
        Leg.AGENT,
        0,
        1.0,
        2.6,
        "you must pay today",
        final=True,
        words=(
            Word("you", 1.0, 1.2, 0.9),
            Word("must", 1.2, 1.5, 0.8),
            Word("pay", 1.5, 1.9, 1.0),
            Word("today", 1.9, 2.6, 0.75),
        ),
    )
    debtor = Transcript(
        Leg.DEBTOR, 0, 0.2, 0.9, "你好", final=True, words=(Word("你好", 0.2, 0.9),), lang="zh"
    )
    with db.session() as s:
        first = repo.save_utterance(s, "c1", partial)
        repo.save_utterance(s, "c1", debtor)
        again = repo.save_utterance(s, "c1", final)
        assert again.id == first.id  # the final replaces the partial
        utt_id = again.id
    with db.session() as s:
        rows = repo.list_utterances(s, "c1")
        assert [repo.to_transcript(r) for r in rows] == [debtor, final]
        assert [r.leg for r in repo.list_utterances(s, "c1", leg=Leg.AGENT, final_only=True)] == [Leg.AGENT]
        threat = RuleHit(
            rule="en.threat.pay_today",
            title="Demanding immediate payment",
            category="pressure",
            severity=Severity.ORANGE,
            leg=Leg.AGENT,
            span=(0, 18),
            evidence="you must pay today",
            reason="demands immediate payment",
            citation="FDCPA 807",
            compliant="Could you tell me when a payment would be possible?",
            utterance=0,
            start=1.0,
            end=2.6,
        )
        hours = RuleHit(
            rule="en.calling_hours",
            title="Call outside permitted hours",
            category="timing",
            severity=Severity.RED,
            leg=None,
            span=None,
            evidence="21:30 debtor local time",
            reason="outside 8:00-21:00",
            citation="Reg F 1006.6(b)(1)(i)",
        )
        hit = repo.save_rule_hit(s, "c1", threat)
        assert hit.utterance_id == utt_id  # linked by leg and utterance number
        hours_row = repo.save_rule_hit(s, "c1", hours, status=HitStatus.CONFIRMED)
        other = repo.save_rule_hit(s, "c1", replace(threat, rule="en.other", start=1.5, end=1.9))
        repo.set_rule_hit_status(s, hit.id, HitStatus.CONFIRMED)
        samples = [
            StressSample(0.5, 10.0, StressLevel.NONE, BaselineStatus.ABSOLUTE, raw=None, speech_s=0.0),
            StressSample(1.0, 72.5, StressLevel.HIGH, BaselineStatus.RELATIVE, raw=80.25, speech_s=0.75),
        ]
        agent_sample = StressSample(1.0, 5.0, StressLevel.NONE, BaselineStatus.RELATIVE, leg=Leg.AGENT)
        assert repo.add_stress_samples(s, "c1", [*samples, agent_sample]) == 3
    with db.session() as s:
        hits = repo.list_rule_hits(s, "c1")
        assert [(h.rule_id, h.status) for h in hits] == [
            ("en.threat.pay_today", HitStatus.CONFIRMED),
            ("en.other", HitStatus.PROVISIONAL),
            ("en.calling_hours", HitStatus.CONFIRMED),  # no time: last
        ]
        assert [repo.to_rule_hit(h) for h in hits] == [
            threat,
            replace(threat, rule="en.other", start=1.5, end=1.9),
            hours,
        ]
        assert hours_row.utterance_id is None
        repo.set_rule_hit_status(s, other.id, HitStatus.WITHDRAWN)
        assert repo.stress_timeline(s, "c1") == samples
        assert repo.stress_timeline(s, "c1", Leg.AGENT) == [agent_sample]
    with db.session() as s:
        assert [h.rule_id for h in repo.list_rule_hits(s, "c1")] == [
            "en.threat.pay_today",
            "en.calling_hours",
        ]
        assert len(repo.list_rule_hits(s, "c1", include_withdrawn=True)) == 3
        assert [h.rule_id for h in repo.list_rule_hits(s, "c1", leg=Leg.AGENT)] == ["en.threat.pay_today"]
    with pytest.raises(InvalidRecordError, match=r"outside 0\.\.100"), db.session() as s:
        repo.add_stress_samples(s, "c1", [replace(samples[0], score=101.0)])
    with pytest.raises(NotFoundError), db.session() as s:
        repo.save_utterance(s, "nope", final)
    with pytest.raises(NotFoundError, match="utterance"), db.session() as s:
        repo.save_rule_hit(s, "c1", threat, utterance_id=utt_id + 999)


def test_recording_metadata(db: Database) -> None:
    start_call(db)
    with db.session() as s:
        rec = repo.register_recording(s, "c1", Leg.AGENT, "recordings/c1/agent.wav", 16000, started_at=T0)
        assert (rec.encoding, rec.bytes_written, rec.sha256) == ("pcm_s16le", 0, None)
        repo.register_recording(s, "c1", Leg.DEBTOR, "recordings/c1/debtor.wav", 8000)
        repo.update_recording_progress(s, "c1", Leg.AGENT, bytes_written=3200, samples_written=1600)
    with db.session() as s:
        assert repo.require_recording(s, "c1", Leg.AGENT).samples_written == 1600
        repo.close_recording(s, "c1", Leg.AGENT, bytes_written=6400, samples_written=3200, sha256="ab" * 32)
    with db.session() as s:
        recs = repo.list_recordings(s, "c1")
        assert [(r.leg, r.sample_rate) for r in recs] == [(Leg.AGENT, 16000), (Leg.DEBTOR, 8000)]
        assert recs[0].sha256 == "ab" * 32 and recs[0].closed_at is not None
        # a resumed call re-opens the same recording
        again = repo.register_recording(s, "c1", Leg.AGENT, "recordings/c1/agent.wav", 16000)
        assert again.id == recs[0].id and again.sha256 is None
    with pytest.raises(ConflictError), db.session() as s:
        repo.register_recording(s, "c1", Leg.AGENT, "elsewhere.wav", 16000)
    with pytest.raises(NotFoundError), db.session() as s:
        repo.update_recording_progress(s, "c1x", Leg.AGENT, bytes_written=0, samples_written=0)


def test_audit_log(db: Database) -> None:
    with db.session() as s:
        repo.record_audit(s, "admin", "login", at=T0)
        repo.record_audit(
            s,
            "qa1",
            "replay",
            object_type="recording",
            object_id="c1/agent",
            detail={"ip": "10.0.0.5", "range": [0.0, 12.5]},
            at=T0 + timedelta(seconds=5),
        )
        repo.record_audit(
            s, "qa1", "export", object_type="call", object_id="c1", at=T0 + timedelta(seconds=9)
        )
    with db.session() as s:
        assert [e.action for e in repo.list_audit(s)] == ["export", "replay", "login"]
        (replay,) = repo.list_audit(s, action="replay")
        assert replay.detail == {"ip": "10.0.0.5", "range": [0.0, 12.5]}
        assert replay.at == T0 + timedelta(seconds=5) and replay.id == 2
        assert [e.id for e in repo.list_audit(s, actor="qa1", object_type="call")] == [3]
        assert [e.id for e in repo.list_audit(s, object_id="c1/agent")] == [2]
        window = repo.list_audit(s, since=T0 + timedelta(seconds=1), until=T0 + timedelta(seconds=9))
        assert [e.id for e in window] == [2]
    with pytest.raises(InvalidRecordError), db.session() as s:
        repo.record_audit(s, "", "login")


def test_ended_sessions_are_kept_and_compared_to_the_microsecond(db: Database) -> None:
    """``revoked_at`` keeps its microseconds (SQLite text, PostgreSQL ``timestamptz``): a session
    issued one microsecond after an admin's end stands, one issued at it or before (the start of the
    second, as an old whole-second token reads) is ended."""
    ended = datetime.now(UTC).replace(microsecond=654321)
    with db.session() as s:
        repo.end_user_sessions(s, "qa1", ended + timedelta(hours=8), at=ended)
    with db.session() as s:
        stored = s.scalar(select(RevokedSession.revoked_at).where(RevokedSession.username == "qa1"))
        assert stored == ended and stored is not None and stored.microsecond == 654321
        assert repo.sessions_ended(s, "qa1", ended)
        assert repo.sessions_ended(s, "qa1", ended.replace(microsecond=0))
        assert not repo.sessions_ended(s, "qa1", ended + timedelta(microseconds=1))
        assert not repo.sessions_ended(s, "qa2", ended - timedelta(hours=1))


def test_calls_of_a_new_agent_starting_at_once(db: Database) -> None:
    """Several calls of an agent nobody has seen yet start in parallel threads (AudioSocket legs)."""
    import threading

    barrier = threading.Barrier(4)
    errors: list[str] = []

    def start(i: int) -> None:
        try:
            with db.session() as s:
                barrier.wait(timeout=10)
                repo.ensure_agent(s, "brand-new")
                repo.start_call(s, f"race-{i}", "brand-new", source_protocol="audiosocket")
        except Exception as exc:  # collected and asserted below
            errors.append(repr(exc))

    threads = [threading.Thread(target=start, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.session() as s:
        assert {c.id for c in repo.list_calls(s)} == {f"race-{i}" for i in range(4)}
