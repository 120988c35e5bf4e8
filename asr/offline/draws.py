"""Repeatable draws of Kaldi's random dither, so that an evaluation can compare like with like.

Kaldi's feature extraction adds Gaussian noise to every frame before the features (``--dither``,
1.0 by default; Vosk's models keep the default). The noise comes from a ``RandomState`` made per
frame and seeded from the C library's ``rand()`` (kaldi ``feat/feature-window.cc``: ``Dither``;
``base/kaldi-math.cc``: ``RandomState::RandomState() { seed = Rand() + 27437; }``). ``libvosk.so``
links the C library dynamically, so ``srand(seed)`` before a decode fixes its draw: the same audio
decoded after the same seed gives the same words and confidences, another seed another draw
(``tests/asr/offline/test_draws.py``).

The same audio decoded twice with the default dither can give other words (plain Vosk moved
2-3 points between draws on the noisy conditions; see README), so one draw of plain Vosk against
one draw of the pipeline mixes that randomness into the difference. The evaluation decodes every
clip ``draws`` times on both sides, draw ``k`` of either side seeded alike (:func:`draw_seed`), and
averages over the draws; the interval resamples clips and draws (:mod:`asr.offline.report`).
"""

from __future__ import annotations

import ctypes
import hashlib
from functools import cache


@cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None)


def draw_seed(clip: str, condition: str, draw: int) -> int:
    """The seed of draw ``draw`` of ``clip`` under ``condition`` (stable across runs and machines)."""
    digest = hashlib.sha256(f"{clip}\0{condition}\0{draw}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def seed_dither(seed: int) -> None:
    """Seed the process-wide ``rand()`` that Kaldi's dither draws from (call right before a decode,
    with no other decode running in the process)."""
    _libc().srand(ctypes.c_uint(seed))
