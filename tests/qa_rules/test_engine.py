"""Matching on spoken-style text: inflections, gaps, negation, reported speech, homophones."""

from __future__ import annotations

from agent_monitor.model.audio import Leg
from agent_monitor.model.rules import Severity
from agent_monitor.model.transcript import Word
from qa_rules.en_morph import inflections
from qa_rules.engine import RuleSet
from qa_rules.packs import CATEGORIES
from qa_rules.reasons import CATEGORY_REASON
from qa_rules.text import prepare
from qa_rules.zh_lang import HomophoneIndex


def rules_hit(ruleset: RuleSet, text: str, lang: str, leg: Leg = Leg.AGENT) -> set[str]:
    return {h.rule for h in ruleset.check(text, lang, leg)}


def test_inflections_cover_irregular_and_regular_forms() -> None:
    assert {"told", "telling", "tells"} <= inflections("tell")
    assert {"sued", "suing", "sues"} <= inflections("sue")
    assert {"arrested", "arresting"} <= inflections("arrest")
    assert "wives" in inflections("wife")
    assert inflections("you") == frozenset({"you"})


def test_prepare_expands_contractions_and_maps_spans_back() -> None:
    prep = prepare("I'm NOT gonna call your boss. You’re an IDIOT!", "en")
    assert prep.match == "i am not going to call your boss . you are an idiot ."
    i = prep.match.index("idiot")
    s, e = prep.span(i, i + 5)
    assert prep.original[s:e] == "IDIOT"
    zh = prepare("你 是 骗子 ， 快 还钱", "zh")
    assert zh.match == "你是骗子,快还钱"


def test_inflected_threat_with_gap_matches(ruleset: RuleSet) -> None:
    assert "EN-3P-1" in rules_hit(ruleset, "i already told your wife and your boss", "en")
    assert "EN-3P-1" in rules_hit(ruleset, "we are going to contact every one of your coworkers", "en")
    assert "EN-FALSE-1" in rules_hit(ruleset, "you could get arrested tomorrow", "en")


def test_negation_and_conditionals(ruleset: RuleSet) -> None:
    assert "EN-FALSE-1" not in rules_hit(ruleset, "you will not go to jail for a credit card debt", "en")
    assert "EN-THREAT-1" not in rules_hit(ruleset, "i'm not threatening you", "en")
    assert "EN-INSULT-1" not in rules_hit(ruleset, "you are not a liar", "en")
    # the condition "if you don't pay" does not negate the threat after it
    assert "EN-FALSE-1" in rules_hit(ruleset, "if you don't pay you will go to jail", "en")
    assert "ZH-FALSE-1" not in rules_hit(ruleset, "我们不会报警，也不会让您坐牢", "zh")
    assert "ZH-FALSE-1" in rules_hit(ruleset, "不还钱就抓你去坐牢", "zh")
    assert "ZH-THREAT-1" in rules_hit(ruleset, "再不还钱我找人收拾你", "zh")


def test_reported_speech_is_not_the_speakers_abuse(ruleset: RuleSet) -> None:
    assert not rules_hit(ruleset, "you called me an idiot", "en", Leg.DEBTOR)
    assert "EN-DEBTOR-ABUSE-1" in rules_hit(ruleset, "you are an idiot", "en", Leg.DEBTOR)
    assert "ZH-INSULT-2" not in rules_hit(ruleset, "您刚才说我是骗子，我是正规机构", "zh")
    assert "ZH-INSULT-2" in rules_hit(ruleset, "你就是个骗子", "zh")


def test_allow_list_suppresses_safe_phrases(ruleset: RuleSet) -> None:
    assert "EN-PROF-1" not in rules_hit(ruleset, "we had a hell of a week", "en")
    assert "EN-PROF-1" in rules_hit(ruleset, "what the hell is this", "en")


