"""Debtor stress as the live pipeline sees it: :class:`StressTrackers`, the
:class:`agent_monitor.model.stages.StressFactory` built by :mod:`agent_monitor.compose`."""

from __future__ import annotations

from agent_monitor.model.audio import Leg
from agent_monitor.settings import Settings
from emotion.tracker import StressTracker

#: the legs whose speaker is scored: the debtor (the agent's stress is not what is supervised)
SCORED_LEGS = frozenset({Leg.DEBTOR})


class StressTrackers:
    """One :class:`StressTracker` per scored leg, with the model of ``settings.stress.model_file``
    (loaded per leg: blocking, run it in a thread)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def scored(self, leg: Leg) -> bool:
        return leg in SCORED_LEGS

    def scorer(self, leg: Leg, t0: float) -> StressTracker:
        return StressTracker.for_leg(self.settings, self.settings.asr.sample_rate, leg, t0)
