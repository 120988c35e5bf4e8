"""Random telephone lines for training: the model learns what survives gain, codecs and noise.

Each training variant ``k`` puts every speaker on one random line (a call is one line): a gain
between 0 and -40 dB, a codec (none, 8 kHz G.711 mu-law or A-law, GSM, AMR-NB, Opus), real line
noise or babble at 10-30 dB SNR or none, and 2% packet loss now and then. Each clip then gets
its own small gain change on top (+-3 dB: the same caller speaks louder or softer), never above
the recording's own level. The draw is a pure function of (speaker, clip, k), so training is
reproducible. Lines are :class:`agent_monitor.audio.conditions.Condition` s: the same simulator
as the evaluation grid.
"""

from __future__ import annotations

import zlib

import numpy as np

from agent_monitor.audio.conditions import Condition

#: codecs of the training lines and how often each is drawn (None: no codec, the original rate)
CODEC_CHOICES: tuple[tuple[str | None, float], ...] = (
    (None, 0.2),
    ("mulaw", 0.25),
    ("alaw", 0.15),
    ("gsm", 0.15),
    ("amr", 0.1),
    ("opus", 0.15),
)
NOISE_CHOICES: tuple[tuple[str | None, float], ...] = ((None, 0.5), ("line", 0.25), ("babble", 0.25))
GAIN_RANGE_DB = (-40.0, 0.0)
CLIP_JITTER_DB = 3.0
SNR_RANGE_DB = (10.0, 30.0)
LOSS_PROBABILITY = 0.15
LOSS = 0.02


def _rng(*parts: object) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("\0".join(map(str, parts)).encode()))


def _choose(rng: np.random.Generator, choices: tuple[tuple[str | None, float], ...]) -> str | None:
    names = [c for c, _ in choices]
    p = np.array([w for _, w in choices])
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def training_line(speaker: str, clip: str, k: int) -> Condition:
    """The line of ``speaker``'s clip ``clip`` in training variant ``k`` (named ``aug{k}``)."""
    rng = _rng("line", speaker, k)
    gain = float(rng.uniform(*GAIN_RANGE_DB))
    codec = _choose(rng, CODEC_CHOICES)
    noise = _choose(rng, NOISE_CHOICES)
    snr = float(rng.uniform(*SNR_RANGE_DB)) if noise is not None else None
    loss = LOSS if rng.random() < LOSS_PROBABILITY else 0.0
    jitter = float(_rng("clip", speaker, clip, k).uniform(-CLIP_JITTER_DB, CLIP_JITTER_DB))
    gain = min(0.0, gain + jitter)
    if loss and codec is None:
        codec = "mulaw"  # packets exist only on a coded line
    return Condition(f"aug{k}", gain_db=round(gain, 2), codec=codec, noise=noise, snr_db=snr, loss=loss)


def variant_names(n: int) -> tuple[str, ...]:
    return tuple(f"aug{k}" for k in range(n))
