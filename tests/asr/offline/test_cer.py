"""Chinese CER and its text normalisation, on the real Mandarin transcripts of the shared data.

References are scored against themselves and against edited copies (one character deleted,
substituted, inserted; punctuation and spaces added; numbers written with digits); nothing here
is recognizer output (no Chinese model is installed on the development machines).
"""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest

from asr.offline.cer import align, char_errors, normalise_numbers, zh_chars
from asr.offline.evaluate import normalise


def _transcripts(labels: Path) -> list[str]:
    with labels.open(newline="", encoding="utf-8") as f:
        return [row["transcript"] for row in csv.DictReader(f) if row["transcript"].strip()]


@pytest.fixture(scope="module")
def references(eval_data: Path) -> list[str]:
    """Every Mandarin transcript: speech/zh (broadcast, AISHELL) and the CASIA sentences."""
    speech = sorted((eval_data / "speech" / "zh").rglob("labels.csv"))
    refs = [t for labels in speech for t in _transcripts(labels)]
    refs += sorted(set(_transcripts(eval_data / "emotion" / "casia" / "labels.csv")))
    assert len(refs) >= 20
    return refs


def _cjk(text: str) -> int:
    return sum(1 for c in text if "\u4e00" <= c <= "\u9fff")


def test_reference_against_itself_is_zero_and_keeps_every_character(references: list[str]) -> None:
    for ref in references:
        chars = zh_chars(ref)
        assert len(chars) == _cjk(ref) > 0, ref
        e = char_errors(ref, ref)
        assert (e.errors, e.cer, e.ref_chars) == (0, 0.0, len(chars))


def test_punctuation_spaces_and_full_width_forms_do_not_count(references: list[str]) -> None:
    for ref in references:
        noisy = "“" + " ".join(ref) + "。”  ！\t"
        assert zh_chars(noisy) == zh_chars(ref)
        assert char_errors(ref, noisy).cer == 0.0
        full_width = unicodedata.normalize("NFKC", ref)  # already canonical: unchanged
        assert zh_chars(full_width) == zh_chars(ref)


def test_one_edit_is_one_error_of_the_right_kind(references: list[str]) -> None:
    for ref in references:
        n = len(zh_chars(ref))
        mid = len(ref) // 2
        deleted = ref[:mid] + ref[mid + 1 :]
        substituted = ref[:mid] + ("错" if ref[mid] != "错" else "对") + ref[mid + 1 :]
        inserted = ref[:mid] + "嗯" + ref[mid:]
        d, s, i = char_errors(ref, deleted), char_errors(ref, substituted), char_errors(ref, inserted)
        assert (d.deletions, d.substitutions, d.insertions) == (1, 0, 0), ref
        assert (s.deletions, s.substitutions, s.insertions) == (0, 1, 0), ref
        assert (i.deletions, i.substitutions, i.insertions) == (0, 0, 1), ref
        for e in (d, s, i):
            assert e.cer == pytest.approx(100.0 / n)


def test_empty_hypothesis_deletes_everything_and_cer_can_exceed_100(references: list[str]) -> None:
    ref = references[0]
    n = len(zh_chars(ref))
    assert char_errors(ref, "").deletions == n and char_errors(ref, "").cer == 100.0
    assert char_errors(ref, ref + ref).cer == 100.0
    assert char_errors(ref, ref + ref + ref).cer == 200.0
    assert char_errors("", "").cer == 0.0 and char_errors("", "好").cer == 100.0


def test_cer_over_a_whole_set_is_errors_over_reference_characters(references: list[str]) -> None:
    errors = chars = 0
    for k, ref in enumerate(references):
        hyp = ref[1:] if k % 2 else ref  # every other reference loses its first character
        e = char_errors(ref, hyp)
        errors += e.errors
        chars += e.ref_chars
    assert errors == len(references) // 2
    assert chars == sum(_cjk(r) for r in references)


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("2019年", "二零一九年"),  # a year: digit by digit
        ("104", "一百零四"),
        ("15", "十五"),
        ("10", "十"),
        ("110", "一百一十"),
        ("1005", "一千零五"),
        ("1050", "一千零五十"),
        ("2000", "二千"),
        ("0", "零"),
        ("010", "零一零"),  # leading zero: a code, digit by digit
        ("13800138000", "一三八零零一三八零零零"),  # a phone number
        ("3.5", "三点五"),
        ("〇", "零"),
    ],
)
def test_numbers_are_read_as_spoken(written: str, spoken: str) -> None:
    assert normalise_numbers(written) == spoken


def test_digits_in_a_real_transcript_match_the_spoken_form(references: list[str]) -> None:
    """The CCTV clip's date written with digits scores as the characters a model would write."""
    ref = "2019年2月1日" + references[0]
    spoken = "二零一九年二月一日" + references[0]
    assert char_errors(spoken, ref).cer == 0.0
    assert char_errors(spoken, "２０１９年２月１日" + references[0]).cer == 0.0  # full-width digits


def test_eval_normalise_uses_the_zh_rules_and_keeps_english_words(references: list[str]) -> None:
    for ref in references:
        assert normalise(ref + "，。") == zh_chars(ref)
    assert normalise("Hello, World! It's") == ["hello", "world", "it's"]
    assert align(["a", "b"], ["b"]).deletions == 1
