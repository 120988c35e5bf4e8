"""Stereo call audio for the sending side: load a recorded call, splice in synthetic speech.

:class:`CallAudio` holds the two legs of a call as 16-bit samples at one rate.
:func:`synthetic_speech` renders text with espeak-ng (**synthetic** speech, used to script
violations for demos, scenario tests and the live benchmark); :meth:`CallAudio.splice` inserts
such a clip into one leg at a given time (the other leg gets silence of the same length, the real
audio after it is shifted, not covered), and reports where the clip's speech ends on the call
clock: the reference point of alert-latency measurements.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from agent_monitor.audio.decode import decode_file, split_legs
from agent_monitor.errors import AudioFormatError, StreamingClientError
from agent_monitor.model.audio import Leg

Int16Array = npt.NDArray[np.int16]


@dataclass(frozen=True, slots=True)
class Splice:
    """A synthetic clip spliced into a call: which leg, its text, and where its speech lies."""

    leg: Leg
    text: str
    start_s: float
    speech_end_s: float
    synthetic: bool = True


@dataclass(frozen=True)
class CallAudio:
    """The two legs of a call, equal length, 16-bit mono at ``sample_rate``."""

    sample_rate: int
    agent: Int16Array
    debtor: Int16Array
    source: str = ""
    splices: tuple[Splice, ...] = field(default=())

    @property
    def duration(self) -> float:
        return len(self.agent) / self.sample_rate

    def leg(self, leg: Leg) -> Int16Array:
        return self.agent if leg is Leg.AGENT else self.debtor

    def excerpt(self, start_s: float, duration_s: float | None) -> CallAudio:
        a = int(start_s * self.sample_rate)
        b = len(self.agent) if duration_s is None else a + int(duration_s * self.sample_rate)
        return CallAudio(
            self.sample_rate, self.agent[a:b].copy(), self.debtor[a:b].copy(), f"{self.source}[{start_s:g}s+]"
        )

    def quiet_point(self, leg: Leg, near_s: float, gap_s: float = 1.5, floor_dbfs: float = -40.0) -> float:
        """The middle of the first pause of at least ``gap_s`` on ``leg`` at or after ``near_s``
        (``near_s`` itself if there is none): a clip spliced there is an utterance of its own."""
        hop = max(1, self.sample_rate // 100)
        x = self.leg(leg)
        n = len(x) // hop
        if n == 0:
            return near_s
        frames = x[: n * hop].astype(np.float64).reshape(n, hop) / 32768.0
        quiet = np.sqrt(np.mean(frames**2, axis=1)) <= 10 ** (floor_dbfs / 20)
        need = int(gap_s * 100)
        run = 0
        for i in range(int(near_s * 100), n):
            run = run + 1 if quiet[i] else 0
            if run >= need:
                return (i + 1 - need / 2) * hop / self.sample_rate
        return near_s

    def splice(self, leg: Leg, clip: Int16Array, at_s: float, text: str) -> CallAudio:
        """Insert ``clip`` into ``leg`` at ``at_s`` (silence on the other leg)."""
        at = min(int(at_s * self.sample_rate), len(self.agent))
        silence = np.zeros(len(clip), dtype=np.int16)
        ins = {leg: clip.astype(np.int16), (Leg.DEBTOR if leg is Leg.AGENT else Leg.AGENT): silence}
        agent = np.concatenate([self.agent[:at], ins[Leg.AGENT], self.agent[at:]])
        debtor = np.concatenate([self.debtor[:at], ins[Leg.DEBTOR], self.debtor[at:]])
        start = at / self.sample_rate
        end = start + speech_end(clip, self.sample_rate)
        shifted = tuple(
            Splice(
                s.leg,
                s.text,
                s.start_s + len(clip) / self.sample_rate,
                s.speech_end_s + len(clip) / self.sample_rate,
            )
            if s.start_s >= start
            else s
            for s in self.splices
        )
        return CallAudio(
            self.sample_rate, agent, debtor, self.source, (*shifted, Splice(leg, text, start, end))
        )


def load_call_audio(
    path: Path, sample_rate: int = 8000, agent_channel: Literal["left", "right"] = "left"
) -> CallAudio:
    """Decode a recorded call; stereo is split into legs (mono: the agent leg, debtor silent)."""
    audio = decode_file(path, target_rate=sample_rate)
    if audio.channels > 2:
        raise AudioFormatError(str(path), f"{audio.channels} channels; a call needs 1 or 2")
    legs = split_legs(audio, None, agent_channel)
    agent = np.frombuffer(legs[Leg.AGENT], dtype="<i2").astype(np.int16)
    debtor = (
        np.frombuffer(legs[Leg.DEBTOR], dtype="<i2").astype(np.int16)
        if Leg.DEBTOR in legs
        else np.zeros_like(agent)
    )
    return CallAudio(sample_rate, agent, debtor, str(path))


def synthetic_speech(text: str, sample_rate: int, *, voice: str = "en-us", wpm: int = 150) -> Int16Array:
    """``text`` spoken by espeak-ng (synthetic), 16-bit at ``sample_rate``, with 0.5 s of silence
    before and 0.7 s after (the VAD pre-roll and end window then see the clip on its own)."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise StreamingClientError("espeak-ng is not installed; it renders the synthetic scripted speech")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "say.wav"
        proc = subprocess.run(
            [exe, "-v", voice, "-s", str(wpm), "-w", str(out), text],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 or not out.exists():
            raise StreamingClientError(f"espeak-ng failed: {proc.stderr.strip() or proc.returncode}")
        audio = decode_file(out, target_rate=sample_rate)
    pcm = np.clip(audio.samples[0] * 32768.0, -32768, 32767).astype(np.int16)
    pad = np.zeros(int(0.5 * sample_rate), dtype=np.int16)
    return np.concatenate([pad, pcm, np.zeros(int(0.7 * sample_rate), dtype=np.int16)])


def speech_end(clip: Int16Array, sample_rate: int, floor_dbfs: float = -40.0) -> float:
    """Seconds from the clip's start to the end of its last 10 ms frame above ``floor_dbfs``."""
    hop = max(1, sample_rate // 100)
    n = len(clip) // hop
    if n == 0:
        return 0.0
    frames = clip[: n * hop].astype(np.float64).reshape(n, hop) / 32768.0
    rms = np.sqrt(np.mean(frames**2, axis=1))
    loud = np.nonzero(rms > 10 ** (floor_dbfs / 20))[0]
    return 0.0 if len(loud) == 0 else float((loud[-1] + 1) * hop / sample_rate)
