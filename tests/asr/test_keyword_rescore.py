"""The keyword second pass: real Vosk model, synthetic (espeak-ng) speech."""

from __future__ import annotations

from typing import Any

import pytest

from agent_monitor.ingest.call_audio import synthetic_speech
from asr.keyword_rescore import KeywordRescorer, variants
from asr.streaming import RecognizerPool

TERMS = ("damn", "crap", "idiot")


def test_variants_insert_or_replace_one_term() -> None:
    out = variants(["pay", "bills"], ["damn"])
    assert "pay bills" in out
    assert {"damn pay bills", "pay damn bills", "pay bills damn", "damn bills", "pay damn"} <= set(out)
    assert len(out) == len(set(out))


@pytest.fixture(scope="module")
def rescorer(keyword_pool: RecognizerPool) -> KeywordRescorer:
    assert keyword_pool.grammar_model is not None
    return KeywordRescorer(keyword_pool.grammar_model, 16000, [*TERMS, "zzqxv", "two words"])


def _pcm(text: str) -> bytes:
    return synthetic_speech(text, 16000).astype("<i2").tobytes()


def test_terms_outside_the_vocabulary_are_left_out(rescorer: KeywordRescorer) -> None:
    assert rescorer.terms == TERMS


def test_a_term_the_first_pass_lost_is_found(rescorer: KeywordRescorer) -> None:
    found: list[dict[str, Any]] = rescorer.missed_terms(
        _pcm("just pay the damn bill"), ["just", "pay", "the", "bill"]
    )
    assert [w["word"] for w in found] == ["damn"]
    assert 0.5 < found[0]["start"] < found[0]["end"] < 2.5  # within the clip (0.5 s lead-in)


def test_no_term_is_invented_in_clean_speech(rescorer: KeywordRescorer) -> None:
    words = ["please", "pay", "the", "bill", "by", "friday"]
    assert rescorer.missed_terms(_pcm("please pay the bill by friday"), words) == []


def test_a_term_already_heard_is_not_reported_again(rescorer: KeywordRescorer) -> None:
    assert rescorer.missed_terms(_pcm("you idiot"), ["you", "idiot"]) == []


def test_only_finals_with_an_unsure_word_are_worth_a_second_pass(keyword_pool: RecognizerPool) -> None:
    assert keyword_pool.grammar_model is not None
    gated = KeywordRescorer(keyword_pool.grammar_model, 16000, TERMS, below_conf=0.5)
    assert not gated.worth_it([0.93, 1.0, 0.51])
    assert gated.worth_it([0.93, 0.49, 1.0])
    assert (gated.skipped, gated.passes) == (1, 0)
    every = KeywordRescorer(keyword_pool.grammar_model, 16000, TERMS, below_conf=1.0)
    assert every.worth_it([1.0, 1.0]) and every.skipped == 0
