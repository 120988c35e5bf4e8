"""One speech model per call language, chosen per call; a language without its model is refused
loudly (recorded, not transcribed, signal-health events), never transcribed by another language's
model.

Real pieces: the installed English Vosk model, the shipped rule packs, a real SQLite database and
the real call MUL1011 (the conftest). No Chinese model exists on the development machines, so:

- the refusal path runs with the real configuration (``zh`` -> ``vosk-model-small-cn-0.22``) on a
  model directory that holds only the English model;
- the "two languages installed" test registers a symlink copy of the ENGLISH model as the ``zh``
  model. It checks ROUTING AND SHARING ONLY (which pool each call's legs draw from, one model
  load per language, spares per language); no audio is fed to that copy and nothing in it is, or
  claims to be, Chinese recognition.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from agent_monitor.compose import assemble
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import CallStarted, RuleHitEvent, SignalHealth, TranscriptEvent
from agent_monitor.model.health import HealthIssue
from agent_monitor.pipeline import CallManager, InProcessEventBus
from agent_monitor.settings import Settings
from agent_monitor.storage import CallStatus, Database, repo
from agent_monitor.storage.recordings import read_recording
from asr.languages import LanguageModels
from asr.streaming import LegTranscriber
from qa_rules import LiveRules, RuleSet
from tests.agent_monitor.pipeline.conftest import CallAudio, EventsOf, FakeClock, Push, Subscribe

from .test_call_session import info, of

EN = "vosk-model-small-en-us-0.15"
ZH = "vosk-model-small-cn-0.22"


def _symlink_tree(src: Path, dest: Path) -> Path:
    """A directory whose files are symlinks to ``src``'s (a second model directory, no copy)."""
    for p in sorted(src.rglob("*")):
        target = dest / p.relative_to(src)
        if p.is_dir():
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(p.resolve())
    return dest


@pytest.fixture(scope="module")
def en_model(base_settings: Settings) -> Path:
    path = base_settings.model_dir / EN
    if not (path / "am" / "final.mdl").is_file():
        pytest.fail(f"{path} missing: install the English model (scripts/setup.sh)")
    return path


@pytest.fixture(scope="module")
def english_only(
    base_settings: Settings, en_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LanguageModels]:
    """The default configuration (en and zh) on a model directory with only the English model."""
    model_dir = tmp_path_factory.mktemp("models-en-only")
    (model_dir / EN).symlink_to(en_model.resolve())
    settings = base_settings.model_copy(
        update={
            "model_dir": model_dir,
            "asr": base_settings.asr.model_copy(
                update={"models": {"en": EN, "zh": ZH}, "spare_recognizers": 2}
            ),
        }
    )
    models = LanguageModels.from_settings(settings)
    yield models
    models.close()


@pytest.fixture(scope="module")
def two_languages(
    base_settings: Settings, en_model: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LanguageModels]:
    """en: the English model; "zh": a symlink copy of the ENGLISH model (routing/sharing only)."""
    stand_in = _symlink_tree(en_model, tmp_path_factory.mktemp("second-model") / "routing-only")
    settings = base_settings.model_copy(
        update={
            "asr": base_settings.asr.model_copy(
                update={"models": {"en": str(en_model), "zh": str(stand_in)}, "spare_recognizers": 2}
            )
        }
    )
    models = LanguageModels.from_settings(settings)
    yield models
    models.close()


def test_english_only_install_transcribes_en_and_names_what_is_missing(english_only: LanguageModels) -> None:
    assert english_only.languages == ["en"]
    assert english_only.pool("zh") is None
    missing = english_only.missing_model("zh")
    assert missing.model == ZH and "is not installed" in missing.reason
    assert missing.message == "no zh model installed: not transcribed"
    line = english_only.describe()
    assert line.startswith(f"transcribes en ({EN})") and "zh: no zh model installed" in line
    assert english_only.to_dict()["not_transcribed"]["zh"] == {
        "model": ZH,
        "reason": f"model {ZH} is not installed on this server",
    }


def test_models_configured_by_path_are_named_without_the_path(two_languages: LanguageModels) -> None:
    assert two_languages.to_dict() == {
        "transcribed": {"en": EN, "zh": "routing-only"},
        "not_transcribed": {},
    }


@pytest.mark.asyncio
async def test_calls_are_routed_to_their_language_pool_and_share_it(
    two_languages: LanguageModels,
    live_settings: Settings,
    ruleset: RuleSet,
    database: Database,
    bus: InProcessEventBus,
    clock: FakeClock,
) -> None:
    en_pool, zh_pool = two_languages.pool("en"), two_languages.pool("zh")
    assert en_pool is not None and zh_pool is not None
    assert en_pool.model is not zh_pool.model  # two model directories, each loaded once
    await two_languages.prewarm()
    assert (en_pool.spares, zh_pool.spares) == (2, 2)
    watcher = bus.subscribe(lambda e: isinstance(e, SignalHealth))
    routed = assemble(live_settings, two_languages, LiveRules(ruleset, live_settings.rules))
    manager = CallManager(live_settings, routed, database, bus, clock=clock)
    zh1 = await manager.start_call(info("route-zh-1", lang="zh"))
    zh2 = await manager.start_call(info("route-zh-2", lang="zh"))
    en1 = await manager.start_call(info("route-en-1", lang="en"))
    for session, pool in ((zh1, zh_pool), (zh2, zh_pool), (en1, en_pool)):
        for leg in (Leg.AGENT, Leg.DEBTOR):
            transcriber = session.legs[leg].transcriber
            assert isinstance(transcriber, LegTranscriber) and transcriber.pool is pool
            assert transcriber.recognizer.lang == session.info.lang
    assert zh_pool.spares == 0 and en_pool.spares == 0  # 4 zh legs took 2 spares + 2 new; en its own 2
    assert zh_pool.created == 4 and en_pool.created == 2
    for session in (zh1, zh2, en1):
        await session.stop("stop")
    await manager.shutdown()
    assert zh_pool.spares == 2 and en_pool.spares == 2  # recognizers go back to their own language
    assert watcher.get_nowait() is None  # both languages have a model: no refusal


