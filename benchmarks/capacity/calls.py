"""The call sets: the real SpokenWOZ call, and dense SYNTHETIC calls spoken from prodigal dialogues.

Every call of a set gets two scripted agent violations (**synthetic** espeak-ng speech, "you are a
stupid idiot" in the first pause of the agent after 8 s, "shut up you idiot" in the first pause
after 25 s before the end), each an utterance of its own, so alert latency is measured the same way
on both sets.

- **spokenwoz**: N excerpts of the real 8 kHz stereo call ``calls/spokenwoz/MUL1011.opus``, each
  from a different offset;
- **dense**: the prodigal collection dialogues (``text/collection/prodigal``: both parties talk
  almost all the time) spoken as two-leg 8 kHz calls by the live evaluation
  (:mod:`agent_monitor.evaluation.live`: several TTS engines and voices, a telephone line and gain
  per call, its TTS cache); call i is dialogue i (seeded order, those at least a call long) from its start.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from agent_monitor.audio.conditions import needs_noise, parse_conditions
from agent_monitor.audio.noise import NoiseBank
from agent_monitor.evaluation.live.assemble import assemble, plan_call
from agent_monitor.evaluation.live.dialogues import choose, load_dialogues
from agent_monitor.evaluation.live.evaluate import DEFAULT_CONDITIONS
from agent_monitor.evaluation.live.tts import TtsCache
from agent_monitor.ingest.call_audio import CallAudio, load_call_audio, synthetic_speech
from agent_monitor.model.audio import Leg

VIOLATIONS = ("you are a stupid idiot", "shut up you idiot")
CALL_SETS = ("spokenwoz", "dense")
LABEL = {
    "spokenwoz": "real SpokenWOZ call MUL1011 (8 kHz stereo) + 2 SYNTHETIC espeak-ng agent violations",
    "dense": "SYNTHETIC dense calls: prodigal dialogues spoken by espeak-ng/flite/festival voices over "
    "telephone lines (8 kHz, two legs) + 2 SYNTHETIC agent violations",
}


def with_violations(audio: CallAudio, duration: float) -> CallAudio:
    """``audio`` with the two scripted violations spliced into agent pauses."""
    clips = [synthetic_speech(text, audio.sample_rate) for text in VIOLATIONS]
    late = audio.quiet_point(Leg.AGENT, max(12.0, duration - 25.0))
    audio = audio.splice(Leg.AGENT, clips[1], late, f"[synthetic] {VIOLATIONS[1]}")
    return audio.splice(
        Leg.AGENT, clips[0], audio.quiet_point(Leg.AGENT, 8.0), f"[synthetic] {VIOLATIONS[0]}"
    )


def spokenwoz_calls(data_dir: Path, n: int, duration: float) -> list[CallAudio]:
    base = load_call_audio(data_dir / "calls" / "spokenwoz" / "MUL1011.opus", 8000)
    span = max(0.0, base.duration - duration)
    return [
        with_violations(base.excerpt((i * 23.0) % span if span else 0.0, duration), duration)
        for i in range(n)
    ]


def dense_calls(data_dir: Path, tts_cache: Path, n: int, duration: float, seed: int = 0) -> list[CallAudio]:
    """``n`` dense calls (dialogues reused in order when ``n`` exceeds their number)."""
    lines = parse_conditions(DEFAULT_CONDITIONS)
    noise = NoiseBank.from_data_dir(data_dir) if needs_noise(lines) else None
    every = choose(load_dialogues(data_dir, "all"), None, seed)
    # dialogues that last the whole call (their own times; spoken turns only push them longer)
    dialogues = [d for d in every if max((t.etime for t in d.turns), default=0.0) >= duration] or every
    tts = TtsCache(tts_cache)
    spoken: dict[str, CallAudio] = {}
    out = []
    for i in range(n):
        d = dialogues[i % len(dialogues)]
        if d.call_id not in spoken:
            plan = plan_call(d.call_id, seed, lines)
            spoken[d.call_id] = assemble(d, plan, tts, seed=seed, noise=noise).audio
        out.append(with_violations(spoken[d.call_id].excerpt(0.0, duration), duration))
    return out


def build(call_set: str, data_dir: Path, tts_cache: Path, n: int, duration: float) -> list[CallAudio]:
    if call_set == "spokenwoz":
        return spokenwoz_calls(data_dir, n, duration)
    if call_set == "dense":
        return dense_calls(data_dir, tts_cache, n, duration)
    raise ValueError(f"unknown call set {call_set!r} (one of {', '.join(CALL_SETS)})")


WARMUP_LINES = (
    "hello, this is a call about your account with us",
    "can you confirm your name and date of birth please",
    "I understand, we can set up a payment plan that works for you",
    "thank you for your time, have a good day",
)


def warmup_calls(n: int, sample_rate: int = 8000) -> list[CallAudio]:
    """``n`` short stereo calls of SYNTHETIC speech (espeak-ng), the legs taking turns."""
    agent = [synthetic_speech(line, sample_rate) for line in WARMUP_LINES]
    debtor = [synthetic_speech(line, sample_rate, voice="en-gb") for line in WARMUP_LINES[::-1]]
    pause = np.zeros(sample_rate // 2, dtype=np.int16)
    a_parts: list[np.ndarray[Any, Any]] = []
    d_parts: list[np.ndarray[Any, Any]] = []
    for a, d in zip(agent, debtor, strict=True):
        a_parts += [a, pause, np.zeros(len(d), dtype=np.int16), pause]
        d_parts += [np.zeros(len(a), dtype=np.int16), pause, d, pause]
    call = CallAudio(sample_rate, np.concatenate(a_parts), np.concatenate(d_parts), "synthetic warm-up")
    return [call] * n
