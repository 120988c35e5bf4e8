"""WER of the pipeline against references, beside plain whole-file Vosk (same model, same run).

The issue's acceptance bound: the pipeline's WER on English recordings is at most 1 point worse than
plain whole-file Vosk with the same model. Per-folder ceilings sit a few points above the values
measured with vosk-model-small-en-us-0.15 (in the comments), to catch regressions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.audio.conditions import parse_conditions
from agent_monitor.errors import ConfigError
from agent_monitor.settings import Settings
from agent_monitor.settings.speech import DecoderSettings
from asr.offline.degrade import BABBLE_FOLDERS, babble_files_for
from asr.offline.evaluate import EvalOptions, Score, evaluate_tree
from asr.offline.report import format_report

# folder -> highest acceptable pipeline WER in % (measured: pipeline / plain Vosk)
CEILINGS = {
    "fsdd_8k_digits": 70.0,  # 63.75 / 66.25: isolated 8 kHz digits are hard for the small model
    "librispeech": 15.0,  # 10.34 / 10.34
    "librivox": 10.0,  # 5.63 / 5.63
    "mfa_spontaneous": 62.0,  # 56.60 / 56.41: fillers, whisper, creaky voice
}


@pytest.mark.slow
def test_pipeline_wer_close_to_plain_vosk(base_settings: Settings, eval_data: Path) -> None:
    results = evaluate_tree(base_settings, eval_data / "speech" / "en")
    print(format_report(results))
    assert {r.folder for r in results} == set(CEILINGS)
    pipeline, plain = Score(), Score()
    for r in results:
        assert r.files > 0 and not r.failures and not r.skipped, r
        assert r.pipeline.wer <= CEILINGS[r.folder], r.folder
        pipeline.errors += r.pipeline.errors
        pipeline.ref_tokens += r.pipeline.ref_tokens
        plain.errors += r.plain.errors
        plain.ref_tokens += r.plain.ref_tokens
    assert pipeline.wer <= plain.wer + 1.0


@pytest.mark.parametrize("condition", ["gain-40", "mulaw-20"])
def test_quiet_speech_wer_close_to_plain_vosk(
    base_settings: Settings, eval_data: Path, condition: str
) -> None:
    """Real read speech 40 dB down (about -66 dBFS), and 20 dB down over 8 kHz mu-law: the
    pipeline's WER stays within 1 point of plain whole-file Vosk on the same degraded audio (with
    the former absolute -50 dBFS floor the pipeline found no speech at all at -40 dB)."""
    speech = eval_data / "speech" / "en"
    results = evaluate_tree(
        base_settings,
        [speech / "librispeech", speech / "librivox"],
        EvalOptions(conditions=parse_conditions(condition)),
    )
    print(format_report(results))
    pipeline, plain = Score(), Score()
    for r in results:
        assert r.condition == condition and r.files > 0 and not r.failures, r
        pipeline.errors += r.pipeline.errors
        pipeline.ref_tokens += r.pipeline.ref_tokens
        plain.errors += r.plain.errors
        plain.ref_tokens += r.plain.ref_tokens
    assert pipeline.ref_tokens > 100
    assert pipeline.wer <= plain.wer + 1.0


def test_babble_never_holds_the_scored_speaker(eval_data: Path) -> None:
    for folder in BABBLE_FOLDERS:
        scored = eval_data / folder
        files = babble_files_for(eval_data, scored)
        assert len(files) >= 3
        assert all(scored.resolve() not in f.resolve().parents for f in files)
    assert len(babble_files_for(eval_data, eval_data / "speech/en/fsdd_8k_digits")) == 3 * len(BABBLE_FOLDERS)


def test_unknown_condition_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown condition 'moon'"):
        parse_conditions("clean,moon")
    with pytest.raises(ConfigError, match=r"'gain-99'.*0 < N <= 60"):
        parse_conditions("clean,gain-99")


@pytest.mark.parametrize("condition", ["babble-snr20", "opus"])
def test_noisy_line_wer_close_to_plain_vosk(base_settings: Settings, eval_data: Path, condition: str) -> None:
    """The LibriVox reader over babble at 20 dB SNR and over Opus: the pipeline lost the first word
    of clips that open on a breath (the AGC boosted the onset by 20 dB; 2 of 71 words more than plain
    Vosk at babble 20 dB). Now within 1 point of plain whole-file Vosk on the same audio.

    Both decode with dither 0: with Vosk's default random dither one run of either differs from the
    next by a word (measured on Opus: 12/13, 13/12, 12/12 errors), which on 71 words is 1.4 points
    of noise; without dither both are repeatable (11/11 on Opus, 9/9 on babble, run after run)."""
    asr = base_settings.asr.model_copy(update={"decoder": {"en": DecoderSettings(dither=0.0)}})
    results = evaluate_tree(
        base_settings.model_copy(update={"asr": asr}),
        eval_data / "speech/en/librivox",
        EvalOptions(conditions=parse_conditions(condition)),
    )
    print(format_report(results))
    [r] = results
    assert r.files == 5 and not r.failures and r.pipeline.ref_tokens > 60
    assert r.pipeline.wer <= r.plain.wer + 1.0
