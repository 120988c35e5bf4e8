"""Fixtures for the live pipeline tests.

Real pieces: the installed Vosk model(s) (fails, never skips, when missing), the shipped rule packs,
a real SQLite database per test, a 24 s excerpt of the real stereo call MUL1011 from the shared
data, and a **synthetic** scripted violation spoken by espeak-ng (labelled synthetic: it is not a
recording of a person). The one fake is :class:`FakeClock`, standing in for the passing of wall
time so the escalation timer can be tested without waiting.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from agent_monitor.audio.decode import decode_file, float_to_pcm16
from agent_monitor.compose import assemble
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import Event
from agent_monitor.model.stages import Stages
from agent_monitor.pipeline import CallManager, CallSession, InProcessEventBus, Subscription
from agent_monitor.settings import Settings
from agent_monitor.storage import Database, upgrade_database
from asr.languages import LanguageModels
from qa_rules import LiveRules, RuleSet, load_rules_from_settings

RATE = 8000
EXCERPT_S = 24.0
#: the scripted violation (synthetic speech), and where it goes in the agent leg (the agent is
#: silent there in the real call)
VIOLATION_TEXT = "you are a stupid deadbeat, we will have you arrested"
VIOLATION_AT_S = 0.5


#: the types of the ``push``, ``subscribe`` and ``events_of`` fixtures; ``events_of`` gives what a
#: subscription's filter let through, subclasses of ``Event`` the type checker cannot follow
Push = Callable[..., Awaitable[int]]
Subscribe = Callable[..., Subscription]
EventsOf = Callable[[Subscription], list[Any]]


class FakeClock:
    """A fake wall clock (the one fake here): ``advance`` moves time and wakes due sleepers."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2025, 3, 3, 15, 0, tzinfo=UTC)
        self._sleepers: list[tuple[datetime, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._now + timedelta(seconds=seconds), future))
        await future

    @property
    def sleepers(self) -> int:
        return sum(1 for _, f in self._sleepers if not f.done())

    async def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        for due, future in self._sleepers:
            if due <= self._now and not future.done():
                future.set_result(None)
        self._sleepers = [(d, f) for d, f in self._sleepers if not f.done()]
        for _ in range(5):  # let the woken tasks run
            await asyncio.sleep(0)


@dataclass(frozen=True)
class CallAudio:
    """16-bit PCM legs at 8 kHz."""

    agent: bytes
    debtor: bytes
    rate: int = RATE


@pytest.fixture(scope="session")
def models(base_settings: Settings) -> Iterator[LanguageModels]:
    """The real installed Vosk model(s) by language; fails (never skips) when English is missing."""
    m = LanguageModels.from_settings(base_settings)
    if m.pool("en") is None:
        pytest.fail(f"the English model is not installed: {m.missing_model('en').reason}")
    yield m
    m.close()


@pytest.fixture(scope="session")
def ruleset(base_settings: Settings) -> RuleSet:
    return load_rules_from_settings(base_settings)


@pytest.fixture(scope="session")
def stages(base_settings: Settings, models: LanguageModels, ruleset: RuleSet) -> Stages:
    """The stages as the composition root bundles them, on the session's models and rules."""
    return assemble(base_settings, models, LiveRules(ruleset, base_settings.rules))


@pytest.fixture(scope="session")
def whole_call(eval_data: Path) -> tuple[np.ndarray, np.ndarray]:
    """The whole real stereo call MUL1011 (agent left, debtor right), 8 kHz float, decoded once."""
    audio = decode_file(eval_data / "calls" / "spokenwoz" / "MUL1011.opus", target_rate=RATE)
    return audio.samples[0].copy(), audio.samples[1].copy()


