"""The fusion policy: rule hits and debtor stress become the call's warning level, with reasons.

Policy (every number and level is a setting in ``settings.live.fusion``, defaults shown):

1. **Rule hits.** A hit's rule severity maps to a level: ``yellow -> yellow``, ``orange ->
   orange``, ``red -> red`` (``info -> none``). Withdrawn hits are ignored; provisional hits (seen
   on a partial transcript) count at once when ``act_on_provisional`` (the default, for a fast
   alert). A hit counts once per (leg, utterance, rule).
2. **Stress alone.** The debtor's stress level (after the tracker's smoothing and hysteresis):
   ``elevated -> yellow``, ``high -> orange``.
3. **Combination.** A hit while the debtor's stress is ``high`` (a high reading within
   ``combo_window_s`` = 30 s of the hit, before or after it) is one level higher: an orange rule
   with high stress is red, a yellow rule with high stress is orange.
4. **Repetition.** ``repeat_count`` (3) hits of at least yellow on things *said* (hits with
   evidence in a transcript; not must-say rules whose window passed, nor call-metadata hits)
   within ``repeat_window_s`` (120 s) raise the level one above the highest of them (three
   yellow hits make orange; a third orange hit makes red). A provisional hit that its final
   withdrew is no longer one of them.

The call level is the highest level any input has justified so far: it never goes down during a
call. Every rise is a :class:`LevelDecision` with the reasons at play; the pipeline turns it
into a stored alert (red: a high-sensitivity call, handoff and QA).

This module is pure (no I/O, no clock): feed it inputs in call-time order.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitStatus, RuleHit, Severity
from agent_monitor.model.session import LevelReason
from agent_monitor.model.stress import StressLevel, StressSample
from agent_monitor.settings import FusionSettings


@dataclass(frozen=True, slots=True)
class LevelDecision:
    """The call level rose from ``previous`` to ``level`` at call time ``t`` for ``reasons``."""

    t: float
    level: WarningLevel
    previous: WarningLevel
    reasons: tuple[LevelReason, ...]


@dataclass(frozen=True, slots=True)
class _CountedHit:
    t: float
    level: WarningLevel
    rule: str
    leg: Leg | None
    said: bool
    utterance: int | None = None


def hit_time(hit: RuleHit, default: float) -> float:
    """The call time of a hit's evidence (its end), or ``default`` when the hit has no times."""
    if hit.end is not None:
        return float(hit.end)
    if hit.start is not None:
        return float(hit.start)
    return default