@pytest.mark.asyncio
async def test_zh_call_without_zh_model_is_recorded_not_transcribed_and_says_so(
    english_only: LanguageModels,
    live_settings: Settings,
    database: Database,
    bus: InProcessEventBus,
    clock: FakeClock,
    clean_call: CallAudio,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    short_window = live_settings.model_copy(
        update={"rules": live_settings.rules.model_copy(update={"must_say_window_s": 5.0})}
    )
    rules = LiveRules.from_settings(short_window)  # must-say rules due after 5 s of call
    manager = CallManager(
        short_window, assemble(short_window, english_only, rules), database, bus, clock=clock
    )
    sub = subscribe()
    session = await manager.start_call(info("zh-no-model", lang="zh"))
    assert all(w.transcriber is None and w.checker is None for w in session.legs.values())
    sent = await push(session, clean_call, seconds=10)
    await session.stop("stop")
    events = events_of(sub)

    assert isinstance(events[0], CallStarted)
    health = of(events, SignalHealth)
    assert [h.health.leg for h in health] == [Leg.AGENT, Leg.DEBTOR]
    assert events.index(health[0]) == 1  # right after the call started
    for h in health:
        assert h.call_id == "zh-no-model" and h.t == 0.0
        assert h.health.issue is HealthIssue.NO_MODEL and h.health.active
        assert h.health.message == "no zh model installed: not transcribed"
    assert of(events, TranscriptEvent) == []  # never an English transcript of a Chinese call
    assert of(events, RuleHitEvent) == []  # no must-say rule fires on a call nobody could hear
    with database.session() as s:
        call = repo.get_call(s, "zh-no-model")
        assert call.status is CallStatus.ENDED and call.lang == "zh"
        stored = [(r.t_s, repo.to_leg_health(r)) for r in repo.list_signal_health(s, "zh-no-model")]
        assert stored == [(0.0, h.health) for h in health]  # stored with the call, not only published
        for leg, pcm in ((Leg.AGENT, clean_call.agent), (Leg.DEBTOR, clean_call.debtor)):
            assert read_recording(Path(repo.require_recording(s, "zh-no-model", leg).path)).pcm == pcm[:sent]
    await manager.shutdown()


@pytest.mark.asyncio
async def test_control_en_call_with_the_same_rules_is_transcribed_and_checked(
    english_only: LanguageModels,
    live_settings: Settings,
    database: Database,
    bus: InProcessEventBus,
    clock: FakeClock,
    clean_call: CallAudio,
    push: Push,
    subscribe: Subscribe,
    events_of: EventsOf,
) -> None:
    """The control for the test above: same install, same short must-say window, an en call."""
    short_window = live_settings.model_copy(
        update={"rules": live_settings.rules.model_copy(update={"must_say_window_s": 5.0})}
    )
    stages = assemble(short_window, english_only, LiveRules.from_settings(short_window))
    manager = CallManager(short_window, stages, database, bus, clock=clock)
    sub = subscribe()
    session = await manager.start_call(info("en-control", lang="en"))
    await push(session, clean_call, seconds=10)
    await session.stop("stop")
    events = events_of(sub)
    assert of(events, SignalHealth) == []
    assert any(e.transcript.final for e in of(events, TranscriptEvent))
    assert any(h.hit.rule.startswith("EN-") for h in of(events, RuleHitEvent))  # missed must-say rules
    await manager.shutdown()


def test_a_damaged_model_is_missing_with_its_reason_and_nothing_is_loaded(
    base_settings: Settings, en_model: Path, tmp_path: Path
) -> None:
    damaged = _symlink_tree(en_model, tmp_path / "damaged")
    (damaged / "am" / "final.mdl").unlink()
    settings = base_settings.model_copy(
        update={"asr": base_settings.asr.model_copy(update={"models": {"zh": str(damaged)}})}
    )
    models = LanguageModels.from_settings(settings)
    try:
        assert models.languages == [] and models.pool("zh") is None and models.pool("en") is None
        assert "am/final.mdl missing" in models.missing_model("zh").reason
        assert models.missing_model("en").reason == "no model configured for en"
        assert models.describe().startswith("transcribes nothing; calls in other languages are recorded only")
        # the public answer names the folder, not its path on the server
        assert models.to_dict()["not_transcribed"] == {
            "zh": {"model": "damaged", "reason": "model damaged is incomplete or damaged on this server"}
        }
    finally:
        models.close()
