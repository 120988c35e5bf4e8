"""Signal health through real call sessions: real Vosk model, real SQLite database, the real
stereo call MUL1011 (first 24 s) of the shared data, as it is, with a silent debtor leg, and with
the debtor's audio sent as mu-law bytes while the start message declared L16; and the whole call
with other people's speech over the debtor (the recognizer's word confidence falls: ``unclear``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import pytest_asyncio

from agent_monitor.audio.conditions import Condition, parse_conditions
from agent_monitor.audio.decode import decode_file, float_to_pcm16
from agent_monitor.audio.g711 import mulaw_encode
from agent_monitor.audio.noise import NoiseBank
from agent_monitor.compose import assemble
from agent_monitor.errors import SessionClosedError
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import CallEnded, SignalHealth, TranscriptEvent
from agent_monitor.model.health import HealthIssue, LegHealth
from agent_monitor.model.session import CallInfo
from agent_monitor.pipeline import CallManager, InProcessEventBus
from agent_monitor.pipeline.report import build_report
from agent_monitor.settings import Settings
from agent_monitor.settings.speech import DecoderSettings
from agent_monitor.storage import Database, repo
from asr.languages import LanguageModels
from qa_rules import LiveRules, RuleSet
from tests.agent_monitor.pipeline.conftest import RATE, CallAudio, EventsOf, FakeClock, Push, Subscribe


@pytest.fixture()
def live_settings(live_settings: Settings) -> Settings:
    """The 24 s excerpt is short: silence counts after 8 s, one-way audio after 5 s."""
    health = live_settings.health.model_copy(update={"silent_s": 8.0, "one_way_s": 5.0})
    return live_settings.model_copy(update={"health": health})


def info(call_id: str) -> CallInfo:
    return CallInfo(
        call_id=call_id,
        agent_id="agent-7",
        sample_rate=8000,
        encoding="L16",
        source="ws-ingest",
        started_at=datetime(2025, 3, 3, 15, 0, tzinfo=UTC),
    )


def health_of(events: list[object]) -> list[SignalHealth]:
    return [e for e in events if isinstance(e, SignalHealth)]


@pytest.mark.asyncio
async def test_normal_call_raises_nothing_and_reported_issue_is_stored(
    manager: CallManager,
    clean_call: CallAudio,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
) -> None:
    sub = subscribe()
    session = await manager.start_call(info("h-clean"))
    await push(session, clean_call)
    # another part of the pipeline reports a leg it cannot transcribe
    no_model = LegHealth(Leg.DEBTOR, HealthIssue.NO_MODEL, True, "no zh model installed: not transcribed")
    await session.on_health(no_model, 3.0)
    await session.stop("stop")
    with pytest.raises(SessionClosedError):
        await session.on_health(no_model, 30.0)
    events = events_of(sub)
    assert [e.health for e in health_of(events)] == [no_model]
    assert isinstance(events[-1], CallEnded)
    with database.session() as s:
        rows = repo.list_signal_health(s, "h-clean")
        assert [(r.t_s, repo.to_leg_health(r)) for r in rows] == [(3.0, no_model)]
        report = build_report(s, "h-clean").to_dict()
    assert report["signal_health"] == [
        {
            "t": 3.0,
            "leg": "debtor",
            "issue": "no_model",
            "active": True,
            "message": "no zh model installed: not transcribed",
            "figures": {},
        }
    ]


@pytest.mark.asyncio
async def test_silent_debtor_leg_raises_health_events_on_the_bus_and_in_storage(
    manager: CallManager,
    clean_call: CallAudio,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
) -> None:
    silent = CallAudio(clean_call.agent, bytes(len(clean_call.debtor)))
    sub = subscribe()
    session = await manager.start_call(info("h-silent"))
    await push(session, silent)
    await session.stop("stop")
    events = events_of(sub)
    health = health_of(events)
    # silence counts from 8 s; one-way audio once the agent has also waited twice for an answer
    assert [(e.health.leg, e.health.issue, e.health.active) for e in health] == [
        (Leg.DEBTOR, HealthIssue.SILENT, True),
        (Leg.DEBTOR, HealthIssue.ONE_WAY, True),
    ]
    assert health[0].health.message == "debtor leg silent for 8 s"
    assert health[0].t == pytest.approx(8.0, abs=0.3)
    assert 8.0 < health[1].t < 24.0
    assert events.index(health[1]) < len(events) - 1 and isinstance(events[-1], CallEnded)
    with database.session() as s:
        rows = repo.list_signal_health(s, "h-silent")
        assert [(r.leg, r.issue, r.active, r.message) for r in rows] == [
            (e.health.leg, e.health.issue, e.health.active, e.health.message) for e in health
        ]
        assert [r.t_s for r in rows] == [e.t for e in health]
        text = build_report(s, "h-silent").render()
    assert "debtor leg silent for 8 s" in text


@pytest.mark.asyncio
async def test_mulaw_bytes_declared_as_l16_raise_encoding_mismatch(
    manager: CallManager,
    clean_call: CallAudio,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
) -> None:
    # the sender's debtor leg is G.711 mu-law (one byte a sample), but the call was declared L16
    mulaw = mulaw_encode(np.frombuffer(clean_call.debtor, dtype="<i2"))
    misdeclared = CallAudio(clean_call.agent, (mulaw * 2)[: len(clean_call.agent)])
    sub = subscribe()
    session = await manager.start_call(info("h-mulaw"))
    await push(session, misdeclared)
    await session.stop("stop")
    health = health_of(events_of(sub))
    assert [(e.health.leg, e.health.issue, e.health.active) for e in health] == [
        (Leg.DEBTOR, HealthIssue.ENCODING_MISMATCH, True)
    ]
    assert "not L16 as declared" in health[0].health.message
    with database.session() as s:
        assert [r.issue for r in repo.list_signal_health(s, "h-mulaw")] == [HealthIssue.ENCODING_MISMATCH]


@pytest.mark.asyncio
async def test_debtor_under_babble_is_unclear_the_clean_agent_is_not(
    manager: CallManager,
    whole_call: tuple[np.ndarray, np.ndarray],
    eval_data: Path,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
) -> None:
    """The whole real call (3 minutes); over the debtor, speech of other people (real recordings)
    5 dB below it: the recognizer still makes words of it, but is unsure of them (mean confidence
    measured 0.74 over the leg, the clean leg 0.86; the clean agent 0.91)."""
    agent, debtor = whole_call
    babble = Condition("babble-snr5", noise="babble", snr_db=5.0)
    crowded, _ = babble.apply(debtor, 8000, noise=NoiseBank.from_data_dir(eval_data), seed=1)
    sub = subscribe()
    session = await manager.start_call(info("h-babble"))
    await push(session, CallAudio(float_to_pcm16(agent), float_to_pcm16(crowded)))
    await session.stop("stop")
    unclear = [e for e in health_of(events_of(sub)) if e.health.issue is HealthIssue.UNCLEAR]
    assert unclear and all(e.health.leg is Leg.DEBTOR for e in unclear)
    first = unclear[0].health
    assert first.active and first.figures["words"] == 50 and first.figures["word_conf"] < 0.78
    assert first.message.startswith("debtor leg hard to make out: the recognizer is unsure of its words")
    # starts and clears alternate (hysteresis), never a storm
    flips = [e.health.active for e in unclear]
    assert flips == [True, False] * (len(unclear) // 2) + [True] * (len(unclear) % 2)
    assert len(unclear) <= 6
    with database.session() as s:
        stored = [r for r in repo.list_signal_health(s, "h-babble") if r.issue is HealthIssue.UNCLEAR]
        assert [(r.t_s, r.active) for r in stored] == [(e.t, e.health.active) for e in unclear]


WORDLESS_CLIPS = ("03-01-04-01-01-02-02.wav", "03-01-01-01-01-01-05.wav", "03-01-04-01-01-02-06.wav")


@pytest_asyncio.fixture()
async def short_window_manager(
    live_settings: Settings, ruleset: RuleSet, database: Database, bus: InProcessEventBus, clock: FakeClock
) -> AsyncIterator[CallManager]:
    """Wordless speech judged over the last 6 s of speech (share 0.5) instead of 60 s: this test's
    legs are short. Only here: on the real call's clean legs a 6 s window comes and goes with
    Vosk's dither (a real call has wordless speech of its own; README, Signal health). Decoded
    without dither (``asr.decoder.en.dither`` 0), so Vosk's words are the same at every run: with
    the default dither the share of wordless speech varied from run to run and the test failed 1
    of 30 runs alone (session 47) and once in a whole run."""
    health = live_settings.health.model_copy(update={"unclear_speech_s": 6.0, "unclear_wordless_share": 0.5})
    asr = live_settings.asr.model_copy(update={"decoder": {"en": DecoderSettings(dither=0.0)}})
    settings = live_settings.model_copy(update={"health": health, "asr": asr})
    models = LanguageModels.from_settings(settings)
    stages = assemble(settings, models, LiveRules(ruleset, settings.rules))
    m = CallManager(settings, stages, database, bus, clock=clock)
    yield m
    await m.shutdown()
    models.close()


@pytest.mark.asyncio
async def test_debtor_speech_the_recognizer_makes_nothing_of_is_unclear(
    short_window_manager: CallManager,
    clean_call: CallAudio,
    eval_data: Path,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
    database: Database,
) -> None:
    """RAVDESS sentences 20 dB down over AMR-NB as the debtor leg: the VAD passes the speech and
    Vosk makes no word of most of it. The wordless finals reach signal health only (no transcript
    on the bus, none stored) and make the debtor leg ``unclear``."""
    manager = short_window_manager
    line = parse_conditions("amr+gain-20")[0]
    clips = [
        decode_file(eval_data / "emotion/ravdess" / name, target_rate=RATE).samples[0]
        for name in WORDLESS_CLIPS
    ]
    gap = np.zeros(RATE // 2)
    sentences = np.concatenate([part for clip in clips * 2 for part in (clip, gap)])
    coded, _ = line.apply(sentences, RATE, seed="wordless")
    n = len(clean_call.agent) // 2
    pcm = float_to_pcm16(np.pad(coded, (0, max(0, n - len(coded))))[:n])
    sub = subscribe()
    session = await manager.start_call(info("h-wordless"))
    await push(session, CallAudio(clean_call.agent, pcm))
    await session.stop("stop")
    events = events_of(sub)
    unclear = [e for e in health_of(events) if e.health.issue is HealthIssue.UNCLEAR]
    debtor = [e for e in unclear if e.health.leg is Leg.DEBTOR]
    assert debtor and debtor[0].health.active
    first = debtor[0].health
    assert first.figures["deaf"] == 1.0 and first.figures["wordless_share"] >= 0.5
    assert "no word made of" in first.message
    transcripts = [e for e in events if isinstance(e, TranscriptEvent)]
    assert transcripts and all(e.transcript.text for e in transcripts)
    with database.session() as s:
        stored = repo.list_utterances(s, "h-wordless")
        assert stored and all(u.text for u in stored)
        rows = [r for r in repo.list_signal_health(s, "h-wordless") if r.issue is HealthIssue.UNCLEAR]
        expected = [(e.health.leg, e.t, e.health.active) for e in unclear]
        assert [(r.leg, r.t_s, r.active) for r in rows] == expected
