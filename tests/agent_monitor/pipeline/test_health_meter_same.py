"""The signal-health meter's cheap per-frame path finds what the straightforward computation finds.

:class:`ReferenceMeter` below is the meter as it was before its per-frame cost was cut: each block
concatenates the window's frame levels and takes ``np.percentile`` of them, counts clipped samples
and loud blocks over the whole window. The meter now keeps a ring of levels, one sort per block and
running sums. On the whole real call MUL1011 (about 3 minutes, 8 kHz), as it is, with a silent leg,
with mu-law bytes declared as L16, clipped, 40 dB quieter and under babble, both must give the same
readings and :class:`CallHealth` the same events (issue, leg, time, message and figures)."""

from __future__ import annotations

from collections import deque
from dataclasses import fields
from pathlib import Path

import numpy as np
import numpy.typing as npt

from agent_monitor.audio.conditions import CONDITIONS, Condition
from agent_monitor.audio.decode import float_to_pcm16
from agent_monitor.audio.g711 import mulaw_encode
from agent_monitor.audio.noise import NoiseBank
from agent_monitor.model.audio import Leg
from agent_monitor.model.events import SignalHealth
from agent_monitor.pipeline.health import CallHealth
from agent_monitor.pipeline.health_meter import (
    BLOCK_S,
    FRAME_S,
    FULL_SCALE,
    SPEECH_BLOCK_SHARE,
    Block,
    LegMeter,
    LegReading,
    active_level,
    frame_levels,
    spectral_flatness,
)
from agent_monitor.settings import HealthSettings

RATE = 8000
FRAME = 160  # 20 ms


class ReferenceMeter:
    """The meter's figures computed the plain way, over the whole window at every block."""

    def __init__(self, settings: HealthSettings, sample_rate: int) -> None:
        self.settings = settings
        self.rate = sample_rate
        self.frame = max(1, round(FRAME_S * sample_rate))
        self.block = self.frame * round(BLOCK_S / FRAME_S)
        self.started = False
        self.t = self.started_at = self.last_speech_t = self.last_signal_t = 0.0
        self._carry = np.zeros(0, dtype=np.int16)
        self._blocks: deque[Block] = deque(maxlen=max(1, round(settings.window_s / BLOCK_S)))

    def push(self, pcm: bytes, t_start: float) -> list[LegReading]:
        x = np.frombuffer(pcm, dtype="<i2")
        if not self.started:
            self.started = True
            self.started_at = self.last_speech_t = self.last_signal_t = t_start
        if not len(self._carry):
            self.t = t_start
        buf = np.concatenate([self._carry, x]) if len(self._carry) else x
        readings = []
        start = 0
        while len(buf) - start >= self.block:
            readings.append(self._block(buf[start : start + self.block]))
            start += self.block
        self._carry = buf[start:].copy()
        return readings

    def _block(self, x: npt.NDArray[np.int16]) -> LegReading:
        s = self.settings
        db = frame_levels(x, self.frame)
        self.t += len(x) / self.rate
        loud = db > s.mismatch_dbfs
        clipped = int(np.count_nonzero(np.abs(x.astype(np.int32)) >= FULL_SCALE))
        flatness = spectral_flatness(x, self.frame, loud)
        self._blocks.append(Block(self.t, db, clipped, len(x), flatness, int(np.count_nonzero(loud))))
        levels = np.concatenate([b.frame_db for b in self._blocks])
        noise = float(np.percentile(levels, 10))
        threshold = max(noise + s.speech_margin_db, s.dead_dbfs)
        if np.mean(db > threshold) >= SPEECH_BLOCK_SHARE:
            self.last_speech_t = self.t
        alive = np.nonzero(db > s.dead_dbfs)[0]
        if len(alive):
            self.last_signal_t = self.t - (len(db) - 1 - int(alive[-1])) * FRAME_S
        active = levels[levels > threshold]
        loud_blocks = [b for b in self._blocks if b.loud >= s.mismatch_loud_share * len(b.frame_db)]
        spread = float(np.percentile(active, 90) - np.percentile(active, 10)) if len(active) else 0.0
        return LegReading(
            t=self.t,
            noise_dbfs=noise,
            speech_dbfs=active_level(active),
            speech_s=len(active) * FRAME_S,
            speech_spread_db=spread,
            peak_spread_db=float(np.percentile(levels, 95)) - noise,
            clip_share=sum(b.clipped for b in self._blocks) / max(1, len(active) * self.frame),
            white_s=sum(1 for b in loud_blocks if b.flatness >= s.mismatch_flatness) * BLOCK_S,
            tonal_s=sum(1 for b in loud_blocks if b.flatness < s.mismatch_flatness / 2) * BLOCK_S,
            last_speech_t=self.last_speech_t,
            last_signal_t=self.last_signal_t,
        )