def test_homophones_match_where_meant_without_flooding(ruleset: RuleSet) -> None:
    assert "ZH-INSULT-2" in rules_hit(ruleset, "你就是个老来", "zh")  # 老来 heard for 老赖
    assert "ZH-INSULT-2" in rules_hit(ruleset, "你 这个 片子 赶紧 还钱", "zh")  # 片子 for 骗子
    assert not rules_hit(ruleset, "老来得子是件喜事", "zh")
    assert not rules_hit(ruleset, "我们去医院拍片子了", "zh")
    assert not rules_hit(ruleset, "这个片子拍得真好", "zh")
    assert not rules_hit(ruleset, "他是福建人，出生在厦门", "zh")  # 建人/贱人, 出生/畜生
    hit = next(h for h in ruleset.check("你就是个老来", "zh", Leg.AGENT) if h.rule == "ZH-INSULT-2")
    assert "老赖" in hit.reason and "老来" in hit.reason


def test_homophone_index_unit() -> None:
    index = HomophoneIndex([("骗子", True), ("王八蛋", False)])
    assert index.canonicalize("你这个片子")[0] == "你这个骗子"
    assert index.canonicalize("看片子")[0] == "看片子"
    assert index.canonicalize("你个王八旦")[0] == "你个王八蛋"


def test_word_boundaries_from_jieba(ruleset: RuleSet) -> None:
    assert "ZH-INSULT-2" in rules_hit(ruleset, "你这个垃圾", "zh")
    assert "ZH-INSULT-2" not in rules_hit(ruleset, "你这个垃圾袋拿一下", "zh")


def test_hit_carries_span_evidence_times_and_guidance(ruleset: RuleSet) -> None:
    text = "listen you idiot pay up"
    words = tuple(Word(w, 1.0 + i * 0.4, 1.3 + i * 0.4) for i, w in enumerate(text.split()))
    hits = [
        h for h in ruleset.check(text, "en", Leg.AGENT, utterance=7, words=words) if h.rule == "EN-INSULT-1"
    ]
    assert len(hits) == 1
    hit = hits[0]
    assert hit.span == (7, 16) and hit.evidence == "you idiot"
    assert (hit.start, hit.end) == (1.4, 2.1)
    assert hit.utterance == 7 and hit.leg is Leg.AGENT
    assert hit.severity is Severity.ORANGE
    assert hit.compliant and hit.citation.startswith("FDCPA")
    # "Why" explains the rule (here: its category, the rule gives no reason), it does not repeat
    # the title or the words (those are the title and the evidence)
    assert hit.reason == CATEGORY_REASON["en"]["insult"]
    assert hit.title not in hit.reason and "you idiot" not in hit.reason


def test_every_category_has_a_reason_in_both_languages() -> None:
    for lang in ("en", "zh"):
        assert set(CATEGORY_REASON[lang]) == set(CATEGORIES)


def test_reading_out_numbers(ruleset: RuleSet) -> None:
    assert "PRIV-NUMBER-1" in rules_hit(
        ruleset, "your social is one two three four five six seven eight nine", "en"
    )
    assert "PRIV-NUMBER-1" not in rules_hit(ruleset, "the card ending in four three two one", "en")
    assert "ZH-PRIV-NUMBER-1" in rules_hit(ruleset, "您的身份证号码是 一一零 一零五 一九九零 零一零一", "zh")


def test_model_rule_explains_itself(ruleset: RuleSet) -> None:
    hits = ruleset.check("看见他就恶心，真是个不配做男人的东西", "zh", Leg.AGENT)
    model_hits = [h for h in hits if h.rule == "ZH-ABUSE-MODEL-1"]
    pattern_hits = [h for h in hits if h.rule != "ZH-ABUSE-MODEL-1"]
    assert pattern_hits or model_hits
    for h in model_hits:
        assert "p=" in h.reason and "abuse-zh" in h.reason
    assert not ruleset.check("好的，明天下午三点我再联系您", "zh", Leg.AGENT)
