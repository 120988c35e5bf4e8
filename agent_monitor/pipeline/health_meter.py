"""Level meter of one call leg: cheap numpy over the 16-bit PCM the session receives.

The leg's audio is cut into 20 ms frames and summarised in blocks of :data:`BLOCK_S`; a block keeps
each frame's RMS level (dBFS: re a full-scale square wave, 32768), how many samples
sat at full scale and the block's spectral flatness. A :class:`LegReading` is the meter's view over
the last ``window_s`` seconds:

* ``noise_dbfs``: the noise floor, the 10th percentile of the frame levels;
* ``speech_dbfs``: the active speech level of the frames ``speech_margin_db`` above the floor (and
  above ``dead_dbfs``), computed as ITU-T P.56 does (:func:`active_level`); ``speech_s`` how much
  of the window such frames cover;
* ``peak_spread_db``: the 95th minus the 10th percentile of the frame levels (a speech-to-noise
  figure that needs no speech decision);
* ``clip_share``: the share of the active frames' samples at full scale;
* ``white_s``/``tonal_s``: seconds of loud blocks (at least ``mismatch_loud_share`` of the frames
  above ``mismatch_dbfs``) whose loud frames are white-like (spectral flatness at least
  ``mismatch_flatness``; white noise ~0.5) or clearly not (below half of it; speech ~0.01-0.15).
  Bytes of another encoding read as L16 (mu-law bytes sent as L16) are loud white-like noise.

``last_speech_t`` is the end of the last block in which at least :data:`SPEECH_BLOCK_SHARE` of the
frames were active; ``last_signal_t`` the end of the last frame above ``dead_dbfs`` (anything on
the line at all). Times are call-clock seconds. No ``librosa``: one ``rfft`` per block.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agent_monitor.settings import HealthSettings

FRAME_S = 0.02
#: frames are summarised (and issues decided) in blocks of this length
BLOCK_S = 0.25
#: a block "has speech" when at least this share of its frames are active
SPEECH_BLOCK_SHARE = 0.3
#: a sample this close to full scale counts as clipped (mu-law decodes to at most 32124)
FULL_SCALE = 32000
#: ITU-T P.56 counts frames at most this far below the active level
P56_MARGIN_DB = 15.9
#: level of digital silence (log of zero)
FLOOR_DBFS = -120.0


@dataclass(frozen=True, slots=True)
class Block:
    """The summary of :data:`BLOCK_S` of one leg's audio."""

    t_end: float
    frame_db: npt.NDArray[np.float32]
    clipped: int
    samples: int
    flatness: float
    loud: int


@dataclass(frozen=True, slots=True)
class LegReading:
    """What a leg's meter says at call time ``t`` (see the module documentation)."""

    t: float
    noise_dbfs: float
    speech_dbfs: float | None
    speech_s: float
    speech_spread_db: float
    peak_spread_db: float
    clip_share: float
    white_s: float
    tonal_s: float
    last_speech_t: float
    last_signal_t: float


def frame_levels(x: npt.NDArray[np.int16], frame: int) -> npt.NDArray[np.float32]:
    """RMS level in dBFS of each whole ``frame`` of ``x``."""
    n = len(x) // frame
    f = x[: n * frame].reshape(n, frame).astype(np.float32) / 32768.0
    power = np.mean(f * f, axis=1)
    return (10.0 * np.log10(np.maximum(power, 10 ** (FLOOR_DBFS / 10)))).astype(np.float32)