class Fusion:
    """The fusion state of one call (see the module documentation)."""

    def __init__(self, settings: FusionSettings) -> None:
        self.settings = settings
        self.level = WarningLevel.NONE
        self._severity_level = {
            Severity.INFO: WarningLevel.NONE,
            Severity.YELLOW: settings.yellow_hit_level,
            Severity.ORANGE: settings.orange_hit_level,
            Severity.RED: settings.red_hit_level,
        }
        self._stress_level = {
            StressLevel.NONE: WarningLevel.NONE,
            StressLevel.ELEVATED: settings.stress_elevated_level,
            StressLevel.HIGH: settings.stress_high_level,
        }
        self._counted: set[tuple[str | None, int | None, str]] = set()
        self._recent: deque[_CountedHit] = deque()
        self._high_times: deque[tuple[float, float]] = deque()  # (t, score) of high readings
        #: every reason that justified a level so far, oldest first
        self.history: list[LevelReason] = []

    def level_of(self, severity: Severity) -> WarningLevel:
        return self._severity_level[severity]

    # --- inputs --------------------------------------------------------------------------------
    def _uncount(self, hit: RuleHit) -> None:
        """A withdrawn hit no longer counts towards repetition (the level it raised stays)."""
        gone = [c for c in self._recent if (c.rule, c.leg, c.utterance) == (hit.rule, hit.leg, hit.utterance)]
        for counted in gone:
            self._recent.remove(counted)

    def on_hit(self, status: HitStatus, hit: RuleHit, t: float) -> LevelDecision | None:
        """A rule hit event; ``t`` is the call time it refers to (see :func:`hit_time`)."""
        if status is HitStatus.WITHDRAWN:
            self._uncount(hit)
            return None
        if status is HitStatus.PROVISIONAL and not self.settings.act_on_provisional:
            return None
        key = (None if hit.leg is None else hit.leg.value, hit.utterance, hit.rule)
        if key in self._counted:
            return None
        base = self.level_of(hit.severity)
        if base is WarningLevel.NONE:
            return None
        self._counted.add(key)
        where = f" ({hit.leg} leg)" if hit.leg is not None else ""
        said = f": {hit.evidence!r}" if hit.evidence else ""
        reasons = [
            LevelReason(
                kind="rule",
                level=base,
                text=f"{hit.title}{where}{said}",
                t=t,
                rule=hit.rule,
                severity=hit.severity.value,
                leg=hit.leg,
                hit_status=status.value,
            )
        ]
        high = self._high_near(t)
        if self.settings.stress_high_bumps_hit and high is not None:
            reasons.append(self._combo(hit, base, t, status, high))
        self._recent.append(_CountedHit(t, base, hit.rule, hit.leg, hit.span is not None, hit.utterance))
        repeat = self._repeat(t) if hit.span is not None else None
        if repeat is not None:
            reasons.append(repeat)
        return self._decide(t, reasons)

    def on_stress(self, sample: StressSample) -> LevelDecision | None:
        """A stress reading of the debtor leg."""
        if sample.leg is not Leg.DEBTOR:
            return None
        level = self._stress_level[sample.level]
        t = sample.t
        reasons: list[LevelReason] = []
        if sample.level is StressLevel.HIGH:
            self._high_times.append((t, sample.score))
            while self._high_times and self._high_times[0][0] < t - 2 * self.settings.combo_window_s:
                self._high_times.popleft()
            if self.settings.stress_high_bumps_hit:
                for counted in self._recent:
                    if abs(counted.t - t) <= self.settings.combo_window_s:
                        reasons.append(
                            LevelReason(
                                kind="combo",
                                level=counted.level.bump(),
                                text=f"rule {counted.rule} with high debtor stress ({sample.score:.0f})",
                                t=t,
                                rule=counted.rule,
                                leg=counted.leg,
                                stress_level=sample.level.value,
                                stress_score=sample.score,
                            )
                        )
        if level is not WarningLevel.NONE:
            reasons.append(
                LevelReason(
                    kind="stress",
                    level=level,
                    text=f"debtor stress {sample.level.value} ({sample.score:.0f}/100)",
                    t=t,
                    leg=sample.leg,
                    stress_level=sample.level.value,
                    stress_score=sample.score,
                )
            )
        return self._decide(t, reasons)

    # --- helpers ---------------------------------------------------------------------------------
    def _high_near(self, t: float) -> tuple[float, float] | None:
        window = self.settings.combo_window_s
        near = [(ht, score) for ht, score in self._high_times if abs(ht - t) <= window]
        return max(near, key=lambda x: x[1]) if near else None

    def _combo(
        self, hit: RuleHit, base: WarningLevel, t: float, status: HitStatus, high: tuple[float, float]
    ) -> LevelReason:
        return LevelReason(
            kind="combo",
            level=base.bump(),
            text=f"{hit.title} with high debtor stress ({high[1]:.0f})",
            t=t,
            rule=hit.rule,
            severity=hit.severity.value,
            leg=hit.leg,
            hit_status=status.value,
            stress_level=StressLevel.HIGH.value,
            stress_score=high[1],
        )

    def _repeat(self, t: float) -> LevelReason | None:
        count = self.settings.repeat_count
        if count <= 0:
            return None
        window = self.settings.repeat_window_s
        while self._recent and self._recent[0].t < t - window:
            self._recent.popleft()
        recent = [c for c in self._recent if c.said and c.t <= t + window]
        if len(recent) < count:
            return None
        top = WarningLevel.highest(*(c.level for c in recent))
        rules = ", ".join(sorted({c.rule for c in recent}))
        return LevelReason(
            kind="repeat",
            level=top.bump(),
            text=f"{len(recent)} rule hits within {window:g} s ({rules})",
            t=t,
        )

    def _decide(self, t: float, reasons: list[LevelReason]) -> LevelDecision | None:
        if not reasons:
            return None
        new = WarningLevel.highest(*(r.level for r in reasons))
        if new.rank <= self.level.rank:
            return None
        previous, self.level = self.level, new
        ordered = tuple(sorted(reasons, key=lambda r: -r.level.rank))
        self.history.extend(ordered)
        return LevelDecision(t=t, level=new, previous=previous, reasons=ordered)
