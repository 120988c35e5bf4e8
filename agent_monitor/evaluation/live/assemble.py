"""A labelled dialogue becomes a two-leg live call: voices, turn placement, the call's line.

Per call (seeded by the run's seed and the call id): the agent and the customer get voices of two
**different** TTS engines, each voice drawn at random within its engine; the call gets one line
condition drawn from the requested ones (codec, noise, loss of
:data:`agent_monitor.audio.conditions.CONDITIONS`) plus a random gain between ``-max_gain_db`` and
0 dB, applied to both legs.

Each turn is spoken on its own leg at the dialogue's ``stime``; a spoken turn is longer or shorter
than the dialogue's slot, so when a turn would start before the previous turn of the same leg has
ended (plus a short gap) it and every later turn are pushed back by the same amount (the call is
stretched, never overlapped on one leg; across the legs the dialogue's own overlaps remain).
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass

import numpy as np

from agent_monitor.audio.conditions import Condition
from agent_monitor.audio.noise import NoiseBank
from agent_monitor.errors import ConfigError
from agent_monitor.evaluation.live.dialogues import Dialogue, Turn
from agent_monitor.evaluation.live.tts import ENGINES, VOICES, Samples, TtsCache, Voice
from agent_monitor.ingest.call_audio import CallAudio, speech_end
from agent_monitor.model.audio import Leg
from agent_monitor.model.session import Encoding

RATE = 8000
#: silence between two turns of the same leg, and after the last turn
GAP_S = 0.25
TAIL_S = 1.5


@dataclass(frozen=True, slots=True)
class PlacedTurn:
    """A spoken turn on the call clock: from ``start_s`` to the end of its speech ``speech_end_s``."""

    turn: Turn
    voice: Voice
    start_s: float
    speech_end_s: float


@dataclass(frozen=True, slots=True)
class CallPlan:
    """The random choices of one call: voices per leg, the line and its gain."""

    agent_voice: Voice
    debtor_voice: Voice
    line: Condition
    gain_db: float

    @property
    def condition(self) -> str:
        """The call's line as reported: condition name and gain."""
        return f"{self.line.name} {self.gain_db:+.0f} dB"


@dataclass(frozen=True)
class LiveCall:
    dialogue: Dialogue
    plan: CallPlan
    audio: CallAudio
    turns: tuple[PlacedTurn, ...]

    @property
    def encoding(self) -> Encoding:
        """What the call is sent as: G.711 bytes for a mu-law or A-law line (as a telephone switch
        sends them), else 16-bit PCM of the decoded line."""
        codec = self.plan.line.codec
        return "mulaw" if codec == "mulaw" else "alaw" if codec == "alaw" else "L16"


def plan_call(call_id: str, seed: int, lines: list[Condition], max_gain_db: float = 12.0) -> CallPlan:
    """The seeded random voices, line and gain of one call."""
    rng = random.Random(f"{seed}:{call_id}")
    agent_engine, debtor_engine = rng.sample(ENGINES, 2)
    gain = -round(rng.uniform(0.0, max_gain_db))
    return CallPlan(
        agent_voice=rng.choice(VOICES[agent_engine]),
        debtor_voice=rng.choice(VOICES[debtor_engine]),
        line=rng.choice(lines),
        gain_db=float(gain),
    )


def place(turns: tuple[Turn, ...], clips: list[Samples]) -> list[tuple[float, float]]:
    """``(start, speech end)`` of each clip: at the dialogue's time, pushed back (with every later
    turn) so that no clip starts before the previous one of its leg has ended."""
    shift = 0.0
    free = {Leg.AGENT: 0.0, Leg.DEBTOR: 0.0}
    out = []
    for turn, clip in zip(turns, clips, strict=True):
        start = max(turn.stime + shift, free[turn.leg])
        shift = start - turn.stime
        end = start + len(clip) / RATE
        free[turn.leg] = end + GAP_S
        pcm = np.clip(clip * 32768.0, -32768, 32767).astype(np.int16)
        out.append((start, start + speech_end(pcm, RATE)))
    return out


def assemble(
    dialogue: Dialogue, plan: CallPlan, tts: TtsCache, *, seed: int, noise: NoiseBank | None = None
) -> LiveCall:
    """The call's two legs as received over its line, and where each turn's speech lies."""
    voices = {Leg.AGENT: plan.agent_voice, Leg.DEBTOR: plan.debtor_voice}
    clips = [tts.speak(voices[t.leg], t.text, RATE) for t in dialogue.turns]
    spans = place(dialogue.turns, clips)
    length = int(
        (max((s + len(c) / RATE for (s, _), c in zip(spans, clips, strict=True)), default=0) + TAIL_S) * RATE
    )
    legs = {Leg.AGENT: np.zeros(length, dtype=np.float32), Leg.DEBTOR: np.zeros(length, dtype=np.float32)}
    for turn, clip, (start, _) in zip(dialogue.turns, clips, spans, strict=True):
        a = int(start * RATE)
        legs[turn.leg][a : a + len(clip)] += clip
    line = dataclasses.replace(plan.line, gain_db=plan.line.gain_db + plan.gain_db)
    received = {}
    for leg, x in legs.items():
        y, rate = line.apply(x, RATE, noise=noise, seed=f"{seed}:{dialogue.call_id}:{leg.value}")
        if rate != RATE:
            raise ConfigError(f"line {line.name} changed the rate to {rate}")
        received[leg] = np.clip(np.round(y * 32768.0), -32768, 32767).astype(np.int16)[:length]
    placed = tuple(
        PlacedTurn(t, voices[t.leg], s, e) for t, (s, e) in zip(dialogue.turns, spans, strict=True)
    )
    audio = CallAudio(RATE, received[Leg.AGENT], received[Leg.DEBTOR], f"[synthetic] {dialogue.call_id}")
    return LiveCall(dialogue, plan, audio, placed)
