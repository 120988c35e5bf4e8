"""``benchmarks/health_one_way.py`` on the real call MUL1011: a working call raises no ``one_way``;
each leg killed at 60 s is found, under the duration-only rule and the default one."""

from __future__ import annotations

from pathlib import Path

from agent_monitor.model.audio import Leg
from agent_monitor.settings import HealthSettings
from benchmarks.health_one_way import broken, measure, one_way_starts, real_case, row


def test_the_real_call_raises_no_one_way_and_each_dead_leg_is_found(eval_data: Path) -> None:
    case, cut = real_case(eval_data)
    for settings in (HealthSettings(one_way_pauses=0), HealthSettings()):
        tally = measure([(case, cut)], settings)
        assert (tally.legs, tally.false_legs, tally.broken, tally.found) == (2, 0, 2, 2)
        # found after the leg died (counted from its last sound, which may be before the cut)
        assert all(0.0 < d < 30.0 for d in tally.delays)
        assert row("x", tally).startswith("| x | 0/2 | 2/2 |")
    dead = broken(case, Leg.DEBTOR, cut)
    starts = one_way_starts(dead, HealthSettings())
    assert [leg for leg, _ in starts] == [Leg.DEBTOR] and starts[0][1] > cut