@pytest.fixture(scope="module")
def legs(whole_call: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The whole call, copies a test module may change."""
    return whole_call[0].copy(), whole_call[1].copy()


@pytest.fixture(scope="session")
def real_call(whole_call: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The first 24 s of the real stereo call MUL1011 (agent left, debtor right), 8 kHz float."""
    n = int(EXCERPT_S * RATE)
    return whole_call[0][:n].copy(), whole_call[1][:n].copy()


@pytest.fixture(scope="session")
def synthetic_violation(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """SYNTHETIC speech (espeak-ng) of the scripted violation, 8 kHz float."""
    from agent_monitor.audio.decode import decode_file

    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.fail("espeak-ng is not installed; it synthesises the scripted violations")
    out = tmp_path_factory.mktemp("synthetic") / "violation.wav"
    subprocess.run([espeak, "-s", "150", "-w", str(out), VIOLATION_TEXT], check=True)
    return decode_file(out, target_rate=RATE).samples[0] * 0.7


@pytest.fixture(scope="session")
def clean_call(real_call: tuple[np.ndarray, np.ndarray]) -> CallAudio:
    """The real call excerpt as it is."""
    agent, debtor = real_call
    return CallAudio(float_to_pcm16(agent), float_to_pcm16(debtor))


@pytest.fixture(scope="session")
def violation_call(real_call: tuple[np.ndarray, np.ndarray], synthetic_violation: np.ndarray) -> CallAudio:
    """The real call excerpt with the SYNTHETIC violation spoken on the agent leg at 0.5 s."""
    agent, debtor = real_call
    agent = agent.copy()
    start = int(VIOLATION_AT_S * RATE)
    agent[start : start + len(synthetic_violation)] += synthetic_violation
    return CallAudio(float_to_pcm16(agent), float_to_pcm16(debtor))


@pytest.fixture()
def live_settings(settings: Settings) -> Settings:
    """Test settings: escalation after 30 s, must-say window beyond the excerpt (so the real
    call's missing disclosures do not mix into the scripted scenario)."""
    return settings.model_copy(
        update={
            "live": settings.live.model_copy(update={"escalate_after_s": 30.0}),
            "rules": settings.rules.model_copy(update={"must_say_window_s": 600.0}),
        }
    )


@pytest.fixture()
def database(live_settings: Settings) -> Iterator[Database]:
    upgrade_database(live_settings)
    db = Database.open(live_settings)
    yield db
    db.dispose()


@pytest.fixture()
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture()
def bus(live_settings: Settings) -> InProcessEventBus:
    return InProcessEventBus(live_settings.live.subscriber_queue)


@pytest_asyncio.fixture()
async def manager(
    live_settings: Settings,
    stages: Stages,
    database: Database,
    bus: InProcessEventBus,
    clock: FakeClock,
) -> AsyncIterator[CallManager]:
    m = CallManager(live_settings, stages, database, bus, clock=clock)
    yield m
    await m.shutdown()


async def _push_paced(
    session: CallSession, audio: CallAudio, chunk_s: float = 0.1, seconds: float | None = None
) -> int:
    """Push both legs in ``chunk_s`` frames with the non-blocking ``push_audio``, pacing like a
    live source that never lets recognition fall more than 2 s behind; returns bytes per leg."""
    step = int(chunk_s * audio.rate) * 2
    end = len(audio.agent) if seconds is None else min(len(audio.agent), int(seconds * audio.rate) * 2)
    for i in range(0, end, step):
        j = min(i + step, end)
        session.push_audio(Leg.AGENT, audio.agent[i:j])
        session.push_audio(Leg.DEBTOR, audio.debtor[i:j])
        await asyncio.sleep(0)
        while session.stats.lag_s > 2.0:
            await asyncio.sleep(0.01)
    return end


@pytest.fixture()
def push() -> Push:
    """``await push(session, audio, chunk_s=0.1, seconds=None)``: see :func:`_push_paced`."""
    return _push_paced


@pytest.fixture()
def subscribe(bus: InProcessEventBus) -> Subscribe:
    return bus.subscribe


def drain(sub: Subscription) -> list[Event]:
    out = []
    while (e := sub.get_nowait()) is not None:
        out.append(e)
    return out


@pytest.fixture()
def events_of() -> EventsOf:
    """Everything queued on a subscription so far."""
    return drain
