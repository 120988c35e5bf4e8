"""Streaming: provisional on partials, confirmed or withdrawn by the final, must-say deadlines."""

from __future__ import annotations

import pytest

from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import DisclosureState, HitStatus
from agent_monitor.model.transcript import Transcript, Word
from qa_rules.engine import RuleSet
from qa_rules.streaming import LegChecker


def tr(
    text: str, utt: int, final: bool, start: float = 40.0, lang: str = "en", leg: Leg = Leg.AGENT
) -> Transcript:
    words: tuple[Word, ...] = ()
    if final:
        words = tuple(Word(w, start + i * 0.3, start + i * 0.3 + 0.25) for i, w in enumerate(text.split()))
    return Transcript(leg, utt, start, start + 3.0, text, final, words, lang)


def statuses(events: list) -> list[tuple[str, str]]:
    return [
        (e.status.value, e.hit.rule)
        for e in events
        if e.hit.category != "disclosure" and e.hit.category != "recording_notice"
    ]


def test_partial_hit_confirmed_by_final_once(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    assert statuses(checker.update(tr("you are a", 1, False))) == []
    first = statuses(checker.update(tr("you are a deadbeat", 1, False)))
    assert ("provisional", "EN-INSULT-1") in first
    # a longer partial with the same hit announces nothing again
    assert statuses(checker.update(tr("you are a deadbeat and", 1, False))) == []
    final = checker.update(tr("you are a deadbeat and a liar", 1, True))
    confirmed = [e for e in final if e.status is HitStatus.CONFIRMED and e.hit.rule == "EN-INSULT-1"]
    assert confirmed and confirmed[0].hit.start is not None  # final carries word times
    assert not [e for e in final if e.status is HitStatus.WITHDRAWN]
    # the utterance is closed: a late duplicate final changes nothing
    assert checker.update(tr("you are a deadbeat and a liar", 1, True)) == []


def test_partial_hit_withdrawn_when_final_differs(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    assert ("provisional", "EN-FALSE-1") in statuses(checker.update(tr("you will go to jail", 2, False)))
    final = statuses(checker.update(tr("you will go to jail no you will not go to jail", 2, True)))
    assert ("confirmed", "EN-FALSE-1") in final  # first clause still a threat
    checker2 = LegChecker(ruleset, "zh", Leg.AGENT)
    assert ("provisional", "ZH-INSULT-2") in statuses(
        checker2.update(tr("你就是个老来", 5, False, lang="zh"))
    )
    final2 = statuses(checker2.update(tr("你就是个老来得子的人", 5, True, lang="zh")))
    assert ("withdrawn", "ZH-INSULT-2") in final2
    assert ("confirmed", "ZH-INSULT-2") not in final2


def test_a_wordless_final_settles_nothing(ruleset: RuleSet) -> None:
    """Speech the recognizer made no word of (a final with no text, for signal health): the
    checker leaves the utterance open, and the leg's next final, which keeps the number, settles
    the partial's hit."""
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    assert ("provisional", "EN-INSULT-1") in statuses(checker.update(tr("you are a deadbeat", 3, False)))
    wordless = Transcript(Leg.AGENT, 3, 40.0, 43.0, "", True, (), "en", speech_s=2.5)
    assert wordless.wordless and checker.update(wordless) == []
    final = statuses(checker.update(tr("you are a deadbeat", 3, True)))
    assert ("confirmed", "EN-INSULT-1") in final


def test_final_without_partial_confirms_directly(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    events = statuses(checker.update(tr("we will call your employer", 3, True)))
    assert events == [("confirmed", "EN-3P-1")]


def test_must_say_rules_fire_when_window_passes(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    assert checker.window("EN-DISC-MM-1") == ruleset.must_say_window_s
    checker.update(tr("hi this is sam calling from acme recovery", 1, True, start=1.0))
    checker.update(tr("this call may be recorded", 2, False, start=4.0))
    assert checker.advance(10.0) == []
    late = checker.advance(31.0)
    missed = {e.hit.rule for e in late}
    assert missed == {"EN-DISC-MM-1"}  # identity and recording notice were said in time
    assert all(e.status is HitStatus.CONFIRMED and e.hit.span is None for e in late)
    assert checker.advance(100.0) == []  # fires once
    assert checker.pending_must_say == ()


def test_a_missed_disclosure_reads_as_a_miss_with_the_rules_reason(ruleset: RuleSet) -> None:
    """The title of a miss says what was not done and by when; nothing is quoted as said; "Why" is
    the rule's reason, not its title again."""
    for lang, rule, title in (
        ("en", "EN-DISC-REC-1", "Recording notice not given in the first 30 s"),
        ("zh", "ZH-DISC-REC-1", "前 30 秒内未告知录音"),
    ):
        checker = LegChecker(ruleset, lang, Leg.AGENT)
        (hit,) = [e.hit for e in checker.advance(31.0) if e.hit.rule == rule]
        assert hit.title == title and hit.evidence == "" and hit.span is None
        assert hit.title not in hit.reason and ("录音" in hit.reason or "recorded" in hit.reason)
        assert hit.compliant and (hit.start, hit.end) == (30.0, 30.0)


def test_checklist_follows_what_was_said(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    before = {d.rule: d for d in checker.checklist()}
    assert set(before) == {"EN-DISC-ID-1", "EN-DISC-MM-1", "EN-DISC-REC-1"}
    assert all(d.state is DisclosureState.DUE and d.due_s == 30.0 and d.wording for d in before.values())
    checker.update(tr("this call may be recorded", 1, False, start=2.0))
    checker.advance(31.0)
    states = {d.rule: d.state for d in checker.checklist()}
    assert states == {
        "EN-DISC-ID-1": DisclosureState.MISSED,
        "EN-DISC-MM-1": DisclosureState.MISSED,
        "EN-DISC-REC-1": DisclosureState.SAID,
    }
    assert checker.checklist()[0].to_dict()["state"] in ("said", "missed")
    labels = {d.rule: d.to_dict()["label"] for d in checker.checklist()}
    assert labels["EN-DISC-REC-1"] == "Recording notice" and labels["EN-DISC-MM-1"] == "Mini-Miranda"


def test_disclosure_after_the_window_does_not_count(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "zh", Leg.AGENT)
    events = checker.update(
        tr("您好，我是某某银行的工作人员，本次通话将被录音", 1, True, start=45.0, lang="zh")
    )
    missed = {e.hit.rule for e in events}
    assert {"ZH-DISC-ID-1", "ZH-DISC-PURPOSE-1", "ZH-DISC-REC-1"} <= missed


def test_debtor_leg_has_no_must_say_and_rejects_other_leg(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "en", Leg.DEBTOR)
    assert checker.advance(500.0) == []
    with pytest.raises(ValueError, match="leg"):
        checker.update(tr("hello", 1, True, leg=Leg.AGENT))


def test_classifier_judges_finals_and_partials_at_a_pause(ruleset: RuleSet) -> None:
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    text = "listen lady you have got to pay up already"
    assert statuses(checker.update(tr(text, 7, False))) == []
    events = checker.update(tr(text, 7, True))
    assert statuses(events) == [("confirmed", "EN-ABUSE-MODEL-1")]
    (event,) = [e for e in events if e.hit.rule == "EN-ABUSE-MODEL-1"]
    assert event.hit.probability is not None and event.hit.start is not None  # word times of the evidence


def test_classifier_judges_partials_from_the_configured_length(ruleset: RuleSet) -> None:
    """With ``partial_min_words`` the classifier judges every partial that long (the warning does not
    wait for the pause); shorter partials, and every partial with the setting at 0, are not judged."""
    text = "listen lady you have got to pay up already"  # 9 words
    assert statuses(LegChecker(ruleset, "en", Leg.AGENT, 10).update(tr(text, 7, False))) == []
    assert statuses(LegChecker(ruleset, "en", Leg.AGENT, 0).update(tr(text, 7, False))) == []
    checker = LegChecker(ruleset, "en", Leg.AGENT, 9)
    assert statuses(checker.update(tr(text, 7, False))) == [("provisional", "EN-ABUSE-MODEL-1")]
    assert statuses(checker.update(tr(text, 7, True))) == [("confirmed", "EN-ABUSE-MODEL-1")]


def test_live_rules_checker_takes_the_partial_length_from_settings(ruleset: RuleSet) -> None:
    from agent_monitor.settings import RulesSettings
    from qa_rules.live import LiveRules

    live = LiveRules(ruleset, RulesSettings(classifier_partial_min_words=3))
    checker = live.checker("en", Leg.AGENT)
    assert isinstance(checker, LegChecker) and checker.partial_min_words == 3
    assert RulesSettings().classifier_partial_min_words == 6  # on by default


def test_classifier_hit_at_a_pause_is_provisional_then_confirmed_or_withdrawn(ruleset: RuleSet) -> None:
    """A partial given at a VAD end of speech is judged by the classifier (the warning comes at the
    pause, not after the settle delay); the final confirms the hit, or withdraws it when the final
    text no longer carries the tone."""
    checker = LegChecker(ruleset, "en", Leg.AGENT)
    text = "listen lady you have got to pay up already"
    words = tuple(Word(w, 40.0 + i * 0.3, 40.25 + i * 0.3) for i, w in enumerate(text.split()))
    at_pause = Transcript(Leg.AGENT, 7, 40.0, 43.0, text, False, words, "en", at_pause=True)
    events = checker.update(at_pause)
    assert statuses(events) == [("provisional", "EN-ABUSE-MODEL-1")]
    assert events[0].hit.start is not None
    assert statuses(checker.update(at_pause)) == []  # announced once
    assert statuses(checker.update(tr(text, 7, True))) == [("confirmed", "EN-ABUSE-MODEL-1")]

    checker.update(Transcript(Leg.AGENT, 8, 50.0, 53.0, text, False, words, "en", at_pause=True))
    assert statuses(checker.update(tr("you have got to pay", 8, True, start=50.0))) == [
        ("withdrawn", "EN-ABUSE-MODEL-1")
    ]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_an_agent_final_is_read_once(ruleset: RuleSet, lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A final transcript is checked for hits, must-say wording and verifying wording: the text is
    prepared once for all three, and the next text is prepared again (nothing stale)."""
    import qa_rules.engine

    read: list[str] = []
    real = qa_rules.engine.prepare

    def counted(text: str, lang: str) -> object:
        read.append(text)
        return real(text, lang)

    monkeypatch.setattr(qa_rules.engine, "prepare", counted)
    checker = LegChecker(ruleset, lang, Leg.AGENT)
    matcher = ruleset.matcher(lang, Leg.AGENT)
    assert matcher.must_say_rules and matcher.verify_rules  # all three readings apply
    insult = "you are a deadbeat" if lang == "en" else "你这个老赖"
    first = checker.update(tr(insult, 1, True, lang=lang))
    assert read == [insult]
    assert [e.hit.rule for e in first if e.hit.category == "insult"]
    polite = "thank you for your time" if lang == "en" else "谢谢您的时间"
    assert statuses(checker.update(tr(polite, 2, True, lang=lang))) == []
    assert read == [insult, polite]
