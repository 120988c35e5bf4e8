"""Warm spare recognizers: decode a short synthetic sound once, at start-up, then reset.

A never-used ``KaldiRecognizer`` costs more CPU over its first seconds of speech than one that
has decoded before (measured with the small English model on 15 s of the SpokenWOZ call's agent
leg: 1.48-1.77 s of CPU new, 1.06-1.21 s after any 2 s of audio; most of it in the first four
seconds; speech-like sound warms as well as real speech from the call, white noise almost as
well). So a server that starts with never-used spares pays that for each of its first calls.

:func:`pseudo_speech` makes the warm-up sound in code, seeded: voiced stretches (a glottal pulse
train at a random pitch through three formant resonators of an English vowel), fricative noise
and pauses of 60-220 ms each. It is no language, only enough like speech to make the decoder
search its graph the way speech does. ``scipy.signal`` (its filters) is imported only when warm-up
sound is made: importing it costs about 76 MiB of resident memory per process, and on the static
graph (the default) no spare is warmed, so a server never needs it.
"""

from __future__ import annotations

import json

import numpy as np

from agent_monitor.errors import RecognizerError
from agent_monitor.model.audio import BYTES_PER_SAMPLE
from asr.recognizer import SpareRecognizer

#: first three formants (Hz) of English vowels (Peterson & Barney's averages for men)
VOWELS = (
    (730, 1090, 2440),
    (270, 2290, 3010),
    (530, 1840, 2480),
    (660, 1720, 2410),
    (300, 870, 2240),
    (640, 1190, 2390),
    (490, 1350, 1690),
    (440, 1020, 2240),
    (570, 840, 2410),
)


def lfilter(b: list[float], a: list[float], x: np.ndarray) -> np.ndarray:
    """``scipy.signal.lfilter``, imported on first use only (see the module's docstring)."""
    from scipy import signal

    return np.asarray(signal.lfilter(b, a, x))


def _resonator(x: np.ndarray, freq: float, bandwidth: float, rate: int) -> np.ndarray:
    r = np.exp(-np.pi * bandwidth / rate)
    theta = 2 * np.pi * freq / rate
    return np.asarray(lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], x))


def _voiced(n: int, rate: int, rng: np.random.Generator) -> np.ndarray:
    pulses = np.zeros(n)
    pulses[:: int(rate / rng.uniform(90.0, 230.0))] = 1.0
    source = lfilter([1.0], [1.0, -0.95], pulses)
    formants = VOWELS[rng.integers(len(VOWELS))]
    y = sum(_resonator(source, f, 80 + 40 * i, rate) / (i + 1) for i, f in enumerate(formants))
    return np.asarray(y) * np.hanning(n)


def pseudo_speech(seconds: float, rate: int, seed: int = 0) -> bytes:
    """``seconds`` of speech-like sound as 16-bit PCM at ``rate`` (peak at -10 dBFS)."""
    rng = np.random.default_rng(seed)
    total = int(seconds * rate)
    parts: list[np.ndarray] = []
    made = 0
    while made < total:
        n = int(rng.uniform(0.06, 0.22) * rate)
        kind = rng.choice(["voiced", "voiced", "voiced", "fricative", "pause"])
        if kind == "voiced":
            parts.append(_voiced(n, rate, rng))
        elif kind == "fricative":
            parts.append(lfilter([1.0, -0.9], [1.0], rng.standard_normal(n)) * 0.3 * np.hanning(n))
        else:
            parts.append(np.zeros(n))
        made += n
    x = np.concatenate(parts)[:total] if parts else np.zeros(0)
    x = x / (np.abs(x).max() + 1e-9) * 0.3
    return bytes((x * 32767).astype("<i2").tobytes())


def warm_up(spare: SpareRecognizer, pcm: bytes) -> SpareRecognizer:
    """Decode ``pcm`` on ``spare``, settle and reset it (blocking); its clock counts the audio."""
    step = 4000 * BYTES_PER_SAMPLE
    try:
        for i in range(0, len(pcm), step):
            spare.kaldi.AcceptWaveform(pcm[i : i + step])
        json.loads(spare.kaldi.FinalResult())
        spare.kaldi.Reset()
    except Exception as exc:  # vosk raises plain Exception on internal failure
        raise RecognizerError(f"warming a spare recognizer failed: {exc}") from exc
    return SpareRecognizer(spare.kaldi, spare.fed + len(pcm) // BYTES_PER_SAMPLE)
