"""The alert policy on its own (no I/O): which hit warns the agent, which row a hit event stores or
settles, when an alert asks for a handoff and when the call is queued for QA."""

from __future__ import annotations

import itertools
from dataclasses import replace

from agent_monitor.model.audio import Leg
from agent_monitor.model.levels import WarningLevel
from agent_monitor.model.rules import HitEvent, HitStatus, RuleHit, Severity
from agent_monitor.model.stress import BaselineStatus, StressLevel, StressSample
from agent_monitor.pipeline.policy import AlertPolicy, HitRow
from agent_monitor.settings import FusionSettings

P, C, W = HitStatus.PROVISIONAL, HitStatus.CONFIRMED, HitStatus.WITHDRAWN


def hit(rule: str = "A", severity: Severity = Severity.YELLOW, utt: int = 0, t: float = 5.0) -> RuleHit:
    return RuleHit(
        rule=rule,
        title=f"title {rule}",
        category="insult",
        severity=severity,
        leg=Leg.AGENT,
        span=(0, 5),
        evidence="words",
        reason="r",
        citation="c",
        utterance=utt,
        start=t - 0.5,
        end=t,
    )


def policy(qa_level: WarningLevel = WarningLevel.ORANGE, **fusion: object) -> AlertPolicy:
    keys = (f"k{i}" for i in itertools.count())
    return AlertPolicy(FusionSettings(**fusion), qa_level, new_key=lambda: next(keys))


def test_agent_is_warned_once_per_hit_already_when_provisional() -> None:
    p = policy()
    first = p.on_hit(HitEvent(P, hit()), 0.0)
    assert first.warn_agent and first.t == 5.0
    assert not p.on_hit(HitEvent(C, hit()), 0.0).warn_agent  # the same utterance's hit: warned once
    assert p.on_hit(HitEvent(C, hit(utt=1)), 0.0).warn_agent  # another utterance warns again


def test_no_warning_for_the_debtor_leg_info_severity_or_a_withdrawal() -> None:
    p = policy()
    assert not p.on_hit(HitEvent(C, replace(hit(), leg=Leg.DEBTOR)), 0.0).warn_agent
    assert not p.on_hit(HitEvent(C, hit("I", Severity.INFO)), 0.0).warn_agent
    assert not p.on_hit(HitEvent(W, hit("B")), 0.0).warn_agent


def test_a_debtor_leg_hit_with_wording_for_the_agent_is_a_cue_once() -> None:
    """ "Wrong number" on the debtor leg (info, with the wording the agent should use): the agent is
    cued once, when the final confirms it; the debtor's other words warn nobody."""
    p = policy()
    cue = replace(hit("WP", Severity.INFO), leg=Leg.DEBTOR, compliant="say nothing about the debt")
    assert not p.on_hit(HitEvent(P, replace(cue, compliant=None)), 0.0).warn_agent
    assert p.on_hit(HitEvent(C, cue), 0.0).warn_agent
    assert not p.on_hit(HitEvent(C, cue), 0.0).warn_agent
    assert not p.on_hit(HitEvent(W, replace(cue, utterance=2)), 0.0).warn_agent


def test_provisional_hits_warn_only_when_acted_on() -> None:
    p = policy(act_on_provisional=False)
    d = p.on_hit(HitEvent(P, hit()), 0.0)
    assert not d.warn_agent and d.alert is None
    d = p.on_hit(HitEvent(C, hit()), 0.0)
    assert d.warn_agent and d.alert is not None and d.alert.level.level is WarningLevel.YELLOW


def test_provisional_rows_are_settled_by_the_final_oldest_first() -> None:
    p = policy()
    a = p.on_hit(HitEvent(P, hit()), 0.0)
    b = p.on_hit(HitEvent(P, hit()), 0.0)  # the rule twice in one partial utterance
    assert (a.row, a.hit_key, b.row, b.hit_key) == (HitRow.NEW, "k0", HitRow.NEW, "k1")
    assert p.hits == 2
    confirmed = p.on_hit(HitEvent(C, hit()), 0.0)
    withdrawn = p.on_hit(HitEvent(W, hit()), 0.0)
    assert (confirmed.row, confirmed.hit_key) == (HitRow.SETTLE, "k0")
    assert (withdrawn.row, withdrawn.hit_key) == (HitRow.SETTLE, "k1")
    assert p.hits == 1  # the withdrawn one is taken back


def test_unannounced_confirmed_hit_is_new_and_a_stray_withdrawal_stores_nothing() -> None:
    p = policy()
    d = p.on_hit(HitEvent(C, hit("B")), 0.0)
    assert (d.row, d.hit_key) == (HitRow.NEW, "k0")
    stray = p.on_hit(HitEvent(W, hit("C")), 0.0)
    assert (stray.row, stray.hit_key) == (HitRow.NONE, None)
    assert p.hits == 1


def test_hit_without_times_takes_the_given_call_time() -> None:
    untimed = replace(hit(), start=None, end=None)
    assert policy().on_hit(HitEvent(C, untimed), 42.0).t == 42.0


def test_red_asks_for_handoff_and_qa_is_queued_once_per_higher_level() -> None:
    p = policy(qa_level=WarningLevel.ORANGE)
    yellow = p.on_hit(HitEvent(C, hit("Y", Severity.YELLOW, 0, 1.0)), 0.0).alert
    assert yellow is not None and not yellow.handoff and not yellow.queue_qa  # below the QA level
    orange = p.on_hit(HitEvent(C, hit("O", Severity.ORANGE, 1, 2.0)), 0.0).alert
    assert orange is not None and not orange.handoff and orange.queue_qa
    assert orange.qa_reason.startswith("title O")
    red = p.on_hit(HitEvent(C, hit("R", Severity.RED, 2, 3.0)), 0.0).alert
    assert red is not None and red.handoff and red.queue_qa and red.t == 3.0
    assert p.on_hit(HitEvent(C, hit("R2", Severity.RED, 3, 4.0)), 0.0).alert is None  # level stays red
    assert p.level is WarningLevel.RED


def test_stress_alone_raises_alerts() -> None:
    p = policy(qa_level=WarningLevel.YELLOW)
    calm = StressSample(t=1.0, score=10.0, level=StressLevel.NONE, baseline=BaselineStatus.RELATIVE)
    assert p.on_stress(calm) is None
    high = StressSample(t=2.0, score=90.0, level=StressLevel.HIGH, baseline=BaselineStatus.RELATIVE)
    alert = p.on_stress(high)
    assert alert is not None and alert.level.level is WarningLevel.ORANGE
    assert alert.queue_qa and not alert.handoff and alert.t == 2.0