def spectral_flatness(x: npt.NDArray[np.int16], frame: int, keep: npt.NDArray[np.bool_]) -> float:
    """Median spectral flatness of the frames marked in ``keep`` (0 when none is)."""
    n = min(len(x) // frame, len(keep))
    keep = keep[:n]
    if not keep.any():
        return 0.0
    f = x[: n * frame].reshape(n, frame)[keep].astype(np.float32)
    f -= f.mean(axis=1, keepdims=True)
    spec = np.abs(np.fft.rfft(f * np.hanning(frame).astype(np.float32), axis=1))[:, 1:] ** 2 + 1e-3
    flat = np.exp(np.mean(np.log(spec), axis=1)) / np.mean(spec, axis=1)
    return float(np.median(flat))


class LegMeter:
    """The level meter of one leg (see the module documentation).

    Cheap per frame: a frame's bytes are only appended to a buffer; the numpy work runs once per
    block. The window's frame levels live in a ring (the order of levels does not matter to any
    figure), sorted once per block, and every percentile is read off that one sorted copy; the
    window's clipped samples and loud-block counts are running sums."""

    def __init__(self, settings: HealthSettings, sample_rate: int) -> None:
        self.settings = settings
        self.rate = sample_rate
        self.frame = max(1, round(FRAME_S * sample_rate))
        self.frames_per_block = round(BLOCK_S / FRAME_S)
        self.block = self.frame * self.frames_per_block
        self.started = False
        self.t = self.started_at = self.last_speech_t = self.last_signal_t = 0.0
        self._pending = bytearray()
        self._blocks: deque[Block] = deque()
        self._max_blocks = max(1, round(settings.window_s / BLOCK_S))
        self._levels = np.zeros(self._max_blocks * self.frames_per_block, dtype=np.float32)
        self._clipped = self._white = self._tonal = self._slot = 0

    def push(self, pcm: bytes, t_start: float) -> list[LegReading]:
        """Take PCM that starts at call time ``t_start``; one reading per finished block."""
        if not self.started:
            self.started = True
            self.started_at = self.last_speech_t = self.last_signal_t = t_start
        if not self._pending:
            self.t = t_start
        self._pending += pcm
        size = self.block * 2
        if len(self._pending) < size:
            return []
        whole = len(self._pending) // size * size
        x = np.frombuffer(bytes(self._pending[:whole]), dtype="<i2")
        del self._pending[:whole]
        return [self._block(x[i : i + self.block]) for i in range(0, len(x), self.block)]

    def _block(self, x: npt.NDArray[np.int16]) -> LegReading:
        s = self.settings
        db = frame_levels(x, self.frame)
        self.t += len(x) / self.rate
        loud = db > s.mismatch_dbfs
        block = Block(
            t_end=self.t,
            frame_db=db,
            clipped=int(np.count_nonzero((x >= FULL_SCALE) | (x <= -FULL_SCALE))),
            samples=len(x),
            flatness=spectral_flatness(x, self.frame, loud),
            loud=int(np.count_nonzero(loud)),
        )
        levels = self._add(block)
        noise = percentile_sorted(levels, 10)
        threshold = max(noise + s.speech_margin_db, s.dead_dbfs)
        if np.count_nonzero(db > threshold) >= SPEECH_BLOCK_SHARE * len(db):
            self.last_speech_t = self.t
        alive = np.nonzero(db > s.dead_dbfs)[0]
        if len(alive):
            self.last_signal_t = self.t - (len(db) - 1 - int(alive[-1])) * FRAME_S
        active = levels[int(np.searchsorted(levels, np.float32(threshold), side="right")) :]
        return LegReading(
            t=self.t,
            noise_dbfs=noise,
            speech_dbfs=active_level(active),
            speech_s=len(active) * FRAME_S,
            speech_spread_db=percentile_sorted(active, 90) - percentile_sorted(active, 10)
            if len(active)
            else 0.0,
            peak_spread_db=percentile_sorted(levels, 95) - noise,
            clip_share=self._clipped / max(1, len(active) * self.frame),
            white_s=self._white * BLOCK_S,
            tonal_s=self._tonal * BLOCK_S,
            last_speech_t=self.last_speech_t,
            last_signal_t=self.last_signal_t,
        )

    def _add(self, block: Block) -> npt.NDArray[np.float32]:
        """Put ``block`` into the window (the oldest leaves a full one); the window's frame levels, sorted."""
        if len(self._blocks) == self._max_blocks:
            self._count(self._blocks.popleft(), -1)
        slot = (self._slot % self._max_blocks) * self.frames_per_block
        self._slot += 1
        self._levels[slot : slot + len(block.frame_db)] = block.frame_db
        self._blocks.append(block)
        self._count(block, 1)
        return np.sort(self._levels[: len(self._blocks) * self.frames_per_block])

    def _count(self, block: Block, sign: int) -> None:
        """Add (``sign`` 1) or remove (-1) a block's share of the window's running sums."""
        s = self.settings
        self._clipped += sign * block.clipped
        if block.loud >= s.mismatch_loud_share * len(block.frame_db):
            if block.flatness >= s.mismatch_flatness:
                self._white += sign
            elif block.flatness < s.mismatch_flatness / 2:
                self._tonal += sign


def percentile_sorted(x: npt.NDArray[np.float32], q: float) -> float:
    """The ``q``-th percentile of the sorted, non-empty ``x`` (linear interpolation, as ``np.percentile``)."""
    pos = q / 100.0 * (len(x) - 1)
    lo = int(pos)
    if lo >= len(x) - 1:
        return float(x[-1])
    a, b = float(x[lo]), float(x[lo + 1])
    return a + (b - a) * (pos - lo)


def active_level(active: npt.NDArray[np.float32]) -> float | None:
    """The active speech level (dBFS) of the active frames' levels, after ITU-T P.56: the power mean
    of the frames at most :data:`P56_MARGIN_DB` below it (two refinements), so that quiet tails
    and breaths do not pull a normal talker's level down."""
    if not len(active):
        return None
    power = 10.0 ** (active.astype(np.float64) / 10.0)
    level = float(10.0 * np.log10(np.mean(power)))
    for _ in range(2):
        kept = power[active >= level - P56_MARGIN_DB]
        level = float(10.0 * np.log10(np.mean(kept)))
    return level