def cases(legs: tuple[np.ndarray, np.ndarray], eval_data: Path) -> dict[str, tuple[bytes, bytes]]:
    agent, debtor = legs
    muted = debtor.copy()
    muted[: 45 * RATE] = 0.0
    mulaw = mulaw_encode(np.frombuffer(float_to_pcm16(debtor), dtype="<i2"))
    babble = Condition("babble-snr0", noise="babble", snr_db=0.0)
    noisy, _ = babble.apply(debtor, RATE, noise=NoiseBank.from_data_dir(eval_data), seed=1)
    quiet, _ = CONDITIONS["gain-40"].apply(debtor, RATE)
    return {
        "as it is": (float_to_pcm16(agent), float_to_pcm16(debtor)),
        "silent debtor for 45 s": (float_to_pcm16(agent), float_to_pcm16(muted)),
        "debtor sends nothing": (float_to_pcm16(agent[: 40 * RATE]), b""),
        "mu-law declared as L16": (float_to_pcm16(agent[: len(mulaw) // 2]), mulaw),
        "clipped agent": (float_to_pcm16(np.clip(agent * 4.0, -1.0, 1.0)), float_to_pcm16(debtor)),
        "debtor 40 dB down": (float_to_pcm16(agent), float_to_pcm16(quiet)),
        "babble at 0 dB on the debtor": (float_to_pcm16(agent), float_to_pcm16(noisy)),
    }


def run(health: CallHealth, agent: bytes, debtor: bytes, step: int = FRAME * 2) -> list[SignalHealth]:
    events: list[SignalHealth] = []
    for i in range(0, max(len(agent), len(debtor)), step):
        if i < len(agent):
            events += health.push(Leg.AGENT, agent[i : i + step], i / 2 / RATE)
        if i < len(debtor):
            events += health.push(Leg.DEBTOR, debtor[i : i + step], i / 2 / RATE)
    return events


def reference_health() -> CallHealth:
    health = CallHealth("c1", HealthSettings(), RATE, "L16")
    health.meters = {leg: ReferenceMeter(HealthSettings(), RATE) for leg in health.meters}  # type: ignore[misc]
    return health


def same_reading(a: LegReading, b: LegReading) -> bool:
    """Equal figures (within 1e-4 dB / s / share: the sort and the running sums add in another order)."""
    for f in fields(LegReading):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if x is None or y is None:
            if x is not y:
                return False
        elif abs(x - y) > 1e-4:
            return False
    return True


def test_readings_equal_the_plain_computation_on_the_real_call(
    legs: tuple[np.ndarray, np.ndarray], eval_data: Path
) -> None:
    compared = 0
    for name, (agent, debtor) in cases(legs, eval_data).items():
        for data in (agent, debtor):
            meter, ref = LegMeter(HealthSettings(), RATE), ReferenceMeter(HealthSettings(), RATE)
            for i in range(0, len(data), FRAME * 2):
                frame = data[i : i + FRAME * 2]
                got, want = meter.push(frame, i / 2 / RATE), ref.push(frame, i / 2 / RATE)
                assert len(got) == len(want)
                for g, w in zip(got, want, strict=True):
                    assert same_reading(g, w), (name, g, w)
                    compared += 1
    assert compared > 5000


def test_health_events_are_unchanged_on_the_real_call(
    legs: tuple[np.ndarray, np.ndarray], eval_data: Path
) -> None:
    found = set()
    for name, (agent, debtor) in cases(legs, eval_data).items():
        want = run(reference_health(), agent, debtor)
        got = run(CallHealth("c1", HealthSettings(), RATE, "L16"), agent, debtor)
        assert got == want, name
        found |= {(e.health.issue.value, e.health.active) for e in got}
    # the cases do raise (and clear) what they should: the comparison is not between two empty lists
    assert {("silent", True), ("one_way", True), ("encoding_mismatch", True), ("clipping", True)} <= found
    assert {("low_level", True), ("noisy", True), ("silent", False)} <= found


def test_frame_size_does_not_change_the_readings(legs: tuple[np.ndarray, np.ndarray]) -> None:
    """A sender's frame size (20 ms, 1 s, odd sizes) gives the same blocks and readings."""
    agent = float_to_pcm16(legs[0][: 30 * RATE])
    readings = []
    for step in (FRAME * 2, 8000 * 2, 374):
        meter = LegMeter(HealthSettings(), RATE)
        out: list[LegReading] = []
        for i in range(0, len(agent), step):
            out += meter.push(agent[i : i + step], i / 2 / RATE)
        readings.append(out)
    assert len(readings[0]) == int(30 / 0.24)
    for other in readings[1:]:
        assert len(other) == len(readings[0])
        assert all(same_reading(a, b) for a, b in zip(readings[0], other, strict=True))
