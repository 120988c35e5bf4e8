"""WER of the pipeline against references, beside plain whole-file Vosk (same model, same run).

The issue's acceptance bound: the pipeline's WER on English recordings is at most 1 point worse than
plain whole-file Vosk with the same model. Per-folder ceilings sit a few points above the values
measured with vosk-model-small-en-us-0.15 (in the comments), to catch regressions.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_monitor.settings import Settings
from asr.evaluate import Score, evaluate_tree, format_report

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
